"""The elementwise functions and activations of ``autograd/ops/elementwise.py`` and
``autograd/ops/activations.py``: sin cos tan log1p expm1 log2 log10 exp2 square rsqrt erf,
gelu (exact and tanh) leaky_relu elu silu softplus logsigmoid hardtanh hardsigmoid softsign
mish; and the zero-gradient sign floor ceil round isnan isinf isfinite.

* Every differentiable op is a ``Case`` in ``CASES``: forward value against a numpy
  reference (math.erf for erf and gelu, independent of our erf), first and second
  derivatives by central differences and gradcheck, float32 in -> float32 out and grads
  (the checks and tolerances of tests/op_checks.py). Inputs stay away from the kinks
  (KINK_GAP = 0.01 >> the 1e-6 difference step), poles and domain edges: log1p needs
  x > -1, rsqrt/log2/log10 x > 0 (both kept >= 0.2 as log's case does: 1/(1 + x), 1/x and
  their derivatives stay moderate), tan |x| <= 1.2 (poles at +-pi/2; tan(1.2) = 2.6).
* Against PyTorch (float64): values and gradients on a grid, at huge and tiny inputs
  (the stable formulas must stay finite and equal torch's wherever torch is finite) and
  at the kink points, where PyTorch's gradient conventions are the reference.
* erf against ``math.erf`` over the real line: relative error below 1e-15.
* The zero-gradient ops: numpy's values, bool/float results with no graph.
* Errors name the op and what to write.
"""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st
from op_checks import Case, _unary, check_first, check_float32, check_second

import autograd
import nn.functional as F
from autograd import Tensor, grad, ops

_erf = np.vectorize(math.erf, otypes=[np.float64])  # the reference: the C library's erf


def _phi(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + _erf(a / math.sqrt(2.0)))


def _gelu_tanh(a: np.ndarray) -> np.ndarray:
    return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a**3)))


def _sigmoid(a: np.ndarray) -> np.ndarray:  # naive is fine for |x| <= 5
    return 1.0 / (1.0 + np.exp(-a))


AWAY_FROM_ZERO = S.away_from_zero(S.KINK_GAP, 3.0)
POSITIVE = S.floats(0.2, 5.0)
ABOVE_MINUS_ONE = S.floats(-0.8, 3.0)  # log1p: 1 + x >= 0.2, as log's x >= 0.2
AWAY_FROM_TAN_POLES = S.floats(-1.2, 1.2)


def _away_from(points: list[float], lo: float, hi: float) -> st.SearchStrategy[float]:
    """Values in [lo, hi] at least KINK_GAP from each of ``points`` (kinks, bounds, jumps)."""
    return S.floats(lo, hi).filter(lambda v: all(abs(v - p) >= S.KINK_GAP for p in points))


def _leaky_relu(data):
    slope = data.draw(st.sampled_from([0.01, 0.2, -0.5, 1.5]), label="negative_slope")
    x = data.draw(S.arrays(S.shapes(), AWAY_FROM_ZERO), label="x")
    return [x], (lambda t: t.leaky_relu(slope)), (lambda a: np.where(a > 0, a, slope * a))


def _elu(data):
    alpha = data.draw(st.sampled_from([1.0, 0.5, 2.5]), label="alpha")
    x = data.draw(S.arrays(S.shapes(), AWAY_FROM_ZERO), label="x")
    return [x], (lambda t: F.elu(t, alpha=alpha)), (lambda a: np.where(a > 0, a, alpha * np.expm1(a)))


def _softplus(data):
    """PyTorch's definition: linear where beta x > threshold. The two pieces differ at the
    switch (by ln(1 + e^-threshold) / beta), so x stays KINK_GAP from threshold / beta."""
    beta = data.draw(st.sampled_from([1.0, 2.0, 0.5, -1.0]), label="beta")
    threshold = data.draw(st.sampled_from([20.0, 1.0, 0.5]), label="threshold")
    x = data.draw(S.arrays(S.shapes(), _away_from([threshold / beta], -3.0, 3.0)), label="x")

    def numpy_fn(a):
        return np.where(a * beta > threshold, a, np.log1p(np.exp(a * beta)) / beta)

    return [x], (lambda t: t.softplus(beta=beta, threshold=threshold)), numpy_fn


