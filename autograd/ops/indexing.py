"""Indexing by arrays and index arithmetic: einsum, gather / take_along_axis, scatter_add,
masked_fill, one_hot, and recorded item assignment (``t[index] = v``).

Each backward is written with ops of this module (Einsum's backward is an einsum, Gather's a
ScatterAdd and ScatterAdd's a Gather), so every gradient here can be differentiated again.
Index arrays and masks are constants: copied in forward, so changing them afterwards
changes no gradient.
"""

from __future__ import annotations

import string
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ..function import Context, Function, Grad, as_tensor, bump_version, is_tensor, refuse_torch_keywords, value_of
from ..mode import is_grad_enabled, mode
from .shape import GetItem

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "Einsum",
    "Gather",
    "MaskedFill",
    "ScatterAdd",
    "SetItem",
    "einsum",
    "gather",
    "masked_fill",
    "one_hot",
    "scatter_add",
    "setitem",
    "take_along_axis",
]

# ----------------------------------------------------------------------------- einsum

# numpy's subscript letters, in the order its implicit mode sorts the output (ASCII: A-Z, a-z)
_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _parse_einsum(subscripts: Any, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """The subscripts written out: one letter per axis of each operand ('...' replaced by
    letters of its own) and the output's letters (computed by numpy's rule in implicit mode).

    Raises ValueError naming einsum for the mistakes numpy would refuse.
    """
    if not isinstance(subscripts, str):
        raise TypeError(
            f"einsum: the subscripts must be a string such as 'ij,jk->ik', got {type(subscripts).__name__} "
            "(the interleaved form einsum(a, [0, 1], b, [1, 2]) is not supported: write the string)"
        )
    text = subscripts.replace(" ", "")
    if text.count("->") > 1:
        raise ValueError(f"einsum: {subscripts!r} has more than one '->'")
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: the subscripts {subscripts!r} name {len(terms)} operand(s) but {len(shapes)} were "
            f"given (shapes {', '.join(map(str, shapes)) or 'none'}); give one operand per comma-separated term"
        )
    bad = set("".join(terms + [rhs]).replace("...", "")) - set(_LETTERS)
    if bad:
        raise ValueError(
            f"einsum: {subscripts!r} contains {''.join(sorted(bad))!r}: subscripts are letters a-z, A-Z, "
            "commas, one '->' and at most one '...' per term"
        )
    used = set(text) & set(_LETTERS)
    spare = [c for c in _LETTERS if c not in used]
    explicit: list[tuple[str, str, str]] = []  # (letters before '...', had '...', letters after)
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        head, dots, tail = term.partition("...")
        if "..." in tail:
            raise ValueError(f"einsum: term {term!r} of {subscripts!r} has more than one '...'")
        named = len(head) + len(tail)
        if (not dots and named != len(shape)) or named > len(shape):
            raise ValueError(
                f"einsum: operand {k} has shape {shape} ({len(shape)}-D) but its subscripts {term!r} name "
                f"{named} axes; give one letter per axis (or '...' for the leading ones)"
            )
        explicit.append((head, dots, tail))
    n_dots = max((len(s) - len(h) - len(t) for (h, d, t), s in zip(explicit, shapes) if d), default=0)
    if n_dots > len(spare):
        raise ValueError(f"einsum: {subscripts!r} uses too many letters to expand '...'")
    dot_letters = "".join(spare[:n_dots])
    inputs = []
    for (head, dots, tail), shape in zip(explicit, shapes):
        k = len(shape) - len(head) - len(tail) if dots else 0
        inputs.append(head + dot_letters[n_dots - k :] + tail)
    if arrow:
        head, dots, tail = rhs.partition("...")
        if "..." in tail:
            raise ValueError(f"einsum: the output of {subscripts!r} has more than one '...'")
        if not dots and any(len(s) - len(h) - len(t) > 0 for (h, d, t), s in zip(explicit, shapes) if d):
            raise ValueError(
                f"einsum: operands of {subscripts!r} have axes under '...' but the output {rhs!r} has no '...'; "
                f"write '...{rhs}' to keep them (or name them with letters to sum them)"
            )
        output = head + (dot_letters if dots else "") + tail
        for c in head + tail:
            if (head + tail).count(c) > 1:
                raise ValueError(f"einsum: the output of {subscripts!r} names {c!r} more than once")
            if not any(c in term for term in inputs):
                raise ValueError(f"einsum: the output of {subscripts!r} names {c!r}, which no operand has")
    else:  # implicit: '...' first, then the letters that appear exactly once, sorted
        letters = "".join(term.replace("...", "") for term in terms)
        output = dot_letters + "".join(sorted((c for c in set(letters) if letters.count(c) == 1), key=_LETTERS.index))
    return inputs, output


