"""nn: Module bookkeeping, Linear/MLP and the losses, checked against the source and numpy.

The source (``../shared/seed/source.txt``) derives its gradients by hand; its functions are
re-implemented below with its exact conventions (see design.md, "The source"):

* ``mse_grad`` is 2 (pred - true): the gradient of the *summed* squared error;
* ``fc_backward``'s ``w_grad = x.T @ z_grad`` is a sum over the batch (equal to autograd's);
* ``fc_backward``'s ``b_grad = mean(z_grad, 0)`` is a mean: batch_size times autograd's;
* ``relu_backward`` gives 0 at z == 0.

Tolerances: autograd and the reference do the same float64 products and sums, possibly in
another order, so they differ by a few roundings of the largest term involved. ``RTOL`` and
the scale-relative ``ATOL`` leave room for ~10^4 roundings (unit roundoff 1.1e-16), while a
wrong formula (a missing factor, a transpose, a wrong sign) changes results by O(1).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nn
from autograd import Tensor
from nn import MLP, CrossEntropyLoss, Linear, Module, MSELoss, Parameter, ReLU, Sigmoid, Tanh

RTOL = 1e-12


def assert_close(actual, expected, rtol: float = RTOL) -> None:
    """allclose with an absolute slack of rtol * (largest |expected|): sums can cancel."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


# ----------------------------------------------------------------------------- the source's functions
# examples/source_numpy.py holds them, with the source's asserts and conventions unchanged.

from source_numpy import fc_backward, fc_forward, mse, mse_grad, relu_backward, relu_forward  # noqa: E402

# ----------------------------------------------------------------------------- strategies

values = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, width=64)
unit = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape, elements=values):
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def two_layer_problems(draw):
    """The source's network at a small size: x (N, d_in), weights, biases and targets."""
    n = draw(st.integers(1, 6))
    d_in, hidden, d_out = draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    return {
        "x": draw(arrays((n, d_in))),
        "true": draw(arrays((n, d_out))),
        "w1": draw(arrays((d_in, hidden), unit)),
        "b1": draw(arrays((hidden,), unit)),
        "w2": draw(arrays((hidden, d_out), unit)),
        "b2": draw(arrays((d_out,), unit)),
    }


def mlp_from(problem) -> MLP:
    d_in, hidden = problem["w1"].shape
    model = MLP([d_in, hidden, problem["w2"].shape[1]], rng=np.random.default_rng(0))
    model.load_state_dict(
        {
            "layers.0.weight": problem["w1"],
            "layers.0.bias": problem["b1"],
            "layers.2.weight": problem["w2"],
            "layers.2.bias": problem["b2"],
        }
    )
    return model


def source_backward(problem):
    """The source's forward and hand-derived backward (main.py's loop body)."""
    x, true = problem["x"], problem["true"]
    z = fc_forward(x, problem["w1"], problem["b1"])
    a = relu_forward(z)
    pred = fc_forward(a, problem["w2"], problem["b2"])
    pred_grad = mse_grad(true, pred)
    a_grad, w2_grad, b2_grad = fc_backward(a, problem["w2"], pred_grad)
    z_grad = relu_backward(z, a_grad)
    x_grad, w1_grad, b1_grad = fc_backward(x, problem["w1"], z_grad)
    return {
        "pred": pred,
        "loss": mse(true, pred),
        "x_grad": x_grad,
        "w1_grad": w1_grad,
        "b1_grad": b1_grad,
        "w2_grad": w2_grad,
        "b2_grad": b2_grad,
    }


# ----------------------------------------------------------------------------- Module: the tree


class Block(Module):
    def __init__(self, rng):
        self.fc = Linear(3, 3, rng=rng)
        self.act = Tanh()

    def forward(self, x):
        return self.act(self.fc(x))


