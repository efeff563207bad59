"""The checks every op's gradient test runs, shared by the tests/test_ops_*.py files.

A ``Case`` draws inputs, the op on Tensors and the same computation in numpy;
``check_first`` compares the value with numpy and the gradient with central differences
(and ``autograd.gradcheck``), ``check_second`` does the same for the gradient of the
gradient, ``check_float32`` checks dtypes are kept.

Tolerances. Central differences with step h = FD_EPS = 1e-6 differ from the true slope by
  truncation  eps**2 * |f'''| / 6. Our inputs are bounded (values in [-3, 3]; inputs of
              log/sqrt >= 0.2, pow bases and divisors >= 0.5), so third derivatives are
              within a factor ~1e2 of the slopes around them (e.g. 20 / b**2 = 80 for b**-3
              at b = 0.5): truncation is ~1e-10 of the slope, far below RTOL. Where the
              slope itself is small, |f'''| <~ 2e6 (a**2 / b**3 summed over 27 broadcast
              copies at b = 0.5, the worst case here) still gives <= 3e-7 < ATOL.
  rounding    the two float64 sums f(x + h), f(x - h) are each off by at most ~log2(n) ulps
              of sum|terms| (numpy's pairwise summation; n <= 256 terms here, so 8 ulps),
              which divided by 2h is rounding(scale) = 2 * 8 * 2.2e-16 * scale / (2 eps)
              = 1.8e-9 * scale, computed from the actual scale = sum|terms| of each check.
So we require |autograd - numeric| <= ATOL + RTOL * |numeric| + rounding(scale) with
ATOL = 1e-6 and RTOL = 1e-6. A larger difference cannot come from differencing: it is a
wrong gradient. (Measured: every check still passes with all three terms 100x smaller,
and a 1e-5 relative error planted in tanh's derivative fails.) The same bound is given to
gradcheck, whose output weights are N(0, 1) normals (|v| < 5): its scale is
5 * sum|output|.
Forward values are compared to rtol 1e-12 / atol 1e-12: numpy and the engine may use
different but equal formulas (sigmoid via tanh, softmax shifted by its max), which differ
by a few ulps (2.2e-16) of values <~ 1e2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import strategies as S
from hypothesis import strategies as st

from autograd import Tensor, grad, gradcheck, no_grad

FD_EPS = 1e-6
ATOL = 1e-6
RTOL = 1e-6
SUMMATION_ULPS = 8  # pairwise summation of n <= 256 terms: <= log2(n) ulps of sum|terms|
GRADCHECK_WEIGHT_BOUND = 5.0  # |N(0, 1)| draws of gradcheck's fixed output weights stay below 5
FORWARD_TOL = {"rtol": 1e-12, "atol": 1e-12}


def rounding(scale: float) -> float:
    """Bound on the rounding error of a central difference of a sum with sum|terms| = ``scale``."""
    return 2 * SUMMATION_ULPS * float(np.finfo(np.float64).eps) * scale / (2 * FD_EPS)


# ----------------------------------------------------------------------------- numpy helpers


def central_difference(terms: Callable[..., np.ndarray], arrays: list[np.ndarray], i: int) -> tuple[np.ndarray, float]:
    """d f / d arrays[i] for f = sum(terms(*arrays)), element by element:
    (f(x + h e_k) - f(x - h e_k)) / (2 h). Also returns the largest sum|terms| seen.

    The actual step (x + eps) - (x - eps) is the divisor, so the representation error of
    x +- eps does not enter.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]  # own, writable copies
    x = arrays[i]
    out = np.zeros_like(x)
    scale = 0.0
    for k in np.ndindex(*x.shape):
        original = x[k]
        x[k] = high_x = original + FD_EPS
        high, s_high = _sum(terms(*arrays))
        x[k] = low_x = original - FD_EPS
        low, s_low = _sum(terms(*arrays))
        x[k] = original
        out[k] = (high - low) / (high_x - low_x)
        scale = max(scale, s_high, s_low)
    return out, scale


def directional_difference(
    terms: Callable[..., np.ndarray], arrays: list[np.ndarray], direction: list[np.ndarray]
) -> tuple[float, float]:
    """The slope of f = sum(terms) along ``direction`` (one array per input):
    (f(x + h u) - f(x - h u)) / (2 h), and the largest sum|terms| seen."""
    high, s_high = _sum(terms(*[a + FD_EPS * u for a, u in zip(arrays, direction)]))
    low, s_low = _sum(terms(*[a - FD_EPS * u for a, u in zip(arrays, direction)]))
    return (high - low) / (2 * FD_EPS), max(s_high, s_low)


