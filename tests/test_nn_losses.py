"""The losses of nn/losses.py: gradients (first and second) against numpy, values and gradients
against PyTorch for every option, stability at huge logits, and the errors.

* ``CASES``: each loss as an op_checks ``Case`` (tests/op_checks.py): its value equals an
  independent numpy reference, its first and second derivatives (w.r.t. the input, and the
  target where the loss is differentiable in it) equal central differences, float32 stays
  float32. Inputs keep away from kinks (|x - t| from 0 for l1, from beta/delta for
  smooth_l1/huber) by KINK_GAP, and probabilities away from 0 and 1 (BCE's 1/(x (1 - x))).
* torch: the same losses on fixed random data for every combination of options (reduction,
  weight, ignore_index, label_smoothing, trailing dims, probability targets, pos_weight),
  comparing values, gradients and second derivatives (a Hessian-vector product) in float64.
  Both compute the same formulas, summed in other orders: a few ulps of the terms, which are
  <~ 1e2 here (1e4 at huge logits), so rtol 1e-12 with atol 1e-12 leaves a wide margin while a
  wrong formula (a factor, a sign, a missing term) is off by O(1e-2) or more.
"""

from __future__ import annotations

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import Case, check_first, check_float32, check_second

import autograd
import nn
import nn.functional as F
from autograd import Tensor, grad

TOL = {"rtol": 1e-12, "atol": 1e-12}
REDUCTIONS = ["none", "sum", "mean"]


# ----------------------------------------------------------------------------- numpy references


def np_log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.float64(loss.mean())
    if reduction == "sum":
        return np.float64(loss.sum())
    return loss


