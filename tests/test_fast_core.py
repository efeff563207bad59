"""The fast core's promises: one backward formula for arrays and Tensors, and what rests on it.

Covered here:

1. A backward formula gets numpy arrays in a plain ``backward()`` and Tensors under
   ``create_graph=True`` (``grad``, ``ctx.saved_tensors``, ``ctx.output``), and one formula
   written with shared operations gives right first and second derivatives.
2. The higher-order contract for user Functions: reading values (``.data``, ``np.asarray``,
   ``.item()``) or returning an array under ``create_graph`` raises, naming the Function, and
   writes no ``.grad``, while calls that look only at shapes (``np.shape(x)``,
   ``np.zeros_like(x)``) read no value and work; ``@once_differentiable`` gives a right first
   gradient that refuses to be differentiated again.
3. numpy's protocols on Tensor: ufuncs, operators with an ndarray on the left and array
   functions are the library's ops (same gradients as the Tensor methods, and right by
   central differences); comparisons and friends record nothing; look-only functions work
   on values; anything else raises a TypeError naming the function; ``np.asarray`` is
   zero-copy; ``out=`` arrays are written on values.
4. ``x ** number`` is ``PowScalar``: exact for 2 and 3, flat for 0, right for any exponent,
   to second order.
5. A numerically stable sigmoid (float64, float32, log-sigmoid far in the tail).
6. No reference cycles from ops that keep their output: outputs die with their last
   reference, with the garbage collector off.
7. In-place change checks (global clock fast path and full check), also across threads.
8. ``Tensor`` has ``__slots__``; a name given to an intermediate is kept by its graph node.
9. The mixed second derivative of ``a ** b`` at ``b == 0``.

Tolerances. Where the engine and the reference run the very same float operations (the
numpy form and the Tensor method are one op; ``x ** 2`` is ``x * x``) results are compared
exactly. Closed forms computed in numpy are a few float64 roundings away from the engine's
chain of products: ``RTOL = 1e-13`` (unit roundoff is 1.1e-16), with an absolute floor of
``RTOL`` times the size of the terms where a closed form can cancel to near zero.
Gradients checked by central differences use ``autograd.gradcheck``'s defaults (eps 1e-6,
atol 1e-5, rtol 1e-3): values here are bounded ([-3, 3], positive domains >= 0.2, see
``strategies.py``), so the difference error is below 1e-8, far inside them.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Function, Tensor, gradcheck, no_grad, once_differentiable
from autograd.numpy_api import CONSTANT_UFUNCS, DIFFERENTIABLE_UFUNCS

RTOL = 1e-13  # a few float64 roundings; see the module docstring
FEW_EXAMPLES = settings(max_examples=15)


def leaf(value: Any) -> Tensor:
    return Tensor(np.asarray(value, dtype=np.float64), requires_grad=True)


def second_derivative(f: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """d/dx sum(f(x)) and d/dx sum(d/dx sum(f(x))), elementwise for elementwise f."""
    (first,) = autograd.grad(f(x).sum(), x, create_graph=True)
    (second,) = autograd.grad(first.sum(), x)
    return first, second


def is_array_type(kind: type) -> bool:
    """What a plain backward hands a formula: an ndarray (or a numpy scalar for 0-d)."""
    return issubclass(kind, (np.ndarray, np.generic)) and not issubclass(kind, Tensor)


# ============================================================================ 1. arrays or Tensors


class Recording(Function):
    """y = exp(x); saves x and keeps y; backward records the types it is handed."""

    save_output = True
    seen: ClassVar[list[tuple[type, type, type]]] = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.exp(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        y = ctx.output
        Recording.seen.append((type(grad), type(x), type(y)))
        return grad * y


@pytest.mark.parametrize("shape", [(), (3,)])
def test_plain_backward_hands_arrays_to_the_formula(shape):
    x = leaf(np.linspace(-1.0, 1.0, 3).reshape(shape) if shape else 0.3)
    Recording.seen = []
    Recording.apply(x).sum().backward()
    assert len(Recording.seen) == 1
    for kind in Recording.seen[0]:  # grad, saved tensor, output
        assert is_array_type(kind), kind
    np.testing.assert_array_equal(x.grad.data, np.exp(x.data))


@pytest.mark.parametrize("shape", [(), (3,)])
def test_create_graph_backward_hands_tensors_to_the_formula(shape):
    x = leaf(np.linspace(-1.0, 1.0, 3).reshape(shape) if shape else 0.3)
    Recording.seen = []
    first, second = second_derivative(Recording.apply, x)
    assert Recording.seen, "backward did not run"
    for kind in Recording.seen[0]:  # the first-order pass: grad, saved tensor, output
        assert issubclass(kind, Tensor), kind
    np.testing.assert_allclose(first.data, np.exp(x.data), rtol=RTOL)
    np.testing.assert_allclose(second.data, np.exp(x.data), rtol=RTOL)  # (e^x)'' = e^x


class SavedExp(Function):
    """y = e^x; backward is one shared-operation formula: grad * np.exp(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.exp(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.exp(x)


@given(x=S.arrays(S.shapes()))
def test_one_formula_gives_first_and_second_derivative_of_x_exp_x(x):
    t = leaf(x)
    first, second = second_derivative(lambda u: SavedExp.apply(u) * u, t)
    e = np.exp(x)  # (x e^x)' = (1 + x) e^x, (x e^x)'' = (2 + x) e^x
    scale = RTOL * 5 * float(np.max(e))  # the terms are at most (2 + |x|) e^x <= 5 e^x in size
    np.testing.assert_allclose(first.data, (1 + x) * e, rtol=RTOL, atol=scale)
    np.testing.assert_allclose(second.data, (2 + x) * e, rtol=RTOL, atol=scale)


# The library has no Sin/Cos op (np.sin on a Tensor raises, see section 3), so the sin(x) * x
# check uses a Sin/Cos pair written here. ``sin``/``cos`` are the shared operations: numpy's
# on arrays, the Function on Tensors, so ``grad * cos(x)`` is one formula for both.


def sin(x: Any) -> Any:
    return Sin.apply(x) if isinstance(x, Tensor) else np.sin(x)


def cos(x: Any) -> Any:
    return Cos.apply(x) if isinstance(x, Tensor) else np.cos(x)


class Sin(Function):
    """y = sin x;  dy/dx = cos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -(grad * sin(x))


@given(x=S.arrays(S.shapes()))
def test_sin_x_times_x_first_second_and_third_derivative(x):
    t = leaf(x)
    (d1,) = autograd.grad((sin(t) * t).sum(), t, create_graph=True)
    (d2,) = autograd.grad(d1.sum(), t, create_graph=True)
    (d3,) = autograd.grad(d2.sum(), t)  # runs Cos.backward too
    s, c = np.sin(x), np.cos(x)
    scale = RTOL * 6  # the terms are at most 3 + |x| <= 6 in size
    np.testing.assert_allclose(d1.data, x * c + s, rtol=RTOL, atol=scale)
    np.testing.assert_allclose(d2.data, 2 * c - x * s, rtol=RTOL, atol=scale)
    np.testing.assert_allclose(d3.data, -3 * s - x * c, rtol=RTOL, atol=scale)


# ============================================================================ 2. higher-order contract


def exp_with_backward(name: str, formula: Callable[[Any, Any], Any]) -> type[Function]:
    """A user Function (defined in this module) y = e^x whose backward is ``formula(grad, x)``."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.exp(x.data)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return formula(grad, x)

    namespace = {"forward": staticmethod(forward), "backward": staticmethod(backward), "__module__": __name__}
    return type(name, (Function,), namespace)


VALUE_READERS = {
    "saved .data": exp_with_backward("ReadsSavedData", lambda grad, x: grad * np.exp(x.data)),
    "grad .data": exp_with_backward("ReadsGradData", lambda grad, x: grad.data * np.exp(x)),
    "np.asarray(saved)": exp_with_backward("CallsAsarray", lambda grad, x: grad * np.exp(np.asarray(x))),
    "saved .item()": exp_with_backward("CallsItem", lambda grad, x: grad * np.exp(x.item())),
}


def graph_through(fn: type[Function]) -> tuple[Tensor, Tensor, Tensor]:
    """loss = F(x) + w * x at x = 0.4, w = 1.5; backward reaches both leaves (through Mul)
    before the failing F.backward can stop it."""
    x, w = leaf(0.4), leaf(1.5)
    return fn.apply(x) + w * x, x, w


@pytest.mark.parametrize("reader", sorted(VALUE_READERS))
def test_reading_values_in_a_user_backward_works_in_a_plain_backward(reader):
    loss, x, w = graph_through(VALUE_READERS[reader])
    loss.backward()
    assert x.grad.item() == np.exp(0.4) + 1.5  # e^x + w: one rounding each, as numpy
    assert w.grad.item() == 0.4


@pytest.mark.parametrize("how", ["backward", "grad"])
@pytest.mark.parametrize("reader", sorted(VALUE_READERS))
def test_reading_values_in_a_user_backward_under_create_graph_raises(reader, how):
    fn = VALUE_READERS[reader]
    loss, x, w = graph_through(fn)
    with pytest.raises(RuntimeError) as info:
        if how == "backward":
            loss.backward(create_graph=True)
        else:
            autograd.grad(loss, [x, w], create_graph=True)
    message = str(info.value)
    assert fn.__name__ in message and "once_differentiable" in message, message
    assert x.grad is None and w.grad is None  # a failed backward writes no .grad
    loss.backward()  # and frees nothing: the graph still works
    assert x.grad.item() == np.exp(0.4) + 1.5


def square_with_backward(name: str, formula: Callable[[Any, Any], Any]) -> type[Function]:
    """A user Function y = x**2 whose backward is ``formula(grad, x)`` (it should give 2x)."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data * x.data

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return formula(grad, x)

    namespace = {"forward": staticmethod(forward), "backward": staticmethod(backward), "__module__": __name__}
    return type(name, (Function,), namespace)


# Formulas that look only at shapes (np.shape, np.ndim: "work on values", section 3) or make
# constants of x's shape (np.zeros_like, np.ones_like): shared operations that read no value
# of x, so nothing about the second derivative is lost.
SHAPE_LOOKERS = {
    "np.shape": square_with_backward("UsesNpShape", lambda grad, x: np.broadcast_to(grad, np.shape(x)) * 2.0 * x),
    "np.ndim": square_with_backward("UsesNpNdim", lambda grad, x: grad * (2.0 * np.ndim(x) / x.ndim) * x),
    "np.zeros_like": square_with_backward("UsesZerosLike", lambda grad, x: grad * 2.0 * x + np.zeros_like(x)),
    "np.ones_like": square_with_backward("UsesOnesLike", lambda grad, x: grad * 2.0 * x * np.ones_like(x)),
}


@pytest.mark.parametrize("looker", list(SHAPE_LOOKERS))
def test_shape_only_numpy_calls_in_a_user_backward_work_under_create_graph(looker):
    fn = SHAPE_LOOKERS[looker]
    x = leaf([0.4, -1.0, 2.0])
    (plain,) = autograd.grad(fn.apply(x).sum(), x)
    np.testing.assert_array_equal(plain.data, 2.0 * x.data)
    first, second = second_derivative(fn.apply, x)
    np.testing.assert_array_equal(first.data, 2.0 * x.data)
    np.testing.assert_array_equal(second.data, [2.0, 2.0, 2.0])


class ConstantSlope(Function):
    """y = 2x; backward returns a fresh numpy array, right only for an upstream gradient of 1
    (as under .sum()), and never a Tensor."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x.data

    @staticmethod
    def backward(ctx, grad):
        return np.full(ctx.shape, 2.0)


def test_user_backward_returning_an_array_under_create_graph_raises():
    x = leaf([0.5, -1.0, 2.0])
    ConstantSlope.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])
    x.grad = None
    with pytest.raises(RuntimeError, match="ConstantSlope"):
        ConstantSlope.apply(x).sum().backward(create_graph=True)
    with pytest.raises(RuntimeError, match="ConstantSlope"):
        autograd.grad(ConstantSlope.apply(x).sum(), x, create_graph=True)
    assert x.grad is None


