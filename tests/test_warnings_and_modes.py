"""Warnings the library's own arithmetic would raise are handled where they arise; grad-mode
switches behave as PyTorch's (set_grad_enabled as a call, a block and a decorator)."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import autograd
import nn.functional as F
from autograd import Tensor, is_grad_enabled, no_grad, set_grad_enabled

# ----------------------------------------------------------------------------- set_grad_enabled


def test_set_grad_enabled_as_a_plain_call_takes_effect_at_once():
    try:
        set_grad_enabled(False)
        assert not is_grad_enabled()
        assert not (Tensor([1.0], requires_grad=True) * 2).requires_grad
        set_grad_enabled(True)
        assert is_grad_enabled()
    finally:
        set_grad_enabled(True)


def test_set_grad_enabled_as_a_block_restores_the_previous_setting():
    with set_grad_enabled(False):
        assert not is_grad_enabled()
        with set_grad_enabled(True):
            assert (Tensor([1.0], requires_grad=True) * 2).requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with no_grad(), set_grad_enabled(True):
        assert is_grad_enabled()
    assert is_grad_enabled()


def test_set_grad_enabled_block_restores_after_an_exception():
    with pytest.raises(ValueError), set_grad_enabled(False):
        raise ValueError("inside")
    assert is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_sets_the_mode_only_while_the_function_runs():
    @set_grad_enabled(False)
    def inside() -> bool:
        return is_grad_enabled()

    assert is_grad_enabled(), "decorating must not switch recording off"
    assert inside() is False
    assert is_grad_enabled()


def test_set_grad_enabled_is_per_thread():
    seen = []
    with set_grad_enabled(False):
        worker = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_set_grad_enabled_restores_what_its_earlier_call_returned():
    """``before = set_grad_enabled(False); ...; set_grad_enabled(before)``: this library's older
    spelling (the call returned the previous setting) still restores it."""
    before = set_grad_enabled(False)
    assert not is_grad_enabled()
    set_grad_enabled(before)
    assert is_grad_enabled()
    with no_grad():
        before = set_grad_enabled(True)
        set_grad_enabled(before)
        assert not is_grad_enabled()


def test_set_grad_enabled_takes_numpy_booleans():
    with set_grad_enabled(np.False_):
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_one_set_grad_enabled_object_can_be_used_twice():
    switch = set_grad_enabled(False)
    with switch:
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with switch:
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_set_grad_enabled_refuses_a_non_boolean_and_changes_nothing():
    with pytest.raises(TypeError, match="set_grad_enabled: give True or False"):
        set_grad_enabled("no")  # type: ignore[arg-type]
    assert is_grad_enabled()


# ----------------------------------------------------------------------------- softmax, logsumexp


MASKED = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, -np.inf]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_a_fully_masked_row_gives_nan_with_a_warning_that_names_the_op(name):
    """As PyTorch: the all -inf row's result is NaN; the other row is exact. The warning says
    which op and why, instead of numpy's "invalid value encountered in subtract"."""
    x = Tensor(MASKED, requires_grad=True)
    with pytest.warns(RuntimeWarning, match=rf"^{name}: 1 slice\(s\) along axis -1 are all -inf") as caught:
        y = getattr(F, name)(x, axis=-1)
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert np.isnan(y.data[0]).all()
    want = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    got = y.data[1, :2] if name == "softmax" else np.exp(y.data[1, :2])
    np.testing.assert_allclose(got, want, rtol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # backward through the NaN row warns nothing more
        (y * Tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    assert np.isnan(x.grad.data[0]).all() and np.isfinite(x.grad.data[1]).all()


def test_softmax_of_finite_rows_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.softmax(Tensor(np.array([[1e3, -1e3, 0.0]])), axis=-1)
        F.log_softmax(Tensor(np.array([[-np.inf, 0.0]])), axis=-1)  # one masked entry is fine


def test_logsumexp_of_an_all_minus_inf_slice_is_minus_inf_with_nan_gradient_and_no_warning():
    """-inf (the log of an empty sum) and a NaN gradient, as PyTorch; numpy's -inf - -inf
    warning in the backward formula is the library's own arithmetic, handled there."""
    x = Tensor(MASKED, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.logsumexp(axis=1)
        y.sum().backward()
    assert y.data[0] == -np.inf and np.isfinite(y.data[1])
    assert np.isnan(x.grad.data[0]).all()
    np.testing.assert_allclose(x.grad.data[1], [np.exp(0 - y.data[1]), np.exp(1 - y.data[1]), 0.0])


def test_masked_attention_row_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = Tensor(MASKED, requires_grad=True)
    with pytest.warns(RuntimeWarning):
        y = F.softmax(x, axis=-1)
    y.sum().backward()
    t = torch.tensor(MASKED, requires_grad=True)
    u = torch.softmax(t, -1)
    u.sum().backward()
    # NaN where PyTorch has NaN; elsewhere equal up to the order of float64 roundings
    np.testing.assert_allclose(y.data, u.detach().numpy(), rtol=1e-15, atol=0, equal_nan=True)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-15, atol=1e-16, equal_nan=True)


def test_compiled_softmax_still_traces():
    """The check that picks the warning is on arrays only: autograd.compile's traced values pass."""
    w = Tensor(np.ones((3, 3)), requires_grad=True)
    step = autograd.compile(lambda x: F.softmax(x @ w, axis=-1).sum())
    out = step(Tensor(np.eye(3)))
    out.backward()
    assert np.isfinite(w.grad.data).all()


def test_the_softmax_warning_points_at_the_users_line():
    x = Tensor(MASKED)
    with pytest.warns(RuntimeWarning) as caught:
        F.softmax(x, axis=-1)
    with pytest.warns(RuntimeWarning) as caught_method:
        x.log_softmax(axis=-1)
    assert [w.filename for w in [*caught, *caught_method]] == [__file__, __file__]
