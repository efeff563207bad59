"""einsum, gather / take_along_axis, scatter_add, masked_fill, one_hot and item assignment.

Every differentiable op has a ``Case`` in ``CASES``, run through the shared checks of
tests/op_checks.py (value against numpy, first and second derivatives against central
differences and gradcheck, float32 kept). Hypothesis draws the shapes, the einsum letter
sizes (size-1 axes that broadcast included) and the indices, which repeat often: repeated
indices must add up (gather, scatter_add) or keep the last write (t[i] = v, as numpy).

Then values and gradients against PyTorch where it has the op, the semantics of item
assignment (aliasing, views, no_grad, saved tensors), and the errors, which name the op.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import Case, check_first, check_float32, check_second

import autograd
from autograd import Tensor, einsum, gather, grad, no_grad, one_hot, scatter_add, take_along_axis
from autograd.compile import CompileError
from autograd.ops import masked_fill

# ----------------------------------------------------------------------------- einsum

# Subscripts covering matmul, implicit output, traces and diagonals (repeated letters),
# outer products, three operands, letters only one operand has (summed away) and '...'.
EINSUM_SPECS = [
    "ij,jk->ik",
    "ij,jk",
    "ii->i",
    "ii",
    "iij->j",
    "iii->i",
    "ij->",
    "ij->ji",
    "ijk->kij",
    "ij->j",
    "i,i",
    "i,j->ij",
    "ij,ij->ij",
    "bij,bjk->bik",
    "ij,jk,kl->il",
    "ii,i->i",
    "ij,j",
    "i,i,i->",
    "...ij,...jk->...ik",
    "...i,...i",
    "i...->...",
    "ba...",
    "...ii->...i",
    "...,...->...",
]


def _tokens(term: str) -> list[str]:
    """A term's axes: letters and '...'."""
    head, dots, tail = term.partition("...")
    return list(head) + (["..."] if dots else []) + list(tail)


def _einsum_case(data):
    spec = data.draw(st.sampled_from(EINSUM_SPECS), label="subscripts")
    terms = spec.partition("->")[0].split(",")
    letters = sorted(set(spec) - set(",->."))
    sizes = {c: data.draw(st.integers(1, 3), label=f"size of {c}") for c in letters}
    with_dots = [k for k, term in enumerate(terms) if "..." in term]
    dot_shapes = {}
    if with_dots:  # shapes under '...' broadcast against each other, as numpy's
        drawn = data.draw(S.broadcastable_pairs(max_dims=2, num_shapes=len(with_dots)), label="'...' shapes")
        dot_shapes = dict(zip(with_dots, drawn.input_shapes))
    shapes = []
    for k, term in enumerate(terms):
        shape: list[int] = []
        for token in _tokens(term):
            if token == "...":
                shape.extend(dot_shapes[k])
                continue
            # an operand may hold a letter at size 1, which broadcasts (numpy's rule)
            one = data.draw(st.sampled_from([False, False, True]), label=f"operand {k} has {token} of size 1")
            shape.append(1 if one else sizes[token])
        shapes.append(tuple(shape))
    # one letter, one size within an operand: a repeated letter keeps its first draw there
    shapes = [_same_within(term, shape) for term, shape in zip(terms, shapes)]
    arrays = [data.draw(S.arrays(s), label=f"x{k}") for k, s in enumerate(shapes)]
    numpy_form = data.draw(st.booleans(), label="as np.einsum")
    if numpy_form:
        return arrays, (lambda *ts: np.einsum(spec, *ts)), (lambda *arrs: np.einsum(spec, *arrs))
    return arrays, (lambda *ts: einsum(spec, *ts)), (lambda *arrs: np.einsum(spec, *arrs))