def _letter_sizes(terms: list[str], shapes: list[tuple[int, ...]]) -> dict[str, int]:
    """The size of each letter after broadcasting (an axis of size 1 stretches to the others')."""
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            if sizes.setdefault(c, n) == 1:
                sizes[c] = n
    return sizes


def _einsum_any(subscripts: str, operands: list[Any], optimize: Any) -> Any:
    """np.einsum on arrays; the Einsum op (recorded) when an operand is a Tensor."""
    if any(is_tensor(a) for a in operands):
        like = next(a for a in operands if is_tensor(a))
        return Einsum.apply(subscripts, optimize, *[as_tensor(a, like, "einsum") for a in operands])
    return np.einsum(subscripts, *operands, optimize=optimize)


class Einsum(Function):
    """y = einsum(subscripts, x_1, ..., x_n): y[out] = sum over the other letters of prod_k x_k[term_k].

    dL/dx_k = einsum(out, term_j (j != k) -> term_k)(dL/dy, x_j...): the same sum with dL/dy in
    place of x_k. A letter repeated in term_k (a diagonal, 'ii') is a delta: the einsum also
    takes identity matrices, so the gradient is 0 off the diagonal. A letter only x_k has (and
    the output lacks) is summed in forward, so the gradient is the same along it (a ones
    vector carries it). Axes of size 1 that broadcast are summed back by the engine.
    """

    @staticmethod
    def forward(ctx: Context, subscripts: str, optimize: Any, *xs: Tensor) -> np.ndarray:
        terms, output = _parse_einsum(subscripts, [x.shape for x in xs])
        ctx.terms, ctx.output_letters, ctx.optimize = terms, output, optimize
        ctx.shapes = [x.shape for x in xs]
        ctx.sizes = _letter_sizes(terms, ctx.shapes)
        if len(xs) > 1:
            ctx.save_for_backward(*xs)
        out = np.einsum(",".join(terms) + "->" + output, *[x.data for x in xs], optimize=optimize)
        # np.einsum returns a view for a pure permutation or diagonal: copy, so the result owns its memory
        if isinstance(out, np.ndarray) and out.base is not None and any(np.may_share_memory(out, x.data) for x in xs):
            out = out.copy()
        return out

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, ...]:
        xs = ctx.saved_tensors
        terms, output, sizes = ctx.terms, ctx.output_letters, ctx.sizes
        needs = ctx.needs_input_grad[2:]
        dtype = ctx.dtype
        grads: list[Any] = [None, None]
        for k, term in enumerate(terms):
            if not needs[k]:
                grads.append(None)
                continue
            others = [(t, xs[j]) for j, t in enumerate(terms) if j != k]
            spans = [dict(zip(t, ctx.shapes[j])) for j, t in enumerate(terms) if j != k]
            spare = iter(c for c in _LETTERS if c not in "".join(terms) + output)
            target = ""
            extra: list[tuple[str, Any]] = []
            for c in term:
                if c not in target:
                    target += c
                else:  # a repeated letter: a new letter tied to c by an identity matrix
                    twin = next(spare)
                    target += twin
                    extra.append((c + twin, np.eye(sizes[c], dtype=dtype)))
            own = dict(zip(term, ctx.shapes[k]))
            for c in dict.fromkeys(term):
                reach = max([span[c] for span in spans if c in span] + ([sizes[c]] if c in output else []), default=-1)
                if reach < own[c]:  # nothing else spans c at full size: the gradient is constant along it
                    extra.append((c, np.ones(own[c], dtype=dtype)))
            subs = ",".join([output] + [t for t, _ in others] + [t for t, _ in extra]) + "->" + target
            grads.append(_einsum_any(subs, [grad] + [x for _, x in others] + [e for _, e in extra], ctx.optimize))
        return tuple(grads)