def _hardtanh(data):
    lo = data.draw(S.floats(-2.0, -0.1), label="min_val")
    hi = data.draw(S.floats(0.1, 2.0), label="max_val")
    x = data.draw(S.arrays(S.shapes(), _away_from([lo, hi], -3.0, 3.0)), label="x")
    return [x], (lambda t: F.hardtanh(t, min_val=lo, max_val=hi)), (lambda a: np.clip(a, lo, hi))


CASES: list[Case] = [
    _unary("sin", Tensor.sin, np.sin),
    _unary("cos", Tensor.cos, np.cos),
    _unary("tan", Tensor.tan, np.tan, AWAY_FROM_TAN_POLES),
    _unary("log1p", Tensor.log1p, np.log1p, ABOVE_MINUS_ONE),
    _unary("expm1", Tensor.expm1, np.expm1),
    _unary("log2", Tensor.log2, np.log2, POSITIVE),
    _unary("log10", Tensor.log10, np.log10, POSITIVE),
    _unary("exp2", Tensor.exp2, np.exp2),
    _unary("square", Tensor.square, np.square),
    _unary("rsqrt", Tensor.rsqrt, lambda a: 1.0 / np.sqrt(a), POSITIVE),
    _unary("erf", Tensor.erf, _erf),
    # activations
    _unary("gelu", Tensor.gelu, lambda a: a * _phi(a)),
    _unary("gelu_tanh", lambda t: F.gelu(t, approximate="tanh"), _gelu_tanh),
    Case("leaky_relu", _leaky_relu),
    Case("elu", _elu),
    _unary("silu", Tensor.silu, lambda a: a * _sigmoid(a), S.floats(-5.0, 5.0)),
    Case("softplus", _softplus),
    _unary("logsigmoid", Tensor.logsigmoid, lambda a: -np.log1p(np.exp(-a)), S.floats(-5.0, 5.0)),
    Case("hardtanh", _hardtanh),
    _unary(
        "hardsigmoid", F.hardsigmoid, lambda a: np.clip(a / 6.0 + 0.5, 0.0, 1.0), _away_from([-3.0, 3.0], -5.0, 5.0)
    ),
    # softsign's second derivative jumps at 0 (-2 sign(x) / (1 + |x|)^3): keep away from it
    _unary("softsign", Tensor.softsign, lambda a: a / (1.0 + np.abs(a)), AWAY_FROM_ZERO),
    _unary("mish", F.mish, lambda a: a * np.tanh(np.log1p(np.exp(a))), S.floats(-5.0, 5.0)),
]


# 22 cases of elementwise formulas: fewer examples than the "ci" profile's 60 keep this file
# within its time budget; each example draws an array of 1 to 27 values.


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=25)
@given(data=st.data())
def test_forward_and_first_derivative(case: Case, data: st.DataObject) -> None:
    check_first(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=20)
@given(data=st.data())
def test_second_derivative(case: Case, data: st.DataObject) -> None:
    check_second(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=10)
@given(data=st.data())
def test_float32_in_float32_out_and_float32_grads(case: Case, data: st.DataObject) -> None:
    check_float32(case, data)


# ----------------------------------------------------------------------------- erf's accuracy


def _erf_points() -> np.ndarray:
    """The real line: a dense grid, the band edges of the implementation and their neighbours,
    tiny and huge magnitudes, random normals; both signs."""
    rng = np.random.default_rng(0)
    edges = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 6.0])
    near_edges = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, 10), edges + 1e-9, edges - 1e-9])
    positive = np.concatenate(
        [
            np.linspace(0.0, 7.0, 70_001),
            np.logspace(-300, 1, 3_000),
            np.logspace(1, 300, 300),
            np.abs(rng.normal(0.0, 2.0, 20_000)),
            near_edges,
        ]
    )
    return np.concatenate([positive, -positive])


def test_erf_matches_math_erf_to_1e_15_relative_over_the_real_line() -> None:
    x = _erf_points()
    ours = Tensor(x).erf().data
    reference = _erf(x)
    nonzero = reference != 0
    relative = np.abs(ours[nonzero] - reference[nonzero]) / np.abs(reference[nonzero])
    assert relative.max() < 1e-15, f"max relative error {relative.max():.3g} at x = {x[nonzero][relative.argmax()]!r}"
    np.testing.assert_array_equal(ours[~nonzero], reference[~nonzero])
    assert np.all(np.abs(ours) <= 1.0)


