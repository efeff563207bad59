"""How autograd's gradients relate to the source's hand-derived ones (design.md, "The source").

The source (``../shared/seed/source.txt``) is a numpy two-layer network with hand-written
backward functions. Its conventions are reproduced below EXACTLY (same formulas, same
argument order, same asserts), and each test states how autograd relates to them:

    mse_grad(true, pred) = 2 (pred - true)  = d/dpred of the SUMMED squared error
                                            = class_num         x d/dpred sum_rows(mse)
                                            = batch * class_num x d/dpred mean(mse)  (the printed loss)
    fc_backward w_grad   = x.T @ z_grad     = autograd's weight gradient of the summed loss
    fc_backward x_grad   = z_grad @ w.T     = autograd's input gradient
    fc_backward b_grad   = mean(z_grad, 0)  = autograd's bias gradient / batch_size
    relu_backward        = a_grad * (z > 0) = autograd's relu gradient, 0 at z == 0

Tolerances. Both sides compute the same real numbers in float64, possibly in another
order. For a sum or dot product of n terms, any two evaluation orders differ by at most
about 2 n u sum|terms| (u = 1.1e-16, Higham, "Accuracy and Stability of Numerical
Algorithms", 3.1). So every comparison is ``|autograd - source| <= 1e-12 * scale`` where
``scale`` is the same computation done on absolute values (|x| @ |w| for x @ w, and so
on through the network). With n <= 100 terms and a few layers the rounding is below
~1e-13 * scale; a wrong relation (a missing factor 2, class_num or batch_size) is off by
at least the size of the gradient itself and fails. Masks (relu) and multiplication by 2
are exact, and are compared exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor

ROOT = Path(__file__).resolve().parent.parent
SOURCE_RUN_OUTPUT = ROOT.parent / "shared" / "seed" / "source_run_output.txt"
SOURCE_FINAL_LOSS = 2.3711536645661272e-05  # the source's own last printed line: "500 <this>"
REL = 1e-12  # multiplies a `scale`; see the module docstring


# ----------------------------------------------------------------------------- the source, verbatim
# examples/source_numpy.py holds the source's utils.py, re-indented, formulas and asserts unchanged.

import source_numpy  # noqa: E402
from source_numpy import fc_backward, fc_forward, mse, mse_grad, relu_backward, relu_forward  # noqa: E402

# ----------------------------------------------------------------------------- helpers


def assert_close(actual, expected, scale, what: str) -> None:
    """|actual - expected| <= REL * scale elementwise (scale: the computation on |values|)."""
    actual, expected, scale = np.asarray(actual), np.asarray(expected), np.asarray(scale)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    error = np.abs(actual - expected)
    # Below the smallest normal float (2.2e-308) rounding is absolute, not relative (gradual
    # underflow): allow that much on top; it is far below any gradient worth comparing.
    bound = np.broadcast_to(REL * scale + np.finfo(np.float64).tiny, error.shape)
    bad = error > bound
    worst = np.unravel_index(np.argmax(error - bound), bound.shape)
    assert not bad.any(), (
        f"{what}: {int(bad.sum())} of {bad.size} elements differ by more than 1e-12 * scale; "
        f"worst at {worst}: error {error[worst]!r}, bound {bound[worst]!r}"
    )


values = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
dims = st.integers(1, 12)


def arrays(shape):
    return hnp.arrays(np.float64, shape, elements=values)


def param(array) -> Tensor:
    return Tensor(array, requires_grad=True)


# ----------------------------------------------------------------------------- mse_grad


@given(data=st.data(), batch=dims, class_num=dims)
def test_mse_grad_is_the_gradient_of_the_summed_squared_error(data, batch, class_num):
    true = data.draw(arrays((batch, class_num)), label="true")
    pred = data.draw(arrays((batch, class_num)), label="pred")
    scale = np.abs(pred) + np.abs(true)  # the one rounding: pred - true
    source = mse_grad(true, pred)

    # the summed squared error: exactly the source's gradient
    p = param(pred)
    ((p - true) ** 2).sum().backward()
    assert_close(p.grad.data, source, 2 * scale, "grad of summed squared error vs mse_grad")

    # the mse the source names: one mean per row, shape (batch,); autograd's forward agrees
    p = param(pred)
    rows = ((p - true) ** 2).mean(axis=-1)
    assert_close(rows.data, mse(true, pred), (scale**2).mean(axis=-1), "per-row mse")
    (g_rows,) = autograd.grad(rows, p, grad_outputs=np.ones(batch))
    assert_close(class_num * g_rows.data, source, 2 * scale, "class_num * grad of per-row mse")

    # the printed loss, np.mean(loss): the batch mean of the per-row means
    p = param(pred)
    printed = ((p - true) ** 2).mean()
    assert_close(printed.data, np.mean(mse(true, pred)), scale.max() ** 2, "printed loss")
    printed.backward()
    assert_close(batch * class_num * p.grad.data, source, 2 * scale, "batch*class_num * grad of mean")

    # ... so mse_grad is NOT the gradient of the mse it names, unless class_num == 1
    if class_num > 1 and np.any(source != 0):
        assert not np.allclose(g_rows.data, source, rtol=1e-6, atol=0)


# ----------------------------------------------------------------------------- fc_backward


@given(data=st.data(), batch=dims, n_in=dims, n_out=dims)
def test_fc_backward_against_autograd(data, batch, n_in, n_out):
    x = data.draw(arrays((batch, n_in)), label="x")
    w = data.draw(arrays((n_in, n_out)), label="w")
    b = data.draw(arrays((n_out,)), label="b")
    z_grad = data.draw(arrays((batch, n_out)), label="z_grad")  # dL/dz from any summed loss
    x_grad, w_grad, b_grad = fc_backward(x, w, z_grad)

    xt, wt, bt = param(x), param(w), param(b)
    z = xt @ wt + bt
    assert_close(z.data, fc_forward(x, w, b), np.abs(x) @ np.abs(w) + np.abs(b), "fc_forward")
    z.backward(grad=z_grad)  # the gradient of L = sum(z * z_grad) (treating z_grad as fixed)

    g = np.abs(z_grad)
    assert_close(xt.grad.data, x_grad, g @ np.abs(w).T, "x_grad")
    assert_close(wt.grad.data, w_grad, np.abs(x).T @ g, "w_grad (a sum over the batch)")
    # the source's b_grad is a MEAN over the batch: autograd's (a sum) is batch_size times it
    assert_close(bt.grad.data, batch * b_grad, 2 * g.sum(axis=0), "bias grad vs batch * b_grad")
    if batch > 1 and np.any(b_grad != 0):
        assert not np.allclose(bt.grad.data, b_grad, rtol=1e-6, atol=0)


# ----------------------------------------------------------------------------- relu_backward


@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=6))
def test_relu_backward_matches_autograd_including_zero(data, shape):
    z = data.draw(arrays(shape), label="z")
    zero = data.draw(hnp.arrays(np.bool_, shape), label="zero")
    z = np.where(zero, 0.0, z)  # plenty of exact zeros (and hypothesis adds -0.0 too)
    a_grad = data.draw(arrays(shape), label="a_grad")

    zt = param(z)
    a = zt.relu()
    np.testing.assert_array_equal(a.data, relu_forward(z))  # a mask: exact
    a.backward(grad=a_grad)
    np.testing.assert_array_equal(zt.grad.data, relu_backward(z, a_grad))  # exact, too
    assert np.all(zt.grad.data[z == 0] == 0), "relu's gradient at z == 0 must be 0"


# ----------------------------------------------------------------------------- the two-layer network


source_step = source_numpy.forward_backward  # the body of the source's loop: forward, loss, backward


def abs_scales(x, true, w1, b1, w2, b2):
    """The same backward on absolute values: the scale of each gradient's rounding error."""
    z = np.abs(x) @ np.abs(w1) + np.abs(b1)
    pred = z @ np.abs(w2) + np.abs(b2)
    pred_grad = 2 * (pred + np.abs(true))
    a_grad = pred_grad @ np.abs(w2).T
    return (
        np.abs(x).T @ a_grad,
        2 * a_grad.sum(axis=0),
        z.T @ pred_grad,
        2 * pred_grad.sum(axis=0),
    )