class OnceSin(Function):
    """y = sin x, with a first-order-only backward written on arrays."""

    seen: ClassVar[list[tuple[type, type]]] = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        OnceSin.seen.append((type(grad), type(x)))
        return grad * np.cos(x)


@pytest.mark.parametrize("create_graph", [False, True])
def test_once_differentiable_backward_always_gets_arrays_and_a_right_first_gradient(create_graph):
    x = leaf([0.3, -1.2, 2.5])
    OnceSin.seen = []
    (g,) = autograd.grad(OnceSin.apply(x).sum(), x, create_graph=create_graph)
    assert OnceSin.seen and all(is_array_type(kind) for pair in OnceSin.seen for kind in pair), OnceSin.seen
    np.testing.assert_array_equal(g.data, np.cos(x.data))  # 1 * cos x: numpy's own cos


@pytest.mark.parametrize(
    "loss",
    [lambda x: OnceSin.apply(x).sum(), lambda x: (OnceSin.apply(x) * x).sum()],
    ids=["sum(sin x)", "sum(x sin x)"],  # the second sends an upstream gradient that needs grad
)
def test_differentiating_a_once_differentiable_gradient_raises(loss):
    x = leaf([0.3, -1.2, 2.5])
    (g,) = autograd.grad(loss(x), x, create_graph=True)
    with pytest.raises(RuntimeError) as info:
        autograd.grad(g.sum(), x)
    assert "OnceSin" in str(info.value) and "once_differentiable" in str(info.value)


