"""The shape ops of autograd/ops/shape.py beyond reshape/transpose/indexing: flatten,
expand_dims/unsqueeze, squeeze, permute, view, ravel, flip, roll, repeat, tile, split, chunk,
pad, tril, triu, diagonal.

Each op is a ``Case`` in ``CASES``, run through tests/op_checks.py: forward value against numpy,
first and second derivatives against central differences (and gradcheck), float32 kept. The
ops are linear in x, so their second derivative is only exercised because check_second squares
the output; that still runs each backward's own backward (np.flip on Tensors is Flip, the
reflect/edge pad's gradient is built from constant pads, flips and slices, and so on).

Then: values and gradients against PyTorch where it has the op (its names and argument
orders differ: tile is torch's repeat, repeat is its repeat_interleave, F.pad takes its widths
last axis first), numpy's functions on Tensors going to these ops, and the errors for bad
axes, sizes and PyTorch's spellings, each naming the op.
"""

from __future__ import annotations

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import Case, check_first, check_float32, check_second

import autograd
from autograd import Tensor, chunk, concatenate, grad, pad, split, tril, triu
from autograd.ops import diagonal, expand_dims, flatten, flip, permute, repeat, roll, squeeze, tile, unsqueeze

# ----------------------------------------------------------------------------- strategies


@st.composite
def _ordered_axes(draw, ndim: int) -> tuple[int, int]:
    """start_axis <= end_axis (after making them non-negative), each maybe written negatively."""
    start = draw(st.integers(0, ndim - 1))
    end = draw(st.integers(start, ndim - 1))
    return (start - ndim if draw(st.booleans()) else start), (end - ndim if draw(st.booleans()) else end)


