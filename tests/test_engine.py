"""Engine behaviour: the chain rule over whole graphs, grad modes, dtypes and error handling.

Every test asserts a relation that a wrong engine would break. Expected values come from
an independent source where one exists: exact rational dual numbers (forward-mode
differentiation in ``fractions.Fraction``), closed-form derivatives, or numpy.

Tolerances: results that are one or a few float64 roundings away from the exact value are
compared with ``rtol=1e-13`` (float64 unit roundoff is 1.1e-16, so this leaves room for a
few hundred roundings, far fewer than a wrong gradient would need to pass). Where the
engine and the reference do the very same float operations the comparison is exact.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Function, Tensor, enable_grad, gradcheck, is_grad_enabled, no_grad

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-13  # a few float64 roundings; see the module docstring


# ----------------------------------------------------------------------------- local strategies

small_floats = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, width=64)
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def arrays(shape, elements=small_floats, dtype=np.float64):
    return hnp.arrays(dtype, shape, elements=elements)


def leaf(value, dtype=np.float64, name=None) -> Tensor:
    return Tensor(np.asarray(value, dtype=dtype), requires_grad=True, name=name)


# ----------------------------------------------------------------------------- exact reference


class Dual:
    """Forward-mode dual number ``val + eps * der`` over exact rationals (a reference engine)."""

    def __init__(self, val, der=0):
        self.val = Fraction(val)
        self.der = Fraction(der)

    @staticmethod
    def lift(other):
        return other if isinstance(other, Dual) else Dual(other)

    def __add__(self, other):
        other = Dual.lift(other)
        return Dual(self.val + other.val, self.der + other.der)

    __radd__ = __add__

    def __neg__(self):
        return Dual(-self.val, -self.der)

    def __sub__(self, other):
        return self + (-Dual.lift(other))

    def __rsub__(self, other):
        return Dual.lift(other) - self

    def __mul__(self, other):
        other = Dual.lift(other)
        return Dual(self.val * other.val, self.der * other.val + self.val * other.der)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = Dual.lift(other)
        return Dual(self.val / other.val, (self.der * other.val - self.val * other.der) / other.val**2)

    def __rtruediv__(self, other):
        return Dual.lift(other) / self

    def __pow__(self, n: int):
        assert isinstance(n, int)
        return Dual(self.val**n, n * self.val ** (n - 1) * self.der)

    def relu(self):
        return self if self.val > 0 else Dual(0, 0)


# ----------------------------------------------------------------------------- micrograd-style scalars


def micrograd_expression(a, b):
    """micrograd's test_sanity_check expression, written once for Tensors and Duals."""
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def test_micrograd_sanity_check_matches_published_and_exact_values():
    a = Tensor(-4.0, requires_grad=True)
    b = Tensor(2.0, requires_grad=True)
    g = micrograd_expression(a, b)
    g.backward()

    # 0-d in, 0-d out, 0-d grads
    assert g.shape == () and a.grad.shape == () and b.grad.shape == ()
    # the values micrograd's README prints (4 decimals)
    assert g.item() == pytest.approx(24.7041, abs=5e-5)
    assert a.grad.item() == pytest.approx(138.8338, abs=5e-5)
    assert b.grad.item() == pytest.approx(645.5773, abs=5e-5)

    # and the exact rationals, by forward mode on Fractions
    exact_da = micrograd_expression(Dual(-4, 1), Dual(2, 0))
    exact_db = micrograd_expression(Dual(-4, 0), Dual(2, 1))
    assert exact_da.val == Fraction(49, 2) + Fraction(10, 49)
    np.testing.assert_allclose(g.item(), float(exact_da.val), rtol=RTOL)
    np.testing.assert_allclose(a.grad.item(), float(exact_da.der), rtol=RTOL)
    np.testing.assert_allclose(b.grad.item(), float(exact_db.der), rtol=RTOL)


