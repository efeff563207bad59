"""Reductions: sum, mean, max, min, var, std, prod, logsumexp, norm over axes (with keepdims);
the running cumsum and cumprod; and argmax, argmin, any, all, which record nothing.

numpy's names and keywords throughout (``axis``, ``keepdims``, ``ddof``, ``ord``); PyTorch's
``dim=``, ``keepdim=``, ``correction=``, ``unbiased=`` are refused with numpy's spelling.
"""

from __future__ import annotations

import builtins  # this module defines any() and all(), as numpy does
import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..function import Axis, Context, Function, Grad, as_tensor, is_tensor, refuse_torch_keywords, value_of
from .broadcast import broadcast_to
from .elementwise import Abs
from .select import ValueOp
from .shape import Reshape

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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any, axis: Any, keepdims: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        t, _, _ = tangents
        return np.sum(np.broadcast_to(t, x.shape), axis=ctx.axis, keepdims=ctx.keepdims)


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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any, axis: Any, keepdims: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        t, _, _ = tangents
        return np.mean(np.broadcast_to(t, x.shape), axis=ctx.axis, keepdims=ctx.keepdims)


class _Extreme(Function):
    """y = max (or min) of x over axes;  dy/dx = 1 at the extreme, 0 elsewhere.

    Ties share the gradient equally (as ``torch.amax`` does): with k equal maxima each gets 1/k.
    """

    reduce: Callable[..., np.ndarray] = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx: Context, x: Tensor, axis: Axis, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        try:
            kept = cls.reduce(x.data, axis=axis, keepdims=True)
        except TypeError:
            if is_tensor(axis) or isinstance(axis, np.ndarray):  # PyTorch's elementwise max(x, y)
                op = "max" if cls.reduce is np.max else "min"
                raise TypeError(
                    f"{op}: x.{op}(y) with a tensor y reads y as the axis here (numpy's {op}(axis)); for "
                    f"PyTorch's elementwise torch.{op}(x, y) write autograd.{op}imum(x, y)"
                ) from None
            raise
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
    __doc__ = (_Extreme.__doc__ or "").replace("max (or min)", "min (or max)")
    reduce = staticmethod(np.min)


# ----------------------------------------------------------------------------- helpers


def _count(shape: tuple[int, ...], axis: Axis) -> int:
    """How many elements of ``shape`` go into each result of a reduction over ``axis``."""
    return math.prod(shape[a] for a in _axes(axis, len(shape)))


def _axis_arg(axis: Any) -> Axis:
    """``axis=[0, 1]`` as numpy takes it: a tuple."""
    return tuple(axis) if isinstance(axis, list) else axis


def _flip(v: Any, axis: int) -> Any:
    """``v`` reversed along ``axis`` (a basic index: works on arrays and Tensors)."""
    if axis < 0:
        return v[(Ellipsis, slice(None, None, -1)) + (slice(None),) * (-1 - axis)]
    return v[(slice(None),) * axis + (slice(None, None, -1),)]


def _cumsum(v: Any, axis: int) -> Any:
    return Cumsum.apply(v, axis) if is_tensor(v) else np.cumsum(v, axis=axis)


def _cumprod(v: Any, axis: int) -> Any:
    return Cumprod.apply(v, axis) if is_tensor(v) else np.cumprod(v, axis=axis)


def _reversed_cumsum(v: Any, axis: int) -> Any:
    """r_j = sum_{k >= j} v_k along ``axis``: cumsum's backward."""
    return _flip(_cumsum(_flip(v, axis), axis), axis)


def _permuted(v: Any, perm: tuple[int, ...]) -> Any:
    return v if perm == tuple(range(len(perm))) else v.transpose(perm)


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(perm))


# ----------------------------------------------------------------------------- var and std


def _inverse_dof(shape: tuple[int, ...], axis: Axis, ddof: float) -> float:
    """1 / (n - ddof), or inf where numpy divides by max(n - ddof, 0) = 0."""
    dof = _count(shape, axis) - ddof
    return 1.0 / dof if dof > 0 else math.inf


