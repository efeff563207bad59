"""Selection: where, maximum, minimum, clip, and ValueOp for ops with zero derivative."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import function
from ..function import _GUARDED, Context, Function, Grad, as_tensor, is_tensor, value_of
from ..mode import mode

if TYPE_CHECKING:
    from ..tensor import Tensor


class Where(Function):
    """y = a where cond else b;  dy/da = cond,  dy/db = not cond  (cond is a constant)"""

    @staticmethod
    def forward(ctx: Context, cond: Tensor, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.cond = cond.data.copy()  # changing the mask before backward must not change the gradient
        return np.where(cond.data, a.data, b.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[None, Grad | None, Grad | None]:
        need_a, need_b = ctx.needs_input_grad[1:]
        return (
            None,
            np.where(ctx.cond, grad, 0.0) if need_a else None,
            np.where(ctx.cond, 0.0, grad) if need_b else None,
        )


class Maximum(Function):
    """c = max(a, b) elementwise;  dc/da = 1 where a > b, 0 where a < b, 1/2 at ties (as PyTorch)"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.share_a = (a.data > b.data) + 0.5 * (a.data == b.data)
        return np.maximum(a.data, b.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, Grad]:
        return grad * ctx.share_a, grad * (1.0 - ctx.share_a)


class Minimum(Function):
    """c = min(a, b) elementwise;  dc/da = 1 where a < b, 0 where a > b, 1/2 at ties (as PyTorch)"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.share_a = (a.data < b.data) + 0.5 * (a.data == b.data)
        return np.minimum(a.data, b.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, Grad]:
        return grad * ctx.share_a, grad * (1.0 - ctx.share_a)


class Clip(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi (bounds included, as PyTorch), else 0"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, lo: float | None, hi: float | None) -> np.ndarray:
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside = inside & (x.data >= lo)
        if hi is not None:
            inside = inside & (x.data <= hi)
        ctx.inside = inside
        return np.clip(x.data, lo, hi)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        return grad * ctx.inside, None, None


class ValueOp(Function):
    """y = f(x, ...) for an f whose derivative is zero wherever it exists: comparisons, logic on
    masks, sign, floor, isnan. Computed on values; never recorded (its output needs no grad).
    """

    @classmethod
    def apply(cls, ufunc: Callable[..., Any], *args: Any) -> Tensor:
        enabled = mode.enabled
        if enabled is _GUARDED or mode.tracer is not None:
            args = tuple([a._inner if type(a) is function._guard_class else a for a in args])
        mode.enabled = False
        try:
            return super().apply(ufunc, *args)
        finally:
            mode.enabled = enabled

    @staticmethod
    def forward(ctx: Context, ufunc: Callable[..., Any], *xs: Tensor) -> np.ndarray:
        return ufunc(*[x.data for x in xs])

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[None, ...]:
        raise RuntimeError("ValueOp is never recorded")  # pragma: no cover


_ONE_ARGUMENT: Any = object()  # where(cond) alone: PyTorch's and numpy's nonzero


def where(cond: Any, a: Any = _ONE_ARGUMENT, b: Any = _ONE_ARGUMENT) -> Tensor:
    """Elementwise ``a if cond else b`` (broadcasting); ``cond`` is a bool array or Tensor."""
    if a is _ONE_ARGUMENT or b is _ONE_ARGUMENT:
        if a is not _ONE_ARGUMENT or b is not _ONE_ARGUMENT:
            raise TypeError("where(cond, a, b) takes both a and b: the values where cond is True and where it is False")
        raise TypeError(
            "where(cond) with one argument is PyTorch's (and numpy's) nonzero: write np.nonzero(cond.data) here "
            "(a tuple of index arrays); where(cond, a, b) chooses elementwise"
        )
    if not is_tensor(cond) or cond.dtype != bool:
        cond = as_tensor(np.asarray(value_of(cond) if is_tensor(cond) else cond, dtype=bool))
    like = a if is_tensor(a) else b if is_tensor(b) else None
    return Where.apply(cond, as_tensor(a, like, "where"), as_tensor(b, like, "where"))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of a and b (broadcasting); ties split the gradient in half."""
    like = a if is_tensor(a) else b if is_tensor(b) else None
    return Maximum.apply(as_tensor(a, like, "maximum"), as_tensor(b, like, "maximum"))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum of a and b (broadcasting); ties split the gradient in half."""
    like = a if is_tensor(a) else b if is_tensor(b) else None
    return Minimum.apply(as_tensor(a, like, "minimum"), as_tensor(b, like, "minimum"))
