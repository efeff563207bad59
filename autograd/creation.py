"""Tensor factories: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``, ``eye``,
the ``*_like`` forms, and random ones (``rand``, ``randn``, ``randint``, ``normal``, ``multinomial``).

numpy's rules and names: float factories give float64 unless ``dtype`` says otherwise,
``full`` and ``arange`` take their dtype from their values as numpy does, ``linspace`` counts
with ``num``. Shapes are written ``zeros(2, 3)`` or ``zeros((2, 3))``. Every factory takes
``requires_grad`` (floating-point dtypes only: a gradient is a rate of change). Random
functions draw from ``rng`` (an ``np.random.Generator``) or, when it is None, from the
library-wide generator that ``manual_seed`` seeds (see ``autograd.random``).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .function import refuse_torch_keywords
from .random import manual_seed, resolve
from .tensor import Tensor

__all__ = [
    "arange",
    "empty",
    "eye",
    "full",
    "full_like",
    "linspace",
    "manual_seed",
    "multinomial",
    "normal",
    "ones",
    "ones_like",
    "rand",
    "randint",
    "randn",
    "tensor",
    "zeros",
    "zeros_like",
]

Shape = tuple[int, ...]


# ----------------------------------------------------------------------------- helpers


def _shape(op: str, shape: Sequence[Any]) -> Shape:
    """``(2, 3)`` from ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros([2, 3])``; () from ``zeros()``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _size(op, shape)