def np_class_loss(z, target, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """PyTorch's formulas, written as its docs give them: z log-probabilities (N, C, ...) or (C,);
    for class indices (1 - eps) nll + eps / C * (the smoothing term), the mean divided by
    sum w_{t_i} over the targets kept; for probabilities -sum_c w_c q_c z_c averaged per sample."""
    unbatched = z.ndim == 1
    if unbatched:
        z, target = z[None], target[None]
    n_classes = z.shape[1]
    w = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    w_b = w.reshape((1, n_classes) + (1,) * (z.ndim - 2))
    if target.dtype.kind == "f":
        q = target * (1 - eps) + eps / n_classes
        per = -(z * q * w_b).sum(axis=1)
        out = np.float64(per.mean()) if reduction == "mean" else np_reduce(per, reduction)
    else:
        kept = target != ignore_index
        safe = np.where(kept, target, 0)
        picked = np.take_along_axis(z, safe[:, None], axis=1)[:, 0]
        w_t = w[safe] * kept
        nll = -w_t * picked
        smooth = -(z * w_b).sum(axis=1) * kept
        per = (1 - eps) * nll + eps / n_classes * smooth
        out = np.float64(per.sum() / w_t.sum()) if reduction == "mean" else np_reduce(per, reduction)
    return out[0] if unbatched and reduction == "none" else out


def np_softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def np_bce(x, t, weight=None, reduction="mean"):
    loss = -(t * np.maximum(np.log(x), -100.0) + (1 - t) * np.maximum(np.log1p(-x), -100.0))
    return np_reduce(loss if weight is None else loss * weight, reduction)


def np_bce_logits(x, t, weight=None, reduction="mean", pos_weight=None):
    p = 1.0 if pos_weight is None else pos_weight
    loss = p * t * np_softplus(-x) + (1 - t) * np_softplus(x)
    return np_reduce(loss if weight is None else loss * weight, reduction)


def np_smooth_l1(x, t, reduction, beta):
    d = np.abs(x - t)
    loss = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return np_reduce(loss, reduction)


def np_huber(x, t, reduction, delta):
    d = np.abs(x - t)
    return np_reduce(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def np_kl(x, t, reduction, log_target):
    loss = np.exp(t) * (t - x) if log_target else t * (np.log(t) - x)
    if reduction == "batchmean":
        return np.float64(loss.sum() / (x.shape[0] if x.ndim else 1))
    return np_reduce(loss, reduction)


# ----------------------------------------------------------------------------- the cases

PROBABILITY = S.floats(0.05, 0.95)  # BCE's input: 1/(x (1 - x)) and its derivatives stay moderate
UNIT = S.floats(0.0, 1.0)
POSITIVE_WEIGHT = S.floats(0.2, 2.0)


@st.composite
def class_problem(draw):
    """Logits of shape (C,), (N, C), (N, C, d1) or (N, C, d1, d2), with C, N, d <= 3 (4-D: d <= 2)."""
    layout = draw(st.sampled_from(["C", "NC", "NCd", "NCdd"]), label="layout")
    c = draw(st.integers(1, 3), label="C")
    n = draw(st.integers(1, 3), label="N")
    trailing = {"C": (), "NC": (), "NCd": (draw(st.integers(1, 3)),), "NCdd": (2, draw(st.integers(1, 2)))}[layout]
    shape = (c,) if layout == "C" else (n, c) + trailing
    index_shape = () if layout == "C" else (n,) + trailing
    return shape, index_shape, c


@st.composite
def class_indices(draw, index_shape, c, ignore_index, reduction):
    """Labels in [0, C), some equal to ignore_index; with "mean" at least one is kept."""
    choices = list(range(c)) + [ignore_index]
    labels = draw(hnp.arrays(np.int64, index_shape, elements=st.sampled_from(choices)), label="labels")
    kept = labels != ignore_index
    if reduction == "mean" and not kept.any():  # all ignored: 0 / 0 (NaN, as PyTorch), not differentiable
        labels.flat[0] = 0 if ignore_index != 0 else c - 1
    return labels


def _cross_entropy_indices(op):
    def draw(data):
        shape, index_shape, c = data.draw(class_problem(), label="problem")
        reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
        ignore_index = data.draw(st.sampled_from([-100, 0] if c > 1 else [-100]), label="ignore_index")
        labels = data.draw(class_indices(index_shape, c, ignore_index, reduction))
        weight = data.draw(st.one_of(st.none(), S.arrays((c,), POSITIVE_WEIGHT)), label="weight")
        eps = data.draw(st.sampled_from([0.0, 0.1, 0.5]), label="label_smoothing") if op == "ce" else 0.0
        x = data.draw(S.arrays(shape), label="x")
        options = {"ignore_index": ignore_index, "reduction": reduction}
        if op == "ce":

            def fn(t):
                return F.cross_entropy(t, labels, weight, label_smoothing=eps, **options)

            def ref(a):
                return np_class_loss(np_log_softmax(a, 0 if a.ndim == 1 else 1), labels, weight, eps=eps, **options)
        else:

            def fn(t):
                return F.nll_loss(t, labels, weight, **options)

            def ref(a):
                return np_class_loss(a, labels, weight, **options)

        return [x], fn, ref

    return draw


def _cross_entropy_probabilities(data):
    shape, _, c = data.draw(class_problem(), label="problem")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    weight = data.draw(st.one_of(st.none(), S.arrays((c,), POSITIVE_WEIGHT)), label="weight")
    eps = data.draw(st.sampled_from([0.0, 0.2]), label="label_smoothing")
    x = data.draw(S.arrays(shape), label="x")
    p = data.draw(S.arrays(shape, UNIT), label="p")

    def ref(a, q):
        return np_class_loss(np_log_softmax(a, 0 if a.ndim == 1 else 1), q, weight, reduction=reduction, eps=eps)

    return [x, p], (lambda t, q: F.cross_entropy(t, q, weight, reduction=reduction, label_smoothing=eps)), ref


@st.composite
def elementwise_weight(draw, shape):
    """None, one weight per class of the last axis, or one per element."""
    kind = draw(st.sampled_from(["none", "last", "full"]), label="weight kind")
    if kind == "none" or (kind == "last" and not shape):
        return None
    return draw(S.arrays(shape[-1:] if kind == "last" else shape, POSITIVE_WEIGHT), label="weight")


def _bce(data):
    shape = data.draw(S.shapes(), label="shape")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    weight = data.draw(elementwise_weight(shape))
    x = data.draw(S.arrays(shape, PROBABILITY), label="x")
    t = data.draw(S.arrays(shape, UNIT), label="t")
    return (
        [x, t],
        lambda a, b: F.binary_cross_entropy(a, b, weight, reduction=reduction),
        lambda a, b: np_bce(a, b, weight, reduction),
    )


def _bce_logits(data):
    shape = data.draw(S.shapes(), label="shape")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    weight = data.draw(elementwise_weight(shape))
    pos_weight = data.draw(elementwise_weight(shape), label="pos_weight")
    x = data.draw(S.arrays(shape), label="x")
    t = data.draw(S.arrays(shape, UNIT), label="t")
    return (
        [x, t],
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight, reduction=reduction, pos_weight=pos_weight),
        lambda a, b: np_bce_logits(a, b, weight, reduction, pos_weight),
    )


def _differences(data, kinks: list[float]):
    """x and t with |x - t| at least KINK_GAP away from each of ``kinks``: x = t + d."""
    shape = data.draw(S.shapes(), label="shape")
    t = data.draw(S.arrays(shape), label="t")
    away = S.floats(-3.0, 3.0).filter(lambda v: all(abs(abs(v) - k) >= S.KINK_GAP for k in kinks))
    d = data.draw(S.arrays(shape, away), label="d")
    return t + d, t


def _l1(data):
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    x, t = _differences(data, [0.0])
    return (
        [x, t],
        (lambda a, b: F.l1_loss(a, b, reduction=reduction)),
        (lambda a, b: np_reduce(np.abs(a - b), reduction)),
    )


def _smooth_l1(data):
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    beta = data.draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]), label="beta")
    x, t = _differences(data, [beta])
    return (
        [x, t],
        lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
        lambda a, b: np_smooth_l1(a, b, reduction, beta),
    )


def _huber(data):
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    delta = data.draw(st.sampled_from([0.5, 1.0, 2.0]), label="delta")
    x, t = _differences(data, [delta])
    return [x, t], (lambda a, b: F.huber_loss(a, b, reduction, delta)), (lambda a, b: np_huber(a, b, reduction, delta))


def _kl_div(data):
    shape = data.draw(S.shapes(), label="shape")
    reduction = data.draw(st.sampled_from(["none", "sum", "mean", "batchmean"]), label="reduction")
    log_target = data.draw(st.booleans(), label="log_target")
    x = data.draw(S.arrays(shape), label="x")
    t = data.draw(S.arrays(shape, None if log_target else S.floats(0.2, 3.0)), label="t")  # log t needs t >= 0.2
    return (
        [x, t],
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
        lambda a, b: np_kl(a, b, reduction, log_target),
    )


def _mse(data):
    shape = data.draw(S.shapes(), label="shape")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    x = data.draw(S.arrays(shape), label="x")
    t = data.draw(S.arrays(shape), label="t")
    return [x, t], (lambda a, b: F.mse_loss(a, b, reduction)), (lambda a, b: np_reduce((a - b) ** 2, reduction))


CASES: list[Case] = [
    Case("cross_entropy_indices", _cross_entropy_indices("ce")),  # LogSoftmax, ClassLabels
    Case("cross_entropy_probabilities", _cross_entropy_probabilities),
    Case("nll_loss", _cross_entropy_indices("nll")),  # ClassLabels
    Case("binary_cross_entropy", _bce),  # BinaryCrossEntropy
    Case("binary_cross_entropy_with_logits", _bce_logits),  # Softplus
    Case("l1_loss", _l1),
    Case("smooth_l1_loss", _smooth_l1),
    Case("huber_loss", _huber),
    Case("kl_div", _kl_div),
    Case("mse_loss", _mse),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=25)
