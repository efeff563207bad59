"""nn.utils, the RMSprop and Adagrad optimizers, nn.optim.lr_scheduler and nn.data.

References: closed forms written here where the rule is short (norms, clamps, fractions of
a split), PyTorch's documented update rules, and torch itself when it is importable (those
tests skip otherwise).

Tolerances: the optimizers compute PyTorch's formulas in PyTorch's order, so they agree with
torch.optim to a few float64 roundings per step; RTOL = 1e-11 (as tests/test_optim.py) leaves
room for ~10^4 of them over 20 steps, while a wrong rule (a missing eps, momentum applied to
the wrong quantity, lr_decay off by one step) moves parameters by O(lr). The schedulers do
the same float operations as torch's, so their lr trajectories are compared for equality.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor, manual_seed
from nn import Parameter
from nn.data import DataLoader, Dataset, Subset, TensorDataset, random_split
from nn.optim import SGD, Adagrad, Adam, Optimizer, RMSprop
from nn.optim import lr_scheduler as sched
from nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

CASES: list = []  # no new Function subclasses here (the meta-test reads this list)

RTOL = 1e-11
SHAPES = [(2, 3), (3,), ()]


def assert_close(actual, expected, rtol: float = RTOL) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def params_with_grads(seed: int = 0, dtype=np.float64) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    params = [Parameter(rng.normal(size=s), dtype=dtype) for s in SHAPES]
    for p in params:
        p.grad = Tensor(rng.normal(size=p.shape) * 3, dtype=dtype)
    return params


# ----------------------------------------------------------------------------- nn.utils


def norm_by_hand(grads, p):
    if p == math.inf:
        return max(float(np.max(np.abs(g))) for g in grads)
    return sum(float(np.sum(np.abs(g) ** p)) for g in grads) ** (1 / p)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_scales_all_grads_together(norm_type, max_norm):
    params = params_with_grads()
    before = [p.grad.data.copy() for p in params]
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    expected = norm_by_hand(before, norm_type)
    assert isinstance(total, Tensor) and total.shape == ()
    assert_close(total.data, expected)
    coef = min(1.0, max_norm / (expected + 1e-6))
    for p, g in zip(params, before):
        assert_close(p.grad.data, g * coef)
    if max_norm < expected:
        assert_close(norm_by_hand([p.grad.data for p in params], norm_type), max_norm, rtol=1e-5)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_matches_torch(norm_type):
    torch = pytest.importorskip("torch")
    params = params_with_grads(1)
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    for p, t in zip(params, tparams):
        t.grad = torch.tensor(p.grad.data.copy())
    total = clip_grad_norm_(params, 1.0, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 1.0, norm_type=norm_type)
    assert_close(total.data, ttotal.item())
    for p, t in zip(params, tparams):
        assert_close(p.grad.data, t.grad.numpy())


def test_clip_grad_norm_skips_params_without_grad_keeps_float32_and_takes_one_tensor():
    params = params_with_grads(2, dtype=np.float32)
    params[1].grad = None
    total = clip_grad_norm_(params, 0.1)
    assert total.dtype == np.float32 and params[0].grad.dtype == np.float32 and params[1].grad is None
    only = params_with_grads(3)[0]
    g = only.grad.data.copy()
    assert_close(clip_grad_norm_(only, 1e9).data, np.sqrt(np.sum(g**2)))
    assert clip_grad_norm_([Parameter([1.0])], 1.0).item() == 0.0  # no grads at all


def test_clip_grad_norm_nonfinite():
    params = params_with_grads()
    params[0].grad.data[0, 0] = np.nan
    before = [p.grad.data.copy() for p in params]
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm .* is nan"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    for p, g in zip(params, before):  # nothing changed
        np.testing.assert_array_equal(p.grad.data, g)
    assert math.isnan(clip_grad_norm_(params, 1.0).item())  # as torch: no error unless asked
    with pytest.raises(ValueError, match="clip_grad_norm_: norm_type must be >= 0"):
        clip_grad_norm_(params, 1.0, norm_type=-1)
    with pytest.raises(TypeError, match="clip_grad_norm_: expected Tensors"):
        clip_grad_norm_([np.ones(2)], 1.0)


def test_clip_grad_value_clamps_every_element():
    params = params_with_grads()
    before = [p.grad.data.copy() for p in params]
    params[2].grad = None
    clip_grad_value_(params, 0.7)
    for p, g in zip(params[:2], before[:2]):
        np.testing.assert_array_equal(p.grad.data, np.clip(g, -0.7, 0.7))
    assert params[2].grad is None
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be >= 0"):
        clip_grad_value_(params, -1.0)


def test_parameters_to_vector_and_back():
    params = params_with_grads()
    for p in params:
        p.grad = None
    vec = parameters_to_vector(params)
    assert vec.shape == (10,)
    np.testing.assert_array_equal(vec.data, np.concatenate([p.data.reshape(-1) for p in params]))
    (vec * np.arange(10.0)).sum().backward()  # differentiable: each parameter gets its slice
    np.testing.assert_array_equal(params[0].grad.data, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(params[2].grad.data, 9.0)
    vector_to_parameters(Tensor(np.arange(10.0) * -1), params)
    np.testing.assert_array_equal(params[1].data, [-6.0, -7.0, -8.0])
    np.testing.assert_array_equal(params[2].data, -9.0)
    with pytest.raises(ValueError, match="vector_to_parameters: vec has 9 values, the parameters 10"):
        vector_to_parameters(np.zeros(9), params)
    with pytest.raises(ValueError, match="vector_to_parameters: vec must be 1-D"):
        vector_to_parameters(np.zeros((2, 5)), params)
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_


# ----------------------------------------------------------------------------- RMSprop and Adagrad


def torch_trajectory(torch, torch_cls, p0, grads, kwargs, groups=False):
    ts = [torch.tensor(p.copy(), requires_grad=True) for p in p0]
    opt = torch_cls([{"params": ts[:1], "lr": 0.03}, {"params": ts[1:]}] if groups else ts, **kwargs)
    out = []
    for g in grads:
        for t, gi in zip(ts, g):
            t.grad = torch.tensor(gi.copy())
        opt.step()
        out.append([t.detach().numpy().copy() for t in ts])
    return out


def our_trajectory(cls, p0, grads, kwargs, groups=False, save_at=None, tmp_path=None):
    ps = [Parameter(p.copy()) for p in p0]

    def make():
        return cls([{"params": ps[:1], "lr": 0.03}, {"params": ps[1:]}] if groups else ps, **kwargs)

    opt = make()
    out = []
    for step, g in enumerate(grads):
        if step == save_at:  # a fresh optimizer continues from the saved state, through a file
            path = tmp_path / "opt.npz"
            nn.save(opt.state_dict(), path)
            opt = make()
            opt.load_state_dict(nn.load(path))
        for p, gi in zip(ps, g):
            p.grad = Tensor(gi.copy())
        opt.step()
        out.append([p.data.copy() for p in ps])
    return out


RMSPROP_OPTIONS = [
    {},
    dict(momentum=0.9),
    dict(centered=True),
    dict(weight_decay=0.1),
    dict(lr=0.05, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
]
ADAGRAD_OPTIONS = [
    {},
    dict(lr_decay=0.1),
    dict(weight_decay=0.1),
    dict(initial_accumulator_value=0.5),
    dict(lr=0.3, lr_decay=0.05, weight_decay=0.2, initial_accumulator_value=0.1, eps=1e-3),
]


def problem(seed=0, steps=20):
    rng = np.random.default_rng(seed)
    p0 = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(steps)]
    return p0, grads


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("RMSprop", kw) for kw in RMSPROP_OPTIONS] + [("Adagrad", kw) for kw in ADAGRAD_OPTIONS],
)
@pytest.mark.parametrize("groups", [False, True])
def test_rmsprop_and_adagrad_match_torch_over_20_steps(name, kwargs, groups, tmp_path):
    torch = pytest.importorskip("torch")
    p0, grads = problem()
    cls = {"RMSprop": RMSprop, "Adagrad": Adagrad}[name]
    expected = torch_trajectory(torch, getattr(torch.optim, name), p0, grads, kwargs, groups)
    for save_at in (None, 7):
        got = our_trajectory(cls, p0, grads, kwargs, groups, save_at=save_at, tmp_path=tmp_path)
        for ours, theirs in zip(got, expected, strict=True):
            for a, b in zip(ours, theirs):
                assert_close(a, b)


def test_rmsprop_and_adagrad_follow_their_rules_for_a_constant_gradient():
    """Closed forms for g constant, one scalar parameter (no torch needed).

    RMSprop: v_t = (1 - alpha**t) g^2, step_t = lr g / (sqrt(v_t) + eps).
    Adagrad: sum_t = s0 + t g^2, step_t = lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum_t) + eps).
    """
    g, lr, alpha, eps, s0, decay = 0.5, 0.01, 0.9, 1e-8, 0.2, 0.3
    p = Parameter(1.0)
    opt = RMSprop([p], lr=lr, alpha=alpha, eps=eps)
    expected = 1.0
    for t in range(1, 6):
        p.grad = Tensor(g)
        opt.step()
        expected -= lr * g / (np.sqrt((1 - alpha**t) * g * g) + eps)
        assert_close(p.data, expected)
    q = Parameter(1.0)
    opt = Adagrad([q], lr=lr, lr_decay=decay, initial_accumulator_value=s0, eps=eps)
    expected = 1.0
    for t in range(1, 6):
        q.grad = Tensor(g)
        opt.step()
        expected -= lr / (1 + (t - 1) * decay) * g / (np.sqrt(s0 + t * g * g) + eps)
        assert_close(q.data, expected)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: RMSprop(p, lr=-1.0), "RMSprop: lr must be >= 0"),
        (lambda p: RMSprop(p, alpha=-0.1), "RMSprop: alpha must be >= 0"),
        (lambda p: RMSprop(p, momentum=-0.1), "RMSprop: momentum must be >= 0"),
        (lambda p: Adagrad(p, lr_decay=-0.1), "Adagrad: lr_decay must be >= 0"),
        (lambda p: Adagrad(p, initial_accumulator_value=-1), "Adagrad: initial_accumulator_value must be >= 0"),
        (lambda p: Adagrad(p, eps=-1.0), "Adagrad: eps must be >= 0"),
    ],
)
def test_bad_optimizer_options_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make([Parameter([1.0])])


def test_old_names_still_import_from_the_package():
    from nn import optim

    assert {"SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "Adagrad", "lr_scheduler"} <= set(optim.__all__)
    assert issubclass(RMSprop, Optimizer) and issubclass(Adagrad, Optimizer) and nn.optim.lr_scheduler is sched


# ----------------------------------------------------------------------------- lr schedulers


def two_groups(kind: str):
    """Our optimizer and torch's (or None) over the same two groups of different lrs."""
    ps = [Parameter(np.ones(2)), Parameter(np.ones(1))]
    groups = [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]
    ours = SGD(groups, lr=0.1, momentum=0.9) if kind == "sgd" else Adam(groups, lr=0.1)
    return ours, ps