def _shape_keyword(op: str, shape: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """numpy's ``zeros(shape=(2, 3))`` is the shape; PyTorch's ``size=`` and others are refused."""
    if "shape" in kwargs and not shape:
        kwargs = dict(kwargs)
        shape = (kwargs.pop("shape"),)
    if kwargs:
        _refuse_shape_keyword(op, kwargs)
    return shape


def _refuse_shape_keyword(op: str, kwargs: dict[str, Any]) -> None:
    """``zeros(size=(2, 3))`` (PyTorch's) or ``zeros(shape=(2, 3))`` (numpy's): the shape is positional here."""
    for key in kwargs:
        if key in ("size", "shape"):
            raise TypeError(f"{op}: the shape is positional here, not {key}=: write {op}(2, 3) or {op}((2, 3))")
    refuse_torch_keywords(op, kwargs)


def _size(op: str, size: Any) -> Shape:
    """A shape given as an int or a sequence of ints (``size=`` of the random functions)."""
    sizes = (size,) if not isinstance(size, (tuple, list)) else tuple(size)
    try:
        if any(isinstance(n, (bool, np.bool_)) for n in sizes):
            raise TypeError
        out = tuple(operator.index(n) for n in sizes)
    except TypeError:
        raise TypeError(f"{op}: a shape is made of integers, got {size!r}") from None
    if any(n < 0 for n in out):
        raise ValueError(f"{op}: a shape cannot hold negative sizes, got {out}")
    return out


def _dtype(op: str, dtype: Any, default: Any) -> np.dtype:
    try:
        dt = np.dtype(default if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a numpy dtype (write np.float64, np.float32, np.int64...)") from None
    if dt.kind not in "biuf":
        raise TypeError(f"{op}: dtype {dt} is not a real number type; a Tensor holds bool, int or float")
    return dt


def _wrap(op: str, array: np.ndarray, requires_grad: bool) -> Tensor:
    """A leaf Tensor around ``array`` (not copied), after checking ``requires_grad`` fits its dtype."""
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(
            f"{op}: requires_grad=True needs a floating-point dtype, and this one is {array.dtype}: a gradient "
            "is a rate of change, which integers and bools cannot have. Pass dtype=np.float64 (or float32)."
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: dtype {array.dtype} is not a real number type; a Tensor holds bool, int or float")
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_()
    return t


def _array_of(t: Any) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


# ----------------------------------------------------------------------------- from values


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf Tensor holding a copy of ``data`` (a number, nested lists, an array or a Tensor).

    Same as ``Tensor(data, requires_grad=requires_grad, dtype=dtype)``: numpy's dtype rules
    (Python floats give float64, ints int64); a Tensor given is copied and detached.
    """
    array = np.array(_array_of(data) if isinstance(data, Tensor) else data, dtype=dtype)
    return _wrap("tensor", array, requires_grad)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False, **torch_spelling: Any) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``; float64 unless ``dtype`` is given."""
    if torch_spelling:
        shape = _shape_keyword("zeros", shape, torch_spelling)
    return _wrap("zeros", np.zeros(_shape("zeros", shape), dtype=_dtype("zeros", dtype, np.float64)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False, **torch_spelling: Any) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``; float64 unless ``dtype`` is given."""
    if torch_spelling:
        shape = _shape_keyword("ones", shape, torch_spelling)
    return _wrap("ones", np.ones(_shape("ones", shape), dtype=_dtype("ones", dtype, np.float64)), requires_grad)


def empty(*shape: Any, dtype: Any = None, requires_grad: bool = False, **torch_spelling: Any) -> Tensor:
    """A tensor whose values are whatever the memory held (``np.empty``): fill it before reading."""
    if torch_spelling:
        shape = _shape_keyword("empty", shape, torch_spelling)
    return _wrap("empty", np.empty(_shape("empty", shape), dtype=_dtype("empty", dtype, np.float64)), requires_grad)


def full(
    shape: Any = None, fill_value: Any = None, dtype: Any = None, requires_grad: bool = False, **torch_spelling: Any
) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``; the dtype is ``fill_value``'s as numpy's
    ``np.full`` gives it (3 -> int64, 3.0 -> float64, True -> bool) unless ``dtype`` is given."""
    if "size" in torch_spelling:
        raise TypeError("full: size= is PyTorch's keyword; write full(shape, fill_value) here (numpy's np.full)")
    if torch_spelling:
        refuse_torch_keywords("full", torch_spelling)
    if shape is None or fill_value is None:
        raise TypeError("full() needs a shape and a fill_value: full((2, 3), 7.0)")
    value = _array_of(fill_value)
    if value.ndim:
        raise ValueError(f"full: fill_value must be a single number, got an array of shape {value.shape}")
    dt = _dtype("full", dtype, value.dtype)
    return _wrap("full", np.full(_size("full", shape), value, dtype=dt), requires_grad)


def arange(
    start: float | None = None,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    **torch_spelling: Any,
) -> Tensor:
    """Evenly spaced values in [start, stop) by ``step``, as ``np.arange``: ``arange(5)`` is 0..4.

    The dtype follows numpy: int64 when start, stop and step are all integers, float64 otherwise.
    ``arange(stop=5)`` is ``arange(5)``, as numpy's; PyTorch's ``end=`` is ``stop=`` here.
    """
    if torch_spelling:
        refuse_torch_keywords("arange", torch_spelling)
    if start is None:
        if stop is None:
            raise TypeError("arange() missing 1 required argument: 'start' (arange(5) is 0..4)")
        start, stop = stop, None
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    array = np.arange(start, stop, step, dtype=None if dtype is None else _dtype("arange", dtype, None))
    return _wrap("arange", array, requires_grad)


def linspace(
    start: float,
    stop: float,
    num: int = 50,
    endpoint: bool = True,
    dtype: Any = None,
    requires_grad: bool = False,
    **torch_spelling: Any,
) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included if ``endpoint``), as
    ``np.linspace``; float64 unless ``dtype`` is given. PyTorch's ``steps=`` is numpy's ``num=``."""
    if "steps" in torch_spelling:
        raise TypeError("linspace: steps= is PyTorch's spelling; write num= here (numpy's)")
    if "end" in torch_spelling:
        raise TypeError("linspace: end= is PyTorch's spelling; write stop= here (numpy's)")
    if torch_spelling:
        raise TypeError(f"linspace() got an unexpected keyword argument {next(iter(torch_spelling))!r}")
    (num,) = _size("linspace", num)
    array = np.linspace(start, stop, num, endpoint=endpoint, dtype=_dtype("linspace", dtype, np.float64))
    return _wrap("linspace", array, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The (n, m) matrix with ones on the diagonal and zeros elsewhere (m defaults to n)."""
    n, m = _size("eye", (n, n if m is None else m))
    return _wrap("eye", np.eye(n, m, dtype=_dtype("eye", dtype, np.float64)), requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and (unless ``dtype`` is given) dtype."""
    like = _array_of(t)
    return _wrap("zeros_like", np.zeros(like.shape, dtype=_dtype("zeros_like", dtype, like.dtype)), requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and (unless ``dtype`` is given) dtype."""
    like = _array_of(t)
    return _wrap("ones_like", np.ones(like.shape, dtype=_dtype("ones_like", dtype, like.dtype)), requires_grad)


def full_like(t: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``t``'s shape and (unless ``dtype`` is given) dtype, as ``np.full_like``
    (so ``full_like(int_tensor, 2.7)`` holds 2)."""
    like = _array_of(t)
    value = _array_of(fill_value)
    if value.ndim:
        raise ValueError(f"full_like: fill_value must be a single number, got an array of shape {value.shape}")
    dt = _dtype("full_like", dtype, like.dtype)
    return _wrap("full_like", np.full(like.shape, value, dtype=dt), requires_grad)


# ----------------------------------------------------------------------------- random


def _float_dtype(op: str, dtype: Any) -> np.dtype:
    dt = _dtype(op, dtype, np.float64)
    if dt.kind != "f":
        raise TypeError(f"{op}: draws real numbers, so dtype must be floating-point, got {dt}")
    return dt


def rand(
    *shape: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
    **torch_spelling: Any,
) -> Tensor:
    """Uniform samples from [0, 1): ``rand(2, 3)`` or ``rand((2, 3))``; float64 unless ``dtype`` is given."""
    if torch_spelling:
        _refuse_shape_keyword("rand", torch_spelling)
    size, dt, gen = _shape("rand", shape), _float_dtype("rand", dtype), resolve(rng, "rand")
    if dt in (np.float32, np.float64):
        array = gen.random(size, dtype=dt)
    else:  # float16: round the float64 draw, keeping it below 1
        array = np.minimum(gen.random(size).astype(dt), np.nextafter(dt.type(1), dt.type(0)))
    return _wrap("rand", np.asarray(array), requires_grad)


def randn(
    *shape: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
    **torch_spelling: Any,
) -> Tensor:
    """Standard normal samples (mean 0, variance 1): ``randn(2, 3)`` or ``randn((2, 3))``."""
    if torch_spelling:
        _refuse_shape_keyword("randn", torch_spelling)
    size, dt, gen = _shape("randn", shape), _float_dtype("randn", dtype), resolve(rng, "randn")
    if dt in (np.float32, np.float64):
        array = gen.standard_normal(size, dtype=dt)
    else:
        array = gen.standard_normal(size).astype(dt)
    return _wrap("randn", np.asarray(array), requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Any = (),
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high) (from [0, low) when ``high`` is None), int64 by default.

    ``randint(10, size=(3,))`` or ``randint(5, 10, size=(2, 2))``.
    """
    if high is None:
        low, high = 0, low
    try:
        low, high = operator.index(low), operator.index(high)
    except TypeError:
        if isinstance(high, (tuple, list)):  # PyTorch's randint(high, size)
            raise TypeError(
                f"randint({low!r}, {high!r}): the second argument is high here (numpy's order: randint(low, "
                f"high=None, size=())); give the shape by keyword: randint({low!r}, size={high!r})"
            ) from None
        raise TypeError(f"randint: low and high must be integers, got {low!r} and {high!r}") from None
    if high <= low:
        raise ValueError(f"randint: needs low < high, got low={low}, high={high} (the range [low, high) is empty)")
    dt = _dtype("randint", dtype, np.int64)
    gen = resolve(rng, "randint")
    if dt.kind in "iu":
        array = gen.integers(low, high, _size("randint", size), dtype=dt)
    else:  # torch.randint(..., dtype=float) gives whole numbers as floats
        array = gen.integers(low, high, _size("randint", size)).astype(dt)
    return _wrap("randint", np.asarray(array), requires_grad)


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = (),
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Samples from N(mean, std**2). ``mean`` and ``std`` may be numbers or arrays; the result's shape
    is ``size`` broadcast with theirs (``normal(np.zeros(3), 2.0)`` has shape (3,))."""
    mean_a, std_a = np.asarray(_array_of(mean), dtype=np.float64), np.asarray(_array_of(std), dtype=np.float64)
    if np.any(std_a < 0) or not np.all(np.isfinite(std_a)):
        raise ValueError(f"normal: std must be finite and >= 0, got {std!r}")
    try:
        shape = np.broadcast_shapes(mean_a.shape, std_a.shape, _size("normal", size))
    except ValueError:
        raise ValueError(
            f"normal: mean of shape {mean_a.shape}, std of shape {std_a.shape} and size {size!r} do not broadcast"
        ) from None
    dt = _float_dtype("normal", dtype)
    array = resolve(rng, "normal").normal(mean_a, std_a, shape)
    return _wrap("normal", np.asarray(array, dtype=dt), requires_grad)


def multinomial(
    probs: Any, num_samples: int, replacement: bool = False, rng: np.random.Generator | None = None
) -> Tensor:
    """Category indices drawn with weights ``probs``, PyTorch's ``torch.multinomial``.

    ``probs`` is 1-D (n categories) or 2-D (one distribution per row), of non-negative finite
    weights that need not sum to 1 (each row is divided by its sum). The result is an int64
    Tensor of shape (num_samples,) or (rows, num_samples). Without replacement the samples of
    a row are distinct: each is drawn from the categories not drawn yet, with their weights
    renormalised, so ``num_samples`` can be at most the number of non-zero weights (torch on
    CPU would then return categories of weight 0; this raises ValueError instead).
    """
    p = np.asarray(_array_of(probs))
    if p.dtype.kind not in "biuf":
        raise TypeError(f"multinomial: probs must be numbers, got dtype {p.dtype}")
    if p.ndim not in (1, 2):
        raise ValueError(f"multinomial: probs must be 1-D or 2-D (rows of weights), got shape {p.shape}")
    if isinstance(num_samples, (bool, np.bool_)):
        raise TypeError(f"multinomial: num_samples must be an integer, got {num_samples!r}")
    try:
        k = operator.index(num_samples)
    except TypeError:
        raise TypeError(f"multinomial: num_samples must be an integer, got {num_samples!r}") from None
    if k <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {k}")
    rows = np.atleast_2d(p).astype(np.float64)
    if rows.shape[1] == 0:
        raise ValueError(f"multinomial: probs of shape {p.shape} has no categories")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("multinomial: probs must be finite and non-negative (weights, not log-probabilities)")
    totals = rows.sum(axis=1)
    if np.any(totals <= 0):
        bad = int(np.flatnonzero(totals <= 0)[0])
        raise ValueError(f"multinomial: the weights of row {bad} sum to 0; every row needs a positive weight")
    gen = resolve(rng, "multinomial")
    if replacement:
        cdf = np.cumsum(rows, axis=1) / totals[:, None]
        cdf[:, -1] = 1.0  # u < 1 always lands in a category
        u = gen.random((rows.shape[0], k))
        # the first category whose cumulative weight exceeds u: a zero-weight one never does first
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        nonzero = int((rows > 0).sum(axis=1).min())
        if k > nonzero:
            raise ValueError(
                f"multinomial: cannot draw {k} samples without replacement from a row with only {nonzero} "
                "non-zero weights; pass replacement=True or ask for fewer"
            )
        # Sequential draws without replacement = sorting the keys E_i / w_i, E_i ~ Exp(1), in
        # increasing order (the smallest of independent exponentials with rates w_i is category i
        # with probability w_i / sum(w); the rest are again exponentials, by memorylessness).
        with np.errstate(divide="ignore"):
            keys = gen.standard_exponential(rows.shape) / rows  # zero weight -> inf: never drawn
        out = np.argsort(keys, axis=1, kind="stable")[:, :k]
    out = out.astype(np.int64)
    return _wrap("multinomial", out[0] if p.ndim == 1 else out, False)