def test_erf_special_values() -> None:
    x = Tensor([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, -5e-324])
    y = x.erf().data
    np.testing.assert_array_equal(y[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(y[1]) and not np.signbit(y[0])
    assert np.isnan(y[4])
    np.testing.assert_allclose(y[5:], [math.erf(1e-310), math.erf(-5e-324)], rtol=0, atol=1e-323)  # subnormals


def test_erf_float32_is_float64_erf_rounded() -> None:
    """Computed in float64 and rounded once: within one float32 ulp of the true value."""
    x = np.linspace(-5.0, 5.0, 4001).astype(np.float32)
    y = Tensor(x).erf()
    assert y.dtype == np.float32
    exact = _erf(x.astype(np.float64))
    assert np.all(np.abs(y.data - exact) <= np.spacing(np.abs(exact).astype(np.float32)))


def test_erf_of_an_integer_tensor_is_float64() -> None:
    y = Tensor([0, 1, -2]).erf()
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.data, [0.0, math.erf(1.0), math.erf(-2.0)], rtol=1e-15)


# ----------------------------------------------------------------------------- against PyTorch

GRID = np.linspace(-6.0, 6.0, 49)
EXTREMES = np.array([1e300, 1e200, 1e10, 800.0, 40.0, 20.0, 1e-10, 1e-300, 0.0])
WIDE = np.unique(np.concatenate([GRID, EXTREMES, -EXTREMES, [-0.0]]))

# name, our function, torch's, the inputs (the domain of each op; extremes where defined)
TORCH_OPS = [
    ("sin", Tensor.sin, "sin", np.concatenate([GRID, [1e10, -1e-300]])),
    ("cos", Tensor.cos, "cos", np.concatenate([GRID, [1e10, -1e-300]])),
    ("tan", Tensor.tan, "tan", np.linspace(-1.5, 1.5, 31)),
    ("log1p", Tensor.log1p, "log1p", np.array([-0.999, -0.5, -1e-10, -1e-300, 0.0, 1e-300, 1e-10, 1.0, 1e10, 1e300])),
    ("expm1", Tensor.expm1, "expm1", np.concatenate([GRID, [-800.0, -40.0, -1e-10, 1e-300, 1e-10, 700.0]])),
    ("log2", Tensor.log2, "log2", np.array([1e-300, 1e-10, 0.3, 1.0, 2.0, 7.5, 1e10, 1e300])),
    ("log10", Tensor.log10, "log10", np.array([1e-300, 1e-10, 0.3, 1.0, 2.0, 7.5, 1e10, 1e300])),
    ("exp2", Tensor.exp2, "exp2", np.concatenate([GRID, [-1000.0, -40.0, 40.0, 1000.0]])),
    ("square", Tensor.square, "square", np.concatenate([GRID, [1e150, -1e-150]])),
    ("rsqrt", Tensor.rsqrt, "rsqrt", np.array([1e-300, 1e-10, 0.3, 1.0, 2.0, 7.5, 1e10, 1e300])),
    ("erf", Tensor.erf, "erf", WIDE),
    ("gelu", Tensor.gelu, "nn.functional.gelu", WIDE),
    ("gelu_tanh", lambda t: t.gelu("tanh"), ("nn.functional.gelu", {"approximate": "tanh"}), WIDE),
    ("leaky_relu", Tensor.leaky_relu, "nn.functional.leaky_relu", WIDE),
    ("leaky_relu_0.2", lambda t: t.leaky_relu(0.2), ("nn.functional.leaky_relu", {"negative_slope": 0.2}), WIDE),
    ("elu", Tensor.elu, "nn.functional.elu", WIDE),
    ("elu_2", lambda t: t.elu(2.0), ("nn.functional.elu", {"alpha": 2.0}), WIDE),
    ("silu", Tensor.silu, "nn.functional.silu", WIDE),
    ("softplus", Tensor.softplus, "nn.functional.softplus", WIDE),
    (
        "softplus_b2_t5",
        lambda t: t.softplus(2.0, 5.0),
        ("nn.functional.softplus", {"beta": 2.0, "threshold": 5.0}),
        np.concatenate([WIDE, [2.5, np.nextafter(2.5, 3), np.nextafter(2.5, 2)]]),  # beta x == threshold
    ),
    ("logsigmoid", Tensor.logsigmoid, "nn.functional.logsigmoid", WIDE),
    ("hardtanh", Tensor.hardtanh, "nn.functional.hardtanh", WIDE),
    (
        "hardtanh_-2_0.5",
        lambda t: t.hardtanh(-2.0, 0.5),
        ("nn.functional.hardtanh", {"min_val": -2.0, "max_val": 0.5}),
        np.concatenate([WIDE, [0.5, -2.0]]),
    ),
    ("hardsigmoid", Tensor.hardsigmoid, "nn.functional.hardsigmoid", WIDE),
    ("softsign", Tensor.softsign, "nn.functional.softsign", WIDE),
    ("mish", Tensor.mish, "nn.functional.mish", WIDE),
]


def _torch_fn(torch, spec):
    name, kwargs = (spec, {}) if isinstance(spec, str) else spec
    fn = operator.attrgetter(name)(torch)
    return lambda t: fn(t, **kwargs)


EPS = float(np.finfo(np.float64).eps)

# Where torch's float64 formula loses digits that ours keeps, the comparison allows torch's
# own rounding error, as a function of x (ours is checked against an exact reference there):
VALUE_SLACK = {
    # torch: 0.5 x (1 + tanh u) cancels for x << 0 (1 + tanh u is off by ~1 ulp of 1);
    # ours: x sigmoid(2u). Off by <= |x| eps.
    "gelu_tanh": lambda x: np.abs(x) * EPS,
}
GRAD_SLACK = {
    # torch: (e^x - 1) + 1, off by <= eps for x <= 0 (0 at x = -40); ours: e^x
    "expm1": lambda x: np.full_like(x, EPS),
    # torch differentiates x / (1 + |x|) as a composite, 1/(1+|x|) - |x|/(1+|x|)^2, which
    # cancels to ~ eps / (1 + |x|); ours: 1 / (1 + |x|)^2
    "softsign": lambda x: 4 * EPS / (1.0 + np.abs(x)),
    # the same cancellation in 1 + tanh u and 1 - tanh^2 u, times |x| and du/dx ~ 1 + 0.134 x^2
    "gelu_tanh": lambda x: 4 * EPS * (1.0 + np.abs(x) * (1.0 + 0.134 * np.minimum(x * x, 1e4))),
}
# torch.nn.functional.hardsigmoid's gradient is 1/6 rounded to float32 (0.16666667163...),
# 3e-8 relative from the exact 1/6 used here.
GRAD_RTOL = {"hardsigmoid": 1e-7}


def _no_slack(x):
    return np.zeros_like(x)


def _assert_close(actual, expected, rtol, slack, what):
    with np.errstate(invalid="ignore"):  # inf - inf: equal infinities are caught by ==
        bad = ~((actual == expected) | (np.abs(actual - expected) <= rtol * np.abs(expected) + slack))
    assert not bad.any(), f"{what}: {actual[bad]} (ours) != {expected[bad]} (torch)"


@pytest.mark.parametrize("name, ours, theirs, x", TORCH_OPS, ids=[spec[0] for spec in TORCH_OPS])
def test_values_and_gradients_match_torch(name, ours, theirs, x) -> None:
    """float64. Values and gradients agree to 1e-12 relative (different but equal formulas,
    a few ulps apart), or exactly for zeros, plus torch's own rounding error where its formula
    cancels (VALUE_SLACK, GRAD_SLACK); where torch's gradient is NaN (gelu's tanh form at
    |x| >= 1e154, from 0 * inf), ours is the formula's limit instead."""
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = _torch_fn(torch, theirs)(xt)
    yt.sum().backward()
    t = Tensor(x, requires_grad=True)
    with np.errstate(over="ignore"):  # x * x overflows to inf at 1e300 on the way (e^(-inf) = 0)
        y = ours(t)
        y.sum().backward()
    assert y.dtype == np.float64 and t.grad.dtype == np.float64
    _assert_close(y.data, yt.detach().numpy(), 1e-12, VALUE_SLACK.get(name, _no_slack)(x), f"{name} value")
    torch_grad = xt.grad.numpy()
    torch_nan = np.isnan(torch_grad)
    if name == "gelu_tanh":
        assert np.all(np.abs(x[torch_nan]) >= 1e154)
        np.testing.assert_array_equal(t.grad.data[torch_nan], (x[torch_nan] > 0).astype(float))
    else:
        assert not torch_nan.any()
    keep = ~torch_nan
    slack = GRAD_SLACK.get(name, _no_slack)(x[keep])
    _assert_close(t.grad.data[keep], torch_grad[keep], GRAD_RTOL.get(name, 1e-12), slack, f"{name} grad")


def test_where_torch_loses_digits_ours_are_exact() -> None:
    """The cases of VALUE_SLACK / GRAD_SLACK, against exact references."""
    x = Tensor([-40.0, -5.0], requires_grad=True)
    x.expm1().sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([-40.0, -5.0]), rtol=2 * EPS)
    x = Tensor([1e10, -3e5], requires_grad=True)
    x.softsign().sum().backward()
    np.testing.assert_allclose(x.grad.data, 1.0 / (1.0 + np.abs(x.data)) ** 2, rtol=4 * EPS)
    a = np.array([-5.5, -4.0])
    u = math.sqrt(2.0 / math.pi) * (a + 0.044715 * a**3)
    exact = a / (1.0 + np.exp(-2.0 * u))  # x (1 + tanh u) / 2 without the cancellation
    np.testing.assert_allclose(Tensor(a).gelu("tanh").data, exact, rtol=8 * EPS)