def einsum(subscripts: str, *operands: Any, optimize: Any = False) -> Tensor:
    """Einstein summation, as ``np.einsum``: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Explicit ('->') and implicit output, repeated letters ('ii->i' the diagonal, 'ii' the
    trace), '...' for leading axes and broadcasting of size-1 axes all follow numpy. The
    gradient of each operand is itself an einsum, so it can be differentiated again.
    ``optimize`` is passed to ``np.einsum`` (forward and backward).
    """
    if not operands:
        raise ValueError("einsum: no operands given; write einsum('ij,jk->ik', a, b)")
    like = next((a for a in operands if is_tensor(a)), None)
    tensors = [as_tensor(a, like, "einsum") for a in operands]
    _parse_einsum(subscripts, [t.shape for t in tensors])  # clear errors before numpy's
    return Einsum.apply(subscripts, optimize, *tensors)


# ----------------------------------------------------------------------------- gather and scatter_add


def _positions(index: Any, axis: int, x_shape: tuple[int, ...]) -> tuple[Any, ...]:
    """The full index that reads x at ``index``: for each position p of ``index``, the element
    of x at p with p[axis] replaced by index[p] (on an axis where x has size 1 and index more,
    x's one element: broadcasting)."""
    ndim = len(x_shape)
    parts: list[Any] = []
    for d in range(ndim):
        if d == axis:
            parts.append(index)
            continue
        shape = [1] * ndim
        shape[d] = index.shape[d]
        if x_shape[d] == 1 and index.shape[d] != 1:
            parts.append(np.zeros(shape, dtype=np.intp))
        else:
            parts.append(np.arange(index.shape[d]).reshape(shape))
    return tuple(parts)


def _non_negative(index: Any, n: int) -> Any:
    """Integer indices with negative ones counted from the end, as intp."""
    return np.where(index < 0, index + n, index).astype(np.intp)


def _scatter_add_arrays(base: Any, index: Any, axis: int, src: Any) -> Any:
    """A copy of ``base`` with each src[p] added at _positions(index)[p] (repeats add up)."""
    for a in (base, index, src):
        if not isinstance(a, (np.ndarray, np.generic)):  # a value autograd.compile traces: one call
            return a.call(_scatter_add_arrays, base, index, axis, src)
    out = np.array(base, dtype=np.result_type(base, src), copy=True)
    np.add.at(out, _positions(index, axis, out.shape), src)
    return out


class Gather(Function):
    """y[p] = x[p with p[axis] = index[p]] for every p of ``shape`` (index broadcast to it; an
    axis of x of size 1 broadcasts too);  dL/dx = zeros with dL/dy[p] added at each such element
    (repeated indices add up): a ScatterAdd"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, index: Tensor, axis: int, shape: tuple[int, ...]) -> np.ndarray:
        idx = index.data
        if idx.shape != shape:
            idx = np.broadcast_to(idx, shape)
        ctx.index = idx = _non_negative(idx, x.shape[axis])  # a new array: later changes to index don't leak in
        ctx.axis, ctx.in_shape = axis, x.shape
        return x.data[_positions(idx, axis, x.shape)]

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None, None, None]:
        if is_tensor(grad):
            zeros = as_tensor(np.zeros(ctx.in_shape, dtype=grad.dtype))
            return ScatterAdd.apply(zeros, as_tensor(ctx.index), ctx.axis, grad), None, None, None
        gx = _scatter_add_arrays(np.zeros(ctx.in_shape, dtype=grad.dtype), ctx.index, ctx.axis, grad)
        return gx, None, None, None


class ScatterAdd(Function):
    """y = x, then y[p with p[axis] = index[p]] += src[p] for every position p of index
    (src has index's shape; repeats add up);  dL/dx = dL/dy,  dL/dsrc[p] = dL/dy[p with
    p[axis] = index[p]]: a Gather"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, index: Tensor, axis: int, src: Tensor) -> np.ndarray:
        ctx.index = idx = _non_negative(index.data, x.shape[axis])
        ctx.axis = axis
        out = _scatter_add_arrays(x.data, idx, axis, src.data)
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None, None, Any]:
        need_x, _, _, need_src = ctx.needs_input_grad
        g_src = None
        if need_src:
            if is_tensor(grad):
                g_src = Gather.apply(grad, as_tensor(ctx.index), ctx.axis, ctx.index.shape)
            else:
                g_src = grad[_positions(ctx.index, ctx.axis, grad.shape)]
        return (grad if need_x else None), None, None, g_src