@given(data=st.data())
def test_forward_and_first_derivative(case: Case, data: st.DataObject) -> None:
    check_first(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=15)
@given(data=st.data())
def test_second_derivative(case: Case, data: st.DataObject) -> None:
    check_second(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=10)
@given(data=st.data())
def test_float32_in_float32_out_and_float32_grads(case: Case, data: st.DataObject) -> None:
    check_float32(case, data)


# ----------------------------------------------------------------------------- against torch


def _ours_and_torch(ours, theirs, arrays, seed=0):
    """Value, first gradients and a Hessian-vector product of sum(u * loss), by us and by torch,
    for the same u and v (normal draws): [value, d/d(array i)..., d/d(array i) of sum(v * first)...].
    Every array gets gradients (integer labels are closed over by ``ours`` and ``theirs``)."""
    torch = pytest.importorskip("torch")

    def run(leaf, values, grad_of, wrap, fn):
        draws = np.random.default_rng(seed)
        leaves = [leaf(a) for a in arrays]
        out = fn(*leaves)
        firsts = grad_of((out * wrap(draws.normal(size=tuple(out.shape)))).sum(), leaves, True)
        vs = [wrap(draws.normal(size=a.shape)) for a in arrays]
        s = sum(((g * v).sum() for g, v in zip(firsts, vs) if g is not None), start=0)
        seconds = grad_of(s, leaves, False) if getattr(s, "requires_grad", False) else [None] * len(arrays)
        grads = [np.zeros(a.shape) if g is None else values(g) for g, a in zip([*firsts, *seconds], arrays + arrays)]
        return [values(out), *grads]

    mine = run(
        lambda a: Tensor(a, requires_grad=True),
        lambda t: np.asarray(t.data),
        lambda y, xs, cg: grad(y, xs, create_graph=cg, allow_unused=True),
        np.asarray,
        ours,
    )
    theirs_ = run(
        lambda a: torch.tensor(a, requires_grad=True),
        lambda t: t.detach().numpy(force=True),  # (force: torch's ZeroTensor second derivatives)
        lambda y, xs, cg: torch.autograd.grad(y, xs, create_graph=cg, allow_unused=True),
        torch.as_tensor,
        theirs,
    )
    return mine, theirs_


def _assert_same(mine, theirs, what, second_tol=None):
    """Equal values, first and second derivatives (``second_tol`` for the last, if given)."""
    k = (len(mine) - 1) // 2
    names = ["value"] + [f"d/d(input {i})" for i in range(k)] + [f"second derivative (input {i})" for i in range(k)]
    for j, (name, a, b) in enumerate(zip(names, mine, theirs)):
        assert np.shape(a) == np.shape(b), f"{what}: {name} shape {np.shape(a)} vs torch {np.shape(b)}"
        tol = second_tol if second_tol is not None and j > k else TOL
        np.testing.assert_allclose(a, b, err_msg=f"{what}: {name}", **tol)


LAYOUTS = {"C": (4,), "NC": (5, 4), "NCd": (3, 4, 2), "NCdd": (2, 4, 3, 2)}


