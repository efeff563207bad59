"""The source's network, trained with autograd: the README's main example.

The source (a numpy script with hand-derived gradients) trains a 20 -> 100 -> 10 ReLU
network on random data (``np.random.seed(0)``, batch 64, lr 1e-3, 501 steps) and prints
every 10th loss. This builds the same network with ``nn``, copies in the source's initial
weights, trains it with ``nn.optim.SGD`` and prints the same numbers.

The source's gradients follow its own conventions, reproduced here with the engine's features:
* ``mse_grad`` returns 2 (pred - true): the gradient of the *summed* squared error, so the
  loss we backpropagate is ``MSELoss(reduction="sum")`` (the printed loss is still the mean).
* ``fc_backward`` returns the bias gradient as a *mean* over the batch (the weight gradient
  is a sum), so the biases get their own parameter group with ``lr / batch_size``.
``--consistent`` instead trains on the true gradient of the printed (mean) loss.

Needs numpy only (and the ``viz`` extra for the pictures). From a notebook,
``main(["--quiet", "--no-pictures"])`` trains without printing and returns the losses.

Run: python examples/seed_mlp.py [--steps N] [--consistent] [--out DIR] [--no-pictures] [--quiet]
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np

import nn
from autograd import Tensor

BATCH, LR = 64, 1e-3


def source_data() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The source's data and initial weights, drawn in the source's order from seed 0."""
    np.random.seed(0)
    x = np.random.randn(BATCH, 20)
    true = np.random.randn(BATCH, 10)
    w1 = np.random.randn(20, 100) * 0.1
    w2 = np.random.randn(100, 10) * 0.1
    weights = {
        "layers.0.weight": w1,
        "layers.0.bias": np.zeros(100),
        "layers.2.weight": w2,
        "layers.2.bias": np.zeros(10),
    }
    return x, true, weights


def build(consistent: bool = False) -> tuple[nn.MLP, nn.MSELoss, nn.optim.SGD, Tensor, np.ndarray]:
    """The source's network, loss and optimizer, ready to train."""
    x, true, weights = source_data()
    model = nn.MLP([20, 100, 10])
    model.load_state_dict(weights)
    if consistent:  # the gradient of the loss we print: one learning rate for all
        loss_fn = nn.MSELoss(reduction="mean")
        optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    else:  # the source's conventions (see the module docstring)
        loss_fn = nn.MSELoss(reduction="sum")
        named = dict(model.named_parameters())
        optimizer = nn.optim.SGD(
            [
                {"params": [p for name, p in named.items() if name.endswith("weight")]},
                {"params": [p for name, p in named.items() if name.endswith("bias")], "lr": LR / BATCH},
            ],
            lr=LR,
        )
    return model, loss_fn, optimizer, Tensor(x, name="x"), true


def train(steps: int = 501, consistent: bool = False, report=print) -> tuple[nn.MLP, Tensor]:
    """Train and report ``step mean_loss`` every 10th step, as the source prints."""
    model, loss_fn, optimizer, x, true = build(consistent)
    loss = None
    for step in range(steps):
        pred = model(x)
        loss = loss_fn(pred, true)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            # The source prints np.mean(mse(true, pred)): the mean squared error of this step's
            # forward pass, taken before the update.
            report(step, float(np.mean((true - pred.data) ** 2)))
    return model, loss


def write_pictures(model: nn.MLP, out: str) -> list[str]:
    """Draw one forward/backward of the trained network: seed_mlp.svg and seed_mlp.html; return their paths."""
    try:
        from autograd import viz
    except ImportError as err:  # viz needs the optional graphviz package
        print(f"(no pictures: {err})", file=sys.stderr)
        return []
    x, true, _ = source_data()
    pred = model(Tensor(x, name="x"))
    pred.name = "pred"
    loss = nn.MSELoss(reduction="sum")(pred, Tensor(true, name="true"))
    loss.name = "loss"
    loss.backward()
    os.makedirs(out, exist_ok=True)
    svg, html = os.path.join(out, "seed_mlp.svg"), os.path.join(out, "seed_mlp.html")
    try:
        viz.save(loss, svg, params=model)
        viz.page(loss, html, params=model)
    except RuntimeError as err:  # e.g. Graphviz's dot is not installed: the message says how
        print(f"(no pictures: {err})", file=sys.stderr)
        return []
    print(f"wrote {svg} and {html}")
    return [svg, html]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, print ``step loss`` every 10th step (unless ``--quiet``), write the pictures.

    ``argv`` is the command line's arguments (``None``: the defaults; the script passes its own).
    Returns a dict: ``losses``, the printed ``(step, mean loss)`` pairs; ``final_loss``, the last
    of them; ``pictures``, the paths written (empty with ``--no-pictures`` or without viz).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=501, help="training steps (the source runs 501)")
    parser.add_argument("--consistent", action="store_true", help="use the true gradient of the mean loss")
    parser.add_argument("--out", default=".", help="folder for seed_mlp.svg and seed_mlp.html")
    parser.add_argument("--no-pictures", action="store_true", help="skip the graph picture and page")
    parser.add_argument("--quiet", action="store_true", help="print no step loss lines (main() returns them)")
    args = parser.parse_args([] if argv is None else argv)

    losses: list[tuple[int, float]] = []

    def report(step: int, loss: float) -> None:
        losses.append((step, loss))
        if not args.quiet:
            print(step, loss)

    model, _ = train(args.steps, args.consistent, report=report)
    pictures = [] if args.no_pictures else write_pictures(model, args.out)
    return {"losses": losses, "final_loss": losses[-1][1] if losses else float("nan"), "pictures": pictures}


if __name__ == "__main__":
    main(sys.argv[1:])
