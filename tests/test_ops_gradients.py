"""Every op's forward value, first derivative and second derivative, checked against numpy.

For each op (a ``Case`` in ``CASES``) hypothesis draws shapes (broadcasting pairs for
binary ops) and values, and three properties are checked:

* forward: the op's value (shape, dtype) equals the same computation in plain numpy;
* first derivative: autograd's gradient of ``sum(w * op(x))`` equals central differences
  of the *numpy* reference (our own helper, independent of the engine), and
  ``autograd.gradcheck`` agrees too;
* second derivative: with ``grad(..., create_graph=True)`` we form the scalar
  ``s(x) = sum(v * d/dx sum(w * op(x)**2))`` from the first gradient (squared, so that
  linear ops have a non-zero second derivative and their backward's own backward is
  exercised), and check autograd's ``ds/dx`` by central differences (our helper, along a
  hypothesis-drawn direction) and by ``autograd.gradcheck`` (element by element).

Then specific behaviours: dtype preservation, Python numbers and numpy arrays on either
side of each operator, softmax at huge logits, ties in max/min, relu/abs at 0, repeated
integer indices.

The checks and their tolerances are in tests/op_checks.py.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import (
    FORWARD_TOL,
    Case,
    _binary,
    _unary,
    assert_grad_close,
    central_difference,
    check_first,
    check_float32,
    check_second,
)

from autograd import (
    Tensor,
    concatenate,
    grad,
    maximum,
    minimum,
    stack,
    where,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:  # naive is fine for |x| <= 3
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


# relu/abs have a kink at 0: values keep |x| >= KINK_GAP = 0.01 >> FD_EPS, so x +- eps stays
# on one side and the central difference measures the one-sided slope autograd gives.
AWAY_FROM_ZERO = S.away_from_zero(S.KINK_GAP, 3.0)
# log and sqrt need x > 0; x >= 0.2 also keeps their derivatives (1/x**k) moderate, which
# the truncation bound relies on.
POSITIVE = S.floats(0.2, 5.0)


def _pow_scalar(data):
    """x ** p for a Python exponent. Non-integer p needs x > 0; negative p needs x away from 0."""
    p = data.draw(st.sampled_from([2, 3, 0, -1, 2.0, 0.5, 1.5, -0.5, -2.5]), label="p")
    elements = S.away_from_zero(0.5, 2.0) if float(p).is_integer() else S.floats(0.5, 2.0)
    x = data.draw(S.arrays(S.shapes(), elements), label="x")
    return [x], (lambda t: t**p), (lambda a: np.power(a, p))


def _rpow_scalar(data):
    """c ** x for a Python base c > 0 (d/dx = c**x log c; log needs c > 0)."""
    c = data.draw(S.floats(0.5, 3.0), label="c")
    x = data.draw(S.arrays(S.shapes()), label="x")
    return [x], (lambda t: c**t), (lambda a: np.power(c, a))


def _clip(data):
    """clip(lo, hi), either bound may be None. Values stay KINK_GAP from both bounds
    (the derivative jumps from 1 to 0 there)."""
    lo = data.draw(st.one_of(st.none(), S.floats(-2.0, 0.5)), label="lo")
    hi = data.draw(st.one_of(st.none(), S.floats(0.6, 2.0)), label="hi")
    bounds = [v for v in (lo, hi) if v is not None]
    elements = S.floats(-3.0, 3.0).filter(lambda v: all(abs(v - c) >= S.KINK_GAP for c in bounds))
    x = data.draw(S.arrays(S.shapes(), elements), label="x")
    return [x], (lambda t: t.clip(lo, hi)), (lambda a: np.clip(a, lo, hi))


def _extreme_with_scalar(name: str, method: str, numpy_fn):
    """x.maximum(c) / x.minimum(c) with a Python number: x stays KINK_GAP from c (ties)."""

    def draw(data):
        c = data.draw(S.floats(-1.0, 1.0), label="c")
        elements = S.floats(-3.0, 3.0).filter(lambda v: abs(v - c) >= S.KINK_GAP)
        x = data.draw(S.arrays(S.shapes(), elements), label="x")
        return [x], (lambda t: getattr(t, method)(c)), (lambda a: numpy_fn(a, c))

    return Case(name, draw)


def _softmax_case(name: str, log: bool):
    def draw(data):
        x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
        axis = data.draw(S.single_axis(x.ndim), label="axis")
        if log:
            return [x], (lambda t: t.log_softmax(axis)), (lambda a: np.log(_softmax(a, axis)))
        return [x], (lambda t: t.softmax(axis)), (lambda a: _softmax(a, axis))

    return Case(name, draw)


def _reduction(name: str, distinct: bool):
    """sum/mean/max/min over axis None | int | tuple, keepdims or not. max and min get
    distinct values (gap >= 2 KINK_GAP): with a tie, the maximum is not differentiable."""

    def draw(data):
        shape = data.draw(S.shapes(), label="shape")
        x = data.draw(S.distinct_arrays(shape) if distinct else S.arrays(shape), label="x")
        axis = data.draw(S.axes(x.ndim), label="axis")
        keepdims = data.draw(st.booleans(), label="keepdims")
        as_list = isinstance(axis, tuple) and data.draw(st.booleans(), label="axis as list")
        axis_arg = list(axis) if as_list else axis
        return (
            [x],
            lambda t: getattr(t, name)(axis=axis_arg, keepdims=keepdims),
            lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims),
        )

    return Case(name, draw)


def _reshape(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    target = data.draw(S.reshape_targets(x.shape), label="target")
    spread = data.draw(st.booleans(), label="reshape(*dims)")
    return [x], (lambda t: t.reshape(*target) if spread else t.reshape(target)), (lambda a: a.reshape(target))


def _transpose(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axes = data.draw(st.one_of(st.none(), st.permutations(range(x.ndim)).map(tuple)), label="axes")
    if axes is None:
        return [x], (lambda t: t.transpose()), (lambda a: np.transpose(a))
    # transpose(a, b) with two axes is refused where numpy and PyTorch read it differently
    # (tests/test_trust.py); spread only permutations of other lengths
    spread = data.draw(st.booleans(), label="transpose(*axes)") and len(axes) != 2
    return [x], (lambda t: t.transpose(*axes) if spread else t.transpose(axes)), (lambda a: np.transpose(a, axes))


def _swapaxes(data):
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    a1 = data.draw(S.single_axis(x.ndim), label="axis1")
    a2 = data.draw(S.single_axis(x.ndim), label="axis2")
    return [x], (lambda t: t.swapaxes(a1, a2)), (lambda a: np.swapaxes(a, a1, a2))


@st.composite
def _broadcast_source(draw, target: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts *to* target: a suffix of it with some sides set to 1."""
    k = draw(st.integers(0, len(target)))
    suffix = target[len(target) - k :]
    return tuple(1 if draw(st.booleans()) else n for n in suffix)