def _class_data(layout, seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    shape = LAYOUTS[layout]
    index_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    x = rng.normal(size=shape) * 2.0 * scale
    labels = rng.integers(0, shape[0 if len(shape) == 1 else 1], size=index_shape)
    return x, labels, rng


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore", [None, -100, 2], ids=["no_ignored", "ignore_-100", "ignore_2"])
@pytest.mark.parametrize("eps", [0.0, 0.25], ids=["eps0", "eps0.25"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_class_indices_matches_torch(layout, weighted, ignore, eps, reduction):
    torch = pytest.importorskip("torch")
    x, labels, rng = _class_data(layout)
    weight = rng.uniform(0.2, 2.0, size=4) if weighted else None
    options = {"reduction": reduction, "label_smoothing": eps}
    if ignore is not None:
        options["ignore_index"] = ignore
        labels = np.where(rng.random(labels.shape) < 0.3, ignore, labels)
        labels.flat[0] = 1  # one kept target, at least
    tw = None if weight is None else torch.as_tensor(weight)
    mine, theirs = _ours_and_torch(
        lambda a: F.cross_entropy(a, labels, weight, **options),
        lambda a: torch.nn.functional.cross_entropy(a, torch.as_tensor(labels), tw, **options),
        [x],
    )
    _assert_same(mine, theirs, f"cross_entropy {layout} {options}")


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("eps", [0.0, 0.25], ids=["eps0", "eps0.25"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_class_probabilities_matches_torch(layout, weighted, eps, reduction):
    """Gradients w.r.t. the logits and the probabilities, and second derivatives."""
    torch = pytest.importorskip("torch")
    x, _, rng = _class_data(layout)
    p = np_log_softmax(rng.normal(size=x.shape), 0 if x.ndim == 1 else 1)
    p = np.exp(p)
    weight = rng.uniform(0.2, 2.0, size=4) if weighted else None
    tw = None if weight is None else torch.as_tensor(weight)
    options = {"reduction": reduction, "label_smoothing": eps}
    mine, theirs = _ours_and_torch(
        lambda a, q: F.cross_entropy(a, q, weight, **options),
        lambda a, q: torch.nn.functional.cross_entropy(a, q, tw, **options),
        [x, p],
    )
    _assert_same(mine, theirs, f"cross_entropy probabilities {layout} {options}")


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore", [None, -100, 0], ids=["no_ignored", "ignore_-100", "ignore_0"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(layout, weighted, ignore, reduction):
    torch = pytest.importorskip("torch")
    x, labels, rng = _class_data(layout)
    z = np_log_softmax(x, 0 if x.ndim == 1 else 1)
    weight = rng.uniform(0.2, 2.0, size=4) if weighted else None
    options = {"reduction": reduction}
    if ignore is not None:
        options["ignore_index"] = ignore
        labels = np.where(rng.random(labels.shape) < 0.3, ignore, labels)
        labels.flat[0] = 1
    tw = None if weight is None else torch.as_tensor(weight)
    mine, theirs = _ours_and_torch(
        lambda a: F.nll_loss(a, labels, weight, **options),
        lambda a: torch.nn.functional.nll_loss(a, torch.as_tensor(labels), tw, **options),
        [z],
    )
    _assert_same(mine, theirs, f"nll_loss {layout} {options}")


@pytest.mark.parametrize("weight_kind", ["none", "last", "full"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(weight_kind, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.uniform(0.02, 0.98, size=(3, 4))
    t = rng.uniform(0.0, 1.0, size=(3, 4))
    t[0, :2] = [0.0, 1.0]  # hard labels too
    weight = {"none": None, "last": rng.uniform(0.2, 2.0, size=4), "full": rng.uniform(0.2, 2.0, size=(3, 4))}[
        weight_kind
    ]
    tw = None if weight is None else torch.as_tensor(weight)
    mine, theirs = _ours_and_torch(
        lambda a, b: F.binary_cross_entropy(a, b, weight, reduction=reduction),
        lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, tw, reduction=reduction),
        [x, t],
    )
    # Values and first derivatives to TOL. PyTorch's double backward of BCE loses ~3e-11 relative
    # here (at x = 0.79, the second derivative in exact rational arithmetic agrees with ours to
    # 1e-16 and with torch's to 2.7e-11: see the next test), so second derivatives get rtol 1e-9.
    _assert_same(mine, theirs, f"binary_cross_entropy {weight_kind} {reduction}", {"rtol": 1e-9, "atol": 1e-9})


def test_binary_cross_entropy_second_derivative_is_exact():
    """d2l/dx2 = (m - (x - t)(1 - 2x)) / m**2 and d2l/dxdt = -1/m, m = x (1 - x), in exact
    rational arithmetic (Fraction), against autograd's at a few points: ulps apart."""
    from fractions import Fraction

    x_values, t_values = np.array([0.02, 0.3, 0.79, 0.98]), np.array([0.0, 0.9, 0.1, 0.5])
    x, t = Tensor(x_values, requires_grad=True), Tensor(t_values, requires_grad=True)
    gx, _ = grad(F.binary_cross_entropy(x, t, reduction="sum"), [x, t], create_graph=True)
    d2x, d2xt = grad(gx.sum(), [x, t])
    for i, (xv, tv) in enumerate(zip(x_values, t_values)):
        X, T = Fraction(xv), Fraction(tv)
        m = X * (1 - X)
        assert float(d2x.data[i]) == pytest.approx(float((m - (X - T) * (1 - 2 * X)) / (m * m)), rel=1e-14)
        assert float(d2xt.data[i]) == pytest.approx(float(-1 / m), rel=1e-14)


def test_binary_cross_entropy_at_0_and_1_is_finite_and_equals_torch():
    """The logs are clamped at -100 and the input gradient divides by max(x (1 - x), 1e-12)."""
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 1e-50, 1e-13, 0.5, 1.0 - 1e-13, 1.0])
    t = np.array([0.3, 0.3, 1.0, 0.3, 0.0, 0.3])
    ours = Tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy(ours, t, reduction="none")
    loss.sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    t_loss = torch.nn.functional.binary_cross_entropy(theirs, torch.as_tensor(t), reduction="none")
    t_loss.sum().backward()
    assert np.all(np.isfinite(loss.data)) and np.all(np.isfinite(ours.grad.data))
    np.testing.assert_allclose(loss.data, t_loss.detach().numpy(), **TOL)
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **TOL)
    np.testing.assert_allclose(loss.data[[0, 5]], [100 * 0.3, 100 * 0.7], rtol=1e-15)  # the clamp


def test_binary_cross_entropy_target_gradient_is_clamped_like_the_loss():
    """dl/dt = log(1 - x) - log(x), each clamped at -100 as in the forward: finite at x = 0
    and 1 (PyTorch gives +-inf there; elsewhere the two agree)."""
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 0.25, 1.0])
    t = Tensor(np.array([0.5, 0.5, 0.5]), requires_grad=True)
    F.binary_cross_entropy(x, t, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.data, [100.0, np.log(3.0), -100.0], rtol=1e-15)
    tt = torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(torch.as_tensor(x), tt, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.data[1], tt.grad.numpy()[1], rtol=1e-15)


@pytest.mark.parametrize("weight_kind", ["none", "last", "full"])
@pytest.mark.parametrize("pos_kind", ["none", "last", "full"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_matches_torch(weight_kind, pos_kind, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4)) * 3
    x[0, 0] = 0.0  # softplus's slope there is 1/2 (a composition of relu and abs gets 0 or 1)
    t = rng.uniform(0.0, 1.0, size=(3, 4))
    t[1, :2] = [0.0, 1.0]
    make = {
        "none": lambda: None,
        "last": lambda: rng.uniform(0.2, 2.0, size=4),
        "full": lambda: rng.uniform(0.2, 2.0, size=(3, 4)),
    }
    weight, pos_weight = make[weight_kind](), make[pos_kind]()

    def as_t(a):
        return None if a is None else torch.as_tensor(a)

    mine, theirs = _ours_and_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight, reduction=reduction, pos_weight=pos_weight),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, as_t(weight), reduction=reduction, pos_weight=as_t(pos_weight)
        ),
        [x, t],
    )
    _assert_same(mine, theirs, f"binary_cross_entropy_with_logits {weight_kind} {pos_kind} {reduction}")