def _sum(terms: np.ndarray) -> tuple[float, float]:
    terms = np.asarray(terms, dtype=np.float64)
    assert np.all(np.isfinite(terms)), "a non-finite value: the inputs left the op's domain"
    return float(np.sum(terms)), float(np.sum(np.abs(terms)))


def assert_grad_close(analytic: Any, numeric: np.ndarray, scale: float, what: str) -> None:
    analytic = np.zeros_like(numeric) if analytic is None else np.asarray(analytic, dtype=np.float64)
    assert analytic.shape == numeric.shape, f"{what}: gradient shape {analytic.shape}, input shape {numeric.shape}"
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL + rounding(scale), err_msg=what)


# ----------------------------------------------------------------------------- the cases


@dataclass
class Case:
    """An op under test. ``draw(data)`` returns (inputs, tensor_fn, numpy_fn): float64
    input arrays, the op on Tensors, and the same computation in numpy."""

    name: str
    draw: Callable[[st.DataObject], tuple[list[np.ndarray], Callable[..., Tensor], Callable[..., np.ndarray]]]
    out_dtype_follows_input: bool = True  # False for astype, whose output dtype is fixed

    def __repr__(self) -> str:
        return self.name


def _unary(name: str, tensor_fn: Callable, numpy_fn: Callable, elements=None, min_dims: int = 0) -> Case:
    def draw(data):
        x = data.draw(S.arrays(S.shapes(min_dims=min_dims), elements), label="x")
        return [x], tensor_fn, numpy_fn

    return Case(name, draw)


def _binary(name: str, tensor_fn: Callable, numpy_fn: Callable, a_elements=None, b_elements=None) -> Case:
    """Operand shapes from hypothesis' mutually_broadcastable_shapes: either side may broadcast."""

    def draw(data):
        shape_a, shape_b = data.draw(S.broadcastable_pairs(), label="shapes").input_shapes
        a = data.draw(S.arrays(shape_a, a_elements), label="a")
        b = data.draw(S.arrays(shape_b, b_elements), label="b")
        return [a, b], tensor_fn, numpy_fn

    return Case(name, draw)


def _tensors(arrays: list[np.ndarray], dtype: Any = None) -> list[Tensor]:
    return [Tensor(a, requires_grad=True, dtype=dtype) for a in arrays]


# ----------------------------------------------------------------------------- forward and first derivative


def check_first(case: Case, data: st.DataObject) -> None:
    arrays, tensor_fn, numpy_fn = case.draw(data)

    # forward: the value numpy computes, with numpy's shape and dtype
    expected = numpy_fn(*arrays)
    tensors = _tensors(arrays)
    out = tensor_fn(*tensors)
    assert isinstance(out, Tensor)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, **FORWARD_TOL)
    with no_grad():  # the same value, recording nothing (ops such as 1-d .T may return the input itself)
        quiet = tensor_fn(*_tensors(arrays))
    assert quiet.grad_fn is None
    np.testing.assert_array_equal(quiet.data, out.data)

    # first derivative of sum(w * op(x)), against central differences of the numpy reference
    w = data.draw(S.weights(expected.shape), label="w")
    analytic = grad((out * w).sum(), tensors, allow_unused=True)

    def terms(*arrs: np.ndarray) -> np.ndarray:  # numpy only: independent of the engine
        return numpy_fn(*arrs) * w

    for i, g in enumerate(analytic):
        if g is not None:
            assert g.dtype == np.float64, f"gradient of input {i} is {g.dtype}"
        numeric, scale = central_difference(terms, arrays, i)
        assert_grad_close(g, numeric, scale, f"{case.name}: d/d(input {i})")

    # and autograd's own gradcheck
    scale = GRADCHECK_WEIGHT_BOUND * float(np.sum(np.abs(expected)))
    assert gradcheck(tensor_fn, *_tensors(arrays), eps=FD_EPS, atol=ATOL + rounding(scale), rtol=RTOL)


# ----------------------------------------------------------------------------- second derivative


def _first_gradients(tensor_fn: Callable[..., Tensor], tensors: list[Tensor], w: np.ndarray, create_graph: bool):
    """d/dx_i sum(w * op(x)**2) for each input x_i (None where x_i is unused)."""
    out = tensor_fn(*tensors)
    return grad((out * out * w).sum(), tensors, create_graph=create_graph, allow_unused=True)


