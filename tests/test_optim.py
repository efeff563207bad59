"""nn.optim: SGD and Adam/AdamW against closed forms, PyTorch's documented rules, and torch itself.

Three kinds of reference, from the most to the least independent:

* closed forms derived by hand for a constant gradient (geometric sums), where the whole
  trajectory is one formula;
* ``sgd_reference`` / ``adam_reference``: PyTorch's documented pseudocode
  (docs.pytorch.org/docs/stable/generated/torch.optim.SGD.html, .Adam.html, .AdamW.html)
  written out directly, with per-parameter state, over several steps;
* torch.optim itself, when torch is importable (those tests skip otherwise).

Tolerances: the references compute the same quantities in another order (``m / (1 - b1**t)``
then divide, instead of ``lr / (1 - b1**t) * m``), a few float64 roundings apart per step, so
``RTOL = 1e-11`` (with an absolute slack of RTOL times the largest value) leaves room for
~10^4 roundings; a wrong rule (a missing bias correction, dampening on the first step,
weight decay in the wrong place) moves parameters by O(lr).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor
from nn import MLP, MSELoss, Parameter
from nn.optim import SGD, Adam

RTOL = 1e-11
SHAPES = [(2, 3), (3,), ()]  # a matrix, a vector and a scalar parameter


def assert_close(actual, expected, rtol: float = RTOL) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def floats(lo: float, hi: float):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)


def params_from(arrays) -> list[Parameter]:
    return [Parameter(np.array(a, dtype=np.float64)) for a in arrays]


def run(optimizer, params, grads_per_step) -> None:
    """One optimizer step per entry; ``None`` leaves that parameter without a gradient."""
    for grads in grads_per_step:
        optimizer.zero_grad()
        for p, g in zip(params, grads, strict=True):
            if g is not None:
                p.grad = Tensor(np.array(g))
        optimizer.step()


# ----------------------------------------------------------------------------- PyTorch's documented rules


def sgd_reference(params0, grads_per_step, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """torch.optim.SGD's pseudocode, one parameter at a time (b_t per parameter, t counted per parameter)."""
    theta = [np.array(p, dtype=np.float64) for p in params0]
    buf = [None] * len(theta)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = np.array(g, dtype=np.float64)
            if weight_decay != 0:
                g = g + weight_decay * theta[i]
            if momentum != 0:
                if buf[i] is not None:  # t > 1
                    buf[i] = momentum * buf[i] + (1 - dampening) * g
                else:
                    buf[i] = g
                g = g + momentum * buf[i] if nesterov else buf[i]
            theta[i] = theta[i] - lr * g
    return theta


def adam_reference(params0, grads_per_step, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    """torch.optim.Adam's pseudocode (amsgrad=False, maximize=False); decoupled is AdamW's."""
    beta1, beta2 = betas
    theta = [np.array(p, dtype=np.float64) for p in params0]
    m = [np.zeros_like(p) for p in theta]
    v = [np.zeros_like(p) for p in theta]
    t = [0] * len(theta)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = np.array(g, dtype=np.float64)
            t[i] += 1
            if decoupled:
                theta[i] = theta[i] - lr * weight_decay * theta[i]
            elif weight_decay != 0:
                g = g + weight_decay * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g**2
            m_hat = m[i] / (1 - beta1 ** t[i])
            v_hat = v[i] / (1 - beta2 ** t[i])
            theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


# ----------------------------------------------------------------------------- strategies


@st.composite
def trajectories(draw, allow_missing: bool = True):
    """Initial values for SHAPES and 1..6 steps of gradients (sometimes missing)."""
    steps = draw(st.integers(1, 6))
    params0 = [draw(hnp.arrays(np.float64, s, elements=floats(-3, 3))) for s in SHAPES]
    grads = []
    for _ in range(steps):
        row = []
        for s in SHAPES:
            missing = allow_missing and draw(st.integers(0, 4)) == 0
            row.append(None if missing else draw(hnp.arrays(np.float64, s, elements=floats(-3, 3))))
        grads.append(row)
    return params0, grads


@st.composite
def sgd_options(draw):
    momentum = draw(st.one_of(st.just(0.0), floats(0.0, 0.99)))
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.one_of(st.just(0.0), floats(0.0, 1.0)))
    return dict(
        lr=draw(floats(0.0, 0.5)),
        momentum=momentum,
        dampening=dampening,
        nesterov=nesterov,
        weight_decay=draw(st.one_of(st.just(0.0), floats(0.0, 0.5))),
    )