def torch_two_groups(torch, kind: str):
    ts = [
        torch.ones(2, dtype=torch.float64, requires_grad=True),
        torch.ones(1, dtype=torch.float64, requires_grad=True),
    ]
    groups = [{"params": ts[:1]}, {"params": ts[1:], "lr": 0.05}]
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9) if kind == "sgd" else torch.optim.Adam(groups, lr=0.1)


def lambda0(e):
    return 0.95**e


def lambda1(e):
    return 1.0 / (1.0 + e)


SCHEDULES = {
    "StepLR": lambda M, o: M.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda M, o: M.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    "ExponentialLR": lambda M, o: M.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda M, o: M.CosineAnnealingLR(o, T_max=7, eta_min=0.001),  # 30 steps: 2 periods
    "CosineAnnealingLR_long": lambda M, o: M.CosineAnnealingLR(o, T_max=40),
    "LinearLR": lambda M, o: M.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=10),
    "LinearLR_default": lambda M, o: M.LinearLR(o),
    "LambdaLR": lambda M, o: M.LambdaLR(o, lambda0),
    "LambdaLR_per_group": lambda M, o: M.LambdaLR(o, [lambda0, lambda1]),
    "OneCycleLR": lambda M, o: M.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=30),
    "OneCycleLR_linear_three_phase": lambda M, o: M.OneCycleLR(
        o, max_lr=1.0, epochs=5, steps_per_epoch=6, three_phase=True, anneal_strategy="linear", pct_start=0.25
    ),
    "OneCycleLR_no_momentum": lambda M, o: M.OneCycleLR(
        o, max_lr=0.3, total_steps=31, cycle_momentum=False, div_factor=10.0, final_div_factor=100.0
    ),
    "SequentialLR": lambda M, o: M.SequentialLR(
        o,
        [M.LinearLR(o, start_factor=0.1, total_iters=5), M.CosineAnnealingLR(o, T_max=10), M.ExponentialLR(o, 0.8)],
        milestones=[5, 15],
    ),
    "SequentialLR_lambda_then_step": lambda M, o: M.SequentialLR(
        o, [M.LambdaLR(o, lambda1), M.StepLR(o, step_size=3, gamma=0.5)], milestones=[8]
    ),
}
STEPS = 30