def _same_within(term: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    tokens = _tokens(term)
    if "..." in tokens:
        i = tokens.index("...")
        n_dots = len(shape) - len(tokens) + 1
        axes = tokens[:i] + ["."] * n_dots + tokens[i + 1 :]
    else:
        axes = tokens
    first: dict[str, int] = {}
    return tuple(n if c == "." else first.setdefault(c, n) for c, n in zip(axes, shape))


# ----------------------------------------------------------------------------- gather, take_along_axis, scatter_add


def _indices(data, shape, lo, hi, label="index"):
    """int64 indices in [lo, hi]: with a few values in a small range, repeats are the rule."""
    return data.draw(hnp.arrays(np.int64, shape, elements=st.integers(lo, hi)), label=label)


def _gather(data):
    """PyTorch's gather: index as long as x or shorter on the other axes, any length on axis."""
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    axis = data.draw(S.single_axis(x.ndim), label="axis")
    ax = axis % x.ndim
    shape = tuple(
        data.draw(st.integers(1, 4 if d == ax else n), label=f"index side {d}") for d, n in enumerate(x.shape)
    )
    index = _indices(data, shape, 0, x.shape[ax] - 1)
    as_tensor = data.draw(st.booleans(), label="index as Tensor")
    method = data.draw(st.booleans(), label="as a method")
    idx = Tensor(index) if as_tensor else index
    prefix = tuple(slice(0, n) for n in shape)
    prefix = prefix[:ax] + (slice(None),) + prefix[ax + 1 :]

    def numpy_fn(a):
        return np.take_along_axis(a[prefix], index, ax)

    if method:
        return [x], (lambda t: t.gather(axis, idx)), numpy_fn
    return [x], (lambda t: gather(t, axis, idx)), numpy_fn


def _take_along_axis(data):
    """numpy's form: the axes other than ``axis`` broadcast (either side may be 1); negative indices."""
    ndim = data.draw(st.integers(1, 3), label="ndim")
    shapes = data.draw(S.broadcastable_pairs(min_dims=ndim, max_dims=ndim), label="shapes").input_shapes
    x_shape, i_shape = ((1,) * (ndim - len(s)) + tuple(s) for s in shapes)
    axis = data.draw(S.single_axis(ndim), label="axis")
    ax = axis % ndim
    n = data.draw(st.integers(1, 3), label="x's side on axis")
    x_shape = x_shape[:ax] + (n,) + x_shape[ax + 1 :]
    i_shape = i_shape[:ax] + (data.draw(st.integers(1, 4), label="index side on axis"),) + i_shape[ax + 1 :]
    x = data.draw(S.arrays(x_shape), label="x")
    index = _indices(data, i_shape, -n, n - 1)
    if data.draw(st.booleans(), label="as np.take_along_axis"):
        return [x], (lambda t: np.take_along_axis(t, index, axis)), (lambda a: np.take_along_axis(a, index, axis))
    return [x], (lambda t: take_along_axis(t, index, axis)), (lambda a: np.take_along_axis(a, index, axis))


def _take_along_flattened(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    index = _indices(data, data.draw(st.integers(1, 5), label="count"), -x.size, x.size - 1)
    return [x], (lambda t: take_along_axis(t, index, None)), (lambda a: np.take_along_axis(a, index, None))


def _scatter_reference(x: np.ndarray, axis: int, index: np.ndarray, src: np.ndarray) -> np.ndarray:
    """out = x; out[..., index[p], ...] += src[p] over the positions p of index (np.add.at)."""
    out = x.copy()
    positions = np.indices(index.shape, sparse=True)
    full = tuple(index if d == axis else p for d, p in enumerate(positions))
    np.add.at(out, full, src[tuple(slice(0, n) for n in index.shape)])
    return out


def _scatter_add(data):
    """PyTorch's rule: index no longer than src anywhere, nor than x off the axis; src may be longer."""
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    axis = data.draw(S.single_axis(x.ndim), label="axis")
    ax = axis % x.ndim
    i_shape = tuple(
        data.draw(st.integers(1, 4 if d == ax else n), label=f"index side {d}") for d, n in enumerate(x.shape)
    )
    s_shape = tuple(n + data.draw(st.integers(0, 1), label=f"src extra {d}") for d, n in enumerate(i_shape))
    src = data.draw(S.arrays(s_shape), label="src")
    index = _indices(data, i_shape, 0, x.shape[ax] - 1)
    if data.draw(st.booleans(), label="as a method"):

        def fn(tx, ts):
            return tx.scatter_add(axis, index, ts)
    else:

        def fn(tx, ts):
            return scatter_add(tx, axis, Tensor(index), ts)

    return [x, src], fn, (lambda a, s: _scatter_reference(a, ax, index, s))


# ----------------------------------------------------------------------------- masked_fill


@st.composite
def _broadcast_source(draw, target: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts *to* target: a suffix of it with some sides set to 1."""
    k = draw(st.integers(0, len(target)))
    suffix = target[len(target) - k :]
    return tuple(1 if draw(st.booleans()) else n for n in suffix)


def _masked_fill(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    mask = data.draw(hnp.arrays(np.bool_, _broadcast_source(x.shape)), label="mask")
    value = data.draw(S.floats(-3.0, 3.0), label="value")
    m = Tensor(mask) if data.draw(st.booleans(), label="mask as Tensor") else mask
    if data.draw(st.booleans(), label="as a method"):
        return [x], (lambda t: t.masked_fill(m, value)), (lambda a: np.where(mask, value, a))
    return [x], (lambda t: masked_fill(t, m, value)), (lambda a: np.where(mask, value, a))


def _masked_fill_tensor_value(data):
    """value a tensor too (0-d as PyTorch's, or broadcasting to x): it gets the filled places' gradient."""
    x = data.draw(S.arrays(S.shapes()), label="x")
    mask = data.draw(hnp.arrays(np.bool_, _broadcast_source(x.shape)), label="mask")
    value = data.draw(S.arrays(_broadcast_source(x.shape)), label="value")
    return [x, value], (lambda t, v: t.masked_fill(mask, v)), (lambda a, v: np.where(mask, v, a))


# ----------------------------------------------------------------------------- item assignment


@st.composite
def _assignment_index(draw, shape: tuple[int, ...]):
    """An index to assign at: basic (ints, slices, None, ...), integer arrays (repeats are common),
    a bool mask, or a slice with a repeating integer list; arrays sometimes as Tensors."""
    kinds = ["basic"] + (["integer arrays", "mask", "slice and list"] if shape else [])
    if len(shape) < 2:
        kinds = [k for k in kinds if k != "slice and list"]
    kind = draw(st.sampled_from(kinds))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, allow_newaxis=True))
    as_tensor = draw(st.booleans())
    wrap = Tensor if as_tensor else (lambda a: a)
    if kind == "integer arrays":
        index = draw(hnp.integer_array_indices(shape, result_shape=S.shapes(min_dims=1, max_dims=2, max_side=4)))
        return tuple(wrap(i) for i in index)
    if kind == "mask":
        return wrap(draw(S.bool_masks(shape)))
    cols = draw(st.lists(st.integers(-shape[1], shape[1] - 1), min_size=1, max_size=5))
    return (draw(st.sampled_from([slice(None), slice(None, None, -1), slice(1, None)])), cols)


def _plain(index):
    if isinstance(index, tuple):
        return tuple(_plain(i) for i in index)
    return index.data if isinstance(index, Tensor) else index


@st.composite
def _value_shape(draw, shape: tuple[int, ...], index) -> tuple[int, ...]:
    """A shape numpy assigns to x[index] for an x of ``shape``: it broadcasts, and may have
    extra leading 1s where numpy takes them (not for a mask, nor a 0-d target)."""
    target = np.empty(shape)[_plain(index)].shape
    value = draw(st.one_of(st.just(target), _broadcast_source(target)))
    if draw(st.booleans()):
        try:
            np.empty(shape)[_plain(index)] = np.zeros((1, *value))
            value = (1, *value)
        except (ValueError, TypeError):
            pass
    return value


def _assigned(a: np.ndarray, index, v: np.ndarray) -> np.ndarray:
    out = np.array(a, dtype=np.float64)  # a copy (a * 1.0 would be a scalar for 0-d a)
    out[_plain(index)] = v
    return out


def _setitem(data):
    """y = x * 1.0; y[index] = v: x's gradient is 0 at index, v's is y's there (0 for a copy of v
    that a repeated index overwrote: numpy keeps the last write)."""
    x = data.draw(S.arrays(S.shapes()), label="x")
    index = data.draw(_assignment_index(x.shape), label="index")
    v = data.draw(S.arrays(_value_shape(x.shape, index)), label="v")

    def tensor_fn(tx, tv):
        y = tx * 1.0
        y[index] = tv
        return y

    return [x, v], tensor_fn, (lambda a, b: _assigned(a, index, b))


def _setitem_into_constant(data):
    """t does not require grad, v does: t becomes part of the graph (its old values are constants)."""
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="t")
    index = data.draw(_assignment_index(x.shape), label="index")
    v = data.draw(S.arrays(_value_shape(x.shape, index)), label="v")

    def tensor_fn(tv):
        t = Tensor(x, dtype=tv.dtype)
        t[index] = tv
        return t

    return [v], tensor_fn, (lambda b: _assigned(x, index, b))


def _setitem_from_itself(data):
    """y[dst] = y[src]: the value read from y's old values (aliasing), dst possibly repeating."""
    x = data.draw(S.arrays(S.shapes(min_dims=1, min_side=2)), label="x")
    n = x.shape[0]
    count = data.draw(st.integers(1, 3), label="count")
    dst = data.draw(
        st.one_of(st.integers(0, n - 1), st.lists(st.integers(-n, n - 1), min_size=count, max_size=count)), label="dst"
    )
    size = 1 if isinstance(dst, int) else count
    src = data.draw(
        st.one_of(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size), st.just(slice(n - size, n))),
        label="src",
    )
    if isinstance(dst, int):
        src = src[0] if isinstance(src, list) else n - 1

    def tensor_fn(tx):
        y = tx * 1.0
        y[dst] = y[src]
        return y

    def numpy_fn(a):
        out = np.array(a, dtype=np.float64)
        out[dst] = out[src]
        return out

    return [x], tensor_fn, numpy_fn


CASES: list[Case] = [
    Case("einsum", _einsum_case),
    Case("gather", _gather),
    Case("take_along_axis", _take_along_axis),
    Case("take_along_axis_flattened", _take_along_flattened),
    Case("scatter_add", _scatter_add),
    Case("masked_fill", _masked_fill),
    Case("masked_fill_tensor_value", _masked_fill_tensor_value),
    Case("setitem", _setitem),
    Case("setitem_into_constant", _setitem_into_constant),
    Case("setitem_from_itself", _setitem_from_itself),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=40)  # the file's time budget; each case is cheap but there are ten
@given(data=st.data())
def test_forward_and_first_derivative(case: Case, data: st.DataObject) -> None:
    check_first(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=25)
@given(data=st.data())
def test_second_derivative(case: Case, data: st.DataObject) -> None:
    check_second(case, data)


@pytest.mark.parametrize("case", [c for c in CASES if c.out_dtype_follows_input], ids=repr)
@settings(max_examples=10)
@given(data=st.data())
def test_float32_in_float32_out_and_float32_grads(case: Case, data: st.DataObject) -> None:
    check_float32(case, data)


# ----------------------------------------------------------------------------- against PyTorch

TORCH_EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]),
    ("...i,...i", [(2, 3), (3,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ij,j->i", [(2, 3), (1,)]),
]


@pytest.mark.parametrize("spec, shapes", TORCH_EINSUM, ids=[s for s, _ in TORCH_EINSUM])
def test_einsum_matches_torch_values_first_and_second_derivatives(spec, shapes) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(spec))
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = einsum(spec, *ours), torch.einsum(spec, *theirs)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(y.shape)
    firsts = grad((y * w).sum(), ours, create_graph=True)
    firsts_t = torch.autograd.grad((yt * torch.tensor(w)).sum(), theirs, create_graph=True)
    for g, gt in zip(firsts, firsts_t):
        np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    if len(arrays) > 1:  # a multilinear form: the second derivative couples the operands
        seconds = grad(sum((g * g).sum() for g in firsts), ours, allow_unused=True)
        seconds_t = torch.autograd.grad(sum((g * g).sum() for g in firsts_t), theirs, allow_unused=True)
        for g, gt in zip(seconds, seconds_t):
            if gt is None:
                assert g is None or not np.any(g.data)
            else:
                np.testing.assert_allclose(g.data, gt.numpy(), rtol=1e-12, atol=1e-12)


def test_gather_matches_torch_with_repeated_indices() -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(3, 4)
    index = np.array([[0, 0, 3], [1, 2, 2]])  # shorter than x on axis 0: PyTorch uses x's first rows
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    for axis in (1, -1):
        t = Tensor(x, requires_grad=True)
        tt = torch.tensor(x, requires_grad=True)
        y, yt = t.gather(axis, index), torch.gather(tt, axis, torch.tensor(index))
        np.testing.assert_array_equal(y.data, yt.detach().numpy())
        (y * w).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())  # [0, 0] picked twice: 1 + 2
    t = Tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    index0 = np.array([[2, 0, 2, 2], [2, 1, 0, 2]])
    y, yt = gather(t, 0, index0), torch.gather(tt, 0, torch.tensor(index0))
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())


