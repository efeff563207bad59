"""Two moons: a small tanh MLP learns a curved decision boundary, drawn over the plane.

The classic toy problem (as in micrograd's demo): two interleaving half circles with noise,
from scikit-learn's ``make_moons``. ``nn.MLP([2, 16, 16, 2], activation=nn.Tanh)`` learns
to tell them apart with ``nn.CrossEntropyLoss`` and ``nn.optim.Adam`` on the whole set at
each step. ``moons.png`` shows the predicted probability of the second moon over a grid,
the 0.5 boundary, and the points; a fresh sample from the same distribution measures how
well the boundary generalizes.

Needs the ``examples`` extra (scikit-learn, matplotlib, tqdm). From a notebook,
``main(["--quiet"])`` returns the figure and the accuracies (see ``main``); the notebook's
matplotlib backend is left as it is.

Run: python examples/moons.py [--steps N] [--noise 0.15] [--seed S] [--out DIR] [--quiet]
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

import nn
from autograd import Tensor, no_grad

if TYPE_CHECKING:  # matplotlib is imported only when a picture is drawn
    from matplotlib.figure import Figure


def probabilities(model: nn.MLP, x: np.ndarray) -> np.ndarray:
    """P(class 1 | x) for each row of x, without recording a graph."""
    with no_grad():
        return model(Tensor(x)).softmax(axis=1).data[:, 1]


def accuracy(model: nn.MLP, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((probabilities(model, x) > 0.5) == y))


def show_progress(quiet: bool) -> bool:
    """A progress bar in Jupyter or on a terminal; none with --quiet or when the output goes to a pipe or a file."""
    if quiet:
        return False
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    in_jupyter = shell is not None and "IPKernelApp" in shell.config
    return in_jupyter or all(stream is not None and stream.isatty() for stream in (sys.stdout, sys.stderr))


def train(model: nn.MLP, x: np.ndarray, y: np.ndarray, steps: int, lr: float, quiet: bool) -> list[float]:
    """Full-batch Adam on the cross-entropy; return the loss at every step."""
    from tqdm.auto import tqdm  # a widget in Jupyter, a text line on a terminal

    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    losses = []
    bar = tqdm(range(steps), desc="moons", unit="step", disable=not show_progress(quiet))
    for step in bar:
        loss = loss_fn(model(Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == steps - 1:
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
            if not quiet and bar.disable:  # no bar (output to a pipe or a file): a line now and then instead
                print(f"step {step:4d}  loss {losses[-1]:.4f}")
    bar.close()
    return losses


def plot(model: nn.MLP, x: np.ndarray, y: np.ndarray, title: str, path: str) -> Figure:
    """The model's P(class 1) over a grid around the points, its 0.5 contour, and the points.

    Saved as a PNG at ``path``; returns the matplotlib Figure (left open: a notebook shows it).
    """
    import matplotlib.pyplot as plt  # the backend in place (a notebook's inline one): this never sets one

    margin = 0.5
    (x0_min, x1_min), (x0_max, x1_max) = x.min(axis=0) - margin, x.max(axis=0) + margin
    g0, g1 = np.meshgrid(np.linspace(x0_min, x0_max, 300), np.linspace(x1_min, x1_max, 300))
    prob = probabilities(model, np.column_stack([g0.ravel(), g1.ravel()])).reshape(g0.shape)

    fig, ax = plt.subplots(figsize=(8, 5))
    filled = ax.contourf(g0, g1, prob, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.6)
    ax.contour(g0, g1, prob, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", vmin=0, vmax=1, edgecolors="k", s=25)
    fig.colorbar(filled, ax=ax, label="P(moon 1)", shrink=0.8)
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title)
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return fig


def use_agg_without_display() -> None:
    """For the script only: on Linux with no display and no MPLBACKEND, draw with Agg (files, no window)."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and not has_display and not os.environ.get("MPLBACKEND"):
        import matplotlib

        matplotlib.use("Agg")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, print the loss and accuracies, save moons.png.

    ``argv`` is the command line's arguments (``None``: the defaults; the script passes its own).
    Returns a dict: ``losses`` (one per step), ``final_loss``, ``train_accuracy``,
    ``test_accuracy`` (on a fresh sample), ``figure`` (the matplotlib Figure, not closed) and
    ``path`` (the PNG written).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="training points (and as many for testing)")
    parser.add_argument("--noise", type=float, default=0.15, help="standard deviation of the noise on the points")
    parser.add_argument("--hidden", type=int, nargs="*", default=[16, 16], help="hidden layer sizes")
    parser.add_argument("--activation", choices=["tanh", "relu"], default="tanh")
    parser.add_argument("--steps", type=int, default=500, help="full-batch training steps")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed for the points and the initial weights")
    parser.add_argument("--out", default=".", help="folder for moons.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or loss lines")
    args = parser.parse_args([] if argv is None else argv)
    if args.steps < 1 or args.samples < 2:
        parser.error("--steps must be at least 1 and --samples at least 2")

    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=args.samples, noise=args.noise, random_state=args.seed)
    x_test, y_test = make_moons(n_samples=args.samples, noise=args.noise, random_state=args.seed + 1)
    activation = {"tanh": nn.Tanh, "relu": nn.ReLU}[args.activation]
    model = nn.MLP([2, *args.hidden, 2], activation=activation, rng=np.random.default_rng(args.seed))
    losses = train(model, x, y, args.steps, args.lr, args.quiet)

    train_acc, test_acc = accuracy(model, x, y), accuracy(model, x_test, y_test)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "moons.png")
    title = f"two moons, noise {args.noise}\naccuracy: train {train_acc:.3f}, fresh sample {test_acc:.3f}"
    figure = plot(model, x, y, title, path)
    print(f"final loss {losses[-1]:.4f}")
    print(f"train accuracy {train_acc:.4f}")
    print(f"test accuracy {test_acc:.4f}")
    print(f"wrote {path}")
    return {
        "losses": losses,
        "final_loss": losses[-1],
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "figure": figure,
        "path": path,
    }


if __name__ == "__main__":
    use_agg_without_display()
    main(sys.argv[1:])
