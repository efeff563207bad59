"""var, std, prod, logsumexp, cumsum, cumprod and norm: values, first and second derivatives,
float32; then zeros (prod, cumprod), huge values (logsumexp), ddof, subgradients at kinks and
PyTorch's answers; argmax, argmin, any, all and norm(ord=0), which record nothing; numpy's
functions on Tensors; and the errors.

Every differentiable reduction is a ``Case`` in ``CASES``, run through tests/op_checks.py
(values against numpy, gradients against central differences of the numpy reference, second
derivatives, float32). Inputs stay away from kinks as tests/test_ops_gradients.py's do: std and
norms away from 0 (their derivatives grow like 1/y), |x| away from 0 where |x| appears, and no
ties for the inf-norms and the max/min of matrix norms.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import strategies as S
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import FORWARD_TOL, Case, check_first, check_float32, check_second

import autograd
from autograd import Tensor, grad, ops

INF = math.inf


def _count(shape: tuple[int, ...], axis) -> int:
    """Elements per result of a reduction of ``shape`` over ``axis``."""
    if axis is None:
        return math.prod(shape)
    axes = (axis,) if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in axes)


def _axis_and_keepdims(data, ndim: int):
    """axis None | int | tuple (sometimes given as a list), keepdims or not."""
    axis = data.draw(S.axes(ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    as_list = isinstance(axis, tuple) and data.draw(st.booleans(), label="axis as list")
    return axis, (list(axis) if as_list else axis), keepdims


def _spread_case(name: str) -> Case:
    """var/std over any axes with ddof in {0, 1, 2, 0.5, -1} (below n: n - ddof > 0). Values
    are pairwise >= 2 KINK_GAP apart, so std >= ~0.01 wherever n >= 2 (std's derivatives grow
    like 1/std); slices of one element have std == 0 for every x: gradient 0, as we give."""

    def draw(data):
        shape = data.draw(S.shapes(), label="shape")
        x = data.draw(S.distinct_arrays(shape), label="x")
        axis, axis_arg, keepdims = _axis_and_keepdims(data, x.ndim)
        n = _count(shape, axis)
        ddof = data.draw(st.sampled_from([d for d in (0, 1, 2, 0.5, -1) if d < n]), label="ddof")
        return (
            [x],
            lambda t: getattr(t, name)(axis=axis_arg, ddof=ddof, keepdims=keepdims),
            lambda a: getattr(np, name)(a, axis=axis, ddof=ddof, keepdims=keepdims),
        )

    return Case(name, draw)


# prod and cumprod are polynomials: central differences are exact up to rounding at any x,
# zeros included (which hypothesis draws often). |x| <= 1.5 keeps products of up to 27
# factors <= 6e4, so that rounding stays far below the tolerances.
WITH_ZEROS = st.one_of(S.floats(-1.5, 1.5), st.just(0.0))


def _prod(data):
    shape = data.draw(S.shapes(), label="shape")
    x = data.draw(S.arrays(shape, WITH_ZEROS), label="x")
    axis, axis_arg, keepdims = _axis_and_keepdims(data, x.ndim)
    return (
        [x],
        (lambda t: t.prod(axis=axis_arg, keepdims=keepdims)),
        (lambda a: np.prod(a, axis=axis, keepdims=keepdims)),
    )


def _naive_logsumexp(a: np.ndarray, axis, keepdims: bool) -> np.ndarray:  # fine for |x| <= 3
    return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


def _logsumexp(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    axis, axis_arg, keepdims = _axis_and_keepdims(data, x.ndim)
    return (
        [x],
        (lambda t: t.logsumexp(axis=axis_arg, keepdims=keepdims)),
        (lambda a: _naive_logsumexp(a, axis, keepdims)),
    )


def _running_case(name: str, elements) -> Case:
    """cumsum/cumprod along one axis, or over x flattened (axis=None, numpy's default)."""

    def draw(data):
        x = data.draw(S.arrays(S.shapes(), elements), label="x")
        axis = data.draw(st.none() if x.ndim == 0 else st.one_of(st.none(), S.single_axis(x.ndim)), label="axis")
        if axis is None and data.draw(st.booleans(), label="no argument"):
            return [x], (lambda t: getattr(t, name)()), (lambda a: getattr(np, name)(a))
        return [x], (lambda t: getattr(t, name)(axis=axis)), (lambda a: getattr(np, name)(a, axis=axis))

    return Case(name, draw)


def _vector_norm(data):
    """ord None/2, 1, 3, 1.5, 0.5 over all of x (ord None, any shape), one axis, or axis=None on
    a 1-D x. |x| >= KINK_GAP: the 1-norm has a kink at 0, and the p-norms' derivatives grow like
    1/y; for p = 0.5 |x|**(p - 1) grows at 0 too, so there |x| >= 0.1."""
    ord = data.draw(st.sampled_from([None, 2, 1, 3, 1.5, 0.5]), label="ord")
    x = data.draw(S.arrays(S.shapes(), S.away_from_zero(0.1 if ord == 0.5 else S.KINK_GAP, 3.0)), label="x")
    choices = [st.none()] if ord is None or x.ndim == 1 else []
    if x.ndim:
        choices += [S.single_axis(x.ndim), S.single_axis(x.ndim).map(lambda a: (a,))]
    if not choices:
        x = x.reshape(-1)
        choices = [st.none()]
    axis = data.draw(st.one_of(*choices), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    return (
        [x],
        (lambda t: t.norm(ord, axis=axis, keepdims=keepdims)),
        (lambda a: np.linalg.norm(a, ord, axis, keepdims)),
    )


def _signed_distinct(data, shape, lo: float = 0.05):
    """Values whose |x| are pairwise >= 2 KINK_GAP apart and >= lo, of either sign."""
    size = data.draw(S.distinct_arrays(shape, lo=lo, hi=3.0), label="|x|")
    signs = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])), label="signs")
    return size * signs