KINKS = [
    # PyTorch's conventions at the kinks (values and gradients read from torch 2.x)
    ("leaky_relu", lambda t: t.leaky_relu(0.1), [0.0, -0.0], [0.0, -0.0], [0.1, 0.1]),
    ("elu", lambda t: t.elu(2.0), [0.0, -0.0], [0.0, -0.0], [2.0, 2.0]),
    ("hardtanh", Tensor.hardtanh, [-1.0, 1.0], [-1.0, 1.0], [0.0, 0.0]),
    ("hardtanh(-2, 0.5)", lambda t: t.hardtanh(-2.0, 0.5), [-2.0, 0.5], [-2.0, 0.5], [0.0, 0.0]),
    ("hardsigmoid", Tensor.hardsigmoid, [-3.0, 3.0], [0.0, 1.0], [0.0, 0.0]),
    ("softsign", Tensor.softsign, [0.0], [0.0], [1.0]),
    (
        "softplus at beta x == threshold",
        lambda t: t.softplus(2.0, 5.0),
        [2.5],
        [math.log1p(math.exp(5.0)) / 2.0],
        [1.0 / (1.0 + math.exp(-5.0))],
    ),
    (
        "softplus above the threshold",
        lambda t: t.softplus(2.0, 5.0),
        [np.nextafter(2.5, 3.0)],
        [np.nextafter(2.5, 3.0)],
        [1.0],
    ),
]