class Var(Function):
    """y = sum((x - mean(x))**2) / (n - ddof) over axes;  dy/dx = 2 (x - mean(x)) / (n - ddof)

    numpy's default ``ddof=0`` divides by n; PyTorch's ``var`` defaults to ``correction=1``
    (n - 1): write ``ddof=1`` for its result. With ``ddof >= n`` the value is numpy's (inf,
    or nan where every x is equal, with numpy's "Degrees of freedom <= 0" RuntimeWarning)
    and the gradient is not finite either (inf, or nan where x == mean(x)).
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: Axis, ddof: float, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.scale = 2.0 * _inverse_dof(x.shape, axis, ddof)
        ctx.save_for_backward(x)
        return np.var(x.data, axis=axis, ddof=ddof, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None, None]:
        (x,) = ctx.saved_tensors
        centred = x - x.mean(axis=ctx.axis, keepdims=True)
        return _spread(grad, ctx) * centred * ctx.scale, None, None, None


class Std(Function):
    """y = sqrt(var(x, ddof)) over axes;  dy/dx = (x - mean(x)) / ((n - ddof) y), and 0 where y == 0

    At zero variance (all x equal) the derivative does not exist; the gradient is 0 there,
    as PyTorch's. ``ddof`` as in :class:`Var` (numpy's default 0; PyTorch's default
    ``correction=1`` is ``ddof=1`` here); with ``ddof >= n`` value and gradient are not finite.
    """

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: Axis, ddof: float, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.kept = _kept_shape(x.shape, axis)
        ctx.scale = _inverse_dof(x.shape, axis, ddof)
        ctx.save_for_backward(x)
        out = np.std(x.data, axis=axis, ddof=ddof, keepdims=keepdims)
        ctx.zero = out.reshape(ctx.kept) == 0
        return out

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None, None]:
        (x,) = ctx.saved_tensors
        y = np.where(ctx.zero, 1.0, ctx.output.reshape(ctx.kept))  # 1 where y == 0: masked below
        centred = x - x.mean(axis=ctx.axis, keepdims=True)
        return np.where(ctx.zero, 0.0, _spread(grad, ctx) * centred * ctx.scale / y), None, None, None


# ----------------------------------------------------------------------------- prod and logsumexp


def _others_product(x: Any, axes: tuple[int, ...]) -> Any:
    """For each element, the product of the *other* elements of its slice over ``axes``.

    The reduced axes are moved last and flattened to one of length n; then
    prod_{i != j} x_i = (prod_{i < j} x_i) (prod_{i > j} x_i), two exclusive cumprods: no
    division, so exact where x has zeros, and a polynomial in x (differentiable again).
    """
    ndim = len(x.shape)
    perm = tuple(i for i in range(ndim) if i not in axes) + tuple(axes)
    moved = _permuted(x, perm)
    lead = moved.shape[: ndim - len(axes)]
    flat = moved.reshape(lead + (math.prod(moved.shape[ndim - len(axes) :]),))
    one = np.ones_like(flat[..., :1])
    before = _cumprod(np.concatenate([one, flat[..., :-1]], axis=-1), -1)
    after = _flip(_cumprod(np.concatenate([one, _flip(flat, -1)[..., :-1]], axis=-1), -1), -1)
    return _permuted((before * after).reshape(moved.shape), _inverse(perm))


class Prod(Function):
    """y = prod of x over axes;  dy/dx_j = prod_{i != j} x_i  (exact with zeros: no division by x)

    One zero in a slice: it gets the product of the others, the rest 0. Two or more: all 0.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: Axis, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.axes = _axes(axis, x.ndim)
        ctx.save_for_backward(x)
        return np.prod(x.data, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        (x,) = ctx.saved_tensors
        return _spread(grad, ctx) * _others_product(x, ctx.axes), None, None


class LogSumExp(Function):
    """y = log(sum(e^x)) over axes;  dy/dx = e^(x - y) = softmax(x) over those axes

    Computed as m + log(sum(e^(x - m))) with m = max(x): no overflow at x = 1e3 (or 1e300).
    A slice of nothing (or all -inf) gives -inf, the log of an empty sum, as scipy and PyTorch;
    the gradient there (e^(-inf - -inf)), and where x holds +inf, is NaN, as PyTorch's.
    """

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: Axis, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.kept = _kept_shape(x.shape, axis)
        ctx.save_for_backward(x)
        data = x.data if x.dtype.kind == "f" else x.data.astype(np.float64)
        top = np.max(data, axis=axis, keepdims=True, initial=-np.inf)
        shift = np.where(np.isfinite(top), top, 0.0)  # +-inf and nan are not shifted by
        with np.errstate(divide="ignore"):  # log(0) = -inf: the log of an empty sum
            out = np.log(np.sum(np.exp(data - shift), axis=axis, keepdims=True)) + shift
        return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        (x,) = ctx.saved_tensors
        out = ctx.output.reshape(ctx.kept)
        if type(out) is np.ndarray and np.isinf(out).any():  # -inf - -inf, inf - inf: NaN, numpy would warn
            with np.errstate(invalid="ignore"):
                return _spread(grad, ctx) * np.exp(x - out), None, None
        return _spread(grad, ctx) * np.exp(x - out), None, None


# ----------------------------------------------------------------------------- cumsum and cumprod


def _running_axis(shape: tuple[int, ...], axis: int | None) -> int | None:
    """cumsum's axis as a non-negative int, or None (flattened); a 0-d x is read as 1-d, as numpy."""
    if axis is None:
        return None
    axis = normalize_axis_index(axis, max(len(shape), 1))
    return axis if shape else None


class Cumsum(Function):
    """y_k = sum_{i <= k} x_i along axis (of x flattened for axis=None);  dL/dx_i = sum_{k >= i} g_k"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: int | None) -> np.ndarray:
        ctx.in_shape = x.shape
        ctx.axis = _running_axis(x.shape, axis)
        return np.cumsum(x.data, axis=ctx.axis)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        if ctx.axis is None:
            return _reversed_cumsum(grad, 0).reshape(ctx.in_shape), None
        return _reversed_cumsum(grad, ctx.axis), None


def _tiny(dtype: np.dtype) -> float:
    """|x| below this is "zero" to cumprod's backward: dividing by larger x keeps 1/x**2 finite."""
    return float(np.sqrt(np.finfo(dtype).tiny)) if dtype.kind == "f" else 1.0


class Cumprod(Function):
    """y_k = prod_{i <= k} x_i along axis (x flattened for axis=None);  dL/dx_j = sum_{k >= j} g_k prod_{i <= k, i != j} x_i

    Exact where x has zeros. The sum is reversed_cumsum(g y)_j / x_j where x_j != 0 (0 after a
    zero of the slice, as it should); at the first zero z it is reversed_cumsum(g y')_z with y'
    the cumprod of x with x_z set to 1; at later zeros, 0. |x| below ~1e-154 (float32: 1e-19)
    counts as a zero here, so that nothing is divided by a number whose square underflows
    (PyTorch divides by it and loses the subnormal's digits). Under ``create_graph=True``, when
    a slice has such a zero, the gradient is the sum itself (O(n^2) per slice, as PyTorch does):
    a polynomial in x, so second derivatives are exact at zeros too.
    """

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: int | None) -> np.ndarray:
        ctx.in_shape = x.shape
        ctx.axis = _running_axis(x.shape, axis)
        ctx.save_for_backward(x)
        data = x.data.reshape(-1) if ctx.axis is None else x.data
        along = 0 if ctx.axis is None else ctx.axis
        zero = np.abs(data) < _tiny(data.dtype)
        ctx.divisible = ~zero
        ctx.first = zero & (np.cumsum(zero, axis=along) == 1)  # the first zero of each slice
        return np.cumprod(data, axis=along)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        (x,) = ctx.saved_tensors
        flat = ctx.axis is None
        along = 0 if flat else ctx.axis
        x = x.reshape(-1) if flat else x
        if is_tensor(grad) and ctx.first.any():  # zeros, and differentiated again: the O(n^2) sum
            out = _cumprod_grad_with_zeros(x, grad, along)
        else:  # g is scaled to at most 1 per slice first, so that g * y does not underflow (the formula is linear in g)
            scale = _largest(grad, along)
            g = grad / scale
            divided = _reversed_cumsum(g * ctx.output, along) / np.where(ctx.divisible, x, 1.0)
            at_first = _reversed_cumsum(g * _cumprod(np.where(ctx.first, 1.0, x), along), along)
            out = np.where(ctx.divisible, divided, np.where(ctx.first, at_first, 0.0)) * scale
        return (out.reshape(ctx.in_shape) if flat else out), None