@st.composite
def adam_options(draw):
    return dict(
        lr=draw(floats(0.0, 0.1)),
        betas=(draw(floats(0.0, 0.99)), draw(floats(0.0, 0.9999))),
        eps=draw(st.sampled_from([1e-8, 1e-4, 0.1])),
        weight_decay=draw(st.one_of(st.just(0.0), floats(0.0, 0.5))),
        decoupled_weight_decay=draw(st.booleans()),
    )


# ----------------------------------------------------------------------------- against the documented rules


@given(trajectories(), sgd_options())
def test_sgd_follows_pytorchs_rule(trajectory, options):
    params0, grads = trajectory
    params = params_from(params0)
    run(SGD(params, **options), params, grads)
    expected = sgd_reference(params0, grads, **options)
    for p, e in zip(params, expected, strict=True):
        assert p.shape == e.shape
        assert_close(p.data, e)


@given(trajectories(), adam_options())
def test_adam_and_adamw_follow_pytorchs_rule(trajectory, options):
    params0, grads = trajectory
    params = params_from(params0)
    run(Adam(params, **options), params, grads)
    decoupled = options.pop("decoupled_weight_decay")
    expected = adam_reference(params0, grads, decoupled=decoupled, **options)
    for p, e in zip(params, expected, strict=True):
        assert_close(p.data, e)


# ----------------------------------------------------------------------------- closed forms (constant gradient)
# The same gradient Tensor is reused at every step: an optimizer that kept it as its momentum
# buffer and then scaled the buffer in place would change the gradient and miss the closed form.


def constant_gradient_run(optimizer_cls, steps: int, p0, g, **options):
    p = Parameter(np.array(p0, dtype=np.float64))
    opt = optimizer_cls([p], **options)
    grad = Tensor(np.array(g, dtype=np.float64))
    for _ in range(steps):
        p.grad = grad
        opt.step()
    np.testing.assert_array_equal(grad.data, g)  # the optimizer left the gradient alone
    return p.data


P0 = np.array([1.5, -0.5, 0.0, 2.0])
G = np.array([0.3, -1.2, 0.7, 0.0])


@pytest.mark.parametrize("k", [1, 2, 7])
def test_sgd_plain_closed_form(k):
    lr = 0.1
    assert_close(constant_gradient_run(SGD, k, P0, G, lr=lr), P0 - k * lr * G)


@pytest.mark.parametrize("k", [1, 2, 7])
def test_sgd_momentum_closed_form(k):
    # buf_t = g (1 + mu + ... + mu^(t-1)) = g (1 - mu^t) / (1 - mu)
    lr, mu = 0.1, 0.9
    total = sum((1 - mu**t) / (1 - mu) for t in range(1, k + 1))
    assert_close(constant_gradient_run(SGD, k, P0, G, lr=lr, momentum=mu), P0 - lr * total * G)


@pytest.mark.parametrize("k", [1, 2, 7])
def test_sgd_dampening_closed_form(k):
    # buf_1 = g (no dampening on the first step), buf_t = mu buf_(t-1) + (1 - tau) g
    #   => buf_t = mu^(t-1) g + (1 - tau) g (1 - mu^(t-1)) / (1 - mu)
    lr, mu, tau = 0.1, 0.8, 0.3
    bufs = [mu ** (t - 1) + (1 - tau) * (1 - mu ** (t - 1)) / (1 - mu) for t in range(1, k + 1)]
    assert_close(constant_gradient_run(SGD, k, P0, G, lr=lr, momentum=mu, dampening=tau), P0 - lr * sum(bufs) * G)


