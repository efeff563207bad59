"""Regression tests for the trust issue's items fixed so far: calls that gave a silently wrong
answer (or accepted bad input) now do what a PyTorch user means, or raise a clear error.

Covered here: in-place on graph values (item 1), augmented assignment (2), integer tensors
that require grad and integer casts (5), complex and other non-numeric data (6, 15),
``transpose`` with two axes (7), ``broadcast_to`` to fewer axes (12), softmax of an empty
array (13), ``add_`` of a list with ``alpha`` (14). The pow mixed derivative (4), the stable
sigmoid (10) and the reference cycles (17) are tested in tests/test_fast_core.py; micrograd's
``c += c + 1`` on graph values by tests/test_engine.py's sanity check.
"""

from __future__ import annotations

import datetime

import numpy as np
import pytest

import autograd
from autograd import Tensor, no_grad


def leaf(values) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ----------------------------------------------------------------------------- 1. in place on graph values


@pytest.mark.parametrize(
    "change",
    [lambda y: y.mul_(2.0), lambda y: y.add_(1.0), lambda y: y.sub_(1.0), lambda y: y.copy_(np.zeros(2))],
    ids=["mul_", "add_", "sub_", "copy_"],
)
def test_in_place_on_a_value_made_by_ops_is_refused_in_grad_mode(change):
    x = leaf([1.0, 2.0])
    y = x * 3.0
    before = y.data.copy()
    with pytest.raises(RuntimeError, match="made by Mul and is part of the graph"):
        change(y)
    np.testing.assert_array_equal(y.data, before)  # a refused change changes nothing
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


@pytest.mark.parametrize(
    "view", [lambda x: x.reshape(4), lambda x: x[0:1], lambda x: x.T], ids=["reshape", "slice", "T"]
)
def test_in_place_through_a_view_of_a_leaf_that_requires_grad_is_refused(view):
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match="part of the graph"):
        view(x).add_(1.0)
    np.testing.assert_array_equal(x.data, [[1.0, 2.0], [3.0, 4.0]])


def test_in_place_through_a_view_under_no_grad_changes_the_leaf_and_is_noted():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    with no_grad():
        x.reshape(2).add_(1.0)
    np.testing.assert_array_equal(x.data, [2.0, 3.0])
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


# ----------------------------------------------------------------------------- 2. augmented assignment


def test_minus_equals_in_a_no_grad_loop_updates_the_parameters():
    params = [leaf([1.0, 2.0]), leaf([3.0])]
    for p in params:
        p.grad = Tensor(np.ones(p.shape))
    kept = list(params)
    with no_grad():
        for p in params:
            p -= 0.5 * p.grad
    for p, q in zip(params, kept):
        assert p is q  # updated in place, not rebound
    np.testing.assert_array_equal(params[0].data, [0.5, 1.5])
    np.testing.assert_array_equal(params[1].data, [2.5])


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_augmented_assignment_on_a_leaf_that_requires_grad_in_grad_mode_raises(op):
    w = leaf([1.0, 2.0])
    namespace = {"w": w}
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        exec(f"w {op} 2.0", namespace)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_plus_equals_on_a_constant_is_in_place_and_with_a_grad_operand_is_recorded():
    acc = Tensor(np.zeros(2))
    alias = acc
    acc += Tensor([1.0, 2.0])
    assert acc is alias
    np.testing.assert_array_equal(alias.data, [1.0, 2.0])
    w = leaf([1.0, 1.0])
    total = Tensor(np.zeros(2))
    total += w * 3.0  # the graph must see w: the result is a recorded tensor
    total.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


# ----------------------------------------------------------------------------- 5. integers


def test_requires_grad_set_by_hand_on_an_integer_tensor_fails_at_backward():
    t = Tensor([1, 2])
    t.requires_grad = True
    loss = (t * 2.0).sum()
    with pytest.raises(TypeError, match="int64.*integer"):
        loss.backward()
    assert t.grad is None


def test_casting_to_an_integer_is_not_differentiable():
    x = leaf([1.4, 2.6])
    rounded = x.astype(np.int64)
    assert rounded.grad_fn is None and not rounded.requires_grad
    np.testing.assert_array_equal(rounded.data, [1, 2])


# ----------------------------------------------------------------------------- 6, 15. only real numbers