def _inf_norm(data):
    """ord inf / -inf: the largest / smallest |x|, with no ties (|x| distinct)."""
    ord = data.draw(st.sampled_from([INF, -INF]), label="ord")
    shape = data.draw(S.shapes(min_dims=1), label="shape")
    x = _signed_distinct(data, shape)
    axis = data.draw(st.one_of(S.single_axis(x.ndim), st.none() if x.ndim == 1 else st.nothing()), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    return (
        [x],
        (lambda t: t.norm(ord, axis=axis, keepdims=keepdims)),
        (lambda a: np.linalg.norm(a, ord, axis, keepdims)),
    )


def _matrix_axes(data, ndim: int):
    rows = data.draw(S.single_axis(ndim), label="row axis")
    cols = data.draw(S.single_axis(ndim).filter(lambda c: c % ndim != rows % ndim), label="column axis")
    return rows, cols


def _frobenius(data):
    x = data.draw(S.arrays(S.shapes(min_dims=2), S.away_from_zero(S.KINK_GAP, 3.0)), label="x")
    ord = data.draw(st.sampled_from([None, "fro"]), label="ord")
    axis = None if x.ndim == 2 and data.draw(st.booleans(), label="axis=None") else _matrix_axes(data, x.ndim)
    keepdims = data.draw(st.booleans(), label="keepdims")
    return (
        [x],
        (lambda t: t.norm(ord, axis=axis, keepdims=keepdims)),
        (lambda a: np.linalg.norm(a, ord, axis, keepdims)),
    )


def _matrix_1_inf(data):
    """ord 1 / -1 (max / min column sum of |x|) and inf / -inf (rows). The values are on a grid
    of step 2 KINK_GAP (plus one shared shift), so two sums differ by 0 or >= 2 KINK_GAP:
    draws where the winning sum ties are rejected (the max has no derivative there)."""
    ord = data.draw(st.sampled_from([1, -1, INF, -INF]), label="ord")
    shape = data.draw(S.shapes(min_dims=2), label="shape")
    x = _signed_distinct(data, shape)
    axis = None if x.ndim == 2 and data.draw(st.booleans(), label="axis=None") else _matrix_axes(data, x.ndim)
    rows, cols = (0, 1) if axis is None else axis
    inner, outer = (rows, cols) if abs(ord) == 1 else (cols, rows)
    sums = np.sort(np.abs(x).sum(axis=inner, keepdims=True), axis=outer)
    if sums.shape[outer] > 1:
        pick = [-1, -2] if ord > 0 else [0, 1]
        gap = np.abs(np.take(sums, pick[0], axis=outer) - np.take(sums, pick[1], axis=outer))
        assume(np.all(gap >= 2 * S.KINK_GAP - 1e-9))
    keepdims = data.draw(st.booleans(), label="keepdims")
    return (
        [x],
        (lambda t: t.norm(ord, axis=axis, keepdims=keepdims)),
        (lambda a: np.linalg.norm(a, ord, axis, keepdims)),
    )


CASES: list[Case] = [
    _spread_case("var"),
    _spread_case("std"),
    Case("prod", _prod),
    Case("logsumexp", _logsumexp),
    _running_case("cumsum", None),
    _running_case("cumprod", WITH_ZEROS),
    Case("norm_vector", _vector_norm),
    Case("norm_inf", _inf_norm),
    Case("norm_fro", _frobenius),
    Case("norm_matrix_1_inf", _matrix_1_inf),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
@given(data=st.data())
def test_forward_and_first_derivative(case: Case, data: st.DataObject) -> None:
    check_first(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@given(data=st.data())
def test_second_derivative(case: Case, data: st.DataObject) -> None:
    check_second(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=10)
@given(data=st.data())
def test_float32_in_float32_out_and_float32_grads(case: Case, data: st.DataObject) -> None:
    check_float32(case, data)


# ----------------------------------------------------------------------------- exact answers at zeros


def test_prod_gradient_with_one_zero_and_with_several() -> None:
    """One zero: it gets the product of the others, the rest 0. Two or more: all 0."""
    x = Tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]], requires_grad=True)
    y = x.prod(axis=1)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 8.0])
    (y * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [24.0, 12.0, 6.0]])
    # and its second derivative: d/dx_i (prod_{k != j} x_k) = prod_{k != i, j} x_k
    x = Tensor([0.0, 2.0, 3.0], requires_grad=True)
    (g,) = grad(x.prod(), [x], create_graph=True)
    np.testing.assert_array_equal(g.data, [6.0, 0.0, 0.0])
    rows = [grad(g[j], [x], retain_graph=True)[0].data for j in range(3)]
    np.testing.assert_array_equal(rows, [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]])