def momenta(opt):
    return [g["momentum"] if "momentum" in g else g["betas"] for g in opt.param_groups]


def run_schedule(opt, scheduler, steps, start=0):
    lrs, moms = [], []
    for _ in range(start, steps):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        moms.append(momenta(opt))
    return lrs, moms


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_scheduler_trajectory_and_state_dict_round_trip_match_torch(name, kind, tmp_path):
    torch = pytest.importorskip("torch")
    import torch.optim.lr_scheduler as torch_sched

    make = SCHEDULES[name]
    topt = torch_two_groups(torch, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes about step order
        tsched = make(torch_sched, topt)
        first = tsched.get_last_lr()
        expected = run_schedule(topt, tsched, STEPS)

    opt, _ = two_groups(kind)
    scheduler = make(sched, opt)
    assert scheduler.get_last_lr() == first
    assert run_schedule(opt, scheduler, STEPS) == expected

    # interrupted at step 12: a fresh optimizer and scheduler load the saved states from a file
    opt, _ = two_groups(kind)
    scheduler = make(sched, opt)
    head = run_schedule(opt, scheduler, 12)
    nn.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "ckpt.npz")
    opt, _ = two_groups(kind)
    scheduler = make(sched, opt)
    saved = nn.load(tmp_path / "ckpt.npz")
    opt.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    assert scheduler.get_last_lr() == head[0][-1]
    tail = run_schedule(opt, scheduler, STEPS, start=12)
    assert (head[0] + tail[0], head[1] + tail[1]) == expected