def _broadcast_to(data):
    target = data.draw(S.shapes(), label="target")
    x = data.draw(S.arrays(_broadcast_source(target)), label="x")
    return [x], (lambda t: t.broadcast_to(target)), (lambda a: np.broadcast_to(a, target))


def _getitem_basic(data):
    """ints, slices (negative steps too), None and Ellipsis."""
    x = data.draw(S.arrays(S.shapes()), label="x")
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True), label="index")
    return [x], (lambda t: t[index]), (lambda a: a[index])


def _getitem_int_arrays(data):
    """Integer arrays (repeats are common in what hypothesis draws: they must add up)."""
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    index = data.draw(
        hnp.integer_array_indices(x.shape, result_shape=S.shapes(min_dims=1, max_dims=2, max_side=4)), label="index"
    )
    return [x], (lambda t: t[index]), (lambda a: a[index])


def _getitem_mixed(data):
    """A slice on axis 0 and an integer list with repeats on axis 1: x[s, [i, j, i]]."""
    x = data.draw(S.arrays(S.shapes(min_dims=2)), label="x")
    lead = data.draw(st.sampled_from([slice(None), slice(None, None, -1), slice(1, None)]), label="slice")
    cols = data.draw(st.lists(st.integers(-x.shape[1], x.shape[1] - 1), min_size=1, max_size=5), label="cols")
    return [x], (lambda t: t[lead, cols]), (lambda a: a[lead, cols])


def _getitem_mask(data):
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    mask = data.draw(S.bool_masks(x.shape), label="mask")
    as_tensor = data.draw(st.booleans(), label="mask as Tensor")
    index = Tensor(mask) if as_tensor else mask
    return [x], (lambda t: t[index]), (lambda a: a[mask])


