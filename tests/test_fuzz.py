"""Fuzzing whole programs: random sequences of ops, checked against numpy, central differences and PyTorch.

Hypothesis draws a *program*: 1-3 float64 input tensors of mutually broadcastable shapes (or,
a quarter of the time, shapes that fit ``np.matmul``) and a sequence of 1-8 ops, each
applied to values computed so far (inputs or earlier results).
Every value that no later op consumes ("dangling") enters the loss as ``sum(w * v)`` with
fixed weights ``w``, so every op's output reaches the scalar loss. The program is data (a
list of ``Step``s) and one interpreter runs it on any of three backends through the per-op
translation table ``OPS`` (engine Tensors, plain numpy, PyTorch). For each program:

1. value: every intermediate and the loss equal the same program run in plain numpy;
2. gradient: the engine's ``.grad`` of every input that requires grad equals central
   differences of the *numpy* program (independent of the engine);
3. PyTorch (when importable): every value and every gradient equals PyTorch's, float64,
   the gradients of the intermediate values (``retain_grad``) included; and
   ``autograd.grad`` gives exactly what ``backward`` gives.

Kinks and ties (relu, abs, clip, where, max/min, maximum/minimum) are kept away from by
rejection: the numpy interpreter records, at every such op, which side of its kink/tie each
element is on (its *signature*) and the distance to the nearest kink/tie it is not exactly
on. A draw is rejected if that distance is below GAP, or if the signature at any point
where central differences evaluate the program differs from the one at the base point. Exact
ties that survive every perturbation are *structural* (``maximum(v, v)``, ``stack([v, v])``
then ``max``, a relu output of 0 that stays 0): the tied entries are the same function of the
inputs, so any split of the gradient among them is right, and those draws are kept on purpose.
Inputs are distinct by construction (see ``programs``), since duplicate input values would
make non-structural exact ties (they are caught by the signature check anyway).

Singular ops are made safe by construction: divisors, log/sqrt arguments and the bases of
non-integer powers are ``v*v + 1 >= 1``; exp and everything else are bounded by rejecting a
draw whose intermediate values leave [-VMAX, VMAX] (so exp's input is at most log(VMAX)).

Tolerances. Each is derived from a worst-case rounding estimate below, and checked against
what the fuzzer sees: the largest error observed over ~50,000 programs is noted too. A wrong
gradient is typically off by O(1), orders of magnitude above any of them.

* Gradient vs central differences. The differences are taken in extended precision where
  numpy has it (x87 long double on x86-64 Linux, unit roundoff u = 5.4e-20), with step
  H = 1e-4 and Richardson extrapolation D = (4 D(H) - D(2H)) / 3:
  - truncation: H**4 / 30 |f^(5)| = 3e-18 |f^(5)|; even |f^(5)| = 1e5 (x**9 at the bound
    VMAX, the worst the op set reaches) gives 3e-13;
  - rounding: D errs by <= 1.5 delta / H, where delta is the rounding error of one loss
    evaluation: <= u * (sum over the ~1e3 elementary operations of |result| * |d loss /
    d result|) <= u * 1e3 * VMAX * VMAX = 5.4e-13, so <= 8e-9;
  - the engine's own float64 gradient: the same sum with u = 1.1e-16, <= 1.1e-9.
  GRAD_ATOL = GRAD_RTOL = 1e-7 is >= 10x the sum of these worst cases; observed: 3e-13.
  Without extended precision (long double == double: Windows, macOS on arm) the rounding
  term is 1.7e-5 and the tolerance is FD_FALLBACK_TOL = 1e-4.
* Engine vs numpy values, float64 both, formulas possibly different (sigmoid via tanh,
  softmax shifted by its max, matmul through BLAS or not): per value <= u * (chain of <= 30
  ops) * (amplification <= VMAX) ~ 3e-13 relative; VALUE_TOL = 1e-10; observed: 2e-15.
* Engine vs PyTorch gradients, float64 both, analytic: the two engines' rounding bounds
  added, <= 2.2e-9; TORCH_GRAD_TOL = 1e-8; observed: 1e-15.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import Tensor

try:  # optional: CI installs it; the comparisons with PyTorch are skipped without it
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

import strategies as S

# ----------------------------------------------------------------------------- constants

VMAX = 1e2  # every intermediate value must stay in [-VMAX, VMAX] (else the draw is rejected)
GAP = 1e-6  # minimum distance to a kink/tie not exactly on it: >> float64 rounding of values
#            <= VMAX (~1e-13), so every backend, whatever its rounding, takes the same branch
MAX_SIZE = 64  # largest intermediate (elements): keeps central differences cheap

FD_DTYPE = np.longdouble if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps else np.float64
H = 1e-4  # central-difference step (with Richardson extrapolation, see the module docstring)
FD_FALLBACK_TOL = 1e-4
GRAD_ATOL = GRAD_RTOL = 1e-7 if FD_DTYPE is not np.float64 else FD_FALLBACK_TOL
VALUE_TOL = 1e-10
TORCH_GRAD_TOL = 1e-8


# ----------------------------------------------------------------------------- kinks and ties


class Kinks:
    """Recorded by the numpy interpreter at every op with a kink or tie.

    ``signature``: per op, which side of its kink/tie each element is on (-1/0/+1, or the set
    of tied extremes). ``margin``: the smallest distance from an element to a kink/tie it
    is not exactly on (exact ones are judged by the signature's stability instead).
    """

    def __init__(self) -> None:
        self.signature: list[np.ndarray] = []
        self.margin = math.inf

    def sign(self, v: np.ndarray, at: float = 0.0) -> None:  # relu, abs, where's condition, clip
        d = np.asarray(v - at)
        self._record(np.sign(d), np.abs(d))

    def compare(self, a: np.ndarray, b: np.ndarray) -> None:  # maximum / minimum: tie at a == b
        d = np.asarray(a - b)
        self._record(np.sign(d), np.abs(d))

    def extreme(self, v: np.ndarray, axis: Any, reduce: Callable) -> None:  # max / min reductions
        e = reduce(v, axis=axis, keepdims=True)
        hits = v == e
        self.signature.append(np.asarray(hits))
        gaps = np.abs(v - e)[~hits]
        if gaps.size:
            self.margin = min(self.margin, float(gaps.min()))

    def _record(self, side: np.ndarray, distance: np.ndarray) -> None:
        self.signature.append(side)
        off = distance[side != 0]
        if off.size:
            self.margin = min(self.margin, float(off.min()))

    def same_as(self, other: Kinks) -> bool:
        return len(self.signature) == len(other.signature) and all(
            np.array_equal(a, b) for a, b in zip(self.signature, other.signature)
        )


# ----------------------------------------------------------------------------- the op table


@dataclass(frozen=True)
class Op:
    """One op in three backends. ``np`` gets the Kinks recorder first; all get the operand
    values, then the step's parameters as keywords."""

    kind: str  # how operands and parameters are drawn (see ``_draw_step``)
    ag: Callable[..., Any]
    np: Callable[..., Any]
    torch: Callable[..., Any]


def _np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _np_softmax(a, axis):  # the plain formula (no shift): exact enough for |a| <= VMAX = 100
    e = np.exp(a)
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(a, axis):
    return a - np.log(np.exp(a).sum(axis=axis, keepdims=True))


def _np_clip(K, a, lo, hi):
    for bound in (lo, hi):
        if bound is not None:
            K.sign(a, bound)
    return np.clip(a, lo, hi)


def _np_extreme(K, a, axis, keepdims, reduce):
    K.extreme(a, axis, reduce)
    return reduce(a, axis=axis, keepdims=keepdims)


def _t_dims(a, axis):
    """numpy's axis as torch's dim: None is every axis; () reduces nothing (torch: everything)."""
    if axis is None:
        return tuple(range(a.ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _t_reduce(name):
    def run(a, axis, keepdims):
        dims = _t_dims(a, axis)
        if dims == ():  # numpy's axis=() reduces nothing; torch's dim=() would reduce everything
            return a.clone()  # a new tensor, as ours is (retain_grad keeps its own gradient)
        return getattr(torch, name)(a, dim=dims, keepdim=keepdims)

    return run


def _t_index(index):
    """A numpy index as torch takes it: arrays become tensors."""
    parts = index if isinstance(index, tuple) else (index,)
    out = tuple(torch.as_tensor(p) if isinstance(p, np.ndarray) else p for p in parts)
    return out if isinstance(index, tuple) else out[0]


def _t_transpose(a, axes):
    return a.permute(tuple(reversed(range(a.ndim))) if axes is None else axes)


def _gram_np(K, a):
    return np.asarray(a @ np.swapaxes(a, -1, -2) if a.ndim > 1 else a @ a)


OPS: dict[str, Op] = {
    # arithmetic; divisors and non-integer powers' bases are v*v + 1 >= 1
    "add": Op("binary", lambda a, b: a + b, lambda K, a, b: a + b, lambda a, b: a + b),
    "sub": Op("binary", lambda a, b: a - b, lambda K, a, b: a - b, lambda a, b: a - b),
    "mul": Op("binary", lambda a, b: a * b, lambda K, a, b: a * b, lambda a, b: a * b),
    "div": Op("binary", lambda a, b: a / (b * b + 1), lambda K, a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "pow_tensor": Op(
        "binary", lambda a, b: (a * a + 1) ** b, lambda K, a, b: (a * a + 1) ** b, lambda a, b: (a * a + 1) ** b
    ),
    "neg": Op("unary", lambda a: -a, lambda K, a: -a, lambda a: -a),
    "pow_int": Op("pow_int", lambda a, p: a**p, lambda K, a, p: np.power(a, p), lambda a, p: a**p),
    "pow_pos": Op(
        "pow_pos", lambda a, p: (a * a + 1) ** p, lambda K, a, p: (a * a + 1) ** p, lambda a, p: (a * a + 1) ** p
    ),
    # a Python number on either side (the reflected operators)
    "add_scalar": Op("scalar", lambda a, c: a + c, lambda K, a, c: a + c, lambda a, c: a + c),
    "rsub_scalar": Op("scalar", lambda a, c: c - a, lambda K, a, c: c - a, lambda a, c: c - a),
    "rmul_scalar": Op("scalar", lambda a, c: c * a, lambda K, a, c: c * a, lambda a, c: c * a),
    "div_scalar": Op("scalar_nonzero", lambda a, c: a / c, lambda K, a, c: a / c, lambda a, c: a / c),
    "rdiv_scalar": Op(
        "scalar", lambda a, c: c / (a * a + 1), lambda K, a, c: c / (a * a + 1), lambda a, c: c / (a * a + 1)
    ),
    "rpow_scalar": Op("scalar_pos", lambda a, c: c**a, lambda K, a, c: np.power(c, a), lambda a, c: c**a),
    "matmul": Op("matmul", lambda a, b: a @ b, lambda K, a, b: np.asarray(a @ b), lambda a, b: a @ b),
    "gram": Op(  # a @ a^T (a . a for a vector): @ is always possible this way
        "gram_operand",
        lambda a: a @ (a.swapaxes(-1, -2) if a.ndim > 1 else a),
        _gram_np,
        lambda a: a @ (a.transpose(-1, -2) if a.ndim > 1 else a),
    ),
    # elementwise functions
    "relu": Op("unary", lambda a: a.relu(), lambda K, a: (K.sign(a), np.maximum(a, 0))[1], lambda a: torch.relu(a)),
    "abs": Op("unary", lambda a: abs(a), lambda K, a: (K.sign(a), np.abs(a))[1], lambda a: a.abs()),
    "exp": Op("unary", lambda a: a.exp(), lambda K, a: np.exp(a), lambda a: a.exp()),
    "log": Op("unary", lambda a: (a * a + 1).log(), lambda K, a: np.log(a * a + 1), lambda a: (a * a + 1).log()),
    "sqrt": Op("unary", lambda a: (a * a + 1).sqrt(), lambda K, a: np.sqrt(a * a + 1), lambda a: (a * a + 1).sqrt()),
    "tanh": Op("unary", lambda a: a.tanh(), lambda K, a: np.tanh(a), lambda a: a.tanh()),
    "sigmoid": Op("unary", lambda a: a.sigmoid(), lambda K, a: _np_sigmoid(a), lambda a: a.sigmoid()),
    # reductions
    "sum": Op(
        "reduce",
        lambda a, axis, keepdims: a.sum(axis=axis, keepdims=keepdims),
        lambda K, a, axis, keepdims: np.asarray(a.sum(axis=axis, keepdims=keepdims)),
        lambda a, axis, keepdims: _t_reduce("sum")(a, axis, keepdims),
    ),
    "mean": Op(
        "reduce",
        lambda a, axis, keepdims: a.mean(axis=axis, keepdims=keepdims),
        lambda K, a, axis, keepdims: np.asarray(a.mean(axis=axis, keepdims=keepdims)),
        lambda a, axis, keepdims: _t_reduce("mean")(a, axis, keepdims),
    ),
    "max": Op(
        "reduce",
        lambda a, axis, keepdims: a.max(axis=axis, keepdims=keepdims),
        lambda K, a, axis, keepdims: np.asarray(_np_extreme(K, a, axis, keepdims, np.max)),
        lambda a, axis, keepdims: _t_reduce("amax")(a, axis, keepdims),  # amax: ties share, as ours
    ),
    "min": Op(
        "reduce",
        lambda a, axis, keepdims: a.min(axis=axis, keepdims=keepdims),
        lambda K, a, axis, keepdims: np.asarray(_np_extreme(K, a, axis, keepdims, np.min)),
        lambda a, axis, keepdims: _t_reduce("amin")(a, axis, keepdims),
    ),
    # shape and indexing
    "reshape": Op(
        "reshape",
        lambda a, shape: a.reshape(shape),
        lambda K, a, shape: a.reshape(shape),
        lambda a, shape: a.reshape(shape),
    ),
    "transpose": Op(
        "transpose",
        lambda a, axes: a.transpose(axes) if axes is not None else a.transpose(),
        lambda K, a, axes: np.transpose(a, axes),
        _t_transpose,
    ),
    "swapaxes": Op(
        "swapaxes",
        lambda a, axes: a.swapaxes(*axes),
        lambda K, a, axes: np.swapaxes(a, *axes),
        lambda a, axes: a.transpose(*axes),
    ),
    "broadcast_to": Op(
        "broadcast_to",
        lambda a, shape: a.broadcast_to(shape),
        lambda K, a, shape: np.broadcast_to(a, shape),
        lambda a, shape: a.broadcast_to(shape),
    ),
    "index": Op(
        "index",
        lambda a, index: a[index],
        lambda K, a, index: np.asarray(a[index]),
        lambda a, index: a[_t_index(index)],
    ),
    "concatenate": Op(
        "concatenate",
        lambda *xs, axis: ag.concatenate(xs, axis=axis),
        lambda K, *xs, axis: np.concatenate(xs, axis=axis),
        lambda *xs, axis: torch.cat(xs, dim=axis),
    ),
    "stack": Op(
        "stack",
        lambda *xs, axis: ag.stack(xs, axis=axis),
        lambda K, *xs, axis: np.stack(xs, axis=axis),
        lambda *xs, axis: torch.stack(xs, dim=axis),
    ),
    # selection
    "where": Op(
        "ternary",
        lambda c, a, b: ag.where(c > 0, a, b),
        lambda K, c, a, b: (K.sign(c), np.where(c > 0, a, b))[1],
        lambda c, a, b: torch.where(c > 0, a, b),
    ),
    "maximum": Op(
        "binary",
        lambda a, b: ag.maximum(a, b),
        lambda K, a, b: (K.compare(a, b), np.maximum(a, b))[1],
        lambda a, b: torch.maximum(a, b),
    ),
    "minimum": Op(
        "binary",
        lambda a, b: a.minimum(b),
        lambda K, a, b: (K.compare(a, b), np.minimum(a, b))[1],
        lambda a, b: torch.minimum(a, b),
    ),
    "maximum_scalar": Op(
        "scalar",
        lambda a, c: a.maximum(c),
        lambda K, a, c: (K.sign(a, c), np.maximum(a, c))[1],
        lambda a, c: torch.maximum(a, torch.tensor(c, dtype=a.dtype)),  # clamp_min gives 1 at ties, not 1/2
    ),
    "minimum_scalar": Op(
        "scalar",
        lambda a, c: ag.minimum(c, a),
        lambda K, a, c: (K.sign(a, c), np.minimum(c, a))[1],
        lambda a, c: torch.minimum(torch.tensor(c, dtype=a.dtype), a),
    ),
    "where_scalar": Op(  # a Python number as one branch
        "binary_scalar",
        lambda c, a, s: ag.where(c > 0, a, s),
        lambda K, c, a, s: (K.sign(c), np.where(c > 0, a, s))[1],
        lambda c, a, s: torch.where(c > 0, a, s),
    ),
    "clip": Op(
        "clip",
        lambda a, lo, hi: a.clip(lo, hi),
        _np_clip,
        lambda a, lo, hi: torch.clamp(a, lo, hi),
    ),
    # softmax
    "softmax": Op(
        "softmax",
        lambda a, axis: a.softmax(axis),
        lambda K, a, axis: _np_softmax(a, axis),
        lambda a, axis: torch.softmax(a, dim=axis),
    ),
    "log_softmax": Op(
        "softmax",
        lambda a, axis: a.log_softmax(axis),
        lambda K, a, axis: _np_log_softmax(a, axis),
        lambda a, axis: torch.log_softmax(a, dim=axis),
    ),
}


# ----------------------------------------------------------------------------- programs


@dataclass
class Step:
    op: str
    args: tuple[int, ...]  # indices of earlier values (inputs first)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Program:
    inputs: list[np.ndarray]
    requires_grad: list[bool]
    steps: list[Step]
    weights: dict[int, np.ndarray]  # loss = sum over these values v_i of sum(weights[i] * v_i)

    def __repr__(self) -> str:
        with np.printoptions(floatmode="unique", threshold=10_000):
            lines = ["Program:"]
            for i, (x, rg) in enumerate(zip(self.inputs, self.requires_grad)):
                lines.append(f"  v{i} = {np.array2string(x, separator=', ')!s}  # requires_grad={rg}")
            n = len(self.inputs)
            for k, s in enumerate(self.steps):
                args = ", ".join(f"v{i}" for i in s.args)
                params = "".join(f", {key}={value!r}" for key, value in s.params.items())
                lines.append(f"  v{n + k} = {s.op}({args}{params})")
            terms = " + ".join(f"sum(w{i} * v{i})" for i in self.weights)
            lines.append(f"  loss = {terms}")
            for i, w in self.weights.items():
                lines.append(f"  w{i} = {np.array2string(w, separator=', ')}")
        return "\n".join(lines)


def run(program: Program, backend: str, inputs: list[Any], kinks: Kinks | None = None) -> tuple[list[Any], Any]:
    """Run ``program`` on ``inputs`` (engine Tensors, numpy arrays or torch tensors): every value, and the loss."""
    values = list(inputs)
    for step in program.steps:
        fn = getattr(OPS[step.op], backend)
        operands = [values[i] for i in step.args]
        values.append(fn(kinks, *operands, **step.params) if backend == "np" else fn(*operands, **step.params))
    loss = None
    for i, w in program.weights.items():
        if backend == "torch":
            term = (values[i] * torch.as_tensor(w)).sum()
        elif backend == "np":
            term = (values[i] * w.astype(values[i].dtype)).sum()
        else:
            term = (values[i] * w).sum()
        loss = term if loss is None else loss + term
    return values, loss


def _shape_of(op: str, args: list[tuple[int, ...]], params: dict[str, Any]) -> tuple[int, ...] | None:
    """The op's output shape for operands of these shapes, or None if numpy refuses them."""
    try:
        with np.errstate(all="ignore"):
            out = OPS[op].np(Kinks(), *[np.ones(s) for s in args], **params)
    except (ValueError, IndexError, TypeError):
        return None
    return np.shape(out)


def _broadcasts(*shapes: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


@st.composite
def _index(draw: Any, shape: tuple[int, ...]) -> Any:
    """A non-empty index of one of three forms: basic (ints, positive-step slices, None,
    Ellipsis), one integer array (repeats allowed) on one axis, or a boolean mask."""
    ndim = len(shape)
    form = draw(st.sampled_from(["basic", "array", "mask"] if ndim else ["basic"]))
    if form == "array":
        axis = draw(st.integers(0, ndim - 1))
        n = shape[axis]
        picks = draw(hnp.arrays(np.int64, st.integers(1, 4), elements=st.integers(-n, n - 1)))
        return (slice(None),) * axis + (picks,)
    if form == "mask":
        k = draw(st.integers(1, ndim))
        mask = draw(hnp.arrays(np.bool_, shape[:k]))
        if not mask.any():
            mask.flat[draw(st.integers(0, mask.size - 1))] = True
        return mask
    k = draw(st.integers(0, ndim))
    trailing = draw(st.booleans())  # with a leading Ellipsis, the parts index the last k axes
    axes = range(ndim - k, ndim) if trailing else range(k)
    parts: list[Any] = []
    for ax in axes:
        n = shape[ax]
        if draw(st.booleans()):
            parts.append(draw(st.integers(-n, n - 1)))
        else:
            start = draw(st.integers(0, n - 1))
            stop = draw(st.integers(start + 1, n))
            parts.append(slice(start, stop, draw(st.integers(1, 2))))
    if trailing:
        parts.insert(0, Ellipsis)
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts)


def _draw_step(draw: Any, op: str, shapes: list[tuple[int, ...]]) -> Step | None:
    """Operands (from values of ``shapes``) and parameters for ``op``, or None if it can't apply."""
    kind = OPS[op].kind
    n = len(shapes)

    # Operands are counted back from the newest value, so shrinking favours chains.
    def pick(choices):
        return draw(st.sampled_from(choices))

    a = n - 1 - draw(st.integers(0, n - 1))
    sa = shapes[a]
    if kind == "unary":
        return Step(op, (a,))
    if kind == "pow_int":
        return Step(op, (a,), {"p": pick(POW_INT_EXPONENTS)})
    if kind == "pow_pos":
        return Step(op, (a,), {"p": pick([0.5, -0.5, 1.5, -1.0, -2.0, 2.5])})
    if kind in ("scalar", "scalar_nonzero", "scalar_pos"):
        lo = 0.5 if kind == "scalar_pos" else -2.0
        c = draw(S.floats(lo, 3.0))
        if kind == "scalar_nonzero" and abs(c) < 0.5:
            c = 0.5 if c >= 0 else -0.5
        return Step(op, (a,), {"c": c})
    if kind == "binary":
        b = pick([i for i in range(n) if _broadcasts(sa, shapes[i])])
        return Step(op, (a, b))
    if kind == "binary_scalar":
        b = pick([i for i in range(n) if _broadcasts(sa, shapes[i])])
        return Step(op, (a, b), {"s": draw(S.floats(-2.0, 2.0))})
    if kind == "ternary":
        b = pick([i for i in range(n) if _broadcasts(sa, shapes[i])])
        c = pick([i for i in range(n) if _broadcasts(sa, shapes[b], shapes[i])])
        return Step(op, (a, b, c))
    if kind == "matmul":
        partners = [i for i in range(n) if _shape_of("matmul", [sa, shapes[i]], {}) is not None]
        return Step(op, (a, pick(partners))) if partners else None
    if kind == "gram_operand":
        return Step(op, (a,)) if sa else None
    if kind == "reduce":
        return Step(op, (a,), {"axis": draw(S.axes(len(sa))), "keepdims": draw(st.booleans())})
    if kind == "reshape":
        return Step(op, (a,), {"shape": draw(S.reshape_targets(sa))})
    if kind == "transpose":
        # None (reverse every axis) a quarter of the time; else any permutation (3-cycles too)
        axes = None if draw(st.integers(0, 3)) == 0 else tuple(draw(st.permutations(range(len(sa)))))
        return Step(op, (a,), {"axes": axes})
    if kind == "swapaxes":
        return Step(op, (a,), {"axes": (draw(S.single_axis(len(sa))), draw(S.single_axis(len(sa))))}) if sa else None
    if kind == "broadcast_to":
        # Prepend up to 2 axes, and stretch axes of length 1.
        lead = draw(st.lists(st.integers(1, 3), max_size=2))
        shape = tuple(lead) + tuple(draw(st.integers(1, 3)) if d == 1 else d for d in sa)
        return Step(op, (a,), {"shape": shape})
    if kind == "index":
        return Step(op, (a,), {"index": draw(_index(sa))})
    if kind == "concatenate":
        if not sa:
            return None
        axis = draw(S.single_axis(len(sa)))
        ax = axis % len(sa)
        fits = [
            i
            for i in range(n)
            if len(shapes[i]) == len(sa) and all(x == y for d, (x, y) in enumerate(zip(shapes[i], sa)) if d != ax)
        ]
        others = draw(st.lists(st.sampled_from(fits), min_size=1, max_size=2))
        return Step(op, (a, *others), {"axis": axis})
    if kind == "stack":
        axis = draw(st.integers(-len(sa) - 1, len(sa)))
        others = draw(st.lists(st.sampled_from([i for i in range(n) if shapes[i] == sa]), min_size=1, max_size=2))
        return Step(op, (a, *others), {"axis": axis})
    if kind == "clip":
        lo = draw(st.one_of(st.none(), S.floats(-2.0, 0.5)))
        hi = draw(st.one_of(st.none(), S.floats(0.6, 2.0))) if lo is not None else draw(S.floats(0.6, 2.0))
        return Step(op, (a,), {"lo": lo, "hi": hi})
    if kind == "softmax":
        return Step(op, (a,), {"axis": draw(S.single_axis(len(sa)))}) if sa else None
    raise AssertionError(kind)


# 0 included: x ** 0 at x == 0 is the first bug the fuzzer found (see the regression tests).
POW_INT_EXPONENTS = [0, 1, 2, 3]

# Grid step of the distinct input values (see ``programs``): pairwise gaps >= GRID / 2.
GRID = 0.04


@st.composite
def programs(draw: Any, ops: tuple[str, ...] = tuple(OPS)) -> Program:
    n_inputs = draw(st.integers(1, 3))
    if n_inputs > 1 and draw(st.integers(0, 3)) == 0:
        # A quarter of the time the first two inputs fit np.matmul (1-D operands and a
        # broadcast batch axis included); mutually broadcastable shapes rarely do.
        pair = draw(
            hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=1, min_side=1, max_side=3)
        ).input_shapes
        shapes = [*pair, pair[0]][:n_inputs]
    else:
        shapes = list(
            draw(
                hnp.mutually_broadcastable_shapes(num_shapes=n_inputs, min_dims=0, max_dims=3, min_side=1, max_side=3)
            ).input_shapes
        )
    n_steps = draw(st.integers(1, 8))
    steps: list[Step] = []
    consumed: set[int] = set()
    for _ in range(n_steps):
        for _attempt in range(5):
            step = _draw_step(draw, draw(st.sampled_from(ops)), shapes)
            out = None if step is None else _shape_of(step.op, [shapes[i] for i in step.args], step.params)
            if out is not None and 1 <= math.prod(out) <= MAX_SIZE:
                break
        else:
            step = Step("tanh", (len(shapes) - 1,))
            out = shapes[-1]
        steps.append(step)
        consumed.update(step.args)
        shapes.append(tuple(out))
    # Distinct inputs, by construction: distinct integers on a grid of step GRID, each
    # moved by its own jitter in [0, GRID / 2), so values are pairwise >= GRID / 2 apart
    # and sums of different elements are generically not equal either.
    sizes = [math.prod(s) for s in shapes[:n_inputs]]
    total = sum(sizes)
    grid = draw(hnp.arrays(np.int64, total, elements=st.integers(-50, 50), unique=True))
    jitter = draw(hnp.arrays(np.float64, total, elements=S.floats(0.0, 0.49)))
    flat = (grid + jitter) * GRID
    bounds = np.cumsum([0] + sizes)
    inputs = [flat[lo:hi].reshape(s) for lo, hi, s in zip(bounds[:-1], bounds[1:], shapes)]
    requires_grad = draw(st.lists(st.booleans(), min_size=n_inputs, max_size=n_inputs))
    if not any(requires_grad):
        requires_grad[draw(st.integers(0, n_inputs - 1))] = True
    dangling = [i for i in range(len(shapes)) if i not in consumed]
    weights = {i: draw(S.arrays(shapes[i], S.floats(-1.0, 1.0))) for i in dangling}
    return Program(inputs, requires_grad, steps, weights)


# ----------------------------------------------------------------------------- checking a program


def _numpy_run(program: Program, inputs: list[np.ndarray]) -> tuple[list[np.ndarray], float, Kinks]:
    kinks = Kinks()
    with np.errstate(all="ignore"):  # overflow etc. is judged below, not warned about
        values, loss = run(program, "np", inputs, kinks)
    return values, loss, kinks


def _central_differences(program: Program, base: Kinks) -> list[np.ndarray | None]:
    """d loss / d input, element by element, in FD_DTYPE: Richardson-extrapolated central
    differences (4 D(H) - D(2H)) / 3. Rejects the draw if any evaluation point lies on the
    other side of a kink or tie than the base point."""
    inputs = [x.astype(FD_DTYPE) for x in program.inputs]
    grads: list[np.ndarray | None] = []
    for i, x in enumerate(inputs):
        if not program.requires_grad[i]:
            grads.append(None)
            continue
        g = np.zeros(x.shape, dtype=FD_DTYPE)
        for k in np.ndindex(*x.shape):
            original = x[k]
            slopes = []
            for h in (H, 2 * H):
                f = []
                for point in (original + h, original - h):
                    x[k] = point
                    _, loss, kinks = _numpy_run(program, inputs)
                    if not kinks.same_as(base):
                        reject()  # a kink or non-structural tie within 2H: not differentiable here
                    f.append(loss)
                x[k] = original
                slopes.append((f[0] - f[1]) / ((original + h) - (original - h)))
            g[k] = (4 * slopes[0] - slopes[1]) / 3
        grads.append(g)
    return grads


def check_program(program: Program) -> None:
    """The three properties of the module docstring, for one program."""
    if currently_in_test_context():
        note(repr(program))  # shown with the falsifying example
    # The reference run decides whether the draw is usable at all.
    ref_values, ref_loss, ref_kinks = _numpy_run(program, program.inputs)
    for v in ref_values:
        if not (np.all(np.isfinite(v)) and np.all(np.abs(v) <= VMAX)):
            reject()  # outside the range the tolerances assume
    if ref_kinks.margin < GAP:
        reject()  # within GAP of a kink or tie: backends may round to different sides
    _, _, fd_kinks = _numpy_run(program, [x.astype(FD_DTYPE) for x in program.inputs])
    if not fd_kinks.same_as(ref_kinks):
        reject()

    # 1. values: the engine against numpy
    leaves = [Tensor(x, requires_grad=rg) for x, rg in zip(program.inputs, program.requires_grad)]
    values, loss = run(program, "ag", leaves)
    for k, (got, want) in enumerate(zip(values, ref_values)):
        assert got.shape == want.shape, f"v{k}: shape {got.shape}, numpy gives {want.shape}"
        assert got.dtype == np.float64, f"v{k}: dtype {got.dtype}"
        np.testing.assert_allclose(got.data, want, rtol=VALUE_TOL, atol=VALUE_TOL, err_msg=f"value of v{k}")
    np.testing.assert_allclose(loss.data, ref_loss, rtol=VALUE_TOL, atol=VALUE_TOL, err_msg="loss")

    # 2. gradients: the engine against central differences of the numpy program. The
    # gradients of intermediate values are kept too (retain_grad), for PyTorch to check, and
    # autograd.grad (which walks only the part of the graph between loss and inputs) must
    # give exactly what backward gives. Values that are another value itself (x.T of a
    # vector is x) are left out: PyTorch makes a new view there, with a gradient of its own.
    inner = [
        k
        for k in range(len(leaves), len(values))
        if values[k].requires_grad and not any(values[k] is v for j, v in enumerate(values) if j != k)
    ]
    for k in inner:
        values[k].retain_grad()
    wanted = [leaf for leaf in leaves if leaf.requires_grad] + [values[k] for k in inner]
    if loss.requires_grad:  # False when grad-requiring inputs only feed where's condition
        by_grad = ag.grad(loss, wanted, retain_graph=True, allow_unused=True)
        loss.backward()
        for t, g in zip(wanted, by_grad):
            assert (g is None) == (t.grad is None), "autograd.grad and backward disagree on which get a gradient"
            if g is not None:
                np.testing.assert_array_equal(g.data, t.grad.data, err_msg="autograd.grad vs backward")
    numeric = _central_differences(program, fd_kinks)
    for i, (leaf, want) in enumerate(zip(leaves, numeric)):
        if want is None:
            assert leaf.grad is None, f"v{i} does not require grad but got a .grad"
            continue
        got = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad.data
        assert got.shape == leaf.shape, f"grad of v{i}: shape {got.shape}, input {leaf.shape}"
        np.testing.assert_allclose(
            got, want.astype(np.float64), rtol=GRAD_RTOL, atol=GRAD_ATOL, err_msg=f"grad of v{i} vs central differences"
        )

    # 3. PyTorch, same program, float64
    if torch is None:
        return
    t_leaves = [
        torch.tensor(x, dtype=torch.float64, requires_grad=rg) for x, rg in zip(program.inputs, program.requires_grad)
    ]
    t_values, t_loss = run(program, "torch", t_leaves)
    for k in inner:
        t_values[k].retain_grad()
    for k, (got, want) in enumerate(zip(values, t_values)):
        np.testing.assert_allclose(
            got.data, want.detach().numpy(), rtol=VALUE_TOL, atol=VALUE_TOL, err_msg=f"value of v{k} vs torch"
        )
    if t_loss.requires_grad:
        t_loss.backward()
    for i, (leaf, t_leaf) in enumerate(zip(leaves, t_leaves)):
        got = None if leaf.grad is None else leaf.grad.data
        want = None if t_leaf.grad is None else t_leaf.grad.numpy()
        if got is None or want is None:  # one says "no gradient", the other may say zeros
            assert not np.any(got if got is not None else 0) and not np.any(want if want is not None else 0), (
                f"grad of v{i}: {got} here, {want} in torch"
            )
            continue
        np.testing.assert_allclose(
            got, want, rtol=TORCH_GRAD_TOL, atol=TORCH_GRAD_TOL, err_msg=f"grad of v{i} vs torch"
        )
    for k in inner:
        got = values[k].grad
        want = t_values[k].grad
        assert (got is None) == (want is None), f"retained grad of v{k}: {got} here, {want} in torch"
        if got is not None:
            np.testing.assert_allclose(
                got.data,
                want.numpy(),
                rtol=TORCH_GRAD_TOL,
                atol=TORCH_GRAD_TOL,
                err_msg=f"retained grad of v{k} vs torch",
            )


# ----------------------------------------------------------------------------- the fuzzers

# Ten times the profile's examples (60 in CI, so 600 programs per fuzzer there; a
# program takes ~15 ms): mutations of the engine planted by hand (a transpose backward
# without the inverse permutation, max ties each given the full gradient, np.add.at
# replaced by assignment, log_softmax's sum over every axis) are each caught within that.
FUZZ = settings(
    max_examples=settings.default.max_examples * 10,
    suppress_health_check=[HealthCheck.too_slow],
    deadline=None,
)


@FUZZ
@given(programs())
def test_random_programs_match_numpy_central_differences_and_torch(program):
    check_program(program)


# Ops with kinks or ties, drawn more often: most draws of the general fuzzer spend their
# steps on smooth ops.
KINKY = (
    "relu",
    "abs",
    "max",
    "min",
    "maximum",
    "minimum",
    "maximum_scalar",
    "minimum_scalar",
    "clip",
    "where",
    "where_scalar",
    "concatenate",
    "stack",
    "broadcast_to",
    "index",
    "add",
    "mul",
)


@FUZZ
@given(programs(ops=KINKY))
def test_random_programs_with_kinks_and_ties(program):
    check_program(program)


# Shape ops, drawn more often: their backward must undo the right permutation, axis or index.
SHAPES = (
    "reshape",
    "transpose",
    "swapaxes",
    "broadcast_to",
    "index",
    "concatenate",
    "stack",
    "sum",
    "mean",
    "matmul",
    "gram",
    "mul",
    "add",
    "softmax",
    "log_softmax",
)


@FUZZ
@given(programs(ops=SHAPES))
def test_random_programs_of_shape_ops(program):
    check_program(program)


# ----------------------------------------------------------------------------- regression tests
# Programs the fuzzers found and shrank, as plain tests (no hypothesis).


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_regression_pow_zero_exponent_at_zero_base():
    """Caught by the fuzzer, shrunk to ``v0 = 0.0; v1 = pow_int(v0, p=0); loss = sum(0 * v1)``.

    x ** 0 is 1 for every x (numpy: 0.0 ** 0 == 1), so its derivative is 0 everywhere, and
    PyTorch gives 0. Pow.backward computed grad * b * a ** (b - 1) = 0 * 0 * 0.0 ** -1 =
    0 * inf = NaN at a == 0, whatever the upstream gradient (fixed since, in 7f6c402).
    Zeros are common bases in practice: relu outputs, masked values.
    """
    x = Tensor([0.0, -1.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    h = Tensor([-1.0, 3.0], requires_grad=True)
    (h.relu() ** Tensor(0.0)).sum().backward()  # a tensor exponent goes the same way
    np.testing.assert_array_equal(h.grad.data, [0.0, 0.0])
    if torch is not None:
        t = torch.tensor([0.0, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
        (t**0).sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), x.grad.data)