@pytest.mark.parametrize("k", [1, 2, 7])
def test_sgd_nesterov_closed_form(k):
    # the step is g + mu * buf_t, buf_t = g (1 - mu^t) / (1 - mu)
    lr, mu = 0.1, 0.9
    total = sum(1 + mu * (1 - mu**t) / (1 - mu) for t in range(1, k + 1))
    assert_close(constant_gradient_run(SGD, k, P0, G, lr=lr, momentum=mu, nesterov=True), P0 - lr * total * G)


@pytest.mark.parametrize("k", [1, 2, 7])
def test_sgd_weight_decay_closed_form(k):
    # zero gradient: p_t = p_(t-1) - lr * wd * p_(t-1) = (1 - lr wd)^t p0
    lr, wd = 0.1, 0.5
    got = constant_gradient_run(SGD, k, P0, np.zeros(4), lr=lr, weight_decay=wd)
    assert_close(got, (1 - lr * wd) ** k * P0)
    # constant gradient too: p_t = a p_(t-1) - lr g with a = 1 - lr wd
    a = 1 - lr * wd
    got = constant_gradient_run(SGD, k, P0, G, lr=lr, weight_decay=wd)
    assert_close(got, a**k * P0 - lr * G * (1 - a**k) / (1 - a))


@pytest.mark.parametrize("k", [1, 2, 7])
def test_adam_closed_form(k):
    # m_t = g (1 - b1^t), v_t = g^2 (1 - b2^t): the bias-corrected step is lr g / (|g| + eps)
    lr, eps = 0.01, 1e-8
    expected = P0 - k * lr * G / (np.abs(G) + eps)
    assert_close(constant_gradient_run(Adam, k, P0, G, lr=lr, eps=eps), expected)
    # the same with other betas: the bias correction cancels them exactly
    assert_close(constant_gradient_run(Adam, k, P0, G, lr=lr, eps=eps, betas=(0.5, 0.7)), expected)


def test_adam_l2_weight_decay_first_step_closed_form():
    # zero gradient: g = wd p0, so the first step is lr * wd p0 / (wd |p0| + eps)
    lr, wd, eps = 0.01, 0.1, 1e-3
    got = constant_gradient_run(Adam, 1, P0, np.zeros(4), lr=lr, weight_decay=wd, eps=eps)
    assert_close(got, P0 - lr * wd * P0 / (wd * np.abs(P0) + eps))


@pytest.mark.parametrize("k", [1, 2, 7])
def test_adamw_closed_form(k):
    lr, wd, eps = 0.01, 0.5, 1e-8
    a = 1 - lr * wd
    # zero gradient: m = v = 0, so only the decay acts: p_t = (1 - lr wd)^t p0
    got = constant_gradient_run(Adam, k, P0, np.zeros(4), lr=lr, weight_decay=wd, decoupled_weight_decay=True)
    assert_close(got, a**k * P0)
    # constant gradient: p_t = a p_(t-1) - c with c = lr g / (|g| + eps)
    c = lr * G / (np.abs(G) + eps)
    got = constant_gradient_run(Adam, k, P0, G, lr=lr, eps=eps, weight_decay=wd, decoupled_weight_decay=True)
    assert_close(got, a**k * P0 - c * (1 - a**k) / (1 - a))


def test_adam_and_adamw_differ_when_weight_decay_is_on():
    l2 = constant_gradient_run(Adam, 3, P0, G, lr=0.01, weight_decay=0.5)
    decoupled = constant_gradient_run(Adam, 3, P0, G, lr=0.01, weight_decay=0.5, decoupled_weight_decay=True)
    assert np.max(np.abs(l2 - decoupled)) > 1e-4


# ----------------------------------------------------------------------------- skipping, zero_grad, groups