def test_take_along_axis_is_numpys_and_is_torchs_take_along_dim() -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(3, 4)
    index = np.array([[3], [0], [3]])
    t = Tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    y = take_along_axis(t, index, 1)
    yt = torch.take_along_dim(tt, torch.tensor(index), 1)
    np.testing.assert_array_equal(y.data, np.take_along_axis(x, index, 1))
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    (y * np.array([[1.0], [2.0], [3.0]])).sum().backward()
    (yt * torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())
    # negative indices count from the end, as numpy; x of side 1 broadcasts and its gradient adds up
    t = Tensor([[10.0, 20.0, 30.0]], requires_grad=True)
    y = take_along_axis(t, np.array([[-1], [0], [-1]]), 1)
    np.testing.assert_array_equal(y.data, [[30.0], [10.0], [30.0]])
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.data, [[1.0, 0.0, 2.0]])


def test_scatter_add_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(3, 4) / 10
    src = np.arange(8.0).reshape(2, 4)
    index = np.array([[0, 1, 2, 0], [0, 0, 0, 0]])  # element [0, 0] gets three additions
    w = np.arange(12.0).reshape(3, 4) - 5
    t, s = Tensor(x, requires_grad=True), Tensor(src, requires_grad=True)
    tt, st_ = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
    y, yt = scatter_add(t, 0, index, s), tt.scatter_add(0, torch.tensor(index), st_)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    (y * w).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())
    np.testing.assert_array_equal(s.grad.data, st_.grad.numpy())

    # src longer than index: PyTorch uses the part under index (its backward refuses this
    # case, so the gradient is checked against its definition: 0 for the unused entries)
    longer = np.arange(15.0).reshape(3, 5)
    s = Tensor(longer, requires_grad=True)
    y = scatter_add(t, 0, index, s)
    np.testing.assert_array_equal(
        y.data, torch.tensor(x).scatter_add(0, torch.tensor(index), torch.tensor(longer)).numpy()
    )
    (y * w).sum().backward()
    expected = np.zeros((3, 5))
    expected[:2, :4] = np.take_along_axis(w, index, 0)
    np.testing.assert_array_equal(s.grad.data, expected)