@pytest.mark.parametrize(
    "name, fn, dfdx",
    [
        ("x + 2", lambda x: x + 2, lambda x: 1.0),
        ("2 + x", lambda x: 2 + x, lambda x: 1.0),
        ("x - 2", lambda x: x - 2, lambda x: 1.0),
        ("2 - x", lambda x: 2 - x, lambda x: -1.0),
        ("x * 3", lambda x: x * 3, lambda x: 3.0),
        ("3 * x", lambda x: 3 * x, lambda x: 3.0),
        ("x / 4", lambda x: x / 4, lambda x: 0.25),
        ("4 / x", lambda x: 4 / x, lambda x: -4.0 / x**2),
        ("x ** 3", lambda x: x**3, lambda x: 3.0 * x**2),
        ("2 ** x", lambda x: 2**x, lambda x: 2.0**x * np.log(2.0)),
        ("-x", lambda x: -x, lambda x: -1.0),
        ("2.5 - x * 0.5", lambda x: 2.5 - x * 0.5, lambda x: -0.5),
    ],
)
@given(x=st.floats(0.1, 5.0))
def test_python_numbers_on_either_side(name, fn, dfdx, x):
    t = Tensor(x, requires_grad=True)
    y = fn(t)
    assert isinstance(y, Tensor) and y.requires_grad, name
    np.testing.assert_allclose(y.item(), fn(x), rtol=RTOL, err_msg=name)
    y.backward()
    np.testing.assert_allclose(t.grad.item(), dfdx(x), rtol=RTOL, err_msg=name)


def test_augmented_assignment_rebinds_and_never_mutates():
    a = Tensor(3.0, requires_grad=True)
    c = a * 1.0
    before = c
    c += c + 1  # no __iadd__: Python rebinds c to c + (c + 1)
    assert c is not before
    assert before.item() == 3.0  # the old tensor's data is untouched
    assert c.item() == 7.0
    c.backward()
    assert a.grad.item() == 2.0  # d(2a + 1)/da


# ----------------------------------------------------------------------------- graph shapes


def test_value_reused_one_hundred_times():
    x = Tensor(1.01, requires_grad=True)
    y = x
    for _ in range(99):
        y = y * x  # x**100, x reached along 100 edges
    y.backward()
    np.testing.assert_allclose(y.item(), 1.01**100, rtol=RTOL)
    np.testing.assert_allclose(x.grad.item(), 100 * 1.01**99, rtol=RTOL)


@given(c=arrays(100))
def test_sum_of_one_hundred_uses_adds_every_share(c):
    x = Tensor(np.ones(3), requires_grad=True)
    y = 0.0
    for ci in c:
        y = y + x * float(ci)
    y.sum().backward()
    # The engine may add the 100 shares in any order; any order of summing n numbers is
    # within n * eps * sum|c_i| of any other (standard summation error bound).
    tolerance = 100 * np.finfo(np.float64).eps * np.abs(c).sum()
    np.testing.assert_allclose(x.grad.data, np.full(3, np.sum(c)), rtol=0, atol=tolerance)


def test_diamond():
    a = Tensor(1.5, requires_grad=True)
    b = a * 2
    c = a * 3
    d = b * c  # 6 a**2
    d.backward()
    assert a.grad.item() == 12 * 1.5