def test_scheduler_load_state_dict_alone_restores_the_lrs():
    opt, _ = two_groups("sgd")
    s = sched.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        s.step()
    state = s.state_dict()
    assert state == {"last_epoch": 3, "base_lrs": [0.1, 0.05], "last_lr": [0.0125, 0.00625]}
    opt2, _ = two_groups("sgd")
    s2 = sched.ExponentialLR(opt2, gamma=0.5)
    s2.load_state_dict(state)  # without the optimizer's state
    assert [g["lr"] for g in opt2.param_groups] == [0.0125, 0.00625]
    s2.step()
    assert s2.get_last_lr() == [0.00625, 0.003125]
    with pytest.raises(ValueError, match="ExponentialLR.load_state_dict: 'last_lr' holds 1 values"):
        s2.load_state_dict({**state, "last_lr": [1.0]})
    with pytest.raises(ValueError, match=r"missing \['base_lrs'\]"):
        s2.load_state_dict({"last_epoch": 1, "last_lr": [1.0, 1.0]})


def test_closed_forms_of_the_docstrings():
    """The schedules' documented closed forms (no torch needed)."""
    opt, _ = two_groups("sgd")
    s = sched.StepLR(opt, step_size=3, gamma=0.1)
    cos_opt, _ = two_groups("sgd")
    c = sched.CosineAnnealingLR(cos_opt, T_max=10, eta_min=0.01)
    lin_opt, _ = two_groups("sgd")
    lin = sched.LinearLR(lin_opt, start_factor=0.5, total_iters=4)
    for t in range(1, 25):
        s.step()
        c.step()
        lin.step()
        assert_close(s.get_last_lr()[0], 0.1 * 0.1 ** (t // 3), rtol=1e-12)
        assert_close(c.get_last_lr()[0], 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2, rtol=1e-12)
        assert_close(lin.get_last_lr()[1], 0.05 * (0.5 + 0.5 * min(t, 4) / 4), rtol=1e-12)


def test_one_cycle_lr_shape():
    opt, _ = two_groups("sgd")
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=20, pct_start=0.25)
    lrs = [s.get_last_lr()[0]] + [(opt.step(), s.step(), s.get_last_lr()[0])[2] for _ in range(19)]
    assert_close(lrs[0], 1.0 / 25)
    assert max(lrs) == 1.0 and lrs.index(1.0) == 4
    assert_close(lrs[-1], 1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == 0.95  # back to max_momentum at the end
    s.step()  # step total_steps is still allowed (as torch)
    with pytest.raises(ValueError, match="OneCycleLR: stepped 21 times, but the schedule has total_steps=20"):
        s.step()


def test_reduce_lr_on_plateau_matches_the_rule_and_torch():
    losses = [1.0, 0.9, 0.95, 0.91, 0.92, 0.5, 0.6, 0.6, 0.7, 0.49, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.1]
    opt, _ = two_groups("sgd")
    s = sched.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=[0.02, 0.0])
    got = []
    for loss in losses:
        s.step(loss)
        got.append(s.get_last_lr())
    # by hand: best 0.9 at step 2; bad 3, 4, 5 -> reduced after step 5 (> 2 bad); 0.5 new best at step 6; ...
    assert got[3] == [0.1, 0.05] and got[4] == [0.05, 0.025]
    assert got[-1] == [0.02, 0.003125]  # the first group stops at its min_lr
    torch = pytest.importorskip("torch")
    import torch.optim.lr_scheduler as torch_sched

    for mode, threshold_mode, sign in [("min", "rel", 1), ("min", "abs", 1), ("max", "rel", -1), ("max", "abs", -1)]:
        opt, _ = two_groups("adam")
        topt = torch_two_groups(torch, "adam")
        kwargs = dict(mode=mode, threshold_mode=threshold_mode, factor=0.5, patience=1, threshold=0.05, cooldown=2)
        ours, theirs = sched.ReduceLROnPlateau(opt, **kwargs), torch_sched.ReduceLROnPlateau(topt, **kwargs)
        for i, loss in enumerate(losses):
            ours.step(Tensor(sign * loss))
            theirs.step(sign * loss)
            assert ours.get_last_lr() == theirs.get_last_lr()
            if i == 8:  # a round trip mid-way, through a file-like copy
                state = {k: np.asarray(v) for k, v in ours.state_dict().items()}
                opt2, _ = two_groups("adam")
                ours = sched.ReduceLROnPlateau(opt2, **kwargs)
                ours.load_state_dict(state)
                opt = opt2


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: sched.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be a positive integer"),
        (lambda o: sched.MultiStepLR(o, milestones=[1.5]), ValueError, "MultiStepLR: milestones must be integers"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=0), ValueError, "CosineAnnealingLR: T_max must be a positive"),
        (lambda o: sched.LinearLR(o, start_factor=0.0), ValueError, r"LinearLR: start_factor must lie in \(0, 1\]"),
        (lambda o: sched.LinearLR(o, end_factor=1.5), ValueError, r"LinearLR: end_factor must lie in \[0, 1\]"),
        (lambda o: sched.LambdaLR(o, [lambda0]), ValueError, "LambdaLR: expected 2 values of lr_lambda"),
        (lambda o: sched.LambdaLR(o, 0.5), TypeError, "LambdaLR: lr_lambda must be a function"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0), ValueError, "OneCycleLR: give total_steps, or both epochs"),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=10, pct_start=1.5), ValueError, r"pct_start must lie in"),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=10, pct_start=0.1), ValueError, "a phase of the schedule"),
        (lambda o: sched.OneCycleLR(Adagrad(o.param_groups[0]["params"]), 1.0, total_steps=10), ValueError,
         "cycle_momentum=True needs an optimizer with momentum"),
        (lambda o: sched.SequentialLR(o, [sched.StepLR(o, 2)], milestones=[3]), ValueError, "need 0 milestones"),
        (lambda o: sched.SequentialLR(o, [sched.ReduceLROnPlateau(o), sched.StepLR(o, 2)], [3]), TypeError,
         "ReduceLROnPlateau"),
        (lambda o: sched.ReduceLROnPlateau(o, factor=1.0), ValueError, "ReduceLROnPlateau: factor must be < 1"),
        (lambda o: sched.ReduceLROnPlateau(o, mode="up"), ValueError, "mode must be 'min' or 'max'"),
        (lambda o: sched.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 values of min_lr"),
        (lambda o: sched.StepLR("not an optimizer", 2), TypeError, "StepLR: expected an nn.optim optimizer"),
    ],
)  # fmt: skip
def test_bad_scheduler_arguments_are_refused(make, error, match):
    opt, _ = two_groups("sgd")
    with pytest.raises(error, match=match):
        make(opt)