def _astype_longdouble(data):
    """float64 -> longdouble: the gradient must come back as float64, unchanged in value."""
    x = data.draw(S.arrays(S.shapes()), label="x")
    return [x], (lambda t: t.astype(np.longdouble)), (lambda a: a.astype(np.longdouble))


def _matmul(data):
    """2-D, 1-D on either side, and batched with broadcast batch axes (np.matmul's signature)."""
    shape_a, shape_b = data.draw(S.matmul_shapes(), label="shapes").input_shapes
    a = data.draw(S.arrays(shape_a), label="a")
    b = data.draw(S.arrays(shape_b), label="b")
    return [a, b], operator.matmul, np.matmul


def _pow_tensor(data):
    """a ** b, both tensors: d/db = a**b log a needs a > 0; a >= 0.5 and |b| <= 2 keep
    a**b and its derivatives moderate."""
    shape_a, shape_b = data.draw(S.broadcastable_pairs(), label="shapes").input_shapes
    a = data.draw(S.arrays(shape_a, S.floats(0.5, 3.0)), label="a")
    b = data.draw(S.arrays(shape_b, S.floats(-2.0, 2.0)), label="b")
    return [a, b], operator.pow, np.power


# maximum/minimum are not differentiable at a == b: a is drawn on the half-grid
# 0.1 k + 0.05 +- 0.02 and b on the grid 0.1 k, so |a - b| >= 0.03 > KINK_GAP everywhere.
HALF_GRID = st.tuples(st.integers(-30, 29), S.floats(-0.02, 0.02)).map(lambda p: p[0] / 10 + 0.05 + p[1])
GRID = st.integers(-30, 30).map(lambda k: k / 10)


def _where(data):
    """where(cond, a, b) with cond, a and b broadcast together; cond as array or Tensor."""
    shape_c, shape_a, shape_b = data.draw(S.broadcastable_pairs(num_shapes=3), label="shapes").input_shapes
    cond = data.draw(hnp.arrays(np.bool_, shape_c), label="cond")
    a = data.draw(S.arrays(shape_a), label="a")
    b = data.draw(S.arrays(shape_b), label="b")
    c = Tensor(cond) if data.draw(st.booleans(), label="cond as Tensor") else cond
    return [a, b], (lambda ta, tb: where(c, ta, tb)), (lambda na, nb: np.where(cond, na, nb))


def _concatenate(data):
    base = data.draw(S.shapes(min_dims=1), label="base shape")
    axis = data.draw(S.single_axis(len(base)), label="axis")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes")
    shapes = [base[: axis % len(base)] + (n,) + base[axis % len(base) + 1 :] for n in sizes]
    xs = [data.draw(S.arrays(s), label=f"x{i}") for i, s in enumerate(shapes)]
    return xs, (lambda *ts: concatenate(ts, axis=axis)), (lambda *arrs: np.concatenate(arrs, axis=axis))


def _stack(data):
    shape = data.draw(S.shapes(), label="shape")
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    k = data.draw(st.integers(1, 3), label="count")
    xs = [data.draw(S.arrays(shape), label=f"x{i}") for i in range(k)]
    return xs, (lambda *ts: stack(list(ts), axis=axis)), (lambda *arrs: np.stack(arrs, axis=axis))