# ============================================================================ 3. numpy protocols

# Each case draws its input arrays and returns (arrays, numpy form, Tensor-method form).
Draw = Callable[[Any], Any]
Case = Callable[[Draw], tuple[list[np.ndarray], Callable[..., Tensor], Callable[..., Tensor]]]

POSITIVE = S.floats(0.2, 3.0)  # log, sqrt: away from the singularity at 0 (strategies.py)
AWAY_FROM_ZERO = S.away_from_zero()  # abs, maximum(t, 0): |x| >= KINK_GAP from the kink


def unary(np_form: Callable, method_form: Callable, elements=None) -> Case:
    def case(draw):
        return [draw(S.arrays(S.shapes(), elements))], np_form, method_form

    return case


def binary(np_form: Callable, method_form: Callable, a_elements=None, b_elements=None) -> Case:
    """Two Tensors of mutually broadcastable shapes."""

    def case(draw):
        shape_a, shape_b = draw(S.broadcastable_pairs()).input_shapes
        return [draw(S.arrays(shape_a, a_elements)), draw(S.arrays(shape_b, b_elements))], np_form, method_form

    return case


def distinct_pair(np_form: Callable, method_form: Callable) -> Case:
    """Two Tensors whose elements are all pairwise 2 * KINK_GAP apart (no ties in min/max)."""

    def case(draw):
        shape_a, shape_b = draw(S.broadcastable_pairs()).input_shapes
        n_a, n_b = int(np.prod(shape_a)), int(np.prod(shape_b))
        both = draw(S.distinct_arrays((n_a + n_b,)))
        return [both[:n_a].reshape(shape_a), both[n_a:].reshape(shape_b)], np_form, method_form

    return case


