"""Reductions: sum, mean, max, min over axes (with keepdims)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..function import Axis, Context, Function, Grad
from .broadcast import broadcast_to

if TYPE_CHECKING:
    from ..tensor import Tensor


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """The reduced axes as non-negative ints (all of them for ``None``)."""
    if axis is None:
        return tuple(range(ndim))
    return normalize_axis_tuple(axis, ndim)


def _kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """``shape`` with the reduced axes kept as 1, as ``keepdims=True`` gives."""
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad: Tensor, ctx: Context) -> Tensor:
    """A reduction's gradient, copied back over the axes it reduced (x's shape).

    With the reduced axes kept as 1 (``keepdims``) it broadcasts straight back; without, the
    reduced axes are put back as 1 first, unless they were leading ones (broadcasting adds
    those by itself).
    """
    in_shape, axis = ctx.in_shape, ctx.axis
    if not ctx.keepdims and axis is not None:
        kept = _kept_shape(in_shape, axis)
        if grad.shape != kept[len(kept) - grad.ndim :]:
            grad = grad.reshape(kept)
    return broadcast_to(grad, in_shape)


class Sum(Function):
    """y = sum of x over axes;  dy/dx = 1: the gradient is spread back over the summed axes"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: Axis, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.data.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        return _spread(grad, ctx), None, None


class Mean(Function):
    """y = sum(x) / n over axes;  dy/dx = 1 / n"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: Axis, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        out = x.data.mean(axis=axis, keepdims=keepdims)
        ctx.count = x.data.size // max(np.size(out), 1)  # elements averaged into each output
        return out

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        return _spread(grad, ctx) / ctx.count, None, None


class _Extreme(Function):
    """y = max (or min) of x over axes;  dy/dx = 1 at the extreme, 0 elsewhere.

    Ties share the gradient equally (as ``torch.amax`` does): with k equal maxima each gets 1/k.
    """

    reduce = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx: Context, x: Tensor, axis: Axis, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        kept = cls.reduce(x.data, axis=axis, keepdims=True)
        hits = x.data == kept
        ctx.share = hits / hits.sum(axis=axis, keepdims=True)
        return kept if keepdims else kept.reshape(_reduced_shape(x.shape, axis))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        return _spread(grad, ctx) * ctx.share, None, None


def _reduced_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    axes = _axes(axis, len(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


class Max(_Extreme):
    __doc__ = _Extreme.__doc__
    reduce = staticmethod(np.max)


class Min(_Extreme):
    __doc__ = _Extreme.__doc__.replace("max (or min)", "min (or max)")
    reduce = staticmethod(np.min)
