"""Benchmarks: the source's training step on numpy vs this engine (and PyTorch, MyGrad, micrograd).

One command, one process; see benchmarks/README.md for what every figure means.

    python benchmarks/bench.py [SECTION ...] [--sizes source,medium,large]
                               [--dtypes float64,float32] [--repeats N] [--json out.json]
                               [--contenders minimal,numpy,autograd,nn,compiled,torch,mygrad]
                               [--memory-steps N] [--tiny]

Sections (default: all seven, in this order):

  step         µs per full training step (forward, summed-MSE loss, backward, SGD update) of
               the source's 2-layer ReLU MLP, for each contender, size and dtype, and the ratio
               to the minimal hand-written numpy step. Every contender's loss at steps 0 and 1
               is checked against the minimal step's before anything is timed.
  chain        forward + backward through a chain of N 0-d ops (x = x * 1.0001 + 0.0001),
               N = 20,000 and 200,000: does 10x the ops cost at most 12x the time?
  memory       tracemalloc peak of N training steps (default 200) at the largest size chosen,
               hand-written numpy loop vs the nn loop: is the nn loop within 1.2x?
  overhead     µs per op on 0-d tensors (a * b, a + b, with and without grad recording, and a
               small forward + backward) next to the same numpy operation.
  scalar       µs per call on 0-d values, this engine vs micrograd (and PyTorch): a * b, a small
               expression with backward, and micrograd's README example (its values checked).
  transformer  ms per training step of a small one-block transformer, this engine vs PyTorch,
               both single-threaded, losses at steps 0 and 1 checked to agree.
  conv         ms per training step of a small convnet on 8x8 digits-sized images (batch 64),
               and per max_pool2d forward + backward, this engine vs PyTorch, both
               single-threaded, losses at steps 0 and 1 checked to agree.

Timing method: contenders are timed round-robin inside each repeat (the starting contender
rotates), so machine noise hits all of them alike; each repeat times a batch of calls with
time.perf_counter after a warm-up; the figure reported is the median over repeats.
``--tiny`` runs everything at toy sizes in a few seconds, to check that the harness works.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this repository's autograd, never PyPI's (HIPS) package of that name

import autograd
import nn
from autograd import Tensor, no_grad

try:  # optional contenders: skipped (and said so) when not installed
    import torch
except ImportError:
    torch = None
try:
    import mygrad
    from mygrad.nnet.activations import relu as mygrad_relu
except ImportError:
    mygrad = None
try:  # scalars only: it takes part in the overhead and scalar sections, not in the training step
    from micrograd.engine import Value as MicrogradValue
except ImportError:
    MicrogradValue = None
try:  # limits numpy's BLAS threads in the transformer section; without it, the section says so
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None


# ============================================================================ the problem


@dataclass(frozen=True)
class Size:
    """The source's network shape: batch x n_in -> hidden (ReLU) -> n_out; ``lr`` keeps it stable."""

    name: str
    batch: int
    n_in: int
    hidden: int
    n_out: int
    lr: float  # the source's 1e-3; smaller for the bigger sizes, whose summed loss has bigger gradients

    def __str__(self) -> str:
        return f"{self.batch}x{self.n_in}->{self.hidden}->{self.n_out}"


SIZES = {
    "tiny": Size("tiny", 8, 4, 6, 3, 1e-3),  # --tiny only
    "source": Size("source", 64, 20, 100, 10, 1e-3),  # the source's own network
    "medium": Size("medium", 256, 784, 512, 10, 1e-4),  # MNIST-like
    "large": Size("large", 2048, 1024, 2048, 1024, 1e-6),  # BLAS-bound
}
CONTENDERS = ("minimal", "numpy", "autograd", "nn", "compiled", "torch", "mygrad")
REFERENCE = "minimal"  # every step ratio is to this contender; it always runs
# Relative tolerance for "the same loss": summation orders differ between libraries.
RTOL = {"float64": 1e-9, "float32": 1e-4}


def make_problem(size: Size, dtype: str) -> dict[str, np.ndarray]:
    """Data and initial weights, drawn as the source draws them (seed 0, same order).

    Weights are N(0, 1) * min(0.1, 1/sqrt(fan_in)): the source's 0.1 at its own size, and
    a scale that keeps activations O(1) at the bigger ones. Biases start at zero. The same
    float64 draw is cast to each dtype, so float32 runs see the same numbers, rounded.
    """
    rs = np.random.RandomState(0)
    x = rs.randn(size.batch, size.n_in)
    y = rs.randn(size.batch, size.n_out)
    w1 = rs.randn(size.n_in, size.hidden) * min(0.1, 1 / math.sqrt(size.n_in))
    w2 = rs.randn(size.hidden, size.n_out) * min(0.1, 1 / math.sqrt(size.hidden))
    arrays = {"x": x, "y": y, "w1": w1, "b1": np.zeros(size.hidden), "w2": w2, "b2": np.zeros(size.n_out)}
    return {k: v.astype(dtype) for k, v in arrays.items()}


# ============================================================================ the source's functions
# examples/source_numpy.py is the source itself, asserts included, so the numpy contender runs
# its exact code.

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from source_numpy import forward_backward  # noqa: E402

# ============================================================================ contenders
#
# Each contender owns a copy of the problem and trains it in place: ``step()`` runs one full
# training step and returns its loss in the contender's own form; ``loss_value`` turns that
# into the summed squared error as a float, for the correctness check. ``label`` says what it
# runs, in the table.
#
# The same update everywhere: the source's fc_backward takes the bias gradient as a batch
# mean, while an autograd engine computes the true gradient of the summed loss (a batch sum).
# So the engines update biases with lr / batch, as examples/seed_mlp.py does: every
# contender then follows the same trajectory, and losses agree at step 1 too, which checks
# the gradients and the update, not only the forward pass.


class MinimalStep:
    """(r) The reference: the minimal hand-written numpy step, no unused work, in-place updates.

    ``step`` returns the prediction, not the loss: the loss value is not needed to train, so
    it is computed outside the timed step, by ``loss_value``, for the check only.
    """

    name = "minimal"
    label = "minimal hand-written numpy (the reference)"

    def __init__(self, p: dict[str, np.ndarray], size: Size) -> None:
        self.x, self.y = p["x"].copy(), p["y"].copy()
        self.w1, self.b1, self.w2, self.b2 = (p[k].copy() for k in ("w1", "b1", "w2", "b2"))
        self.lr, self.bias_lr = size.lr, size.lr / size.batch

    def step(self) -> np.ndarray:
        x, y, w1, b1, w2, b2, lr, bias_lr = self.x, self.y, self.w1, self.b1, self.w2, self.b2, self.lr, self.bias_lr
        # forward
        z = x @ w1 + b1
        mask = z > 0
        a = z * mask
        pred = a @ w2 + b2
        # backward: the gradients of the summed squared error, nothing else
        g = 2 * (pred - y)
        w2g = a.T @ g
        b2g = g.sum(0)
        zg = (g @ w2.T) * mask
        w1g = x.T @ zg
        b1g = zg.sum(0)
        # update, in place
        w1 -= lr * w1g
        b1 -= bias_lr * b1g
        w2 -= lr * w2g
        b2 -= bias_lr * b2g
        return pred

    def loss_value(self, pred: np.ndarray) -> float:
        return float(((pred - self.y) ** 2).sum())


class NumpyStep:
    """(a) The source's hand-written step: its formulas (asserts, an unused x_grad), in-place updates."""

    name = "numpy"
    label = "the source's code (computes an unused x_grad)"

    def __init__(self, p: dict[str, np.ndarray], size: Size) -> None:
        self.x, self.y = p["x"].copy(), p["y"].copy()
        self.w1, self.b1, self.w2, self.b2 = (p[k].copy() for k in ("w1", "b1", "w2", "b2"))
        self.lr = size.lr

    def step(self) -> np.ndarray:
        x, true, w1, b1, w2, b2, lr = self.x, self.y, self.w1, self.b1, self.w2, self.b2, self.lr
        loss, (w1_grad, b1_grad, w2_grad, b2_grad) = forward_backward(x, true, w1, b1, w2, b2)
        w1 -= lr * w1_grad
        w2 -= lr * w2_grad
        b1 -= lr * b1_grad
        b2 -= lr * b2_grad
        return loss

    def loss_value(self, loss: np.ndarray) -> float:
        return float(loss.sum()) * self.y.shape[1]  # per-row means -> the summed squared error