@pytest.mark.parametrize("name, ours, x, value, slope", KINKS, ids=[k[0] for k in KINKS])
def test_kink_points_follow_pytorch(name, ours, x, value, slope) -> None:
    t = Tensor(x, requires_grad=True)
    y = ours(t)
    y.sum().backward()
    np.testing.assert_allclose(y.data, value, rtol=1e-15, atol=0, err_msg=name)
    assert list(np.signbit(y.data)) == list(np.signbit(value)), f"{name}: the sign of zero"
    np.testing.assert_allclose(t.grad.data, slope, rtol=1e-15, atol=0, err_msg=name)


HUGE = [1e300, -1e300, 1e154, -1e154, 800.0, -800.0, 40.0, -40.0]
STABLE = ["gelu", "silu", "softplus", "logsigmoid", "mish", "elu", "softsign", "gelu_tanh"]


@pytest.mark.parametrize("name", STABLE)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_stay_finite_at_huge_inputs_through_second_derivatives(name, dtype) -> None:
    """The stable formulas: no inf or NaN in value, gradient or second derivative (float32 up
    to its largest value), and the limits where they are exact: f(x) = x (x >> 0) for gelu,
    silu, softplus, mish; logsigmoid(x) = x for x << 0, 0 for x >> 0."""
    fn = (lambda t: t.gelu("tanh")) if name == "gelu_tanh" else getattr(Tensor, name)
    big = 3e38 if dtype == np.float32 else 1e300
    values = np.array(HUGE + [big, -big], dtype=np.float64).clip(-big, big).astype(dtype)
    t = Tensor(values, requires_grad=True)
    with np.errstate(over="ignore"):  # x * x overflows to inf on the way (e^(-inf) = 0): no NaN comes of it
        y = fn(t)
        (g,) = grad(y.sum(), [t], create_graph=True)
        (h,) = grad(g.sum(), [t])
    for what, v in (("value", y), ("gradient", g), ("second derivative", h)):
        assert v.dtype == dtype
        assert np.all(np.isfinite(v.data)), f"{name} {what} at {values}: {v.data}"
    positive = values > 100
    if name in ("gelu", "silu", "softplus", "mish", "gelu_tanh"):
        np.testing.assert_array_equal(y.data[positive], values[positive])
        np.testing.assert_array_equal(g.data[positive], 1.0)
    if name == "logsigmoid":
        np.testing.assert_array_equal(y.data[values < -100], values[values < -100])
        np.testing.assert_array_equal(y.data[positive], 0.0)