def test_masked_fill_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(6.0).reshape(2, 3)
    mask = np.array([True, False, True])  # broadcast over the rows
    t, v = Tensor(x, requires_grad=True), Tensor(-1.5, requires_grad=True)
    tt, vt = torch.tensor(x, requires_grad=True), torch.tensor(-1.5, dtype=torch.float64, requires_grad=True)
    y, yt = t.masked_fill(mask, v), tt.masked_fill(torch.tensor(mask), vt)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    w = np.arange(6.0).reshape(2, 3) + 1
    (y * w).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())
    assert v.grad.item() == vt.grad.item() == 1 + 3 + 4 + 6


def test_one_hot_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    labels = np.array([[0, 3], [2, 2]])
    for classes in (-1, 5):
        ours = one_hot(labels, classes)
        theirs = torch.nn.functional.one_hot(torch.tensor(labels), classes)
        assert ours.dtype == np.int64 and not ours.requires_grad
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert one_hot(Tensor([1, 0])).shape == (2, 2)
    np.testing.assert_array_equal(one_hot(np.array([], dtype=np.int64), 3).data, np.zeros((0, 3)))


def test_setitem_matches_torch_with_unique_indices() -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(3, 4)
    v = np.array([10.0, 20.0, 30.0, 40.0])
    w = np.arange(12.0).reshape(3, 4) + 1
    mask = np.array([[True, False, True, False]] * 3)
    for index, value in [(1, v), ((slice(None), 2), v[:3]), ((np.array([0, 2]),), v), (mask, v[0])]:
        t, tv = Tensor(x, requires_grad=True), Tensor(value, requires_grad=True)
        tt, tvt = torch.tensor(x, requires_grad=True), torch.tensor(value, requires_grad=True)
        y, yt = t * 2.0, tt * 2.0
        y[index] = tv
        yt[torch.tensor(index) if isinstance(index, np.ndarray) else index] = tvt
        np.testing.assert_array_equal(y.data, yt.detach().numpy())
        (y * w).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())
        np.testing.assert_array_equal(tv.grad.data, tvt.grad.numpy())