class Net(Module):
    """Submodules by attribute, in a list and in a tuple, a direct Parameter, and non-members."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.encoder = Linear(2, 3, rng=rng)
        self.blocks = [Block(rng), ReLU(), Block(rng)]
        self.heads = (Linear(3, 1, rng=rng), Linear(3, 1, bias=False, rng=rng))
        self.scale = Parameter(np.array(2.0))
        self.buffer = Tensor(np.ones(3))  # a plain Tensor: not a parameter
        self.config = {"depth": 3}  # not a member either

    def forward(self, x):
        h = self.encoder(x)
        for block in self.blocks:
            h = block(h)
        return (self.heads[0](h) + self.heads[1](h)) * self.scale


NET_NAMES = [
    "scale",
    "encoder.weight",
    "encoder.bias",
    "blocks.0.fc.weight",
    "blocks.0.fc.bias",
    "blocks.2.fc.weight",
    "blocks.2.fc.bias",
    "heads.0.weight",
    "heads.0.bias",
    "heads.1.weight",
]


def test_mlp_parameter_names_are_the_source_layout():
    model = MLP([20, 100, 10], rng=np.random.default_rng(0))
    named = list(model.named_parameters())
    assert [name for name, _ in named] == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert [p.shape for _, p in named] == [(20, 100), (100,), (100, 10), (10,)]
    assert all(isinstance(p, Parameter) and p.requires_grad and p.is_leaf for _, p in named)
    # parameters() is the same objects in the same order
    assert all(a is b for a, (_, b) in zip(model.parameters(), named, strict=True))


def test_named_parameters_cover_attributes_lists_and_tuples_in_assignment_order():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == NET_NAMES
    # each name resolves to the very object by walking the attributes
    for name, p in net.named_parameters():
        obj = net
        for part in name.split("."):
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
        assert obj is p
    # the plain Tensor and the dict are not parameters
    assert all(p is not net.buffer for p in net.parameters())


def test_parameter_order_is_deterministic():
    a, b = Net(seed=1), Net(seed=2)
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    first, second = a.parameters(), a.parameters()
    assert len(first) == len(second) and all(p is q for p, q in zip(first, second))
    assert list(a.state_dict()) == [n for n, _ in a.named_parameters()]


class Shared(Module):
    def __init__(self):
        rng = np.random.default_rng(0)
        self.a = Linear(2, 2, rng=rng)
        self.b = Linear(2, 2, rng=rng)
        self.b.weight = self.a.weight  # tied weights
        self.again = self.a  # the same module under a second name


def test_shared_parameter_is_listed_once():
    model = Shared()
    params = model.parameters()
    assert len(params) == 3
    assert len({id(p) for p in params}) == 3
    assert [n for n, _ in model.named_parameters()] == ["a.weight", "a.bias", "b.bias"]
    # so an optimizer accepts them (it refuses a parameter given twice)
    nn.optim.SGD(params, lr=0.1)
    # and a gradient through both uses accumulates into the one tensor
    x = np.array([[1.0, 2.0]])
    (model.a(x).sum() + model.b(x).sum()).backward()
    np.testing.assert_array_equal(model.a.weight.grad.data, 2 * np.repeat(x.T, 2, axis=1))


def test_modules_lists_the_tree_in_preorder():
    net = Net()
    names = [name for name, _ in net.named_modules()]
    assert names == ["", "encoder", "blocks.0", "blocks.0.fc", "blocks.0.act", "blocks.1", "blocks.2",
                     "blocks.2.fc", "blocks.2.act", "heads.0", "heads.1"]  # fmt: skip
    mods = net.modules()
    assert mods[0] is net and mods[1] is net.encoder and mods[2] is net.blocks[0] and mods[-1] is net.heads[1]
    assert [type(m).__name__ for m in mods] == [
        "Net", "Linear", "Block", "Linear", "Tanh", "ReLU", "Block", "Linear", "Tanh", "Linear", "Linear"
    ]  # fmt: skip
    assert [n for n, _ in net.named_children()] == ["encoder", "blocks.0", "blocks.1", "blocks.2", "heads.0", "heads.1"]


def test_modules_lists_a_shared_module_once():
    # PyTorch's modules()/named_modules() yield a module reachable by two paths once.
    model = Shared()
    mods = model.modules()
    assert len({id(m) for m in mods}) == len(mods), [type(m).__name__ for m in mods]
    assert len(mods) == 3


def test_zero_grad_forgets_every_gradient():
    net = Net()
    x = np.random.default_rng(3).normal(size=(4, 2))
    net(x).sum().backward()
    first = {n: p.grad.data.copy() for n, p in net.named_parameters()}
    assert all(p.grad is not None for p in net.parameters())
    net(x).sum().backward()  # without zero_grad gradients accumulate
    for n, p in net.named_parameters():
        assert_close(p.grad.data, 2 * first[n])
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net(x).sum().backward()  # after it, a fresh gradient
    for n, p in net.named_parameters():
        assert_close(p.grad.data, first[n])


def test_train_and_eval_are_recursive():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.blocks[0].eval()  # a subtree only
    assert [m.training for m in net.modules()] == [True, True, False, False, False, True, True, True, True, True, True]
    assert net.train(False) is net and not any(m.training for m in net.modules())
    assert Net().training  # a fresh module is in training mode, whatever another one did


def test_repr_shows_the_tree():
    text = repr(MLP([20, 100, 10], rng=np.random.default_rng(0)))
    assert text.splitlines() == [
        "MLP(sizes=[20, 100, 10]",
        "  (layers.0): Linear(in_features=20, out_features=100, bias=True)",
        "  (layers.1): ReLU()",
        "  (layers.2): Linear(in_features=100, out_features=10, bias=True)",
        ")",
    ]
    lines = repr(Net()).splitlines()
    assert lines[0] == "Net(" and lines[-1] == ")"
    assert "  (blocks.0): Block(" in lines
    assert "    (fc): Linear(in_features=3, out_features=3, bias=True)" in lines  # nested: indented twice
    assert "    (act): Tanh()" in lines
    assert "  (heads.1): Linear(in_features=3, out_features=1, bias=False)" in lines
    assert repr(MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


def test_state_dict_is_a_copy():
    model = MLP([2, 3, 1], rng=np.random.default_rng(0))
    state = model.state_dict()
    before = model.layers[0].weight.data.copy()
    state["layers.0.weight"] += 1.0
    np.testing.assert_array_equal(model.layers[0].weight.data, before)


# ----------------------------------------------------------------------------- Linear


@given(
    n=st.integers(1, 5),
    d_in=st.integers(1, 5),
    d_out=st.integers(1, 5),
    data=st.data(),
)
def test_linear_forward_and_backward_match_the_source(n, d_in, d_out, data):
    x = data.draw(arrays((n, d_in)))
    w = data.draw(arrays((d_in, d_out), unit))
    b = data.draw(arrays((d_out,), unit))
    upstream = data.draw(arrays((n, d_out), unit))
    layer = Linear(d_in, d_out, rng=np.random.default_rng(0))
    assert layer.weight.shape == (d_in, d_out) and layer.bias.shape == (d_out,)
    layer.load_state_dict({"weight": w, "bias": b})
    xt = Tensor(x, requires_grad=True)
    y = layer(xt)
    assert_close(y.data, fc_forward(x, w, b))
    (y * Tensor(upstream)).sum().backward()  # d(sum(y * G))/dy = G
    x_grad, w_grad, b_grad = fc_backward(x, w, upstream)
    assert_close(xt.grad.data, x_grad)
    assert_close(layer.weight.grad.data, w_grad)  # the source's weight gradient is a sum
    assert_close(layer.bias.grad.data, n * b_grad)  # its bias gradient is a mean


def test_linear_without_bias():
    rng = np.random.default_rng(1)
    layer = Linear(4, 3, bias=False, rng=np.random.default_rng(0))
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    x = rng.normal(size=(5, 4))
    assert_close(layer(x).data, x @ layer.weight.data)
    layer(x).sum().backward()
    assert_close(layer.weight.grad.data, x.T @ np.ones((5, 3)))


def test_linear_takes_any_leading_axes_and_plain_arrays():
    rng = np.random.default_rng(2)
    layer = Linear(4, 3, rng=np.random.default_rng(0))
    x = rng.normal(size=(2, 5, 4))
    y = layer(x)  # a numpy array is wrapped
    assert isinstance(y, Tensor) and y.shape == (2, 5, 3)
    assert_close(y.data, x @ layer.weight.data + layer.bias.data)
    y.sum().backward()
    assert_close(layer.bias.grad.data, np.full(3, 10.0))  # summed over both batch axes
    assert_close(layer.weight.grad.data, x.reshape(-1, 4).T @ np.ones((10, 3)))


def test_linear_refuses_the_wrong_number_of_features():
    layer = Linear(4, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"Linear\(4, 3\).*\(2, 5\)"):
        layer(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"Linear\(4, 3\)"):
        layer(np.float64(1.0))


def test_linear_default_init_is_uniform_within_the_bound():
    in_features, out_features = 400, 500
    layer = Linear(in_features, out_features, rng=np.random.default_rng(7))
    bound = 1 / np.sqrt(in_features)
    w, b = layer.weight.data, layer.bias.data
    assert w.dtype == np.float64 and b.dtype == np.float64
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    # U(-c, c): mean 0, std c / sqrt(3), reaching both ends. With 2e5 draws the standard error
    # of the mean is c/sqrt(3)/447 ~ 1.3e-3 c and of the std ~ 0.6e-3 c: 10 standard errors below.
    assert abs(w.mean()) < 0.013 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert w.max() > 0.999 * bound and w.min() < -0.999 * bound
    # a normal init of the same std would put ~8% of values beyond the bound; a uniform puts 0%
    # and fills each quarter of the interval equally
    counts, _ = np.histogram(w, bins=4, range=(-bound, bound))
    assert np.all(np.abs(counts / w.size - 0.25) < 0.01)
    # the bound follows in_features, not out_features
    narrow = Linear(4, 1000, rng=np.random.default_rng(7)).weight.data
    assert np.abs(narrow).max() <= 0.5 and np.abs(narrow).max() > 0.49


def test_linear_init_is_reproducible_from_the_generator_seed():
    def make(seed):
        return Linear(5, 7, rng=np.random.default_rng(seed))

    a, b, c = make(11), make(11), make(12)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    # two layers from one generator differ, and the whole MLP is reproducible
    rng = np.random.default_rng(3)
    first, second = Linear(5, 7, rng=rng), Linear(5, 7, rng=rng)
    assert not np.array_equal(first.weight.data, second.weight.data)
    m1, m2 = (MLP([3, 8, 8, 2], rng=np.random.default_rng(4)) for _ in range(2))
    for (n1, p1), (n2, p2) in zip(m1.named_parameters(), m2.named_parameters(), strict=True):
        assert n1 == n2
        np.testing.assert_array_equal(p1.data, p2.data)
    # without rng the layers are (almost surely) different
    assert not np.array_equal(Linear(5, 7).weight.data, Linear(5, 7).weight.data)


def test_linear_dtype():
    layer = Linear(3, 2, dtype=np.float32, rng=np.random.default_rng(0))
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer(np.ones((1, 3))).dtype == np.float32


# ----------------------------------------------------------------------------- MLP


def test_mlp_places_activations_between_layers_only():
    model = MLP([3, 5, 4, 2], activation=Tanh, rng=np.random.default_rng(0))
    assert [type(m) for m in model.layers] == [Linear, Tanh, Linear, Tanh, Linear]
    assert len(model) == 5 and model[1] is model.layers[1]
    assert [(m.in_features, m.out_features) for m in model.layers[::2]] == [(3, 5), (5, 4), (4, 2)]
    single = MLP([3, 2], rng=np.random.default_rng(0))
    assert [type(m) for m in single.layers] == [Linear]
    with pytest.raises(ValueError, match="MLP"):
        MLP([3])


@pytest.mark.parametrize(
    ("activation", "reference"),
    [
        (ReLU, lambda z: np.maximum(z, 0)),
        (Tanh, np.tanh),
        (Sigmoid, lambda z: 1 / (1 + np.exp(-z))),
    ],
)
def test_mlp_forward_is_the_numpy_composition(activation, reference):
    rng = np.random.default_rng(5)
    model = MLP([3, 6, 4, 2], activation=activation, rng=np.random.default_rng(1))
    x = rng.normal(size=(7, 3)) * 3
    (w1, b1), (w2, b2), (w3, b3) = [(m.weight.data, m.bias.data) for m in model.layers[::2]]
    expected = reference(reference(x @ w1 + b1) @ w2 + b2) @ w3 + b3  # no activation at the end
    out = model(x)
    assert_close(out.data, expected)
    # and the last layer is linear: scaling its weights and bias scales the output
    model.layers[-1].weight.data *= 3
    model.layers[-1].bias.data *= 3
    assert_close(model(x).data, 3 * expected)


@pytest.mark.parametrize(
    ("module", "value", "derivative"),
    [
        (Tanh(), np.tanh, lambda x: 1 - np.tanh(x) ** 2),
        (Sigmoid(), lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
        (ReLU(), lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    ],
)
def test_activation_modules_value_and_gradient(module, value, derivative):
    x = np.array([-30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0])
    xt = Tensor(x, requires_grad=True)
    y = module(xt)
    assert_close(y.data, value(x))
    y.sum().backward()
    assert_close(xt.grad.data, derivative(x))
    assert list(module.parameters()) == []


@given(two_layer_problems())
def test_mlp_sum_mse_gradients_match_the_source(problem):
    """MSELoss("sum") is the loss whose gradient the source's hand-derived backward computes."""
    n = problem["x"].shape[0]
    ref = source_backward(problem)
    model = mlp_from(problem)
    x = Tensor(problem["x"], requires_grad=True)
    pred = model(x)
    assert_close(pred.data, ref["pred"])
    loss = MSELoss(reduction="sum")(pred, problem["true"])
    assert_close(loss.item(), ref["loss"].sum() * problem["true"].shape[1])  # source's mse is per-row mean
    loss.backward()
    grads = {name: p.grad.data for name, p in model.named_parameters()}
    assert_close(grads["layers.0.weight"], ref["w1_grad"])
    assert_close(grads["layers.2.weight"], ref["w2_grad"])
    assert_close(grads["layers.0.bias"], n * ref["b1_grad"])  # the source's bias grads are means
    assert_close(grads["layers.2.bias"], n * ref["b2_grad"])
    assert_close(x.grad.data, ref["x_grad"])