def _some_axes(ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Distinct axes of an ndim-d array (possibly none), negative ones too."""
    return hnp.valid_tuple_axes(ndim) if ndim else st.just(())


def _scaled_pieces(pieces, axis: int):
    """Join the pieces, piece i times (i + 1): every piece's gradient is told apart from the others'."""
    return [p * float(i + 1) for i, p in enumerate(pieces)], axis


# ----------------------------------------------------------------------------- the cases


def _flatten(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    if data.draw(st.booleans(), label="default axes"):
        return [x], (lambda t: t.flatten()), (lambda a: a.reshape(-1))
    start, end = data.draw(_ordered_axes(max(x.ndim, 1)), label="start, end")
    shape = x.shape or (1,)

    def reference(a):
        lo, hi = start % len(shape), end % len(shape)
        return a.reshape(shape[:lo] + (-1,) + shape[hi + 1 :])

    return [x], (lambda t: t.flatten(start, end)), reference


def _expand_dims(data):
    x = data.draw(S.arrays(S.shapes(max_dims=2)), label="x")
    count = data.draw(st.integers(1, 2), label="new axes")
    axis = data.draw(hnp.valid_tuple_axes(x.ndim + count, min_size=count, max_size=count), label="axis")
    arg = axis[0] if count == 1 and data.draw(st.booleans(), label="one int") else axis
    return [x], (lambda t: t.expand_dims(arg)), (lambda a: np.expand_dims(a, arg))


def _unsqueeze(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim), label="axis")
    return [x], (lambda t: t.unsqueeze(axis)), (lambda a: np.expand_dims(a, axis))


def _squeeze(data):
    shape = data.draw(S.shapes(min_side=1, max_side=2), label="shape")  # many sides of 1
    x = data.draw(S.arrays(shape), label="x")
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = data.draw(
        st.one_of(st.none(), st.lists(st.sampled_from(ones), unique=True).map(tuple)) if ones else st.none()
    )
    if axis is not None and len(axis) == 1 and data.draw(st.booleans(), label="one int"):
        axis = axis[0] - (x.ndim if data.draw(st.booleans(), label="negative") else 0)
    return [x], (lambda t: t.squeeze(axis)), (lambda a: np.squeeze(a, axis))


def _permute(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axes = data.draw(st.permutations(range(x.ndim)).map(tuple), label="axes")
    spread = data.draw(st.booleans(), label="permute(*axes)")
    return [x], (lambda t: t.permute(*axes) if spread else t.permute(axes)), (lambda a: np.transpose(a, axes))


def _view(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    target = data.draw(S.reshape_targets(x.shape), label="target")
    return [x], (lambda t: t.view(*target)), (lambda a: a.reshape(target))


def _ravel(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    return [x], (lambda t: t.ravel()), np.ravel


def _flip(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axis = data.draw(st.one_of(st.none(), _some_axes(x.ndim), *([S.single_axis(x.ndim)] if x.ndim else [])))
    return [x], (lambda t: t.flip(axis)), (lambda a: np.flip(a, axis))


def _roll(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    shifts = st.integers(-7, 7)
    kind = data.draw(st.sampled_from(["flat", "one axis", "axes"] if x.ndim else ["flat"]), label="kind")
    if kind == "flat":
        shift = data.draw(shifts, label="shift")
        return [x], (lambda t: t.roll(shift)), (lambda a: np.roll(a, shift))
    if kind == "one axis":
        shift, axis = data.draw(shifts, label="shift"), data.draw(S.single_axis(x.ndim), label="axis")
    else:  # several (an axis may come twice: the shifts add up)
        axis = tuple(data.draw(st.lists(S.single_axis(x.ndim), min_size=1, max_size=3), label="axes"))
        shift = tuple(data.draw(st.lists(shifts, min_size=len(axis), max_size=len(axis)), label="shifts"))
    return [x], (lambda t: t.roll(shift, axis)), (lambda a: np.roll(a, shift, axis))


def _repeat(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axis = data.draw(st.one_of(st.none(), *([S.single_axis(x.ndim)] if x.ndim else [])), label="axis")
    n = x.size if axis is None else x.shape[axis]
    each = data.draw(st.booleans(), label="one count per element")
    repeats = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n) if each else st.integers(0, 3))
    return [x], (lambda t: t.repeat(repeats, axis=axis)), (lambda a: np.repeat(a, repeats, axis=axis))


def _tile(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    reps = data.draw(st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), max_size=4).map(tuple)), label="reps")
    return [x], (lambda t: t.tile(reps)), (lambda a: np.tile(a, reps))


def _split(data):
    x = data.draw(S.arrays(S.shapes(min_dims=1, max_side=4)), label="x")
    axis = data.draw(S.single_axis(x.ndim), label="axis")
    n = x.shape[axis]
    if data.draw(st.booleans(), label="sections"):
        cuts = data.draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]), label="sections")
    else:  # indices, in any order, beyond the end and negative too (numpy slices with them)
        cuts = data.draw(st.lists(st.integers(-n - 1, n + 1), max_size=3), label="indices")

    def ours(t):
        return concatenate(*_scaled_pieces(split(t, cuts, axis), axis))

    def reference(a):
        return np.concatenate(*_scaled_pieces(np.split(a, cuts, axis), axis))

    return [x], ours, reference


def _chunk(data):
    x = data.draw(S.arrays(S.shapes(min_dims=1, max_side=4)), label="x")
    axis = data.draw(S.single_axis(x.ndim), label="axis")
    k = data.draw(st.integers(1, 5), label="chunks")
    n = x.shape[axis]
    size = -(-n // k)
    cuts = list(range(size, n, size))  # PyTorch's chunk: pieces of ceil(n / k), the last smaller

    def ours(t):
        pieces = t.chunk(k, axis)
        assert len(pieces) == len(cuts) + 1 <= k
        return concatenate(*_scaled_pieces(pieces, axis))

    return [x], ours, (lambda a: np.concatenate(*_scaled_pieces(np.split(a, cuts, axis), axis)))


@st.composite
def _pad_width(draw, shape: tuple[int, ...], widest: list[int]):
    """numpy's pad_width in its three forms: one int, one (before, after) pair, a pair per axis.
    ``widest[k]`` bounds the widths on axis k."""
    bound = min(widest, default=3)
    form = draw(st.sampled_from(["int", "pair", "per axis"] if shape else ["int", "pair"]))
    if form == "int":
        return draw(st.integers(0, bound))
    if form == "pair":
        return (draw(st.integers(0, bound)), draw(st.integers(0, bound)))
    return tuple((draw(st.integers(0, w)), draw(st.integers(0, w))) for w in widest)


def _pad_case(mode: str):
    def draw(data):
        x = data.draw(S.arrays(S.shapes(max_side=4)), label="x")
        # reflect mirrors about the edge element: at most n - 1 on each side (PyTorch's rule too)
        widest = [min(3, n - 1) if mode == "reflect" else 3 for n in x.shape]
        widths = data.draw(_pad_width(x.shape, widest), label="pad_width")
        if mode == "constant":
            value = data.draw(S.floats(-2.0, 2.0), label="value")
            return [x], (lambda t: pad(t, widths, value=value)), (lambda a: np.pad(a, widths, constant_values=value))
        return [x], (lambda t: pad(t, widths, mode)), (lambda a: np.pad(a, widths, mode=mode))

    return draw


def _triangle_case(name: str):
    def draw(data):
        x = data.draw(S.arrays(S.shapes(min_dims=2)), label="x")
        k = data.draw(st.integers(-3, 3), label="k")
        return [x], (lambda t: getattr(t, name)(k)), (lambda a: getattr(np, name)(a, k))

    return draw


def _diagonal(data):
    x = data.draw(S.arrays(S.shapes(min_dims=2)), label="x")
    axis1 = data.draw(S.single_axis(x.ndim), label="axis1")
    axis2 = data.draw(S.single_axis(x.ndim).filter(lambda a: a % x.ndim != axis1 % x.ndim), label="axis2")
    offset = data.draw(st.integers(-3, 3), label="offset")
    if data.draw(st.booleans(), label="default axes"):
        return [x], (lambda t: t.diagonal(offset)), (lambda a: np.diagonal(a, offset))
    return [x], (lambda t: t.diagonal(offset, axis1, axis2)), (lambda a: np.diagonal(a, offset, axis1, axis2))


CASES: list[Case] = [
    Case("flatten", _flatten),
    Case("expand_dims", _expand_dims),
    Case("unsqueeze", _unsqueeze),
    Case("squeeze", _squeeze),
    Case("permute", _permute),
    Case("view", _view),
    Case("ravel", _ravel),
    Case("flip", _flip),
    Case("roll", _roll),
    Case("repeat", _repeat),
    Case("tile", _tile),
    Case("split", _split),
    Case("chunk", _chunk),
    Case("pad_constant", _pad_case("constant")),
    Case("pad_reflect", _pad_case("reflect")),
    Case("pad_edge", _pad_case("edge")),
    Case("tril", _triangle_case("tril")),
    Case("triu", _triangle_case("triu")),
    Case("diagonal", _diagonal),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=30)
@given(data=st.data())
def test_forward_and_first_derivative(case: Case, data: st.DataObject) -> None:
    check_first(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=30)
@given(data=st.data())
def test_second_derivative(case: Case, data: st.DataObject) -> None:
    check_second(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=10)
@given(data=st.data())
def test_float32_in_float32_out_and_float32_grads(case: Case, data: st.DataObject) -> None:
    check_float32(case, data)


# ----------------------------------------------------------------------------- against PyTorch


def _torch_flatten(data, torch):
    x = data.draw(S.arrays(S.shapes()), label="x")
    start, end = data.draw(_ordered_axes(max(x.ndim, 1)), label="start, end")
    return x, (lambda t: t.flatten(start, end)), (lambda u: torch.flatten(u, start, end))


def _torch_unsqueeze(data, torch):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim), label="axis")
    return x, (lambda t: t.unsqueeze(axis)), (lambda u: torch.unsqueeze(u, axis))


def _torch_squeeze(data, torch):
    x = data.draw(S.arrays(S.shapes(min_dims=1, max_side=2)), label="x")
    ones = tuple(i for i, n in enumerate(x.shape) if n == 1)
    axes = data.draw(st.lists(st.sampled_from(ones), unique=True).map(tuple) if ones else st.just(()), label="axes")
    return x, (lambda t: t.squeeze(axes)), (lambda u: torch.squeeze(u, axes))


def _torch_permute(data, torch):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axes = data.draw(st.permutations(range(x.ndim)).map(tuple), label="axes")
    return x, (lambda t: t.permute(*axes)), (lambda u: u.permute(axes))


def _torch_flip(data, torch):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axes = data.draw(_some_axes(x.ndim), label="axes")
    return x, (lambda t: t.flip(axes)), (lambda u: torch.flip(u, axes))


def _torch_roll(data, torch):
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    axes = tuple(data.draw(st.lists(S.single_axis(x.ndim), min_size=1, max_size=2), label="axes"))
    shifts = tuple(data.draw(st.lists(st.integers(-5, 5), min_size=len(axes), max_size=len(axes)), label="shifts"))
    if data.draw(st.booleans(), label="flat"):
        return x, (lambda t: t.roll(shifts[0])), (lambda u: torch.roll(u, shifts[0]))
    return x, (lambda t: t.roll(shifts, axes)), (lambda u: torch.roll(u, shifts, axes))


def _torch_tile(data, torch):
    """tile(reps) is torch's Tensor.repeat(*reps) (which needs len(reps) >= ndim) and torch.tile."""
    x = data.draw(S.arrays(S.shapes()), label="x")
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=max(x.ndim, 1), max_size=x.ndim + 1), label="reps"))
    return x, (lambda t: t.tile(reps)), (lambda u: u.repeat(*reps))