def ndarray_on_the_left(op: Callable[[Any, Any], Any], reflected: str) -> Case:
    """``ndarray <op> t`` (numpy's operator, deferring to the Tensor) vs ``t.__r<op>__(ndarray)``."""

    def case(draw):
        shape_a, shape_t = draw(S.broadcastable_pairs()).input_shapes
        a = draw(S.arrays(shape_a))
        return [draw(S.arrays(shape_t))], (lambda t: op(a, t)), (lambda t: getattr(t, reflected)(a))

    return case


def ndarray_matmul_on_the_left(draw):
    shape_a, shape_t = draw(S.matmul_shapes()).input_shapes
    a = draw(S.arrays(shape_a))
    return [draw(S.arrays(shape_t))], (lambda t: a @ t), (lambda t: t.__rmatmul__(a))


def matmul_pair(draw):
    shape_a, shape_b = draw(S.matmul_shapes()).input_shapes
    return [draw(S.arrays(shape_a)), draw(S.arrays(shape_b))], np.matmul, (lambda t, u: t @ u)


UFUNC_CASES: dict[str, Case] = {
    "np.exp": unary(np.exp, Tensor.exp),
    "np.log": unary(np.log, Tensor.log, POSITIVE),
    "np.sqrt": unary(np.sqrt, Tensor.sqrt, POSITIVE),
    "np.tanh": unary(np.tanh, Tensor.tanh),
    "np.abs": unary(np.abs, Tensor.abs, AWAY_FROM_ZERO),
    "np.negative": unary(np.negative, lambda t: -t),
    "np.square": unary(np.square, lambda t: t**2),
    "np.maximum(t, 0)": unary(lambda t: np.maximum(t, 0), lambda t: t.maximum(0), AWAY_FROM_ZERO),
    "np.float64(2) * t": unary(lambda t: np.float64(2.0) * t, lambda t: 2.0 * t),
    "np.add": binary(np.add, lambda t, u: t + u),
    "np.subtract": binary(np.subtract, lambda t, u: t - u),
    "np.multiply": binary(np.multiply, lambda t, u: t * u),
    "np.divide": binary(np.divide, lambda t, u: t / u, b_elements=S.away_from_zero(0.5, 3.0)),
    "np.power": binary(np.power, lambda t, u: t**u, S.floats(0.5, 2.0), S.floats(-2.0, 2.0)),
    "np.maximum": distinct_pair(np.maximum, lambda t, u: t.maximum(u)),
    "np.minimum": distinct_pair(np.minimum, lambda t, u: t.minimum(u)),
    "np.matmul": matmul_pair,
    "ndarray + t": ndarray_on_the_left(lambda a, t: a + t, "__radd__"),
    "ndarray - t": ndarray_on_the_left(lambda a, t: a - t, "__rsub__"),
    "ndarray * t": ndarray_on_the_left(lambda a, t: a * t, "__rmul__"),
    "ndarray @ t": ndarray_matmul_on_the_left,
}


def reduction(name: str, distinct: bool = False) -> Case:
    def case(draw):
        shape = draw(S.shapes(min_dims=1))
        x = draw(S.distinct_arrays(shape) if distinct else S.arrays(shape))
        axis = draw(S.axes(x.ndim))
        return (
            [x],
            lambda t: getattr(np, name)(t, axis=axis),
            lambda t: getattr(t, name)(axis=axis),
        )

    return case


def np_reshape(draw):
    x = draw(S.arrays(S.shapes()))
    target = draw(S.reshape_targets(x.shape))
    return [x], (lambda t: np.reshape(t, target)), (lambda t: t.reshape(target))


def np_transpose(draw):
    x = draw(S.arrays(S.shapes()))
    axes = draw(st.one_of(st.none(), st.permutations(range(x.ndim)).map(tuple)))
    return [x], (lambda t: np.transpose(t, axes)), (lambda t: t.transpose(axes))


def np_swapaxes(draw):
    x = draw(S.arrays(S.shapes(min_dims=1)))
    a1, a2 = draw(S.single_axis(x.ndim)), draw(S.single_axis(x.ndim))
    return [x], (lambda t: np.swapaxes(t, a1, a2)), (lambda t: t.swapaxes(a1, a2))


def np_broadcast_to(draw):
    x = draw(S.arrays(S.shapes(max_dims=2)))
    target = (2,) + x.shape
    return [x], (lambda t: np.broadcast_to(t, target)), (lambda t: t.broadcast_to(target))


def np_squeeze(draw):
    shape = draw(S.shapes(max_side=2))  # sides of 1 are common
    x = draw(S.arrays(shape))
    squeezed = tuple(n for n in shape if n != 1)
    return [x], np.squeeze, (lambda t: t.reshape(squeezed))


