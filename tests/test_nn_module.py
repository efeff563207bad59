"""Module's bookkeeping beyond parameters: buffers (register_buffer, named_buffers, in
state_dict and load_state_dict, through nn.save / nn.load), children, named_modules, apply,
requires_grad_, to(dtype), and train/eval reaching every submodule.
"""

from __future__ import annotations

import numpy as np
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st
from op_checks import Case, check_first, check_float32, check_second

import nn
from autograd import Tensor
from nn import BatchNorm1d, Dropout, Linear, Module, ModuleList, Parameter, ReLU, Sequential


def _batch_norm_module_in_eval(data):
    """A module's forward reads its buffers: BatchNorm1d in eval mode, running statistics loaded
    through load_state_dict, and the drawn weight and bias as its parameters."""
    n, c = data.draw(st.integers(1, 3), label="N"), data.draw(st.integers(1, 3), label="C")
    x = data.draw(S.arrays((n, c)), label="x")
    w, b = data.draw(S.arrays((c,)), label="weight"), data.draw(S.arrays((c,)), label="bias")
    mean = data.draw(S.arrays((c,)), label="running_mean")
    var = data.draw(S.arrays((c,), S.floats(0.5, 2.0)), label="running_var")
    bn = BatchNorm1d(c)
    bn.load_state_dict({"running_mean": mean, "running_var": var}, strict=False)
    bn.eval()

    def forward(t, tw, tb):
        bn.weight, bn.bias = tw, tb
        return bn(t)

    return [x, w, b], forward, lambda a, aw, ab: (a - mean) * (var + 1e-5) ** -0.5 * aw + ab


CASES: list[Case] = [Case("batch_norm_module_eval", _batch_norm_module_in_eval)]


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=15)
@given(data=st.data())
def test_module_forward_derivatives(case: Case, data: st.DataObject) -> None:
    check_first(case, data)
    check_second(case, data)
    check_float32(case, data)


class Stats(Module):
    """A parameter, a persistent buffer, a non-persistent one, a None one, and a plain Tensor."""

    def __init__(self):
        self.scale = Parameter(np.ones(2))
        self.register_buffer("count", Tensor(np.array(0, dtype=np.int64)))
        self.register_buffer("total", Tensor(np.zeros(2)))
        self.register_buffer("scratch", Tensor(np.zeros(3)), persistent=False)
        self.register_buffer("absent", None)
        self.plain = Tensor(np.ones(4))  # not registered: not state

    def forward(self, x):
        return x * self.scale + self.total


class Model(Module):
    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.fc = Linear(3, 4, rng=rng)
        self.bn = BatchNorm1d(4)
        self.drop = Dropout(0.5)
        self.stats = Stats()
        self.head = Linear(4, 2, rng=rng)

    def forward(self, x):
        return self.head(self.drop(self.bn(self.fc(x)).relu()))


def test_buffers_are_listed_and_saved_as_pytorch_orders_them():
    model = Model()
    assert [n for n, _ in model.named_buffers()] == [
        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "stats.count", "stats.total", "stats.scratch",
    ]  # fmt: skip
    assert all(b is model.bn.running_mean for b in model.buffers()[:1])
    # module by module, parameters then persistent buffers; non-persistent and None buffers are left out
    assert list(model.state_dict()) == [
        "fc.weight", "fc.bias",
        "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
        "stats.scale", "stats.count", "stats.total",
        "head.weight", "head.bias",
    ]  # fmt: skip
    assert model.state_dict()["bn.num_batches_tracked"].dtype == np.int64
    assert all(p is not model.stats.plain for p in model.buffers())
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias", "bn.weight", "bn.bias",
                                                        "stats.scale", "head.weight", "head.bias"]  # fmt: skip


def test_state_dict_buffers_are_copies():
    stats = Stats()
    state = stats.state_dict()
    state["total"] += 1
    np.testing.assert_array_equal(stats.total.data, 0.0)


def test_reassigning_a_buffer_keeps_it_a_buffer():
    stats = Stats()
    stats.total = Tensor(np.full(2, 3.0))
    np.testing.assert_array_equal(stats.state_dict()["total"], 3.0)
    stats.absent = Tensor(np.ones(1))  # a None buffer set later joins the state
    assert "absent" in stats.state_dict()


def test_register_buffer_refusals():
    stats = Stats()
    with pytest.raises(KeyError, match="already exists"):
        stats.register_buffer("scale", Tensor(np.ones(2)))
    with pytest.raises(KeyError, match="already exists"):
        stats.register_buffer("training", Tensor(np.ones(1)))
    with pytest.raises(KeyError, match="without '.'"):
        stats.register_buffer("a.b", Tensor(np.ones(1)))
    with pytest.raises(TypeError, match="Parameter is trained"):
        stats.register_buffer("p", Parameter(np.ones(1)))
    with pytest.raises(TypeError, match="expected a Tensor"):
        stats.register_buffer("arr", np.ones(1))
    stats.register_buffer("total", Tensor(np.ones(2)))  # registering the same name again replaces it
    np.testing.assert_array_equal(stats.total.data, 1.0)