CASES: list[Case] = [
    # arithmetic (binary ones on hypothesis' mutually broadcastable shape pairs)
    _binary("add", operator.add, np.add),
    _binary("sub", operator.sub, np.subtract),
    _binary("mul", operator.mul, np.multiply),
    # 1/b has a pole at 0: divisors keep |b| >= 0.5, which bounds d^k(1/b) by k!/0.5**(k+1)
    _binary("div", operator.truediv, np.divide, b_elements=S.away_from_zero(0.5, 3.0)),
    Case("pow_tensor", _pow_tensor),
    Case("pow_scalar", _pow_scalar),
    Case("rpow_scalar", _rpow_scalar),
    _unary("neg", operator.neg, np.negative),
    Case("matmul", _matmul),
    # elementwise
    _unary("exp", Tensor.exp, np.exp),
    _unary("log", Tensor.log, np.log, POSITIVE),
    _unary("sqrt", Tensor.sqrt, np.sqrt, POSITIVE),
    _unary("tanh", Tensor.tanh, np.tanh),
    _unary("sigmoid", Tensor.sigmoid, _sigmoid, S.floats(-5.0, 5.0)),
    _unary("relu", Tensor.relu, lambda a: np.maximum(a, 0.0), AWAY_FROM_ZERO),
    _unary("abs", Tensor.abs, np.abs, AWAY_FROM_ZERO),
    _unary("abs_builtin", abs, np.abs, AWAY_FROM_ZERO),
    Case("clip", _clip),
    Case("astype", _astype_longdouble, out_dtype_follows_input=False),
    # selection
    _binary("maximum", maximum, np.maximum, HALF_GRID, GRID),
    _binary("minimum", minimum, np.minimum, HALF_GRID, GRID),
    _binary("maximum_method", Tensor.maximum, np.maximum, GRID, HALF_GRID),
    _binary("minimum_method", Tensor.minimum, np.minimum, GRID, HALF_GRID),
    _extreme_with_scalar("maximum_scalar", "maximum", np.maximum),
    _extreme_with_scalar("minimum_scalar", "minimum", np.minimum),
    Case("where", _where),
    # softmax
    _softmax_case("softmax", log=False),
    _softmax_case("log_softmax", log=True),
    # reductions
    _reduction("sum", distinct=False),
    _reduction("mean", distinct=False),
    _reduction("max", distinct=True),
    _reduction("min", distinct=True),
    # shape and indexing
    Case("reshape", _reshape),
    Case("transpose", _transpose),
    _unary("T", lambda t: t.T, lambda a: a.T),
    Case("swapaxes", _swapaxes),
    Case("broadcast_to", _broadcast_to),
    Case("getitem_basic", _getitem_basic),
    Case("getitem_int_arrays", _getitem_int_arrays),
    Case("getitem_mixed", _getitem_mixed),
    Case("getitem_bool_mask", _getitem_mask),
    Case("concatenate", _concatenate),
    Case("stack", _stack),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
@given(data=st.data())
def test_forward_and_first_derivative(case: Case, data: st.DataObject) -> None:
    check_first(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@given(data=st.data())
def test_second_derivative(case: Case, data: st.DataObject) -> None:
    check_second(case, data)


@pytest.mark.parametrize("case", [c for c in CASES if c.out_dtype_follows_input], ids=repr)
@settings(max_examples=10)
@given(data=st.data())
def test_float32_in_float32_out_and_float32_grads(case: Case, data: st.DataObject) -> None:
    check_float32(case, data)


@pytest.mark.parametrize("src, dst", [(np.float64, np.float32), (np.float32, np.float64), (np.float64, np.longdouble)])
@given(data=st.data())
def test_astype_casts_forward_and_casts_the_gradient_back(src, dst, data: st.DataObject) -> None:
    x_values = data.draw(S.arrays(S.shapes()), label="x").astype(src)
    w = data.draw(S.weights(x_values.shape), label="w").astype(dst)
    x = Tensor(x_values, requires_grad=True)
    y = x.astype(dst)
    assert y.dtype == np.dtype(dst) and x.dtype == np.dtype(src)
    np.testing.assert_array_equal(y.data, x_values.astype(dst))
    (y * w).sum().backward()
    assert x.grad.dtype == np.dtype(src)
    np.testing.assert_array_equal(x.grad.data, w.astype(src))  # d(sum w*x)/dx = w, cast exactly


def test_astype_to_own_dtype_is_the_identity() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.astype(np.float64) is x


# ----------------------------------------------------------------------------- plain operands

BINARY_OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@st.composite
def _plain_operand(draw, kind: str, shape: tuple[int, ...]) -> Any:
    """A non-Tensor operand. Values in [0.5, 2]: positive (a base of ** with a non-integer
    exponent, and log(base) in d/dexponent) and away from 0 (a divisor)."""
    if kind == "int":
        return draw(st.integers(1, 3))
    if kind == "float":
        return draw(S.floats(0.5, 2.0))
    if kind == "numpy scalar":
        return np.float64(draw(S.floats(0.5, 2.0)))
    other_shape = draw(hnp.broadcastable_shapes(shape, max_dims=3, max_side=S.MAX_SIDE))
    return draw(S.arrays(other_shape, S.floats(0.5, 2.0)))


@pytest.mark.parametrize("op", BINARY_OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("kind", ["int", "float", "numpy scalar", "numpy array"])
@pytest.mark.parametrize("tensor_on_left", [True, False], ids=["tensor_op_plain", "plain_op_tensor"])
@settings(max_examples=15)
@given(data=st.data())
def test_python_numbers_and_numpy_arrays_on_either_side(
    op, kind: str, tensor_on_left: bool, data: st.DataObject
) -> None:
    x_values = data.draw(S.arrays(S.shapes(), S.floats(0.5, 2.0)), label="x")
    other = data.draw(_plain_operand(kind, x_values.shape), label="other")

    def numpy_fn(a: np.ndarray) -> np.ndarray:
        return op(a, other) if tensor_on_left else op(other, a)

    x = Tensor(x_values, requires_grad=True)
    out = op(x, other) if tensor_on_left else op(other, x)
    expected = numpy_fn(x_values)
    assert isinstance(out, Tensor), f"{type(out).__name__}, not a Tensor"
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, **FORWARD_TOL)

    w = data.draw(S.weights(out.shape), label="w")
    (g,) = grad((out * w).sum(), [x])
    numeric, scale = central_difference(lambda a: numpy_fn(a) * w, [x_values], 0)
    assert_grad_close(g, numeric, scale, op.__name__)


@pytest.mark.parametrize("op", BINARY_OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize(
    "other", [2, 1.5, np.ones(3), np.ones(3, dtype=np.float32)], ids=["int", "float", "f64 array", "f32 array"]
)
@pytest.mark.parametrize("tensor_on_left", [True, False], ids=["tensor_op_plain", "plain_op_tensor"])
def test_float32_tensor_with_plain_operands_follows_numpy_promotion(op, other, tensor_on_left: bool) -> None:
    """Python numbers take the tensor's float32 (numpy's weak scalars); a float64 array
    promotes to float64, as numpy does. Either way the gradient is float32, like x."""
    x_values = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    x = Tensor(x_values, requires_grad=True)
    out = op(x, other) if tensor_on_left else op(other, x)
    expected = op(x_values, other) if tensor_on_left else op(other, x_values)
    assert isinstance(out, Tensor)
    assert out.dtype == expected.dtype
    out.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize(
    "left, right",
    [("array", "tensor"), ("tensor", "array"), ("vector", "tensor"), ("tensor", "vector")],
)
@given(data=st.data())
def test_matmul_with_a_numpy_operand(left: str, right: str, data: st.DataObject) -> None:
    n, k, m = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)), label="n, k, m")
    shapes = {
        ("array", "tensor"): ((n, k), (k, m)),
        ("tensor", "array"): ((n, k), (k, m)),
        ("vector", "tensor"): ((k,), (k, m)),
        ("tensor", "vector"): ((n, k), (k,)),
    }[(left, right)]
    a = data.draw(S.arrays(shapes[0]), label="a")
    b = data.draw(S.arrays(shapes[1]), label="b")
    tensor_index = 1 if left != "tensor" else 0
    t = Tensor([a, b][tensor_index], requires_grad=True)
    out = a @ t if tensor_index == 1 else t @ b
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, a @ b, **FORWARD_TOL)
    w = data.draw(S.weights(out.shape), label="w")
    (g,) = grad((out * w).sum(), [t])

    def terms(x: np.ndarray) -> np.ndarray:
        return (a @ x if tensor_index == 1 else x @ b) * w

    numeric, scale = central_difference(terms, [[a, b][tensor_index]], 0)
    assert_grad_close(g, numeric, scale, "matmul")