def _torch_repeat(data, torch):
    """repeat (numpy's) is torch's repeat_interleave."""
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    axis = data.draw(st.one_of(st.none(), S.single_axis(x.ndim)), label="axis")
    n = x.size if axis is None else x.shape[axis]
    counts = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n), label="repeats")
    if data.draw(st.booleans(), label="one count"):
        return x, (lambda t: t.repeat(counts[0], axis=axis)), (lambda u: torch.repeat_interleave(u, counts[0], axis))
    return (
        x,
        (lambda t: t.repeat(counts, axis=axis)),
        (lambda u: torch.repeat_interleave(u, torch.tensor(counts), axis)),
    )


def _torch_split(data, torch):
    """torch.split takes piece sizes: sizes [a, b, c] are numpy's indices [a, a + b]."""
    x = data.draw(S.arrays(S.shapes(min_dims=1, max_side=4)), label="x")
    axis = data.draw(S.single_axis(x.ndim), label="axis")
    n = x.shape[axis]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3), label="cuts"))
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
    return x, (lambda t: split(t, cuts, axis)), (lambda u: torch.split(u, sizes, axis))


def _torch_chunk(data, torch):
    x = data.draw(S.arrays(S.shapes(min_dims=1, max_side=5)), label="x")
    axis = data.draw(S.single_axis(x.ndim), label="axis")
    k = data.draw(st.integers(1, 6), label="chunks")
    return x, (lambda t: t.chunk(k, axis)), (lambda u: torch.chunk(u, k, axis))