def test_params_without_grad_are_skipped_and_get_no_state():
    a, b = Parameter(np.ones(3)), Parameter(np.ones(2))
    for opt in (SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1), Adam([a, b], lr=0.1, weight_decay=0.1)):
        a.data[...] = 1.0
        b.data[...] = 1.0
        opt.zero_grad()
        a.grad = Tensor(np.full(3, 2.0))
        opt.step()
        opt.step()
        np.testing.assert_array_equal(b.data, np.ones(2))  # not even weight decay touched it
        assert not np.array_equal(a.data, np.ones(3))
        assert list(opt.state_dict()["state"]) == ["0"]


def test_adam_counts_steps_per_parameter():
    # b first gets a gradient at the third step: its first update has t = 1, so it moves by lr
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(2))
    opt = Adam([a, b], lr=0.1, eps=0.0)
    for step in range(3):
        opt.zero_grad()
        a.grad = Tensor(np.array([1.0, -1.0]))
        if step == 2:
            b.grad = Tensor(np.array([5.0, -0.25]))
        opt.step()
    assert_close(b.data, [-0.1, 0.1])
    assert_close(a.data, [-0.3, 0.3])
    assert opt.state[a]["step"] == 3 and opt.state[b]["step"] == 1


def test_zero_grad_sets_every_grad_to_none():
    ps = params_from([np.ones(2), np.ones(3), np.ones(())])
    opt = SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}], lr=0.1)
    for p in ps:
        p.grad = Tensor(np.ones(p.shape))
    opt.zero_grad()
    assert all(p.grad is None for p in ps)
    opt.step()  # nothing to do: nothing changes
    for p in ps:
        np.testing.assert_array_equal(p.data, np.ones(p.shape))


def test_parameter_groups_take_their_own_options_and_the_defaults():
    w, b = Parameter(np.ones((2, 2))), Parameter(np.ones(2))
    opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.01, "momentum": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5]
    assert all(g["nesterov"] is False and g["weight_decay"] == 0 for g in opt.param_groups)
    g_w, g_b = np.full((2, 2), 2.0), np.full(2, 3.0)
    run(opt, [w, b], [[g_w, g_b]] * 3)
    assert_close(w.data, sgd_reference([np.ones((2, 2))], [[g_w]] * 3, lr=0.1, momentum=0.9)[0])
    assert_close(b.data, sgd_reference([np.ones(2)], [[g_b]] * 3, lr=0.01, momentum=0.5)[0])


def test_adam_groups():
    w, b = Parameter(np.ones(3)), Parameter(np.ones(3))
    opt = Adam(
        [{"params": [w], "betas": (0.5, 0.6)}, {"params": [b], "weight_decay": 0.1, "decoupled_weight_decay": True}],
        lr=0.05,
    )
    grads = [
        [np.array([1.0, -2.0, 0.5]), np.array([0.1, 0.2, -0.3])],
        [np.array([0.5, 1.0, -1.0]), np.array([1.0, 0.0, 0.0])],
    ]
    run(opt, [w, b], grads)
    assert_close(w.data, adam_reference([np.ones(3)], [[g[0]] for g in grads], lr=0.05, betas=(0.5, 0.6))[0])
    assert_close(
        b.data, adam_reference([np.ones(3)], [[g[1]] for g in grads], lr=0.05, weight_decay=0.1, decoupled=True)[0]
    )


def source_setup():
    """The source's data and initial weights: np.random.seed(0), then randn in its order."""
    rs = np.random.RandomState(0)  # the same stream as np.random.seed(0)
    x = rs.randn(64, 20)
    true = rs.randn(64, 10)
    w1 = rs.randn(20, 100) * 0.1
    w2 = rs.randn(100, 10) * 0.1
    return x, true, w1, w2