# ----------------------------------------------------------------------------- softmax at huge logits


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_is_shift_invariant_at_huge_logits(log: bool, data: st.DataObject) -> None:
    """softmax(x + c) = softmax(x): with c = +-1e4 a naive exp overflows (or underflows
    to 0/0). Adding c rounds x by <= ulp(1e4)/2 ~ 1e-12, which moves the (log-)softmax and
    its gradient by ~1e-12: rtol 1e-9 / atol 1e-9 leave a wide margin for that alone."""
    x = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    axis = data.draw(S.single_axis(x.ndim), label="axis")
    c = data.draw(st.sampled_from([1e4, -1e4]), label="c")
    w = data.draw(S.weights(x.shape), label="w")
    outs, grads = [], []
    for values in (x, x + c):
        t = Tensor(values, requires_grad=True)
        y = t.log_softmax(axis) if log else t.softmax(axis)
        assert np.all(np.isfinite(y.data))
        (y * w).sum().backward()
        assert np.all(np.isfinite(t.grad.data))
        outs.append(y.data)
        grads.append(t.grad.data)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_and_log_softmax_at_logits_1e4_apart(dtype) -> None:
    """Logits 1e4 apart: exp(-1e4) underflows to 0, so softmax is exactly one-hot and
    log_softmax is x - max(x) exactly (these values are exact in float32 too)."""
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]])
    w = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    x = Tensor(logits, requires_grad=True, dtype=dtype)
    y = x.softmax(axis=1)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    (y * w.astype(dtype)).sum().backward()
    # d/dx_j sum_i w_i y_i = y_j (w_j - sum_i w_i y_i) = 0 for a one-hot y
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))

    x = Tensor(logits, requires_grad=True, dtype=dtype)
    z = x.log_softmax(axis=-1)
    assert z.dtype == dtype
    np.testing.assert_array_equal(z.data, [[0.0, -1e4, -2e4], [-2e4, -2e4, 0.0]])
    first = grad((z * w.astype(dtype)).sum(), [x], create_graph=True)[0]
    # d/dx_j sum_i w_i z_i = w_j - softmax_j sum_i w_i
    np.testing.assert_array_equal(first.data, [[1.0 - 6.0, 2.0, 3.0], [0.5, -1.0, 2.0 - 1.5]])
    (second,) = grad((first * first).sum(), [x])
    assert np.all(np.isfinite(second.data))