@given(two_layer_problems())
def test_mlp_mean_mse_is_the_printed_loss_and_scales_the_gradients(problem):
    """MSELoss("mean") averages over all N * C elements: the source's printed np.mean(mse)."""
    n, c = problem["true"].shape
    ref = source_backward(problem)
    model = mlp_from(problem)
    loss = MSELoss()(model(problem["x"]), problem["true"])  # "mean" is the default
    assert_close(loss.item(), np.mean(ref["loss"]))
    loss.backward()
    grads = {name: p.grad.data for name, p in model.named_parameters()}
    assert_close(grads["layers.0.weight"], ref["w1_grad"] / (n * c))
    assert_close(grads["layers.2.weight"], ref["w2_grad"] / (n * c))
    assert_close(grads["layers.0.bias"], ref["b1_grad"] / c)
    assert_close(grads["layers.2.bias"], ref["b2_grad"] / c)


# ----------------------------------------------------------------------------- MSELoss


@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    data=st.data(),
)
def test_mse_reductions_and_their_gradients(shape, data):
    pred_np, true = data.draw(arrays(shape)), data.draw(arrays(shape))
    size = pred_np.size
    results = {}
    for reduction in ("none", "sum", "mean"):
        pred = Tensor(pred_np, requires_grad=True)
        loss = MSELoss(reduction=reduction)(pred, true)
        if reduction == "none":
            assert loss.shape == shape
            loss.backward(np.ones(shape))
        else:
            assert loss.shape == ()
            loss.backward()
        results[reduction] = (loss.data, pred.grad.data)
    assert_close(results["none"][0], (pred_np - true) ** 2)
    assert_close(results["sum"][0], np.sum((pred_np - true) ** 2))
    assert_close(results["mean"][0], results["sum"][0] / size)
    # the sum's gradient is the source's mse_grad; "none" with ones upstream equals it too
    if len(shape) == 2:
        assert_close(results["sum"][1], mse_grad(true, pred_np))
        assert_close(np.mean(mse(true, pred_np)), results["mean"][0])
    assert_close(results["sum"][1], 2 * (pred_np - true))
    assert_close(results["none"][1], results["sum"][1])
    assert_close(results["mean"][1], results["sum"][1] / size)