def test_cumprod_gradient_and_second_derivative_at_zeros() -> None:
    """y = cumprod([0, b]) = [0, 0 * b]; L = g0 y0 + g1 y1 = g0 x0 + g1 x0 x1:
    dL/dx = [g0 + g1 x1, g1 x0] and d(dL/dx1)/dx0 = g1 (the O(n^2) path under create_graph)."""
    x = Tensor([0.0, 2.0], requires_grad=True)
    g = np.array([1.0, 5.0])
    (first,) = grad((x.cumprod() * g).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(first.data, [11.0, 0.0])
    (second,) = grad(first[1], [x])
    np.testing.assert_array_equal(second.data, [5.0, 0.0])
    # the plain backward (the O(n) formula) gives the same first derivative
    x = Tensor([[0.0, 2.0, 0.0, 4.0], [2.0, 0.0, 3.0, 1.0]], requires_grad=True)
    w = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    (plain,) = grad((x.cumprod(axis=1) * w).sum(), [x])
    (recorded,) = grad((x.cumprod(axis=1) * w).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(
        plain.data, [[1.0 + 2.0 * 2.0, 0.0, 0.0, 0.0], [1.0, 2 * 2 + 3 * 6 + 4 * 6, 0.0, 0.0]]
    )
    np.testing.assert_array_equal(recorded.data, plain.data)


def test_std_gradient_at_zero_variance_is_zero_as_torch() -> None:
    x = Tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]], requires_grad=True)
    y = x.std(axis=1)
    (y * np.array([1.0, 1.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad.data[1], np.array([-1.0, 0.0, 1.0]) / 3 / np.sqrt(2 / 3), rtol=1e-15)


@pytest.mark.parametrize("ord", [None, 1, 3, 0.5, INF, -INF])
def test_vector_norm_gradient_at_zero_is_zero(ord) -> None:
    """A subgradient (0), as PyTorch gives, at the zero vector and at zero elements."""
    x = Tensor(np.zeros(3), requires_grad=True)
    x.norm(ord).backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(3))
    x = Tensor([0.0, 2.0], requires_grad=True)
    x.norm(ord).backward()
    assert x.grad.data[0] == 0.0 and np.all(np.isfinite(x.grad.data))
    # and the second derivative there is finite too
    x = Tensor(np.zeros(3), requires_grad=True)
    (g,) = grad(x.norm(ord), [x], create_graph=True)
    if g.requires_grad:  # (the 1- and inf-norms' gradients are constants)
        (h,) = grad((g * np.array([1.0, 2.0, 3.0])).sum(), [x], allow_unused=True)
        assert h is None or np.all(np.isfinite(h.data))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shift", [1e3, -1e3, 1e300])
def test_logsumexp_at_huge_values(dtype, shift: float) -> None:
    """log(sum(e^x)) = c + log(sum(e^(x - c))): no overflow; its gradient is the softmax."""
    if dtype == np.float32 and abs(shift) > 1e38:
        pytest.skip("not a float32")
    base = np.array([[0.0, 1.0, 2.0], [-1.0, 0.5, 3.0]])
    x = Tensor(base + shift, requires_grad=True, dtype=dtype)
    y = x.logsumexp(axis=1)
    assert y.dtype == dtype
    expected = _naive_logsumexp(base, 1, False) + shift
    np.testing.assert_allclose(y.data, expected, rtol=1e-6 if dtype == np.float32 else 1e-15)
    y.sum().backward()
    soft = np.exp(base - _naive_logsumexp(base, 1, True))
    if abs(shift) < 1e10:  # (at 1e300, x - y loses every digit of base)
        np.testing.assert_allclose(x.grad.data, soft, rtol=1e-3 if dtype == np.float32 else 1e-12, atol=1e-6)
    assert np.all(np.isfinite(x.grad.data))


def test_logsumexp_of_nothing_and_of_minus_infinity_is_minus_infinity() -> None:
    assert Tensor(np.zeros((2, 0))).logsumexp(axis=1).data.tolist() == [-INF, -INF]
    assert Tensor([-INF, -INF]).logsumexp().item() == -INF
    assert Tensor([-INF, 0.0]).logsumexp().item() == 0.0
    assert Tensor([INF, 0.0]).logsumexp().item() == INF


def test_cumsum_and_cumprod_flatten_for_axis_none_as_numpy() -> None:
    a = np.arange(1.0, 7.0).reshape(2, 3)
    for name in ("cumsum", "cumprod"):
        out = getattr(Tensor(a), name)()
        assert out.shape == (6,)
        np.testing.assert_array_equal(out.data, getattr(np, name)(a))
        np.testing.assert_array_equal(getattr(Tensor(2.0), name)().data, [2.0])  # 0-d: shape (1,)
        np.testing.assert_array_equal(
            getattr(Tensor(2.0), name)(axis=0).data, getattr(np, name)(np.float64(2.0), axis=0)
        )
    x = Tensor(a, requires_grad=True)
    (x.cumsum() * np.arange(6.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.cumsum(np.arange(6.0)[::-1])[::-1].reshape(2, 3))


# ----------------------------------------------------------------------------- ddof


def test_var_and_std_default_to_numpy_ddof_0() -> None:
    a = np.array([[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]])
    np.testing.assert_allclose(Tensor(a).var().data, np.var(a), rtol=1e-15)
    np.testing.assert_allclose(Tensor(a).std(axis=1).data, np.std(a, axis=1), rtol=1e-15)
    np.testing.assert_allclose(autograd.var(a, ddof=1).data, np.var(a, ddof=1), rtol=1e-15)
    np.testing.assert_allclose(autograd.std(a, axis=0, ddof=1).data, np.std(a, axis=0, ddof=1), rtol=1e-15)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("ddof", [2, 3])
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_ddof_at_or_above_n_gives_numpy_value_with_its_warning(name: str, ddof: int) -> None:
    """numpy divides by max(n - ddof, 0) = 0 and warns: inf (nan where every x is equal).
    The gradient then is not finite either."""
    a = np.array([[1.0, 2.0], [3.0, 3.0]])
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        expected = getattr(np, name)(a, axis=1, ddof=ddof)
    x = Tensor(a, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        y = getattr(x, name)(axis=1, ddof=ddof)
    np.testing.assert_array_equal(y.data, expected)  # [inf, nan]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        (y * np.array([1.0, 1.0])).sum().backward()
    assert not np.any(np.isfinite(x.grad.data))


# ----------------------------------------------------------------------------- against PyTorch


def _torch_grads(torch, values: np.ndarray, fn, weights: np.ndarray, v: np.ndarray):
    """Value, gradient of sum(w * fn(x)) and the derivative of sum(v * that gradient)."""
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    y = fn(x)
    (g,) = torch.autograd.grad((y * torch.tensor(weights)).sum(), x, create_graph=True)
    h = torch.autograd.grad((g * torch.tensor(v)).sum(), x, allow_unused=True)[0] if g.requires_grad else None
    return y.detach().numpy(), g.detach().numpy(), np.zeros_like(values) if h is None else h.numpy(force=True)


def _our_grads(values: np.ndarray, fn, weights: np.ndarray, v: np.ndarray):
    x = Tensor(values, requires_grad=True)
    y = fn(x)
    (g,) = grad((y * weights).sum(), [x], create_graph=True)
    # a gradient that does not depend on x (cumsum, the 1-norm) records nothing: its derivative is 0
    h = grad((g * v).sum(), [x], allow_unused=True)[0] if g.requires_grad else None
    return y.data, g.data, np.zeros_like(values) if h is None else h.data


def _compare_with_torch(torch, values, ours, theirs, rtol: float = 1e-12, nan_second_is_zero: bool = False) -> None:
    """Values, gradients and second derivatives (along a fixed direction) equal PyTorch's.
    ``nan_second_is_zero``: where PyTorch's second derivative is nan (|x|**p at x = 0 for
    p < 2, where it does not exist), ours is 0, the same convention as our first derivative."""
    rng = np.random.default_rng(0)
    out_shape = np.shape(ours(Tensor(values)).data)
    w = rng.uniform(-1, 1, out_shape)
    v = rng.uniform(-1, 1, np.shape(values))
    mine = _our_grads(values, ours, w, v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's own warnings (ddof >= n)
        reference = _torch_grads(torch, values, theirs, w, v)
    for a, b, what in zip(mine, reference, ["value", "grad", "second derivative"]):
        if nan_second_is_zero and what == "second derivative":
            assert np.all(a[np.isnan(b)] == 0), what
            a, b = a[~np.isnan(b)], b[~np.isnan(b)]
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=what)


ZEROS = np.array([[2.0, 0.0, 3.0, 1.5], [0.0, 0.0, 5.0, -1.0], [1.0, 2.0, -4.0, 0.5]])


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_with_zeros_matches_torch(axis) -> None:
    torch = pytest.importorskip("torch")
    theirs = (lambda x: x.prod()) if axis is None else (lambda x: x.prod(dim=axis))
    _compare_with_torch(torch, ZEROS, lambda t: t.prod(axis=axis), theirs)
    one_zero = np.array([1.5, -2.0, 0.0, 3.0])
    _compare_with_torch(torch, one_zero, lambda t: t.prod(), lambda x: x.prod())


@pytest.mark.parametrize("axis", [0, 1])
def test_cumprod_with_zeros_matches_torch(axis: int) -> None:
    torch = pytest.importorskip("torch")
    _compare_with_torch(torch, ZEROS, lambda t: t.cumprod(axis=axis), lambda x: x.cumprod(dim=axis))
    _compare_with_torch(torch, np.array([0.0, 2.0, 0.0, 4.0, 3.0]), lambda t: t.cumprod(), lambda x: x.cumprod(dim=0))


def test_cumsum_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    _compare_with_torch(torch, ZEROS, lambda t: t.cumsum(axis=1), lambda x: x.cumsum(dim=1))
    _compare_with_torch(torch, ZEROS, lambda t: t.cumsum(), lambda x: x.flatten().cumsum(dim=0))


@pytest.mark.parametrize("shift", [0.0, 1e3])
def test_logsumexp_matches_torch(shift: float) -> None:
    torch = pytest.importorskip("torch")
    values = ZEROS + shift
    _compare_with_torch(torch, values, lambda t: t.logsumexp(axis=1), lambda x: torch.logsumexp(x, dim=1), rtol=1e-11)
    _compare_with_torch(
        torch, values, lambda t: t.logsumexp(axis=(0, 1)), lambda x: torch.logsumexp(x, dim=(0, 1)), rtol=1e-11
    )


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 1), True)])
def test_var_std_with_ddof_match_torch_with_correction(name: str, ddof: int, axis, keepdims: bool) -> None:
    torch = pytest.importorskip("torch")
    values = ZEROS if name == "var" else ZEROS[:, :3] * np.array([1.0, 1.1, 1.3])  # no zero variance
    if _count(values.shape, axis) <= ddof:
        pytest.skip("n - ddof <= 0: see test_ddof_at_or_above_n_gives_numpy_value_with_its_warning")
    dim = axis if axis is not None else None

    def theirs(x):
        return getattr(torch, name)(x, dim=dim, correction=ddof, keepdim=keepdims)

    _compare_with_torch(torch, values, lambda t: getattr(t, name)(axis=axis, ddof=ddof, keepdims=keepdims), theirs)