def np_expand_dims(draw):
    x = draw(S.arrays(S.shapes()))
    axis = draw(st.integers(-x.ndim - 1, x.ndim))
    new = np.expand_dims(x, axis).shape
    return [x], (lambda t: np.expand_dims(t, axis)), (lambda t: t.reshape(new))


def np_where(draw):
    shape_c, shape_a, shape_b = draw(S.broadcastable_pairs(num_shapes=3)).input_shapes
    cond = draw(S.arrays(shape_c).map(lambda v: v > 0))
    a, b = draw(S.arrays(shape_a)), draw(S.arrays(shape_b))
    return [a, b], (lambda t, u: np.where(cond, t, u)), (lambda t, u: autograd.where(cond, t, u))


# clip to [-1, 1]: values keep KINK_GAP from both bounds, where the slope jumps
CLIP_SAFE = st.one_of(S.floats(-3.0, -1.0 - S.KINK_GAP), S.floats(-0.99, 0.99), S.floats(1.0 + S.KINK_GAP, 3.0))


def np_clip(draw):
    x = draw(S.arrays(S.shapes(), CLIP_SAFE))
    return [x], (lambda t: np.clip(t, -1.0, 1.0)), (lambda t: t.clip(-1.0, 1.0))


def np_concatenate(draw):
    shape = draw(S.shapes(min_dims=1))
    axis = draw(S.single_axis(len(shape)))
    other = list(shape)
    other[axis] = draw(st.integers(1, S.MAX_SIDE))
    a, b = draw(S.arrays(shape)), draw(S.arrays(tuple(other)))
    return (
        [a, b],
        lambda t, u: np.concatenate([t, u], axis=axis),
        lambda t, u: autograd.concatenate([t, u], axis=axis),
    )


def np_stack(draw):
    shape = draw(S.shapes())
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    a, b = draw(S.arrays(shape)), draw(S.arrays(shape))
    return [a, b], (lambda t, u: np.stack([t, u], axis=axis)), (lambda t, u: autograd.stack([t, u], axis=axis))


ARRAY_FUNCTION_CASES: dict[str, Case] = {
    "np.sum": reduction("sum"),
    "np.mean": reduction("mean"),
    "np.max": reduction("max", distinct=True),
    "np.min": reduction("min", distinct=True),
    "np.reshape": np_reshape,
    "np.transpose": np_transpose,
    "np.swapaxes": np_swapaxes,
    "np.broadcast_to": np_broadcast_to,
    "np.squeeze": np_squeeze,
    "np.expand_dims": np_expand_dims,
    "np.where": np_where,
    "np.clip": np_clip,
    "np.concatenate": np_concatenate,
    "np.stack": np_stack,
}


def assert_numpy_form_is_the_op(case: Case, data: st.DataObject) -> None:
    """The numpy form returns a recorded Tensor with the method form's value and gradients
    (exactly: both run the same op), and its gradients pass central differences."""
    values, np_form, method_form = case(data.draw)
    inputs = [leaf(v) for v in values]
    out = np_form(*inputs)
    assert isinstance(out, Tensor), type(out)
    assert out.grad_fn is not None and out.requires_grad
    ref = method_form(*inputs)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    np.testing.assert_array_equal(out.data, ref.data)
    v = data.draw(S.weights(out.shape), label="v")
    via_numpy = autograd.grad((out * v).sum(), inputs)
    via_method = autograd.grad((ref * v).sum(), inputs)
    for g_np, g_method in zip(via_numpy, via_method):
        np.testing.assert_array_equal(g_np.data, g_method.data)
    assert gradcheck(np_form, *[leaf(v) for v in values])


@pytest.mark.parametrize("name", list(UFUNC_CASES))
@FEW_EXAMPLES
@given(data=st.data())
def test_ufuncs_and_ndarray_operators_are_the_ops(name, data):
    assert_numpy_form_is_the_op(UFUNC_CASES[name], data)


@pytest.mark.parametrize("name", list(ARRAY_FUNCTION_CASES))
@FEW_EXAMPLES
@given(data=st.data())
def test_array_functions_are_the_ops(name, data):
    assert_numpy_form_is_the_op(ARRAY_FUNCTION_CASES[name], data)


@FEW_EXAMPLES
@given(x=S.arrays(S.shapes(), S.floats(0.5, 2.0)), c=st.sampled_from([2.5, -1.5, 3.0]))
def test_np_power_with_a_number_matches_x_to_the_number(x, c):
    t = leaf(x)
    via_numpy, via_operator = np.power(t, c), t**c
    assert isinstance(via_numpy, Tensor) and via_numpy.grad_fn is not None
    (g_np,) = autograd.grad(via_numpy.sum(), t)
    (g_op,) = autograd.grad(via_operator.sum(), t)
    # possibly two different ops (Pow, PowScalar) for the same c * x**(c - 1): a few roundings
    np.testing.assert_allclose(via_numpy.data, via_operator.data, rtol=RTOL)
    np.testing.assert_allclose(g_np.data, g_op.data, rtol=RTOL)


