"""nn.init: each initialiser's distribution (mean, variance, bounds), the fans of this
library's layouts, calculate_gain against PyTorch's, in-place filling and the refusals.

Statistical tolerances. For n independent draws the sample mean has standard error
sqrt(var / n) and the sample variance sqrt((m4 - var**2) / n) (m4 the fourth central moment),
both estimated from the sample itself. Each check allows 5 standard errors: a correct
initialiser fails one with probability < 6e-7 (and the seeds are fixed, so a run is
repeatable), while a wrong formula (a fan_in for a fan_out, sqrt(3) left out, the wrong gain)
moves the variance by a factor >= 1.3, i.e. hundreds of standard errors at n = 1.2e5.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st
from op_checks import Case, check_first, check_second

import nn
import nn.functional as F
from autograd import Tensor
from nn import init


def _initialised_linear(data):
    """Initialisers are not differentiated; what follows them is: a weight filled in place by
    kaiming_uniform_ (under no_grad) is a plain constant of the ops that use it."""
    n_in, n_out = data.draw(st.integers(1, 3), label="in"), data.draw(st.integers(1, 3), label="out")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    weight = init.kaiming_uniform_(nn.Parameter(np.zeros((n_in, n_out))), rng=np.random.default_rng(seed))
    x = data.draw(S.arrays((2, n_in)), label="x")
    b = data.draw(S.arrays((n_out,)), label="bias")
    constant = weight.data.copy()
    return [x, b], (lambda t, tb: F.linear(t, weight.detach(), tb)), (lambda a, ab: a @ constant + ab)


CASES: list[Case] = [Case("kaiming_initialised_linear", _initialised_linear)]


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=10)
@given(data=st.data())
def test_initialised_layer_derivatives(case: Case, data: st.DataObject) -> None:
    check_first(case, data)
    check_second(case, data)


N_OUT, N_IN = 300, 400  # Linear(400, 300).weight here has shape (in, out) = (400, 300): 1.2e5 draws


def assert_moments(values: np.ndarray, mean: float, var: float) -> None:
    x = np.asarray(values, dtype=np.float64).ravel()
    n = x.size
    sample_var = x.var()
    m4 = np.mean((x - x.mean()) ** 4)
    assert abs(x.mean() - mean) <= 5 * math.sqrt(sample_var / n), (x.mean(), mean)
    assert abs(sample_var - var) <= 5 * math.sqrt((m4 - sample_var**2) / n), (sample_var, var)


def weight(shape=(N_IN, N_OUT), dtype=np.float64) -> nn.Parameter:
    return nn.Parameter(np.zeros(shape), dtype=dtype)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_fans_follow_this_librarys_layouts():
    assert init.calculate_fan_in_and_fan_out(weight((5, 7))) == (5, 7)  # Linear weight (in, out)
    assert init.calculate_fan_in_and_fan_out(nn.Linear(5, 7).weight) == (5, 7)
    assert init.calculate_fan_in_and_fan_out(np.zeros((8, 3, 2, 4))) == (3 * 8, 8 * 8)  # conv (out, in, kH, kW)
    assert init.calculate_fan_in_and_fan_out(np.zeros((8, 3, 5))) == (15, 40)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.calculate_fan_in_and_fan_out(np.zeros(3))


def test_fans_agree_with_torch_on_the_transposed_linear_weight_and_on_conv_weights():
    torch = pytest.importorskip("torch")
    fans = torch.nn.init._calculate_fan_in_and_fan_out
    assert init.calculate_fan_in_and_fan_out(np.zeros((5, 7))) == fans(torch.empty(7, 5))
    assert init.calculate_fan_in_and_fan_out(np.zeros((8, 3, 2, 4))) == fans(torch.empty(8, 3, 2, 4))


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", 0),
        ("selu", None),
        ("conv_transpose3d", None),
    ],  # fmt: skip
)
def test_calculate_gain_matches_torch(nonlinearity, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_values_and_refusals():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 0.5) == math.sqrt(2 / 1.25)
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="calculate_gain: negative_slope"):
        init.calculate_gain("leaky_relu", "0.1")


def test_uniform_and_normal():
    w = init.uniform_(weight(), -2.0, 3.0, rng=rng())
    assert w.data.min() >= -2.0 and w.data.max() <= 3.0
    assert_moments(w.data, 0.5, 25 / 12)
    assert_moments(init.uniform_(weight(), rng=rng(1)).data, 0.5, 1 / 12)  # default U(0, 1)
    assert_moments(init.normal_(weight(), 1.5, 0.5, rng=rng(2)).data, 1.5, 0.25)
    assert_moments(init.normal_(weight(), rng=rng(3)).data, 0.0, 1.0)


def test_constants():
    w = weight((3, 4))
    assert init.constant_(w, 0.25) is w
    np.testing.assert_array_equal(w.data, 0.25)
    np.testing.assert_array_equal(init.ones_(w).data, 1.0)
    np.testing.assert_array_equal(init.zeros_(w).data, 0.0)
    b = nn.Parameter(np.ones(5))
    np.testing.assert_array_equal(init.zeros_(b).data, 0.0)  # any shape, 1-D too


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    fan_in, fan_out = N_IN, N_OUT
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    w = init.xavier_uniform_(weight(), gain=gain, rng=rng())
    assert np.abs(w.data).max() <= bound
    assert_moments(w.data, 0.0, bound**2 / 3)
    w = init.xavier_normal_(weight(), gain=gain, rng=rng(1))
    assert_moments(w.data, 0.0, (gain * math.sqrt(2 / (fan_in + fan_out))) ** 2)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(("nonlinearity", "a"), [("leaky_relu", 0.0), ("leaky_relu", 0.3), ("relu", 0.0), ("tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    fan = N_IN if mode == "fan_in" else N_OUT  # (in, out) layout: fan_in is shape[0]
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    w = init.kaiming_uniform_(weight(), a=a, mode=mode, nonlinearity=nonlinearity, rng=rng())
    assert np.abs(w.data).max() <= math.sqrt(3) * std
    assert_moments(w.data, 0.0, std**2)
    w = init.kaiming_normal_(weight(), a=a, mode=mode, nonlinearity=nonlinearity, rng=rng(1))
    assert_moments(w.data, 0.0, std**2)


def test_kaiming_defaults_give_linear_the_distribution_pytorch_gives_its_linear():
    # PyTorch's Linear init is kaiming_uniform_(a=sqrt(5)) on (out, in): bound 1/sqrt(in)
    w = init.kaiming_uniform_(weight((N_IN, N_OUT)), a=math.sqrt(5), rng=rng())
    bound = 1 / math.sqrt(N_IN)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert_moments(w.data, 0.0, bound**2 / 3)


def test_kaiming_on_conv_weights_uses_in_channels_times_kernel():
    w = init.kaiming_normal_(weight((64, 16, 5, 5)), nonlinearity="relu", rng=rng())
    assert_moments(w.data, 0.0, 2 / (16 * 25))
    w = init.kaiming_normal_(weight((64, 16, 5, 5)), mode="fan_out", nonlinearity="relu", rng=rng(1))
    assert_moments(w.data, 0.0, 2 / (64 * 25))


def _truncated_moments(mean, std, a, b):
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = cdf(beta) - cdf(alpha)
    shift = (phi(alpha) - phi(beta)) / z
    var = std**2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z - shift**2)
    return mean + std * shift, var


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"), [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 0.0, 5.0)]
)
def test_trunc_normal(mean, std, a, b):
    w = init.trunc_normal_(weight(), mean, std, a, b, rng=rng())
    assert w.data.min() >= a and w.data.max() <= b
    assert_moments(w.data, *_truncated_moments(mean, std, a, b))


def test_trunc_normal_refuses_bounds_without_mass():
    with pytest.raises(ValueError, match="trunc_normal_.*mass"):
        init.trunc_normal_(weight((3, 3)), 0.0, 1.0, 8.0, 9.0)
    with pytest.raises(ValueError, match="trunc_normal_.*a < b"):
        init.trunc_normal_(weight((3, 3)), a=1.0, b=-1.0)
    with pytest.raises(ValueError, match="trunc_normal_.*std"):
        init.trunc_normal_(weight((3, 3)), std=0.0)


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (8, 2, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal(shape, gain):
    w = init.orthogonal_(weight(shape), gain=gain, rng=rng())
    assert w.shape == shape
    flat = w.data.reshape(shape[0], -1)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat  # orthonormal rows, or columns
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_is_haar_distributed():
    # entries of a uniformly random orthogonal n x n matrix have mean 0 and variance 1/n; without
    # the sign fix of QR's R diagonal the diagonal's mean would be far from 0
    draws = np.stack([init.orthogonal_(weight((4, 4)), rng=rng(s)).data for s in range(3000)])
    diag = draws[:, np.arange(4), np.arange(4)]
    assert_moments(diag, 0.0, 1 / 4)


def test_fills_in_place_unrecorded_keeping_dtype_and_identity():
    w = weight((20, 30), dtype=np.float32)
    data = w.data
    version = w._version
    out = init.kaiming_uniform_(w, rng=rng())
    assert out is w and w.data is data and w.dtype == np.float32
    assert w._version > version and w.grad_fn is None and w.requires_grad
    arr = np.zeros((3, 4))
    assert init.normal_(arr, rng=rng()) is arr and arr.std() > 0  # ndarrays are filled too


def test_reproducible_from_the_seed_and_default_generator():
    a = init.xavier_normal_(weight((5, 5)), rng=rng(42)).data.copy()
    b = init.xavier_normal_(weight((5, 5)), rng=rng(42)).data
    np.testing.assert_array_equal(a, b)
    c = init.xavier_normal_(weight((5, 5))).data  # no rng: the library's default generator
    assert np.all(np.isfinite(c)) and not np.array_equal(a, c)


def test_zero_element_tensors_are_left_alone():
    w = weight((0, 4))
    fills = (init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_)
    for fn in fills:
        assert fn(w) is w


def test_refusals():
    with pytest.raises(ValueError, match="xavier_uniform_.*at least 2 dimensions"):
        init.xavier_uniform_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="kaiming_normal_.*at least 2 dimensions"):
        init.kaiming_normal_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="orthogonal_.*at least 2 dimensions"):
        init.orthogonal_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="kaiming_uniform_: mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(weight((3, 3)), mode="fan_avg")
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.kaiming_uniform_(weight((3, 3)), nonlinearity="swish")
    with pytest.raises(ValueError, match="uniform_: the bounds"):
        init.uniform_(weight((3, 3)), 1.0, 0.0)
    with pytest.raises(ValueError, match="normal_: std"):
        init.normal_(weight((3, 3)), std=-1.0)
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(Tensor(np.zeros(3, dtype=np.int64)))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.normal_([0.0, 1.0])
    with pytest.raises(TypeError, match="default_rng\\(0\\)"):
        init.normal_(weight((3, 3)), rng=0)
