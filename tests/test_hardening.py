"""Hardening: anomaly detection, in-place safety, transactional backward, threads, and the
numerical conventions shared with PyTorch.

Each section states the promise it checks. Tests named ``test_regression_*`` were written
against bugs found while writing this file (fixed since); the docstring says what was wrong.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import (
    Function,
    Tensor,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
)

try:  # optional: conventions are compared with PyTorch where it is importable
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

HERE = Path(__file__).resolve()

# NaN and Inf are produced on purpose below; numpy's RuntimeWarnings about them are noise.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def leaf(values: Any) -> Tensor:
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def line_of(marker: str) -> int:
    """The line of this file that ends with the comment ``# <marker>``."""
    lines = HERE.read_text().splitlines()
    hits = [i for i, line in enumerate(lines, 1) if line.rstrip().endswith(f"# {marker}")]
    assert len(hits) == 1, f"marker {marker!r} found {len(hits)} times"
    return hits[0]


def where_created(marker: str) -> str:
    """How traceback formats the line of this file carrying ``marker`` (the directory part
    is left out: it depends on how the file was imported)."""
    return f'{HERE.name}", line {line_of(marker)}'


def snapshot(*tensors: Tensor) -> list[tuple[Any, Any]]:
    """Each tensor's .grad object and a copy of its values (None if it has none)."""
    return [(t.grad, None if t.grad is None else t.grad.data.copy()) for t in tensors]


def assert_grads_unchanged(tensors: tuple[Tensor, ...], before: list[tuple[Any, Any]]) -> None:
    for i, (t, (grad, values)) in enumerate(zip(tensors, before)):
        assert t.grad is grad, f"tensor {i}: .grad was replaced"
        if values is not None:
            np.testing.assert_array_equal(t.grad.data, values, err_msg=f"tensor {i}: .grad values changed")


# ============================================================================= detect_anomaly
# Inside ``detect_anomaly()``, the first op whose forward or backward produces a NaN or an
# Inf raises FloatingPointError naming the op and where in the user's code it was created.
# Outside the block nothing is checked.


def test_anomaly_in_forward_names_the_op_and_the_line_that_created_it():
    x = leaf([-1.0, 2.0])
    with detect_anomaly(), pytest.raises(FloatingPointError) as info:
        y = x.log()  # anomaly: forward log
        y.exp()  # never reached: the first op producing NaN raises
    message = str(info.value)
    assert "Log's forward produced NaN" in message
    assert where_created("anomaly: forward log") in message
    assert "y = x.log()" in message  # the source line itself is shown


def test_anomaly_in_forward_reports_inf_too():
    x = leaf([1000.0])
    with detect_anomaly(), pytest.raises(FloatingPointError, match="Exp's forward produced Inf"):
        x.exp()


def test_anomaly_in_backward_names_the_first_op_in_backward_order():
    # u = x ** 0.5 and v = sqrt(u) both have an infinite derivative at 0; backward meets
    # Sqrt first, so it is Sqrt, created on the marked line, that is named.
    x = leaf([0.0, 4.0])
    before = snapshot(x)
    with detect_anomaly():
        u = x**0.5  # anomaly: pow (reached later in backward)
        v = u.sqrt()  # anomaly: backward sqrt
        loss = (v * 3.0).sum()
        with pytest.raises(FloatingPointError) as info:
            loss.backward()
    message = str(info.value)
    assert "Sqrt's backward produced Inf" in message
    assert where_created("anomaly: backward sqrt") in message
    assert where_created("anomaly: pow (reached later in backward)") not in message
    assert_grads_unchanged((x,), before)  # a failed backward writes no .grad


def test_anomaly_in_a_user_function_names_the_function():
    class Halve(Function):
        @staticmethod
        def forward(ctx, x):
            return x.data / 2

        @staticmethod
        def backward(ctx, grad):
            return grad * np.inf

    x = leaf([1.0])
    with detect_anomaly():
        y = Halve.apply(x).sum()  # anomaly: user function
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    assert "Halve's backward produced" in str(info.value)
    assert where_created("anomaly: user function") in str(info.value)


def test_anomaly_inside_a_model_points_at_the_user_line_that_called_it():
    model, x, _ = small_model()
    x[0, 0] = np.inf
    with detect_anomaly(), pytest.raises(FloatingPointError) as info:
        model(x)  # anomaly: model call
    message = str(info.value)
    assert "MatMul's forward produced" in message
    assert where_created("anomaly: model call") in message  # below nn's own frames
    assert "layers.py" in message