NO_GRAPH = {
    "t > 0": (lambda t, u: t > 0, lambda a, b: a > 0),
    "t == u": (lambda t, u: t == u, lambda a, b: a == b),
    "np.greater": (np.greater, np.greater),
    "np.less_equal(ndarray, t)": (lambda t, u: np.less_equal(np.zeros(4), t), lambda a, b: np.zeros(4) <= a),
    "np.isnan": (lambda t, u: np.isnan(t), lambda a, b: np.isnan(a)),
    "np.isfinite": (lambda t, u: np.isfinite(t), lambda a, b: np.isfinite(a)),
    "np.sign": (lambda t, u: np.sign(t), lambda a, b: np.sign(a)),
    "np.floor": (lambda t, u: np.floor(t), lambda a, b: np.floor(a)),
}


@pytest.mark.parametrize("name", list(NO_GRAPH))
def test_comparisons_and_piecewise_constant_ufuncs_record_nothing(name):
    on_tensors, on_arrays = NO_GRAPH[name]
    a, b = np.array([-1.5, 0.0, 2.25, np.nan]), np.array([-1.5, 1.0, 2.0, 0.0])
    with np.errstate(invalid="ignore"):
        out = on_tensors(leaf(a), leaf(b))
        expected = on_arrays(a, b)
    assert isinstance(out, Tensor)
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_array_equal(out.data, expected)


def test_look_only_functions_work_on_values():
    t = leaf(np.arange(6.0).reshape(2, 3))
    assert np.shape(t) == (2, 3)
    assert np.ndim(t) == 2
    assert np.allclose(t, t)
    assert not np.allclose(t, t + 1.0)
    assert np.allclose(t, np.arange(6.0).reshape(2, 3))


UNSUPPORTED_UFUNCS = [
    u
    for u in (np.sin, np.cos, np.arctan, np.log1p, np.expm1)
    if u not in DIFFERENTIABLE_UFUNCS and u not in CONSTANT_UFUNCS
]
UNSUPPORTED_FUNCTIONS = {
    "trapezoid": lambda t: np.trapezoid(t),
    "convolve": lambda t: np.convolve(t, t),
    "add.reduce": lambda t: np.add.reduce(t),
}


@pytest.mark.parametrize("ufunc", UNSUPPORTED_UFUNCS, ids=lambda u: u.__name__)
def test_ufunc_without_an_op_raises_a_type_error_naming_it(ufunc):
    with pytest.raises(TypeError, match=f"np.{ufunc.__name__}"):
        ufunc(leaf([0.5, 1.0]))


@pytest.mark.parametrize("name", list(UNSUPPORTED_FUNCTIONS))
def test_numpy_function_without_an_op_raises_a_type_error_naming_it(name):
    with pytest.raises(TypeError) as info:
        UNSUPPORTED_FUNCTIONS[name](leaf([0.5, 1.0]))
    assert name in str(info.value), str(info.value)


def test_np_asarray_is_zero_copy():
    t = leaf([1.0, 2.0, 3.0])
    assert np.asarray(t) is t.data
    assert np.shares_memory(np.asarray(t), t.data)


def test_in_place_operators_on_an_ndarray_take_tensor_values():
    a = np.ones(3)
    before = a
    t = leaf([1.0, 2.0, 3.0])
    a -= t
    assert a is before and type(a) is np.ndarray
    np.testing.assert_array_equal(a, [0.0, -1.0, -2.0])
    a *= Tensor([2.0, 2.0, 2.0])
    assert a is before
    np.testing.assert_array_equal(a, [0.0, -2.0, -4.0])
    assert t.grad_fn is None and t.grad is None


def test_ufunc_out_array_is_filled_and_out_tensor_is_refused():
    t = leaf([1.0, 2.0, 3.0])
    arr = np.empty(3)
    result = np.add(t, np.array([10.0, 20.0, 30.0]), out=arr)
    assert result is arr
    np.testing.assert_array_equal(arr, [11.0, 22.0, 33.0])
    np.multiply(np.array([2.0, 2.0, 2.0]), t, out=arr)
    np.testing.assert_array_equal(arr, [2.0, 4.0, 6.0])
    target = Tensor(np.zeros(3))
    with pytest.raises(TypeError):
        np.add(t, 1.0, out=target)
    with pytest.raises(TypeError):
        np.add(np.ones(3), np.ones(3), out=target)
    np.testing.assert_array_equal(target.data, np.zeros(3))


# ============================================================================ 4. x ** number


def test_x_to_a_number_is_pow_scalar():
    x = leaf([1.0, 2.0])
    for c in (3, 2, 0.5, -1, 0, 2.0):
        assert (x**c).grad_fn.fn.__name__ == "PowScalar", c


@given(x=S.arrays(S.shapes()))
def test_square_and_cube_are_exact_multiplies(x):
    t = leaf(x)
    np.testing.assert_array_equal((t**2).data, x * x)
    np.testing.assert_array_equal((t**3).data, x * x * x)
    (g2,) = autograd.grad((t**2).sum(), t)
    (g3,) = autograd.grad((t**3).sum(), t)
    np.testing.assert_array_equal(g2.data, 2 * x)
    np.testing.assert_array_equal(g3.data, 3 * (x * x))