def _axis_of(op: str, axis: Any, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an integer, got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for a {ndim}-D tensor (valid: {-ndim} to {ndim - 1})")
    return int(axis) % ndim


def _integer_index(op: str, index: Any, name: str = "index") -> Tensor:
    """``index`` as a Tensor of integers (not copied), or a TypeError naming ``op``."""
    t = as_tensor(index, op=op)
    if t.dtype.kind not in "iu":
        hint = " (a bool mask selects with x[mask] or masked_fill)" if t.dtype == bool and op != "one_hot" else ""
        raise TypeError(
            f"{op}: {name} must hold integers, got dtype {t.dtype}{hint}; write {name}.astype(np.int64) "
            "if the values are whole numbers"
        )
    return t


def _check_bounds(op: str, values: np.ndarray, n: int, axis: int, shape: tuple[int, ...], negative: bool) -> None:
    if values.size == 0:
        return
    lo, hi = int(values.min()), int(values.max())
    low_limit = -n if negative else 0
    if lo < low_limit or hi >= n:
        bad = lo if lo < low_limit else hi
        valid = f"{-n} to {n - 1}" if negative else f"0 to {n - 1}"
        raise IndexError(
            f"{op}: index {bad} is out of bounds for axis {axis} of size {n} (tensor shape {shape}); "
            f"indices along axis {axis} must be {valid}"
        )


def _required(op: str, call: str, **arguments: Any) -> None:
    missing = [name for name, value in arguments.items() if value is None]
    if missing:
        raise TypeError(f"{op}: missing {', '.join(missing)}; write {call}")


def gather(x: Any, axis: int | None = None, index: Any = None, **torch_spelling: Any) -> Tensor:
    """PyTorch's gather: y[i][j] = x[index[i][j]][j] for axis 0, y[i][j] = x[i][index[i][j]] for axis 1.

    ``index`` is an integer array (or Tensor) with x's number of axes; the result has its shape.
    Along the other axes index may be shorter than x (the first entries are used, as in PyTorch),
    never longer. Indices must be 0 <= i < x.shape[axis]. The gradient adds dL/dy into x at the
    gathered places (repeated indices add up). numpy's broadcasting form is ``take_along_axis``.
    """
    if torch_spelling:
        refuse_torch_keywords("gather", torch_spelling)
    _required("gather", "gather(x, axis, index)", axis=axis, index=index)
    x = as_tensor(x, op="gather")
    index = _integer_index("gather", index)
    if x.ndim == 0:
        raise ValueError("gather: x is 0-d; gather picks along an axis of a tensor with at least one (reshape(1) it)")
    if index.ndim != x.ndim:
        raise ValueError(
            f"gather: index of shape {index.shape} must have as many axes as x of shape {x.shape} "
            f"({x.ndim}); reshape it (e.g. index[:, None] to pick one element per row)"
        )
    axis = _axis_of("gather", axis, x.ndim)
    for d in range(x.ndim):
        if d != axis and index.shape[d] > x.shape[d]:
            raise ValueError(
                f"gather: index of shape {index.shape} is longer than x of shape {x.shape} along axis {d}; "
                f"along every axis but {axis} it may be at most as long (use take_along_axis to broadcast)"
            )
    _check_bounds("gather", value_of(index), x.shape[axis], axis, x.shape, negative=False)
    return Gather.apply(x, index, axis, index.shape)


def take_along_axis(x: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """numpy's take_along_axis: y[..., j, ...] = x[..., indices[..., j, ...], ...] along ``axis``.

    ``indices`` has x's number of axes; on the other axes x and indices broadcast against each
    other. Negative indices count from the end; ``axis=None`` works on x flattened (indices 1-D).
    The gradient adds dL/dy into x at the picked places (repeated indices add up).
    """
    x = as_tensor(x, op="take_along_axis")
    indices = _integer_index("take_along_axis", indices, "indices")
    if axis is None:
        if indices.ndim != 1:
            raise ValueError(
                f"take_along_axis: with axis=None, indices must be 1-D (x is flattened), got shape {indices.shape}"
            )
        x = x.reshape(-1)
        axis = 0
    if x.ndim == 0:
        raise ValueError("take_along_axis: x is 0-d; pass axis=None or reshape it to 1-D")
    if indices.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices of shape {indices.shape} must have as many axes as x of shape {x.shape} "
            f"({x.ndim}); add axes of size 1 (indices[..., None]) to broadcast"
        )
    axis = _axis_of("take_along_axis", axis, x.ndim)
    x_shape = x.shape[:axis] + (1,) + x.shape[axis + 1 :]
    try:
        shape = np.broadcast_shapes(x_shape, indices.shape[:axis] + (1,) + indices.shape[axis + 1 :])
    except ValueError:
        raise ValueError(
            f"take_along_axis: indices of shape {indices.shape} and x of shape {x.shape} do not broadcast "
            f"along the axes other than {axis}; each such axis must be equal or 1 in one of them"
        ) from None
    shape = shape[:axis] + (indices.shape[axis],) + shape[axis + 1 :]
    _check_bounds("take_along_axis", value_of(indices), x.shape[axis], axis, x.shape, negative=True)
    return Gather.apply(x, indices, axis, shape)


def scatter_add(x: Any, axis: int | None = None, index: Any = None, src: Any = None, **torch_spelling: Any) -> Tensor:
    """PyTorch's scatter_add, out of place: y = x, then y[index[i][j]][j] += src[i][j] for axis 0
    (y[i][index[i][j]] += src[i][j] for axis 1). Repeated indices add up.

    ``index`` is an integer array with x's number of axes, 0 <= i < x.shape[axis]; along every
    axis it is at most as long as src, and along the others at most as long as x (PyTorch's
    rule; the entries of src beyond index's extent are not used and get gradient 0).
    dL/dx = dL/dy;  dL/dsrc = dL/dy gathered at index.
    """
    if torch_spelling:
        refuse_torch_keywords("scatter_add", torch_spelling)
    _required("scatter_add", "scatter_add(x, axis, index, src)", axis=axis, index=index, src=src)
    x = as_tensor(x, op="scatter_add")
    src = as_tensor(src, x, "scatter_add")
    index = _integer_index("scatter_add", index)
    if x.ndim == 0:
        raise ValueError("scatter_add: x is 0-d; reshape it to 1-D first")
    if not (index.ndim == x.ndim == src.ndim):
        raise ValueError(
            f"scatter_add: x {x.shape}, index {index.shape} and src {src.shape} must have the same number of "
            "axes; reshape index and src to x's"
        )
    axis = _axis_of("scatter_add", axis, x.ndim)
    for d in range(x.ndim):
        if index.shape[d] > src.shape[d] or (d != axis and index.shape[d] > x.shape[d]):
            raise ValueError(
                f"scatter_add: index of shape {index.shape} is longer than src {src.shape} or x {x.shape} "
                f"along axis {d}; index may be at most as long as src on every axis and as x on every axis but {axis}"
            )
    if x.dtype.kind != "f" and (x.requires_grad or src.requires_grad):
        raise TypeError(f"scatter_add: x has dtype {x.dtype}; a gradient needs a float x (x.astype(np.float64))")
    _check_bounds("scatter_add", value_of(index), x.shape[axis], axis, x.shape, negative=False)
    if src.shape != index.shape:  # PyTorch uses only src's part under index
        src = src[tuple(slice(0, n) for n in index.shape)]
    return ScatterAdd.apply(x, index, axis, src)


# ----------------------------------------------------------------------------- masked_fill, one_hot


class MaskedFill(Function):
    """y = value where mask else x (mask and value broadcast to x's shape);  dL/dx = dL/dy where
    not mask, 0 where filled;  dL/dvalue = sum of dL/dy over the filled places"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, mask: Tensor, value: Tensor) -> np.ndarray:
        ctx.mask = mask.data.copy()  # changing the mask later must not change the gradient
        out = np.where(ctx.mask, value.data, x.data)
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None, Any]:
        _, _, need_value = ctx.needs_input_grad
        return (
            np.where(ctx.mask, 0.0, grad),
            None,
            np.where(ctx.mask, grad, 0.0) if need_value else None,  # summed to value's shape by the engine
        )


def masked_fill(x: Any, mask: Any, value: Any) -> Tensor:
    """PyTorch's masked_fill: ``value`` where the bool ``mask`` is True, x elsewhere.

    ``mask`` broadcasts to x's shape (the result has x's shape and dtype); ``value`` is a number
    or a tensor that broadcasts to it (a 0-d one in PyTorch). The gradient is 0 where filled.
    """
    x = as_tensor(x, op="masked_fill")
    mask = as_tensor(mask, op="masked_fill")
    if mask.dtype != bool:
        raise TypeError(
            f"masked_fill: mask must be bool, got dtype {mask.dtype}; write (mask != 0) or mask.astype(bool)"
        )
    value = as_tensor(value, x, "masked_fill")
    for name, t in (("mask", mask), ("value", value)):
        try:
            fits = np.broadcast_shapes(t.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"masked_fill: {name} of shape {t.shape} does not broadcast to x's shape {x.shape}; "
                "the result has x's shape, so the mask and value must broadcast to it"
            )
    return MaskedFill.apply(x, mask, value)


def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """y[..., c] = 1 if labels[...] == c else 0: shape labels.shape + (num_classes,), dtype int64
    as in PyTorch (``.astype(np.float64)`` for a float one). ``num_classes=-1`` takes max + 1.

    Integer labels have no gradient: the result records no graph.
    """
    t = _integer_index("one_hot", labels, "labels")
    values = value_of(t)
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be an integer >= 0 (or -1 to infer it), got {num_classes!r}")
    if values.size and int(values.min()) < 0:
        raise ValueError(f"one_hot: labels must be non-negative, got {int(values.min())} (labels shape {t.shape})")
    if num_classes == -1:
        if mode.tracer is not None:
            mode.tracer.value_read("one_hot(num_classes=-1) infers the class count from the labels")
        if values.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty labels; pass num_classes=")
        num_classes = int(values.max()) + 1
    elif values.size and int(values.max()) >= num_classes:
        raise ValueError(
            f"one_hot: label {int(values.max())} is out of range for num_classes={num_classes} "
            f"(labels shape {t.shape}); labels must be 0 to {num_classes - 1}"
        )
    return (t[..., None] == np.arange(num_classes)).astype(np.int64)  # integers: nothing is recorded


# ----------------------------------------------------------------------------- item assignment


def _plain_index(index: Any) -> Any:
    """The index with Tensors replaced by their arrays and lists made arrays (copies: frozen)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if is_tensor(index):
        return value_of(index).copy()
    if isinstance(index, (list, np.ndarray)):
        return np.array(index)
    return index