# ----------------------------------------------------------------------------- nn.data


def xy(n=10):
    return np.arange(n * 2, dtype=np.float64).reshape(n, 2), np.arange(n)


def test_tensor_dataset_and_loader_in_order():
    X, y = xy()
    ds = TensorDataset(X, y)
    assert len(ds) == 10
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3.data, X[3])
    assert y3.item() == 3
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert all(isinstance(b, tuple) and isinstance(b[0], Tensor) for b in batches)
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), y)
    np.testing.assert_array_equal(np.concatenate([b[0].data for b in batches]), X)
    dropped = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [b[1].shape for b in dropped] == [(4,), (4,)]
    assert len(DataLoader(ds)) == 10 and len(DataLoader(ds, batch_size=20, drop_last=True)) == 0


def test_shuffle_is_a_fresh_permutation_each_pass_and_reproducible():
    X, y = xy(50)
    ds = TensorDataset(X, y)
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(0))
    first = np.concatenate([b[1].data for b in loader])
    second = np.concatenate([b[1].data for b in loader])
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert not np.array_equal(first, second) and not np.array_equal(first, np.arange(50))
    np.testing.assert_array_equal(first, np.random.default_rng(0).permutation(50))
    again = DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in again]), first)
    for b in loader:  # rows stay together
        np.testing.assert_array_equal(b[0].data, X[b[1].data])
    # without a generator: the library-wide one, which manual_seed seeds
    shared = DataLoader(ds, batch_size=50, shuffle=True)
    manual_seed(7)
    a = next(iter(shared))[1].data
    manual_seed(7)
    np.testing.assert_array_equal(next(iter(shared))[1].data, a)


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], dtype=np.float64), "pair": (float(i), Tensor(np.full(3, i)))}