def _torch_pad(data, torch):
    """F.pad's widths are flat, last axis first: ((b0, a0), (b1, a1)) is (b1, a1, b0, a0).
    Its reflect and replicate pad the last 1 or 2 axes of a 3-D or 4-D (batch, channel, ...) input."""
    F = torch.nn.functional
    mode = data.draw(st.sampled_from(["constant", "reflect", "edge"]), label="mode")
    if mode == "constant":
        x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
        padded = x.ndim
    else:
        padded = data.draw(st.integers(1, 2), label="padded axes")
        x = data.draw(S.arrays(S.shapes(min_dims=padded + 2, max_dims=padded + 2, min_side=2, max_side=4)), label="x")
    pairs = []
    for n in x.shape[x.ndim - padded :]:
        widest = n - 1 if mode == "reflect" else 3
        pairs.append((data.draw(st.integers(0, widest)), data.draw(st.integers(0, widest))))
    widths = [(0, 0)] * (x.ndim - padded) + pairs
    flat = tuple(w for pair in reversed(pairs) for w in pair)
    value = data.draw(S.floats(-2.0, 2.0), label="value") if mode == "constant" else 0.0
    torch_mode = {"edge": "replicate"}.get(mode, mode)
    if mode == "constant":
        return x, (lambda t: pad(t, widths, value=value)), (lambda u: F.pad(u, flat, value=value))
    return x, (lambda t: pad(t, widths, mode)), (lambda u: F.pad(u, flat, mode=torch_mode))


def _torch_triangle(name: str):
    def draw(data, torch):
        x = data.draw(S.arrays(S.shapes(min_dims=2)), label="x")
        k = data.draw(st.integers(-3, 3), label="k")
        return x, (lambda t: getattr(autograd, name)(t, k)), (lambda u: getattr(torch, name)(u, diagonal=k))

    return draw


def _torch_diagonal(data, torch):
    x = data.draw(S.arrays(S.shapes(min_dims=2)), label="x")
    axis1 = data.draw(S.single_axis(x.ndim), label="axis1")
    axis2 = data.draw(S.single_axis(x.ndim).filter(lambda a: a % x.ndim != axis1 % x.ndim), label="axis2")
    offset = data.draw(st.integers(-3, 3), label="offset")
    return x, (lambda t: t.diagonal(offset, axis1, axis2)), (lambda u: torch.diagonal(u, offset, axis1, axis2))


