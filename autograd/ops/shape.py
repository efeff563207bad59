"""Shape and indexing: reshape, transpose, x[index], concatenate, stack, and flatten, squeeze,
expand_dims, permute, flip, roll, repeat, tile, split, chunk, pad, tril, triu, diagonal."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..function import Context, Function, Grad, as_tensor, is_tensor, refuse_torch_keywords, value_of

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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any, shape: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        t, _ = tangents
        return np.reshape(np.broadcast_to(t, x.shape), out.shape)


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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any, axes: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        t, _ = tangents
        return np.transpose(np.broadcast_to(t, x.shape), ctx.axes)


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


def concatenate(tensors: Sequence[Any], axis: int = 0, **torch_spelling: Any) -> Tensor:
    """Join tensors along an existing axis, like ``np.concatenate`` (PyTorch's ``cat``)."""
    if torch_spelling:
        refuse_torch_keywords("concatenate", torch_spelling)
    if len(tensors) == 0:
        raise ValueError("concatenate: needs at least one tensor")
    return Concatenate.apply(axis, *(as_tensor(t, op="concatenate") for t in tensors))


def stack(tensors: Sequence[Any], axis: int = 0, **torch_spelling: Any) -> Tensor:
    """Join tensors of one shape along a new axis, like ``np.stack``."""
    if torch_spelling:
        refuse_torch_keywords("stack", torch_spelling)
    if len(tensors) == 0:
        raise ValueError("stack: needs at least one tensor")
    return Stack.apply(axis, *(as_tensor(t, op="stack") for t in tensors))


# ----------------------------------------------------------------------------- more shape ops
#
# Reshaping ops that only move or regroup axes (flatten, expand_dims/unsqueeze, squeeze,
# permute, ravel) are the recorded Reshape and Transpose above with a computed shape or
# order: exactly right, and nothing new to differentiate. split and chunk return slices of x
# (GetItem). The rest are their own Functions below. Their backward formulas call numpy's
# functions (np.flip, np.roll, np.pad, np.tril, np.triu): on arrays those are numpy's own,
# on Tensors (under create_graph) autograd.numpy_api runs these same ops, so every gradient
# here can be differentiated again.

# PyTorch keywords of these ops that TORCH_SPELLINGS (dim=, dims=, ...) does not spell for them.
_TORCH_SPELLINGS = {
    ("permute", "dims"): "the axes positionally (permute(1, 0, 2)) or as one tuple",
    ("roll", "shifts"): "shift=",
    ("roll", "dims"): "axis=",
    ("flip", "dims"): "axis=",
    ("tile", "dims"): "reps=",
    ("tril", "diagonal"): "k=",
    ("triu", "diagonal"): "k=",
    ("diagonal", "dim1"): "axis1=",
    ("diagonal", "dim2"): "axis2=",
    ("split", "split_size_or_sections"): (
        "indices_or_sections= (numpy's meaning: an int is the number of equal pieces, a list the "
        "indices to cut at; PyTorch's list of piece sizes [a, b, c] is the indices [a, a + b] here)"
    ),
    ("pad", "pad"): "pad_width= (numpy's format: one (before, after) pair per axis)",
}


def _refuse(op: str, kwargs: dict[str, Any]) -> None:
    """Refuse PyTorch's keywords for ``op``, naming what to write here."""
    for key in kwargs:
        if (op, key) in _TORCH_SPELLINGS:
            raise TypeError(f"{op}: {key}= is PyTorch's spelling; write {_TORCH_SPELLINGS[op, key]} here")
    refuse_torch_keywords(op, kwargs)


def _axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (an int or a sequence of ints) as non-negative ints, or a ValueError naming ``op``."""
    many = isinstance(axis, (tuple, list))
    items = tuple(axis) if many else (axis,)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in items):
        raise TypeError(f"{op}: an axis must be an int (or a tuple of ints), got {axis!r}")
    for a in items:
        if not -ndim <= a < ndim:
            valid = f"from {-ndim} to {ndim - 1}" if ndim else "none: it has no axes"
            raise ValueError(f"{op}: axis {a} is out of range for a {ndim}-D tensor (valid axes: {valid})")
    out = tuple(int(a) % ndim for a in items)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis!r} names an axis twice")
    return out


def _axis(op: str, axis: Any, ndim: int) -> int:
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{op}: axis must be one int here, got {axis!r}")
    return _axes(op, axis, ndim)[0]


def _ints(op: str, what: str, value: Any) -> tuple[int, ...] | int:
    """An int, or a sequence of ints, as plain Python ints (a TypeError naming ``op`` otherwise)."""
    if is_tensor(value):
        value = value_of(value)
    array = np.asarray(value)
    if array.ndim == 1 and array.size == 0:  # an empty list
        return ()
    if array.dtype.kind not in "iu" or array.ndim > 1:
        raise TypeError(f"{op}: {what} must be an int or a sequence of ints, got {value!r}")
    return int(array) if array.ndim == 0 else tuple(int(v) for v in array)


def flatten(x: Any, start_axis: int = 0, end_axis: int = -1, **torch_spelling: Any) -> Tensor:
    """Axes ``start_axis`` to ``end_axis`` (both included) merged into one, as PyTorch's ``flatten``.

    ``flatten()`` gives a 1-D tensor (numpy's ``ravel``); a 0-d tensor becomes shape (1,), as in
    PyTorch. A reshape: dL/dx = dL/dy reshaped back.
    """
    if torch_spelling:
        _refuse("flatten", torch_spelling)
    t = as_tensor(x, op="flatten")
    shape = t.shape if t.ndim else (1,)
    start = _axis("flatten", start_axis, len(shape))
    end = _axis("flatten", end_axis, len(shape))
    if start > end:
        raise ValueError(
            f"flatten: start_axis {start_axis} comes after end_axis {end_axis} for a tensor of shape {t.shape}; "
            "the merged axes run from start_axis to end_axis"
        )
    merged = int(np.prod(shape[start : end + 1]))
    return Reshape.apply(t, shape[:start] + (merged,) + shape[end + 1 :])


def _required(op: str, name: str, value: Any) -> None:
    """A TypeError for a missing argument (its default None only lets ``dim=`` reach the op's check)."""
    if value is None:
        raise TypeError(f"{op}() missing 1 required argument: {name!r}")


def expand_dims(x: Any, axis: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
    """New axes of size 1 at ``axis`` (positions in the result), as ``np.expand_dims``. A reshape."""
    if torch_spelling:
        _refuse("expand_dims", torch_spelling)
    _required("expand_dims", "axis", axis)
    t = as_tensor(x, op="expand_dims")
    count = len(axis) if isinstance(axis, (tuple, list)) else 1
    new = _axes("expand_dims", axis, t.ndim + count)
    sides = iter(t.shape)
    return Reshape.apply(t, tuple(1 if i in new else next(sides) for i in range(t.ndim + count)))


def unsqueeze(x: Any, axis: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
    """PyTorch's name for ``expand_dims``: a new axis of size 1 at ``axis``. A reshape."""
    if torch_spelling:
        _refuse("unsqueeze", torch_spelling)
    _required("unsqueeze", "axis", axis)
    return expand_dims(x, axis)


def squeeze(x: Any, axis: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
    """Drop axes of size 1 (all of them, or those in ``axis``), as ``np.squeeze``. A reshape.

    As numpy, squeezing an axis whose size is not 1 raises; PyTorch's ``squeeze(dim)``
    silently returns the tensor unchanged then, which hides a wrong axis.
    """
    if torch_spelling:
        _refuse("squeeze", torch_spelling)
    t = as_tensor(x, op="squeeze")
    if axis is None:
        return Reshape.apply(t, tuple(n for n in t.shape if n != 1))
    axes = _axes("squeeze", axis, t.ndim)
    for a in axes:
        if t.shape[a] != 1:
            raise ValueError(
                f"squeeze: axis {a} of the tensor of shape {t.shape} has size {t.shape[a]}, not 1, so it "
                "cannot be squeezed out (numpy raises here; PyTorch would silently return the tensor "
                "unchanged). Squeeze only axes of size 1, or index the axis (x[:, 0]) to drop it"
            )
    return Reshape.apply(t, tuple(n for i, n in enumerate(t.shape) if i not in axes))


def permute(x: Any, *axes: Any, **torch_spelling: Any) -> Tensor:
    """The axes reordered: axis ``axes[i]`` of x becomes axis i, as PyTorch's ``permute``
    (numpy's ``transpose(axes)``); every axis given once. ``permute(2, 0, 1)`` or
    ``permute((2, 0, 1))``. A transpose: dL/dx = dL/dy with the inverse permutation."""
    if torch_spelling:
        _refuse("permute", torch_spelling)
    t = as_tensor(x, op="permute")
    order = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    normal = _axes("permute", order, t.ndim) if order else ()
    if len(normal) != t.ndim:
        raise ValueError(
            f"permute: {tuple(order)} is not a permutation of the {t.ndim} axes of a tensor of shape "
            f"{t.shape}; give every axis once, e.g. permute{tuple(reversed(range(t.ndim)))}"
        )
    return Transpose.apply(t, normal)


class Flip(Function):
    """y = x reversed along axis: y[i] = x[n - 1 - i];  dL/dx = dL/dy reversed along axis"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: tuple[int, ...] | None) -> np.ndarray:
        ctx.axis = axis
        return np.flip(x.data, axis)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        return np.flip(grad, ctx.axis), None


def flip(x: Any, axis: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
    """Reverse the order of elements along ``axis`` (all axes for None), as ``np.flip``."""
    if torch_spelling:
        _refuse("flip", torch_spelling)
    t = as_tensor(x, op="flip")
    return Flip.apply(t, None if axis is None else _axes("flip", axis, t.ndim))


class Roll(Function):
    """y = x shifted cyclically by s along axis: y[(i + s) % n] = x[i];  dL/dx = dL/dy rolled by -s

    With axis None, x is rolled as if flattened (its shape is kept), as ``np.roll``.
    """

    @staticmethod
    def forward(
        ctx: Context, x: Tensor, shift: int | tuple[int, ...], axis: int | tuple[int, ...] | None
    ) -> np.ndarray:
        ctx.shift, ctx.axis = shift, axis
        return np.roll(x.data, shift, axis)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        shift = ctx.shift
        back = tuple(-s for s in shift) if isinstance(shift, tuple) else -shift
        return np.roll(grad, back, ctx.axis), None, None


def roll(
    x: Any, shift: int | Sequence[int] | None = None, axis: int | Sequence[int] | None = None, **torch_spelling: Any
) -> Tensor:
    """Shift elements cyclically by ``shift`` along ``axis``, as ``np.roll`` (several shifts
    go with several axes; with axis None the tensor is rolled as if flattened)."""
    if torch_spelling:
        _refuse("roll", torch_spelling)
    _required("roll", "shift", shift)
    t = as_tensor(x, op="roll")
    shifts = _ints("roll", "shift", shift)
    if axis is None:
        if isinstance(shifts, tuple):
            raise ValueError(f"roll: several shifts {shifts} need as many axes (axis=...); with axis None give one int")
        return Roll.apply(t, shifts, None)
    if isinstance(axis, (tuple, list)):  # (an axis may come twice: its shifts add up, as in numpy)
        axes: int | tuple[int, ...] = tuple(_axis("roll", a, t.ndim) for a in axis)
    else:
        axes = _axis("roll", axis, t.ndim)
    if isinstance(shifts, tuple) or isinstance(axes, tuple):  # numpy broadcasts one against the other
        try:
            s, a = np.broadcast_arrays(np.asarray(shifts), np.asarray(axes))
        except ValueError:
            raise ValueError(
                f"roll: shift {shifts} and axis {axes} must have the same length (or one be a single int)"
            ) from None
        shifts, axes = tuple(int(v) for v in s.ravel()), tuple(int(v) for v in a.ravel())
    return Roll.apply(t, shifts, axes)


class Repeat(Function):
    """y = each x[i] repeated r[i] times along axis (np.repeat);  dL/dx[i] = sum of dL/dy over x[i]'s copies

    With axis None x is flattened first, as in numpy. PyTorch calls this ``repeat_interleave``;
    PyTorch's ``Tensor.repeat`` is numpy's ``tile`` (see ``Tile``).
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, repeats: int | tuple[int, ...], axis: int | None) -> np.ndarray:
        data = x.data.reshape(-1) if axis is None else x.data
        ctx.in_shape = x.shape
        ctx.axis = axis = 0 if axis is None else axis
        ctx.source_shape = source = data.shape
        if isinstance(repeats, tuple) and len(repeats) == 1:
            repeats = repeats[0]
        ctx.uniform = repeats if isinstance(repeats, int) else None
        if ctx.uniform is None:  # where each element of the result comes from
            ctx.index = (slice(None),) * axis + (np.repeat(np.arange(source[axis]), repeats),)
        return np.repeat(data, repeats, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        axis, source = ctx.axis, ctx.source_shape
        if ctx.uniform is not None:  # copies side by side: group them on a new axis and sum it
            g = grad.reshape(source[:axis] + (source[axis], ctx.uniform) + source[axis + 1 :]).sum(axis=axis + 1)
        else:
            g = _scatter_add(grad, ctx.index, source)
        return g.reshape(ctx.in_shape), None, None


def repeat(
    x: Any, repeats: int | Sequence[int], *pytorch_reps: int, axis: int | None = None, **torch_spelling: Any
) -> Tensor:
    """Repeat each element ``repeats`` times along ``axis``, as ``np.repeat``: [a, b] -> [a, a, b, b].

    ``repeats`` is one int or one int per element along the axis; axis None flattens first.
    This is numpy's repeat (PyTorch's ``repeat_interleave``), not PyTorch's ``Tensor.repeat``,
    which copies the whole tensor ([a, b] -> [a, b, a, b]) and is ``tile`` here. As the two read
    ``x.repeat(2, 3)`` differently (numpy: 2 times along axis 3; PyTorch: tiles (2, 3)), that is
    refused: write ``tile((2, 3))``, or ``repeat(2, axis=3)`` (axis by keyword).
    """
    if pytorch_reps:
        reps = (repeats, *pytorch_reps)
        raise ValueError(
            f"repeat{reps}: numpy's repeat takes one repeat count per element and an axis, PyTorch's "
            f"Tensor.repeat{reps} tiles the whole tensor. For PyTorch's meaning write tile({reps}); for "
            f"numpy's, give the axis by keyword: repeat({repeats!r}, axis={pytorch_reps[0]!r})"
        )
    if torch_spelling:
        _refuse("repeat", torch_spelling)
    t = as_tensor(x, op="repeat")
    counts = _ints("repeat", "repeats", repeats)
    ax = None if axis is None else _axis("repeat", axis, t.ndim)
    n = t.size if ax is None else t.shape[ax]
    if isinstance(counts, tuple) and len(counts) not in (1, n):
        where = "the flattened tensor" if ax is None else f"axis {ax}"
        hint = " (PyTorch's Tensor.repeat(reps) tiles: write tile(reps) for that)" if ax is None else ""
        raise ValueError(
            f"repeat: {len(counts)} repeat counts for the {n} elements of {where} of a tensor of shape "
            f"{t.shape}; give one int, or one count per element{hint}"
        )
    if min(np.atleast_1d(counts), default=0) < 0:
        raise ValueError(f"repeat: repeat counts must be >= 0, got {counts}")
    return Repeat.apply(t, counts, ax)


class Tile(Function):
    """y = x copied reps[k] times along each axis k (np.tile): y[c * n + i] = x[i];  dL/dx = dL/dy summed over the copies

    A shorter ``reps`` is padded with 1s in front; a tensor with fewer axes than ``reps`` gets
    leading axes of size 1. PyTorch's ``Tensor.repeat(*reps)`` (and ``torch.tile``) is this.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, reps: tuple[int, ...]) -> np.ndarray:
        ndim = max(len(reps), x.ndim)
        shape = (1,) * (ndim - x.ndim) + x.shape
        reps = (1,) * (ndim - len(reps)) + reps
        ctx.in_shape = x.shape
        ctx.grouped = tuple(n for pair in zip(reps, shape) for n in pair)  # (r0, n0, r1, n1, ...)
        return np.tile(x.data, reps)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        copies = tuple(range(0, len(ctx.grouped), 2))
        return grad.reshape(ctx.grouped).sum(axis=copies).reshape(ctx.in_shape), None


def tile(x: Any, reps: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
    """Copy the whole tensor ``reps`` times (per axis), as ``np.tile``: [a, b] -> [a, b, a, b].

    PyTorch's ``Tensor.repeat(*reps)`` and ``torch.tile``; ``repeat`` here is numpy's.
    """
    if torch_spelling:
        _refuse("tile", torch_spelling)
    _required("tile", "reps", reps)
    t = as_tensor(x, op="tile")
    counts = _ints("tile", "reps", reps)
    counts = (counts,) if isinstance(counts, int) else counts
    if min(counts, default=0) < 0:
        raise ValueError(f"tile: reps must be >= 0, got {counts}")
    return Tile.apply(t, counts)


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0, **torch_spelling: Any) -> list[Tensor]:
    """Cut the tensor along ``axis`` into a list of tensors, as ``np.split``.

    An int k gives k equal pieces (an error if the axis does not divide); a list of indices
    [i, j] gives x[:i], x[i:j], x[j:] along the axis. Each piece is a slice of x (GetItem).
    PyTorch's ``split(int)`` means pieces of that *size*, and its list holds piece sizes: for
    sizes [a, b, c] write the indices [a, a + b]; for PyTorch's ``chunk`` use ``chunk``.
    """
    if torch_spelling:
        _refuse("split", torch_spelling)
    t = as_tensor(x, op="split")
    if t.ndim == 0:
        raise ValueError("split: a 0-d tensor has no axis to split along")
    ax = _axis("split", axis, t.ndim)
    n = t.shape[ax]
    cuts = _ints("split", "indices_or_sections", indices_or_sections)
    if isinstance(cuts, int):
        if cuts < 1:
            raise ValueError(f"split: the number of sections must be >= 1, got {cuts}")
        if n % cuts:
            raise ValueError(
                f"split: axis {ax} of size {n} (tensor of shape {t.shape}) does not divide into {cuts} equal "
                f"sections; give the indices to cut at instead, or use chunk({cuts}) for pieces of size "
                f"ceil({n} / {cuts}) with a smaller last one"
            )
        bounds = [k * (n // cuts) for k in range(cuts + 1)]
    else:
        bounds = [0, *cuts, n]
    lead = (slice(None),) * ax
    return [GetItem.apply(t, lead + (slice(a, b),)) for a, b in itertools.pairwise(bounds)]


def chunk(x: Any, chunks: int, axis: int = 0, **torch_spelling: Any) -> list[Tensor]:
    """Cut the tensor along ``axis`` into ``chunks`` pieces of size ceil(n / chunks), the last one
    smaller, as PyTorch's ``chunk`` (so there may be fewer than ``chunks`` pieces: 6 elements in
    4 chunks are 3 pieces of 2). Each piece is a slice of x (GetItem)."""
    if torch_spelling:
        _refuse("chunk", torch_spelling)
    t = as_tensor(x, op="chunk")
    if not isinstance(chunks, (int, np.integer)) or isinstance(chunks, bool) or chunks < 1:
        raise ValueError(f"chunk: chunks must be an int >= 1, got {chunks!r}")
    if t.ndim == 0:
        raise ValueError("chunk: a 0-d tensor has no axis to cut along")
    ax = _axis("chunk", axis, t.ndim)
    n = t.shape[ax]
    lead = (slice(None),) * ax
    if n == 0:  # as PyTorch: that many empty pieces
        return [GetItem.apply(t, lead + (slice(0, 0),)) for _ in range(int(chunks))]
    size = -(-n // int(chunks))
    return [GetItem.apply(t, lead + (slice(a, a + size),)) for a in range(0, n, size)]


PAD_MODES = ("constant", "reflect", "edge")


class Pad(Function):
    """y = x with pad_width[k] = (before, after) elements added on each side of axis k (np.pad);  dL/dx = dL/dy's middle, plus each padded element's gradient added onto the element it copies

    mode "constant": the pads hold ``value`` (no gradient reaches x from them). "edge": they
    copy the edge element, y[-j] = x[0]. "reflect": they mirror x about its edge element,
    y[-j] = x[j] (j = 1 ... before). One element may be copied many times: its gradient is
    the sum over all its copies (and over the corners, where axes' pads meet).
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: Tensor,
        pad_width: tuple[tuple[int, int], ...],
        mode: Literal["constant", "edge", "reflect"],
        value: float,
    ) -> np.ndarray:
        ctx.pad_width, ctx.mode, ctx.in_shape = pad_width, mode, x.shape
        if not pad_width:  # a 0-d tensor: nothing to pad (np.pad cannot read an empty pad_width)
            return x.data.copy()
        if mode == "constant":
            return np.pad(x.data, pad_width, mode="constant", constant_values=value)
        return np.pad(x.data, pad_width, mode=mode)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None, None]:
        if ctx.mode == "constant":
            middle = tuple(slice(b, b + n) for (b, _), n in zip(ctx.pad_width, ctx.in_shape))
            return grad[middle], None, None, None
        for axis, ((before, after), n) in enumerate(zip(ctx.pad_width, ctx.in_shape)):
            if before or after:  # the pads of one axis add onto the elements they copy
                grad = _fold_pads(grad, axis, before, after, n, ctx.mode)
        return grad, None, None, None


def _fold_pads(g: Grad, axis: int, before: int, after: int, n: int, mode: str) -> Grad:
    """The gradient of one axis' edge/reflect padding: g of length before + n + after along
    ``axis`` summed onto the n elements the pads copy (Pad's backward, one axis at a time)."""
    lead = (slice(None),) * axis
    left, right = g[lead + (slice(0, before),)], g[lead + (slice(before + n, None),)]
    out = g[lead + (slice(before, before + n),)]

    def shifted(part: Grad, lo: int, hi: int) -> Grad:  # part, zero-padded along axis by (lo, hi)
        return np.pad(part, tuple((lo, hi) if k == axis else (0, 0) for k in range(g.ndim)))

    if mode == "edge":  # every left pad copies x[0], every right one x[n - 1]
        if before:
            out = out + shifted(left.sum(axis=axis, keepdims=True), 0, n - 1)
        if after:
            out = out + shifted(right.sum(axis=axis, keepdims=True), n - 1, 0)
    else:  # reflect: left pads j = before ... 1 copy x[j], right ones x[n - 2] ... x[n - 1 - after]
        if before:
            out = out + shifted(np.flip(left, axis), 1, n - 1 - before)
        if after:
            out = out + shifted(np.flip(right, axis), n - 1 - after, 1)
    return out


def _pad_pairs(pad_width: Any, shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """numpy's pad_width (an int, one (before, after) pair, or a pair per axis) as a pair per axis."""
    widths = np.asarray(value_of(pad_width) if is_tensor(pad_width) else pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be ints, got {pad_width!r}")
    try:
        pairs = np.broadcast_to(widths, (len(shape), 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {shape}: numpy's format is one "
            "(before, after) pair per axis ((b0, a0), (b1, a1), ...), or one pair, or one int, for every "
            "axis. (PyTorch's F.pad takes a flat tuple, last axis first: its (left, right, top, bottom) is "
            "((0, 0), ..., (top, bottom), (left, right)) here.)"
        ) from None
    if (pairs < 0).any():
        raise ValueError(
            f"pad: pad widths must be >= 0, got {pad_width!r} (PyTorch's F.pad crops with negative "
            "widths; slice the tensor for that)"
        )
    return tuple((int(b), int(a)) for b, a in pairs)


def pad(x: Any, pad_width: Any = None, mode: str = "constant", value: float = 0.0, **torch_spelling: Any) -> Tensor:
    """Pad the tensor, as ``np.pad``: ``pad_width`` is numpy's (one (before, after) pair per
    axis, or one pair or one int for all), ``mode`` is "constant" (pads hold ``value``), "edge"
    (they repeat the edge element; PyTorch's "replicate") or "reflect" (they mirror x about
    its edge element, at most n - 1 wide, as PyTorch requires; numpy would reflect again).

    PyTorch's ``F.pad(x, (left, right, top, bottom))`` (last axis first) is
    ``pad(x, ((0, 0), ..., (top, bottom), (left, right)))`` here.
    """
    if "constant_values" in torch_spelling:
        raise TypeError(
            "pad: constant_values= is np.pad's keyword (np.pad(t, ...) takes it); autograd's pad calls it value="
        )
    if torch_spelling:
        _refuse("pad", torch_spelling)
    _required("pad", "pad_width", pad_width)
    t = as_tensor(x, op="pad")
    if mode not in PAD_MODES:
        hint = {"replicate": " (PyTorch's 'replicate' is 'edge' here)", "circular": " ('circular' is not supported)"}
        raise ValueError(f"pad: mode {mode!r} is not supported; use one of {PAD_MODES}{hint.get(mode, '')}")
    if is_tensor(value) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"pad: value must be a number, got {type(value).__name__}")
    pairs = _pad_pairs(pad_width, t.shape)
    for k, ((before, after), n) in enumerate(zip(pairs, t.shape)):
        if mode == "reflect" and max(before, after) > n - 1:
            raise ValueError(
                f"pad: reflect padding {(before, after)} on axis {k} of size {n} (tensor of shape {t.shape}) "
                f"is wider than the axis allows: each side must be at most n - 1 = {n - 1} (a mirror about "
                "the edge element). Pad less, or use mode='edge'"
            )
        if mode == "edge" and n == 0 and (before or after):
            raise ValueError(
                f"pad: edge padding of axis {k}, which is empty (tensor of shape {t.shape}): there is no edge to copy"
            )
    return Pad.apply(t, pairs, mode, value)


class Tril(Function):
    """y = x with the elements above diagonal k zeroed (last two axes): y[.., i, j] = x[.., i, j] if j - i <= k else 0;  dL/dx = tril(dL/dy, k)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, k: int) -> np.ndarray:
        ctx.k = k
        return np.tril(x.data, k)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        return np.tril(grad, ctx.k), None


class Triu(Function):
    """y = x with the elements below diagonal k zeroed (last two axes): y[.., i, j] = x[.., i, j] if j - i >= k else 0;  dL/dx = triu(dL/dy, k)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, k: int) -> np.ndarray:
        ctx.k = k
        return np.triu(x.data, k)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        return np.triu(grad, ctx.k), None


def _triangle(op: str, x: Any, k: int, torch_spelling: dict[str, Any]) -> Tensor:
    if torch_spelling:
        _refuse(op, torch_spelling)
    t = as_tensor(x, op=op)
    if t.ndim < 2:
        raise ValueError(
            f"{op}: needs a tensor of at least 2 axes (a matrix, or a batch of them in the last two), got shape {t.shape}"
        )
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"{op}: k must be an int, got {k!r}")
    return (Tril if op == "tril" else Triu).apply(t, int(k))


def tril(x: Any, k: int = 0, **torch_spelling: Any) -> Tensor:
    """The lower triangle of the last two axes (on and below diagonal k; k > 0 is above the
    main one), the rest zeros, as ``np.tril`` (batched over leading axes)."""
    return _triangle("tril", x, k, torch_spelling)


def triu(x: Any, k: int = 0, **torch_spelling: Any) -> Tensor:
    """The upper triangle of the last two axes (on and above diagonal k), the rest zeros, as ``np.triu``."""
    return _triangle("triu", x, k, torch_spelling)


class Diagonal(Function):
    """y[.., i] = x[.., i, i + offset] over axes (axis1, axis2), which move to the end (np.diagonal);  dL/dx = zeros with dL/dy on that diagonal"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, offset: int, axis1: int, axis2: int) -> np.ndarray:
        order = [i for i in range(x.ndim) if i not in (axis1, axis2)] + [axis1, axis2]
        ctx.inverse = tuple(int(i) for i in np.argsort(order))
        ctx.moved_shape = tuple(x.shape[i] for i in order)  # x with the two axes moved to the end
        rows, cols = x.shape[axis1], x.shape[axis2]
        first_row, first_col = max(0, -offset), max(0, offset)
        length = max(0, min(rows - first_row, cols - first_col))
        ctx.index = (Ellipsis, np.arange(length) + first_row, np.arange(length) + first_col)
        return np.diagonal(x.data, offset, axis1, axis2).copy()  # (numpy's is a read-only view)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None, None]:
        return _scatter_add(grad, ctx.index, ctx.moved_shape).transpose(ctx.inverse), None, None, None


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, **torch_spelling: Any) -> Tensor:
    """The diagonal x[.., i, i + offset] of axes (axis1, axis2), as ``np.diagonal``: those two
    axes are removed and the diagonal becomes the last axis. numpy's default axes are the
    first two (PyTorch's too); for a batch of matrices write ``diagonal(axis1=-2, axis2=-1)``."""
    if torch_spelling:
        _refuse("diagonal", torch_spelling)
    t = as_tensor(x, op="diagonal")
    if t.ndim < 2:
        raise ValueError(f"diagonal: needs a tensor of at least 2 axes, got shape {t.shape}")
    a1, a2 = _axis("diagonal", axis1, t.ndim), _axis("diagonal", axis2, t.ndim)
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({a1}); give two different axes")
    if not isinstance(offset, (int, np.integer)) or isinstance(offset, bool):
        raise TypeError(f"diagonal: offset must be an int, got {offset!r}")
    return Diagonal.apply(t, int(offset), a1, a2)


def _scatter_add(g: Grad, index: Any, shape: tuple[int, ...]) -> Grad:
    """zeros(shape) with ``g`` added at ``index``: the IndexAdd op on a Tensor, numpy on an array."""
    if is_tensor(g):
        return IndexAdd.apply(g, index, shape)
    return _index_add(g, index, shape)