def check_second(case: Case, data: st.DataObject) -> None:
    """s(x) = sum_i sum(v_i * g_i(x)), g = the first gradient of sum(w * op(x)**2)."""
    arrays, tensor_fn, numpy_fn = case.draw(data)
    w = data.draw(S.weights(numpy_fn(*arrays).shape), label="w")
    vs = [data.draw(S.weights(a.shape), label=f"v{i}") for i, a in enumerate(arrays)]

    def s(*tensors: Tensor) -> Tensor:  # recorded: can be differentiated again
        firsts = _first_gradients(tensor_fn, list(tensors), w, create_graph=True)
        parts = [(g * v).sum() for g, v in zip(firsts, vs) if g is not None]
        assert parts, "no input reached the output"
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    def s_terms(*arrs: np.ndarray) -> np.ndarray:  # the terms of s, by a plain (unrecorded) backward
        firsts = _first_gradients(tensor_fn, _tensors(arrs), w, create_graph=False)
        return np.concatenate([np.ravel(np.asarray(g) * v) for g, v in zip(firsts, vs) if g is not None])

    tensors = _tensors(arrays)
    value = s(*tensors)
    assert value.requires_grad, "the first gradient was not recorded (create_graph=True)"
    terms_at_x = s_terms(*arrays)  # the same sums in another order: equal up to ~log2(n) ulps of sum|terms|
    summed_order_bound = 16 * np.finfo(np.float64).eps * np.sum(np.abs(terms_at_x))
    np.testing.assert_allclose(value.data, np.sum(terms_at_x), rtol=0, atol=summed_order_bound)
    second = grad(value, tensors, allow_unused=True)
    for i, (g, a) in enumerate(zip(second, arrays)):
        assert g is None or (g.shape == a.shape and g.dtype == np.float64), f"second derivative of input {i}"

    # Our own check: the slope of s along a hypothesis-drawn direction u, by central
    # differences of s (evaluated afresh at x +- eps u), against sum_i <ds/dx_i, u_i>.
    us = [data.draw(S.weights(a.shape), label=f"u{i}") for i, a in enumerate(arrays)]
    numeric, scale = directional_difference(s_terms, arrays, us)
    products = [np.asarray(g) * u for g, u in zip(second, us) if g is not None]
    analytic = float(sum(np.sum(p) for p in products))
    size = float(sum(np.sum(np.abs(p)) for p in products))
    assert abs(analytic - numeric) <= ATOL + RTOL * size + rounding(scale), (
        f"{case.name}: second derivative along u is {analytic!r} by autograd, {numeric!r} by central differences"
    )

    # And element by element, by autograd's own gradcheck of s.
    scale = GRADCHECK_WEIGHT_BOUND * float(np.sum(np.abs(terms_at_x)))
    assert gradcheck(s, *_tensors(arrays), eps=FD_EPS, atol=ATOL + rounding(scale), rtol=RTOL)


# ----------------------------------------------------------------------------- dtypes

# float32 results carry ~6e-8 relative rounding per op; the few ops in a case's gradient
# stay within ~1e-5 of the float64 gradient (values and gradients here are <~ 1e2), so
# rtol/atol 1e-4 is ~1000 float32 roundings: a float32 gradient outside it is wrong, not
# just rounded.
FLOAT32_TOL = {"rtol": 1e-4, "atol": 1e-4}


def check_float32(case: Case, data: st.DataObject) -> None:
    arrays, tensor_fn, _ = case.draw(data)
    arrays = [a.astype(np.float32).astype(np.float64) for a in arrays]  # float32-representable inputs
    tensors32 = _tensors(arrays, dtype=np.float32)
    out = tensor_fn(*tensors32)
    assert out.dtype == np.float32, f"{case.name}: float32 in, {out.dtype} out"
    w = data.draw(S.weights(out.shape), label="w").astype(np.float32)

    firsts = grad((out * out * w).sum(), tensors32, create_graph=True, allow_unused=True)
    for i, g in enumerate(firsts):
        assert g is None or g.dtype == np.float32, f"{case.name}: gradient of float32 input {i} is {g.dtype}"
    total = sum((g.sum() for g in firsts if g is not None), start=Tensor(np.float32(0)))
    seconds = grad(total, tensors32, allow_unused=True)
    for i, g in enumerate(seconds):
        assert g is None or g.dtype == np.float32, f"{case.name}: second derivative of input {i} is {g.dtype}"

    # backward() too, and its values agree with the float64 gradient at the same inputs.
    tensors32 = _tensors(arrays, dtype=np.float32)
    (tensor_fn(*tensors32) * w).sum().backward()
    tensors64 = _tensors(arrays)
    (tensor_fn(*tensors64) * w.astype(np.float64)).sum().backward()
    for t32, t64 in zip(tensors32, tensors64):
        assert t32.grad is not None and t32.grad.dtype == np.float32
        np.testing.assert_allclose(t32.grad.data, t64.grad.data, **FLOAT32_TOL)