class CountedDouble(Function):
    """y = 2x, counting how many times backward runs."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        return 2 * x.data

    @staticmethod
    def backward(ctx, grad):
        CountedDouble.calls += 1
        return grad * 2.0


def test_chain_of_diamonds_visits_each_node_once():
    # y_{k+1} = D(y_k) + D(y_k) with the SAME node D(y_k) used twice: 2**depth paths from
    # output to input. An engine that walks paths instead of nodes would run D's backward
    # 2**40 times; topological order runs it once per node.
    depth = 40
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(depth):
        h = CountedDouble.apply(y)
        y = h + h
    CountedDouble.calls = 0
    y.backward()
    assert CountedDouble.calls == depth
    assert x.grad.item() == 4.0**depth  # exact: a power of two


def test_deep_chain_of_200000_ops_has_no_recursion_error():
    x = Tensor(0.5, requires_grad=True)
    y = x
    n = 200_000
    for _ in range(n):
        y = y + 1.0
    assert sys.getrecursionlimit() < n  # so a recursive walk would fail
    y.backward()
    assert y.item() == n + 0.5
    assert x.grad.item() == 1.0
    del y  # freeing a 200,000-deep chain must not overflow the C stack either
    gc.collect()


def test_leaf_grads_accumulate_and_reset_with_none():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
    (3.0 * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data + 3.0)
    x.grad = None
    (3.0 * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0, 3.0])


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = leaf([1.0, 2.0])
    h = (x * x).retain_grad()
    y = (h * x).sum()  # x**3
    y.backward(retain_graph=True)
    first_x, first_h = x.grad.data.copy(), h.grad.data.copy()
    np.testing.assert_array_equal(first_x, 3 * x.data**2)
    np.testing.assert_array_equal(first_h, x.data)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, 2 * first_x)
    np.testing.assert_array_equal(h.grad.data, 2 * first_h)


def test_second_backward_without_retain_graph_raises_and_changes_nothing():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    before = x.grad.data.copy()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_array_equal(x.grad.data, before)
    # a new graph built on a freed one is refused too
    with pytest.raises(RuntimeError, match="retain_graph"):
        autograd.grad(y * 2.0, x)


# ----------------------------------------------------------------------------- grad mode


def test_no_grad_context_manager_records_nothing_and_restores():
    x = leaf([1.0, 2.0])
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2.0 + 1.0
        with enable_grad():
            z = x * 3.0
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    np.testing.assert_array_equal(y.data, [3.0, 5.0])  # the values are still computed
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()

    with pytest.raises(KeyError), no_grad():
        raise KeyError("boom")
    assert is_grad_enabled()  # restored on the way out of an exception


def test_no_grad_as_decorator():
    @no_grad()
    def double(t):
        """doc kept"""
        assert not is_grad_enabled()
        return t * 2.0

    x = leaf([1.0])
    y = double(x)
    assert not y.requires_grad and y.grad_fn is None
    assert is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "doc kept"
    assert (x * 2.0).requires_grad  # recording again after the call


def test_no_grad_is_thread_local():
    x = leaf([1.0, 2.0])
    entered, done = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def other_thread():
        entered.wait(timeout=10)
        seen["enabled"] = is_grad_enabled()
        seen["recorded"] = (x * 2.0).requires_grad
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with no_grad():
        entered.set()
        assert done.wait(timeout=10)
        assert not (x * 2.0).requires_grad  # this thread is still in no_grad
    worker.join()
    assert seen == {"enabled": True, "recorded": True}

    # and the other way round: a no_grad block in another thread leaves this one recording
    inside, release = threading.Event(), threading.Event()

    def holder():
        with no_grad():
            inside.set()
            release.wait(timeout=10)

    worker = threading.Thread(target=holder)
    worker.start()
    assert inside.wait(timeout=10)
    try:
        assert is_grad_enabled() and (x * 2.0).requires_grad
    finally:
        release.set()
        worker.join()


class Recorder(Function):
    """y = a * b * k, recording ctx.needs_input_grad; backward returns all three gradients."""

    seen: list = []

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.save_for_backward(a, b)
        ctx.k = k
        return a.data * b.data * k

    @staticmethod
    def backward(ctx, grad):
        Recorder.seen.append(ctx.needs_input_grad)
        a, b = ctx.saved_tensors
        # deliberately returns a gradient even for inputs that do not need one
        return grad * b * ctx.k, grad * a * ctx.k, None


def test_grads_only_for_inputs_that_need_them():
    a = leaf([1.0, 2.0])
    b = Tensor([3.0, 4.0])  # a constant
    Recorder.seen = []
    Recorder.apply(a, b, 2.0).sum().backward()
    assert Recorder.seen == [(True, False, False)]
    np.testing.assert_array_equal(a.grad.data, [6.0, 8.0])
    assert b.grad is None  # the unneeded gradient was dropped

    b2 = leaf([3.0, 4.0])
    Recorder.seen = []
    Recorder.apply(Tensor([1.0, 2.0]), b2, 2.0).sum().backward()
    assert Recorder.seen == [(False, True, False)]
    np.testing.assert_array_equal(b2.grad.data, [2.0, 4.0])


def test_nodes_without_grad_inputs_are_not_recorded_or_visited():
    x = leaf([1.0, 2.0])
    constant = CountedDouble.apply(Tensor([5.0, 7.0]))
    assert not constant.requires_grad and constant.grad_fn is None
    CountedDouble.calls = 0
    (x * constant).sum().backward()
    assert CountedDouble.calls == 0
    np.testing.assert_array_equal(x.grad.data, [10.0, 14.0])


# ----------------------------------------------------------------------------- retain_grad, grad()


def test_retain_grad_on_intermediates():
    x = leaf([1.0, -2.0, 3.0])
    h = x * 2.0
    assert h.retain_grad() is h
    other = h + 1.0  # not retained
    y = (h * h + other).sum()  # h used twice: its retained grad is the total
    y.backward()
    np.testing.assert_array_equal(h.grad.data, 2 * h.data + 1.0)
    assert other.grad is None
    np.testing.assert_array_equal(x.grad.data, 2.0 * (2 * h.data + 1.0))


@given(x=arrays(shapes, st.floats(-3, 3)))
def test_create_graph_second_and_third_derivative_of_cube(x):
    t = Tensor(x, requires_grad=True)
    (g1,) = autograd.grad((t**3).sum(), t, create_graph=True)
    np.testing.assert_allclose(g1.data, 3 * x**2, rtol=RTOL)
    assert g1.requires_grad
    (g2,) = autograd.grad(g1.sum(), t, create_graph=True)
    np.testing.assert_allclose(g2.data, 6 * x, rtol=RTOL)
    (g3,) = autograd.grad(g2.sum(), t)
    np.testing.assert_allclose(g3.data, np.full(x.shape, 6.0), rtol=RTOL)
    assert t.grad is None


def test_create_graph_through_backward_and_tanh():
    x = leaf([-1.5, 0.0, 0.7])
    x.tanh().sum().backward(create_graph=True)
    first = x.grad
    th = np.tanh(x.data)
    np.testing.assert_allclose(first.data, 1 - th**2, rtol=RTOL)
    assert first.requires_grad  # the gradient is itself a graph
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, -2 * th * (1 - th**2), rtol=1e-12, atol=1e-15)


def test_mixed_second_derivative():
    x = Tensor(1.5, requires_grad=True)
    y = Tensor(-2.0, requires_grad=True)
    f = x * x * y  # d2f/dxdy = 2x
    (fx,) = autograd.grad(f, x, create_graph=True)
    (fxy,) = autograd.grad(fx, y)
    assert fxy.item() == 3.0


def test_grad_function_leaves_dot_grad_alone():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, -1.0])
    sentinel = Tensor([100.0, 100.0])
    w.grad = sentinel
    h = (x * w).retain_grad()
    y = (h * h).sum()
    gx, gw = autograd.grad(y, [x, w])
    np.testing.assert_array_equal(gx.data, 2 * h.data * w.data)
    np.testing.assert_array_equal(gw.data, 2 * h.data * x.data)
    assert x.grad is None and h.grad is None
    assert w.grad is sentinel
    np.testing.assert_array_equal(w.grad.data, [100.0, 100.0])


def test_grad_outputs_and_intermediate_inputs():
    x = leaf([1.0, 2.0, 3.0])
    h = x * x
    y = h * 2.0  # non-scalar output
    v = np.array([1.0, -1.0, 0.5])
    gx, gh = autograd.grad(y, [x, h], grad_outputs=v)
    np.testing.assert_array_equal(gh.data, 2.0 * v)
    np.testing.assert_array_equal(gx.data, 2.0 * v * 2 * x.data)
    # several outputs: their gradients add
    a = leaf(2.0)
    (ga,) = autograd.grad([a * 3.0, a * a], a)
    assert ga.item() == 3.0 + 4.0
    with pytest.raises(RuntimeError, match=r"\(3,\)"):
        autograd.grad(x * 2.0, x)  # non-scalar output and no grad_outputs


def test_grad_allow_unused():
    x = leaf([1.0, 2.0])
    unused = leaf([5.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = autograd.grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(gx.data, 2 * x.data)


@given(data=st.data(), shape=shapes)
def test_backward_with_explicit_grad_on_non_scalar(data, shape):
    x = data.draw(arrays(shape))
    w = data.draw(arrays(shape))
    v = data.draw(arrays(shape))
    tx, tw = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    y = tx * tw
    y.backward(grad=v)
    # one multiplication each: exactly numpy's result
    np.testing.assert_array_equal(tx.grad.data, v * w)
    np.testing.assert_array_equal(tw.grad.data, v * x)


def test_backward_grad_may_be_a_tensor_or_list_and_one_element_tensors_need_none():
    x = leaf([[1.0, 2.0]])
    (x * 3.0).backward(grad=Tensor([[1.0, -1.0]]))
    np.testing.assert_array_equal(x.grad.data, [[3.0, -3.0]])
    x.grad = None
    (x * 3.0).backward(grad=[[2.0, 2.0]])
    np.testing.assert_array_equal(x.grad.data, [[6.0, 6.0]])
    z = leaf([[4.0]])
    (z * z).backward()  # shape (1, 1): one element, an implicit gradient of 1
    np.testing.assert_array_equal(z.grad.data, [[8.0]])


# ----------------------------------------------------------------------------- gradients are owned


def test_distinct_leaves_get_distinct_grad_arrays():
    # Add.backward hands the same gradient to both inputs; each leaf's .grad must still be
    # its own array, or an in-place update of one (an optimizer's p.grad.data *= ...) would
    # silently change the other.
    a = leaf(1.0)
    b = leaf(3.0)
    (a + b).backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data[...] = 0.0
    assert b.grad.item() == 1.0


def test_grad_does_not_alias_the_callers_grad_argument():
    x = leaf([1.0, 2.0])
    v = np.array([1.0, 1.0])
    (x + 0.0).backward(grad=v)
    v[:] = 7.0  # the caller reuses its buffer
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


# ----------------------------------------------------------------------------- custom Function, gradcheck


class Cube(Function):
    """y = x**3;  dy/dx = 3 x**2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x  # Tensor ops: differentiable again