TORCH_CASES = {
    "flatten": _torch_flatten,
    "unsqueeze": _torch_unsqueeze,
    "squeeze": _torch_squeeze,
    "permute": _torch_permute,
    "flip": _torch_flip,
    "roll": _torch_roll,
    "tile = torch repeat": _torch_tile,
    "repeat = torch repeat_interleave": _torch_repeat,
    "split with sizes": _torch_split,
    "chunk": _torch_chunk,
    "pad = F.pad": _torch_pad,
    "tril": _torch_triangle("tril"),
    "triu": _torch_triangle("triu"),
    "diagonal": _torch_diagonal,
}


@pytest.mark.parametrize("name", list(TORCH_CASES))
@settings(max_examples=25)
@given(data=st.data())
def test_values_and_gradients_match_pytorch(name: str, data: st.DataObject) -> None:
    """Both compute the same copies of x's elements: values are equal exactly, and the
    gradients (sums of the same weights, perhaps in another order) to a few ulps."""
    torch = pytest.importorskip("torch")
    x, ours, theirs = TORCH_CASES[name](data, torch)
    t = Tensor(x, requires_grad=True)
    u = torch.tensor(x, requires_grad=True)
    out, ref = ours(t), theirs(u)
    outs, refs = (list(out), list(ref)) if isinstance(out, list) else ([out], [ref])
    assert len(outs) == len(refs)
    loss, ref_loss = Tensor(0.0), 0.0
    for o, r in zip(outs, refs):
        assert o.shape == tuple(r.shape)
        np.testing.assert_array_equal(o.data, r.detach().numpy())
        w = data.draw(S.weights(o.shape), label="w")
        loss = loss + (o * w).sum()
        ref_loss = ref_loss + (r * torch.tensor(w)).sum()
    if not loss.requires_grad:  # every piece empty
        return
    (g,) = grad(loss, [t])
    (ref_g,) = torch.autograd.grad(ref_loss, [u])
    np.testing.assert_allclose(g.data, ref_g.numpy(), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- numpy's functions


NUMPY_FORMS = {
    "np.expand_dims": (lambda a: np.expand_dims(a, (0, 2)), "Reshape"),
    "np.squeeze": (lambda a: np.squeeze(a[:1], 0), "Reshape"),
    "np.ravel": (np.ravel, "Reshape"),
    "np.flip": (lambda a: np.flip(a, 1), "Flip"),
    "np.roll": (lambda a: np.roll(a, 2, axis=1), "Roll"),
    "np.repeat": (lambda a: np.repeat(a, [1, 0, 2], axis=1), "Repeat"),
    "np.tile": (lambda a: np.tile(a, (2, 1)), "Tile"),
    "np.split": (lambda a: np.split(a, [1], axis=1)[1], "GetItem"),
    "np.pad constant": (lambda a: np.pad(a, ((1, 0), (0, 2)), constant_values=1.5), "Pad"),
    "np.pad reflect": (lambda a: np.pad(a, 1, mode="reflect"), "Pad"),
    "np.pad edge": (lambda a: np.pad(a, (2, 1), "edge"), "Pad"),
    "np.tril": (lambda a: np.tril(a, -1), "Tril"),
    "np.triu": (lambda a: np.triu(a, 1), "Triu"),
    "np.diagonal": (lambda a: np.diagonal(a, 1), "Diagonal"),
}


@pytest.mark.parametrize("name", list(NUMPY_FORMS))
def test_numpy_functions_on_tensors_are_these_ops(name: str) -> None:
    fn, op = NUMPY_FORMS[name]
    x = np.arange(1.0, 7.0).reshape(2, 3)
    t = Tensor(x, requires_grad=True)
    out = fn(t)
    assert isinstance(out, Tensor) and out.grad_fn.name == op
    np.testing.assert_array_equal(out.data, fn(x))
    w = np.arange(out.size, dtype=float).reshape(out.shape)
    (out * w).sum().backward()
    numeric = np.zeros_like(x)  # f is affine: d sum(w * f(x)) / dx_k = sum(w * (f(e_k) - f(0)))
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = 1.0
        numeric[k] = np.sum(w * (fn(e) - fn(np.zeros_like(x))))
    np.testing.assert_array_equal(t.grad.data, numeric)


def test_the_ops_trace_into_compiled_code() -> None:
    """autograd.compile runs each op's own forward and backward on traced arrays."""

    def f(x):
        y = pad(x.flip(0).roll(1, 1), ((1, 1), (2, 1)), "reflect") + 1.0
        z = tril(y.tile((1, 2))).repeat(2, axis=0).diagonal(1) + pad(x, 1, "edge").sum()
        return (z * z).sum() + triu(x.permute(1, 0)).flatten().sum()

    compiled = autograd.compile(f)
    values = np.arange(12.0).reshape(3, 4) / 7
    for _ in range(2):  # the trace, then the generated code
        eager, fast = Tensor(values, requires_grad=True), Tensor(values, requires_grad=True)
        f(eager).backward()
        compiled(fast).backward()
        np.testing.assert_allclose(fast.grad.data, eager.grad.data, rtol=1e-12)


# ----------------------------------------------------------------------------- particular values


def test_reflect_and_edge_padding_add_up_every_copy() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = pad(x, (2, 2), "reflect")
    np.testing.assert_array_equal(y.data, [3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 3.0, 2.0])  # x[1] appears 3 times
    x.grad = None
    pad(x, (3, 1), "edge").sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 1.0, 2.0])
    m = Tensor(np.ones((2, 2)), requires_grad=True)
    pad(m, 1, "edge").sum().backward()  # corners: each element of a 2x2 is copied into a 4x4 4 times
    np.testing.assert_array_equal(m.grad.data, np.full((2, 2), 4.0))