def test_bias_group_with_lr_over_batch_size_reproduces_the_source_training():
    """The source's b_grad is a batch mean, its w_grad a sum: SGD on MSELoss("sum") with the
    biases in a group at lr / batch_size takes exactly the source's steps."""
    x, true, w1, w2 = source_setup()
    b1, b2 = np.zeros(100), np.zeros(10)
    batch, lr, steps = 64, 1e-3, 501
    model = MLP([20, 100, 10], rng=np.random.default_rng(0))
    model.load_state_dict({"layers.0.weight": w1, "layers.0.bias": b1, "layers.2.weight": w2, "layers.2.bias": b2})
    named = dict(model.named_parameters())
    opt = SGD(
        [
            {"params": [named["layers.0.weight"], named["layers.2.weight"]]},
            {"params": [named["layers.0.bias"], named["layers.2.bias"]], "lr": lr / batch},
        ],
        lr=lr,
    )
    loss_fn = MSELoss(reduction="sum")
    xt = Tensor(x)
    for i in range(steps):
        # the source's loop body (main.py), re-indented
        z = x @ w1 + b1
        a = z * (z > 0)
        pred = a @ w2 + b2
        pred_grad = 2 * (pred - true)
        a_grad, w2_grad, b2_grad = pred_grad @ w2.T, a.T @ pred_grad, np.mean(pred_grad, 0)
        z_grad = a_grad * (z > 0)
        w1_grad, b1_grad = x.T @ z_grad, np.mean(z_grad, 0)
        source_loss = np.mean(np.mean((true - pred) ** 2, axis=-1))
        w1, w2, b1, b2 = w1 - lr * w1_grad, w2 - lr * w2_grad, b1 - lr * b1_grad, b2 - lr * b2_grad
        # ours
        opt.zero_grad()
        out = model(xt)
        loss = loss_fn(out, true)
        loss.backward()
        opt.step()
        if i % 50 == 0 or i == steps - 1:
            assert_close(loss.item() / true.size, source_loss, rtol=1e-8)
    state = model.state_dict()
    for name, ref in [("layers.0.weight", w1), ("layers.0.bias", b1), ("layers.2.weight", w2), ("layers.2.bias", b2)]:
        assert_close(state[name], ref, rtol=1e-8)
    # the source printed "500 2.3711536645661272e-05" (its last digits move with the BLAS)
    np.testing.assert_allclose(source_loss, 2.3711536645661272e-05, rtol=1e-6)


# ----------------------------------------------------------------------------- state_dict / load_state_dict

OPTIMIZERS = [
    pytest.param(lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01), id="sgd-momentum"),
    pytest.param(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), id="sgd-nesterov"),
    pytest.param(lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.9), weight_decay=0.1), id="adam"),
    pytest.param(lambda ps: Adam(ps, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True), id="adamw"),
]