@pytest.mark.parametrize(
    ("name", "options"),
    [("l1_loss", {})]
    + [("smooth_l1_loss", {"beta": b}) for b in (0.0, 0.5, 1.0, 2.0)]
    + [("huber_loss", {"delta": d}) for d in (0.5, 1.0, 2.0)]
    + [("mse_loss", {})],
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(name, options, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5)) * 2
    t = rng.normal(size=(3, 5))
    t[0, 0] = x[0, 0]  # a zero difference: |d| has gradient 0 there in both
    mine, theirs = _ours_and_torch(
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, **options),
        lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction, **options),
        [x, t],
    )
    _assert_same(mine, theirs, f"{name} {options} {reduction}")


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # torch's note on "mean"
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2), (5,)])
def test_kl_div_matches_torch(reduction, log_target, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = np_log_softmax(rng.normal(size=shape), -1)
    p = np.exp(np_log_softmax(rng.normal(size=shape), -1))
    t = np.log(p) if log_target else p
    options = {"reduction": reduction, "log_target": log_target}
    mine, theirs = _ours_and_torch(
        lambda a, b: F.kl_div(a, b, **options),
        lambda a, b: torch.nn.functional.kl_div(a, b, **options),
        [x, t],
    )
    _assert_same(mine, theirs, f"kl_div {shape} {options}")


def test_kl_div_mean_averages_over_all_elements_and_batchmean_over_the_batch():
    x = np.log(np.full((2, 4), 0.25))
    p = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]])
    kl_rows = (p * (np.log(p) - x)).sum(axis=1)  # the KL divergence of each sample
    assert F.kl_div(x, p, reduction="batchmean").item() == pytest.approx(kl_rows.mean(), rel=1e-14)
    assert F.kl_div(x, p, reduction="mean").item() == pytest.approx(kl_rows.sum() / 8, rel=1e-14)
    assert F.kl_div(x[0], p[0], reduction="batchmean").item() == pytest.approx(kl_rows[0] / 4, rel=1e-14)
    assert F.kl_div(Tensor(0.5), 0.25, reduction="batchmean").item() == pytest.approx(0.25 * (np.log(0.25) - 0.5))


def test_kl_div_target_zero_is_zero_like_xlogy():
    x = Tensor(np.array([-1.0, -2.0]), requires_grad=True)
    t = Tensor(np.array([0.0, 0.5]), requires_grad=True)
    loss = F.kl_div(x, t, reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(0.5 * (np.log(0.5) + 2.0))
    np.testing.assert_allclose(x.grad.data, [0.0, -0.5])
    np.testing.assert_allclose(t.grad.data, [1.0, np.log(0.5) + 1 + 2.0])  # at p = 0: -input


# ----------------------------------------------------------------------------- huge logits


HUGE = np.array([[1e4, 0.0, -1e4, 5.0], [-1e4, -1e4, 1e4, 1e4], [3.0, -1e4, 2.0, 1e4]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"weight": np.array([0.5, 2.0, 1.0, 0.25])},
        {"label_smoothing": 0.2},
        {"ignore_index": 3, "weight": np.array([0.5, 2.0, 1.0, 0.25]), "label_smoothing": 0.1},
        {"probabilities": True, "label_smoothing": 0.1, "weight": np.array([0.5, 2.0, 1.0, 0.25])},
    ],
    ids=["plain", "weight", "smoothing", "ignore_weight_smoothing", "probabilities"],
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_at_logits_1e4_is_finite_and_equals_torch(dtype, options, reduction):
    torch = pytest.importorskip("torch")
    options = dict(options)
    labels = np.array([2, 0, 3])
    if options.pop("probabilities", False):
        labels = np.array([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]], dtype=dtype)
    weight = options.pop("weight", None)
    x = Tensor(HUGE, requires_grad=True, dtype=dtype)
    loss = F.cross_entropy(x, labels, weight, reduction=reduction, **options)
    assert loss.dtype == dtype
    (loss * np.linspace(1.0, 2.0, loss.size).reshape(loss.shape).astype(dtype)).sum().backward()
    assert np.all(np.isfinite(loss.data)) and np.all(np.isfinite(x.grad.data))
    tx = torch.tensor(HUGE.astype(dtype), requires_grad=True)
    tw = None if weight is None else torch.as_tensor(weight.astype(dtype))
    t_loss = torch.nn.functional.cross_entropy(tx, torch.as_tensor(labels), tw, reduction=reduction, **options)
    (t_loss * torch.linspace(1.0, 2.0, t_loss.numel(), dtype=tx.dtype).reshape(t_loss.shape)).sum().backward()
    # losses ~2e4: float32 rounds them at ~1e-3, float64 at ~4e-12; gradients are <= 2
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(loss.data, t_loss.detach().numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=rtol)


def test_cross_entropy_second_derivative_at_huge_logits_is_finite_and_equals_torch():
    torch = pytest.importorskip("torch")
    labels = np.array([2, 0, 3])
    mine, theirs = _ours_and_torch(
        lambda a: F.cross_entropy(a, labels, label_smoothing=0.1),
        lambda a: torch.nn.functional.cross_entropy(a, torch.as_tensor(labels), label_smoothing=0.1),
        [HUGE],
    )
    assert all(np.all(np.isfinite(r)) for r in mine)
    _assert_same(mine, theirs, "cross_entropy at 1e4")