def _largest(g: Any, axis: int) -> Any:
    """max |g| along ``axis`` (1 where that is 0), as a constant array: read from the values."""
    values = value_of(g) if is_tensor(g) else g
    top = np.max(np.abs(values), axis=axis, keepdims=True)
    return np.where(top > 0, top, 1.0)


def _cumprod_grad_with_zeros(x: Any, grad: Any, axis: int) -> Any:
    """dL/dx_j = sum_{k >= j} g_k prod_{i <= k, i != j} x_i, as written: row j of an n x n
    array is x with x_j set to 1, its cumprod gives every product, and the k >= j ones are summed."""
    ndim = len(x.shape)
    perm = tuple(i for i in range(ndim) if i != axis) + (axis,)
    xm, gm = _permuted(x, perm), _permuted(grad, perm)
    n = xm.shape[-1]
    rows = np.where(np.eye(n, dtype=bool), 1.0, xm[..., None, :])  # [..., j, k] = x_k, or 1 at k == j
    terms = gm[..., None, :] * Cumprod.apply(rows, ndim)  # g_k prod_{i <= k, i != j} x_i
    summed = np.where(np.triu(np.ones((n, n), dtype=bool)), terms, 0.0).sum(axis=-1)  # over k >= j
    return _permuted(summed, _inverse(perm))


