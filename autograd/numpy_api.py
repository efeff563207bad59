"""numpy's functions on Tensors (NEP 13 ``__array_ufunc__``, NEP 18 ``__array_function__``).

``np.exp(t)``, ``ndarray - t``, ``np.sum(t, axis=0)``, ``np.concatenate([t, u])`` and
``np.where(c, t, u)`` run this library's ops and return Tensors that record the graph. This
is also what lets one backward formula serve arrays and Tensors alike: ``np.where(m, g, 0)``
is numpy's own on arrays and the ``where`` op on Tensors.

Comparisons, ``np.isnan``, ``np.sign``, ``np.floor``... give Tensors with no graph: their
derivative is zero wherever it exists. Functions that only look (``np.shape``,
``np.allclose``) work on the values. Any other numpy function raises a TypeError that names
it, rather than returning an ndarray that silently drops the graph. ``out=`` arrays are
written on values: ``p.data -= lr * p.grad`` updates the array, records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops
from .function import as_tensor, bump_version, is_tensor

# ----------------------------------------------------------------------------- ufuncs


# numpy ufunc -> the op, on Tensors (non-Tensor operands are made Tensors first)
DIFFERENTIABLE_UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: ops.Add.apply,
    np.subtract: ops.Sub.apply,
    np.multiply: ops.Mul.apply,
    np.true_divide: ops.Div.apply,
    np.power: ops.Pow.apply,  # (a Python number exponent goes to PowScalar, below)
    np.negative: ops.Neg.apply,
    np.positive: lambda a: a,
    np.square: lambda a: ops.PowScalar.apply(a, 2),
    np.exp: ops.Exp.apply,
    np.log: ops.Log.apply,
    np.sqrt: ops.Sqrt.apply,
    np.tanh: ops.Tanh.apply,
    np.sin: ops.Sin.apply,
    np.cos: ops.Cos.apply,
    np.tan: ops.Tan.apply,
    np.log1p: ops.Log1p.apply,
    np.expm1: ops.Expm1.apply,
    np.log2: ops.Log2.apply,
    np.log10: ops.Log10.apply,
    np.exp2: ops.Exp2.apply,
    np.absolute: ops.Abs.apply,
    np.maximum: ops.Maximum.apply,
    np.minimum: ops.Minimum.apply,
    np.matmul: ops.MatMul.apply,
}

# Ufuncs whose derivative is zero wherever it exists (or whose result is not a real number):
# computed on values, the result is a Tensor that records nothing.
CONSTANT_UFUNCS = frozenset(
    [
        np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
        np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.invert,
        np.bitwise_and, np.bitwise_or, np.bitwise_xor,
        np.isnan, np.isinf, np.isfinite, np.signbit, np.sign, np.floor, np.ceil, np.rint, np.trunc,
    ]
)  # fmt: skip


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What ``ufunc(*inputs, **kwargs)`` means when an input is a Tensor."""
    name = f"np.{ufunc.__name__}"
    out = kwargs.pop("out", None)
    if out is not None:
        return _into_arrays(ufunc, method, inputs, out, kwargs)
    if method != "__call__":
        raise TypeError(
            f"{name}.{method} is not supported on Tensors; use the Tensor's methods "
            "(t.sum(axis), t.max(axis)...) or compute on values with np.asarray(t) (no gradient)"
        )
    if kwargs:
        raise TypeError(f"{name}: the keyword(s) {', '.join(sorted(kwargs))} are not supported on Tensors")
    like = next(x for x in inputs if is_tensor(x))
    if ufunc in CONSTANT_UFUNCS:
        return ops.ValueOp.apply(ufunc, *[as_tensor(x, like, ufunc.__name__) for x in inputs])
    if ufunc is np.power and is_tensor(inputs[0]) and type(inputs[1]) in (int, float):
        return ops.PowScalar.apply(inputs[0], inputs[1])
    op = DIFFERENTIABLE_UFUNCS.get(ufunc)
    if op is None:
        raise TypeError(
            f"{name} has no differentiable implementation for Tensors here; write it from the "
            "ops that exist (see docs/api.md), or compute on values with np.asarray(t) if you "
            "need no gradient"
        )
    return op(*[as_tensor(x, like, ufunc.__name__) for x in inputs])