@pytest.mark.parametrize("pos_weight", [None, np.array([2.0, 0.5, 1.0, 3.0])], ids=["plain", "pos_weight"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_at_1e4_is_finite_and_equals_torch(pos_weight, reduction):
    torch = pytest.importorskip("torch")
    t = np.array([[1.0, 0.0, 1.0, 0.5], [0.0, 1.0, 0.0, 1.0], [0.5, 0.5, 1.0, 0.0]])

    def as_t(a):
        return None if a is None else torch.as_tensor(a)

    mine, theirs = _ours_and_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=pos_weight),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, reduction=reduction, pos_weight=as_t(pos_weight)
        ),
        [HUGE, t],
    )
    assert all(np.all(np.isfinite(r)) for r in mine)
    _assert_same(mine, theirs, f"bce_with_logits at 1e4 {reduction}")


def test_huge_logits_by_hand():
    # row 0 picks -1e4 against a max of 1e4: the loss is 2e4 exactly; BCE at +-1e4 is 0 or 1e4
    loss = F.cross_entropy(Tensor(HUGE), np.array([2, 2, 1]), reduction="none")
    np.testing.assert_allclose(loss.data, [2e4, np.log(2.0), 2e4], rtol=1e-15)
    bce = F.binary_cross_entropy_with_logits(
        Tensor([1e4, -1e4, 1e4, -1e4]), np.array([1.0, 1.0, 0.0, 0.0]), reduction="none"
    )
    np.testing.assert_array_equal(bce.data, [0.0, 1e4, 1e4, 0.0])


# ----------------------------------------------------------------------------- specific behaviours


def test_cross_entropy_ignored_targets_count_for_nothing():
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0], [2.0, 2.0, 2.0]])
    ref = -np_log_softmax(x, 1)[[0, 2], [1, 0]]
    t = Tensor(x, requires_grad=True)
    loss = F.cross_entropy(t, np.array([1, -100, 0]))
    np.testing.assert_allclose(loss.item(), ref.mean(), rtol=1e-14)
    loss.backward()
    np.testing.assert_array_equal(t.grad.data[1], 0.0)
    per = F.cross_entropy(Tensor(x), np.array([1, 7, 0]), ignore_index=7, reduction="none")
    np.testing.assert_allclose(per.data, [ref[0], 0.0, ref[1]], rtol=1e-14)


def test_cross_entropy_all_ignored_mean_is_nan_as_torch():
    loss = F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([-100, -100]))
    assert np.isnan(loss.item())
    assert F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([-100, -100]), reduction="sum").item() == 0.0


def test_cross_entropy_unbatched_and_cross_entropy_is_nll_of_log_softmax():
    x = np.array([0.5, -1.0, 2.0])
    loss = F.cross_entropy(Tensor(x), 2, reduction="none")
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), -np_log_softmax(x, 0)[2], rtol=1e-15)
    batch = Tensor(np.random.default_rng(6).normal(size=(4, 3, 2)))
    labels = np.array([[0, 1], [2, 2], [1, 0], [0, 0]])
    np.testing.assert_allclose(
        F.cross_entropy(batch, labels).item(), F.nll_loss(batch.log_softmax(axis=1), labels).item(), rtol=1e-15
    )


def test_cross_entropy_accepts_label_tensors_of_any_integer_dtype():
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    ref = -np_log_softmax(x, 1)[[0, 1], [1, 2]].mean()
    for labels in (
        [1, 2],
        np.array([1, 2], dtype=np.int32),
        np.array([1, 2], dtype=np.uint8),
        Tensor(np.array([1, 2])),
    ):
        np.testing.assert_allclose(F.cross_entropy(Tensor(x), labels).item(), ref, rtol=1e-15)


@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_a_weight_tensor_that_requires_grad_gets_its_gradient(eps):
    """PyTorch refuses this; here the weighted mean's gradient w.r.t. w is the composition's:
    checked against central differences of the numpy reference."""
    rng = np.random.default_rng(9)
    x, labels, w0 = rng.normal(size=(5, 3)), np.array([0, 2, 1, 2, -100]), rng.uniform(0.5, 2.0, size=3)
    w = Tensor(w0, requires_grad=True)
    F.cross_entropy(Tensor(x), labels, w, label_smoothing=eps).backward()
    z = np_log_softmax(x, 1)
    numeric = np.zeros(3)
    for c in range(3):
        step = np.eye(3)[c] * 1e-6
        high, low = (np_class_loss(z, labels, w0 + s, eps=eps) for s in (step, -step))
        numeric[c] = (high - low) / 2e-6
    np.testing.assert_allclose(w.grad.data, numeric, rtol=1e-6, atol=1e-8)


def test_modules_equal_their_functions():
    rng = np.random.default_rng(7)
    x, labels = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
    w = np.array([1.0, 2.0, 0.5])
    probs, t = rng.uniform(0.1, 0.9, size=(4, 3)), rng.uniform(size=(4, 3))
    pairs = [
        (nn.CrossEntropyLoss(w, ignore_index=1, reduction="sum", label_smoothing=0.1)(Tensor(x), labels),
         F.cross_entropy(x, labels, w, ignore_index=1, reduction="sum", label_smoothing=0.1)),
        (nn.NLLLoss(w, ignore_index=2)(Tensor(x), labels), F.nll_loss(x, labels, w, ignore_index=2)),
        (nn.BCELoss(w)(Tensor(probs), t), F.binary_cross_entropy(probs, t, w)),
        (nn.BCEWithLogitsLoss(w, pos_weight=w, reduction="none")(Tensor(x), t),
         F.binary_cross_entropy_with_logits(x, t, w, reduction="none", pos_weight=w)),
        (nn.L1Loss(reduction="sum")(Tensor(x), t), F.l1_loss(x, t, reduction="sum")),
        (nn.SmoothL1Loss(beta=0.5)(Tensor(x), t), F.smooth_l1_loss(x, t, beta=0.5)),
        (nn.HuberLoss("sum", 0.5)(Tensor(x), t), F.huber_loss(x, t, "sum", 0.5)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True)(Tensor(x), t),
         F.kl_div(x, t, reduction="batchmean", log_target=True)),
    ]  # fmt: skip
    for module_value, function_value in pairs:
        np.testing.assert_array_equal(module_value.data, function_value.data)