def test_nothing_is_raised_outside_the_block():
    x = leaf([0.0, 4.0])
    with detect_anomaly():
        loss = x.sqrt().sum()  # finite forward; the derivative at 0 is Inf
    loss.backward()  # ...but backward runs outside the block: no error
    assert np.isinf(x.grad.data[0])
    y = Tensor([-1.0], requires_grad=True).log()  # NaN forward outside the block: no error either
    assert np.isnan(y.data).all()


def test_the_block_is_left_cleanly_after_an_anomaly_and_nests():
    assert not ag.mode.is_anomaly_enabled()
    with pytest.raises(FloatingPointError), detect_anomaly():
        Tensor([-1.0], requires_grad=True).log()
    assert not ag.mode.is_anomaly_enabled()  # restored by the exception
    with detect_anomaly():
        with detect_anomaly():
            pass
        assert ag.mode.is_anomaly_enabled()  # the inner block restores, not clears
    assert not ag.mode.is_anomaly_enabled()


def test_graph_built_outside_then_checked_inside_says_where_is_unknown():
    x = leaf([0.0])
    loss = x.sqrt().sum()
    with detect_anomaly(), pytest.raises(FloatingPointError, match="created outside detect_anomaly"):
        loss.backward()
    assert x.grad is None


def test_detect_anomaly_is_thread_local():
    seen: dict[str, Any] = {}
    inside = threading.Event()
    done = threading.Event()

    def other_thread():
        inside.wait(10)
        try:
            seen["value"] = Tensor([-1.0], requires_grad=True).log().data  # no anomaly mode here
        except BaseException as err:  # noqa: BLE001 - handed to the main thread  # pragma: no cover
            seen["error"] = err
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with detect_anomaly():
        inside.set()
        assert done.wait(10)
        with pytest.raises(FloatingPointError):
            Tensor([-1.0], requires_grad=True).log()
    worker.join(10)
    assert "error" not in seen, seen.get("error")
    assert np.isnan(seen["value"]).all()


def test_regression_detect_anomaly_checks_forward_under_no_grad_too():
    """Was a bug: ``Function.apply`` checks forward values only when grad mode is on
    (``if _mode.anomaly and _mode.enabled``), so inside ``detect_anomaly()`` an evaluation under
    ``no_grad()`` produces NaN silently, although the docstring promises "the first op whose
    forward ... makes a NaN or Inf raises". Repro::

        with detect_anomaly(), no_grad():
            Tensor([-1.0]).log()          # returns Tensor([nan]), no error
    """
    with detect_anomaly(), no_grad(), pytest.raises(FloatingPointError, match="Log's forward produced NaN"):
        Tensor([-1.0]).log()


def test_detect_anomaly_accepts_a_backward_that_returns_a_numpy_array():
    """Regression (a bug at 201b3fe, fixed since by engine.input_grads): the engine accepts a
    numpy array from a user Function's backward, but under detect_anomaly the check ran
    first, on ``g.data`` -- an ndarray's ``.data`` is a memoryview -- and crashed::

        class Double(Function):
            forward = staticmethod(lambda ctx, x: x.data * 2)
            backward = staticmethod(lambda ctx, g: g.data * 2)
        x = Tensor([1.0], requires_grad=True)
        with detect_anomaly():
            Double.apply(x).sum().backward()
        # AttributeError: 'memoryview' object has no attribute 'dtype'
    """

    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x.data * 2

        @staticmethod
        def backward(ctx, grad):
            return np.asarray(grad) * 2  # a plain array, which the engine accepts

    x = leaf([1.0, 2.0])
    with detect_anomaly():
        Double.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


# ============================================================================= in-place safety
# A tensor that backward needs (saved by save_for_backward) and that is changed in place
# (add_, sub_, mul_, copy_, an optimizer step) makes backward raise RuntimeError saying so,
# before any .grad changes. A leaf that requires grad can't be changed in place in grad mode.


