"""Every op: forward (numpy) and backward side by side.

Each docstring states the math. Backward returns one gradient per argument of forward,
in the *output's* broadcast shape if that is easier: the engine sums it back to the
input's shape. Each backward is one formula written with operations that numpy arrays and
Tensors share: in a plain ``backward()`` it runs on arrays (numpy's speed, nothing
recorded); under ``create_graph=True`` on Tensors, so every gradient here can be
differentiated again. Masks such as ``x > 0`` are constants: their derivative is zero
wherever it exists.

Families: arithmetic, matmul, elementwise functions, reductions, shape and indexing,
selection (where, maximum, minimum, clip), softmax.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from . import function
from .function import _GUARDED, Context, Function, as_tensor, is_tensor, value_of
from .mode import mode

if TYPE_CHECKING:
    from .tensor import Tensor

Axis = int | tuple[int, ...] | None
Grad = Any  # a gradient: a numpy array in a plain backward, a Tensor under create_graph


# ----------------------------------------------------------------------------- arithmetic


class Add(Function):
    """c = a + b;  dc/da = 1,  dc/db = 1"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        return a.data + b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, Grad]:
        return grad, grad


class Sub(Function):
    """c = a - b;  dc/da = 1,  dc/db = -1"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        return a.data - b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, Grad | None]:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """b = -a;  db/da = -1"""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> np.ndarray:
        return -a.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return -grad


class Mul(Function):
    """c = a * b;  dc/da = b,  dc/db = a"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a.data * b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad | None, Grad | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """c = a / b;  dc/da = 1 / b,  dc/db = -a / b**2"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a.data / b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad | None, Grad | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