def test_std_at_zero_variance_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    values = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    _compare_with_torch(torch, values, lambda t: t.std(axis=1), lambda x: x.std(dim=1, correction=0))


VECTORS = [np.array([3.0, -4.0, 1.0]), np.array([0.0, 2.0, -1.0]), np.zeros(3), np.array([2.0, -3.0, 3.0])]


@pytest.mark.parametrize("ord", [None, 2, 1, 3, 0.5, 1.5, INF, -INF])
@pytest.mark.parametrize("k", range(len(VECTORS)))
def test_vector_norms_match_torch(ord, k: int) -> None:
    """Including zero elements, the zero vector (subgradient 0) and ties in the inf-norm."""
    torch = pytest.importorskip("torch")
    values = VECTORS[k]
    p = 2 if ord is None else ord
    nan_ok = 0 < p < 2 and p != 1 or k == 2  # at x == 0: PyTorch's second derivative is nan, ours 0
    _compare_with_torch(
        torch, values, lambda t: t.norm(ord), lambda x: torch.linalg.vector_norm(x, ord=p), nan_second_is_zero=nan_ok
    )
    _compare_with_torch(
        torch,
        ZEROS,
        lambda t: t.norm(ord, axis=1),
        lambda x: torch.linalg.vector_norm(x, ord=p, dim=1),
        nan_second_is_zero=nan_ok,
    )