class AutogradStep:
    """(b) This engine with raw Tensors and a manual in-place SGD update."""

    name = "autograd"
    label = "this engine, raw Tensors"

    def __init__(self, p: dict[str, np.ndarray], size: Size) -> None:
        self.x, self.y = Tensor(p["x"]), Tensor(p["y"])
        self.w1, self.b1, self.w2, self.b2 = (Tensor(p[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2"))
        bias_lr = size.lr / size.batch
        self.params = [(self.w1, size.lr), (self.b1, bias_lr), (self.w2, size.lr), (self.b2, bias_lr)]

    def step(self) -> Tensor:
        pred = (self.x @ self.w1 + self.b1).relu() @ self.w2 + self.b2
        loss = ((pred - self.y) ** 2).sum()
        loss.backward()
        for p, lr in self.params:
            p.data -= lr * p.grad.data
            p.grad = None
        return loss

    def loss_value(self, loss: Tensor) -> float:
        return loss.item()


class NNStep:
    """(c) This engine's nn: MLP, MSELoss(reduction="sum"), optim.SGD."""

    name = "nn"
    label = "this engine's nn: MLP, MSELoss, SGD"

    def __init__(self, p: dict[str, np.ndarray], size: Size) -> None:
        self.model = nn.MLP([size.n_in, size.hidden, size.n_out], dtype=p["x"].dtype)
        self.model.load_state_dict(
            {"layers.0.weight": p["w1"], "layers.0.bias": p["b1"], "layers.2.weight": p["w2"], "layers.2.bias": p["b2"]}
        )
        self.loss_fn = nn.MSELoss(reduction="sum")
        named = dict(self.model.named_parameters())
        self.optimizer = nn.optim.SGD(
            [
                {"params": [q for name, q in named.items() if name.endswith("weight")]},
                {"params": [q for name, q in named.items() if name.endswith("bias")], "lr": size.lr / size.batch},
            ],
            lr=size.lr,
        )
        self.x, self.y = Tensor(p["x"]), p["y"].copy()

    def step(self) -> Tensor:
        loss = self.loss_fn(self.model(self.x), self.y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss

    def loss_value(self, loss: Tensor) -> float:
        return loss.item()


class CompiledStep:
    """(c') This engine's ``autograd.compile`` of the loss function, then backward and the
    manual update of (b). Skipped while the engine has no ``compile``."""

    name = "compiled"
    label = "this engine, autograd.compile(loss)"

    def __init__(self, p: dict[str, np.ndarray], size: Size) -> None:
        self.x, self.y = Tensor(p["x"]), Tensor(p["y"])
        w1, b1, w2, b2 = (Tensor(p[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2"))
        self.f = autograd.compile(lambda x, y: (((x @ w1 + b1).relu() @ w2 + b2 - y) ** 2).sum())
        bias_lr = size.lr / size.batch
        self.params = [(w1, size.lr), (b1, bias_lr), (w2, size.lr), (b2, bias_lr)]

    def step(self) -> Tensor:
        loss = self.f(self.x, self.y)
        loss.backward()
        for p, lr in self.params:
            p.data -= lr * p.grad.data
            p.grad = None
        return loss

    def loss_value(self, loss: Tensor) -> float:
        return loss.item()


class TorchStep:
    """(d) PyTorch CPU eager, the same math as (b): raw tensors, manual in-place update."""

    name = "torch"
    label = "PyTorch eager, raw tensors"

    def __init__(self, p: dict[str, np.ndarray], size: Size) -> None:
        self.x, self.y = torch.tensor(p["x"]), torch.tensor(p["y"])
        self.w1, self.b1, self.w2, self.b2 = (torch.tensor(p[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2"))
        bias_lr = size.lr / size.batch
        self.params = [(self.w1, size.lr), (self.b1, bias_lr), (self.w2, size.lr), (self.b2, bias_lr)]

    def step(self) -> Any:
        pred = (self.x @ self.w1 + self.b1).relu() @ self.w2 + self.b2
        loss = ((pred - self.y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            for p, lr in self.params:
                p -= lr * p.grad
                p.grad = None
        return loss

    def loss_value(self, loss: Any) -> float:
        return loss.item()


class MyGradStep:
    """(e) MyGrad, the same math as (b): raw tensors, manual in-place update (default settings,
    so memory guarding is on, as a user gets it)."""

    name = "mygrad"
    label = "MyGrad, raw tensors"

    def __init__(self, p: dict[str, np.ndarray], size: Size) -> None:
        self.x, self.y = mygrad.tensor(p["x"], constant=True), mygrad.tensor(p["y"], constant=True)
        self.w1, self.b1, self.w2, self.b2 = (mygrad.tensor(p[k]) for k in ("w1", "b1", "w2", "b2"))
        bias_lr = size.lr / size.batch
        self.params = [(self.w1, size.lr), (self.b1, bias_lr), (self.w2, size.lr), (self.b2, bias_lr)]

    def step(self) -> Any:
        pred = mygrad_relu(self.x @ self.w1 + self.b1) @ self.w2 + self.b2
        loss = ((pred - self.y) ** 2).sum()
        loss.backward()
        for p, lr in self.params:
            p.data -= lr * p.grad
            p.null_grad()
        return loss

    def loss_value(self, loss: Any) -> float:
        return loss.item()


STEP_CLASSES = {
    cls.name: cls for cls in (MinimalStep, NumpyStep, AutogradStep, NNStep, CompiledStep, TorchStep, MyGradStep)
}


def missing_reason(name: str) -> str | None:
    """Why a contender cannot run here, or None if it can."""
    if name == "torch" and torch is None:
        return "torch is not installed"
    if name == "mygrad" and mygrad is None:
        return "mygrad is not installed (pip install mygrad)"
    if name == "micrograd" and MicrogradValue is None:
        return "micrograd is not installed (pip install micrograd)"
    if name == "compiled" and not hasattr(autograd, "compile"):
        return "autograd.compile not available"
    return None


# ============================================================================ timing


def interleaved(tasks: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run each task once per repeat, round-robin, the starting task rotating; collect samples.

    A task times one batch and returns its figure (seconds per call). Round-robin means a
    burst of machine noise lands on every contender of that repeat, not on one of them.
    """
    names = list(tasks)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for i in range(len(names)):
            name = names[(r + i) % len(names)]
            samples[name].append(tasks[name]())
    return samples


def summary(samples_s: list[float]) -> dict[str, Any]:
    """Median (the figure), min, and spread (interquartile range / median) in microseconds."""
    us = [s * 1e6 for s in samples_s]
    med = statistics.median(us)
    if len(us) >= 4:
        q = statistics.quantiles(us, n=4)
        spread = (q[2] - q[0]) / med
    else:
        spread = (max(us) - min(us)) / med
    return {"median_us": med, "min_us": min(us), "spread": spread, "samples_us": us}


def warm_up(step: Callable[[], Any], n: int, target_s: float, max_steps: int = 100_000) -> int:
    """Run ``n`` untimed steps; return how many steps make a timed batch of about ``target_s`` seconds."""
    fastest = math.inf
    for _ in range(max(n, 1)):
        t0 = time.perf_counter()
        step()
        fastest = min(fastest, time.perf_counter() - t0)
    return max(1, min(max_steps, math.ceil(target_s / max(fastest, 1e-9))))


def timed_steps(step: Callable[[], Any], n: int) -> float:
    """Seconds per step over a batch of n steps (garbage collected first; GC stays on while timing)."""
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


# ============================================================================ section: step


def check_losses(contenders: dict[str, Any], rtol: float, reference: str | None = None) -> dict[str, Any]:
    """Run steps 0 and 1 of every contender; each loss must match the reference's within ``rtol``.

    The reference is ``reference`` or else the first contender. Step 0's loss checks the
    forward pass; step 1's, the gradients and the update too. A contender that raises counts
    as disagreeing (the error is kept); if the reference raises, nothing can be measured.
    """
    reference = reference or next(iter(contenders))
    losses: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
    for name, c in contenders.items():
        try:
            losses[name] = [c.loss_value(c.step()) for _ in range(2)]
        except Exception as err:  # reported, and the contender is not timed
            if name == reference:
                raise
            losses[name], errors[name] = [math.nan, math.nan], f"{type(err).__name__}: {err}"
    ref = losses[reference]
    rel_diff = {
        name: max(abs(v - r) / max(abs(r), 1e-300) for v, r in zip(values, ref)) for name, values in losses.items()
    }
    bad = sorted(
        name for name, d in rel_diff.items() if not d <= rtol or not all(math.isfinite(v) for v in losses[name])
    )
    return {
        "reference": reference,
        "loss_step0": {name: v[0] for name, v in losses.items()},
        "loss_step1": {name: v[1] for name, v in losses.items()},
        "max_rel_diff": rel_diff,
        "rtol": rtol,
        "agree": not bad,
        "disagree": bad,
        "errors": errors,
    }


def build_contenders(
    names: list[str], make: Callable[[str], Any], reference: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Build each contender (the reference first); one that fails to build is skipped, with the error."""
    built: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in [reference] + [n for n in names if n != reference]:
        try:
            built[name] = make(name)
        except Exception as err:
            if name == reference:
                raise
            failed[name] = f"could not be built: {type(err).__name__}: {err}"
    return built, failed


def time_contenders(
    contenders: dict[str, Any], args: argparse.Namespace
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Warm each contender up (which sizes its timed batch), then time them all interleaved.

    Returns the samples (seconds per step) and each contender's steps per timed batch.
    """
    batch = {name: warm_up(c.step, args.warmup_steps, args.batch_seconds) for name, c in contenders.items()}
    samples = interleaved(
        {name: (lambda c=c, n=batch[name]: timed_steps(c.step, n)) for name, c in contenders.items()},
        args.repeats,
    )
    return samples, batch


def drop_disagreeing(contenders: dict[str, Any], check: dict[str, Any], skipped: dict[str, str]) -> None:
    """A benchmark of wrong code is worthless: untime every contender the check rejected."""
    for name in check["disagree"]:
        if name != check["reference"]:
            skipped[name] = check["errors"].get(name, f"loss disagrees with {check['reference']}'s") + " (not timed)"
            contenders.pop(name)


def run_step_section(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    results = []
    for size_name in args.sizes:
        size = SIZES[size_name]
        for dtype in args.dtypes:
            problem = make_problem(size, dtype)
            names = [n for n in args.contenders if missing_reason(n) is None]
            skipped = {n: why for n in args.contenders if (why := missing_reason(n)) is not None}
            contenders, unbuilt = build_contenders(
                names, lambda n, problem=problem, size=size: STEP_CLASSES[n](problem, size), REFERENCE
            )
            skipped.update(unbuilt)
            check = check_losses(contenders, RTOL[dtype], REFERENCE)
            entry: dict[str, Any] = {
                "size": size_name,
                "shape": asdict(size),
                "dtype": dtype,
                "reference": REFERENCE,
                "check": check,
                "skipped": skipped,
                "labels": {name: STEP_CLASSES[name].label for name in args.contenders},
                "contenders": {},
            }
            results.append(entry)
            log(
                f"step {size_name} {size} {dtype}: step-0 loss {check['loss_step0'][REFERENCE]:.10g}, "
                f"{'all agree' if check['agree'] else 'DISAGREE: ' + ', '.join(check['disagree'])}"
                + (f"; skipped: {', '.join(skipped)}" if skipped else "")
            )
            drop_disagreeing(contenders, check, skipped)
            # Warm-up (after the check's two steps), which also sizes each contender's timed batch.
            samples, batch = time_contenders(contenders, args)
            base = statistics.median(samples[REFERENCE])
            for name in contenders:
                entry["contenders"][name] = {
                    **summary(samples[name]),
                    "steps_per_repeat": batch[name],
                    "ratio_to_minimal": statistics.median(samples[name]) / base,
                }
            del contenders
            gc.collect()
    return {"reference": REFERENCE, "results": results}


def print_step_table(section: dict[str, Any]) -> None:
    print(
        "\n== step: one training step (forward, loss, backward, SGD update), median µs per step; "
        "x minimal = ratio to the minimal numpy step =="
    )
    print(
        f"{'size':<8} {'shape':<22} {'dtype':<8} {'contender':<9} {'µs/step':>12} {'x minimal':>9} "
        f"{'spread':>7} {'steps/rep':>9}  what"
    )
    for e in section["results"]:
        shape = str(Size(**e["shape"]))
        for name, r in e["contenders"].items():
            print(
                f"{e['size']:<8} {shape:<22} {e['dtype']:<8} {name:<9} {r['median_us']:>12.1f} "
                f"{r['ratio_to_minimal']:>8.2f}x {r['spread']:>6.0%} {r['steps_per_repeat']:>9}  {e['labels'][name]}"
            )
        for name, why in e["skipped"].items():
            print(f"{e['size']:<8} {shape:<22} {e['dtype']:<8} {name:<9} {'skipped: ' + why}")
        c = e["check"]
        print(
            f"{'':<8} step-0 summed loss {c['loss_step0'][c['reference']]:.10g}; "
            f"contenders {'agree' if c['agree'] else 'DISAGREE'} at steps 0 and 1 "
            f"(max rel diff {max(c['max_rel_diff'].values()):.1e}, rtol {c['rtol']:.0e})"
        )


# ============================================================================ section: chain


CHAIN_A, CHAIN_C = 1.0001, 0.0001


class GCClock:
    """Inside ``with``: the time the cyclic garbage collector spent, and its full collections."""

    def __enter__(self) -> GCClock:
        self.seconds, self.full_collections, self._start = 0.0, 0, 0.0
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.full_collections += info["generation"] == 2


def chain_once(n_ops: int) -> dict[str, float]:
    """Build x = x * a + c (n_ops / 2 times: n_ops ops) from a 0-d leaf, backward, free; seconds each.

    Also returns the seconds the garbage collector took (included in the others) and its
    number of full collections: the usual suspects when a long graph scales worse than linearly.
    """
    x0 = Tensor(1.0, requires_grad=True)
    gc.collect()
    with GCClock() as clock:
        t0 = time.perf_counter()
        x = x0
        for _ in range(n_ops // 2):
            x = x * CHAIN_A + CHAIN_C
        t1 = time.perf_counter()
        x.backward()
        t2 = time.perf_counter()
        value, grad = x.item(), x0.grad.item()
        del x  # drop the graph: freeing it is part of the cost
        t3 = time.perf_counter()
    k = n_ops // 2
    expected_value = CHAIN_A**k + CHAIN_C * (CHAIN_A**k - 1) / (CHAIN_A - 1)
    expected_grad = CHAIN_A**k
    ok = math.isclose(value, expected_value, rel_tol=1e-9) and math.isclose(grad, expected_grad, rel_tol=1e-9)
    if not ok:
        raise RuntimeError(
            f"chain of {n_ops} ops: got value {value}, grad {grad}; expected {expected_value}, {expected_grad}"
        )
    return {
        "forward": t1 - t0,
        "backward": t2 - t1,
        "free": t3 - t2,
        "total": t3 - t0,
        "gc": clock.seconds,
        "gc_full_collections": clock.full_collections,
    }


def run_chain_section(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    small, big = args.chain_ops
    chain_once(small)  # warm-up
    parts: dict[int, list[dict[str, float]]] = {small: [], big: []}

    def task(n: int) -> Callable[[], float]:
        def run() -> float:
            parts[n].append(chain_once(n))
            return parts[n][-1]["total"]

        return run

    interleaved({str(small): task(small), str(big): task(big)}, args.repeats)
    out: dict[str, Any] = {"op": "x = x * 1.0001 + 0.0001 (two 0-d ops per line)", "runs": {}}
    for n, runs in parts.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("forward", "backward", "free", "total", "gc")}
        out["runs"][str(n)] = {
            "n_ops": n,
            **{f"{k}_s": v for k, v in med.items()},
            "us_per_op": med["total"] / n * 1e6,
            "gc_full_collections": max(r["gc_full_collections"] for r in runs),
            "samples_total_s": [r["total"] for r in runs],
        }
    ratio = out["runs"][str(big)]["total_s"] / out["runs"][str(small)]["total_s"]
    out.update(
        ops_ratio=big / small, time_ratio=ratio, target=1.2 * big / small, meets_target=ratio <= 1.2 * big / small
    )
    log(f"chain: {small} and {big} ops, time ratio {ratio:.2f}")
    return out


def print_chain_table(section: dict[str, Any]) -> None:
    print("\n== chain: forward + backward through a chain of 0-d ops (x = x * 1.0001 + 0.0001), medians ==")
    print(
        f"{'ops':>9} {'forward s':>10} {'backward s':>11} {'free s':>8} {'total s':>9} {'µs/op':>7}   "
        f"{'of which GC s':>13} {'full GCs':>8}"
    )
    for r in section["runs"].values():
        print(
            f"{r['n_ops']:>9} {r['forward_s']:>10.3f} {r['backward_s']:>11.3f} {r['free_s']:>8.3f} "
            f"{r['total_s']:>9.3f} {r['us_per_op']:>7.2f}   {r['gc_s']:>13.3f} {r['gc_full_collections']:>8}"
        )
    print(
        f"{section['ops_ratio']:.0f}x the ops took {section['time_ratio']:.2f}x the time "
        f"(target <= {section['target']:.0f}x: {'met' if section['meets_target'] else 'MISSED'})"
    )


# ============================================================================ section: memory


def peak_memory(make: Callable[[], Any], steps: int) -> dict[str, int]:
    """tracemalloc figures for building a contender (data + weights) and training it ``steps`` steps.

    numpy reports its array buffers to tracemalloc, so arrays count as well as Python objects.
    """
    gc.collect()
    tracemalloc.start()
    try:
        contender = make()
        setup, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()  # building the model is not training it
        for _ in range(steps):
            contender.step()
        end, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"setup_bytes": setup, "peak_bytes": peak, "peak_above_setup_bytes": peak - setup, "end_bytes": end}


def _bytes(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def run_memory_section(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    size = max(
        (SIZES[s] for s in args.sizes), key=lambda s: s.n_in * s.hidden + s.hidden * s.n_out + s.batch * s.hidden
    )
    dtype = args.dtypes[0]
    problem = make_problem(size, dtype)
    loops = {}
    for name in ("numpy", "nn"):
        loops[name] = peak_memory(lambda cls=STEP_CLASSES[name]: cls(problem, size), args.memory_steps)
        log(f"memory {name}: peak {_bytes(loops[name]['peak_bytes'])} over {args.memory_steps} steps")
    ratio = loops["nn"]["peak_bytes"] / loops["numpy"]["peak_bytes"]
    ratio_above = loops["nn"]["peak_above_setup_bytes"] / max(loops["numpy"]["peak_above_setup_bytes"], 1)
    return {
        "size": size.name,
        "shape": asdict(size),
        "dtype": dtype,
        "steps": args.memory_steps,
        "loops": loops,
        "peak_ratio": ratio,
        "peak_above_setup_ratio": ratio_above,
        "target": 1.2,
        "meets_target": ratio <= 1.2,
    }


def print_memory_table(section: dict[str, Any]) -> None:
    print(
        f"\n== memory: tracemalloc peak over {section['steps']} training steps, "
        f"{section['size']} {Size(**section['shape'])} {section['dtype']} =="
    )
    print(f"{'loop':<6} {'setup':>10} {'peak':>10} {'peak-setup':>11} {'at the end':>11}")
    for name, m in section["loops"].items():
        print(
            f"{name:<6} {_bytes(m['setup_bytes']):>10} {_bytes(m['peak_bytes']):>10} "
            f"{_bytes(m['peak_above_setup_bytes']):>11} {_bytes(m['end_bytes']):>11}"
        )
    print(
        f"nn / numpy peak: {section['peak_ratio']:.2f}x (target <= 1.2x: {'met' if section['meets_target'] else 'MISSED'}); "
        f"above setup: {section['peak_above_setup_ratio']:.2f}x"
    )


# ============================================================================ section: overhead

# (label, engine statement, numpy statement, recording off?), timed with timeit, so no Python
# call wraps the statement. "x", "y" are 0-d numpy arrays; "a", "b" are 0-d tensors of each
# library, made with requires_grad; {reset} clears their grads (each library has its way).
OVERHEAD_OPS = [
    ("a * b", "a * b", "x * y", False),
    ("a + b", "a + b", "x + y", False),
    ("a * b, no_grad", "a * b", "x * y", True),
    ("a + b, no_grad", "a + b", "x + y", True),
    # The README's example; the numpy line computes the same values and gradients by hand.
    (
        "c = a*b + b**3; backward",
        "c = a * b + b ** 3; c.backward(); {reset}",
        "c = x * y + y ** 3; ga = y; gb = x + 3 * y ** 2",
        False,
    ),
]
RESET_GRADS = {
    "autograd": "a.grad = None; b.grad = None",
    "torch": "a.grad = None; b.grad = None",
    "mygrad": "a.null_grad(); b.null_grad()",
    "micrograd": "a.grad = 0.0; b.grad = 0.0",
}
OVERHEAD_LIBS = ("torch", "mygrad", "micrograd")  # next to autograd, where installed (micrograd: always)


def overhead_namespace(lib: str) -> dict[str, Any]:
    if lib == "numpy":
        return {"x": np.asarray(-4.0), "y": np.asarray(2.0)}
    if lib == "autograd":
        return {"a": Tensor(-4.0, requires_grad=True), "b": Tensor(2.0, requires_grad=True)}
    if lib == "torch":
        return {name: torch.tensor(v, dtype=torch.float64, requires_grad=True) for name, v in (("a", -4.0), ("b", 2.0))}
    if lib == "micrograd":
        return {"a": MicrogradValue(-4.0), "b": MicrogradValue(2.0)}
    return {"a": mygrad.tensor(-4.0), "b": mygrad.tensor(2.0)}


def recording_off(lib: str) -> Any:
    """The library's 'record nothing' context manager."""
    if lib == "autograd":
        return no_grad()
    if lib == "torch":
        return torch.no_grad()
    return mygrad.no_autodiff


def run_overhead_section(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    libs = ["autograd"] + [
        n for n in OVERHEAD_LIBS if (n in args.contenders or n == "micrograd") and missing_reason(n) is None
    ]
    timers: dict[str, Callable[[], float]] = {}
    for label, stmt, np_stmt, off in OVERHEAD_OPS:
        cases = [("numpy", np_stmt)] + [
            (lib, stmt.format(reset=RESET_GRADS[lib]))
            for lib in libs
            if not (off and lib == "micrograd")  # micrograd always records: it has no no_grad
        ]
        for lib, code in cases:
            timer = timeit.Timer(code, globals=overhead_namespace(lib))

            def mode(lib: str = lib, off: bool = off) -> Any:
                return recording_off(lib) if off and lib != "numpy" else contextlib.nullcontext()

            if args.tiny:
                number = 200
            else:  # autorange finds a loop count taking >= 0.2 s; scale it to --batch-seconds
                with mode():
                    number = max(1, int(timer.autorange()[0] * args.batch_seconds / 0.2))

            def run(timer: timeit.Timer = timer, number: int = number, mode: Callable[[], Any] = mode) -> float:
                with mode():
                    return timer.timeit(number) / number

            timers[f"{label}|{lib}"] = run
    samples = interleaved(timers, args.repeats)
    rows = []
    for label, *_ in OVERHEAD_OPS:
        base = statistics.median(samples[f"{label}|numpy"])
        row: dict[str, Any] = {"op": label, "numpy_us": base * 1e6}
        for lib in libs:
            if f"{label}|{lib}" not in samples:
                row[f"{lib}_us"] = row[f"{lib}_ratio_to_numpy"] = None
                continue
            med = statistics.median(samples[f"{label}|{lib}"])
            row[f"{lib}_us"] = med * 1e6
            row[f"{lib}_ratio_to_numpy"] = med / base
        rows.append(row)
    log("overhead: done")
    return {"libraries": libs, "rows": rows, "samples_us": {k: [s * 1e6 for s in v] for k, v in samples.items()}}


def print_overhead_table(section: dict[str, Any]) -> None:
    libs = section["libraries"]
    print("\n== overhead: µs per operation on 0-d float64 values, medians (x numpy = ratio to the numpy line) ==")
    head = f"{'operation':<26} {'numpy':>7}" + "".join(f" {lib:>9} {'x numpy':>8}" for lib in libs)
    print(head)
    for row in section["rows"]:
        line = f"{row['op']:<26} {row['numpy_us']:>7.2f}"
        for lib in libs:
            if row[lib + "_us"] is None:
                line += f" {'-':>9} {'-':>8}"
            else:
                line += f" {row[lib + '_us']:>9.2f} {row[lib + '_ratio_to_numpy']:>7.1f}x"
        print(line)


# ============================================================================ section: scalar

# How each library makes the leaves a = -4 and b = 2, recording gradients.
SCALAR_LEAVES = {
    "micrograd": ("Value(-4.0)", "Value(2.0)"),
    "autograd": ("Tensor(-4.0, requires_grad=True)", "Tensor(2.0, requires_grad=True)"),
    "torch": (
        "torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)",
        "torch.tensor(2.0, dtype=torch.float64, requires_grad=True)",
    ),
}
# micrograd's README example. Its ``c += x`` lines are written as ``c = c + (x)``: the same
# math and the same order of operations as micrograd's rebinding, whatever ``+=`` does here.
README_EXAMPLE = """\
a = {a}
b = {b}
c = a + b
d = a * b + b**3
c = c + (c + 1)
c = c + (1 + c + (-a))
d = d + (d * 2 + (b + a).relu())
d = d + (3 * d + (b - a).relu())
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g.backward()"""
# What micrograd's README prints for it (4 decimals): a sanity check of the micrograd installed.
README_PRINTED = {"g": 24.7041, "a.grad": 138.8338, "b.grad": 645.5773}
# (key, label, statement, target ratio engine / micrograd or None). "{a}", "{b}" make fresh
# leaves; in (a), "a", "b" are leaves made once.
SCALAR_CASES = [
    ("a", "(a) a * b, recording", "a * b", 1.0),
    ("b", "(b) fresh a, b; c = a*b + b**3; backward", "a = {a}; b = {b}; c = a * b + b ** 3; c.backward()", 2.5),
    ("c", "(c) micrograd README example; backward", README_EXAMPLE, None),
]


def scalar_namespace(lib: str) -> dict[str, Any]:
    """Globals for a scalar statement of ``lib``: its leaf constructor and two ready leaves a, b."""
    namespace: dict[str, Any] = {"gc": gc, "Value": MicrogradValue, "Tensor": Tensor, "torch": torch}
    exec(f"a = {SCALAR_LEAVES[lib][0]}; b = {SCALAR_LEAVES[lib][1]}", namespace)  # noqa: S102 - our constants
    return namespace


def readme_example_values(lib: str) -> dict[str, float]:
    """g, a.grad and b.grad of the README example, computed by ``lib``."""
    namespace = scalar_namespace(lib)
    a, b = SCALAR_LEAVES[lib]
    exec(README_EXAMPLE.format(a=a, b=b), namespace)  # noqa: S102 - our constant, as timeit runs it
    return {"g": float(namespace["g"].data), "a.grad": float(namespace["a"].grad), "b.grad": float(namespace["b"].grad)}


def check_readme_example(libs: list[str], rtol: float = 1e-9) -> dict[str, Any]:
    """Every library's g, a.grad, b.grad must match micrograd's within ``rtol`` (and micrograd's
    must be the values its README prints)."""
    values: dict[str, dict[str, float]] = {}
    errors: dict[str, str] = {}
    for lib in libs:
        try:
            values[lib] = readme_example_values(lib)
        except Exception as err:  # reported, and the library is not timed
            if lib == "micrograd":  # the reference itself: nothing can be compared
                raise
            errors[lib] = f"{type(err).__name__}: {err}"
    ref = values.get("micrograd", {})
    readme_ok = bool(ref) and all(abs(ref[k] - v) <= 5e-5 for k, v in README_PRINTED.items())
    rel_diff = {
        lib: max(abs(v[k] - ref[k]) / abs(ref[k]) for k in ref) if ref else math.nan for lib, v in values.items()
    }
    bad = sorted(set(errors) | {lib for lib, d in rel_diff.items() if not d <= rtol})
    return {
        "values": values,
        "readme_printed": README_PRINTED,
        "micrograd_matches_readme": readme_ok,
        "max_rel_diff": rel_diff,
        "rtol": rtol,
        "agree": readme_ok and not bad,
        "disagree": bad,
        "errors": errors,
    }


def run_scalar_section(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """micrograd vs this engine (and torch) on 0-d values; timed with timeit, garbage collector on."""
    if (why := missing_reason("micrograd")) is not None:
        log(f"scalar: skipped, {why}")
        return {"skipped": why}
    libs = ["micrograd", "autograd"]
    if "torch" in args.contenders and missing_reason("torch") is None:
        libs.append("torch")
    check = check_readme_example(libs)
    log(
        f"scalar: README example g = {check['values'].get('autograd', {}).get('g')}, "
        f"{'all agree with micrograd' if check['agree'] else 'DISAGREE: ' + ', '.join(check['disagree'])}"
    )
    timed_libs = [lib for lib in libs if lib not in check["disagree"] or lib == "micrograd"]
    timers: dict[str, Callable[[], float]] = {}
    for key, _, stmt, _ in SCALAR_CASES:
        for lib in timed_libs:
            a, b = SCALAR_LEAVES[lib]
            # GC on while timing (timeit turns it off): micrograd's graphs are reference cycles
            # (each node's _backward closure holds the node), which only the collector frees.
            timer = timeit.Timer(stmt.format(a=a, b=b), setup="gc.enable()", globals=scalar_namespace(lib))
            number = 50 if args.tiny else max(1, int(timer.autorange()[0] * args.batch_seconds / 0.2))
            timers[f"{key}|{lib}"] = lambda timer=timer, number=number: timer.timeit(number) / number
    samples = interleaved(timers, args.repeats)
    rows = []
    for key, label, _stmt, target in SCALAR_CASES:
        row: dict[str, Any] = {"case": key, "label": label, "target_ratio": target}
        base = statistics.median(samples[f"{key}|micrograd"])
        for lib in libs:
            if f"{key}|{lib}" not in samples:
                row[f"{lib}_us"] = row[f"{lib}_ratio_to_micrograd"] = None
                continue
            row[f"{lib}_us"] = statistics.median(samples[f"{key}|{lib}"]) * 1e6
            row[f"{lib}_ratio_to_micrograd"] = statistics.median(samples[f"{key}|{lib}"]) / base
        ratio = row["autograd_ratio_to_micrograd"]
        row["meets_target"] = None if target is None or ratio is None else ratio <= target
        rows.append(row)
    log("scalar: done")
    return {
        "libraries": libs,
        "check": check,
        "rows": rows,
        "samples_us": {k: [s * 1e6 for s in v] for k, v in samples.items()},
    }


def print_scalar_table(section: dict[str, Any]) -> None:
    print(
        "\n== scalar: µs per call on 0-d float64 values, medians, GC on "
        "(x micrograd = ratio to micrograd; the target is for autograd) =="
    )
    if "skipped" in section:
        print(f"skipped: {section['skipped']}")
        return
    others = [lib for lib in section["libraries"] if lib != "micrograd"]
    print(
        f"{'case':<42} {'micrograd':>9}"
        + "".join(f" {lib:>9} {'x micrograd':>11}" for lib in others)
        + f" {'target':>8}"
    )
    for row in section["rows"]:
        line = f"{row['label']:<42} {row['micrograd_us']:>9.2f}"
        for lib in others:
            if row[f"{lib}_us"] is None:
                line += f" {'-':>9} {'-':>11}"
            else:
                line += f" {row[f'{lib}_us']:>9.2f} {row[f'{lib}_ratio_to_micrograd']:>10.2f}x"
        if row["target_ratio"] is not None:
            target = f"<= {row['target_ratio']:.1f}x"
            verdict = {True: "met", False: "MISSED", None: "-"}[row["meets_target"]]
            line += f" {target:>8} {verdict}"
        print(line)
    c = section["check"]
    got = ", ".join(f"{k} = {v:.10g}" for k, v in c["values"]["micrograd"].items())
    printed = ", ".join(str(v) for v in README_PRINTED.values())
    print(
        f"check: README example, micrograd {got} (its README prints {printed}); "
        + ("all agree" if c["agree"] else "DISAGREE: " + ", ".join(c["disagree"] or ["micrograd vs its README"]))
        + f" (max rel diff {max(c['max_rel_diff'].values()):.1e}, rtol {c['rtol']:.0e})"
    )


# ============================================================================ section: transformer


@dataclass(frozen=True)
class BlockShape:
    """A one-block transformer language model's shape: batch x context tokens, width, heads, vocabulary."""

    name: str
    batch: int
    context: int
    d_model: int
    heads: int
    vocab: int
    lr: float = 0.1

    def __str__(self) -> str:
        return f"B={self.batch}, T={self.context}, d={self.d_model}, {self.heads} heads, vocab {self.vocab}"


BLOCK_SHAPES = {
    "tiny": BlockShape("tiny", batch=2, context=4, d_model=8, heads=2, vocab=11),  # --tiny only
    "small": BlockShape("small", batch=16, context=32, d_model=64, heads=4, vocab=65),
}
BLOCK_RTOL = 1e-9  # float64; the libraries sum in different orders
BLOCK_TARGET = 1.5  # engine / PyTorch


def make_block_problem(s: BlockShape) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Tokens (inputs and next-token targets) and initial float64 weights, from RandomState(0).

    Embeddings N(0, 0.1^2), matrices N(0, 1) / sqrt(fan_in), biases 0, LayerNorm gains 1.
    """
    rs = np.random.RandomState(0)
    d = s.d_model
    tokens = rs.randint(s.vocab, size=(s.batch, s.context + 1))

    def matrix(n_in: int, n_out: int) -> np.ndarray:
        return rs.randn(n_in, n_out) / math.sqrt(n_in)

    params = {
        "wte": rs.randn(s.vocab, d) * 0.1,
        "wpe": rs.randn(s.context, d) * 0.1,
        "ln1_g": np.ones(d), "ln1_b": np.zeros(d),
        "w_qkv": matrix(d, 3 * d), "b_qkv": np.zeros(3 * d),
        "w_proj": matrix(d, d), "b_proj": np.zeros(d),
        "ln2_g": np.ones(d), "ln2_b": np.zeros(d),
        "w_fc": matrix(d, 4 * d), "b_fc": np.zeros(4 * d),
        "w_out": matrix(4 * d, d), "b_out": np.zeros(d),
        "lnf_g": np.ones(d), "lnf_b": np.zeros(d),
        "w_head": matrix(d, s.vocab),
    }  # fmt: skip
    data = {"idx": tokens[:, :-1], "targets": tokens[:, 1:].reshape(-1)}
    return data, params


def layer_norm(x: Any, gain: Any, bias: Any) -> Any:
    """LayerNorm over the last axis, from ops: (x - mean) / sqrt(variance + 1e-5) * gain + bias."""
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / (var + 1e-5).sqrt() * gain + bias


GELU_C = (2 / math.pi) ** 0.5


def gelu(x: Any) -> Any:
    """GELU, tanh approximation."""
    return 0.5 * x * (1 + (GELU_C * (x + 0.044715 * x**3)).tanh())


def block_loss(p: dict[str, Any], idx: Any, rows: Any, targets: Any, causal: Any, where: Any, s: BlockShape) -> Any:
    """Mean next-token cross-entropy of a pre-LayerNorm one-block transformer.

    Written once for both libraries: everything used is a method or operator both tensors
    have with the same meaning; ``where`` is the library's own (``autograd.where``,
    ``torch.where``); ``idx``, ``rows``, ``targets`` are integer index arrays, ``causal`` a
    (T, T) bool lower triangle, each in the library's own array type.
    """
    B, T, d, h = s.batch, s.context, s.d_model, s.heads
    dh = d // h
    x = p["wte"][idx] + p["wpe"]  # (B, T, d): token + position embeddings
    qkv = layer_norm(x, p["ln1_g"], p["ln1_b"]) @ p["w_qkv"] + p["b_qkv"]  # (B, T, 3d)
    q, k, v = (qkv[:, :, i * d : (i + 1) * d].reshape(B, T, h, dh).swapaxes(1, 2) for i in range(3))  # (B, h, T, dh)
    scores = where(causal, q @ k.swapaxes(-1, -2) / math.sqrt(dh), -1e9)  # (B, h, T, T)
    y = (scores.softmax(-1) @ v).swapaxes(1, 2).reshape(B, T, d)  # heads merged
    x = x + (y @ p["w_proj"] + p["b_proj"])
    x = x + (gelu(layer_norm(x, p["ln2_g"], p["ln2_b"]) @ p["w_fc"] + p["b_fc"]) @ p["w_out"] + p["b_out"])
    logits = layer_norm(x, p["lnf_g"], p["lnf_b"]) @ p["w_head"]  # (B, T, vocab)
    logp = logits.reshape(B * T, s.vocab).log_softmax(-1)
    return -logp[rows, targets].mean()


class BlockAutogradStep:
    """This engine: Tensors, ``block_loss``, backward, in-place SGD on ``.data``."""

    name = "autograd"

    def __init__(self, data: dict[str, np.ndarray], params: dict[str, np.ndarray], s: BlockShape) -> None:
        self.s = s
        self.p = {k: Tensor(v, requires_grad=True) for k, v in params.items()}
        self.idx, self.targets = data["idx"], data["targets"]
        self.rows = np.arange(s.batch * s.context)
        self.causal = np.tril(np.ones((s.context, s.context), dtype=bool))

    def step(self) -> Tensor:
        loss = block_loss(self.p, self.idx, self.rows, self.targets, self.causal, autograd.where, self.s)
        loss.backward()
        for t in self.p.values():
            t.data -= self.s.lr * t.grad.data
            t.grad = None
        return loss

    def loss_value(self, loss: Tensor) -> float:
        return loss.item()


class BlockTorchStep:
    """PyTorch eager: the same ``block_loss``, backward, in-place SGD under no_grad."""

    name = "torch"

    def __init__(self, data: dict[str, np.ndarray], params: dict[str, np.ndarray], s: BlockShape) -> None:
        self.s = s
        self.p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        self.idx, self.targets = torch.as_tensor(data["idx"]), torch.as_tensor(data["targets"])
        self.rows = torch.arange(s.batch * s.context)
        self.causal = torch.ones(s.context, s.context, dtype=torch.bool).tril()

    def step(self) -> Any:
        loss = block_loss(self.p, self.idx, self.rows, self.targets, self.causal, torch.where, self.s)
        loss.backward()
        with torch.no_grad():
            for t in self.p.values():
                t -= self.s.lr * t.grad
                t.grad = None
        return loss

    def loss_value(self, loss: Any) -> float:
        return loss.item()


@contextlib.contextmanager
def single_threaded() -> Any:
    """Inside: PyTorch on 1 thread, and numpy's BLAS too if threadpoolctl is installed.

    Yields what was set, for the report; PyTorch's thread count is restored on exit.
    """
    saved = torch.get_num_threads()
    limit = threadpool_limits(limits=1, user_api="blas") if threadpool_limits is not None else contextlib.nullcontext()
    try:
        with limit:
            torch.set_num_threads(1)
            yield {
                "torch_threads": torch.get_num_threads(),
                "numpy_blas_threads": numpy_blas_threads(),
                "threadpoolctl": threadpool_limits is not None,
                "note": None
                if threadpool_limits is not None
                else (
                    "threadpoolctl is not installed: numpy's BLAS keeps its default threads "
                    "(set OPENBLAS_NUM_THREADS=1 or the like to run it single-threaded)"
                ),
            }
    finally:
        torch.set_num_threads(saved)


def run_transformer_section(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """A one-block transformer's training step, this engine vs PyTorch, both single-threaded."""
    shape = BLOCK_SHAPES["tiny" if args.tiny else "small"]
    out: dict[str, Any] = {"shape": asdict(shape), "dtype": "float64", "target": BLOCK_TARGET}
    if (why := missing_reason("torch")) is not None:
        log(f"transformer: skipped, {why}")
        return {**out, "skipped": why}
    data, params = make_block_problem(shape)
    classes = {"torch": BlockTorchStep, "autograd": BlockAutogradStep}
    with single_threaded() as threads:
        if threads["note"]:
            log(f"transformer: {threads['note']}")
        contenders, skipped = build_contenders(list(classes), lambda n: classes[n](data, params, shape), "torch")
        check = check_losses(contenders, BLOCK_RTOL, "torch")
        log(
            f"transformer {shape}: step-0 loss {check['loss_step0']['torch']:.10g}, "
            f"{'both agree' if check['agree'] else 'DISAGREE: ' + ', '.join(check['disagree'])}"
        )
        drop_disagreeing(contenders, check, skipped)
        samples, batch = time_contenders(contenders, args)
    base = statistics.median(samples["torch"])
    figures = {
        name: {
            **summary(samples[name]),
            "median_ms": statistics.median(samples[name]) * 1e3,
            "steps_per_repeat": batch[name],
            "ratio_to_torch": statistics.median(samples[name]) / base,
        }
        for name in contenders
    }
    ratio = figures["autograd"]["ratio_to_torch"] if "autograd" in figures else None
    log("transformer: done")
    return {
        **out,
        "threads": threads,
        "check": check,
        "skipped_contenders": skipped,
        "contenders": figures,
        "ratio": ratio,
        "meets_target": None if ratio is None else ratio <= BLOCK_TARGET,
    }


def print_transformer_table(section: dict[str, Any]) -> None:
    shape = BlockShape(**section["shape"])
    print(
        f"\n== transformer: one training step (forward, mean cross-entropy, backward, SGD lr {shape.lr}) of a "
        f"one-block transformer, {shape}, {section['dtype']}, medians =="
    )
    if "skipped" in section:
        print(f"skipped: {section['skipped']}")
        return
    t = section["threads"]
    print(
        f"threads: torch {t['torch_threads']}, numpy BLAS {t['numpy_blas_threads']}"
        + (f" ({t['note']})" if t["note"] else " (threadpoolctl)")
    )
    print(f"{'library':<9} {'ms/step':>9} {'x torch':>8} {'spread':>7} {'steps/rep':>9}")
    for name, r in section["contenders"].items():
        print(
            f"{name:<9} {r['median_ms']:>9.3f} {r['ratio_to_torch']:>7.2f}x {r['spread']:>6.0%} "
            f"{r['steps_per_repeat']:>9}"
        )
    for name, why in section["skipped_contenders"].items():
        print(f"{name:<9} skipped: {why}")
    if section["ratio"] is not None:
        print(
            f"engine / PyTorch: {section['ratio']:.2f}x (target <= {section['target']}x: "
            f"{'met' if section['meets_target'] else 'MISSED'})"
        )
    c = section["check"]
    print(
        f"check: torch's loss {c['loss_step0']['torch']:.12g} at step 0, {c['loss_step1']['torch']:.12g} at step 1; "
        f"{'both agree' if c['agree'] else 'DISAGREE'} (max rel diff {max(c['max_rel_diff'].values()):.1e}, "
        f"rtol {c['rtol']:.0e})"
    )


# ============================================================================ section: conv


@dataclass(frozen=True)
class ConvShape:
    """A small convnet on digits-sized images: batch x 1 x side x side -> 10 classes; and the
    max-pooling microbenchmark's input (N, C, H, W)."""

    name: str
    batch: int
    side: int
    pool_input: tuple[int, int, int, int]
    lr: float = 0.1

    def __str__(self) -> str:
        return f"batch {self.batch}, {self.side}x{self.side} images"


CONV_SHAPES = {
    "tiny": ConvShape("tiny", batch=4, side=8, pool_input=(2, 3, 8, 8)),  # --tiny only
    "small": ConvShape("small", batch=64, side=8, pool_input=(64, 16, 32, 32)),
}
CONV_RTOL = 1e-9  # float64; the libraries sum in different orders


def make_conv_problem(s: ConvShape) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Images in [0, 1) with labels 0..9, the pooling input and its output weights, and
    initial float64 weights drawn as PyTorch's defaults (U(+-1/sqrt(fan_in))), from RandomState(0)."""
    rs = np.random.RandomState(0)

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        return rs.uniform(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), shape)

    flat = 16 * (s.side // 4) ** 2  # two 2x2 poolings
    params = {
        "c1_w": uniform((8, 1, 3, 3), 9), "c1_b": uniform((8,), 9),
        "c2_w": uniform((16, 8, 3, 3), 72), "c2_b": uniform((16,), 72),
        "fc_w": uniform((flat, 10), flat), "fc_b": uniform((10,), flat),  # nn.Linear's layout: (in, out)
    }  # fmt: skip
    n, c, h, w = s.pool_input
    data = {
        "images": rs.rand(s.batch, 1, s.side, s.side),
        "labels": rs.randint(10, size=s.batch),
        "pool_x": rs.randn(n, c, h, w),
        "pool_g": rs.randn(n, c, h // 2, w // 2),
    }
    return data, params


def convnet_loss(p: dict[str, Any], x: Any, labels: Any, F: Any) -> Any:
    """Mean cross-entropy of conv(1->8, 3x3, pad 1) -> relu -> maxpool 2 -> conv(8->16) ->
    relu -> maxpool 2 -> flatten -> linear -> 10 classes. Written once for both libraries:
    ``F`` is ``nn.functional`` or ``torch.nn.functional`` (same names, same arguments)."""
    h = F.max_pool2d(F.relu(F.conv2d(x, p["c1_w"], p["c1_b"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["c2_w"], p["c2_b"], padding=1)), 2)
    logits = h.reshape(h.shape[0], -1) @ p["fc_w"] + p["fc_b"]
    return F.cross_entropy(logits, labels)


class ConvAutogradStep:
    """This engine: Tensors, ``convnet_loss`` with nn.functional, backward, in-place SGD on ``.data``."""

    name = "autograd"

    def __init__(self, data: dict[str, np.ndarray], params: dict[str, np.ndarray], s: ConvShape) -> None:
        self.s = s
        self.p = {k: Tensor(v, requires_grad=True) for k, v in params.items()}
        self.x, self.labels = Tensor(data["images"]), data["labels"]

    def step(self) -> Tensor:
        loss = convnet_loss(self.p, self.x, self.labels, nn.functional)
        loss.backward()
        for t in self.p.values():
            t.data -= self.s.lr * t.grad.data
            t.grad = None
        return loss

    def loss_value(self, loss: Tensor) -> float:
        return loss.item()


class ConvTorchStep:
    """PyTorch eager: the same ``convnet_loss`` with torch.nn.functional, backward, SGD under no_grad."""

    name = "torch"

    def __init__(self, data: dict[str, np.ndarray], params: dict[str, np.ndarray], s: ConvShape) -> None:
        self.s = s
        self.p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        self.x, self.labels = torch.tensor(data["images"]), torch.as_tensor(data["labels"])

    def step(self) -> Any:
        loss = convnet_loss(self.p, self.x, self.labels, torch.nn.functional)
        loss.backward()
        with torch.no_grad():
            for t in self.p.values():
                t -= self.s.lr * t.grad
                t.grad = None
        return loss

    def loss_value(self, loss: Any) -> float:
        return loss.item()


class PoolAutogradStep:
    """max_pool2d(x, 2) forward and backward: sum(g * max_pool2d(x, 2)), then its gradient."""

    name = "autograd"

    def __init__(self, data: dict[str, np.ndarray], s: ConvShape) -> None:
        self.x, self.g = Tensor(data["pool_x"], requires_grad=True), data["pool_g"]

    def step(self) -> Tensor:
        loss = (nn.functional.max_pool2d(self.x, 2) * self.g).sum()
        loss.backward()
        self.x.grad = None
        return loss

    def loss_value(self, loss: Tensor) -> float:
        return loss.item()


class PoolTorchStep:
    name = "torch"

    def __init__(self, data: dict[str, np.ndarray], s: ConvShape) -> None:
        self.x, self.g = torch.tensor(data["pool_x"], requires_grad=True), torch.tensor(data["pool_g"])

    def step(self) -> Any:
        loss = (torch.nn.functional.max_pool2d(self.x, 2) * self.g).sum()
        loss.backward()
        self.x.grad = None
        return loss

    def loss_value(self, loss: Any) -> float:
        return loss.item()


def _versus_torch(make: dict[str, Callable[[], Any]], args: argparse.Namespace) -> dict[str, Any]:
    """Check (losses at steps 0 and 1), then time the contenders interleaved; ratios to torch."""
    contenders, skipped = build_contenders(list(make), lambda n: make[n](), "torch")
    check = check_losses(contenders, CONV_RTOL, "torch")
    drop_disagreeing(contenders, check, skipped)
    samples, batch = time_contenders(contenders, args)
    base = statistics.median(samples["torch"])
    figures = {
        name: {
            **summary(samples[name]),
            "median_ms": statistics.median(samples[name]) * 1e3,
            "steps_per_repeat": batch[name],
            "ratio_to_torch": statistics.median(samples[name]) / base,
        }
        for name in contenders
    }
    ratio = figures["autograd"]["ratio_to_torch"] if "autograd" in figures else None
    return {"check": check, "skipped_contenders": skipped, "contenders": figures, "ratio": ratio}


def run_conv_section(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """A small convnet's training step, and max_pool2d forward + backward: this engine vs
    PyTorch, both single-threaded, in one process, interleaved."""
    shape = CONV_SHAPES["tiny" if args.tiny else "small"]
    out: dict[str, Any] = {"shape": asdict(shape), "dtype": "float64"}
    if (why := missing_reason("torch")) is not None:
        log(f"conv: skipped, {why}")
        return {**out, "skipped": why}
    data, params = make_conv_problem(shape)
    with single_threaded() as threads:
        if threads["note"]:
            log(f"conv: {threads['note']}")
        step = _versus_torch({"torch": lambda: ConvTorchStep(data, params, shape),
                              "autograd": lambda: ConvAutogradStep(data, params, shape)}, args)  # fmt: skip
        log(
            f"conv {shape}: step-0 loss {step['check']['loss_step0']['torch']:.10g}, "
            f"{'both agree' if step['check']['agree'] else 'DISAGREE: ' + ', '.join(step['check']['disagree'])}"
        )
        pool = _versus_torch({"torch": lambda: PoolTorchStep(data, shape),
                              "autograd": lambda: PoolAutogradStep(data, shape)}, args)  # fmt: skip
    log("conv: done")
    agree = step["check"]["agree"] and pool["check"]["agree"]
    return {**out, "threads": threads, "step": step, "pool": pool, "check": {"agree": agree}}


def print_conv_table(section: dict[str, Any]) -> None:
    shape = ConvShape(**{**section["shape"], "pool_input": tuple(section["shape"]["pool_input"])})
    print(
        f"\n== conv: one training step (forward, mean cross-entropy, backward, SGD lr {shape.lr}) of "
        f"conv(1->8, 3x3) -> relu -> maxpool 2 -> conv(8->16, 3x3) -> relu -> maxpool 2 -> linear(->10), "
        f"{shape}, {section['dtype']}; and max_pool2d(x, 2) forward + backward on {shape.pool_input}; medians =="
    )
    if "skipped" in section:
        print(f"skipped: {section['skipped']}")
        return
    t = section["threads"]
    print(
        f"threads: torch {t['torch_threads']}, numpy BLAS {t['numpy_blas_threads']}"
        + (f" ({t['note']})" if t["note"] else " (threadpoolctl)")
    )
    print(f"{'what':<11} {'library':<9} {'ms/step':>9} {'x torch':>8} {'spread':>7} {'steps/rep':>9}")
    for part, label in (("step", "convnet"), ("pool", "max_pool2d")):
        for name, r in section[part]["contenders"].items():
            print(
                f"{label:<11} {name:<9} {r['median_ms']:>9.3f} {r['ratio_to_torch']:>7.2f}x {r['spread']:>6.0%} "
                f"{r['steps_per_repeat']:>9}"
            )
        for name, why in section[part]["skipped_contenders"].items():
            print(f"{label:<11} {name:<9} skipped: {why}")
        c = section[part]["check"]
        print(
            f"{label:<11} check: torch's loss {c['loss_step0']['torch']:.12g} at step 0; "
            f"{'both agree' if c['agree'] else 'DISAGREE'} (max rel diff {max(c['max_rel_diff'].values()):.1e}, "
            f"rtol {c['rtol']:.0e})"
        )
    for part, label in (("step", "convnet step"), ("pool", "max_pool2d")):
        if section[part]["ratio"] is not None:
            print(f"engine / PyTorch, {label}: {section[part]['ratio']:.2f}x")


# ============================================================================ machine info


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """Everything needed to read the figures later: CPU, cores, versions, BLAS and its threads."""
    info: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "blas_threads": numpy_blas_threads(),
        "thread_env": {
            k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ
        },
        "torch": getattr(torch, "__version__", None),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "mygrad": getattr(mygrad, "__version__", None),
        "micrograd": _dist_version("micrograd") if MicrogradValue is not None else None,
        "git": _git_state(),
    }
    try:
        config = np.show_config(mode="dicts")
        info["numpy_build"] = config.get("Build Dependencies", config)
    except (TypeError, ValueError) as err:  # older numpy: no mode="dicts"
        info["numpy_build"] = f"unavailable: {err}"
    try:
        import threadpoolctl

        info["threadpools"] = threadpoolctl.threadpool_info()
    except ImportError:
        info["threadpools"] = "threadpoolctl is not installed"
    return info


def numpy_blas_threads() -> int | None:
    """How many threads numpy's BLAS uses by default (threadpoolctl), or None if unknown."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_state() -> dict[str, Any] | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        return {"commit": head, "dirty": bool(dirty.strip())}
    except (OSError, subprocess.CalledProcessError):
        return None


# ============================================================================ command line

SECTIONS = ("step", "chain", "memory", "overhead", "scalar", "transformer", "conv")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    def names(allowed: tuple[str, ...] | list[str]) -> Callable[[str], list[str]]:
        def parse(text: str) -> list[str]:
            items = [s.strip() for s in text.split(",") if s.strip()]
            unknown = [s for s in items if s not in allowed]
            if unknown or not items:
                raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (got {text!r})")
            return items

        return parse

    p = argparse.ArgumentParser(
        description="Benchmark the source's training step: numpy vs this engine (and torch, mygrad, micrograd).",
        epilog="See benchmarks/README.md for what each figure means.",
    )
    p.add_argument(
        "sections", nargs="*", metavar="SECTION", help=f"what to run: any of {', '.join(SECTIONS)} (default: all)"
    )
    p.add_argument(
        "--sizes",
        type=names(list(SIZES)),
        default=["source", "medium", "large"],
        help="comma-separated: " + ", ".join(f"{k} ({v})" for k, v in SIZES.items()),
    )
    p.add_argument("--dtypes", type=names(("float64", "float32")), default=["float64", "float32"])
    p.add_argument(
        "--contenders",
        type=names(CONTENDERS),
        default=list(CONTENDERS),
        help="step contenders (minimal always runs: it is the reference); "
        "torch/mygrad also in overhead, torch also in scalar",
    )
    p.add_argument(
        "--repeats", type=int, default=7, help="timed repeats per figure; the median is reported (default 7)"
    )
    p.add_argument(
        "--batch-seconds",
        type=float,
        default=0.2,
        help="aim for timed batches this long: steps per repeat are chosen to fit (default 0.2)",
    )
    p.add_argument(
        "--warmup-steps",
        type=int,
        default=2,
        help="untimed steps per contender before timing, after the two checked ones (default 2)",
    )
    p.add_argument("--memory-steps", type=int, default=200, help="training steps in the memory section (default 200)")
    p.add_argument(
        "--chain-ops",
        type=int,
        nargs=2,
        default=[20_000, 200_000],
        metavar=("SMALL", "BIG"),
        help="chain lengths in ops (default 20000 200000)",
    )
    p.add_argument("--json", metavar="PATH", help="also write every figure and the machine's details here")
    p.add_argument(
        "--tiny",
        action="store_true",
        help="toy sizes, 3 repeats, short batches: checks the harness works in a few seconds",
    )
    args = p.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    args.sections = [s for s in SECTIONS if s in args.sections] if args.sections else list(SECTIONS)
    if REFERENCE not in args.contenders:
        args.contenders = [REFERENCE, *args.contenders]
    if args.tiny:
        args.sizes, args.repeats, args.batch_seconds, args.warmup_steps = ["tiny"], 3, 0.002, 1
        args.memory_steps, args.chain_ops = min(args.memory_steps, 5), [200, 2000]
    if args.repeats < 1 or args.memory_steps < 1:
        p.error("--repeats and --memory-steps must be >= 1")
    if not 2 <= args.chain_ops[0] < args.chain_ops[1]:
        p.error("--chain-ops SMALL BIG: need 2 <= SMALL < BIG")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections, print their tables, write --json. Returns 1 if a check failed."""
    args = parse_args(argv)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    threads = numpy_blas_threads()
    if torch is not None:
        # The same thread budget as numpy's BLAS, so the comparison is library against library.
        torch.set_num_threads(threads or os.cpu_count() or 1)
    machine = machine_info()
    print(
        f"machine: {machine['cpu_model']}, {machine['usable_cores']} usable cores, load average "
        f"{machine['load_average'][0]:.2f}; python {machine['python']}, numpy {np.__version__} "
        f"(BLAS threads {threads}), torch {machine['torch']} (threads {machine['torch_threads']}), "
        f"mygrad {machine['mygrad']}"
    )
    report: dict[str, Any] = {
        "schema": 1,
        "argv": sys.argv[1:] if argv is None else list(argv),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "machine": machine,
    }
    runners = {
        "step": run_step_section,
        "chain": run_chain_section,
        "memory": run_memory_section,
        "overhead": run_overhead_section,
        "scalar": run_scalar_section,
        "transformer": run_transformer_section,
        "conv": run_conv_section,
    }
    printers = {
        "step": print_step_table,
        "chain": print_chain_table,
        "memory": print_memory_table,
        "overhead": print_overhead_table,
        "scalar": print_scalar_table,
        "transformer": print_transformer_table,
        "conv": print_conv_table,
    }
    started = time.perf_counter()
    # Everything imported so far (torch alone is ~10^5 objects) goes to a generation the
    # garbage collector never scans: otherwise every full collection while the engine runs
    # would walk torch's objects, slowing the engine only because torch was imported.
    gc.collect()
    gc.freeze()
    try:
        for section in args.sections:
            report[section] = runners[section](args, log)
            printers[section](report[section])
    finally:
        gc.unfreeze()
    report["seconds"] = time.perf_counter() - started
    report["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    failed = [
        f"step {e['size']}/{e['dtype']}" for e in report.get("step", {}).get("results", []) if not e["check"]["agree"]
    ]
    for name in ("scalar", "transformer", "conv"):  # a skipped section has no check, and fails none
        if not report.get(name, {}).get("check", {}).get("agree", True):
            failed.append(name)
    report["checks_passed"] = not failed
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))
        log(f"wrote {args.json}")
    if failed:
        print(f"\nCHECK FAILED: results disagree with the reference's in {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