@given(x=arrays(shapes))
def test_custom_function_forward_backward_and_second_derivative(x):
    t = Tensor(x, requires_grad=True)
    y = Cube.apply(t)
    assert y.grad_fn is not None and y.grad_fn.fn is Cube
    np.testing.assert_array_equal(y.data, x**3)
    (g1,) = autograd.grad(y.sum(), t, create_graph=True)
    np.testing.assert_allclose(g1.data, 3.0 * x * x, rtol=RTOL)
    (g2,) = autograd.grad(g1.sum(), t)
    np.testing.assert_allclose(g2.data, 6.0 * x, rtol=RTOL)


def test_gradcheck_passes_for_right_gradients():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(lambda x, w: Cube.apply((x @ w).tanh()), x, w) is True
    assert gradcheck(lambda x: (x * x).sum(axis=0).sigmoid(), x) is True


class WrongAtOneIndex(Function):
    """c = a * b; the gradient for b is wrong at exactly one element, (1, 2)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data * b.data

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        bump = np.zeros(b.shape)
        bump[1, 2] = 0.5
        return grad * b, grad * a + bump


def test_gradcheck_names_the_wrong_input_and_index():
    rng = np.random.default_rng(2)
    a = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda a, b: WrongAtOneIndex.apply(a, b), a, b)
    message = str(info.value)
    assert "input 1" in message and "(1, 2)" in message
    assert "input 0" not in message  # input 0's gradient is right


class TooFewGrads(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a.data + b.data

    @staticmethod
    def backward(ctx, grad):
        return grad  # one gradient for two inputs


class WrongShapeGrad(Function):
    @staticmethod
    def forward(ctx, a):
        return a.data * 2

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(-1)[:1] * Tensor(np.ones((5, 7)))


def test_custom_function_returning_wrong_gradients_gets_a_clear_error():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(RuntimeError, match="TooFewGrads.*1 gradient.*2"):
        TooFewGrads.apply(a, b).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShapeGrad.*\(5, 7\).*\(2,\)"):
        WrongShapeGrad.apply(a).sum().backward()
    assert a.grad is None and b.grad is None


class NumpyBackward(Function):
    """A numpy-minded user's op: backward returns an ndarray instead of a Tensor."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data**2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x.data * grad.data