def test_loss_modules_keep_weights_as_buffers_and_print_their_options():
    loss = nn.CrossEntropyLoss(np.array([1.0, 2.0]), label_smoothing=0.1)
    assert list(loss.state_dict()) == ["weight"] and loss.parameters() == []
    assert repr(loss) == "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)"
    assert list(nn.BCEWithLogitsLoss(pos_weight=np.ones(3)).state_dict()) == ["pos_weight"]
    assert repr(nn.HuberLoss()) == "HuberLoss(reduction='mean', delta=1.0)"
    loss.to(np.float32)
    assert loss.weight.dtype == np.float32


def test_losses_are_compiled_with_the_labels_as_inputs():
    """Masks that depend on the labels (one-hot, ignore_index) are recomputed each call, and
    out-of-range labels are refused on every call, not only the traced one."""
    w = np.array([1.0, 0.5, 2.0])

    def fn(x, labels):
        return F.cross_entropy(x, labels, w, ignore_index=1, label_smoothing=0.1)

    compiled = autograd.compile(fn)
    rng = np.random.default_rng(8)
    for labels in ([0, 1, 2, 2], [1, 1, 0, 2], [2, 0, 0, 0]):
        x = rng.normal(size=(4, 3))
        a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
        got, want = compiled(a, np.array(labels)), fn(b, np.array(labels))
        np.testing.assert_allclose(got.data, want.data, rtol=1e-15)
        got.backward()
        want.backward()
        np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-15, atol=1e-17)
    assert compiled.traces == 1
    with pytest.raises(ValueError, match=r"cross_entropy.*\[0, 3\)"):
        compiled(Tensor(np.zeros((4, 3))), np.array([0, 3, 0, 0]))
    bce = autograd.compile(lambda p, t: F.binary_cross_entropy(p, t))
    bce(Tensor(np.full(3, 0.5)), np.ones(3))
    with pytest.raises(ValueError, match="binary_cross_entropy.*0, 1"):
        bce(Tensor(np.array([0.5, 1.5, 0.5])), np.ones(3))


# ----------------------------------------------------------------------------- errors


ALL_LOSSES = {
    "cross_entropy": lambda **kw: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), **kw),
    "nll_loss": lambda **kw: F.nll_loss(Tensor(np.zeros((2, 3))), np.array([0, 1]), **kw),
    "binary_cross_entropy": lambda **kw: F.binary_cross_entropy(Tensor(np.full(2, 0.5)), np.ones(2), **kw),
    "binary_cross_entropy_with_logits": lambda **kw: F.binary_cross_entropy_with_logits(
        Tensor(np.zeros(2)), np.ones(2), **kw
    ),
    "l1_loss": lambda **kw: F.l1_loss(Tensor(np.zeros(2)), np.ones(2), **kw),
    "smooth_l1_loss": lambda **kw: F.smooth_l1_loss(Tensor(np.zeros(2)), np.ones(2), **kw),
    "huber_loss": lambda **kw: F.huber_loss(Tensor(np.zeros(2)), np.ones(2), **kw),
    "kl_div": lambda **kw: F.kl_div(Tensor(np.zeros(2)), np.ones(2), **kw),
}
MODULES = {
    "CrossEntropyLoss": nn.CrossEntropyLoss, "NLLLoss": nn.NLLLoss, "BCELoss": nn.BCELoss,
    "BCEWithLogitsLoss": nn.BCEWithLogitsLoss, "L1Loss": nn.L1Loss, "SmoothL1Loss": nn.SmoothL1Loss,
    "HuberLoss": nn.HuberLoss, "KLDivLoss": nn.KLDivLoss,
}  # fmt: skip


@pytest.mark.parametrize("name", list(ALL_LOSSES))
@pytest.mark.parametrize("bad", ["avg", "Mean", None, "batchmean"])
def test_unknown_reductions_are_refused_naming_the_loss(name, bad):
    if bad == "batchmean" and name == "kl_div":
        return
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of .*'mean'.*{bad!r}"):
        ALL_LOSSES[name](reduction=bad)


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_refuse_unknown_reductions_and_positional_options(name):
    with pytest.raises(ValueError, match=name):
        MODULES[name](reduction="avg")
    if name in ("CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"):
        with pytest.raises(TypeError, match=rf"{name}.*reduction='sum' by keyword"):
            MODULES[name]("sum")
    elif name != "HuberLoss":
        with pytest.raises(TypeError):
            MODULES[name]("sum")


@pytest.mark.parametrize("name", list(ALL_LOSSES))
def test_pytorch_deprecated_keywords_name_reduction(name):
    if name == "huber_loss":
        return  # PyTorch's huber_loss never had them
    with pytest.raises(TypeError, match=rf"{name}: size_average= is PyTorch's deprecated spelling; write reduction="):
        ALL_LOSSES[name](size_average=True)


def test_a_reduction_passed_where_weight_goes_is_refused():
    with pytest.raises(TypeError, match=r"cross_entropy: the third positional argument is weight.*reduction='sum'"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), "sum")