def test_load_state_dict_restores_buffers_into_the_same_tensors():
    source, target = Model(0), Model(1)
    source.train()
    source(np.random.default_rng(0).normal(size=(8, 3)))  # running statistics move
    buffers = target.buffers()
    target.load_state_dict(source.state_dict())
    assert all(a is b for a, b in zip(buffers, target.buffers(), strict=True))
    for (name, a), (_, b) in zip(source.named_buffers(), target.named_buffers(), strict=True):
        if name != "stats.scratch":  # not persistent: not loaded
            np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    assert int(target.bn.num_batches_tracked.data) == 1 and target.bn.num_batches_tracked.dtype == np.int64


def test_load_state_dict_checks_buffers_all_or_nothing():
    model = Model()
    before = {n: np.array(t.data) for n, t in model._named_state()}
    state = Model(1).state_dict()
    state["bn.running_var"] = np.ones(5)  # the wrong shape
    state["bn.num_batches_tracked"] = np.array(2.5)  # a fraction for an integer buffer
    del state["stats.total"]
    state["stats.scratch"] = np.zeros(3)  # a non-persistent buffer is not state
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for needle in ["missing keys: stats.total", "unexpected keys: stats.scratch", "bn.running_var: shape (5,)",
                   "bn.num_batches_tracked: values of dtype float64", "nothing was loaded"]:  # fmt: skip
        assert needle in message, (needle, message)
    for name, tensor in model._named_state():
        np.testing.assert_array_equal(tensor.data, before[name], err_msg=name)


def test_save_and_load_a_batch_norm_model_gives_the_same_eval_output(tmp_path):
    rng = np.random.default_rng(0)
    model = Model(0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):  # train a little: parameters and running statistics change
        opt.zero_grad()
        (model(rng.normal(size=(16, 3))) ** 2).mean().backward()
        opt.step()
    model.eval()
    x = rng.normal(size=(5, 3))
    expected = model(x).data
    path = tmp_path / "model.npz"
    nn.save(model.state_dict(), path)
    restored = Model(1)
    assert not np.allclose(restored.eval()(x).data, expected)
    restored.load_state_dict(nn.load(path))
    np.testing.assert_array_equal(restored(x).data, expected)
    np.testing.assert_array_equal(restored.bn.running_var.data, model.bn.running_var.data)
    assert int(restored.bn.num_batches_tracked.data) == 3


def test_children_and_named_modules():
    model = Model()
    assert [n for n, _ in model.named_children()] == ["fc", "bn", "drop", "stats", "head"]
    assert model.children() == [model.fc, model.bn, model.drop, model.stats, model.head]
    shared = Sequential(model.fc, ReLU(), model.fc)  # a module under two names: listed once
    assert len(shared.children()) == 2
    assert [n for n, _ in shared.named_modules()] == ["", "layers.0", "layers.1"]
    assert "(layers.2): Linear" in repr(shared)  # but printed under each name, as PyTorch
    tree = ModuleList([Sequential(Linear(1, 1)), ModuleList([ReLU()])])
    assert [n for n, _ in tree.named_modules()] == ["", "0", "0.layers.0", "1", "1.0"]


def test_apply_visits_children_before_parents_each_once():
    model = Sequential(Linear(2, 2), Sequential(ReLU(), Linear(2, 1)))
    model.layers.append(model.layers[0])  # shared
    seen: list[str] = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]

    def init(m):
        if isinstance(m, Linear):
            nn.init.zeros_(m.weight)

    model.apply(init)
    assert all(np.all(p.data == 0) for n, p in model.named_parameters() if n.endswith("weight"))


def test_requires_grad_freezes_and_unfreezes():
    model = Model()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.eval()
    out = model(np.ones((2, 3)))
    assert not out.requires_grad  # nothing to differentiate
    model.fc.requires_grad_()
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    model(np.ones((2, 3))).sum().backward()
    assert model.fc.weight.grad is not None and model.head.weight.grad is None


def test_to_casts_parameters_grads_and_float_buffers_in_place():
    model = Model()
    model(np.ones((4, 3))).sum().backward()
    params, buffers = model.parameters(), model.buffers()
    assert model.to(np.float32) is model
    assert all(p is q for p, q in zip(params, model.parameters(), strict=True))  # an optimizer's refs stay valid
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters() if p.grad is not None)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert all(b is c for b, c in zip(buffers, model.buffers(), strict=True))
    assert model.bn.running_mean.dtype == np.float32 and model.stats.scratch.dtype == np.float32
    assert model.bn.num_batches_tracked.dtype == np.int64 and model.stats.count.dtype == np.int64
    model.eval()
    assert model(np.ones((2, 3), dtype=np.float32)).dtype == np.float32
    model.to("float64")
    assert all(p.dtype == np.float64 for p in model.parameters())
    for bad in (np.int32, "int64", bool):
        with pytest.raises(TypeError, match="floating-point dtype"):
            model.to(bad)
    assert model.to("cpu") is model and all(p.dtype == np.float64 for p in model.parameters())  # the one device
    with pytest.raises(RuntimeError, match="numpy on the CPU"):
        model.to("cuda")


def test_train_and_eval_reach_every_submodule():
    model = Sequential(Model(), ModuleList([Dropout(), BatchNorm1d(2)]))
    model.eval()
    assert not any(m.training for m in model.modules())
    assert model.layers[1][0].training is False
    model.train()
    assert all(m.training for m in model.modules())
    x = Tensor(np.ones((3, 2)))
    model.layers[1][0].eval()
    assert model.layers[1][0](x) is x  # eval Dropout