def _into_arrays(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], out: tuple[Any, ...], kwargs: Any) -> Any:
    """``ufunc(..., out=arrays)``: computed on values into the arrays; records nothing."""
    if any(is_tensor(o) for o in out):
        raise TypeError(
            f"np.{ufunc.__name__}(..., out=<Tensor>): writing into a Tensor this way is not "
            "recorded; use the in-place methods (t.add_, t.sub_, t.mul_, t.copy_) under no_grad(), "
            "or write into t.data"
        )
    values = [x.data if is_tensor(x) else x for x in inputs]
    result = getattr(ufunc, method)(*values, out=out, **kwargs)
    for array in out:
        if isinstance(array, np.ndarray):
            bump_version(array)  # it may be a saved tensor's memory: backward will notice
    return result


# ----------------------------------------------------------------------------- functions


def _no_dtype_out(name: str, dtype: Any = None, out: Any = None, **rest: Any) -> None:
    if dtype is not None or out is not None:
        raise TypeError(f"np.{name}: dtype= and out= are not supported on Tensors; use t.astype(...) first")
    if rest.get("where", True) is not True or rest.get("initial", None) is not None:
        raise TypeError(f"np.{name}: where= and initial= are not supported on Tensors")


def _reduction(method: str) -> Callable[..., Any]:
    def reduce(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **rest: Any
    ) -> Any:
        _no_dtype_out(method, dtype, out, **rest)
        return getattr(as_tensor(a, op=method), method)(axis=axis, keepdims=keepdims)

    return reduce


def _spread_reduction(method: str) -> Callable[..., Any]:
    """np.var, np.std: numpy 2's ``correction=`` is its alias of ``ddof=`` (same default, 0)."""

    def reduce(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0, keepdims: bool = False,
        *, where: Any = True, mean: Any = None, correction: Any = None,
    ) -> Any:  # fmt: skip
        _no_dtype_out(method, dtype, out, where=where)
        if mean is not None:
            raise TypeError(f"np.{method}: mean= is not supported on Tensors")
        if correction is not None:
            if ddof != 0:
                raise ValueError(f"np.{method}: ddof= and correction= are the same argument; give one")
            ddof = correction
        return getattr(as_tensor(a, op=method), method)(axis=axis, ddof=ddof, keepdims=keepdims)

    return reduce