def test_backward_returning_an_ndarray_works_or_says_what_to_return():
    x = leaf([1.0, 2.0])
    w = leaf([1.0, 1.0])
    try:
        (NumpyBackward.apply(x) + w).sum().backward()
    except Exception as err:  # a clear refusal naming the op is fine, if it changes nothing
        assert x.grad is None and w.grad is None, f"a failed backward wrote .grad ({err!r})"
        assert isinstance(err, (TypeError, RuntimeError)), f"unclear error: {err!r}"
        assert "NumpyBackward" in str(err)
    else:  # and so is accepting the array
        assert isinstance(x.grad, Tensor)
        np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


# ----------------------------------------------------------------------------- dtypes

UNARY_CHAINS = {
    "arith": lambda t: ((t * 2.0 + 1) / 3 - 0.5) ** 2,
    "exp_tanh": lambda t: (t * 0.5).exp().tanh() + t.sigmoid(),
    "relu_abs": lambda t: t.relu() * 2 + abs(t),
    "reduce": lambda t: t.sum(axis=0) + t.mean(axis=0) + t.max(axis=0),
    "shape": lambda t: t.T.reshape(-1)[1:] * 3,
    "softmax": lambda t: t.softmax(axis=-1) + t.log_softmax(axis=-1),
    "matmul": lambda t: t @ t.T,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chain", sorted(UNARY_CHAINS))
@given(data=st.data())
def test_float_dtype_is_preserved_end_to_end(dtype, chain, data):
    x = data.draw(arrays((3, 2), st.floats(-2, 2, width=32), dtype=dtype))
    t = Tensor(x, requires_grad=True)
    h = UNARY_CHAINS[chain](t).retain_grad()
    assert h.dtype == dtype
    loss = (h * h).sum()
    assert loss.dtype == dtype
    loss.backward()
    assert t.grad.dtype == dtype and h.grad.dtype == dtype
    (g,) = autograd.grad(UNARY_CHAINS[chain](t).sum(), t)
    assert g.dtype == dtype


def test_float32_meeting_float64_keeps_each_grad_in_its_own_dtype():
    x32 = leaf([[1.0, 2.0]], dtype=np.float32)
    w64 = leaf([[0.5], [0.25]])
    y = x32 @ w64  # numpy promotes the result to float64
    assert y.dtype == np.float64
    (y * np.ones((1, 1))).sum().backward()
    assert x32.grad.dtype == np.float32 and w64.grad.dtype == np.float64
    np.testing.assert_array_equal(x32.grad.data, [[0.5, 0.25]])
    np.testing.assert_array_equal(w64.grad.data, [[1.0], [2.0]])

    z = leaf([1.0, 2.0], dtype=np.float32)
    y = z * np.array([3.0, 4.0])  # a float64 array
    assert y.dtype == np.float64
    y.backward(grad=np.ones(2))
    assert z.grad.dtype == np.float32
    np.testing.assert_array_equal(z.grad.data, [3.0, 4.0])

    # a float64 seed for a float32 output is cast to the output's dtype
    z.grad = None
    (z * 2.0).backward(grad=np.ones(2, dtype=np.float64))
    assert z.grad.dtype == np.float32


def test_python_numbers_keep_float32_and_python_floats_lists_are_float64():
    x = leaf([1.0, 2.0], dtype=np.float32)
    assert (x + 1).dtype == np.float32
    assert (2.5 * x).dtype == np.float32
    assert (x**2).dtype == np.float32
    assert Tensor(1.5).dtype == np.float64
    assert Tensor([1.0, 2.0]).dtype == np.float64
    assert Tensor([[1, 2.5]]).dtype == np.float64
    assert Tensor(2.0, requires_grad=True).dtype == np.float64


@pytest.mark.parametrize("value", [3, [1, 2], True, [True, False], np.arange(3), np.array([1, 2], dtype=np.int8)])
def test_int_and_bool_tensors_cannot_require_grad(value):
    with pytest.raises(TypeError, match="floating-point") as info:
        Tensor(value, requires_grad=True)
    assert str(np.asarray(value).dtype) in str(info.value)
    t = Tensor(value)
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad_()
    assert not t.requires_grad
    # as constants they still take part
    x = leaf(np.ones(np.shape(value)))
    (x * t).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.asarray(value, dtype=np.float64))
    assert x.grad.dtype == np.float64