@pytest.mark.parametrize("ord", [None, "fro", 1, -1, INF, -INF])
def test_matrix_norms_match_torch(ord) -> None:
    torch = pytest.importorskip("torch")
    values = np.array([[2.0, -1.0, 3.0], [0.5, 4.0, -1.5]])
    p = "fro" if ord is None else ord
    _compare_with_torch(torch, values, lambda t: t.norm(ord), lambda x: torch.linalg.matrix_norm(x, ord=p))
    batch = np.stack([values, values[::-1] * 1.5])
    _compare_with_torch(
        torch, batch, lambda t: t.norm(ord, axis=(1, 2)), lambda x: torch.linalg.matrix_norm(x, ord=p, dim=(1, 2))
    )


# ----------------------------------------------------------------------------- results with no graph


@pytest.mark.parametrize("name", ["argmax", "argmin", "any", "all"])
@given(data=st.data())
def test_index_and_truth_reductions_are_numpy_values_with_no_graph(name: str, data: st.DataObject) -> None:
    values = data.draw(S.arrays(S.shapes(min_dims=0), st.sampled_from([-1.0, 0.0, 2.0])), label="x")
    if name in ("argmax", "argmin"):
        axis = data.draw(
            st.none() if values.ndim == 0 else st.one_of(st.none(), S.single_axis(values.ndim)), label="axis"
        )
    else:
        axis = data.draw(S.axes(values.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = Tensor(values, requires_grad=True)
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(values, axis=axis, keepdims=keepdims)
    assert isinstance(out, Tensor) and out.grad_fn is None and not out.requires_grad
    assert out.dtype == expected.dtype and out.shape == np.shape(expected)
    np.testing.assert_array_equal(out.data, expected)
    via_numpy = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert isinstance(via_numpy, Tensor) and via_numpy.grad_fn is None
    np.testing.assert_array_equal(via_numpy.data, expected)
    np.testing.assert_array_equal(getattr(ops, name)(values, axis=axis, keepdims=keepdims).data, expected)


def test_norm_ord_0_counts_nonzeros_with_no_graph() -> None:
    x = Tensor([[0.0, 2.0, -1.0], [0.0, 0.0, 3.0]], requires_grad=True)
    out = x.norm(0, axis=1)
    np.testing.assert_array_equal(out.data, np.linalg.norm(x.data, 0, axis=1))
    assert out.dtype == np.float64 and out.grad_fn is None
    assert Tensor([1.0, 0.0], dtype=np.float32).norm(0).dtype == np.float32
    assert Tensor([3, 4]).norm().item() == 5.0  # integers are measured as floats, as numpy does


def test_argmax_takes_the_first_of_ties_and_compiles() -> None:
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(axis=1).data, [0, 1])
    f = autograd.compile(lambda t: (t * 2.0).argmax(axis=1))
    np.testing.assert_array_equal(f(x).data, [1, 0])
    np.testing.assert_array_equal(f(Tensor([[5.0, 1.0, 0.0], [0.0, 1.0, 7.0]])).data, [0, 2])  # not baked in


# ----------------------------------------------------------------------------- numpy's functions


NUMPY_FORMS = {
    "np.var": (lambda t: np.var(t, axis=1, ddof=1), lambda t: t.var(axis=1, ddof=1)),
    "np.var correction": (lambda t: np.var(t, correction=1), lambda t: t.var(ddof=1)),
    "np.std": (lambda t: np.std(t, axis=0, keepdims=True), lambda t: t.std(axis=0, keepdims=True)),
    "np.prod": (lambda t: np.prod(t, axis=1), lambda t: t.prod(axis=1)),
    "np.cumsum": (lambda t: np.cumsum(t, 1), lambda t: t.cumsum(axis=1)),
    "np.cumprod": (lambda t: np.cumprod(t), lambda t: t.cumprod()),
    "np.linalg.norm": (lambda t: np.linalg.norm(t, axis=1), lambda t: t.norm(axis=1)),
    "np.linalg.norm fro": (lambda t: np.linalg.norm(t, "fro"), lambda t: t.norm("fro")),
    "autograd.prod": (lambda t: autograd.prod(t, axis=0), lambda t: t.prod(axis=0)),
    "ops.logsumexp": (lambda t: ops.logsumexp(t, axis=1), lambda t: t.logsumexp(axis=1)),
}


@pytest.mark.parametrize("name", list(NUMPY_FORMS))
def test_numpy_functions_on_tensors_are_the_ops(name: str) -> None:
    np_form, method_form = NUMPY_FORMS[name]
    values = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, 2.0]])
    a, b = Tensor(values, requires_grad=True), Tensor(values, requires_grad=True)
    out, ref = np_form(a), method_form(b)
    assert isinstance(out, Tensor) and out.grad_fn is not None and out.grad_fn.name == ref.grad_fn.name
    np.testing.assert_array_equal(out.data, ref.data)
    w = np.linspace(-1.0, 1.0, out.size).reshape(out.shape)
    (out * w).sum().backward()
    (ref * w).sum().backward()
    np.testing.assert_array_equal(a.grad.data, b.grad.data)