def test_loader_stacks_samples_of_any_dataset():
    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    b = batches[1]
    assert set(b) == {"x", "pair"}
    np.testing.assert_array_equal(b["x"].data, [[2, 4], [3, 9]])
    assert isinstance(b["pair"], tuple)
    np.testing.assert_array_equal(b["pair"][0].data, [2.0, 3.0])
    np.testing.assert_array_equal(b["pair"][1].data, [[2, 2, 2], [3, 3, 3]])
    assert batches[2]["x"].shape == (1, 2)
    custom = DataLoader(Squares(), batch_size=5, collate_fn=len)
    assert list(custom) == [5]


def test_loader_keeps_gradients_of_samples():
    w = Parameter(np.ones(3))
    ds = [w * i for i in range(4)]  # a list is a dataset too
    (batch,) = DataLoader(ds, batch_size=4)
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad.data, np.full(3, 6.0))


def test_data_errors():
    with pytest.raises(ValueError, match="TensorDataset: every tensor needs the same first axis"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="TensorDataset: needs at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive integer"):
        DataLoader([1, 2], batch_size=0)
    with pytest.raises(TypeError, match="DataLoader: rng must be an np.random.Generator"):
        DataLoader([1, 2], generator=3)
    with pytest.raises(TypeError, match="DataLoader: cannot stack samples of type str"):
        list(DataLoader(["a", "b"], batch_size=2))


def test_random_split_by_lengths_and_fractions():
    X, y = xy(10)
    ds = TensorDataset(X, y)
    a, b = random_split(ds, [3, 7], generator=np.random.default_rng(0))
    assert isinstance(a, Subset) and (len(a), len(b)) == (3, 7)
    assert sorted(a.indices + b.indices) == list(range(10))
    assert a[0][1].item() == a.indices[0]
    # fractions, as PyTorch: floor(f * n) each, the leftovers one by one to the first splits
    sizes = [len(s) for s in random_split(range(11), [0.5, 0.5], generator=np.random.default_rng(1))]
    assert sizes == [6, 5]
    sizes = [len(s) for s in random_split(range(10), [0.3, 0.3, 0.4])]
    assert sizes == [3, 3, 4]
    sizes = [len(s) for s in random_split(range(7), [0.25, 0.25, 0.25, 0.25])]
    assert sizes == [2, 2, 2, 1]
    # reproducible, from the given or the library-wide generator
    first = random_split(range(20), [5, 15], generator=np.random.default_rng(3))[0].indices
    assert random_split(range(20), [5, 15], generator=np.random.default_rng(3))[0].indices == first
    manual_seed(3)
    assert random_split(range(20), [5, 15])[0].indices == first
    with pytest.raises(ValueError, match="random_split: lengths \\[3, 3\\] sum to 6, but the dataset has 10"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="random_split: lengths must be integers summing to 10"):
        random_split(ds, [2.5, 7.5])
    loader = DataLoader(b, batch_size=4)  # a Subset feeds a DataLoader
    assert [len(batch[1].data) for batch in loader] == [4, 3]


def test_random_split_sizes_match_torch():
    torch = pytest.importorskip("torch")
    for n, lengths in [(11, [0.5, 0.5]), (10, [0.3, 0.3, 0.4]), (7, [0.25] * 4), (13, [0.1, 0.2, 0.7]), (5, [2, 3])]:
        ours = [len(s) for s in random_split(range(n), lengths, generator=np.random.default_rng(0))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
        assert ours == theirs, (n, lengths)