def test_logsigmoid_keeps_full_precision_in_both_tails() -> None:
    """ln sigmoid(40) = -ln(1 + e^-40) = -4.248e-18 (not 0), ln sigmoid(-40) = -40 - 4.2e-18."""
    t = Tensor([40.0, -40.0, -800.0], requires_grad=True)
    y = t.logsigmoid()
    np.testing.assert_allclose(y.data, [-math.exp(-40.0), -40.0, -800.0], rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(t.grad.data, [math.exp(-40.0), 1.0, 1.0], rtol=1e-15)


# ----------------------------------------------------------------------------- numpy's spelling, compile


@pytest.mark.parametrize(
    "ufunc, op", [(np.sin, "Sin"), (np.cos, "Cos"), (np.tan, "Tan"), (np.log1p, "Log1p"), (np.expm1, "Expm1"),
                  (np.log2, "Log2"), (np.log10, "Log10"), (np.exp2, "Exp2"), (np.square, "PowScalar")],
)  # fmt: skip
def test_numpy_ufuncs_on_tensors_run_the_ops(ufunc, op) -> None:
    t = Tensor([0.5, 1.25], requires_grad=True)
    y = ufunc(t)
    assert isinstance(y, Tensor) and y.grad_fn.fn.__name__ == op
    np.testing.assert_array_equal(y.data, ufunc(np.array([0.5, 1.25])))


@pytest.mark.parametrize(
    "name", ["erf", "gelu", "gelu_tanh", "mish", "softplus", "elu", "logsigmoid", "hardtanh", "leaky_relu"]
)
def test_compiled_equals_eager(name) -> None:
    fn = (lambda t: t.gelu("tanh")) if name == "gelu_tanh" else getattr(Tensor, name)
    w = np.array([1.0, -2.0, 0.5, 3.0, -1.0, 0.25])
    x_values = np.array([-4.0, -1.0, -0.3, 0.2, 1.5, 3.5])

    def loss(x):
        return (fn(x) * w).sum()

    compiled = autograd.compile(loss)
    results = []
    for f in (loss, compiled):
        x = Tensor(x_values, requires_grad=True)
        value = f(x)
        value.backward()
        results.append((value.data, x.grad.data))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


# ----------------------------------------------------------------------------- zero-gradient ops

VALUES = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.4, 0.5, 1.5, 2.5, 2.675, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize(
    "method, reference",
    [
        ("sign", np.sign),
        ("floor", np.floor),
        ("ceil", np.ceil),
        ("round", np.round),
        ("isnan", np.isnan),
        ("isinf", np.isinf),
        ("isfinite", np.isfinite),
    ],
)
def test_zero_gradient_ops_give_numpys_values_and_no_graph(method, reference) -> None:
    t = Tensor(VALUES, requires_grad=True)
    y = getattr(t, method)()
    expected = reference(VALUES)
    assert y.dtype == expected.dtype
    np.testing.assert_array_equal(y.data, expected)
    assert not y.requires_grad and y.grad_fn is None
    assert getattr(ops, method)(VALUES).dtype == expected.dtype  # the functional form takes arrays too


@pytest.mark.parametrize("method", ["sign", "floor", "ceil", "round"])
def test_zero_gradient_ops_are_constants_in_a_graph(method) -> None:
    """d/dx sum(x * f(x)) = f(x): f contributes no gradient of its own (as PyTorch's zero)."""
    x = Tensor([-1.7, -0.2, 0.3, 2.6], requires_grad=True)
    (x * getattr(x, method)()).sum().backward()
    np.testing.assert_array_equal(x.grad.data, getattr(np, method)(x.data))


def test_round_with_decimals_halves_to_even_as_numpy_and_torch() -> None:
    x = Tensor([0.5, 1.5, 2.5, -0.5, 1.2345, 0.125, 2.675])
    np.testing.assert_array_equal(x.round().data, [0.0, 2.0, 2.0, -0.0, 1.0, 0.0, 3.0])
    np.testing.assert_array_equal(x.round(2).data, np.round(x.data, 2))
    np.testing.assert_array_equal(np.round(x, 2).data, np.round(x.data, 2))  # numpy's spelling
    np.testing.assert_array_equal(x.round(-1).data, np.round(x.data, -1))
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x.data)
    np.testing.assert_array_equal(x.round().data, torch.round(xt).numpy())
    np.testing.assert_array_equal(x.round(2).data, torch.round(xt, decimals=2).numpy())