@pytest.mark.parametrize(
    ("input_shape", "target_shape"),
    [((3, 4), (2,)), ((3, 4), (3, 1)), ((2, 3, 4), (2,)), ((2, 3, 4), (2, 3)), ((3, 4), ()), ((4,), (1,)), ((), ())],
)
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_losses_refuse_index_targets_of_the_wrong_shape(name, input_shape, target_shape):
    x = Tensor(np.zeros(input_shape), requires_grad=True)
    with pytest.raises(ValueError, match=name) as info:
        getattr(F, name)(x, np.zeros(target_shape, dtype=np.int64))
    assert str(input_shape) in str(info.value)
    if input_shape:
        assert str(target_shape) in str(info.value) and "(N, d1, ...)" in str(info.value)
    assert x.grad is None


@pytest.mark.parametrize(
    ("input_shape", "target_shape"), [((3, 4), (3, 3)), ((3, 4), (4, 3)), ((2, 3, 4), (2, 3, 2)), ((4,), (3,))]
)
def test_cross_entropy_refuses_probabilities_of_the_wrong_shape(input_shape, target_shape):
    with pytest.raises(ValueError, match="cross_entropy.*probabilities") as info:
        F.cross_entropy(Tensor(np.zeros(input_shape)), np.full(target_shape, 0.25))
    assert str(input_shape) in str(info.value) and str(target_shape) in str(info.value)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("labels", [[0, 3], [-1, 0], [0, 100], [-100, 4]])
def test_class_losses_refuse_targets_out_of_range(name, labels):
    with pytest.raises(ValueError, match=rf"{name}.*\[0, 3\).*ignore_index=-100"):
        getattr(F, name)(Tensor(np.zeros((2, 3))), np.array(labels))


def test_ignore_index_is_refused_with_probability_targets_as_torch():
    with pytest.raises(ValueError, match="cross_entropy: ignore_index=0 applies to class-index targets only"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), np.full((2, 3), 1 / 3), ignore_index=0)


def test_ignore_index_is_allowed_only_where_it_is_set():
    F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([7, 0]), ignore_index=7)
    with pytest.raises(ValueError, match=r"cross_entropy.*ignore_index=7.*-100"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([-100, 0]), ignore_index=7)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("weight_shape", [(2,), (4,), (1, 3), ()])
def test_class_losses_refuse_a_weight_of_the_wrong_length(name, weight_shape):
    with pytest.raises(ValueError, match=rf"{name}: weight must hold one number per class, shape \(3,\)") as info:
        getattr(F, name)(Tensor(np.zeros((2, 3))), np.array([0, 1]), np.ones(weight_shape))
    assert str(weight_shape) in str(info.value)


def test_class_losses_refuse_non_integer_indices_empty_batches_and_bad_smoothing():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="cross_entropy.*float64"):
        F.cross_entropy(x, np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="nll_loss.*integer class indices.*cross_entropy"):
        F.nll_loss(x, np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="cross_entropy: the batch is empty"):
        F.cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, dtype=np.int64))
    for eps in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must lie in \[0, 1\]"):
            F.cross_entropy(x, np.array([0, 1]), label_smoothing=eps)
        with pytest.raises(ValueError, match="CrossEntropyLoss: label_smoothing"):
            nn.CrossEntropyLoss(label_smoothing=eps)
    with pytest.raises(TypeError, match="cross_entropy: input must be floating point"):
        F.cross_entropy(Tensor(np.zeros((2, 3), dtype=np.int64)), np.array([0, 1]))


@pytest.mark.parametrize(
    "name",
    ["binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div"],
)
@pytest.mark.parametrize(
    ("input_shape", "target_shape"), [((3, 2), (2, 3)), ((3, 2), (2,)), ((3, 1), (3,)), ((4,), (4, 1))]
)
def test_elementwise_losses_refuse_targets_of_another_shape(name, input_shape, target_shape):
    x = Tensor(np.full(input_shape, 0.5), requires_grad=True)
    with pytest.raises(ValueError, match=name) as info:
        getattr(F, name)(x, np.full(target_shape, 0.5))
    assert str(input_shape) in str(info.value) and str(target_shape) in str(info.value)
    assert x.grad is None


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("keyword", ["weight", "pos_weight"])
@pytest.mark.parametrize("bad_shape", [(3,), (2, 3, 4), (5, 1)])
def test_binary_losses_refuse_weights_that_do_not_broadcast(name, keyword, bad_shape):
    if name == "binary_cross_entropy" and keyword == "pos_weight":
        return
    with pytest.raises(
        ValueError, match=rf"{name}: {keyword} of shape .* does not broadcast to the input's shape \(3, 4\)"
    ):
        getattr(F, name)(Tensor(np.full((3, 4), 0.5)), np.ones((3, 4)), **{keyword: np.ones(bad_shape)})


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_binary_cross_entropy_refuses_inputs_outside_0_1(bad):
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\].*with_logits"
    ):
        F.binary_cross_entropy(Tensor(np.array([0.5, bad])), np.ones(2))


def test_smooth_l1_and_huber_refuse_bad_thresholds():
    x, t = Tensor(np.zeros(2)), np.ones(2)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(x, t, beta=-1.0)
    for delta in (0.0, -1.0):
        with pytest.raises(ValueError, match="huber_loss: delta must be > 0"):
            F.huber_loss(x, t, delta=delta)
        with pytest.raises(ValueError, match="HuberLoss: delta"):
            nn.HuberLoss(delta=delta)
    with pytest.raises(ValueError, match="SmoothL1Loss: beta"):
        nn.SmoothL1Loss(beta=-1.0)


def test_every_loss_is_exported():
    names = ["cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss",
             "smooth_l1_loss", "huber_loss", "kl_div", "mse_loss"]  # fmt: skip
    for name in names:
        assert getattr(F, name) is getattr(nn.losses, name)
        assert name in F.__all__
    for name in [*MODULES, "MSELoss"]:
        assert getattr(nn, name) is getattr(nn.losses, name) and name in nn.__all__