def autograd_step(x, true, w1, b1, w2, b2):
    params = [param(p) for p in (w1, b1, w2, b2)]
    t1, tb1, t2, tb2 = params
    pred = (Tensor(x) @ t1 + tb1).relu() @ t2 + tb2
    ((pred - true) ** 2).sum().backward()  # the summed loss whose gradient the source computes
    return pred, [p.grad.data for p in params]


def network(rng, batch, n_in, hidden, n_out, bias_scale):
    return (
        rng.standard_normal((batch, n_in)),
        rng.standard_normal((batch, n_out)),
        rng.standard_normal((n_in, hidden)) * 0.1,
        rng.standard_normal(hidden) * bias_scale,
        rng.standard_normal((hidden, n_out)) * 0.1,
        rng.standard_normal(n_out) * bias_scale,
    )


def assert_network_relations(arrays_, batch: int) -> None:
    """The two-layer network's relations: equal weight grads, bias grads batch_size times larger."""
    _, (w1_grad, b1_grad, w2_grad, b2_grad) = source_step(*arrays_)
    _, (g_w1, g_b1, g_w2, g_b2) = autograd_step(*arrays_)
    s_w1, s_b1, s_w2, s_b2 = abs_scales(*arrays_)
    assert_close(g_w1, w1_grad, s_w1, "w1")
    assert_close(g_w2, w2_grad, s_w2, "w2")
    assert_close(g_b1, batch * b1_grad, s_b1, "b1 vs batch_size * b1_grad")
    assert_close(g_b2, batch * b2_grad, s_b2, "b2 vs batch_size * b2_grad")