@pytest.mark.parametrize("method", ["sign", "floor", "ceil", "round", "isnan", "isinf", "isfinite"])
def test_zero_gradient_ops_match_torch(method) -> None:
    torch = pytest.importorskip("torch")
    ours = getattr(Tensor(VALUES), method)().data
    theirs = getattr(torch, method)(torch.tensor(VALUES)).numpy()
    if method == "sign":  # numpy's sign(nan) is nan (kept here), torch's is 0
        assert np.isnan(ours[-1]) and theirs[-1] == 0.0
        ours, theirs = ours[:-1], theirs[:-1]
    np.testing.assert_array_equal(ours, theirs)


# ----------------------------------------------------------------------------- nn.functional


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("gelu", {"approximate": "tanh"}),
        ("gelu", {}),
        ("silu", {}),
        ("leaky_relu", {"negative_slope": 0.3}),
        ("elu", {"alpha": 0.7}),
        ("softplus", {"beta": 2.0, "threshold": 3.0}),
        ("logsigmoid", {}),
        ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
        ("hardsigmoid", {}),
        ("softsign", {}),
        ("mish", {}),
    ],
)
def test_nn_functional_forms_take_pytorchs_argument_names(name, kwargs) -> None:
    x_values = np.linspace(-4.0, 4.0, 9)
    x = Tensor(x_values, requires_grad=True)
    y = getattr(F, name)(x, **kwargs)
    np.testing.assert_array_equal(y.data, getattr(Tensor(x_values), name)(**kwargs).data)
    assert y.requires_grad
    torch = pytest.importorskip("torch")
    expected = getattr(torch.nn.functional, name)(torch.tensor(x_values), **kwargs).numpy()
    # (atol: torch's tanh-gelu cancels at x = -4, see VALUE_SLACK)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=4 * 4.0 * EPS)


# ----------------------------------------------------------------------------- errors


def test_gelu_refuses_an_unknown_approximation_naming_the_choices() -> None:
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh'.*'bad'"):
        x.gelu("bad")
    with pytest.raises(ValueError, match="gelu"):
        F.gelu(x, approximate="Tanh")


def test_hardtanh_refuses_min_above_max() -> None:
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"):
        Tensor([0.0]).hardtanh(2.0, 1.0)


def test_softplus_refuses_beta_zero() -> None:
    with pytest.raises(ValueError, match="softplus: beta must be non-zero"):
        F.softplus(Tensor([0.0]), beta=0)


@pytest.mark.parametrize(
    "call, op",
    [
        (lambda x: x.leaky_relu("0.1"), "leaky_relu: negative_slope"),
        (lambda x: x.elu(Tensor(1.0)), "elu: alpha"),
        (lambda x: x.softplus(threshold=None), "softplus: threshold"),
        (lambda x: x.hardtanh(min_val=[0.0]), "hardtanh: min_val"),
        (lambda x: x.round(0.5), "round: decimals"),
        (lambda x: x.round(True), "round: decimals"),
    ],
)
def test_parameters_must_be_numbers(call, op) -> None:
    with pytest.raises(TypeError, match=op):
        call(Tensor([0.5], requires_grad=True))