def test_mse_function_matches_the_module_and_accepts_a_tensor_target():
    rng = np.random.default_rng(0)
    pred, true = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    assert_close(nn.mse_loss(Tensor(pred), Tensor(true), "sum").data, np.sum((pred - true) ** 2))
    assert_close(nn.mse_loss(Tensor(pred), true).data, MSELoss()(Tensor(pred), true).data)


@pytest.mark.parametrize(
    ("pred_shape", "target_shape"), [((3, 2), (2, 3)), ((3, 2), (3,)), ((3, 1), (3,)), ((4,), (4, 1))]
)
def test_mse_refuses_shape_mismatch_even_when_broadcastable(pred_shape, target_shape):
    pred = Tensor(np.zeros(pred_shape), requires_grad=True)
    with pytest.raises(ValueError, match="mse_loss") as info:
        MSELoss()(pred, np.zeros(target_shape))
    assert str(pred_shape) in str(info.value) and str(target_shape) in str(info.value)
    assert pred.grad is None


@pytest.mark.parametrize("bad", ["avg", "Mean", None, ""])
def test_losses_refuse_an_unknown_reduction(bad):
    for make, name in ((MSELoss, "MSELoss"), (CrossEntropyLoss, "CrossEntropyLoss")):
        with pytest.raises(ValueError, match=name) as info:
            make(reduction=bad)
        assert "mean" in str(info.value) and repr(bad) in str(info.value)
    with pytest.raises(ValueError, match="mse_loss"):
        nn.mse_loss(Tensor(np.zeros(2)), np.zeros(2), reduction=bad)
    with pytest.raises(ValueError, match="cross_entropy"):
        nn.cross_entropy(Tensor(np.zeros((1, 2))), np.array([0]), reduction=bad)