def test_setitem_with_repeated_indices_keeps_the_last_write_and_its_gradient_only() -> None:
    """numpy (and PyTorch on CPU) keep the last of several writes to one element. The value then
    does not depend on the overwritten copies, so their gradient is 0 here (central differences
    agree, see the setitem Case). PyTorch's index_put gives every copy the element's gradient,
    although an overwritten copy does not change the result: only the kept copies match it."""
    torch = pytest.importorskip("torch")
    x = np.zeros(4)
    index = np.array([0, 0, 2, 0])
    v = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    t, tv = Tensor(x, requires_grad=True), Tensor(v, requires_grad=True)
    tt, tvt = torch.tensor(x, requires_grad=True), torch.tensor(v, requires_grad=True)
    y, yt = t * 2.0, tt * 2.0
    y[index] = tv
    yt[torch.tensor(index)] = tvt
    np.testing.assert_array_equal(y.data, [4.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    (y * w).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())  # [0, 20, 0, 2000]
    kept = np.array([False, False, True, True])
    np.testing.assert_array_equal(tv.grad.data[kept], tvt.grad.numpy()[kept])
    np.testing.assert_array_equal(tv.grad.data, [0.0, 0.0, 100.0, 1.0])
    assert tvt.grad.numpy().tolist() == [1.0, 1.0, 100.0, 1.0]  # PyTorch's: every copy


# ----------------------------------------------------------------------------- item assignment semantics


def test_setitem_rebases_the_tensor_the_old_value_keeps_its_graph() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = Tensor(5.0, requires_grad=True)
    y = x * 2.0
    before = y.exp()  # saved its own output: unaffected by the assignment
    y[1] = z
    np.testing.assert_array_equal(y.data, [2.0, 5.0, 6.0])
    assert y.grad_fn.name == "SetItem" and y.requires_grad and not y.is_leaf
    np.testing.assert_array_equal(before.data, np.exp([2.0, 4.0, 6.0]))
    (before.sum() + (y * y).sum()).backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp([2.0, 4.0, 6.0]) + 2 * 2 * np.array([2.0, 0.0, 6.0]))
    assert z.grad.item() == 2 * 5.0