def test_repeat_is_numpys_and_tile_is_pytorchs_repeat() -> None:
    x = Tensor([1.0, 2.0])
    np.testing.assert_array_equal(x.repeat(2, axis=0).data, [1.0, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(np.repeat(x, 2).data, [1.0, 1.0, 2.0, 2.0])
    with pytest.raises(ValueError, match=r"repeat\(2\) on a 1-D tensor.*repeat\(2, axis=0\).*tile\(2\)"):
        x.repeat(2)  # numpy and PyTorch read this differently: refused, naming both spellings
    np.testing.assert_array_equal(x.tile(2).data, [1.0, 2.0, 1.0, 2.0])
    np.testing.assert_array_equal(repeat(Tensor([[1.0, 2.0]]), [2, 1], axis=1).data, [[1.0, 1.0, 2.0]])
    np.testing.assert_array_equal(tile(x, (2, 1)).data, [[1.0, 2.0], [1.0, 2.0]])


def test_chunk_gives_pytorchs_sizes_and_split_numpys() -> None:
    x = Tensor(np.arange(6.0))
    assert [p.shape for p in chunk(x, 4)] == [(2,), (2,), (2,)]  # ceil(6 / 4) = 2: three pieces
    assert [p.shape for p in x.chunk(5)] == [(2,), (2,), (2,)]
    assert [p.shape for p in chunk(Tensor(np.arange(5.0)), 3)] == [(2,), (2,), (1,)]
    assert [p.shape for p in chunk(Tensor(np.zeros((0, 2))), 3)] == [(0, 2)] * 3
    assert [p.shape for p in split(x, 3)] == [(2,), (2,), (2,)]
    assert [p.data.tolist() for p in split(x, [1, 4])] == [[0.0], [1.0, 2.0, 3.0], [4.0, 5.0]]


def test_shape_only_ops_and_functional_forms() -> None:
    x = Tensor(np.zeros((2, 1, 3)))
    assert flatten(x, 1).shape == (2, 3) and x.flatten().shape == (6,) and Tensor(1.0).flatten().shape == (1,)
    assert squeeze(x).shape == (2, 3) and squeeze(x, -2).shape == (2, 3)
    assert unsqueeze(x, -1).shape == (2, 1, 3, 1) and expand_dims(x, (0, 4)).shape == (1, 2, 1, 3, 1)
    assert permute(x, 2, 0, 1).shape == (3, 2, 1) and x.permute([2, 0, 1]).shape == (3, 2, 1)
    assert x.view(3, 2).shape == (3, 2) and x.view((6,)).shape == (6,)
    assert flip(x).shape == roll(x, 1).shape == (2, 1, 3)
    assert diagonal(Tensor(np.zeros((2, 3, 4))), 0, -2, -1).shape == (2, 3)
    assert triu(Tensor(np.ones((2, 2)))).data.tolist() == [[1.0, 1.0], [0.0, 1.0]]
    big = Tensor(np.ones((3, 3)))
    y = big.diagonal()
    y += 1.0  # the diagonal is its own (writable) array, not a read-only numpy view
    assert big.data[0, 0] == 1.0


# ----------------------------------------------------------------------------- errors

ERRORS = {
    "squeeze of an axis of size 3": (lambda t: t.squeeze(0), ValueError, r"squeeze: axis 0 .* has size 3, not 1"),
    "squeeze out of range": (lambda t: t.squeeze(5), ValueError, "squeeze: axis 5 is out of range"),
    "pad with a negative width": (lambda t: pad(t, ((1, -1), (0, 0))), ValueError, "pad: pad widths must be >= 0"),
    "reflect wider than the axis": (lambda t: pad(t, ((3, 0), (0, 0)), "reflect"), ValueError, "pad: reflect padding"),
    "pad in PyTorch's flat format": (lambda t: pad(t, (1, 1, 2, 2)), ValueError, "pad: pad_width .*PyTorch's F.pad"),
    "pad with float widths": (lambda t: pad(t, 1.5), TypeError, "pad: pad_width must be ints"),
    "pad mode replicate": (lambda t: pad(t, 1, "replicate"), ValueError, "pad: mode 'replicate'.*'edge'"),
    "pad value a Tensor": (lambda t: pad(t, 1, value=t), TypeError, "pad: value must be a number"),
    "chunk(0)": (lambda t: t.chunk(0), ValueError, "chunk: chunks must be an int >= 1"),
    "chunk of a 0-d tensor": (lambda t: chunk(t.sum(), 2), ValueError, "chunk: a 0-d tensor"),
    "split into unequal sections": (lambda t: split(t, 2), ValueError, "split: axis 0 of size 3 .* chunk"),
    "split into 0 sections": (lambda t: split(t, 0, axis=1), ValueError, "split: the number of sections"),
    "split out of range": (lambda t: split(t, 1, axis=2), ValueError, "split: axis 2 is out of range"),
    "Tensor.split": (lambda t: t.split(2), TypeError, "Tensor.split: .*autograd.split"),
    "repeat the PyTorch way": (lambda t: t.repeat(2, 3), ValueError, r"repeat\(2, 3\).*tile\(\(2, 3\)\)"),
    "repeat counts of the wrong length": (lambda t: t.repeat([1, 2]), ValueError, "repeat: 2 repeat counts .* tile"),
    "repeat a negative count": (lambda t: t.repeat(-1, axis=0), ValueError, "repeat: repeat counts must be >= 0"),
    "repeat out of range": (lambda t: t.repeat(2, axis=2), ValueError, "repeat: axis 2 is out of range"),
    "tile a negative count": (lambda t: t.tile(-1), ValueError, "tile: reps must be >= 0"),
    "flip out of range": (lambda t: t.flip(2), ValueError, "flip: axis 2 is out of range"),
    "flip an axis twice": (lambda t: t.flip((0, -2)), ValueError, "flip: axis .* twice"),
    "roll out of range": (lambda t: t.roll(1, -3), ValueError, "roll: axis -3 is out of range"),
    "roll shifts without axes": (lambda t: t.roll((1, 2)), ValueError, "roll: several shifts"),
    "roll shifts and axes of other lengths": (lambda t: t.roll((1, 2, 3), (0, 1)), ValueError, "roll: shift"),
    "permute not a permutation": (lambda t: t.permute(0, 0), ValueError, "permute: axis"),
    "permute too few axes": (lambda t: t.permute(1), ValueError, "permute: .* not a permutation"),
    "flatten start after end": (lambda t: t.flatten(1, 0), ValueError, "flatten: start_axis 1 comes after end_axis 0"),
    "expand_dims out of range": (lambda t: t.expand_dims(3), ValueError, "expand_dims: axis 3 is out of range"),
    "tril of a vector": (lambda t: tril(t[0]), ValueError, "tril: needs a tensor of at least 2 axes"),
    "triu with a float k": (lambda t: triu(t, 0.5), TypeError, "triu: k must be an int"),
    "diagonal on one axis": (lambda t: t.diagonal(0, 1, -1), ValueError, "diagonal: axis1 and axis2 are the same"),
    "diagonal out of range": (lambda t: t.diagonal(0, 0, 2), ValueError, "diagonal: axis 2 is out of range"),
    "diagonal of a vector": (lambda t: t[0].diagonal(), ValueError, "diagonal: needs a tensor of at least 2 axes"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_arguments_raise_naming_the_op(name: str) -> None:
    fn, kind, message = ERRORS[name]
    t = Tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(kind, match=message):
        fn(t)


TORCH_KEYWORDS = {
    "flatten(start_dim=1)": (
        lambda t: t.flatten(start_dim=1),
        "flatten: start_dim= is PyTorch's spelling; write start_axis=",
    ),
    "flatten(end_dim=1)": (lambda t: t.flatten(end_dim=1), "flatten: end_dim= .* end_axis="),
    "squeeze(dim=0)": (lambda t: t.squeeze(dim=0), "squeeze: dim= .* axis="),
    "unsqueeze(dim=0)": (lambda t: t.unsqueeze(dim=0), "unsqueeze: dim= is PyTorch's spelling; write axis="),
    "unsqueeze(0, dim=0)": (lambda t: unsqueeze(t, 0, dim=0), "unsqueeze: dim= .* axis="),
    "permute(dims=...)": (lambda t: t.permute(dims=(1, 0)), "permute: dims= .* positionally"),
    "flip(dims=...)": (lambda t: t.flip(dims=(0,)), "flip: dims= .* axis="),
    "roll(shifts=1)": (lambda t: t.roll(shifts=1), "roll: shifts= is PyTorch's spelling; write shift="),
    "roll(1, shifts=1)": (lambda t: roll(t, 1, shifts=1), "roll: shifts= .* shift="),
    "roll(1, dims=0)": (lambda t: t.roll(1, dims=0), "roll: dims= .* axis="),
    "repeat(2, dim=0)": (lambda t: t.repeat(2, dim=0), "repeat: dim= .* axis="),
    "tile(dims=...)": (lambda t: t.tile(dims=(2,)), "tile: dims= is PyTorch's spelling; write reps="),
    "tile(2, dims=...)": (lambda t: tile(t, 2, dims=(2,)), "tile: dims= .* reps="),
    "chunk(2, dim=1)": (lambda t: t.chunk(2, dim=1), "chunk: dim= .* axis="),
    "split(x, [1], dim=0)": (lambda t: split(t, [1], dim=0), "split: dim= .* axis="),
    "tril(diagonal=1)": (lambda t: t.tril(diagonal=1), "tril: diagonal= .* k="),
    "triu(diagonal=1)": (lambda t: triu(t, diagonal=1), "triu: diagonal= .* k="),
    "diagonal(dim1=0)": (lambda t: t.diagonal(dim1=0, dim2=1), "diagonal: dim1= .* axis1="),
    "pad(x, pad=...)": (lambda t: pad(t, pad=(1, 1)), "pad: pad= is PyTorch's spelling; write pad_width="),
    "pad(x, 1, pad=...)": (lambda t: pad(t, 1, pad=(1, 1)), "pad: pad= .* pad_width="),
    "pad(constant_values=1)": (lambda t: pad(t, 1, constant_values=1.0), "pad: constant_values= .* value="),
    "expand_dims(typo=0)": (
        lambda t: t.expand_dims(0, axes=1),
        "expand_dims.. got an unexpected keyword argument 'axes'",
    ),
}


@pytest.mark.parametrize("name", list(TORCH_KEYWORDS))
def test_pytorch_keywords_are_refused_naming_numpys(name: str) -> None:
    fn, message = TORCH_KEYWORDS[name]
    with pytest.raises(TypeError, match=message):
        fn(Tensor(np.ones((2, 2))))


def test_numpy_keywords_that_tensors_do_not_take_raise() -> None:
    t = Tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match="np.pad: on Tensors only mode"):
        np.pad(t, 1, mode="reflect", reflect_type="odd")
    with pytest.raises(TypeError, match="np.ravel: only order='C'"):
        np.ravel(t, order="F")


def test_a_refused_call_changes_nothing() -> None:
    t = Tensor(np.ones((3, 2)), requires_grad=True)
    before = t.data.copy()
    with pytest.raises(ValueError):
        t.squeeze(0)
    assert t.grad is None and t.grad_fn is None
    np.testing.assert_array_equal(t.data, before)