def _has_integer_array(index: Any) -> bool:
    """True if an integer array is in the index: only then can an element be written twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" and i.ndim > 0 for i in parts)


def _is_basic(index: Any) -> bool:
    """True for ints, slices, None and Ellipsis only."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts)


def _target_shape(shape: tuple[int, ...], index: Any) -> tuple[int, ...]:
    """The shape of x[index] for an x of ``shape``, with numpy's errors named as setitem's."""
    try:
        return np.broadcast_to(np.empty((), dtype=bool), shape)[index].shape
    except (IndexError, ValueError, TypeError) as err:
        raise type(err)(f"setitem: {err} (tensor shape {shape})") from None


def _value_shape(v_shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...] | None:
    """v's shape without the extra leading axes of size 1 numpy lets it have, or None if v
    does not broadcast to ``target``."""
    extra = len(v_shape) - len(target)
    if extra > 0:
        if any(n != 1 for n in v_shape[:extra]):
            return None
        v_shape = v_shape[extra:]
    try:
        return v_shape if np.broadcast_shapes(v_shape, target) == target else None
    except ValueError:
        return None


class SetItem(Function):
    """y = x with y[index] = v (v broadcast to x[index]'s shape; where an integer index repeats,
    the last write is kept, as numpy);  dL/dx = dL/dy with 0 at index,  dL/dv = dL/dy[index]
    where v's element is the one kept, 0 for overwritten copies (summed over broadcasting)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, index: Any, v: Tensor) -> np.ndarray:
        out = np.array(x.data, copy=True)  # x's array may be saved by other ops: it is never written
        target = _target_shape(x.shape, index)
        ctx.index, ctx.v_shape = index, v.shape
        values = v.data.reshape(_value_shape(v.shape, target) or v.shape)
        if _has_integer_array(index):
            # Which copy of v wins an element written twice: numpy's own write order, read off
            # by writing positions; then each element takes its winner's value, so the value
            # and the gradient agree whatever that order is.
            order = np.arange(int(np.prod(target)), dtype=np.intp).reshape(target)
            winner = np.full(x.shape, -1, dtype=np.intp)
            winner[index] = order
            ctx.kept = winner[index] == order
            ctx.untouched = winner < 0
            written = ~ctx.untouched
            out[written] = np.broadcast_to(values, target).reshape(-1)[winner[written]]
        else:  # ints, slices, masks: each element is written at most once
            ctx.kept = None
            ctx.untouched = np.ones(x.shape, dtype=bool)
            ctx.untouched[index] = False
            out[index] = values
        ctx.target_ndim = len(target)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None, Any]:
        need_x, _, need_v = ctx.needs_input_grad
        g_x = np.where(ctx.untouched, grad, 0.0) if need_x else None
        g_v = None
        if need_v:
            g_v = grad[ctx.index]
            if ctx.kept is not None:
                g_v = np.where(ctx.kept, g_v, 0.0)
            extra = len(ctx.v_shape) - ctx.target_ndim
            if extra > 0:  # numpy lets v have extra leading axes of size 1
                g_v = g_v.reshape((1,) * extra + g_v.shape)
        return g_x, None, g_v


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``, as PyTorch users mean it (what ``Tensor.__setitem__`` calls).

    When the graph is recorded (grad mode on, and t or value requires grad) the assignment is
    a SetItem op: ``t`` becomes its result (a new array; the old one, which ops may have saved,
    is not written) and backprop through ``t`` gives the old values gradient 0 at index and
    value the gradient there. Otherwise (no_grad(), or nothing requires grad) it writes into
    t's array in place, as numpy does, and counts a change of version. Refused: a leaf that
    requires grad in grad mode (do it under no_grad()), and a view of another tensor's memory
    in grad mode (the other tensor would not see the change: assign into it instead).
    """
    if mode.tracer is not None:
        from ..compile import CompileError

        raise CompileError(
            "autograd.compile: item assignment (t[index] = v) is not traced; build the value with "
            "where, masked_fill, scatter_add or concatenate instead"
        )
    index = _plain_index(index)
    v_grad = is_tensor(value) and value.requires_grad
    if not (is_grad_enabled() and (t.requires_grad or v_grad)):
        if type(t.data) is not np.ndarray:  # a 0-d result held as a numpy scalar: make it an array
            t.data = np.array(t.data)
        v = value_of(value) if is_tensor(value) else value
        try:
            t.data[index] = v
        except (IndexError, ValueError, TypeError) as err:
            raise type(err)(f"setitem: {err} (tensor shape {t.shape}, value shape {np.shape(v)})") from None
        bump_version(t.data)
        return
    node = t.grad_fn
    if t.requires_grad and node is None:
        raise RuntimeError(
            f"setitem: t[index] = v on a leaf tensor that requires grad (shape {t.shape}) while grad mode "
            "is on: the change could not be recorded. Do it under no_grad() (as optimizers do), or "
            "assign into a copy made by an op (y = x * 1.0; y[index] = v)"
        )
    copied = node is not None and node.fn is GetItem and not _is_basic(node.index)  # x[[0, 2]] copies
    if isinstance(t.data, np.ndarray) and t.data.base is not None and not copied:
        made_by = f"made by {node.name}" if node is not None else "a view of another array"
        raise RuntimeError(
            f"setitem: t (shape {t.shape}, {made_by}) shares memory with another tensor (a view from "
            "indexing, reshape or transpose): in PyTorch and numpy that tensor would change too, which "
            "cannot be recorded here. Assign into the tensor it was taken from (x[0, 1] = v, not "
            "x[0][1] = v), or make t its own copy first (t = t * 1.0)"
        )
    if t.dtype.kind != "f":
        raise TypeError(
            f"setitem: t has dtype {t.dtype} and the value requires grad: a gradient needs a float tensor; "
            "write t = t.astype(np.float64) first"
        )
    v = as_tensor(value, t, "setitem")
    target = _target_shape(t.shape, index)
    if _value_shape(v.shape, target) is None:
        raise ValueError(
            f"setitem: value of shape {v.shape} does not broadcast to t[index]'s shape {target} "
            f"(t has shape {t.shape}); give a value of that shape, or one that broadcasts to it"
        )
    old = t._make(t.data)  # stands for t's old value in the graph
    old.grad_fn, old.requires_grad, old._name = node, t.requires_grad, t._name
    out = SetItem.apply(old, index, v)
    # Ops that saved the tensor object t itself (t * w, t.log()...) would now read the new
    # values: counting a change makes their backward refuse, as PyTorch's does.
    bump_version(out.data)
    new = out.grad_fn
    assert new is not None  # recorded: grad mode is on and t or v requires grad
    t.data, t.grad_fn, t.requires_grad = out.data, new, True
    if t._name is not None:
        new.output_name = t._name
    if node is not None and node.retained is not None and node.retained() is t:
        node.retained, new.retained = None, weakref.ref(t)  # retain_grad() follows t, as in PyTorch