def _running(method: str) -> Callable[..., Any]:
    """np.cumsum, np.cumprod (axis=None: the array flattened)."""

    def run(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        _no_dtype_out(method, dtype, out)
        return getattr(as_tensor(a, op=method), method)(axis=axis)

    return run


def _index_of(method: str) -> Callable[..., Any]:
    """np.argmax, np.argmin: int64 Tensors with no graph."""

    def find(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        _no_dtype_out(method, out=out)
        return getattr(as_tensor(a, op=method), method)(axis=axis, keepdims=keepdims)

    return find


def _truth(method: str) -> Callable[..., Any]:
    """np.any, np.all: bool Tensors with no graph."""

    def test(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, *, where: Any = True) -> Any:
        _no_dtype_out(method, out=out, where=where)
        return getattr(as_tensor(a, op=method), method)(axis=axis, keepdims=keepdims)

    return test


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    return ops.norm(x, ord, axis, keepdims)


def _reshape(a: Any, shape: Any = None, order: str = "C", **kw: Any) -> Any:
    shape = kw.pop("newshape", shape)
    if order != "C" or kw:
        raise TypeError("np.reshape: only shape (and order='C') are supported on Tensors")
    return as_tensor(a, op="reshape").reshape(shape)


def _transpose(a: Any, axes: Any = None) -> Any:
    t = as_tensor(a, op="transpose")
    return ops.Transpose.apply(t, None if axes is None else tuple(axes))


def _swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    return as_tensor(a, op="swapaxes").swapaxes(axis1, axis2)


def _broadcast_to(a: Any, shape: Any, subok: bool = False) -> Any:
    return as_tensor(a, op="broadcast_to").broadcast_to(tuple(np.atleast_1d(shape)) if np.ndim(shape) else (shape,))


def _squeeze(a: Any, axis: Any = None) -> Any:
    return ops.squeeze(a, axis)


def _expand_dims(a: Any, axis: Any) -> Any:
    return ops.expand_dims(a, axis)


def _ravel(a: Any, order: str = "C") -> Any:
    if order != "C":
        raise TypeError("np.ravel: only order='C' is supported on Tensors")
    return ops.flatten(a)


def _pad(array: Any, pad_width: Any, mode: str = "constant", **kw: Any) -> Any:
    value = kw.pop("constant_values", 0)
    if kw.pop("reflect_type", "even") != "even" or kw:
        raise TypeError(
            "np.pad: on Tensors only mode ('constant', 'reflect', 'edge') and one constant_values number are supported"
        )
    return ops.pad(array, pad_width, mode, value)


# the shape ops whose numpy signature is the op's own (autograd/ops/shape.py)
def _flip(m: Any, axis: Any = None) -> Any:
    return ops.flip(m, axis)


def _roll(a: Any, shift: Any, axis: Any = None) -> Any:
    return ops.roll(a, shift, axis)


def _repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    return ops.repeat(a, repeats, axis=axis)


def _tile(A: Any, reps: Any) -> Any:
    return ops.tile(A, reps)


def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    return ops.split(ary, indices_or_sections, axis)


def _tril(m: Any, k: int = 0) -> Any:
    return ops.tril(m, k)


def _triu(m: Any, k: int = 0) -> Any:
    return ops.triu(m, k)


def _diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return ops.diagonal(a, offset, axis1, axis2)


def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None or y is None:
        raise TypeError("np.where(condition) with one argument is not supported on Tensors; use np.nonzero(t.data)")
    return ops.where(condition, x, y)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kw: Any) -> Any:
    a_min = kw.pop("min", a_min)
    a_max = kw.pop("max", a_max)
    if out is not None or kw:
        raise TypeError("np.clip: only a_min and a_max are supported on Tensors")
    if is_tensor(a_min) or is_tensor(a_max):
        raise TypeError("np.clip: the bounds must be numbers; use autograd.maximum/minimum for Tensor bounds")
    return as_tensor(a, op="clip").clip(a_min, a_max)


def _concatenate(arrays: Any, axis: int = 0, out: Any = None, **kw: Any) -> Any:
    if out is not None or kw or axis is None:
        raise TypeError("np.concatenate: only a sequence and an integer axis are supported on Tensors")
    return ops.concatenate(list(arrays), axis)


def _stack(arrays: Any, axis: int = 0, out: Any = None, **kw: Any) -> Any:
    if out is not None or kw:
        raise TypeError("np.stack: only a sequence and an axis are supported on Tensors")
    return ops.stack(list(arrays), axis)


def _like(fill: Callable[..., np.ndarray]) -> Callable[..., Any]:
    def make(a: Any, *args: Any, **kwargs: Any) -> Any:  # a new constant: nothing to differentiate
        # only the shape and dtype are read (a stand-in array of them), so this works on any Tensor
        like = _stand_in(a) if is_tensor(a) else a
        return as_tensor(0.0)._make(np.asarray(fill(like, *args, **kwargs)))

    return make


def _on_shapes(func: Callable[..., Any]) -> Callable[..., Any]:
    """A function of shapes and dtypes only: it reads no values, so it works on any Tensor."""

    def look(*args: Any, **kwargs: Any) -> Any:
        return func(*[_stand_in(a) if is_tensor(a) else a for a in args], **kwargs)

    return look


def _stand_in(t: Any) -> np.ndarray:
    """An array of ``t``'s shape and dtype that takes no memory (its values are not ``t``'s)."""
    return np.broadcast_to(np.empty((), dtype=t.dtype), t.shape)


def _on_values(func: Callable[..., Any]) -> Callable[..., Any]:
    def look(*args: Any, **kwargs: Any) -> Any:
        return func(*_values(args), **_values(kwargs))

    return look


def _values(x: Any) -> Any:
    """``x`` with every Tensor in it (also inside lists, tuples, dicts) replaced by its array."""
    if is_tensor(x):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_values(v) for v in x)
    if isinstance(x, dict):
        return {k: _values(v) for k, v in x.items()}
    return x