@pytest.mark.parametrize(
    "data",
    [
        np.array([1 + 2j]),
        ["a", "b"],
        np.array([b"x"]),
        np.array(["2026-01-01"], dtype="datetime64[D]"),
        np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]),
        [datetime.date(2026, 1, 1)],
    ],
    ids=["complex", "str", "bytes", "datetime64", "structured", "date objects"],
)
def test_non_numeric_data_is_refused(data):
    with pytest.raises(TypeError, match="real numbers"):
        Tensor(data)
    with pytest.raises(TypeError, match="real numbers"):
        leaf([1.0]) + np.asarray(data)


def test_complex_operand_is_refused_before_a_wrong_gradient():
    x = leaf([1.0])
    with pytest.raises(TypeError, match="complex|real numbers"):
        (x * 1j).sum()


# ----------------------------------------------------------------------------- 7. transpose


def test_transpose_zero_one_on_2d_is_refused_naming_swapaxes():
    t = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"swapaxes\(0, 1\)"):
        t.transpose(0, 1)
    assert t.transpose(1, 0).shape == (3, 2)  # both readings agree: a swap
    assert t.transpose((0, 1)).shape == (2, 3)  # a tuple is numpy's permutation
    assert t.transpose().shape == (3, 2)


def test_transpose_of_two_axes_on_3d_is_refused_naming_swapaxes():
    t = Tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"swapaxes\(-2, -1\)"):
        t.transpose(-2, -1)
    assert t.swapaxes(-2, -1).shape == (2, 4, 3)
    assert t.transpose(2, 0, 1).shape == (4, 2, 3)


# ----------------------------------------------------------------------------- 12, 13, 14


def test_broadcast_to_fewer_axes_is_refused_like_numpy():
    with pytest.raises(ValueError, match=r"cannot broadcast shape \(1, 3\) to \(3,\)"):
        Tensor(np.zeros((1, 3)), requires_grad=True).broadcast_to((3,))
    with pytest.raises(ValueError):
        np.broadcast_to(np.zeros((1, 3)), (3,))  # numpy's own rule, which the message follows


@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
def test_softmax_of_an_empty_array_is_empty(method):
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    y = getattr(x, method)(axis=-1)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 3)


def test_add_of_a_list_scales_it_by_alpha():
    t = Tensor([1.0])
    t.add_([1.0], alpha=2)
    np.testing.assert_array_equal(t.data, [3.0])


def test_the_stable_ops_still_pass_gradcheck():
    x = leaf([-30.0, -1.0, 0.5, 20.0])
    assert autograd.gradcheck(lambda t: t.sigmoid().log(), x)


# ----------------------------------------------------------------------------- 3, 8, 9


def test_changing_index_arrays_and_masks_before_backward_changes_nothing():
    x = leaf([1.0, 2.0, 3.0])
    index = np.array([0, 0, 2])
    mask = np.array([True, False, True])
    loss = x[index].sum() + autograd.where(mask, x, 0.0).sum()
    index[:] = 1  # the caller reuses its buffers before backward
    mask[:] = False
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 2.0])


def test_changing_labels_before_backward_changes_nothing():
    import nn

    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    labels = np.array([0, 2])
    loss = nn.cross_entropy(logits, labels, reduction="sum")
    labels[:] = 1
    loss.backward()
    expected = np.full((2, 3), 1 / 3)
    expected[0, 0] -= 1
    expected[1, 2] -= 1
    np.testing.assert_allclose(logits.grad.data, expected, rtol=1e-12)


def test_modules_in_dicts_and_nested_lists_are_found():
    import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            self.heads = {"a": nn.Linear(2, 2), "b": nn.Linear(2, 1)}
            self.blocks = [[nn.Linear(2, 2)], [nn.Linear(2, 2), nn.Linear(2, 2)]]

    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert len(names) == 10
    assert "heads.a.weight" in names and "blocks.1.0.bias" in names
    assert set(net.state_dict()) == set(names)


def test_a_dict_of_layers_with_non_string_keys_is_refused_by_name():
    import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            self.heads = {0: nn.Linear(2, 2)}

    with pytest.raises(TypeError, match="heads.*string keys"):
        list(Net().named_parameters())


def test_adamw_has_pytorchs_defaults():
    from nn.optim import AdamW

    w = leaf([1.0, -2.0])
    opt = AdamW([w])
    group = opt.param_groups[0]
    assert group["weight_decay"] == 0.01 and group["decoupled_weight_decay"] is True
    assert group["lr"] == 1e-3 and group["betas"] == (0.9, 0.999) and group["eps"] == 1e-8
    torch = pytest.importorskip("torch")
    tw = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.AdamW([tw])
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        topt.zero_grad()
        (tw * tw).sum().backward()
        topt.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)