class Pow(Function):
    """c = a ** b;  dc/da = b * a**(b - 1),  dc/db = a**b * log(a)

    For a Tensor exponent (``x ** 3`` with a number is ``PowScalar``). dc/da is 0 where
    b == 0 (also at a == 0). As in PyTorch, dc/db is taken as 0 where a == 0 and b >= 0
    (a**b is flat in b there, or the limit is 0), and is NaN for a negative base (log(a) is
    undefined).
    """

    save_output = True

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.power(a.data, b.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:  # at a == b == 0, a**(b - 1) is inf: use base 1 there (times b = 0)
            base = np.where((a == 0) & (b == 0), 1.0, a)
            grad_a = grad * b * base ** (b - 1)
        if need_b:  # log(1) = 0 where the gradient is taken as 0
            safe_a = np.where((a == 0) & (b >= 0), 1.0, a)
            with np.errstate(invalid="ignore"):  # log of a negative base is NaN, as documented
                grad_b = grad * ctx.output * np.log(safe_a)
        return grad_a, grad_b


class PowScalar(Function):
    """y = x ** c for a number c;  dy/dx = c * x**(c - 1)

    Small integer powers are multiplies (``x**2`` is ``x * x``, its derivative ``2 * x``):
    exact, and much faster than numpy's general power. dy/dx is 0 for c == 0.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, c: float) -> np.ndarray:
        ctx.save_for_backward(x)
        return _power(x.data, c) if c != 1 else x.data.copy()

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None]:
        (x,) = ctx.saved_tensors
        c = ctx.inputs[1]
        if c == 0:  # flat: x**(c - 1) would be inf at 0
            return grad * np.zeros_like(x), None
        return grad * (c * _power(x, c - 1)), None


def _power(x: Any, c: float) -> Any:
    """x ** c, by multiplies for c = 2 and 3 (works on arrays and Tensors alike)."""
    if c == 1 and not is_tensor(x):  # on Tensors x ** 1 stays an op: its derivatives exist (and are 0)
        return x
    if c == 2:
        return x * x
    if c == 3:
        return x * x * x
    return x**c


# ----------------------------------------------------------------------------- matmul


class MatMul(Function):
    """C = A @ B;  dL/dA = dL/dC @ B^T,  dL/dB = A^T @ dL/dC

    Works like ``np.matmul``: 2-D, 1-D (a vector is a row on the left, a column on the
    right) and batched with broadcast batch dimensions, which the engine sums back.
    """

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a.data, b.data)
        except ValueError:
            raise ValueError(_matmul_mismatch(a.shape, b.shape)) from None

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad | None, Grad | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case, read straight from the math
            return (grad @ b.T if need_a else None), (a.T @ grad if need_b else None)
        if a.ndim > 1 and b.ndim > 1:  # batched: transpose the last two axes
            grad_a = grad @ b.swapaxes(-1, -2) if need_a else None
            grad_b = a.swapaxes(-1, -2) @ grad if need_b else None
            return grad_a, grad_b
        # A vector is promoted to a matrix (row on the left, column on the right), and the
        # gradient loses that axis again.
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
        if b.ndim == 1:
            g2 = g2.reshape(g2.shape + (1,))
        grad_a = grad_b = None
        if need_a:
            grad_a = g2 @ b2.swapaxes(-1, -2)
            if a.ndim == 1:
                grad_a = grad_a.reshape(grad_a.shape[:-2] + grad_a.shape[-1:])
        if need_b:
            grad_b = a2.swapaxes(-1, -2) @ g2
            if b.ndim == 1:
                grad_b = grad_b.reshape(grad_b.shape[:-1])
        return grad_a, grad_b


def _matmul_mismatch(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """Why np.matmul refused shapes ``a`` and ``b``, and what to do."""
    if len(a) == 0 or len(b) == 0:
        return f"matmul needs at least 1-D operands, got shapes {a} and {b}; use * to multiply by a scalar"
    which = "second-to-last" if len(b) > 1 else "only"
    inner_b = b[-2] if len(b) > 1 else b[0]
    if a[-1] != inner_b:
        return (
            f"shapes {a} and {b} are not aligned: the last axis of the left ({a[-1]}) must equal "
            f"the {which} axis of the right ({inner_b}); transpose or reshape one operand"
        )
    return f"the batch dimensions of shapes {a} and {b} do not broadcast together"


# ----------------------------------------------------------------------------- elementwise


class Exp(Function):
    """y = e^x;  dy/dx = e^x = y"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.exp(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return grad * ctx.output


class Log(Function):
    """y = ln x;  dy/dx = 1 / x"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.sqrt(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return grad / (ctx.output * 2.0)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y**2"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.tanh(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        y = ctx.output
        return grad * (1.0 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y).

    Computed from e = e^-|x| as 1 / (1 + e) for x >= 0 and e / (1 + e) below: no overflow,
    and full relative precision for very negative x (sigmoid(-40) is 4.2e-18, not 0).
    """

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        e = np.exp(-np.abs(x.data))
        return np.where(x.data >= 0, 1.0, e) / (1.0 + e)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        y = ctx.output
        return grad * (y * (1.0 - y))


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0 (0 at x == 0, as in PyTorch and the source)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.maximum(x.data, 0)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Any:
        (x,) = ctx.saved_tensors
        return grad * (x > 0)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at x == 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.abs(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Cast(Function):
    """y = x as another dtype;  dL/dx = dL/dy cast back to x's dtype"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, dtype: np.dtype) -> np.ndarray:
        ctx.in_dtype = x.dtype
        return x.data.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        return grad.astype(ctx.in_dtype), None


# ----------------------------------------------------------------------------- reductions


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


# ----------------------------------------------------------------------------- shape and indexing


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


# ----------------------------------------------------------------------------- selection


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
    def apply(cls, ufunc: np.ufunc, *args: Any) -> Tensor:  # type: ignore[override]
        enabled = mode.enabled
        if enabled is _GUARDED or mode.tracer is not None:
            args = tuple([a._inner if type(a) is function._guard_class else a for a in args])
        mode.enabled = False
        try:
            return super().apply(ufunc, *args)
        finally:
            mode.enabled = enabled

    @staticmethod
    def forward(ctx: Context, ufunc: np.ufunc, *xs: Tensor) -> np.ndarray:
        return ufunc(*[x.data for x in xs])

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[None, ...]:
        raise RuntimeError("ValueOp is never recorded")  # pragma: no cover


# ----------------------------------------------------------------------------- softmax


class Softmax(Function):
    """y = e^x / sum(e^x) along axis;  dL/dx = y * (g - sum(g * y))  (stable: x - max(x) first)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: int) -> np.ndarray:
        ctx.axis = axis
        if x.data.size == 0:  # nothing to normalise: an empty result (max of nothing is undefined)
            return x.data.copy()
        e = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        y = ctx.output
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True)), None


class LogSoftmax(Function):
    """y = x - log(sum(e^x)) along axis;  dL/dx = g - e^y * sum(g)  (stable: x - max(x) first)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: int) -> np.ndarray:
        ctx.axis = axis
        if x.data.size == 0:
            return x.data.copy()
        shifted = x.data - x.data.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        y = ctx.output
        return grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True), None


# ----------------------------------------------------------------------------- functional forms


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a if cond else b`` (broadcasting); ``cond`` is a bool array or Tensor."""
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