@pytest.mark.parametrize("zero", [0, 0.0])
def test_x_to_the_zero_has_zero_gradient_even_at_zero(zero):
    x = leaf([0.0, -0.0, 1.5, -2.0])
    y = x**zero
    np.testing.assert_array_equal(y.data, np.ones(4))
    y.sum().backward()
    assert not np.isnan(x.grad.data).any()
    np.testing.assert_array_equal(x.grad.data, np.zeros(4))


EXPONENTS = [0.5, -0.5, 1.5, -1.5, 2.5, -2.0, -1, 1, 2, 3, 4]


@pytest.mark.parametrize("c", EXPONENTS)
@FEW_EXAMPLES
@given(data=st.data())
def test_x_to_a_number_first_and_second_derivatives(c, data):
    # Non-integer exponents need x > 0; negative ones keep x away from the pole at 0.
    elements = S.away_from_zero(0.5, 3.0) if float(c).is_integer() else S.floats(0.5, 3.0)
    x = data.draw(S.arrays(S.shapes(), elements), label="x")
    assert gradcheck(lambda t: t**c, leaf(x))
    first, second = second_derivative(lambda t: t**c, leaf(x))
    np.testing.assert_allclose(first.data, c * x ** (c - 1), rtol=RTOL)
    np.testing.assert_allclose(second.data, c * (c - 1) * x ** (c - 2), rtol=RTOL)


# ============================================================================ 5. stable sigmoid


def test_sigmoid_keeps_relative_precision_far_in_the_negative_tail():
    truth = 1.0 / (1.0 + np.exp(40.0))  # 4.25e-18: 1 + e^40 is exact to one rounding
    value = Tensor(-40.0).sigmoid().item()
    assert value != 0.0
    assert abs(value - truth) <= 1e-15 * truth


def test_float32_sigmoid_keeps_relative_precision():
    s = Tensor(np.float32(-16.0)).sigmoid()
    assert s.dtype == np.float32
    truth = 1.0 / (1.0 + np.exp(16.0))  # float64, exact to ~1e-16
    assert abs(float(s.item()) - truth) <= 1e-6 * truth  # float32 carries ~6e-8 relative


def test_log_sigmoid_at_minus_50_has_the_right_value_and_gradient():
    x = leaf(-50.0)
    y = x.sigmoid().log()
    y.backward()
    # log sigmoid(x) = -log(1 + e^-x) = x - log1p(e^x); its slope is 1 - sigmoid(x)
    np.testing.assert_allclose(y.item(), -50.0 - np.log1p(np.exp(-50.0)), rtol=1e-12)
    assert np.isfinite(x.grad.item())
    np.testing.assert_allclose(x.grad.item(), 1.0, rtol=1e-12)


def test_sigmoid_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([-700.0, -50.0, -40.0, -16.0, -1.0, 0.0, 1e-8, 3.0, 16.0, 40.0, 700.0])
    x = leaf(values)
    y = x.sigmoid()
    (y.log().sum()).backward()
    xt = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    yt = torch.sigmoid(xt)
    yt.log().sum().backward()
    # each is within an ulp or so of the true value: 1e-15 relative leaves room for a few
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-15, atol=1e-300)
    x32 = Tensor(np.float32(-16.0)).sigmoid()
    t32 = torch.sigmoid(torch.tensor(-16.0, dtype=torch.float32))
    np.testing.assert_allclose(float(x32.item()), float(t32.item()), rtol=1e-6)


# ============================================================================ 6. no reference cycles

BIG = np.random.default_rng(0).uniform(0.5, 2.0, (1000, 1000))  # positive: sqrt, pow are defined
OUTPUT_KEEPERS = {
    "exp": lambda x, e: x.exp(),
    "sqrt": lambda x, e: x.sqrt(),
    "tanh": lambda x, e: x.tanh(),
    "sigmoid": lambda x, e: x.sigmoid(),
    "softmax": lambda x, e: x.softmax(axis=-1),
    "log_softmax": lambda x, e: x.log_softmax(axis=-1),
    "pow (Tensor exponent)": lambda x, e: x**e,
}


@pytest.mark.parametrize("op", list(OUTPUT_KEEPERS))
def test_output_keeping_ops_make_no_reference_cycle(op):
    make = OUTPUT_KEEPERS[op]
    x, e = leaf(BIG), leaf(1.5)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(50):
            y = make(x, e)
            assert y.grad_fn is not None  # a recorded node that keeps the output
            alive, alive_data = weakref.ref(y), weakref.ref(y.data)
            del y
            # without the garbage collector, only reference counting can free them: a cycle
            # (output -> node -> output) would keep both, 8 MB per iteration
            assert alive() is None, f"{op}: the output Tensor outlived its last reference ({i})"
            assert alive_data() is None, f"{op}: the output array outlived the Tensor ({i})"
    finally:
        if was_enabled:
            gc.enable()


# ============================================================================ 7. in-place change checks


