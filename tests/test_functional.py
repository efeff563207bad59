"""autograd.functional: grad, value_and_grad, elementwise_grad, vjp, jvp, jacobian, hessian, hvp.

1. Random programs over the whole op set (the fuzzer's generator and interpreter from
   test_fuzz.py, imported): ``grad(f)`` equals central differences of the numpy program,
   at the fuzzer's tolerances; forward- and reverse-mode Jacobians of the program's last
   value agree; ``jvp`` equals the Jacobian times the tangent and ``vjp`` the cotangent
   times the Jacobian.
2. Second order by composition: ``grad(grad(f))``, ``jacobian(grad(f))`` and ``hessian(f)``
   agree, the Hessian is symmetric, ``hvp`` equals ``H v``, all against central differences
   of the gradient.
3. Forward mode is one pass: the ops ``jvp`` applies do not grow with the input's size (a
   Jacobian would), and stay within a constant factor of the ops ``f`` applies.
4. torch.func as an optional oracle; errors that name the transform.
"""

from __future__ import annotations

import numpy as np
import pytest
import strategies as S
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from test_fuzz import GAP, GRAD_ATOL, GRAD_RTOL, VMAX, _central_differences, _numpy_run, programs, run

from autograd import Function, Tensor
from autograd.functional import elementwise_grad, grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp

# Each program here costs several passes (central differences, one per Jacobian row/column):
# fewer programs than the fuzzer itself runs, which checks the same ops' gradients 10x more.
FUZZ = settings(
    max_examples=max(10, settings.default.max_examples // 2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    deadline=None,
)
JAC_TOL = {"rtol": 1e-10, "atol": 1e-10}  # forward vs reverse: the same derivatives, summed in other orders


def usable(program) -> bool:
    """The fuzzer's conditions: finite, bounded values, away from kinks and ties."""
    values, _, kinks = _numpy_run(program, program.inputs)
    return all(np.all(np.isfinite(v)) and np.all(np.abs(v) <= VMAX) for v in values) and kinks.margin >= GAP


def loss_fn(program):
    """The program's loss as a function of its inputs."""

    def f(*xs):
        return run(program, "ag", [x if isinstance(x, Tensor) else Tensor(x) for x in xs])[1]

    return f


def last_value_fn(program, i: int):
    """The program's last value as a function of input i (the others fixed)."""

    def f(x):
        xs = [Tensor(v) for v in program.inputs]
        xs[i] = x
        return run(program, "ag", xs)[0][-1]

    return f


# ----------------------------------------------------------------------------- 1. random programs


@FUZZ
@given(programs())
def test_grad_of_random_programs_equals_central_differences(program):
    if not usable(program):
        reject()
    _, _, kinks = _numpy_run(program, [x.astype(np.longdouble) for x in program.inputs])
    wanted = [i for i, rg in enumerate(program.requires_grad) if rg]
    f = loss_fn(program)
    out = f(*[Tensor(x) for x in program.inputs])
    if not isinstance(out, Tensor):
        reject()
    grads = grad(f, argnums=tuple(wanted))(*program.inputs)
    numeric = _central_differences(program, kinks)
    for i, g in zip(wanted, grads):
        assert isinstance(g, np.ndarray) and g.shape == program.inputs[i].shape
        np.testing.assert_allclose(g, numeric[i].astype(np.float64), rtol=GRAD_RTOL, atol=GRAD_ATOL, err_msg=f"d/dv{i}")


@FUZZ
@given(programs(), st.data())
def test_forward_and_reverse_jacobians_agree_and_match_jvp_and_vjp(program, data):
    if not usable(program):
        reject()
    i = data.draw(st.integers(0, len(program.inputs) - 1), label="input")
    x = program.inputs[i]
    f = last_value_fn(program, i)
    reverse = jacobian(f)(x)
    forward = jacobian(f, mode="forward")(x)
    out_shape = f(Tensor(x)).shape
    assert reverse.shape == forward.shape == out_shape + x.shape
    np.testing.assert_allclose(forward, reverse, **JAC_TOL)

    flat = reverse.reshape(int(np.prod(out_shape)), x.size)
    t = data.draw(S.arrays(x.shape, S.floats(-1.0, 1.0)), label="tangent")
    value, tangent_out = jvp(f, (x,), (t,))
    np.testing.assert_allclose(value, f(Tensor(x)).data, **JAC_TOL)
    np.testing.assert_allclose(tangent_out, (flat @ t.ravel()).reshape(out_shape), **JAC_TOL)

    v = data.draw(S.arrays(out_shape, S.floats(-1.0, 1.0)), label="cotangent")
    _, vjp_fn = vjp(f, x)
    (cotangent_in,) = vjp_fn(v)
    np.testing.assert_allclose(cotangent_in, (v.ravel() @ flat).reshape(x.shape), **JAC_TOL)


# ----------------------------------------------------------------------------- 2. second order


def smooth(x):
    """A scalar function with every second derivative non-zero: sum(tanh(x) * exp(x/2)) + (sum x)**3 / 10."""
    return ((x.tanh() * (x * 0.5).exp()).sum() + x.sum() ** 3 / 10.0).sigmoid()


@settings(deadline=None)
@given(S.arrays(S.shapes(min_dims=1, max_dims=2), S.floats(-1.5, 1.5)), st.data())
def test_hessian_grad_of_grad_and_hvp_agree_with_differences_of_the_gradient(x, data):
    H = hessian(smooth)(x)
    assert H.shape == x.shape + x.shape
    flat = H.reshape(x.size, x.size)
    np.testing.assert_allclose(flat, flat.T, rtol=1e-12, atol=1e-12)  # symmetric
    np.testing.assert_allclose(jacobian(grad(smooth))(x), H, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jacobian(grad(smooth), mode="forward")(x), H, **JAC_TOL)  # forward over reverse
    # central differences of the (reverse-mode) gradient, column by column
    g = grad(smooth)
    eps = 1e-6
    numeric = np.zeros_like(flat)
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        numeric[:, k] = ((g(x + step.reshape(x.shape)) - g(x - step.reshape(x.shape))) / (2 * eps)).ravel()
    np.testing.assert_allclose(flat, numeric, rtol=1e-6, atol=1e-7)
    v = data.draw(S.arrays(x.shape, S.floats(-1.0, 1.0)), label="v")
    value, hv = hvp(smooth, x, v)
    np.testing.assert_allclose(value, smooth(Tensor(x)).data, rtol=1e-15)
    np.testing.assert_allclose(hv, (flat @ v.ravel()).reshape(x.shape), rtol=1e-10, atol=1e-12)


@given(S.floats(-2.0, 2.0))
def test_grad_of_grad_of_a_scalar_function(x0):
    def cube_exp(x):
        return x**3 * x.exp()

    x = np.array(x0)
    second = grad(grad(cube_exp))(x)  # (x^3 e^x)'' = (x^3 + 6x^2 + 6x) e^x
    np.testing.assert_allclose(second, (x0**3 + 6 * x0**2 + 6 * x0) * np.exp(x0), rtol=1e-12, atol=1e-12)
    third = grad(grad(grad(cube_exp)))(x)  # (x^3 + 9x^2 + 18x + 6) e^x
    np.testing.assert_allclose(third, (x0**3 + 9 * x0**2 + 18 * x0 + 6) * np.exp(x0), rtol=1e-11, atol=1e-11)


# ----------------------------------------------------------------------------- 3. forward mode is one pass


class Counting:
    """Counts Function.apply calls (every op application)."""

    def __init__(self, monkeypatch):
        self.count = 0
        original = Function.apply.__func__

        def counted(cls, *args):
            self.count += 1
            return original(cls, *args)

        monkeypatch.setattr(Function, "apply", classmethod(counted))


def program_for_counting(x):
    return ((x.tanh() * x).exp() / (x * x + 1.0)).sum(axis=-1).sqrt()


def test_jvp_applies_a_number_of_ops_independent_of_the_input_size(monkeypatch):
    counter = Counting(monkeypatch)
    counts = {}
    for n in (3, 30, 300):
        x = np.linspace(-1.0, 1.0, 2 * n).reshape(2, n)
        counter.count = 0
        program_for_counting(Tensor(x))
        forward_ops = counter.count
        counter.count = 0
        jvp(program_for_counting, (x,), (np.ones_like(x),))
        counts[n] = (forward_ops, counter.count)
    assert len({c for c in counts.values()}) == 1, counts  # no op count grows with n: no Jacobian
    forward_ops, jvp_ops = counts[3]
    # every op here has a jvp rule (plain numpy on the tangents): jvp applies exactly f's own ops
    assert jvp_ops == forward_ops, counts


def test_jvp_through_ops_without_a_rule_stays_a_constant_factor(monkeypatch):
    """cumsum, softmax and where have no jvp rule: their tangents come from their backward
    (double vjp on the one node), a few ops each, still independent of the input's size."""
    counter = Counting(monkeypatch)

    def f(x):
        return (x.cumsum(axis=-1).softmax() * x).max(axis=-1)

    counts = {}
    for n in (3, 30):
        x = np.linspace(-1.0, 1.0, 2 * n).reshape(2, n)
        counter.count = 0
        f(Tensor(x))
        forward_ops = counter.count
        counter.count = 0
        _, t = jvp(f, (x,), (np.ones_like(x),))
        counts[n] = (forward_ops, counter.count)
    assert len(set(counts.values())) == 1, counts
    forward_ops, jvp_ops = counts[3]
    assert forward_ops < jvp_ops <= 12 * forward_ops, counts


def test_jvp_uses_an_ops_jvp_rule_when_it_has_one():
    class Triple(Function):
        """y = 3 x;  dy/dx = 3"""

        @staticmethod
        def forward(ctx, x):
            return 3.0 * x.data

        @staticmethod
        def backward(ctx, grad):
            raise AssertionError("forward mode used the backward formula although a jvp rule exists")

        @staticmethod
        def jvp(ctx, out, tangents, x):
            (t,) = tangents
            return 3.0 * t

    _, t = jvp(lambda x: Triple.apply(x), (np.array([1.0, 2.0]),), (np.array([1.0, -1.0]),))
    np.testing.assert_array_equal(t, [3.0, -3.0])


def test_jvp_through_a_user_function_with_only_a_backward():
    class Cube(Function):
        """y = x**3;  dy/dx = 3 x**2"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.data**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3.0 * x * x

    x = np.array([1.0, -2.0, 0.5])
    _, t = jvp(lambda x: Cube.apply(x), (x,), (np.ones(3),))
    np.testing.assert_allclose(t, 3 * x**2, rtol=1e-15)


# ----------------------------------------------------------------------------- arguments and results


def test_tensors_in_give_tensors_out_and_arrays_give_arrays():
    f = lambda x: (x * x).sum()  # noqa: E731
    assert isinstance(grad(f)(np.array([1.0, 2.0])), np.ndarray)
    g = grad(f)(Tensor([1.0, 2.0]))
    assert isinstance(g, Tensor) and not g.requires_grad
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    np.testing.assert_array_equal(grad(f)(np.array([1, 2])), [2.0, 4.0])  # integers: at their float value


def test_grad_leaves_the_callers_tensors_grad_alone():
    w = Tensor([1.0, 2.0], requires_grad=True)
    g = grad(lambda w: (w**2).sum())(w)
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    assert w.grad is None


def test_value_and_grad_has_aux_and_argnums():
    def f(x, y):
        loss = (x * y).sum()
        return loss, {"x_norm": float((x * x).sum().item())}

    (value, aux), (gx, gy) = value_and_grad(f, argnums=(0, 1), has_aux=True)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert float(value.item()) == 11.0 and aux == {"x_norm": 5.0}
    np.testing.assert_array_equal(gx, [3.0, 4.0])
    np.testing.assert_array_equal(gy, [1.0, 2.0])
    g1, aux1 = grad(f, argnums=1, has_aux=True)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(g1, [1.0, 2.0])


def test_a_function_that_ignores_its_argument_has_zero_derivatives():
    f = lambda x: Tensor(3.0) * 2.0  # noqa: E731
    np.testing.assert_array_equal(grad(f)(np.array([1.0, 2.0])), [0.0, 0.0])
    np.testing.assert_array_equal(jacobian(lambda x: Tensor([1.0, 2.0]))(np.ones(3)), np.zeros((2, 3)))
    _, t = jvp(lambda x: Tensor([1.0, 2.0]), (np.ones(3),), (np.ones(3),))
    np.testing.assert_array_equal(t, [0.0, 0.0])


def test_elementwise_grad():
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(elementwise_grad(lambda x: x.tanh())(x), 1 - np.tanh(x) ** 2, rtol=1e-14)


def test_jacobian_of_several_arguments_and_of_a_matrix_function():
    a, b = np.arange(6.0).reshape(2, 3) / 6, np.arange(3.0)
    ja, jb = jacobian(lambda a, b: (a @ b).tanh(), argnums=(0, 1))(a, b)
    assert ja.shape == (2, 2, 3) and jb.shape == (2, 3)
    fa, fb = jacobian(lambda a, b: (a @ b).tanh(), argnums=(0, 1), mode="forward")(a, b)
    np.testing.assert_allclose(fa, ja, **JAC_TOL)
    np.testing.assert_allclose(fb, jb, **JAC_TOL)


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: grad(lambda x: x * 2)(np.ones(3)), ValueError, r"grad: f returned shape \(3,\).*jacobian"),
        (lambda: grad(lambda x: 3.0)(np.ones(3)), TypeError, "grad: f returned a float, not a Tensor"),
        (lambda: grad(lambda x: x.sum(), has_aux=True)(np.ones(3)), TypeError, "has_aux=True needs f to return a pair"),
        (lambda: grad(lambda x: x.sum(), argnums=2)(np.ones(3)), ValueError, "argnums 2 does not fit"),
        (lambda: grad(lambda x: x.sum())(np.array(["a"])), TypeError, "grad: cannot differentiate"),
        (lambda: jacobian(lambda x: x, mode="sideways"), ValueError, "jacobian: mode must be"),
        (lambda: jvp(lambda x: x, (np.ones(3),), (np.ones(2),)), ValueError, r"jvp: tangent 0 has shape \(2,\)"),
        (lambda: jvp(lambda x: x, (np.ones(3),), ()), ValueError, "jvp: 1 primals but 0 tangents"),
        (lambda: vjp(lambda x: x * 2, np.ones(3))[1](np.ones(2)), ValueError, r"vjp: the cotangent has shape \(2,\)"),
        (lambda: hvp(lambda x: (x * x).sum(), np.ones(3), np.ones(2)), ValueError, r"hvp: v has shape \(2,\)"),
        (lambda: hessian(lambda x, y: x.sum(), argnums=(0, 1)), TypeError, "hessian: argnums must be one position"),
    ],
    ids=["grad-non-scalar", "grad-not-tensor", "has-aux", "argnums", "strings", "mode", "jvp-shape", "jvp-count",
         "vjp-shape", "hvp-shape", "hessian-argnums"],
)  # fmt: skip
def test_errors_name_the_transform_and_what_to_write(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# ----------------------------------------------------------------------------- 4. torch.func


def test_against_torch_func():
    torch = pytest.importorskip("torch")
    x = np.array([0.3, -1.2, 0.8])
    v = np.array([1.0, 0.5, -2.0])

    def ours(x):
        return (x.tanh() * x.exp()).sum() + (x * x).sum().sqrt()

    def theirs(x):
        return (x.tanh() * x.exp()).sum() + (x * x).sum().sqrt()

    tx, tv = torch.tensor(x), torch.tensor(v)
    np.testing.assert_allclose(grad(ours)(x), torch.func.grad(theirs)(tx).numpy(), rtol=1e-13)
    np.testing.assert_allclose(hessian(ours)(x), torch.func.hessian(theirs)(tx).numpy(), rtol=1e-12, atol=1e-14)

    def vec_ours(x):
        return (x.exp() * x[0]).softmax()

    def vec_theirs(x):
        return (x.exp() * x[0]).softmax(-1)

    np.testing.assert_allclose(
        jacobian(vec_ours, mode="forward")(x), torch.func.jacfwd(vec_theirs)(tx).numpy(), rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(jacobian(vec_ours)(x), torch.func.jacrev(vec_theirs)(tx).numpy(), rtol=1e-12, atol=1e-14)
    _, t_ours = jvp(vec_ours, (x,), (v,))
    _, t_theirs = torch.func.jvp(vec_theirs, (tx,), (tv,))
    np.testing.assert_allclose(t_ours, t_theirs.numpy(), rtol=1e-12, atol=1e-14)
    _, h_ours = hvp(ours, x, v)
    _, h_theirs = torch.autograd.functional.hvp(theirs, tx, tv)
    np.testing.assert_allclose(h_ours, h_theirs.numpy(), rtol=1e-12, atol=1e-14)