# ----------------------------------------------------------------------------- ties and kinks


def test_max_and_min_ties_share_the_gradient_equally() -> None:
    x = Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5, 0.0])

    x = Tensor([[2.0, 5.0, 5.0, 5.0], [1.0, 1.0, 0.0, 4.0]], requires_grad=True)
    (x.max(axis=1) * np.array([3.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 2.0]])

    x = Tensor([[2.0, 5.0, 5.0, 5.0], [1.0, 1.0, 0.0, 4.0]], requires_grad=True)
    (x.min(axis=1, keepdims=True) * np.array([[3.0], [2.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])

    x = Tensor(np.full((2, 2), 7.0), requires_grad=True)
    x.min().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 2), 0.25))


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_min_with_ties_match_an_equal_share_reference(name: str, data: st.DataObject) -> None:
    """Values from {-1, 0, 1}: ties are the rule. Each of the k tied extremes of a
    reduction gets 1/k of its gradient (numpy reference below)."""
    x_values = data.draw(S.arrays(S.shapes(), st.sampled_from([-1.0, 0.0, 1.0])), label="x")
    axis = data.draw(S.axes(x_values.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = Tensor(x_values, requires_grad=True)
    y = getattr(x, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(y.data, getattr(np, name)(x_values, axis=axis, keepdims=keepdims))
    w = data.draw(S.weights(y.shape), label="w")
    (y * w).sum().backward()

    extreme = getattr(np, name)(x_values, axis=axis, keepdims=True)
    hits = x_values == extreme
    w_kept = np.reshape(w, extreme.shape)
    expected = hits * w_kept / hits.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("fn", [maximum, minimum], ids=["maximum", "minimum"])
def test_maximum_minimum_ties_split_the_gradient_in_half(fn) -> None:
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([1.0, 0.0, 3.0], requires_grad=True)
    fn(a, b).sum().backward()
    a_wins = [0.5, 1.0, 0.5] if fn is maximum else [0.5, 0.0, 0.5]
    np.testing.assert_array_equal(a.grad.data, a_wins)
    np.testing.assert_array_equal(b.grad.data, 1.0 - np.array(a_wins))
    # max(x, x) = x: the two halves add back up to 1
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    fn(x, x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])


def test_relu_and_abs_have_gradient_zero_at_zero() -> None:
    values = [-2.0, -0.0, 0.0, 3.0]
    x = Tensor(values, requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0, 1.0])

    x = Tensor(values, requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.0, 0.0, 1.0])

    # and their second derivatives are 0 everywhere, 0 included
    for method in (Tensor.relu, Tensor.abs):
        x = Tensor(values, requires_grad=True)
        (first,) = grad(method(x).sum(), [x], create_graph=True)
        (second,) = grad((first * x).sum(), [x])  # d/dx sum(f'(x) * x) = f'(x) + f''(x) x
        np.testing.assert_array_equal(second.data, first.data)


