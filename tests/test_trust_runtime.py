"""Interrupts, ``.grad`` assignment, ``copy_`` and threads (issue 11, items 18-21).

* backward's last phase (write every ``.grad``, free the graph) is all or nothing, also when
  a KeyboardInterrupt arrives between any two lines of it: we raise one from a trace hook at
  every line event of that phase in turn, and check the state after each;
* ``t.grad = value`` takes None or a Tensor of t's shape and dtype, and names what is wrong;
* a ``copy_`` that cannot convert its source writes nothing;
* threads running backward through one graph (``retain_graph=True``) add up every
  contribution; a thread whose graph another thread freed gets the "second time" error;
* an optimizer's ``load_state_dict`` checks every option and buffer as its constructor would,
  refuses a state saved by another optimizer by name, and changes nothing when it refuses
  (item 26).
"""

from __future__ import annotations

import copy
import sys
import threading

import numpy as np
import pytest

from autograd import Tensor, engine, function, grad, no_grad
from autograd.tensor import Tensor as TensorClass
from nn.optim import SGD, Adagrad, Adam, RMSprop

# ----------------------------------------------------------------------------- Ctrl-C

FINAL_PHASE = {engine._commit.__code__, engine._release_all.__code__, function.Context.release.__code__}


class InterruptAt:
    """A trace function that raises KeyboardInterrupt at the n-th line event of backward's
    final phase (and counts the events, to know when n has passed the end)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0
        self.fired = False

    def __call__(self, frame, event, arg):
        if frame.f_code not in FINAL_PHASE:
            return None
        return self.local

    def local(self, frame, event, arg):
        if event == "line" and not self.fired:
            self.seen += 1
            if self.seen == self.n:
                self.fired = True
                raise KeyboardInterrupt(f"at line event {self.n}")
        return self.local


def three_leaf_graph():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, -1.0], requires_grad=True)
    c = Tensor(0.5, requires_grad=True)
    a.grad = Tensor([10.0, 10.0])  # earlier gradients, to be added to (or kept)
    loss = ((a * b).tanh() * c + (b * b).exp().sum()).sum()
    return loss, [a, b, c]


def expected_grads():
    loss, leaves = three_leaf_graph()
    loss.backward()
    return [leaf.grad.data.copy() for leaf in leaves]


def nodes_of(loss):
    return list(engine.topological_order([loss.grad_fn]))


@pytest.mark.parametrize("entry", ["backward", "grad"])
def test_an_interrupt_anywhere_in_the_final_phase_is_all_or_nothing(entry):
    after = expected_grads()
    n, outcomes = 1, set()
    while True:
        loss, leaves = three_leaf_graph()
        before = [None if leaf.grad is None else leaf.grad.data.copy() for leaf in leaves]
        nodes = nodes_of(loss)
        tracer = InterruptAt(n)
        sys.settrace(tracer)
        try:
            if entry == "backward":
                loss.backward()
            else:
                grad(loss, leaves)
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        if not tracer.fired:
            break  # n is past the last line of the final phase
        released = [node.released for node in nodes if hasattr(node, "_saved")]
        grads = [None if leaf.grad is None else leaf.grad.data for leaf in leaves]
        if entry == "grad" or all(np.array_equal(g, b) if b is not None else g is None for g, b in zip(grads, before)):
            # nothing written (grad() never writes .grad): then the graph is whole, or entirely freed
            # by grad(), whose only side effect is freeing it
            assert all(released) or not any(released), f"line event {n}: graph half freed"
            if entry == "backward":
                assert not any(released), f"line event {n}: no grad written, but the graph was freed"
                outcomes.add("nothing")
                loss.backward()  # the graph still works, and gives the full result
                for leaf, g in zip(leaves, after):
                    np.testing.assert_array_equal(leaf.grad.data, g)
            else:
                outcomes.add("freed" if all(released) else "nothing")
        else:
            for leaf, g in zip(leaves, after):
                np.testing.assert_array_equal(leaf.grad.data, g, err_msg=f"line event {n}: some grads written")
            assert all(released), f"line event {n}: grads written but the graph not freed"
            outcomes.add("everything")
        n += 1
    assert n > 5, "the final phase ran fewer lines than expected: the hook tested nothing"
    if entry == "backward":
        assert outcomes == {"nothing", "everything"}, outcomes


# ----------------------------------------------------------------------------- .grad assignment


def test_grad_takes_a_tensor_of_the_same_shape_and_dtype_or_none():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    x.grad = Tensor(np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))
    x.grad = None
    assert x.grad is None


@pytest.mark.parametrize(
    ("value", "error", "pattern"),
    [
        (Tensor(np.ones((2, 3))), ValueError, r"shape \(2, 3\) to a tensor of shape \(3,\)"),
        (Tensor(np.ones(3, dtype=np.float32)), TypeError, "float32 gradient to a float64 tensor"),
        (np.ones(3), TypeError, "assigned a ndarray.*assign a Tensor"),
        ([1.0, 2.0, 3.0], TypeError, "assigned a list"),
        (2.0, TypeError, "assigned a float"),
    ],
    ids=["shape", "dtype", "ndarray", "list", "number"],
)
def test_grad_assignment_names_what_is_wrong_and_keeps_the_old_grad(value, error, pattern):
    x = Tensor(np.zeros(3), requires_grad=True)
    x.grad = Tensor(np.full(3, 7.0))
    with pytest.raises(error, match=pattern):
        x.grad = value
    np.testing.assert_array_equal(x.grad.data, np.full(3, 7.0))


def test_backward_after_a_checked_assignment_adds_to_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.grad = Tensor([1.0, 1.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 5.0])


# ----------------------------------------------------------------------------- copy_


@pytest.mark.parametrize("source", [["1.0", "x", "3.0"], np.array(["1", "2", "zz"]), [1.0, None, 2.0]])
def test_a_copy_that_cannot_convert_writes_nothing(source):
    t = Tensor([5.0, 6.0, 7.0])
    version = function.version_of(t.data)
    with no_grad(), pytest.raises(TypeError, match="copy_"):
        t.copy_(source)
    np.testing.assert_array_equal(t.data, [5.0, 6.0, 7.0])
    assert function.version_of(t.data) == version


def test_copy_converts_numbers_and_counts_as_a_change():
    t = Tensor([5.0, 6.0])
    version = function.version_of(t.data)
    t.copy_(np.array([1, 2], dtype=np.int32))
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    assert t.dtype == np.float64 and function.version_of(t.data) > version


# ----------------------------------------------------------------------------- threads


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    yield
    sys.setswitchinterval(old)


def test_threads_backward_through_one_graph_add_every_contribution(fast_switching):
    w = Tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), requires_grad=True)
    b = Tensor(np.zeros(4), requires_grad=True)
    x = Tensor(np.arange(6.0).reshape(2, 3) / 6)
    loss = ((x @ w + b).tanh() ** 2).sum()
    (gw, gb) = grad(loss, [w, b], retain_graph=True)
    threads, rounds = 4, 25
    errors = []

    def work():
        try:
            for _ in range(rounds):
                loss.backward(retain_graph=True)
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    # the same gradient added threads * rounds times, in one order or another: k * g exactly
    # (each partial sum is a multiple of g, so the order of the additions cannot matter)
    expected_w, expected_b = np.zeros_like(gw.data), np.zeros_like(gb.data)
    for _ in range(threads * rounds):
        expected_w, expected_b = expected_w + gw.data, expected_b + gb.data
    np.testing.assert_array_equal(w.grad.data, expected_w)
    np.testing.assert_array_equal(b.grad.data, expected_b)


def test_a_thread_whose_graph_was_freed_gets_the_second_time_error(fast_switching):
    """One thread frees the graph (retain_graph=False) while others backpropagate through it:
    they either finish first or raise the clear RuntimeError, never another error."""
    for _ in range(20):
        w = Tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), requires_grad=True)
        loss = ((Tensor(np.ones((2, 3))) @ w).exp().sqrt() * 2).sum()
        errors = []
        barrier = threading.Barrier(3)

        def work(retain: bool, loss: Tensor, errors: list, barrier: threading.Barrier):
            barrier.wait()
            try:
                for _ in range(5):
                    loss.backward(retain_graph=retain)
                    if not retain:
                        return
            except RuntimeError as err:
                errors.append(err)
            except Exception as err:  # noqa: BLE001
                errors.append(err)

        pool = [threading.Thread(target=work, args=(r, loss, errors, barrier)) for r in (False, True, True)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        for error in errors:
            assert isinstance(error, RuntimeError) and "a second time" in str(error), repr(error)


def test_tensor_grad_is_a_property_backed_by_a_slot():
    assert isinstance(TensorClass.__dict__["grad"], property)
    assert "_grad" in TensorClass.__slots__


# ----------------------------------------------------------------------------- optimizer state (item 26)


def _trained(make):
    ps = [Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones(3), requires_grad=True)]
    opt = make(ps)
    for seed in range(2):
        for p in ps:
            p.grad = Tensor(np.random.default_rng(seed).standard_normal(p.shape))
        opt.step()
    return ps, opt


def _adam(ps):
    return Adam(ps, lr=0.01)


def _sgd(ps):
    return SGD(ps, lr=0.1, momentum=0.9)


def _edit(state, path, value):
    state = copy.deepcopy(state)
    node = state
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return state


DELETE = object()


@pytest.mark.parametrize(
    ("make", "path", "value", "pattern"),
    [
        (_adam, ("param_groups", "0", "lr"), float("nan"), "lr must be finite"),
        (_adam, ("param_groups", "0", "eps"), -1e-8, "eps must be >= 0"),
        (_adam, ("param_groups", "0", "betas"), (0.9, 1.5), "betas must lie in"),
        (_adam, ("param_groups", "0", "betas"), (0.9,), "expected 2 numbers"),
        (_sgd, ("param_groups", "0", "momentum"), float("inf"), "momentum must be finite"),
        (_sgd, ("param_groups", "0", "lr"), "fast", "not a number"),
        (_adam, ("state", "0", "exp_avg_sq"), -np.ones((2, 3)), "negative entries"),
        (_adam, ("state", "0", "exp_avg"), np.zeros(()), r"shape \(\), the parameter \(2, 3\)"),
        (_adam, ("state", "0", "step"), -3, "step of parameter 0 must be a count"),
        (_adam, ("state", "0", "step"), 2.5, "step of parameter 0 must be a count"),
        (_adam, ("state", "0", "surprise"), np.zeros((2, 3)), r"\['surprise'\], which Adam does not keep"),
        (_adam, ("param_groups", "0", "params"), np.array([1, 0]), "holds parameters"),
        (_adam, ("param_groups", "0", "betas"), DELETE, r"missing \['betas'\]"),
    ],
)
def test_optimizer_load_state_dict_validates_everything_and_changes_nothing(make, path, value, pattern):
    _, source = _trained(make)
    ps, target = _trained(make)
    before = copy.deepcopy(target.state_dict())
    data = [p.data.copy() for p in ps]
    with pytest.raises((ValueError, TypeError), match=pattern):
        target.load_state_dict(_edit(source.state_dict(), path, value))
    after = target.state_dict()
    assert after["param_groups"]["0"].keys() == before["param_groups"]["0"].keys()
    for key, v in before["param_groups"]["0"].items():
        np.testing.assert_array_equal(np.asarray(after["param_groups"]["0"][key]), np.asarray(v))
    for i, s in before["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(np.asarray(after["state"][i][k]), np.asarray(v))
    target.step()  # still works, from the old state
    assert all(np.all(np.isfinite(p.data)) for p in ps) and any(not np.array_equal(p.data, d) for p, d in zip(ps, data))


@pytest.mark.parametrize(
    ("saved_by", "loaded_into", "pattern"),
    [
        (_sgd, _adam, r"Adam takes .*betas.*another optimizer"),
        (_adam, _sgd, r"SGD takes .*momentum.*another optimizer"),
        (lambda ps: RMSprop(ps, lr=0.01), lambda ps: Adagrad(ps, lr=0.01), "another optimizer"),
    ],
)
def test_a_state_from_another_optimizer_is_refused_by_name(saved_by, loaded_into, pattern):
    _, source = _trained(saved_by)
    _, target = _trained(loaded_into)
    with pytest.raises(ValueError, match=pattern):
        target.load_state_dict(source.state_dict())


@pytest.mark.parametrize("option", ["lr", "eps", "weight_decay"])
def test_constructors_refuse_nan_options(option):
    ps = [Tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(ValueError, match=f"{option} must be finite"):
        Adam(ps, **{option: float("nan")})


# ----------------------------------------------------------------------------- 0-d reductions (item 11)


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "prod", "logsumexp", "var", "std"])
@pytest.mark.parametrize("axis", [0, -1, (0,), [-1]])
def test_a_reduction_over_axis_0_of_a_0d_tensor_is_the_tensor_itself(method, axis):
    """PyTorch accepts dim 0 / -1 on a 0-d tensor (numpy's sum and max do, its mean does not):
    the one element, reduced over nothing more; its gradient flows back."""
    x = Tensor(3.0, requires_grad=True)
    y = getattr(x, method)(axis=axis)
    expected = (
        getattr(np, method if method != "logsumexp" else "sum")(np.float64(3.0))
        if method not in ("var", "std")
        else 0.0
    )
    assert y.shape == () and float(y.item()) == pytest.approx(expected)
    y.backward()
    assert x.grad is not None and x.grad.shape == ()
    assert float(x.grad.item()) == (0.0 if method in ("var", "std") else 1.0)


def test_axis_1_of_a_0d_tensor_is_still_refused():
    with pytest.raises(ValueError, match="sum: axis 1 is out of bounds"):
        Tensor(3.0).sum(axis=1)