# ----------------------------------------------------------------------------- norm


class VectorNorm(Function):
    """y = (sum |x|**p)**(1/p) over axes;  dy/dx = sign(x) (|x| / y)**(p - 1)

    p = 2 (the default): dy/dx = x / y. p = 1: sign(x). p = inf (-inf): y = max |x| (min |x|),
    dy/dx = sign(x) at the largest (smallest) |x|, ties sharing equally, 0 elsewhere.
    Where y == 0, and at elements x == 0 for any p, the gradient is 0: a subgradient, as
    PyTorch's ``linalg.vector_norm`` gives. Its own derivative there is 0 too (PyTorch's is nan
    where |x|**p has no second derivative: at y == 0, and at x == 0 for 1 < p < 2 or p < 1).
    """

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, p: float, axis: Axis, keepdims: bool) -> np.ndarray:
        ctx.in_shape, ctx.axis, ctx.keepdims, ctx.p = x.shape, axis, keepdims, p
        ctx.kept = _kept_shape(x.shape, axis)
        data = x.data
        if p == 2:
            out = np.sqrt(np.sum(data * data, axis=axis, keepdims=True))
            ctx.save_for_backward(x)
            ctx.zero = out == 0
        elif p == 1:
            out = np.sum(np.abs(data), axis=axis, keepdims=True)
            ctx.share = np.sign(data)  # piecewise linear: the gradient is a constant
        elif math.isinf(p):
            size = np.abs(data)
            out = (np.max if p > 0 else np.min)(size, axis=axis, keepdims=True)
            hits = size == out
            ctx.share = (np.sign(data) * hits / np.sum(hits, axis=axis, keepdims=True)).astype(data.dtype)
        else:
            size = np.abs(data)
            out = np.sum(size**p, axis=axis, keepdims=True) ** (1.0 / p)
            ctx.save_for_backward(x)
            ctx.zero = out == 0
            ctx.sign = np.sign(data)
            ctx.x_zero = data == 0
        return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None, None]:
        g = _spread(grad, ctx)
        p = ctx.p
        if p == 1 or math.isinf(p):
            return g * ctx.share, None, None, None
        (x,) = ctx.saved_tensors
        y = np.where(ctx.zero, 1.0, ctx.output.reshape(ctx.kept))  # 1 where y == 0: masked below
        if p == 2:  # (where y == 0, x == 0 too; masked, so that the gradient's own derivative is 0 there)
            return np.where(ctx.zero, 0.0, g * x / y), None, None, None
        size = np.where(ctx.x_zero, 1.0, abs(x))  # |x|**(p - 1) may be inf at 0; sign(0) = 0 masks it
        return g * ctx.sign * (size / y) ** (p - 1), None, None, None


# ----------------------------------------------------------------------------- the functions
# (Tensor's methods call these; ``autograd.ops`` exports them, and numpy's np.var, np.prod,
# np.cumsum, np.argmax, np.any, np.linalg.norm... on Tensors come here too.)