def test_setitem_from_the_tensor_itself() -> None:
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 2.0
    y[0] = y[1]
    np.testing.assert_array_equal(y.data, [4.0, 4.0, 6.0, 8.0])
    (y * np.array([1.0, 10.0, 100.0, 1000.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 2 * (10.0 + 1.0), 200.0, 2000.0])

    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1.0
    y[1:] = y[:-1]  # overlapping: the values read are the old ones, as numpy's
    np.testing.assert_array_equal(y.data, [1.0, 1.0, 2.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 1.0, 1.0, 0.0])


def test_setitem_with_index_tensors_masks_and_broadcast_values() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    v = Tensor([7.0, 8.0, 9.0], requires_grad=True)
    y = x * 1.0
    y[Tensor([True, False])] = v  # a bool Tensor mask; v of shape (3,) fills the (1, 3) selection
    np.testing.assert_array_equal(y.data, [[7.0, 8.0, 9.0], [3.0, 4.0, 5.0]])
    y[:, Tensor(np.array([2, 0]))] = Tensor(-1.0)  # an integer index Tensor, a 0-d value broadcast
    np.testing.assert_array_equal(y.data, [[-1.0, 8.0, -1.0], [-1.0, 4.0, -1.0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(v.grad.data, [0.0, 1.0, 0.0])

    c = Tensor(3.0, requires_grad=True)
    y = x * 1.0
    y[x.detach() > 2.5] = c  # broadcast over the 3 selected elements: the gradient adds up
    y.sum().backward()
    assert c.grad.item() == 3.0


def test_setitem_in_place_under_no_grad_and_without_grad() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    data, version = x.data, x._version
    with no_grad():
        x[0] = 10.0
    assert x.data is data and x._version == version + 1 and x.is_leaf and x.requires_grad
    np.testing.assert_array_equal(x.data, [10.0, 2.0, 3.0])

    t = Tensor([1.0, 2.0, 3.0])
    data = t.data
    t[[0, 0]] = Tensor([4.0, 5.0])  # nothing requires grad: numpy's in-place write
    assert t.data is data and t.grad_fn is None and not t.requires_grad
    np.testing.assert_array_equal(t.data, [5.0, 2.0, 3.0])

    view = t[1:]  # in place, a view writes through, as in numpy
    view[0] = -1.0
    np.testing.assert_array_equal(t.data, [5.0, -1.0, 3.0])

    s = Tensor([1.0, 2.0]).sum()  # a 0-d value: held as a numpy scalar, made an array to write into
    s[()] = 7.0
    assert s.item() == 7.0

    ints = Tensor([1, 2, 3])
    ints[1] = 9
    np.testing.assert_array_equal(ints.data, [1, 9, 3])


def test_setitem_into_a_tensor_a_node_saved_makes_that_backward_refuse() -> None:
    """``y * w`` saved y itself: after y[0] = ... it would read the new values. As in PyTorch,
    its backward raises instead of computing a wrong gradient."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    w = Tensor([3.0, 4.0], requires_grad=True)
    product = y * w
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="modified in place"):
        product.sum().backward()


def test_setitem_keeps_retain_grad_and_the_name() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    y.name = "y"
    y[0] = 0.0
    assert y.grad_fn.output_name == "y"
    (y * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [1.0, 2.0, 3.0])  # the gradient of the new y
    np.testing.assert_array_equal(x.grad.data, [0.0, 4.0, 6.0])


def test_setitem_keeps_float32() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float32)
    v = Tensor(3.0, requires_grad=True)  # float64: cast to y's dtype, as numpy's assignment
    y = x * 1.0
    y[0] = v
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and v.grad.dtype == np.float64 and v.grad.item() == 1.0


# ----------------------------------------------------------------------------- numpy's spelling, compile


def test_numpy_functions_on_tensors_run_the_ops() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = np.einsum("ij->j", x)
    assert isinstance(y, Tensor) and y.grad_fn.name == "Einsum"
    z = np.take_along_axis(x, np.array([[2], [0]]), axis=1)
    assert isinstance(z, Tensor) and z.grad_fn.name == "Gather"
    np.testing.assert_array_equal(z.data, [[2.0], [3.0]])
    with pytest.raises(TypeError, match="np.einsum"):
        np.einsum("ij->j", x, out=np.empty(3))
    with pytest.raises(TypeError, match="np.einsum"):
        np.einsum(x, [0, 1], [1])
    assert autograd.einsum is einsum and autograd.take_along_axis is take_along_axis


def test_einsum_owns_its_result() -> None:
    """np.einsum gives a view for 'ij->ji' and 'ii->i': the op copies, so changing x later
    under no_grad does not change y."""
    x = Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    y, d = einsum("ij->ji", x), einsum("ii->i", x)
    with no_grad():
        x[0, 0] = 100.0
    np.testing.assert_array_equal(y.data, [[0.0, 2.0], [1.0, 3.0]])
    np.testing.assert_array_equal(d.data, [0.0, 3.0])


def test_compiled_indexing_ops_follow_new_indices() -> None:
    """The indices are inputs of the compiled code, not constants of the first call."""

    def loss(x, index, mask):
        return (
            (gather(x, 1, index) * 2.0).sum()
            + take_along_axis(x, index, 1).sum()
            + (x.masked_fill(mask, 0.5) * x).sum()
            + einsum("ij,ij->", x, x)
            + (scatter_add(x, 1, index, x[:, :2]) ** 2).sum()
            + (one_hot(index, 3).astype(np.float64) * x[:, :2, None]).sum()
        )

    compiled = autograd.compile(loss)
    for index, mask in [
        (np.array([[0, 1], [2, 2]]), np.array([True, False, True])),
        (np.array([[2, 2], [0, 1]]), np.array([False, False, True])),
    ]:
        results = []
        for f in (loss, compiled):
            x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
            value = f(x, index, mask)
            value.backward()
            results.append((value.data, x.grad.data))
        np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
        np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)


def test_item_assignment_inside_compile_is_refused() -> None:
    def f(x):
        y = x * 2.0
        y[0] = 1.0
        return y.sum()

    with pytest.raises(CompileError, match="item assignment"):
        autograd.compile(f)(Tensor([1.0, 2.0], requires_grad=True))


# ----------------------------------------------------------------------------- errors


EINSUM_ERRORS = [
    ("ij,jk->ik", [(2, 3)], "name 2 operand"),
    ("ij", [(2, 3, 4)], "operand 0 has shape"),
    ("ij->k", [(2, 3)], "no operand has"),
    ("ij->ii", [(2, 3)], "more than once"),
    ("i.j", [(2, 2)], "subscripts are letters"),
    ("i1", [(2, 2)], "subscripts are letters"),
    ("...ij->ij", [(2, 3, 4)], "no '...'"),
    ("ij->i->j", [(2, 3)], "more than one '->'"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "einsum"),  # sizes that do not match: numpy's message, named
    ("ii", [(2, 3)], "einsum"),
]


@pytest.mark.parametrize("spec, shapes, message", EINSUM_ERRORS, ids=[s for s, _, _ in EINSUM_ERRORS])
def test_einsum_errors_name_the_op(spec, shapes, message) -> None:
    operands = [Tensor(np.ones(s), requires_grad=True) for s in shapes]
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        einsum(spec, *operands)
    assert str(info.value).startswith("einsum:")


def test_einsum_needs_a_string_and_operands() -> None:
    with pytest.raises(TypeError, match="einsum: the subscripts must be a string"):
        einsum(["i"], Tensor([1.0]))
    with pytest.raises(ValueError, match="einsum: no operands"):
        einsum("i")


def test_gather_errors_name_the_op() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(TypeError, match="gather: index must hold integers, got dtype float64"):
        gather(x, 1, np.array([[0.0]]))
    with pytest.raises(TypeError, match="gather: index must hold integers, got dtype bool"):
        gather(x, 1, np.array([[True]]))
    with pytest.raises(
        ValueError, match=r"gather: index of shape \(2,\) must have as many axes as x of shape \(2, 3\)"
    ):
        gather(x, 1, np.array([0, 1]))
    with pytest.raises(IndexError, match="gather: index 3 is out of bounds for axis 1 of size 3"):
        gather(x, 1, np.array([[3]]))
    with pytest.raises(IndexError, match="gather: index -1 is out of bounds"):
        gather(x, 1, np.array([[-1]]))
    with pytest.raises(ValueError, match="gather: index of shape \\(3, 1\\) is longer than x"):
        gather(x, 1, np.zeros((3, 1), dtype=int))
    with pytest.raises(ValueError, match="gather: axis 2 is out of range"):
        gather(x, 2, np.zeros((2, 1), dtype=int))
    with pytest.raises(ValueError, match="gather: x is 0-d"):
        gather(Tensor(1.0), 0, np.zeros((), dtype=int))
    with pytest.raises(TypeError, match="gather: dim= is PyTorch's spelling; write axis="):
        x.gather(dim=1, index=np.zeros((2, 1), dtype=int))
    assert x.grad is None


def test_take_along_axis_errors_name_the_op() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(
        ValueError, match="take_along_axis: indices of shape \\(3, 1\\) and x of shape \\(2, 3\\) do not broadcast"
    ):
        take_along_axis(x, np.zeros((3, 1), dtype=int), 1)
    with pytest.raises(ValueError, match="take_along_axis: indices of shape \\(2,\\) must have as many axes"):
        take_along_axis(x, np.zeros(2, dtype=int), 1)
    with pytest.raises(IndexError, match="take_along_axis: index -4 is out of bounds for axis 1 of size 3"):
        take_along_axis(x, np.array([[-4]]), 1)
    with pytest.raises(ValueError, match="take_along_axis: with axis=None, indices must be 1-D"):
        take_along_axis(x, np.zeros((1, 1), dtype=int), None)
    with pytest.raises(TypeError, match="take_along_axis: indices must hold integers"):
        take_along_axis(x, np.zeros((1, 1)), 1)


def test_scatter_add_errors_name_the_op() -> None:
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    src = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match="scatter_add: index of shape \\(3, 1\\) is longer than src"):
        scatter_add(x, 1, np.zeros((3, 1), dtype=int), src)
    with pytest.raises(
        ValueError, match="scatter_add: x \\(2, 3\\), index \\(2,\\) and src \\(2, 3\\) must have the same number"
    ):
        scatter_add(x, 1, np.zeros(2, dtype=int), src)
    with pytest.raises(IndexError, match="scatter_add: index 3 is out of bounds for axis 1 of size 3"):
        scatter_add(x, 1, np.array([[3]]), src)
    with pytest.raises(TypeError, match="scatter_add: index must hold integers"):
        scatter_add(x, 1, np.array([[0.5]]), src)
    with pytest.raises(TypeError, match="scatter_add: x has dtype int64; a gradient needs a float x"):
        scatter_add(Tensor(np.zeros((2, 3), dtype=int)), 1, np.array([[0]]), src)
    with pytest.raises(TypeError, match="scatter_add: dim= is PyTorch's spelling"):
        x.scatter_add(dim=1, index=np.array([[0]]), src=src)


def test_masked_fill_errors_name_the_op() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(TypeError, match="masked_fill: mask must be bool, got dtype int64; write \\(mask != 0\\)"):
        x.masked_fill(np.array([1, 0, 1]), 0.0)
    with pytest.raises(
        ValueError, match="masked_fill: mask of shape \\(3, 3\\) does not broadcast to x's shape \\(2, 3\\)"
    ):
        x.masked_fill(np.ones((3, 3), dtype=bool), 0.0)
    with pytest.raises(ValueError, match="masked_fill: value of shape \\(2,\\) does not broadcast"):
        x.masked_fill(np.ones(3, dtype=bool), Tensor([1.0, 2.0]))


def test_one_hot_errors_name_the_op() -> None:
    with pytest.raises(TypeError, match="one_hot: labels must hold integers, got dtype float64"):
        one_hot(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="one_hot: labels must be non-negative, got -1"):
        one_hot(np.array([0, -1]))
    with pytest.raises(ValueError, match="one_hot: label 3 is out of range for num_classes=3"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="one_hot: cannot infer num_classes from empty labels"):
        one_hot(np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="one_hot: num_classes must be an integer"):
        one_hot(np.array([0]), -2)


def test_setitem_errors_name_the_op_and_change_nothing() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: .* leaf tensor that requires grad .* no_grad"):
        x[0] = 5.0
    np.testing.assert_array_equal(x.data, [1.0, 2.0, 3.0])

    y = x * 2.0
    for view in (y[1:], y.reshape(3, 1), (x * 1.0)[None]):
        before = view.data.copy()
        with pytest.raises(RuntimeError, match="setitem: .* shares memory with another tensor"):
            view[0] = Tensor(1.0, requires_grad=True)
        np.testing.assert_array_equal(view.data, before)
    np.testing.assert_array_equal(y.data, [2.0, 4.0, 6.0])
    picked = y[[0, 2]]  # integer-array indexing copies: assigning into the copy is fine
    picked[0] = 0.0
    np.testing.assert_array_equal(y.data, [2.0, 4.0, 6.0])

    with pytest.raises(TypeError, match="setitem: t has dtype int64 and the value requires grad"):
        Tensor([1, 2])[0] = Tensor(1.0, requires_grad=True)
    with pytest.raises(
        ValueError, match="setitem: value of shape \\(2,\\) does not broadcast to t\\[index\\]'s shape \\(3,\\)"
    ):
        y[:] = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(IndexError, match="setitem: index 5 is out of bounds"):
        y[5] = 1.0
    with pytest.raises(IndexError, match="setitem: .*tensor shape \\(3,\\)"):
        Tensor([1.0, 2.0, 3.0])[5] = 1.0
    with pytest.raises(ValueError, match="setitem: "):
        Tensor([1.0, 2.0, 3.0])[:] = [1.0, 2.0]
    np.testing.assert_array_equal(y.data, [2.0, 4.0, 6.0])
    assert y.grad_fn.name == "Mul"