# ----------------------------------------------------------------------------- clear errors


@given(data=st.data())
def test_shape_mismatch_in_add_names_the_op_and_both_shapes(data):
    m, n, k = data.draw(st.tuples(*[st.integers(2, 5)] * 3))
    k = k if k != n else n + 1
    a, b = leaf(np.ones((m, n))), leaf(np.ones((k,)))
    with pytest.raises(ValueError) as info:
        a + b
    message = str(info.value)
    assert message.startswith("add") and str((m, n)) in message and str((k,)) in message
    assert a.grad is None and b.grad is None


@given(data=st.data())
def test_shape_mismatch_in_matmul_names_the_op_and_both_shapes(data):
    m, k1, k2, n = data.draw(st.tuples(*[st.integers(1, 5)] * 4))
    k2 = k2 if k2 != k1 else k1 + 1
    a, b = leaf(np.ones((m, k1))), leaf(np.ones((k2, n)))
    with pytest.raises(ValueError) as info:
        a @ b
    message = str(info.value)
    assert "matmul" in message and str((m, k1)) in message and str((k2, n)) in message


def test_backward_on_non_scalar_without_grad_raises():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"\(2, 3\)") as info:
        (x * 2.0).backward()
    assert "grad" in str(info.value)
    assert x.grad is None