def small_model(seed: int = 0) -> tuple[nn.MLP, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    model = nn.MLP([3, 5, 4], rng=rng)
    return model, rng.standard_normal((6, 3)), rng.integers(0, 4, 6)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda params: nn.optim.SGD(params, lr=0.1),
        lambda params: nn.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
        lambda params: nn.optim.Adam(params, lr=0.01),
    ],
    ids=["sgd", "sgd-nesterov", "adam"],
)
def test_optimizer_step_between_loss_and_backward_raises_and_changes_no_grad(make_optimizer):
    model, x, labels = small_model()
    opt = make_optimizer(model.parameters())
    nn.cross_entropy(model(x), labels).backward()  # grads to step with, and to preserve
    params = model.parameters()
    before = snapshot(*params)

    loss = nn.cross_entropy(model(x), labels)
    opt.step()  # changes every weight in place: the graph of `loss` saved the old ones
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    assert_grads_unchanged(tuple(params), before)

    # the remedy the message gives: recompute the forward pass after the change
    opt.zero_grad()
    nn.cross_entropy(model(x), labels).backward()
    assert all(p.grad is not None for p in params)


IN_PLACE = {
    "add_": lambda t: t.add_(1.0),
    "add_-alpha": lambda t: t.add_(np.ones(t.shape), alpha=-0.5),
    "sub_": lambda t: t.sub_(1.0),
    "mul_": lambda t: t.mul_(2.0),
    "copy_": lambda t: t.copy_(np.zeros(t.shape)),
}