def _ddof(op: str, ddof: Any) -> float:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: ddof={ddof!r} must be a number (the divisor is n - ddof; numpy's default is 0)")
    return float(ddof)


def _one_axis(op: str, axis: Any) -> int | None:
    """An axis for the ops that take one (cumsum, argmax...): an int, or None for all of x flattened."""
    if axis is None or isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return None if axis is None else int(axis)
    raise TypeError(f"{op}: axis={axis!r} must be one axis (an int) or None (the tensor flattened), as in numpy")


def var(x: Any, axis: Axis = None, ddof: float = 0, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """Variance over axes, ``sum((x - mean)**2) / (n - ddof)``, as ``np.var``.

    numpy's default ``ddof=0`` divides by n; PyTorch's ``var`` divides by n - 1 by default
    (``correction=1``): write ``ddof=1`` for its result. ``correction=``/``unbiased=`` are refused.
    """
    if torch_spelling:
        refuse_torch_keywords("var", torch_spelling)
    return Var.apply(as_tensor(x, op="var"), _axis_arg(axis), _ddof("var", ddof), keepdims)


def std(x: Any, axis: Axis = None, ddof: float = 0, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """Standard deviation, ``sqrt(var(x, axis, ddof))``, as ``np.std`` (ddof as in :func:`var`;
    the gradient at zero variance is 0, as PyTorch's)."""
    if torch_spelling:
        refuse_torch_keywords("std", torch_spelling)
    return Std.apply(as_tensor(x, op="std"), _axis_arg(axis), _ddof("std", ddof), keepdims)


def prod(x: Any, axis: Axis = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """Product over axes, as ``np.prod``; its gradient is exact where x has zeros."""
    if torch_spelling:
        refuse_torch_keywords("prod", torch_spelling)
    return Prod.apply(as_tensor(x, op="prod"), _axis_arg(axis), keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """``log(sum(exp(x)))`` over axes, computed without overflow (scipy's ``logsumexp``, PyTorch's
    ``logsumexp``; numpy has none). Its gradient is the softmax over those axes."""
    if torch_spelling:
        refuse_torch_keywords("logsumexp", torch_spelling)
    return LogSumExp.apply(as_tensor(x, op="logsumexp"), _axis_arg(axis), keepdims)


def cumsum(x: Any, axis: int | None = None, **torch_spelling: Any) -> Tensor:
    """Running sum along ``axis``, as ``np.cumsum``: ``axis=None`` (numpy's default) runs over x
    flattened. (PyTorch's ``cumsum`` requires ``dim``; here it is ``axis``.)"""
    if torch_spelling:
        refuse_torch_keywords("cumsum", torch_spelling)
    return Cumsum.apply(as_tensor(x, op="cumsum"), _one_axis("cumsum", axis))


def cumprod(x: Any, axis: int | None = None, **torch_spelling: Any) -> Tensor:
    """Running product along ``axis``, as ``np.cumprod`` (``axis=None``: x flattened); its
    gradient is exact where x has zeros."""
    if torch_spelling:
        refuse_torch_keywords("cumprod", torch_spelling)
    return Cumprod.apply(as_tensor(x, op="cumprod"), _one_axis("cumprod", axis))


def _on_values(op: str, fn: Callable[..., Any], x: Any, **options: Any) -> Tensor:
    """``fn(x.data, **options)`` as a Tensor that records nothing (its derivative is zero
    wherever it exists), seen by ``autograd.compile`` as one op; numpy's errors name ``op``."""
    t = as_tensor(x, op=op)
    try:
        return ValueOp.apply(functools.partial(fn, **options), t)
    except ValueError as err:
        raise ValueError(f"{op}: {err.__cause__ or err} (input shape {t.shape})") from None


def argmax(x: Any, axis: int | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """Index of the largest value (in x flattened for ``axis=None``), as ``np.argmax``: an int64
    Tensor with no graph (the first index wins a tie)."""
    if torch_spelling:
        refuse_torch_keywords("argmax", torch_spelling)
    return _on_values("argmax", np.argmax, x, axis=_one_axis("argmax", axis), keepdims=keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """Index of the smallest value, as ``np.argmin``: an int64 Tensor with no graph."""
    if torch_spelling:
        refuse_torch_keywords("argmin", torch_spelling)
    return _on_values("argmin", np.argmin, x, axis=_one_axis("argmin", axis), keepdims=keepdims)


def any(x: Any, axis: Axis = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """True where some value over the axes is non-zero, as ``np.any``: a bool Tensor, no graph."""
    if torch_spelling:
        refuse_torch_keywords("any", torch_spelling)
    return _on_values("any", np.any, x, axis=_axis_arg(axis), keepdims=keepdims)


def all(x: Any, axis: Axis = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """True where every value over the axes is non-zero, as ``np.all``: a bool Tensor, no graph."""
    if torch_spelling:
        refuse_torch_keywords("all", torch_spelling)
    return _on_values("all", np.all, x, axis=_axis_arg(axis), keepdims=keepdims)


def _count_nonzero(a: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    """np.linalg.norm's ord=0: how many elements are not 0, in a's float dtype."""
    return (a != 0).astype(a.dtype).sum(axis=axis, keepdims=keepdims)


def _vector_order(ord: Any) -> float:
    if ord is None:
        return 2.0
    if isinstance(ord, bool) or not isinstance(ord, (int, float, np.integer, np.floating)) or math.isnan(ord):
        raise ValueError(f"norm: invalid order ord={ord!r} for a vector norm; use a number p > 0, 0, inf or -inf")
    if ord < 0 and not math.isinf(ord):
        raise ValueError(
            f"norm: ord={ord!r} < 0 (sum(|x|**ord)**(1/ord)) is not supported here: it is 0 wherever an "
            "element is 0, with no gradient there; use p > 0, 0, inf or -inf (-inf is the smallest |x|)"
        )
    return float(ord)


def norm(x: Any, ord: Any = None, axis: Axis = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
    """A vector or matrix norm, as ``np.linalg.norm(x, ord, axis, keepdims)``.

    Over one axis (or all of x for ``axis=None, ord=None``), a vector norm: ``ord`` = 2 (the
    default), 1, inf, -inf, 0 (how many elements are non-zero: a count, with no graph) or any
    p > 0. Over two axes (or a 2-D x with ``axis=None``) a matrix norm: ``'fro'`` (the default),
    1 and -1 (max/min column sum of |x|), inf and -inf (max/min row sum). ``'nuc'``, 2 and -2
    need singular values and are refused. The gradient of the 2-norm at 0 is 0, as PyTorch's.
    """
    if torch_spelling:
        if "p" in torch_spelling:
            raise TypeError("norm: p= is PyTorch's spelling; write ord= here (numpy's, as np.linalg.norm)")
        refuse_torch_keywords("norm", torch_spelling)
    t = as_tensor(x, op="norm")
    if t.dtype.kind != "f":  # as np.linalg.norm: integers and bools are measured as floats
        t = t.astype(np.float64)
    axis = _axis_arg(axis)
    if axis is None:
        if ord is None:
            return VectorNorm.apply(t, 2.0, None, keepdims)
        if t.ndim not in (1, 2):
            raise ValueError(
                f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D tensor (as np.linalg.norm), not one of shape "
                f"{t.shape}; give axis= (one axis for a vector norm, two for a matrix norm)"
            )
        axis = tuple(range(t.ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    if len(axes) not in (1, 2) or not builtins.all(isinstance(a, (int, np.integer)) for a in axes):
        raise ValueError(f"norm: axis={axis!r} must be one axis (a vector norm) or two (a matrix norm)")
    try:
        axes = normalize_axis_tuple(axes, t.ndim)
    except ValueError as err:
        raise ValueError(f"norm: {err} (input shape {t.shape})") from None
    if len(axes) == 1:
        p = _vector_order(ord)
        if p == 0:
            return _on_values("norm", _count_nonzero, t, axis=axes, keepdims=keepdims)
        return VectorNorm.apply(t, p, axes, keepdims)
    return _matrix_norm(t, ord, axes, keepdims)


def _matrix_norm(t: Tensor, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    """np.linalg.norm over two axes (rows, columns)."""
    if ord is None or (isinstance(ord, str) and ord in ("fro", "f")):
        return VectorNorm.apply(t, 2.0, axes, keepdims)
    named = isinstance(ord, (str, bool))
    if ord == "nuc" or not named and ord in (2, -2):
        raise ValueError(
            f"norm: ord={ord!r} over two axes is a norm of singular values, which this library has no "
            "differentiable op for; use 'fro', 1, -1, inf or -inf, or np.linalg.norm(np.asarray(t), "
            f"{ord!r}) for its value without a gradient"
        )
    if named or ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(f"norm: invalid order ord={ord!r} for a matrix norm; use 'fro', 1, -1, inf or -inf")
    rows, cols = axes
    inner, outer = (rows, cols) if abs(ord) == 1 else (cols, rows)  # 1: sum down each column, max over columns
    sums = Sum.apply(Abs.apply(t), inner, True)
    out = (Max if ord > 0 else Min).apply(sums, outer, True)
    return out if keepdims else Reshape.apply(out, _reduced_shape(t.shape, axes))