def test_backward_with_wrong_grad_shape_names_both_shapes():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(ValueError) as info:
        (x * 2.0).backward(grad=np.ones(3))  # would broadcast, but is still the wrong shape
    assert "(3,)" in str(info.value) and "(2, 3)" in str(info.value)
    assert x.grad is None


@pytest.mark.parametrize(
    "op, fn",
    [
        ("add", lambda x, v: x + v),
        ("add", lambda x, v: v + x),
        ("sub", lambda x, v: x - v),
        ("sub", lambda x, v: v - x),
        ("mul", lambda x, v: x * v),
        ("mul", lambda x, v: v * x),
        ("div", lambda x, v: x / v),
        ("div", lambda x, v: v / x),
        ("pow", lambda x, v: x**v),
        ("matmul", lambda x, v: x @ v),
        ("matmul", lambda x, v: v @ x),
    ],
)
@pytest.mark.parametrize("bad", ["a", None, {"k": 1}, object()], ids=["str", "None", "dict", "object"])
def test_unsupported_operand_type_names_the_op(op, fn, bad):
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match=op):
        fn(x, bad)


class FailingBackward(Function):
    """Forward is the identity; backward raises."""

    @staticmethod
    def forward(ctx, x):
        return x.data.copy()

    @staticmethod
    def backward(ctx, grad):
        raise ZeroDivisionError("deliberate failure in backward")


def test_exception_during_backward_leaves_every_grad_unchanged():
    a = leaf([1.0, 2.0])
    x = leaf([3.0, 4.0])
    # a first, successful backward so that there are grads to preserve
    (a * x).sum().backward()
    a_grad_before, a_values_before = a.grad, a.grad.data.copy()
    x_values_before = x.grad.data.copy()

    h = (a * x).retain_grad()
    # out = F(h) + a: the backward pass reaches leaf `a` (through the Add) before it runs
    # F.backward, which raises.
    out = (FailingBackward.apply(h) + a).sum()
    with pytest.raises(ZeroDivisionError, match="deliberate"):
        out.backward()  # no retain_graph: nothing may be freed either, since it failed
    assert a.grad is a_grad_before
    np.testing.assert_array_equal(a.grad.data, a_values_before)
    np.testing.assert_array_equal(x.grad.data, x_values_before)
    assert h.grad is None

    # the graph below the failure is intact: a backward through h still works
    a.grad = x.grad = None
    (h * 2.0).sum().backward()
    np.testing.assert_array_equal(a.grad.data, 2.0 * x.data)
    np.testing.assert_array_equal(h.grad.data, [2.0, 2.0])

    fresh = leaf([1.0, 2.0])
    with pytest.raises(ZeroDivisionError):
        (FailingBackward.apply(fresh * 2.0) + fresh).sum().backward()
    assert fresh.grad is None


def test_changing_a_saved_tensor_in_place_makes_backward_raise():
    w = leaf([1.0, 2.0])
    x = leaf([3.0, 4.0])
    y = (w * x).sum()  # Mul saved w and x
    with no_grad():
        w.mul_(10.0)  # an optimizer step before backward
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()
    assert w.grad is None and x.grad is None
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1.0)  # a leaf that requires grad, changed in place with grad mode on
    np.testing.assert_array_equal(w.data, [10.0, 20.0])


def test_detect_anomaly_names_the_op_that_made_a_nan_or_inf():
    x = leaf([-1.0, 4.0])
    with autograd.detect_anomaly():
        with pytest.raises(FloatingPointError, match="Log") as info:
            with np.errstate(invalid="ignore"):
                x.log()
        assert "NaN" in str(info.value)
        z = leaf([0.0, 4.0])
        y = z.sqrt().sum()  # finite forward; d sqrt/dz = inf at 0
        with pytest.raises(FloatingPointError, match="Sqrt"):
            with np.errstate(divide="ignore"):
                y.backward()
        assert z.grad is None
    with np.errstate(divide="ignore"):  # outside the block, no checking
        z.sqrt().sum().backward()
    assert np.isinf(z.grad.data[0])


# ----------------------------------------------------------------------------- import hygiene


def test_import_autograd_pulls_in_numpy_and_nothing_heavier():
    heavy = ["graphviz", "scipy", "torch", "matplotlib", "hypothesis", "pytest", "sklearn", "pandas", "nn"]
    code = (
        "import sys, json, autograd\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules] + "
        "(['<numpy missing>'] if 'numpy' not in sys.modules else [])))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