@pytest.mark.parametrize("change", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_saved_constant_changed_in_place_makes_backward_raise(change):
    x = leaf([1.0, 2.0])
    w = Tensor([3.0, 4.0], name="w")  # a constant that Mul saves
    x.grad = Tensor([10.0, 20.0])
    before = snapshot(x)
    loss = (x * w).sum()
    change(w)
    with pytest.raises(RuntimeError, match=r"saved tensor 1 'w' of shape \(2,\) was modified in place"):
        loss.backward()
    assert_grads_unchanged((x,), before)


@pytest.mark.parametrize("change", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_saved_intermediate_changed_in_place_makes_backward_raise(change):
    x = leaf([1.0, 2.0])
    h = x * 2.0 + 1.0  # not a leaf: in place is refused in grad mode, allowed under no_grad, and noted
    loss = h.log().sum()  # Log saves h
    with no_grad():
        change(h)
    with pytest.raises(RuntimeError, match="Log.backward: saved tensor 0 .* was modified in place"):
        loss.backward()
    assert x.grad is None


@pytest.mark.parametrize("change", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_saved_leaf_changed_under_no_grad_makes_backward_raise(change):
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    with no_grad():
        change(x)  # allowed (as optimizers do), and noted
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    assert x.grad is None


def test_a_change_backward_does_not_need_is_not_an_error():
    # Add saves nothing: changing its operand afterwards can't make its gradient wrong.
    x = leaf([1.0, 2.0])
    w = Tensor([3.0, 4.0])
    loss = (x + w).sum()
    w.add_(1.0)
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


@pytest.mark.parametrize("change", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_in_place_on_a_leaf_requiring_grad_in_grad_mode_raises_and_changes_nothing(change):
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad cannot be changed in place"):
        change(x)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    assert x._version == 0
    with no_grad():
        with enable_grad(), pytest.raises(RuntimeError, match="leaf tensor"):
            change(x)  # enable_grad inside no_grad turns the protection back on
        change(x)
    assert x._version == 1


SAVE_OUTPUT_OPS = {
    "exp": lambda t: t.exp(),
    "sqrt": lambda t: t.sqrt(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "softmax": lambda t: t.softmax(),
    "log_softmax": lambda t: t.log_softmax(),
}


@pytest.mark.parametrize("op", SAVE_OUTPUT_OPS.values(), ids=SAVE_OUTPUT_OPS.keys())
def test_regression_output_saved_by_save_output_changed_in_place_makes_backward_raise(op):
    """Was a bug: ops with ``save_output = True`` (exp, sqrt, tanh, sigmoid, softmax, log_softmax)
    keep their output as ``ctx.output`` without noting its version, so changing that output
    in place goes unnoticed and backward silently uses the new values. PyTorch raises.
    Repro::

        x = Tensor([1.0, 2.0], requires_grad=True)
        y = x.exp(); loss = y.sum()
        y.mul_(2.0)                       # y is not a leaf: allowed
        loss.backward(); x.grad           # [5.44, 14.78]: 2 e^x, not e^x; no error

    (In grad mode that mul_ is now refused outright; under no_grad it is allowed, and noted.)
    """
    x = leaf([0.5, 2.0])
    y = op(x)
    loss = y.sum()  # Sum saves nothing: only the op's own saved output is at stake
    with no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    assert x.grad is None


VIEWS = {
    "reshape": lambda t: t.reshape(2),
    "getitem": lambda t: t[0],
    "transpose": lambda t: t.T,
    "detach": lambda t: t.detach(),
}


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_regression_in_place_through_a_view_of_a_saved_leaf_is_caught(view):
    """Was a bug: reshape, basic indexing, transpose and detach return tensors whose ``data`` is a
    numpy *view* of the leaf's array, but with their own version counter. An in-place change
    through the view is neither refused (the view is not a leaf requiring grad; PyTorch
    refuses it) nor noted on the leaf, so the leaf changes in grad mode and backward silently
    uses the new values. Repro::

        x = Tensor([[1.0, 2.0]], requires_grad=True)
        loss = (x * x).sum()
        x.reshape(2).add_(1.0)            # no error; x.data is now [[2, 3]], x._version 0
        loss.backward(); x.grad           # [[4, 6]]: 2 * (new x), not 2 * (old x) = [[2, 4]]

    Either refusing the in-place change or making backward raise would do.
    """
    x = leaf([[1.0, 2.0]])
    loss = (x * x).sum()
    with pytest.raises(RuntimeError):
        view(x).add_(1.0)
        loss.backward()
    assert x.grad is None


def test_regression_a_failed_in_place_op_does_not_count_as_a_change():
    """Was a bug: ``_in_place`` bumps ``_version`` before numpy does the update, so an update that
    numpy refuses (shapes that don't broadcast) leaves the values as they were but the
    version bumped, and a later backward wrongly says the tensor was modified. Repro::

        w = Tensor([3.0, 4.0]); x = Tensor([1.0, 2.0], requires_grad=True)
        loss = (x * w).sum()
        w.add_(np.ones(3))                # ValueError; w unchanged, w._version == 1
        loss.backward()                   # RuntimeError: ... was modified in place ...
    """
    w = Tensor([3.0, 4.0])
    x = leaf([1.0, 2.0])
    loss = (x * w).sum()
    with pytest.raises(ValueError):
        w.add_(np.ones(3))
    np.testing.assert_array_equal(w.data, [3.0, 4.0])
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


# ============================================================================= transactional backward
# If any node's backward raises (an exception, or KeyboardInterrupt) no .grad changes -- not
# the leaves whose gradients were already complete, not those that had a grad before, not
# retained intermediates -- and the graph is not freed: after fixing the cause, backward
# works again without retain_graph.


def make_flaky() -> type[Function]:
    """A user Function: forward is x -> 2x; backward raises ``Flaky.error`` while it is set."""

    class Flaky(Function):
        error: BaseException | None = None
        calls = 0

        @staticmethod
        def forward(ctx, x):
            return x.data * 2.0

        @staticmethod
        def backward(ctx, grad):
            Flaky.calls += 1
            if Flaky.error is not None:
                raise Flaky.error
            return grad * 2.0

    return Flaky


@pytest.mark.parametrize(
    "error", [ZeroDivisionError("deliberate"), KeyboardInterrupt()], ids=["exception", "KeyboardInterrupt"]
)
def test_backward_that_raises_part_way_changes_no_grad_and_keeps_the_graph(error):
    Flaky = make_flaky()
    a, b, c, d = leaf([1.0, 2.0]), leaf([3.0, 4.0]), leaf([5.0, 6.0]), leaf([7.0, 8.0])
    a.grad = Tensor([100.0, 100.0])  # earlier grads, which must survive
    c.grad = Tensor([200.0, 200.0])
    # Backward visits Sum, Add and Mul(f, c) before Flaky (they consume its output), so the
    # gradients of c and d are complete before Flaky raises; a and b come after it.
    f = Flaky.apply(a * b)
    m = (f * c).retain_grad()
    loss = (m + d).sum()
    before = snapshot(a, b, c, d)

    Flaky.error = error
    with pytest.raises(type(error)):
        loss.backward()
    assert Flaky.calls == 1
    assert_grads_unchanged((a, b, c, d), before)
    assert m.grad is None

    Flaky.error = None  # fixed: the same graph, without retain_graph the first time
    loss.backward()
    np.testing.assert_array_equal(a.grad.data, [100.0, 100.0] + 2.0 * b.data * c.data)
    np.testing.assert_array_equal(b.grad.data, 2.0 * a.data * c.data)
    np.testing.assert_array_equal(c.grad.data, [200.0, 200.0] + 2.0 * a.data * b.data)
    np.testing.assert_array_equal(d.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(m.grad.data, [1.0, 1.0])
    with pytest.raises(RuntimeError, match="a second time"):
        loss.backward()  # the successful backward did free the graph


def test_grad_function_that_raises_part_way_keeps_the_graph_too():
    Flaky = make_flaky()
    x = leaf([1.0, -2.0])
    y = (Flaky.apply(x.tanh()) * x).sum()
    Flaky.error = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        ag.grad(y, x)
    Flaky.error = None
    (g,) = ag.grad(y, x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(g.data, 2 * (1 - t * t) * x.data + 2 * t, rtol=1e-15)
    assert x.grad is None


def test_backward_that_fails_at_the_last_node_still_changes_nothing():
    # The failing node is the last visited: every other gradient is complete by then.
    Flaky = make_flaky()
    x, y = leaf([1.0, 2.0]), leaf([3.0])
    x.grad = Tensor([1.0, 1.0])
    loss = (Flaky.apply(x) * y.exp() + y).sum()
    before = snapshot(x, y)
    Flaky.error = RuntimeError("late")
    with pytest.raises(RuntimeError, match="late"):
        loss.backward()
    assert_grads_unchanged((x, y), before)
    Flaky.error = None
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 1.0 + 2.0 * np.exp(3.0), rtol=1e-15)


# ============================================================================= threads
# Grad mode and anomaly mode are per thread, and nothing else is shared: jobs run in
# threads give bit-identical results to the same jobs run one after another.


def train_job(seed: int) -> dict[str, Any]:
    """Build and train a small MLP (SGD or Adam by seed), evaluating under no_grad between steps."""
    rng = np.random.default_rng(seed)
    model = nn.MLP([4, 16, 3], activation=nn.Tanh if seed % 3 == 0 else nn.ReLU, rng=rng)
    x = rng.standard_normal((24, 4))
    labels = rng.integers(0, 3, 24)
    if seed % 2:
        opt = nn.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
    else:
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses, evals = [], []
    for _ in range(25):
        opt.zero_grad()
        loss = nn.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        with no_grad():
            out = model(x)
            assert not out.requires_grad
            evals.append(float((out.data.argmax(axis=1) == labels).mean()))
        assert is_grad_enabled()
    return {"losses": losses, "evals": evals, "params": [p.data.copy() for p in model.parameters()]}


def run_in_threads(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job in its own thread, all released at once; re-raise the first error."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def worker(i: int) -> None:
        try:
            start.wait(30)
            results[i] = jobs[i]()
        except BaseException as err:  # noqa: BLE001 - handed to the main thread  # pragma: no cover
            errors.append(err)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to interleave ops
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        sys.setswitchinterval(interval)
    if errors:
        raise errors[0]
    return results


def test_training_in_threads_is_bit_identical_to_training_one_after_another():
    seeds = [0, 1, 2, 3, 4, 5]
    sequential = [train_job(s) for s in seeds]
    threaded = run_in_threads([lambda s=s: train_job(s) for s in seeds])
    for seed, one, other in zip(seeds, sequential, threaded):
        assert one["losses"] == other["losses"], f"seed {seed}: losses differ"
        assert one["evals"] == other["evals"], f"seed {seed}: evaluations differ"
        for p, q in zip(one["params"], other["params"]):
            np.testing.assert_array_equal(p, q, err_msg=f"seed {seed}: parameters differ")
    assert len({tuple(r["losses"]) for r in sequential}) == len(seeds)  # the jobs do differ


def test_no_grad_in_one_thread_does_not_affect_another():
    entered, checked = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def in_no_grad():
        with no_grad():
            entered.set()
            assert checked.wait(10)
            seen["a_enabled"] = is_grad_enabled()
            seen["a_records"] = (leaf([1.0]) * 2.0).requires_grad
        seen["a_after"] = is_grad_enabled()

    def in_grad_mode():
        assert entered.wait(10)  # the other thread is inside no_grad now
        seen["b_enabled"] = is_grad_enabled()
        x = leaf([3.0])
        y = (x * x).sum()
        seen["b_records"] = y.requires_grad
        y.backward()
        seen["b_grad"] = x.grad.data.copy()
        checked.set()

    run_in_threads([in_no_grad, in_grad_mode])
    assert seen == {
        "a_enabled": False,
        "a_records": False,
        "a_after": True,
        "b_enabled": True,
        "b_records": True,
        "b_grad": seen["b_grad"],
    }
    np.testing.assert_array_equal(seen["b_grad"], [6.0])
    assert is_grad_enabled()  # this thread never left grad mode


# ============================================================================= numerics as PyTorch
# Conventions at the edges of each op's domain, as PyTorch defines them. Each test states
# the expected values and, where torch is importable, also compares with torch (float64).


def values_and_grads(fn: Callable[..., Tensor], *arrays: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """fn on leaf tensors: its value and the gradient of its sum for every input."""
    leaves = [leaf(a) for a in arrays]
    out = fn(*leaves)
    out.sum().backward()
    return out.data, [np.zeros(t.shape) if t.grad is None else t.grad.data for t in leaves]


def torch_values_and_grads(fn: Callable[..., Any], *arrays: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    leaves = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.sum().backward()
    return out.detach().numpy(), [np.zeros(t.shape) if t.grad is None else t.grad.numpy() for t in leaves]


def check_convention(ours: Callable, theirs: Callable, arrays: list[Any], value: Any, grads: list[Any]) -> None:
    """Our value and gradients equal the stated ones and, with torch, torch's."""
    got_value, got_grads = values_and_grads(ours, *arrays)
    np.testing.assert_allclose(got_value, value, rtol=1e-15, atol=0, equal_nan=True)
    for g, want in zip(got_grads, grads):
        np.testing.assert_allclose(g, want, rtol=1e-15, atol=0, equal_nan=True)
    if torch is not None:
        t_value, t_grads = torch_values_and_grads(theirs, *arrays)
        np.testing.assert_allclose(got_value, t_value, rtol=1e-15, atol=0, equal_nan=True, err_msg="value vs torch")
        for g, t_g in zip(got_grads, t_grads):
            np.testing.assert_allclose(g, t_g, rtol=1e-15, atol=0, equal_nan=True, err_msg="grad vs torch")


def test_square_root_as_a_power_of_a_negative_base_gives_nan_without_raising():
    check_convention(
        lambda x: x**0.5,
        lambda x: x**0.5,
        [[-4.0, 4.0]],
        value=[np.nan, 2.0],
        grads=[[np.nan, 0.25]],
    )


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_relu_and_abs_have_gradient_zero_at_zero(name):
    check_convention(
        lambda x: getattr(x, name)(),
        lambda x: getattr(torch, name)(x),
        [[0.0, -0.0, 2.0, -2.0]],
        value=[0.0, 0.0, 2.0, 0.0] if name == "relu" else [0.0, 0.0, 2.0, 2.0],
        grads=[[0.0, 0.0, 1.0, 0.0] if name == "relu" else [0.0, 0.0, 1.0, -1.0]],
    )


TIES = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]


@pytest.mark.parametrize(
    "axis, keepdims, max_grad, min_grad",
    [
        (None, False, [[0, 0.5, 0.5], [0, 0, 0]], [[1, 0, 0], [0, 0, 0]]),
        (1, False, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]]),
        (1, True, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]]),
        (0, False, [[0, 1, 1], [1, 0, 0]], [[1, 0, 0], [0, 1, 1]]),
    ],
)
def test_max_and_min_ties_share_the_gradient_equally(axis, keepdims, max_grad, min_grad):
    dims = (0, 1) if axis is None else axis
    for name, torch_name, grad in (("max", "amax", max_grad), ("min", "amin", min_grad)):
        reduce = getattr(np, name)
        check_convention(  # called at once: the lambdas may use the loop's current names
            lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),  # noqa: B023
            lambda x: getattr(torch, torch_name)(x, dim=dims, keepdim=keepdims),  # noqa: B023
            [TIES],
            value=reduce(np.array(TIES), axis=axis, keepdims=keepdims),
            grads=[grad],
        )
    if torch is not None and axis is None:  # torch.max() without a dim shares ties evenly too
        _, (t_grad,) = torch_values_and_grads(lambda x: x.max(), TIES)
        np.testing.assert_array_equal(t_grad, max_grad)


@pytest.mark.parametrize(
    "lo, hi, x, grad",
    [
        (-1.0, 1.0, [-1.0, 1.0, 0.0, -1.5, 1.5], [1.0, 1.0, 1.0, 0.0, 0.0]),
        (0.0, None, [0.0, -1.0, 1.0], [1.0, 0.0, 1.0]),
        (None, 0.0, [0.0, -1.0, 1.0], [1.0, 1.0, 0.0]),
    ],
)
def test_clip_passes_the_gradient_at_its_bounds(lo, hi, x, grad):
    check_convention(
        lambda t: t.clip(lo, hi),
        lambda t: torch.clamp(t, lo, hi),
        [x],
        value=np.clip(x, lo, hi),
        grads=[grad],
    )


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_ties_split_the_gradient_in_half(name):
    a, b = [1.0, 2.0, 3.0, 0.0], [1.0, 0.0, 5.0, 0.0]
    wins = (lambda p, q: p > q) if name == "maximum" else (lambda p, q: p < q)
    grad_a = [0.5 if p == q else float(wins(p, q)) for p, q in zip(a, b)]
    check_convention(
        lambda s, t: getattr(ag, name)(s, t),
        lambda s, t: getattr(torch, name)(s, t),
        [a, b],
        value=getattr(np, name)(a, b),
        grads=[grad_a, [1.0 - g for g in grad_a]],
    )
    # the same tensor on both sides: the halves add up to the full gradient
    check_convention(
        lambda s: getattr(s, name)(s),
        lambda s: getattr(torch, name)(s, s),
        [a],
        value=a,
        grads=[[1.0] * 4],
    )


HUGE = [[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]]


def test_log_stays_finite_for_huge_and_tiny_positive_values():
    x = [1e4, 1e300, 1e-300]
    check_convention(lambda t: t.log(), lambda t: t.log(), [x], value=np.log(x), grads=[1 / np.array(x)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_and_log_softmax_stay_finite_for_huge_logits(name, axis):
    x = np.array(HUGE)
    weights = np.arange(9.0).reshape(3, 3)  # a non-uniform upstream gradient
    value, (grad,) = values_and_grads(lambda t: getattr(t, name)(axis) * Tensor(weights), x)
    assert np.isfinite(value).all() and np.isfinite(grad).all()
    shifted = x - x.max(axis=axis, keepdims=True)  # the exact values, computed stably
    log_sm = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    np.testing.assert_allclose(value, (np.exp(log_sm) if name == "softmax" else log_sm) * weights, rtol=1e-15)
    if torch is not None:
        t_value, (t_grad,) = torch_values_and_grads(
            lambda t: getattr(torch, name)(t, dim=axis) * torch.as_tensor(weights), x
        )
        np.testing.assert_allclose(value, t_value, rtol=1e-15, atol=0)
        # the gradient is a difference of terms <= sum(weights) = 36: a few of their ulps apart
        np.testing.assert_allclose(grad, t_grad, rtol=1e-15, atol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_stays_finite_for_huge_logits(reduction):
    logits = np.array(HUGE)
    labels = np.array([1, 0, 2])
    t = leaf(logits)
    loss = nn.cross_entropy(t, labels, reduction=reduction)
    loss.sum().backward()
    assert np.isfinite(loss.data).all() and np.isfinite(t.grad.data).all()
    per_row = np.array([2e4, np.log(2.0), np.log(3.0)])  # -log softmax(logits)[label], exactly
    want = {"mean": per_row.mean(), "sum": per_row.sum(), "none": per_row}[reduction]
    np.testing.assert_allclose(loss.data, want, rtol=1e-15)
    if torch is not None:
        tl = torch.tensor(logits, requires_grad=True)
        t_loss = torch.nn.functional.cross_entropy(tl, torch.as_tensor(labels), reduction=reduction)
        t_loss.sum().backward()
        np.testing.assert_allclose(loss.data, t_loss.detach().numpy(), rtol=1e-15)
        # softmax minus one-hot, over N: a few ulps of terms <= 1
        np.testing.assert_allclose(t.grad.data, tl.grad.numpy(), rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_saturate_without_nan_for_huge_inputs(name):
    x = [1e4, -1e4, 800.0, -800.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a numpy overflow warning
        value, (grad,) = values_and_grads(lambda t: getattr(t, name)(), x)
    assert np.isfinite(value).all() and np.isfinite(grad).all()
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0, 0.0])
    if torch is not None:
        t_value, (t_grad,) = torch_values_and_grads(lambda t: getattr(torch, name)(t), x)
        np.testing.assert_array_equal(value, t_value)
        np.testing.assert_array_equal(grad, t_grad)