def _einsum(*operands: Any, out: Any = None, dtype: Any = None, optimize: Any = False, **kw: Any) -> Any:
    if out is not None or dtype is not None or kw:
        raise TypeError("np.einsum: only the subscripts string, the operands and optimize= are supported on Tensors")
    if not operands or not isinstance(operands[0], str):
        raise TypeError("np.einsum on Tensors takes the subscripts string first: np.einsum('ij,jk->ik', a, b)")
    return ops.einsum(operands[0], *operands[1:], optimize=optimize)


def _take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    return ops.take_along_axis(arr, indices, axis)


def _round(a: Any, decimals: int = 0, out: Any = None) -> Any:
    _no_dtype_out("round", out=out)
    return ops.round(a, decimals)  # no gradient, as np.floor


FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _reduction("sum"),
    np.mean: _reduction("mean"),
    np.max: _reduction("max"),
    np.min: _reduction("min"),
    np.prod: _reduction("prod"),
    np.var: _spread_reduction("var"),
    np.std: _spread_reduction("std"),
    np.cumsum: _running("cumsum"),
    np.cumprod: _running("cumprod"),
    np.argmax: _index_of("argmax"),
    np.argmin: _index_of("argmin"),
    np.any: _truth("any"),
    np.all: _truth("all"),
    np.linalg.norm: _norm,
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.swapaxes: _swapaxes,
    np.broadcast_to: _broadcast_to,
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.ravel: _ravel,
    np.flip: _flip,
    np.roll: _roll,
    np.repeat: _repeat,
    np.tile: _tile,
    np.split: _split,
    np.pad: _pad,
    np.tril: _tril,
    np.triu: _triu,
    np.diagonal: _diagonal,
    np.where: _where,
    np.clip: _clip,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.zeros_like: _like(np.zeros_like),
    np.ones_like: _like(np.ones_like),
    np.empty_like: _like(np.empty_like),
    np.full_like: _like(np.full_like),
    np.round: _round,
    np.einsum: _einsum,
    np.take_along_axis: _take_along_axis,
}
# Functions of shapes and dtypes, and functions that only look at values: no graph to keep.
_f: Callable[..., Any]
for _f in (np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj):
    FUNCTIONS[_f] = _on_shapes(_f)
for _f in (np.allclose, np.isclose, np.array_equal, np.array_equiv, np.nonzero, np.count_nonzero,
           np.array_str, np.array_repr):  # fmt: skip
    FUNCTIONS[_f] = _on_values(_f)


def array_function(func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What numpy function ``func(*args, **kwargs)`` means when an argument is a Tensor."""
    implementation = FUNCTIONS.get(func)
    if implementation is None:
        raise TypeError(
            f"np.{func.__name__} has no differentiable implementation for Tensors here; use the "
            "Tensor's own methods and autograd's functions (see docs/api.md), or compute on "
            f"values with np.{func.__name__}(np.asarray(t)) if you need no gradient"
        )
    return implementation(*args, **kwargs)