def test_clip_passes_the_gradient_at_its_bounds() -> None:
    """Documented convention (as PyTorch): the gradient is 1 for lo <= x <= hi, bounds included."""
    x = Tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])


# ----------------------------------------------------------------------------- repeated indices


def test_repeated_integer_indices_accumulate() -> None:
    x = Tensor([10.0, 20.0, 30.0, 40.0], requires_grad=True)
    y = x[[0, 0, 2, 0]]
    np.testing.assert_array_equal(y.data, [10.0, 10.0, 30.0, 10.0])
    (y * np.array([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [7.0, 0.0, 3.0, 0.0])

    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    (x[np.array([1, 1, 0]), np.array([0, 0, 1])] * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 3.0], [3.0, 0.0], [0.0, 0.0]])

    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x[:, [2, 2, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 3.0], [0.0, 0.0, 3.0]])

    x = Tensor(np.arange(3.0), requires_grad=True)
    x[Tensor(np.array([[1, 1], [1, 2]]))].sum().backward()  # an index given as a Tensor
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 1.0])


def test_repeated_integer_indices_accumulate_in_the_second_derivative() -> None:
    """f = sum(w * x[idx]**2)  =>  df/dx_k = 2 x_k * (sum of w over the repeats of k),
    and d/dx of sum(v * df/dx) = 2 v_k * (that same sum)."""
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    idx = [2, 0, 2, 2]
    w = np.array([1.0, 2.0, 3.0, 4.0])
    v = np.array([0.5, 1.0, -1.0])
    y = x[idx]
    (first,) = grad((y * y * w).sum(), [x], create_graph=True)
    repeats = np.array([2.0, 0.0, 1.0 + 3.0 + 4.0])
    np.testing.assert_array_equal(first.data, 2 * x.data * repeats)
    (second,) = grad((first * v).sum(), [x])
    np.testing.assert_array_equal(second.data, 2 * v * repeats)


@given(data=st.data())
def test_integer_array_indices_match_np_add_at(data: st.DataObject) -> None:
    x_values = data.draw(S.arrays(S.shapes(min_dims=1)), label="x")
    index = data.draw(
        hnp.integer_array_indices(x_values.shape, result_shape=S.shapes(min_dims=1, max_dims=2, max_side=5)),
        label="index",
    )
    x = Tensor(x_values, requires_grad=True)
    y = x[index]
    w = data.draw(S.weights(y.shape), label="w")
    (y * w).sum().backward()
    expected = np.zeros_like(x_values)
    np.add.at(expected, index, w)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-15, atol=0)


# ----------------------------------------------------------------------------- pow at a zero base


@pytest.mark.parametrize(
    "p, order, expected",
    [
        (0, 1, 0.0),  # d/dx x**0 = 0: x**0 = 1 for every x (numpy: 0.0**0 == 1.0)
        (1, 1, 1.0),  # d/dx x**1 = 1
        (2, 1, 0.0),  # d/dx x**2 = 2x
        (1, 2, 0.0),  # d2/dx2 x**1 = 0
        (2, 2, 2.0),  # d2/dx2 x**2 = 2
        (2, 3, 0.0),  # d3/dx3 x**2 = 0
        (3, 3, 6.0),  # d3/dx3 x**3 = 6
    ],
)
def test_integer_powers_are_differentiable_at_zero(p: int, order: int, expected: float) -> None:
    """x**p for a non-negative integer p is a polynomial: every derivative exists at x = 0,
    and autograd must give it (PyTorch does) rather than 0 * 0**-1 = 0 * inf = NaN."""
    x = Tensor([0.0], requires_grad=True)
    y = (x**p).sum()
    for k in range(order):
        (y,) = grad(y.sum(), [x], create_graph=k < order - 1)
    np.testing.assert_array_equal(y.data, [expected])


def test_pow_exponent_gradient_at_a_zero_base_is_zero() -> None:
    """Documented convention (as PyTorch): d(a**b)/db is 0 where a == 0 and b >= 0."""
    a = Tensor([0.0, 0.0, 0.0], requires_grad=False)
    b = Tensor([0.0, 0.5, 2.0], requires_grad=True)
    (g,) = grad((a**b).sum(), [b])
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0])
