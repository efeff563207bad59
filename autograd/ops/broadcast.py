"""Broadcasting: forward's broadcast_to and the engine's un-broadcasting sum_to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..function import Context, Function, Grad, is_tensor

if TYPE_CHECKING:
    from ..tensor import Tensor


class BroadcastTo(Function):
    """y = x repeated along broadcast axes;  dL/dx = dL/dy summed over them (by the engine)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, shape: tuple[int, ...]) -> np.ndarray:
        try:
            np.broadcast_shapes(x.shape, shape)  # numpy's rules: (1, 3) does not go to (3,)
            if len(shape) < x.ndim:
                raise ValueError
        except ValueError:
            raise ValueError(f"cannot broadcast shape {x.shape} to {tuple(shape)}") from None
        return _broadcast_array(x.data, shape)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None]:
        return grad, None  # the engine's sum_to sums it back to x's shape


def _broadcast_array(a: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` repeated to ``shape``, as a real (writable) array: quicker than np.broadcast_to here."""
    if not isinstance(a, (np.ndarray, np.generic)):  # a value autograd.compile traces: one call
        return a.call(_broadcast_array, a, shape)
    out = np.empty(shape, dtype=a.dtype)
    out[...] = a
    return out


def broadcast_to(g: Any, shape: tuple[int, ...]) -> Any:
    """``g`` repeated to ``shape``: the op on a Tensor, a new array on an array."""
    if is_tensor(g):
        return g.broadcast_to(shape)
    return _broadcast_array(g, shape) if np.shape(g) != shape else g


class SumTo(Function):
    """y = x summed over the axes broadcasting added or stretched, giving ``shape``;  dy/dx = 1

    The engine's un-broadcasting step (``sum_to``) is this op on Tensors, so it too can be
    differentiated again: its backward broadcasts the gradient back out.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, axes: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = x.shape
        return x.data.sum(axis=axes).reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None, None]:
        return broadcast_to(grad, ctx.in_shape), None, None


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``.

    If forward broadcast an input of shape (3,) to (4, 3), its gradient arrives as (4, 3)
    and the 4 copies' gradients add up: sum over axis 0. This is the one place gradients are
    un-broadcast (the engine calls it); on Tensors it is the op ``SumTo``.
    """
    axes = summed_axes(g.shape, shape)
    if is_tensor(g):
        return SumTo.apply(g, axes, shape)
    if len(axes) == len(g.shape) - len(shape):  # only leading axes were added: the sum has the shape
        return g.sum(axis=axes)
    return g.sum(axis=axes).reshape(shape)


def summed_axes(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``grad_shape`` that broadcasting added (leading) or stretched (from 1)."""
    lead = len(grad_shape) - len(shape)
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n == 1 and grad_shape[lead + i] != 1:
            axes.append(lead + i)
    return tuple(axes)