def _exp_output_changed(w, x):
    y = (w * x).exp()  # Exp keeps y for its backward
    return y.sum(), "Exp", lambda: y.add_(1.0)


# name -> (w, x) -> (loss, the op whose saved value changes, the in-place change)
IN_PLACE_CHANGES = {
    "Mul saved w; w.add_": lambda w, x: ((w * x).sum(), "Mul", lambda: w.add_(1.0)),
    "MatMul saved a view of w; w.copy_": lambda w, x: (
        (x.reshape(1, 3) @ w.reshape(3, 1)).sum(),
        "MatMul",
        lambda: w.copy_(np.zeros(3)),
    ),
    "Mul saved w; w.detach().mul_": lambda w, x: ((w * x).sum(), "Mul", lambda: w.detach().mul_(2.0)),
    "Exp kept its output; y.add_": _exp_output_changed,
}


@pytest.mark.parametrize("name", list(IN_PLACE_CHANGES))
def test_changing_a_saved_tensor_in_place_makes_backward_raise_naming_the_op(name):
    w, x = leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.0, 0.25])
    loss, op, change = IN_PLACE_CHANGES[name](w, x)
    with no_grad():
        change()
    with pytest.raises(RuntimeError, match="modified in place") as info:
        loss.backward()
    assert op in str(info.value)
    assert w.grad is None and x.grad is None


def test_changing_an_unrelated_tensor_in_place_does_not_raise():
    w, x = leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.0, 0.25])
    other, another = leaf([7.0, 8.0]), leaf([9.0])
    with no_grad():
        w.add_(1.0)  # before forward: the forward sees the new values, nothing stale
    loss = ((w * x).tanh() * w).sum()
    with no_grad():  # the clock moves, so backward checks each saved tensor, and finds none changed
        other.add_(1.0)
        another.copy_(np.array([0.0]))
    loss.backward()
    wv, xv = w.data, x.data
    th = np.tanh(wv * xv)
    slope = 1 - th * th
    np.testing.assert_allclose(w.grad.data, th + wv * slope * xv, rtol=RTOL)
    np.testing.assert_allclose(x.grad.data, wv * slope * wv, rtol=RTOL)
    assert other.grad is None and another.grad is None


N_THREADS, N_STEPS = 4, 50


def test_threads_updating_their_own_parameters_see_no_spurious_in_place_error():
    """Each thread: forward, backward, then an in-place step of its own parameters. The
    barriers order the steps so that odd threads' in-place steps happen between even
    threads' forward and backward: those backward passes see the clock moved and run the
    full check, which must find nothing of theirs changed."""
    barrier = threading.Barrier(N_THREADS, timeout=30)
    errors: list[BaseException] = []
    mismatches: list[str] = []

    def worker(k: int) -> None:
        rng = np.random.default_rng(k)
        w = leaf(rng.standard_normal((3, 2)))
        x = Tensor(rng.standard_normal((4, 3)))
        try:
            for step in range(N_STEPS):
                wv = w.data.copy()
                loss = ((x @ w).tanh() ** 2).sum()  # MatMul saves w; Tanh keeps its output
                barrier.wait()  # everyone has done its forward
                for turn in (1, 0):  # odd threads first, then even ones
                    if k % 2 == turn:
                        loss.backward()
                        th = np.tanh(x.data @ wv)
                        expected = x.data.T @ (2 * th * (1 - th * th))
                        if not np.allclose(w.grad.data, expected, rtol=RTOL, atol=0):
                            mismatches.append(f"thread {k} step {step}")
                        with no_grad():
                            w.sub_(0.01 * w.grad.data)
                        w.grad = None
                    barrier.wait()
        except BaseException as err:  # noqa: BLE001 (report any error from the thread)
            errors.append(err)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    assert not real, real
    assert not errors, errors
    assert not mismatches, mismatches


# ============================================================================ 8. slots, names


def test_tensor_has_slots_and_no_instance_dict():
    t = Tensor(1.0)
    with pytest.raises(AttributeError):
        t.__dict__  # noqa: B018
    with pytest.raises(AttributeError):
        t.some_new_attribute = 1


def test_a_named_intermediate_keeps_its_name_on_the_graph_node():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.name = "y"
    assert y.name == "y"
    node = y.grad_fn
    assert node.output_name == "y"
    del y
    assert node.output_name == "y"  # still there once the tensor is gone


# ============================================================================ 9. a ** b at b == 0


@pytest.mark.parametrize("a_value", [2.0, 0.5, 3.0])
def test_mixed_second_derivative_of_a_to_the_b_at_b_zero(a_value):
    a, b = leaf(a_value), leaf(0.0)
    (da,) = autograd.grad((a**b).sum(), a, create_graph=True)
    assert da.item() == 0.0  # b * a**(b - 1) at b = 0
    (dadb,) = autograd.grad(da.sum(), b)
    # d/db (b a**(b-1)) = a**(b-1) (1 + b log a) = 1/a at b = 0
    np.testing.assert_allclose(dadb.item(), 1.0 / a_value, rtol=RTOL)
    if a_value == 2.0:
        assert dadb.item() == 0.5