# ----------------------------------------------------------------------------- CrossEntropyLoss


def ce_reference(logits: np.ndarray, labels: np.ndarray):
    """Per-row loss logsumexp(z) - z[y] and its gradient softmax(z) - onehot(y), in numpy."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    logsumexp = np.log(np.exp(shifted).sum(axis=1))
    rows = np.arange(len(labels))
    loss = logsumexp - shifted[rows, labels]
    softmax = np.exp(shifted - logsumexp[:, None])
    onehot = np.zeros_like(logits)
    onehot[rows, labels] = 1.0
    return loss, softmax - onehot


@st.composite
def classification(draw, scale=10.0):
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    elements = st.floats(-scale, scale, allow_nan=False, allow_infinity=False, width=64)
    logits = draw(arrays((n, c), elements))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return logits, labels


@given(classification(), st.sampled_from(["none", "sum", "mean"]))
def test_cross_entropy_matches_numpy_and_its_gradient_is_softmax_minus_onehot(problem, reduction):
    logits_np, labels = problem
    n = len(labels)
    ref_loss, ref_grad = ce_reference(logits_np, labels)
    logits = Tensor(logits_np, requires_grad=True)
    loss = CrossEntropyLoss(reduction=reduction)(logits, labels)
    if reduction == "none":
        assert loss.shape == (n,)
        assert_close(loss.data, ref_loss)
        upstream = np.linspace(-1, 2, n)
        loss.backward(upstream)
        assert_close(logits.grad.data, upstream[:, None] * ref_grad)
    else:
        assert loss.shape == ()
        divisor = n if reduction == "mean" else 1
        assert_close(loss.item(), ref_loss.sum() / divisor)
        loss.backward()
        assert_close(logits.grad.data, ref_grad / divisor)
    # each row of the gradient of the summed loss sums to 0 (softmax sums to 1, onehot too)
    assert_close(ref_grad.sum(axis=1), np.zeros(n))


@given(classification(scale=1e4))
def test_cross_entropy_is_finite_for_huge_logits(problem):
    logits_np, labels = problem
    logits = Tensor(logits_np, requires_grad=True)
    loss = nn.cross_entropy(logits, labels, reduction="sum")
    ref_loss, ref_grad = ce_reference(logits_np, labels)
    assert np.isfinite(loss.item()) and loss.item() >= 0
    loss.backward()
    assert np.all(np.isfinite(logits.grad.data))
    assert_close(loss.item(), ref_loss.sum())
    assert_close(logits.grad.data, ref_grad)


def test_cross_entropy_at_1e4_by_hand():
    logits = Tensor(np.array([[1e4, 0.0, -1e4], [1e4, 1e4, -1e4]]), requires_grad=True)
    loss = nn.cross_entropy(logits, np.array([2, 0]), reduction="none")
    # row 0: logsumexp = 1e4 (+ e^-1e4, lost), loss = 1e4 - (-1e4); row 1: log 2
    assert_close(loss.data, [2e4, np.log(2.0)])
    loss.sum().backward()
    assert_close(logits.grad.data, [[1.0, 0.0, -1.0], [-0.5, 0.5, 0.0]])


def test_cross_entropy_uniform_logits_give_log_c():
    for c in (1, 2, 10):
        loss = CrossEntropyLoss()(Tensor(np.zeros((4, c))), np.arange(4) % c)
        assert_close(loss.item(), np.log(c))


def test_cross_entropy_accepts_labels_as_list_or_tensor():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    ref, _ = ce_reference(logits, np.array([1, 2]))
    for labels in (
        [1, 2],
        np.array([1, 2], dtype=np.int32),
        np.array([1, 2], dtype=np.uint8),
        Tensor(np.array([1, 2])),
    ):
        assert_close(nn.cross_entropy(Tensor(logits), labels).item(), ref.mean())


@pytest.mark.parametrize(
    ("logits_shape", "labels_shape"),
    [((3, 4), (2,)), ((3, 4), (3, 1)), ((4,), (1,)), ((2, 3, 4), (2,)), ((3, 4), ())],
)
def test_cross_entropy_refuses_bad_shapes(logits_shape, labels_shape):
    logits = Tensor(np.zeros(logits_shape), requires_grad=True)
    with pytest.raises(ValueError, match="cross_entropy") as info:
        CrossEntropyLoss()(logits, np.zeros(labels_shape, dtype=np.int64))
    assert str(logits_shape) in str(info.value) and str(labels_shape) in str(info.value)
    assert logits.grad is None


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0], [0, 100]])
def test_cross_entropy_refuses_labels_out_of_range(labels):
    with pytest.raises(ValueError, match=r"cross_entropy.*\[0, 3\)"):
        nn.cross_entropy(Tensor(np.zeros((2, 3))), np.array(labels))


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0]), np.array([True, False]), np.array([0.5, 1.0])])
def test_cross_entropy_refuses_non_integer_labels(labels):
    with pytest.raises(TypeError, match=rf"cross_entropy.*{labels.dtype}"):
        nn.cross_entropy(Tensor(np.zeros((2, 3))), labels)