def test_numpy_functions_refuse_what_tensors_do_not_support() -> None:
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="np.var"):
        np.var(t, dtype=np.float32)
    with pytest.raises(ValueError, match="np.std"):
        np.std(t, ddof=1, correction=1)
    with pytest.raises(TypeError, match="np.cumsum"):
        np.cumsum(t, out=np.empty(2))
    with pytest.raises(TypeError, match="np.prod"):
        np.prod(t, initial=2.0)


# ----------------------------------------------------------------------------- errors

BAD_AXIS = {
    "var": lambda t: t.var(axis=2),
    "std": lambda t: t.std(axis=(0, -3)),
    "prod": lambda t: t.prod(axis=5),
    "logsumexp": lambda t: t.logsumexp(axis=-3),
    "cumsum": lambda t: t.cumsum(axis=2),
    "cumprod": lambda t: t.cumprod(axis=-3),
    "argmax": lambda t: t.argmax(axis=2),
    "argmin": lambda t: t.argmin(axis=2),
    "any": lambda t: t.any(axis=3),
    "all": lambda t: t.all(axis=(0, 2)),
    "norm": lambda t: t.norm(axis=2),
}


@pytest.mark.parametrize("name", list(BAD_AXIS))
def test_bad_axis_names_the_op(name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}: .*out of bounds"):
        BAD_AXIS[name](Tensor(np.ones((2, 3)), requires_grad=True))


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "argmax", "argmin"])
def test_one_axis_ops_refuse_a_tuple_of_axes(name: str) -> None:
    with pytest.raises(TypeError, match=f"^{name}: axis=\\(0, 1\\) must be one axis"):
        getattr(Tensor(np.ones((2, 3))), name)(axis=(0, 1))


