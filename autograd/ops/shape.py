"""Shape and indexing: reshape, transpose, x[index], concatenate, stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..function import Context, Function, Grad, as_tensor, is_tensor, value_of

if TYPE_CHECKING:
    from ..tensor import Tensor


class Reshape(Function):
    """y = x with a new shape, same elements;  dL/dx = dL/dy reshaped back"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, shape: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = x.shape
        return x.data.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        return grad.reshape(ctx.in_shape), None


class Transpose(Function):
    """y = x with its axes permuted;  dL/dx = dL/dy with the inverse permutation"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, axes: tuple[int, ...] | None) -> np.ndarray:
        ctx.axes = axes
        return x.data.transpose(axes)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        axes = ctx.axes
        if axes is None:  # reversed axes: reversing again undoes it
            return grad.transpose(), None
        inverse = tuple(int(i) for i in np.argsort(normalize_axis_tuple(axes, grad.ndim)))
        return grad.transpose(inverse), None


def _index_add(g: Any, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """zeros(shape) with ``g`` added at ``index`` (repeated indices add up)."""
    if not isinstance(g, (np.ndarray, np.generic)):  # a value autograd.compile traces: one call
        return g.call(_index_add, g, index, shape)
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _frozen(index: Any) -> Any:
    """The index with its arrays copied (backward must use the index forward used)."""
    if isinstance(index, tuple):
        return tuple(i.copy() if isinstance(i, np.ndarray) else i for i in index)
    return index.copy() if isinstance(index, np.ndarray) else index


def _plain_index(index: Any) -> Any:
    """The index with any Tensor in it replaced by its array."""
    if isinstance(index, tuple):
        return tuple(value_of(i) if is_tensor(i) else i for i in index)
    return value_of(index) if is_tensor(index) else index


def _is_basic(index: Any) -> bool:
    """True for ints, slices, None and Ellipsis only: such an index never repeats an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts)


class GetItem(Function):
    """y = x[index];  dL/dx = zeros with dL/dy added at index (repeated indices add up)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, index: Any) -> np.ndarray:
        ctx.in_shape = x.shape
        # index Tensors (labels) as their arrays, copied: changing them before backward changes nothing
        ctx.index = index = _frozen(_plain_index(index))
        return x.data[index]

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None]:
        if is_tensor(grad):
            return IndexAdd.apply(grad, ctx.index, ctx.in_shape), None
        return _index_add(grad, ctx.index, ctx.in_shape), None


class IndexAdd(Function):
    """y = zeros(shape) with g added at index;  dL/dg = dL/dy[index]  (GetItem's backward)"""

    @staticmethod
    def forward(ctx: Context, g: Tensor, index: Any, shape: tuple[int, ...]) -> np.ndarray:
        return _index_add(g.data, index, shape)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        (_, index, _) = ctx.inputs
        return grad[index], None, None


class Concatenate(Function):
    """y = [x1, x2, ...] joined along axis;  dL/dxi = the slice of dL/dy where xi went"""

    @staticmethod
    def forward(ctx: Context, axis: int, *xs: Tensor) -> np.ndarray:
        out = np.concatenate([x.data for x in xs], axis=axis)
        ctx.axis = normalize_axis_tuple(axis, out.ndim)[0]
        ctx.bounds = np.cumsum([0] + [x.shape[ctx.axis] for x in xs])
        return out

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad | None, ...]:
        lead = (slice(None),) * ctx.axis
        grads = [
            grad[lead + (slice(int(start), int(stop)),)] if need else None
            for start, stop, need in zip(ctx.bounds[:-1], ctx.bounds[1:], ctx.needs_input_grad[1:])
        ]
        return (None, *grads)


class Stack(Function):
    """y = [x1, x2, ...] stacked on a new axis;  dL/dxi = dL/dy[..., i, ...] on that axis"""

    @staticmethod
    def forward(ctx: Context, axis: int, *xs: Tensor) -> np.ndarray:
        out = np.stack([x.data for x in xs], axis=axis)
        ctx.axis = normalize_axis_tuple(axis, out.ndim)[0]
        return out

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad | None, ...]:
        lead = (slice(None),) * ctx.axis
        needs = ctx.needs_input_grad[1:]
        return (None, *(grad[lead + (i,)] if need else None for i, need in enumerate(needs)))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis, like ``np.concatenate``."""
    if len(tensors) == 0:
        raise ValueError("concatenate: needs at least one tensor")
    return Concatenate.apply(axis, *(as_tensor(t, op="concatenate") for t in tensors))


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis, like ``np.stack``."""
    if len(tensors) == 0:
        raise ValueError("stack: needs at least one tensor")
    return Stack.apply(axis, *(as_tensor(t, op="stack") for t in tensors))