@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.one_of(
        st.just((64, 20, 100, 10)),  # the source's own shapes
        st.tuples(st.integers(1, 64), st.integers(1, 20), st.integers(1, 100), st.integers(1, 10)),
    ),
    bias_scale=st.sampled_from([0.0, 0.1, 1.0]),  # the source starts from zero biases
)
def test_two_layer_network_gradients(seed, sizes, bias_scale):
    batch = sizes[0]
    arrays_ = network(np.random.default_rng(seed), *sizes, bias_scale)
    assert_network_relations(arrays_, batch)


@given(data=st.data())
def test_two_layer_network_with_drawn_values(data):
    """Same relations on hypothesis-drawn values (zeros, ties, large and tiny entries)."""
    batch, n_in, hidden, n_out = data.draw(st.tuples(st.integers(1, 8), dims, dims, dims))
    arrays_ = (
        data.draw(arrays((batch, n_in)), label="x"),
        data.draw(arrays((batch, n_out)), label="true"),
        data.draw(arrays((n_in, hidden)), label="w1"),
        data.draw(arrays((hidden,)), label="b1"),
        data.draw(arrays((hidden, n_out)), label="w2"),
        data.draw(arrays((n_out,)), label="b2"),
    )
    assert_network_relations(arrays_, batch)


# ----------------------------------------------------------------------------- the source's run


def source_data():
    """main.py's data and initial weights: np.random.seed(0), in the source's order."""
    state = np.random.get_state()
    try:
        np.random.seed(0)
        x = np.random.randn(64, 20)
        true = np.random.randn(64, 10)
        w1 = np.random.randn(20, 100) * 0.1
        w2 = np.random.randn(100, 10) * 0.1
    finally:
        np.random.set_state(state)  # leave the global generator as we found it
    return x, true, w1, np.zeros((100,)), w2, np.zeros((10,))


def test_source_training_run_is_reproduced_by_autograd():
    """501 steps, lr 1e-3, updating biases with grad / batch_size (the source's b_grad)."""
    lr, batch = 1e-3, 64
    x, true, w1, b1, w2, b2 = source_data()
    src = [w1.copy(), b1.copy(), w2.copy(), b2.copy()]
    params = [param(p) for p in (w1, b1, w2, b2)]
    source_losses, autograd_losses = {}, {}
    for i in range(501):
        loss, grads = source_step(x, true, *src)
        for p, g in zip(src, grads):
            p -= lr * g

        t1, tb1, t2, tb2 = params
        pred = (Tensor(x) @ t1 + tb1).relu() @ t2 + tb2
        for p in params:
            p.grad = None
        ((pred - true) ** 2).sum().backward()
        with autograd.no_grad():
            for p, per_batch in zip(params, (1, batch, 1, batch)):  # biases: the source's mean
                p.data -= lr * (p.grad.data / per_batch)
        if i % 10 == 0:
            source_losses[i] = float(np.mean(loss))
            autograd_losses[i] = float(((pred.data - true) ** 2).mean())

    # Same arithmetic each step; gradient descent here is contracting, so step-to-step
    # rounding differences do not grow: the two runs agree to ~1e-14, checked at 1e-11.
    for i in source_losses:
        assert autograd_losses[i] == pytest.approx(source_losses[i], rel=1e-11), i
    # The source printed `500 2.3711536645661272e-05`; its re-run printed ...614e-05, a
    # 5e-15 relative change from another BLAS. 1e-10 allows a different BLAS here, while a
    # wrong convention (e.g. biases stepped by the full sum) moves the loss by far more.
    assert autograd_losses[500] == pytest.approx(SOURCE_FINAL_LOSS, rel=1e-10)
    if SOURCE_RUN_OUTPUT.exists():
        lines = [line.split() for line in SOURCE_RUN_OUTPUT.read_text().splitlines() if line.strip()]
        recorded = {int(step): float(value) for step, value in lines}
        assert set(recorded) == set(autograd_losses)
        for i, value in recorded.items():
            assert autograd_losses[i] == pytest.approx(value, rel=1e-10), i