@pytest.mark.parametrize(
    "name", ["var", "std", "prod", "logsumexp", "cumsum", "cumprod", "argmax", "argmin", "any", "all", "norm"]
)
def test_torch_keywords_are_refused_with_numpy_spelling(name: str) -> None:
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=f"{name}: dim= is PyTorch's spelling; write axis="):
        getattr(t, name)(dim=1)
    if name not in ("cumsum", "cumprod"):
        with pytest.raises(TypeError, match=f"{name}: keepdim= is PyTorch's spelling; write keepdims="):
            getattr(t, name)(keepdim=True)


@pytest.mark.parametrize("name", ["var", "std"])
def test_correction_and_unbiased_are_refused_naming_ddof(name: str) -> None:
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=f"{name}: correction= .* ddof=1 for its result"):
        getattr(t, name)(correction=1)
    with pytest.raises(TypeError, match=f"{name}: unbiased= .*ddof=1 for unbiased=True"):
        getattr(t, name)(unbiased=True)
    with pytest.raises(TypeError, match=f"{name}: ddof='1' must be a number"):
        getattr(t, name)(ddof="1")


def test_norm_refuses_p_and_orders_it_does_not_have() -> None:
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match="norm: p= is PyTorch's spelling; write ord="):
        t.norm(p=2)
    for ord in ("nuc", 2, -2):
        with pytest.raises(ValueError, match="norm: ord=.* singular values"):
            t.norm(ord)
    with pytest.raises(ValueError, match="norm: invalid order ord='fro' for a vector"):
        t.norm("fro", axis=1)
    with pytest.raises(ValueError, match="norm: invalid order ord=3 for a matrix"):
        t.norm(3)
    with pytest.raises(ValueError, match="norm: ord=-1 < 0"):
        t.norm(-1, axis=0)
    with pytest.raises(ValueError, match="norm: ord=1 with axis=None needs a 1-D or 2-D tensor"):
        Tensor(np.ones((2, 3, 4))).norm(1)
    with pytest.raises(ValueError, match="norm: axis=\\(0, 1, 2\\) must be one axis"):
        Tensor(np.ones((2, 3, 4))).norm(axis=(0, 1, 2))
    with pytest.raises(ValueError, match="norm: .*repeated axis"):
        t.norm(axis=(1, -1))


