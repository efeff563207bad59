"""nn's layers (Embedding, LayerNorm, BatchNorm1d/2d, Dropout, MultiheadAttention, Flatten,
Unflatten, Identity, the activation modules, ModuleList, ModuleDict) and the functional forms
F.linear, F.layer_norm, F.batch_norm, F.dropout and F.embedding.

* ``CASES``: each functional form through tests/op_checks.py (forward against numpy, first and
  second derivatives against central differences and gradcheck, float32 kept). The forms
  are compositions of recorded ops, so these check the composition and its derivatives.
* Layers against torch with the same weights copied in: values and every gradient (inputs
  and parameters), BatchNorm over several training steps (running statistics and
  ``num_batches_tracked`` too) and then in eval mode.

Tolerances against torch: both compute in float64 with the same formulas up to the order of
sums and products (a few dozen roundings of values <~ 1e2, i.e. < 1e-13 absolute), so
rtol = 1e-9 with atol = 1e-11 leaves ~1e3 times that, while a wrong formula (a missing
1/sqrt(d), the biased var in place of the unbiased one, a transposed weight) changes
results by more than 1e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st
from op_checks import Case, check_first, check_float32, check_second

import nn
import nn.functional as F
from autograd import Tensor
from nn import (
    ELU,
    GELU,
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleDict,
    ModuleList,
    MultiheadAttention,
    ReLU,
    SiLU,
    Softmax,
    Softplus,
    Unflatten,
)

TORCH_TOL = {"rtol": 1e-9, "atol": 1e-11}


def close(ours, theirs) -> None:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = np.asarray(ours.data if isinstance(ours, Tensor) else ours)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, **TORCH_TOL)


# ----------------------------------------------------------------------------- gradient cases
# Normalisation divides by the group's std, so its derivatives grow like 1/std**k: inputs keep
# every normalised group's std >= 0.65. ``_spread`` adds a permuted linspace(-2, 2, m) over the
# group's m >= 2 elements (population std >= 2/sqrt(3) = 1.15) to noise in [-0.5, 0.5] (centred
# rms <= 0.5); by the triangle inequality the sum's std is >= 1.15 - 0.5 = 0.65, and values
# stay in [-2.5, 2.5].


def _spread(data: st.DataObject, shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    noise = data.draw(S.arrays(shape, S.floats(-0.5, 0.5)), label="noise")
    group = tuple(n if a in axes else 1 for a, n in enumerate(shape))
    m = int(np.prod(group))
    order = data.draw(st.permutations(range(m)), label="order")
    return noise + np.linspace(-2.0, 2.0, m)[list(order)].reshape(group)


def _np_layer_norm(x, k, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    c = x - x.mean(axis=axes, keepdims=True)
    y = c * ((c * c).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return y * (1 if w is None else w) + (0 if b is None else b)


def _layer_norm(data):
    norm = data.draw(S.shapes(min_dims=1, max_dims=2).filter(lambda s: np.prod(s) >= 2), label="normalized_shape")
    lead = data.draw(S.shapes(min_dims=0, max_dims=1), label="lead")
    x = _spread(data, lead + norm, tuple(range(len(lead), len(lead) + len(norm))))
    k = len(norm)
    if not data.draw(st.booleans(), label="affine"):
        return [x], (lambda t: F.layer_norm(t, norm)), (lambda a: _np_layer_norm(a, k))
    w = data.draw(S.arrays(norm), label="weight")
    b = data.draw(S.arrays(norm), label="bias")
    return (
        [x, w, b],
        lambda t, tw, tb: F.layer_norm(t, norm, tw, tb),
        lambda a, aw, ab: _np_layer_norm(a, k, aw, ab),
    )


def _bn_shape(data):
    n, c = data.draw(st.integers(1, 3), label="N"), data.draw(st.integers(1, 3), label="C")
    spatial = data.draw(S.shapes(min_dims=0, max_dims=1), label="spatial")
    if n * int(np.prod(spatial)) < 2:
        n = 2  # training needs more than one value per channel
    return (n, c, *spatial)


def _np_batch_norm_train(x, w=None, b=None, eps=1e-5):
    axes = (0, *range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    c = x - x.mean(axis=axes, keepdims=True)
    y = c * ((c * c).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


def _batch_norm_train(data):
    shape = _bn_shape(data)
    x = _spread(data, shape, (0, *range(2, len(shape))))
    if not data.draw(st.booleans(), label="affine"):
        return [x], (lambda t: F.batch_norm(t, None, None, training=True)), _np_batch_norm_train
    w = data.draw(S.arrays(shape[1:2]), label="weight")
    b = data.draw(S.arrays(shape[1:2]), label="bias")
    return (
        [x, w, b],
        lambda t, tw, tb: F.batch_norm(t, None, None, tw, tb, training=True),
        _np_batch_norm_train,
    )


def _batch_norm_eval(data):
    shape = _bn_shape(data)
    c = shape[1]
    x = data.draw(S.arrays(shape), label="x")
    mean = data.draw(S.arrays((c,)), label="running_mean")
    var = data.draw(S.arrays((c,), S.floats(0.5, 2.0)), label="running_var")
    w = data.draw(S.arrays((c,)), label="weight")
    b = data.draw(S.arrays((c,)), label="bias")
    stat = (1, c) + (1,) * (len(shape) - 2)

    def reference(a, aw, ab):
        return (a - mean.reshape(stat)) * ((var + 1e-5) ** -0.5).reshape(stat) * aw.reshape(stat) + ab.reshape(stat)

    return [x, w, b], (lambda t, tw, tb: F.batch_norm(t, mean, var, tw, tb, training=False)), reference


def _linear(data):
    lead = data.draw(S.shapes(min_dims=0, max_dims=2), label="lead")
    n_in, n_out = data.draw(st.integers(1, 3), label="in"), data.draw(st.integers(1, 3), label="out")
    x = data.draw(S.arrays(lead + (n_in,)), label="x")
    w = data.draw(S.arrays((n_in, n_out)), label="weight")
    b = data.draw(S.arrays((n_out,)), label="bias")
    return [x, w, b], (lambda t, tw, tb: F.linear(t, tw, tb)), (lambda a, aw, ab: a @ aw + ab)


def _embedding(data):
    n, d = data.draw(st.integers(2, 4), label="num_embeddings"), data.draw(st.integers(1, 3), label="dim")
    weight = data.draw(S.arrays((n, d)), label="weight")
    idx = data.draw(S.arrays(S.shapes(min_dims=0, max_dims=2), st.integers(0, n - 1)).map(lambda a: a.astype(np.int64)))
    # (no padding_idx: its zero gradient is a rule, not the derivative, which differences would
    # measure; test_embedding_matches_torch checks it)
    return [weight], (lambda t: F.embedding(idx, t)), (lambda a: a[idx])


def _dropout(data):
    x = data.draw(S.arrays(S.shapes()), label="x")
    p = data.draw(st.sampled_from([0.0, 0.25, 0.5, 0.9]), label="p")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    scale = (np.random.default_rng(seed).random(x.shape) >= p) / (1 - p)
    return [x], (lambda t: F.dropout(t, p, rng=np.random.default_rng(seed))), (lambda a: a * scale)


CASES: list[Case] = [
    Case("layer_norm", _layer_norm),
    Case("batch_norm_train", _batch_norm_train),
    Case("batch_norm_eval", _batch_norm_eval),
    Case("linear", _linear),
    Case("embedding", _embedding),
    Case("dropout", _dropout),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=30)
@given(data=st.data())
def test_forward_and_first_derivative(case: Case, data: st.DataObject) -> None:
    check_first(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=20)
@given(data=st.data())
def test_second_derivative(case: Case, data: st.DataObject) -> None:
    check_second(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=15)
@given(data=st.data())
def test_float32_in_float32_out_and_float32_grads(case: Case, data: st.DataObject) -> None:
    check_float32(case, data)


# ----------------------------------------------------------------------------- functional errors


def test_functional_forms_refuse_bad_input():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="linear"):
        F.linear(x, np.ones((2, 3)))  # a PyTorch-layout (out, in) weight
    with pytest.raises(ValueError, match="layer_norm"):
        F.layer_norm(x, (2,))
    with pytest.raises(ValueError, match="layer_norm"):
        F.layer_norm(x, 3, weight=np.ones(2))
    with pytest.raises(ValueError, match="batch_norm"):
        F.batch_norm(Tensor(np.ones(3)), None, None, training=True)
    with pytest.raises(ValueError, match="batch_norm.*more than 1"):
        F.batch_norm(Tensor(np.ones((1, 3))), None, None, training=True)
    with pytest.raises(ValueError, match="batch_norm.*running_mean"):
        F.batch_norm(x, np.zeros(2), np.ones(3), training=True)
    with pytest.raises(ValueError, match="batch_norm.*both"):
        F.batch_norm(x, None, None, training=False)
    for p in (-0.1, 1.5, "half", True):
        with pytest.raises(ValueError, match="dropout"):
            F.dropout(x, p)
    with pytest.raises(ValueError, match="embedding.*lie in"):
        F.embedding(np.array([0, 3]), np.ones((3, 2)))
    with pytest.raises(ValueError, match="embedding.*lie in"):
        F.embedding(np.array([-1]), np.ones((3, 2)))
    with pytest.raises(TypeError, match="embedding.*integers"):
        F.embedding(np.array([0.0]), np.ones((3, 2)))
    with pytest.raises(ValueError, match="embedding.*padding_idx"):
        F.embedding(np.array([0]), np.ones((3, 2)), padding_idx=3)
    with pytest.raises(ValueError, match="embedding.*2-D"):
        F.embedding(np.array([0]), np.ones(3))


def test_batch_norm_updates_running_stats_in_place_with_the_unbiased_var():
    x = np.array([[0.0, 10.0], [2.0, 20.0], [4.0, 60.0]])
    mean, var = np.zeros(2), Tensor(np.ones(2))
    before = var
    F.batch_norm(Tensor(x), mean, var, training=True, momentum=0.5)
    np.testing.assert_allclose(mean, 0.5 * x.mean(axis=0))
    np.testing.assert_allclose(var.data, 0.5 + 0.5 * x.var(axis=0, ddof=1))
    assert var is before
    F.batch_norm(Tensor(x), mean, var, training=False)  # eval leaves them alone
    np.testing.assert_allclose(mean, 0.5 * x.mean(axis=0))


# ----------------------------------------------------------------------------- layers against torch


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_matches_torch(padding_idx):
    torch = _torch()
    ours = Embedding(5, 3, padding_idx=padding_idx, rng=np.random.default_rng(0))
    if padding_idx is not None:
        np.testing.assert_array_equal(ours.weight.data[padding_idx], 0.0)  # the padding row starts at zero
        ours.weight.data[padding_idx] = 7.0  # and is looked up as it is, wherever it is set
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
    idx = np.array([[0, 1, 4], [1, 1, 3]])
    w = np.random.default_rng(1).normal(size=(2, 3, 3))
    out = ours(idx)
    ref = theirs(torch.tensor(idx))
    close(out, ref)
    (out * w).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    close(ours.weight.grad, theirs.weight.grad)
    if padding_idx is not None:
        np.testing.assert_array_equal(ours.weight.grad.data[padding_idx], 0.0)
    assert repr(ours) == repr(theirs)


def test_embedding_init_is_standard_normal():
    w = Embedding(400, 50, rng=np.random.default_rng(0)).weight.data
    n = w.size  # mean ~ N(0, 1/n), var ~ N(1, 2/n): 5 standard errors
    assert abs(w.mean()) < 5 / math.sqrt(n) and abs(w.var() - 1) < 5 * math.sqrt(2 / n)
    with pytest.raises(ValueError, match="Embedding: padding_idx"):
        Embedding(3, 2, padding_idx=3)


@pytest.mark.parametrize(
    ("shape", "normalized", "affine", "bias"),
    [((4, 5), 5, True, True), ((2, 3, 4), (3, 4), True, True), ((3, 4), (4,), False, True), ((2, 6), 6, True, False)],
)
def test_layer_norm_matches_torch(shape, normalized, affine, bias):
    torch = _torch()
    rng = np.random.default_rng(0)
    ours = LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    theirs = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias, dtype=torch.float64)
    names = [n for n, _ in ours.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()]
    for name, p in ours.named_parameters():
        p.data[...] = rng.normal(size=p.shape)
        with torch.no_grad():
            theirs.get_parameter(name).copy_(torch.tensor(p.data))
    x = rng.normal(size=shape)
    tx = torch.tensor(x, requires_grad=True)
    ox = Tensor(x, requires_grad=True)
    w = rng.normal(size=shape)
    out, ref = ours(ox), theirs(tx)
    close(out, ref)
    (out * w).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    close(ox.grad, tx.grad)
    for name, p in ours.named_parameters():
        close(p.grad, theirs.get_parameter(name).grad)


def _copy_bn(ours, theirs, rng, torch):
    for name, p in ours.named_parameters():
        p.data[...] = rng.normal(size=p.shape)
        with torch.no_grad():
            theirs.get_parameter(name).copy_(torch.tensor(p.data))


def _check_bn_step(ours, theirs, x, rng, torch):
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = rng.normal(size=x.shape)
    out, ref = ours(ox), theirs(tx)
    close(out, ref)
    (out * w).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    close(ox.grad, tx.grad)
    for name, p in ours.named_parameters():
        close(p.grad, theirs.get_parameter(name).grad)
        p.grad = None
        theirs.get_parameter(name).grad = None
    for name, b in ours.named_buffers():
        ref_buffer = theirs.get_buffer(name)
        assert b.dtype == np.dtype(str(ref_buffer.dtype).replace("torch.", "")), name
        close(b, ref_buffer)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (3, 2, 4, 5))],
)
@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
def test_batch_norm_matches_torch_over_training_steps_and_in_eval(layer, shape, momentum):
    torch = _torch()
    rng = np.random.default_rng(0)
    ours = getattr(nn, layer)(shape[1], momentum=momentum)
    theirs = getattr(torch.nn, layer)(shape[1], momentum=momentum, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_bn(ours, theirs, rng, torch)
    for _step in range(3):  # batch statistics, and the running ones updated each step
        _check_bn_step(ours, theirs, rng.normal(2.0, 3.0, size=shape), rng, torch)
    assert int(ours.num_batches_tracked.data) == 3
    ours.eval(), theirs.eval()
    for _ in range(2):  # running statistics, which eval leaves as they are
        _check_bn_step(ours, theirs, rng.normal(2.0, 3.0, size=shape), rng, torch)
    assert int(ours.num_batches_tracked.data) == 3
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(("affine", "bias"), [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("track", [True, False])
def test_batch_norm_options_match_torch(affine, bias, track):
    torch = _torch()
    rng = np.random.default_rng(1)
    ours = BatchNorm1d(4, affine=affine, track_running_stats=track, eps=1e-3, bias=bias)
    theirs = torch.nn.BatchNorm1d(4, affine=affine, track_running_stats=track, eps=1e-3, dtype=torch.float64, bias=bias)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _copy_bn(ours, theirs, rng, torch)
    _check_bn_step(ours, theirs, rng.normal(size=(5, 4)), rng, torch)
    ours.eval(), theirs.eval()  # without running statistics, eval uses the batch's
    _check_bn_step(ours, theirs, rng.normal(size=(5, 4)), rng, torch)


def test_batch_norm_refuses_bad_input_and_counts_nothing():
    bn = BatchNorm1d(3)
    for bad, pattern in [
        (np.ones((2, 3, 4, 5)), r"BatchNorm1d: expected input of shape \(N, C\) or \(N, C, L\)"),
        (np.ones((4, 2)), r"BatchNorm1d\(3\): input of shape \(4, 2\) has 2 channels"),
        (np.ones((1, 3)), "BatchNorm1d.*1 value per channel"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            bn(bad)
    assert int(bn.num_batches_tracked.data) == 0
    np.testing.assert_array_equal(bn.running_mean.data, 0.0)
    with pytest.raises(ValueError, match="BatchNorm2d"):
        BatchNorm2d(3)(np.ones((2, 3, 4)))
    bn.eval()
    assert bn(np.ones((1, 3))).shape == (1, 3)  # in eval one sample is fine
    bn.train()
    bn(np.arange(6.0).reshape(2, 3))
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_var.data, 1.0)
    assert int(bn.num_batches_tracked.data) == 0


def test_batch_norm_float32():
    bn = BatchNorm2d(2, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(2, 2, 3, 3))
    y = bn(x)  # an array is taken in the layer's dtype, as Linear does
    assert y.dtype == np.float32
    assert bn.running_mean.dtype == np.float32 and bn.running_var.dtype == np.float32
    bn.eval()
    assert bn(Tensor(x, dtype=np.float32)).dtype == np.float32


def test_dropout_statistics_and_scaling():
    p = 0.3
    x = np.ones((200, 500))  # n = 1e5 elements
    leaf = Tensor(x, requires_grad=True)
    y = Dropout(p, rng=np.random.default_rng(0))(leaf)
    kept = y.data != 0
    # the kept fraction is Binomial(n, 1 - p) / n: standard error sqrt(p (1 - p) / n) = 1.4e-3; 5 of them
    assert abs(kept.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / x.size)
    np.testing.assert_allclose(y.data[kept], 1 / (1 - p))  # inverted dropout: the mean stays 1
    y.sum().backward()  # the gradient is the same mask and scale (x is all ones)
    np.testing.assert_array_equal(leaf.grad.data, y.data)


def test_dropout_eval_and_edge_probabilities():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    layer = Dropout(0.5)
    layer.eval()
    assert layer(x) is x  # the identity in eval mode
    assert Dropout(0.0)(x) is x
    np.testing.assert_array_equal(Dropout(1.0)(x).data, 0.0)
    assert F.dropout(x, 0.5, training=False) is x
    for p in (-0.5, 1.01, None):
        with pytest.raises(ValueError, match="Dropout"):
            Dropout(p)
    a = Dropout(0.5, rng=np.random.default_rng(3))(Tensor(np.ones(50)))
    b = Dropout(0.5, rng=np.random.default_rng(3))(Tensor(np.ones(50)))
    np.testing.assert_array_equal(a.data, b.data)  # reproducible from the generator's seed
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"


def test_dropout_draws_from_the_library_generator_without_rng():
    import autograd

    autograd.manual_seed(7)
    first = Dropout(0.5)(Tensor(np.ones(20))).data
    autograd.manual_seed(7)
    np.testing.assert_array_equal(Dropout(0.5)(Tensor(np.ones(20))).data, first)


def _mha_pair(torch, e, h, batch_first, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    ours = MultiheadAttention(e, h, bias=bias, batch_first=batch_first, rng=rng)
    theirs = torch.nn.MultiheadAttention(e, h, bias=bias, batch_first=batch_first, dtype=torch.float64)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    with torch.no_grad():
        for name, p in ours.named_parameters():
            if name.endswith("bias"):
                p.data[...] = rng.normal(size=p.shape)
            value = p.data.T if name == "out_proj.weight" else p.data  # our Linear's (in, out) layout
            theirs.get_parameter(name).copy_(torch.tensor(value))
    return ours, theirs


def _mha_inputs(rng, n, length, s, e, batch_first, batched=True):
    def shape(size):
        if not batched:
            return (size, e)
        return (n, size, e) if batch_first else (size, n, e)

    return rng.normal(size=shape(length)), rng.normal(size=shape(s)), rng.normal(size=shape(s))


def _run_mha(torch, ours, theirs, q, k, v, **kwargs):
    torch_kwargs = {k_: (torch.tensor(v_) if isinstance(v_, np.ndarray) else v_) for k_, v_ in kwargs.items()}
    oq, ok, ov = (Tensor(a, requires_grad=True) for a in (q, k, v))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out, weights = ours(oq, ok, ov, **kwargs)
    ref, ref_weights = theirs(tq, tk, tv, **torch_kwargs)
    close(out, ref)
    if ref_weights is None:
        assert weights is None
    else:
        close(weights, ref_weights)
    rng = np.random.default_rng(5)
    w = rng.normal(size=out.shape)
    loss = (out * w).sum()
    ref_loss = (ref * torch.tensor(w)).sum()
    if weights is not None:
        w2 = rng.normal(size=weights.shape)
        loss = loss + (weights * w2).sum()
        ref_loss = ref_loss + (ref_weights * torch.tensor(w2)).sum()
    loss.backward()
    ref_loss.backward()
    for a, b in ((oq, tq), (ok, tk), (ov, tv)):
        close(a.grad, b.grad)
    for name, p in ours.named_parameters():
        g = theirs.get_parameter(name).grad
        close(p.grad, g.T if name == "out_proj.weight" else g)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_matches_torch(batch_first, average):
    torch = _torch()
    ours, theirs = _mha_pair(torch, 6, 3, batch_first)
    q, k, v = _mha_inputs(np.random.default_rng(1), 2, 4, 5, 6, batch_first)
    _run_mha(torch, ours, theirs, q, k, v, average_attn_weights=average)


@pytest.mark.parametrize("mask_kind", ["bool", "float", "per-head"])
def test_multihead_attention_masks_match_torch(mask_kind):
    torch = _torch()
    rng = np.random.default_rng(2)
    n, h, length, s, e = 2, 2, 3, 4, 4
    ours, theirs = _mha_pair(torch, e, h, batch_first=True)
    q, k, v = _mha_inputs(rng, n, length, s, e, True)
    padding = rng.random((n, s)) < 0.4
    padding[:, 0] = False  # every query keeps one key (a fully masked row is NaN, in torch too)
    if mask_kind == "bool":
        attn = rng.random((length, s)) < 0.4
        attn[:, 0] = False
    elif mask_kind == "float":
        attn = rng.normal(size=(length, s))
        padding = np.where(padding, -np.inf, 0.0)  # (torch deprecates mixing a bool and a float mask)
    else:
        attn = rng.random((n * h, length, s)) < 0.4
        attn[..., 0] = False
    _run_mha(torch, ours, theirs, q, k, v, key_padding_mask=padding, attn_mask=attn)
    ours.zero_grad(), theirs.zero_grad()
    _run_mha(torch, ours, theirs, q, k, v, attn_mask=attn, need_weights=False)


def test_multihead_attention_causal_unbatched_and_without_bias():
    torch = _torch()
    rng = np.random.default_rng(3)
    ours, theirs = _mha_pair(torch, 4, 2, batch_first=False, bias=False)
    q, k, v = _mha_inputs(rng, 2, 4, 4, 4, False)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    # is_causal without a mask here is the same as the mask (torch needs both)
    out_hint, w_hint = ours(q, k, v, is_causal=True)
    out_mask, w_mask = ours(q, k, v, attn_mask=causal)
    np.testing.assert_array_equal(out_hint.data, out_mask.data)
    np.testing.assert_array_equal(w_hint.data, w_mask.data)
    assert np.all(w_hint.data[:, causal] == 0)
    _run_mha(torch, ours, theirs, q, k, v, attn_mask=causal, is_causal=True)
    ours.zero_grad(), theirs.zero_grad()
    uq, uk, uv = _mha_inputs(rng, 0, 3, 5, 4, False, batched=False)
    _run_mha(torch, ours, theirs, uq, uk, uv, key_padding_mask=np.array([False, True, False, False, True]))


def test_multihead_attention_dropout_and_init():
    rng = np.random.default_rng(4)
    mha = MultiheadAttention(8, 2, dropout=0.5, rng=rng)
    q = rng.normal(size=(5, 3, 8))
    _, w_train = mha(q, q, q, average_attn_weights=False)
    mha.eval()
    _, w_eval = mha(q, q, q, average_attn_weights=False)
    np.testing.assert_allclose(w_eval.data.sum(axis=-1), 1.0)  # no dropout in eval
    kept = w_train.data != 0
    assert 0.3 < kept.mean() < 0.7  # 300 weights, each kept with probability 1/2
    np.testing.assert_allclose(w_train.data[kept], 2 * w_eval.data[kept])  # the others scaled by 1 / (1 - p)
    # PyTorch's init: Xavier-uniform in_proj (bound sqrt(6 / (E + 3E))), zero biases
    bound = math.sqrt(6 / (8 + 24))
    assert np.abs(mha.in_proj_weight.data).max() <= bound
    np.testing.assert_array_equal(mha.in_proj_bias.data, 0.0)
    np.testing.assert_array_equal(mha.out_proj.bias.data, 0.0)
    assert np.abs(mha.out_proj.weight.data).max() <= 1 / math.sqrt(8)
    assert mha.in_proj_weight.shape == (24, 8)


def test_multihead_attention_refuses_bad_input():
    mha = MultiheadAttention(4, 2, rng=np.random.default_rng(0))
    q = np.ones((3, 2, 4))
    cases = [
        ((np.ones((3, 2, 5)), q, q), {}, "4 features"),
        ((q, np.ones((4, 2, 4)), q), {}, "same batch and length|need the same"),
        ((q, q[0], q), {}, "3-D"),
        ((q, q, q), {"attn_mask": np.zeros((2, 2), dtype=bool)}, "attn_mask of shape"),
        ((q, q, q), {"key_padding_mask": np.zeros((3, 2), dtype=bool)}, "key_padding_mask of shape"),
    ]
    for args, kwargs, pattern in cases:
        with pytest.raises(ValueError, match=f"MultiheadAttention.*({pattern})"):
            mha(*args, **kwargs)
    with pytest.raises(TypeError, match="MultiheadAttention: attn_mask must be bool"):
        mha(q, q, q, attn_mask=np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="divisible"):
        MultiheadAttention(5, 2)


def test_flatten_and_unflatten_match_torch():
    torch = _torch()
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    for args in [(), (0,), (1, 2), (-3, -2), (2, 3)]:
        close(Flatten(*args)(Tensor(x)), torch.nn.Flatten(*args)(torch.tensor(x)))
    y = Tensor(x.reshape(2, 60), requires_grad=True)
    out = Unflatten(1, (3, -1, 5))(y)
    close(out, torch.nn.Unflatten(1, (3, 4, 5))(torch.tensor(x.reshape(2, 60))))
    out.sum().backward()
    np.testing.assert_array_equal(y.grad.data, 1.0)
    assert Flatten()(Tensor(np.ones((3, 4)))).shape == (3, 4)
    assert Flatten(0)(Tensor(np.float64(2.0))).shape == (1,)
    with pytest.raises(ValueError, match="Flatten"):
        Flatten()(Tensor(np.ones(3)))
    with pytest.raises(ValueError, match="Flatten"):
        Flatten(2, 1)(Tensor(x))
    with pytest.raises(ValueError, match="Unflatten"):
        Unflatten(1, (7, 9))(y)
    with pytest.raises(ValueError, match="Unflatten"):
        Unflatten(1, (-1, -1))(y)
    with pytest.raises(TypeError, match="start_axis="):
        Flatten(start_dim=1)
    with pytest.raises(TypeError, match="axis="):
        Softmax(dim=1)


def test_identity():
    x = Tensor(np.ones(3))
    assert Identity(54, unused="argument")(x) is x


ACTIVATIONS = [
    (GELU(), "GELU", {}),
    (GELU(approximate="tanh"), "GELU", {"approximate": "tanh"}),
    (SiLU(), "SiLU", {}),
    (LeakyReLU(), "LeakyReLU", {}),
    (LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2}),
    (ELU(), "ELU", {}),
    (ELU(alpha=0.5), "ELU", {"alpha": 0.5}),
    (Softplus(), "Softplus", {}),
    (Softplus(beta=2.0, threshold=3.0), "Softplus", {"beta": 2.0, "threshold": 3.0}),
    (Softmax(), "Softmax", {"dim": -1}),
    (Softmax(0), "Softmax", {"dim": 0}),
    (LogSoftmax(), "LogSoftmax", {"dim": -1}),
    (LogSoftmax(axis=0), "LogSoftmax", {"dim": 0}),
]


@pytest.mark.parametrize(
    ("ours", "name", "kwargs"), ACTIVATIONS, ids=lambda v: repr(v) if isinstance(v, nn.Module) else None
)
def test_activation_modules_match_torch(ours, name, kwargs):
    torch = _torch()
    theirs = getattr(torch.nn, name)(**kwargs)
    x = np.random.default_rng(0).uniform(-3, 3, size=(4, 5))
    x[0, 0] = 2.5  # Softplus(beta=2, threshold=3) passes x through where beta * x > 3
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = np.random.default_rng(1).normal(size=x.shape)
    out, ref = ours(ox), theirs(tx)
    close(out, ref)
    (out * w).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    close(ox.grad, tx.grad)


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match="GELU"):
        GELU(approximate="fast")


# ----------------------------------------------------------------------------- containers


class Tower(nn.Module):
    def __init__(self):
        rng = np.random.default_rng(0)
        self.blocks = ModuleList([Linear(2, 2, rng=rng), ReLU(), Linear(2, 2, rng=rng)])
        self.heads = ModuleDict({"a": Linear(2, 1, rng=rng), "b": Linear(2, 3, rng=rng)})


def test_module_list_and_dict_name_their_items_as_torch():
    tower = Tower()
    assert [n for n, _ in tower.named_parameters()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.2.weight", "blocks.2.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias",
    ]  # fmt: skip
    assert [n for n, _ in tower.named_modules()] == ["", "blocks", "blocks.0", "blocks.1", "blocks.2", "heads",
                                                     "heads.a", "heads.b"]  # fmt: skip
    assert "(0): Linear(in_features=2, out_features=2, bias=True)" in repr(tower.blocks)


def test_module_list_behaves_as_a_list():
    layers = ModuleList()
    assert len(layers) == 0
    a, b, c = Linear(1, 1), ReLU(), Linear(1, 2)
    assert layers.append(a) is layers
    layers.extend([b])
    layers.insert(0, c)
    assert list(layers) == [c, a, b] and layers[1] is a and layers[-1] is b
    assert isinstance(layers[1:], ModuleList) and list(layers[1:]) == [a, b]
    layers[2] = Identity()
    del layers[0]
    assert len(layers) == 2 and layers[0] is a
    assert len(layers.parameters()) == 2
    with pytest.raises(TypeError, match="ModuleList.append: int is not a Module"):
        layers.append(3)
    with pytest.raises(TypeError, match="ModuleList"):
        ModuleList([Linear(1, 1), "relu"])


def test_module_dict_behaves_as_a_dict():
    heads = ModuleDict([("x", Linear(1, 1)), ("y", ReLU())])
    assert list(heads) == ["x", "y"] and "x" in heads and len(heads) == 2
    assert list(heads.keys()) == ["x", "y"] and isinstance(heads["y"], ReLU)
    heads.update({"z": Identity()})
    assert [k for k, _ in heads.items()] == ["x", "y", "z"] and len(list(heads.values())) == 3
    assert isinstance(heads.pop("z"), Identity)
    del heads["y"]
    assert list(heads) == ["x"]
    with pytest.raises(KeyError, match="ModuleDict"):
        heads["a.b"] = ReLU()
    with pytest.raises(TypeError, match="ModuleDict"):
        heads["a"] = 1.0
    heads.clear()
    assert len(heads) == 0 and heads.parameters() == []


def test_new_layers_are_exported():
    for name in ["Embedding", "LayerNorm", "BatchNorm1d", "BatchNorm2d", "Dropout", "Flatten", "Unflatten",
                 "Identity", "GELU", "SiLU", "LeakyReLU", "ELU", "Softplus", "Softmax", "LogSoftmax",
                 "MultiheadAttention", "ModuleList", "ModuleDict", "init"]:  # fmt: skip
        assert name in nn.__all__ and hasattr(nn, name)
    for name in ["linear", "layer_norm", "batch_norm", "dropout", "embedding"]:
        assert name in F.__all__


def test_compile_refuses_what_it_could_not_repeat_and_compiles_eval_mode():
    import autograd
    from autograd.compile import CompileError

    x = Tensor(np.random.default_rng(0).normal(size=(4, 3)))
    for layer, what in [(Dropout(0.5), "random mask"), (BatchNorm1d(3), "running statistics")]:
        f = autograd.compile(lambda t, layer=layer: layer(t).sum())
        with pytest.raises(CompileError, match=what):
            f(x)
        layer.eval()
        g = autograd.compile(lambda t, layer=layer: layer(t).sum())
        np.testing.assert_allclose(g(x).data, layer(x).sum().data, rtol=1e-12)
    assert int(layer.num_batches_tracked.data) == 0  # the refused call changed nothing
