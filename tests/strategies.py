"""Shared hypothesis strategies for the autograd tests.

Everything here draws float64 numpy arrays with *bounded* values and small shapes. The
bounds matter: the gradient tests compare autograd with float64 central differences, whose
error (truncation ~ eps**2 * |f'''|, rounding ~ |f| * 1e-16 / eps) is only small when the
values, and so the function and its derivatives, stay moderate. Strategies that keep
values away from kinks (relu, abs, clip), ties (max, min, maximum, minimum) or
singularities (log, sqrt, division, pow) say how far, and why, where they are defined.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Shapes stay small: a central-difference check costs two evaluations per element, and
# 3 axes of at most 3 already cover scalars, vectors, matrices and batches.
MAX_DIMS = 3
MAX_SIDE = 3

# Central differences move each input by at most 1e-6 (FD_EPS in the tests: one element by
# +-eps, or all of them by +-eps * u with |u| <= 1). A value at least KINK_GAP from a kink,
# a tie or a bound therefore stays on its side of it, with a factor 1e4 to spare.
KINK_GAP = 0.01


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Finite float64 values in [lo, hi]."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)


def away_from_zero(lo: float = KINK_GAP, hi: float = 3.0) -> st.SearchStrategy[float]:
    """Values with lo <= |x| <= hi, of either sign (away from the kink of relu/abs at 0,
    and from the pole of 1/x)."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE):
    """Array shapes, 0-d included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape: Any, elements: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` (a tuple or a strategy), values in [-3, 3] by default."""
    return hnp.arrays(np.float64, shape, elements=floats(-3.0, 3.0) if elements is None else elements)


def weights(shape: Any) -> st.SearchStrategy[np.ndarray]:
    """The v of a scalar sum(v * f(x)): values in [-1, 1], so |sum| stays small."""
    return arrays(shape, floats(-1.0, 1.0))


def distinct_arrays(shape: Any, lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays whose elements are pairwise at least 2 * KINK_GAP apart (no ties).

    Drawn as distinct integers on a grid of step 2 * KINK_GAP, plus a jitter shared by
    the whole array (so values are not all on the grid, yet gaps are kept exactly).
    """
    step = 2 * KINK_GAP
    n_lo, n_hi = int(np.ceil(lo / step)), int(np.floor(hi / step)) - 1

    @st.composite
    def build(draw: Any) -> np.ndarray:
        shp = draw(shape) if isinstance(shape, st.SearchStrategy) else shape
        grid = draw(hnp.arrays(np.int64, shp, elements=st.integers(n_lo, n_hi), unique=True))
        jitter = draw(floats(0.0, step / 2))
        return grid.astype(np.float64) * step + jitter

    return build()


def broadcastable_pairs(min_dims: int = 0, max_dims: int = MAX_DIMS, num_shapes: int = 2):
    """``num_shapes`` shapes that broadcast together (``.input_shapes``, ``.result_shape``)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=MAX_SIDE
    )


def matmul_shapes():
    """Operand shapes for ``np.matmul``: 1-D and 2-D operands, with broadcast batch dims."""
    return hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, min_side=1, max_side=MAX_SIDE)


def axes(ndim: int) -> st.SearchStrategy[Any]:
    """An ``axis`` argument for a reduction over an ``ndim``-d array: None, an int
    (negative ones too) or a tuple of distinct axes (possibly empty)."""
    choices: list[st.SearchStrategy[Any]] = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim > 0:
        choices.append(st.integers(-ndim, ndim - 1))
    return st.one_of(*choices)


def single_axis(ndim: int) -> st.SearchStrategy[int]:
    """One valid axis of an ``ndim``-d array (ndim >= 1), negative ones included."""
    return st.integers(-ndim, ndim - 1)


@st.composite
def reshape_targets(draw: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A new shape with as many elements as ``shape``, sometimes written with one -1."""
    size = int(np.prod(shape))
    factors: list[int] = []
    rest = size
    for p in (2, 3, 5, 7):
        while rest % p == 0:
            factors.append(p)
            rest //= p
    factors += [rest] if rest > 1 else []
    factors = list(draw(st.permutations(factors)))
    ndim = draw(st.integers(0 if size == 1 else 1, max(1, len(factors)) + 1))
    dims = [1] * ndim
    for f in factors:  # deal the prime factors out to the new axes
        dims[draw(st.integers(0, ndim - 1))] *= f
    if dims and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@st.composite
def bool_masks(draw: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A bool mask over the first k axes of ``shape`` (k >= 1): ``x[mask]``."""
    k = draw(st.integers(1, len(shape)))
    return draw(hnp.arrays(np.bool_, shape[:k]))