def test_argmax_of_an_empty_axis_names_the_op() -> None:
    with pytest.raises(ValueError, match="^argmax: attempt to get argmax of an empty sequence"):
        Tensor(np.ones((2, 0))).argmax(axis=1)


def test_forward_values_equal_numpy_for_integer_inputs() -> None:
    a = np.array([[1, 2, 3], [4, 5, 7]])
    for name in ("var", "std", "prod", "cumsum", "cumprod"):
        out = getattr(Tensor(a), name)(axis=1)
        expected = getattr(np, name)(a, axis=1)
        assert out.dtype == expected.dtype
        np.testing.assert_allclose(out.data, expected, **FORWARD_TOL)
    np.testing.assert_allclose(
        Tensor(a).logsumexp().data, _naive_logsumexp(a.astype(float), None, False), **FORWARD_TOL
    )


def test_compiled_reductions_equal_eager() -> None:
    """autograd.compile re-runs each op's forward and array backward on traced values: the
    generated code gives eager's values and gradients, zeros in cumprod/prod included."""

    def f(x):
        return (
            x.var(axis=1, ddof=1).sum()
            + x.std()
            + x.prod(axis=0).sum()
            + x.logsumexp(axis=1).sum()
            + (x.cumsum(axis=1) * 0.5).sum()
            + (x.cumprod() * np.arange(6.0)).sum()
            + x.norm()
            + x.norm(1, axis=1).sum()
            + x.norm(INF, axis=0).sum()
            + x.norm(3, axis=1).sum()
            + x.norm(-1)
        )

    compiled = autograd.compile(f)
    for values in (np.array([[1.0, 0.0, 2.0], [0.5, -1.0, 3.0]]), np.array([[1.5, 2.0, -2.5], [0.5, -1.0, 3.0]])):
        eager, traced = Tensor(values, requires_grad=True), Tensor(values, requires_grad=True)
        want, got = f(eager), compiled(traced)
        want.backward()
        got.backward()
        np.testing.assert_array_equal(got.data, want.data)
        np.testing.assert_array_equal(traced.grad.data, eager.grad.data)