def random_grads(seed: int, steps: int, shapes=((2, 3), (3,))):
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s) for s in shapes] for _ in range(steps)]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_state_dict_round_trip_gives_identical_steps(make):
    shapes = ((2, 3), (3,))
    params = params_from([np.ones(s) for s in shapes])
    opt = make(params)
    run(opt, params, random_grads(0, 3, shapes))
    saved = opt.state_dict()
    snapshot = copy.deepcopy(saved)

    twin = params_from([p.data.copy() for p in params])
    twin_opt = make(twin)
    for g in twin_opt.param_groups:  # options differ before loading: loading restores them
        g["lr"] = 123.0
    twin_opt.load_state_dict(saved)
    assert [g["lr"] for g in twin_opt.param_groups] == [g["lr"] for g in opt.param_groups]

    later = random_grads(1, 4, shapes)
    run(opt, params, later)
    run(twin_opt, twin, later)
    for p, q in zip(params, twin, strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    # state_dict() was a snapshot: the later steps of both optimizers left it as it was
    for key, state in snapshot["state"].items():
        for name, value in state.items():
            np.testing.assert_array_equal(saved["state"][key][name], value)


def test_state_dict_layout():
    w, b = Parameter(np.ones((2, 2))), Parameter(np.ones(2))
    opt = Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    run(opt, [w, b], [[np.ones((2, 2)), None]])
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert list(sd["param_groups"]) == ["0", "1"]
    assert sd["param_groups"]["1"]["lr"] == 0.5 and sd["param_groups"]["0"]["betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(sd["param_groups"]["1"]["params"], [1])
    assert list(sd["state"]) == ["0"] and sd["state"]["0"]["step"] == 1
    assert sd["state"]["0"]["exp_avg"] is not opt.state[w]["exp_avg"]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_state_dict_round_trip_with_a_scalar_parameter(make):
    """A 0-d parameter's momentum / moment buffers are 0-d arrays; they must survive loading."""
    params = params_from([np.ones(()), np.ones(2)])
    opt = make(params)
    run(opt, params, random_grads(2, 2, shapes=((), (2,))))
    twin = params_from([p.data.copy() for p in params])
    twin_opt = make(twin)
    twin_opt.load_state_dict(opt.state_dict())
    later = random_grads(3, 3, shapes=((), (2,)))
    run(opt, params, later)
    run(twin_opt, twin, later)
    for p, q in zip(params, twin, strict=True):
        np.testing.assert_array_equal(q.data, p.data)


def test_load_state_dict_refuses_a_mismatch_and_changes_nothing():
    def fresh():
        ps = params_from([np.ones((2, 3)), np.ones(3)])
        o = SGD([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1, momentum=0.9)
        run(o, ps, random_grads(0, 2))
        return o

    source = fresh().state_dict()
    target = fresh()
    before_state = copy.deepcopy(target.state_dict())

    bad_groups = copy.deepcopy(source)
    del bad_groups["param_groups"]["1"]
    bad_count = copy.deepcopy(source)
    bad_count["param_groups"]["0"]["params"] = np.array([0, 1])
    bad_index = copy.deepcopy(source)
    bad_index["state"]["7"] = {"momentum_buffer": np.zeros(3)}
    bad_shape = copy.deepcopy(source)
    bad_shape["param_groups"]["0"]["lr"] = 0.5  # a valid change that must not be applied either
    bad_shape["state"]["1"]["momentum_buffer"] = np.zeros(4)

    for bad, pattern in [
        (bad_groups, "group"),
        (bad_count, "group 0"),
        (bad_index, "parameter 7"),
        (bad_shape, r"\(4,\)"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            target.load_state_dict(bad)
        after = target.state_dict()
        assert [g["lr"] for g in target.param_groups] == [0.1, 0.1]
        for key, state in before_state["state"].items():
            np.testing.assert_array_equal(after["state"][key]["momentum_buffer"], state["momentum_buffer"])


# ----------------------------------------------------------------------------- bad options


def test_bad_parameters_are_refused():
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="SGD.*empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Adam.*empty"):
        Adam(iter([]))
    with pytest.raises(TypeError, match="leaf"):
        SGD([p * 2], lr=0.1)  # not a leaf
    with pytest.raises(TypeError, match="leaf"):
        SGD([Tensor(np.ones(2))], lr=0.1)  # does not require grad
    with pytest.raises(TypeError, match="leaf"):
        SGD([np.ones(2)], lr=0.1)  # not a tensor
    with pytest.raises(ValueError, match="more than one group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="more than one group"):
        SGD([p, p], lr=0.1)


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda ps: SGD(ps, lr=-0.1), "lr"),
        (lambda ps: SGD([{"params": ps, "lr": -1.0}], lr=0.1), "lr"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), "nesterov"),
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda ps: SGD([{"params": ps, "nesterov": True}], lr=0.1), "nesterov"),
        (lambda ps: SGD([{"params": ps, "betas": (0.9, 0.99)}], lr=0.1), "betas"),
        (lambda ps: Adam([{"params": ps, "momentum": 0.9}]), "momentum"),
        (lambda ps: Adam(ps, lr=-1e-3), "lr"),
        (lambda ps: Adam(ps, betas=(1.0, 0.999)), "betas"),
        (lambda ps: Adam(ps, betas=(0.9, 1.5)), "betas"),
        (lambda ps: Adam(ps, betas=(-0.1, 0.999)), "betas"),
        (lambda ps: Adam([{"params": ps, "betas": (0.9, 1.0)}]), "betas"),
    ],
)
def test_bad_options_are_refused(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make([Parameter(np.ones(2))])


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), "momentum"),
        (lambda ps: SGD(ps, lr=0.1, weight_decay=-0.1), "weight_decay"),
        (lambda ps: Adam(ps, eps=-1e-8), "eps"),
        (lambda ps: Adam(ps, weight_decay=-0.1), "weight_decay"),
    ],
    ids=["sgd-momentum", "sgd-weight_decay", "adam-eps", "adam-weight_decay"],
)
def test_negative_options_are_refused_as_in_pytorch(make, pattern):
    """torch.optim raises "Invalid momentum/weight_decay/epsilon value" for these."""
    with pytest.raises(ValueError, match=pattern):
        make([Parameter(np.ones(2))])


# ----------------------------------------------------------------------------- against torch.optim


def torch_run(torch_cls, params0, grads_per_step, **options):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(np.array(p), dtype=torch.float64, requires_grad=True) for p in params0]
    opt = getattr(torch.optim, torch_cls)(params, **options)
    for grads in grads_per_step:
        opt.zero_grad()
        for p, g in zip(params, grads, strict=True):
            if g is not None:
                p.grad = torch.tensor(np.array(g), dtype=torch.float64)
        opt.step()
    return [p.detach().numpy() for p in params]


TORCH_CASES = [
    ("SGD", SGD, dict(lr=0.1)),
    ("SGD", SGD, dict(lr=0.1, momentum=0.9)),
    ("SGD", SGD, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD", SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", Adam, dict(lr=0.01)),
    ("Adam", Adam, dict(lr=0.01, betas=(0.5, 0.8), eps=1e-3, weight_decay=0.1)),
]


@pytest.mark.parametrize(("torch_name", "ours", "options"), TORCH_CASES)
def test_matches_torch_optim(torch_name, ours, options):
    pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    params0 = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) if (step + i) % 4 else None for i, s in enumerate(SHAPES)] for step in range(6)]
    expected = torch_run(torch_name, params0, grads, **options)
    params = params_from(params0)
    run(ours(params, **options), params, grads)
    for p, e in zip(params, expected, strict=True):
        assert_close(p.data, e)


@pytest.mark.parametrize("wd", [0.0, 0.1, 0.5])
def test_adamw_matches_torch(wd):
    pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    params0 = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(6)]
    expected = torch_run("AdamW", params0, grads, lr=0.02, weight_decay=wd, betas=(0.8, 0.95))
    params = params_from(params0)
    run(Adam(params, lr=0.02, weight_decay=wd, betas=(0.8, 0.95), decoupled_weight_decay=True), params, grads)
    for p, e in zip(params, expected, strict=True):
        assert_close(p.data, e)
    # torch's Adam(decoupled_weight_decay=True) is the same rule
    also = torch_run("Adam", params0, grads, lr=0.02, weight_decay=wd, betas=(0.8, 0.95), decoupled_weight_decay=True)
    for p, e in zip(params, also, strict=True):
        assert_close(p.data, e)


@given(trajectories(), sgd_options())
def test_sgd_matches_torch_on_random_trajectories(trajectory, options):
    pytest.importorskip("torch")
    params0, grads = trajectory
    expected = torch_run("SGD", params0, grads, **options)
    params = params_from(params0)
    run(SGD(params, **options), params, grads)
    for p, e in zip(params, expected, strict=True):
        assert_close(p.data, e)


@given(trajectories(), adam_options())
def test_adam_matches_torch_on_random_trajectories(trajectory, options):
    pytest.importorskip("torch")
    params0, grads = trajectory
    expected = torch_run("Adam", params0, grads, **options)
    params = params_from(params0)
    run(Adam(params, **options), params, grads)
    for p, e in zip(params, expected, strict=True):
        assert_close(p.data, e)
