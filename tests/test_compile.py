"""``autograd.compile(fn)``: what it promises, checked against eager execution of the same ``fn``.

Covered here:

1. The result is what ``fn`` returns (a Tensor, a tuple or a list of Tensors), and
   ``loss.backward()`` fills ``.grad`` as eager does: gradient accumulation over two
   backward calls, ``zero_grad``, gradients flowing on into an eager graph behind an
   argument, the second-backward error, optimizers.
2. Values and gradients equal eager ones *bitwise* (``np.array_equal``): random programs
   over the whole op set, drawn by the fuzzer of ``test_fuzz.py`` (its generator and
   interpreter are imported, not copied), compiled vs eager, over several calls of one
   compiled function with new argument data, closure leaves changed in place between
   calls (they are live inputs), integer labels passed as arguments (inputs, not constants),
   the same tensor passed for two parameters, float32; gradient contributions summed in
   the engine's order; the names in the generated code never clash.
3. ``nn`` models: an ``nn.MLP`` trained a few steps with SGD (momentum) and Adam, compiled
   vs eager from the same initial weights, with MSE and cross-entropy losses written with
   Tensor ops and with ``nn``'s own losses: identical loss trajectories and parameters.
4. Retracing: a new signature (shapes, dtype, ``requires_grad``, the value of a number or
   a string argument, the dtype of a label array) traces again, the same one reuses the
   trace (``f.traces``); the cache is bounded and least-recently-used (``cache_size``); a
   closure leaf whose shape, dtype or ``requires_grad`` changes is retraced.
5. ``f.source``: ``def forward(`` and ``def backward(``, one commented line per numpy call,
   named tensors and argument names used, valid Python; the source's two-layer network
   has the backward one would write by hand (``x.T @``, ``> 0``, ``2 *``).
6. Refusals: value reads while tracing raise ``CompileError`` naming the read and the line;
   reading ``.data`` of an argument raises; ``create_graph=True`` through a compiled result
   raises ("first order"); a non-Tensor return falls back to eager with a warning; an
   unhashable argument raises ``TypeError`` naming it; a parameter changed in place between
   forward and backward makes backward raise "modified in place", as in eager.
7. Under ``no_grad()`` the results do not require grad and have the same values.
8. A compiled function called while another is traced is inlined.

Exactness. The compiled code runs the very numpy calls eager runs, in the same order, so
values and gradients are compared bitwise; ``equal_nan=True`` only because new random data
may overflow (exp of exp), and then both sides make the same NaN in the same place. A
gradient that differs only in the last bits fails with its own message (the same terms
added in another order), to tell it from a wrong formula. The one place compared with a
tolerance is a function with two outputs both differentiated (see
``test_two_outputs_backward_together``), where the compiled code necessarily adds the
gradients in a different order than eager.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from test_fuzz import Program, programs, run

import autograd
import nn
from autograd import Tensor, no_grad
from autograd.compile import CompileError

# A program takes ~20 ms here (drawn, traced twice, run three times each way): three times
# the profile's number of examples (75 in dev, 180 in CI) costs a few seconds. A failing program takes hypothesis 30 s to minutes to shrink, so shrinking is on only when
# asked for (COMPILE_FUZZ_SHRINK=1); the regression tests after the fuzzer hold shrunk examples.
FUZZ = settings(
    max_examples=3 * settings.default.max_examples,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    report_multiple_bugs=False,
    phases=[p for p in Phase if p is not Phase.shrink or os.environ.get("COMPILE_FUZZ_SHRINK") == "1"],
)
CALLS = 3  # the first call traces (and returns the eager result), the later ones run the code


# ----------------------------------------------------------------------------- helpers


def assert_bitwise(got: Any, want: Any, what: str = "") -> None:
    """Same shape, same dtype, same numbers (NaN where the other has NaN)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, eager {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, eager {want.dtype}"
    assert np.array_equal(got, want, equal_nan=True), f"{what}: compiled\n{got}\neager\n{want}"


def assert_same_tensors(got: Any, want: Any, what: str = "result") -> None:
    """Compiled and eager results: the same structure, values and requires_grad."""
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want), f"{what}: a {type(got).__name__}, eager gives a {type(want).__name__}"
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_tensors(g, w, f"{what}[{i}]")
        return
    assert isinstance(got, Tensor), f"{what}: a {type(got).__name__}, not a Tensor"
    assert_bitwise(got.data, want.data, what)
    assert got.requires_grad == want.requires_grad, f"{what}: requires_grad {got.requires_grad}"


def assert_same_grads(got: list[Tensor], want: list[Tensor], what: str = "grad") -> None:
    """The same ``.grad`` bitwise. A gradient that is close but not equal is reported apart:
    that is the same terms summed in another order (a wrong formula is off by far more)."""
    for i, (g, w) in enumerate(zip(got, want)):
        assert (g.grad is None) == (w.grad is None), f"{what} {i}: {g.grad} compiled, {w.grad} eager"
        if w.grad is None:
            continue
        a, b = g.grad.data, w.grad.data

        def show(v):
            return np.array2string(v, floatmode="unique")

        assert a.shape == b.shape and a.dtype == b.dtype, f"{what} {i}: {a.shape} {a.dtype}, eager {b.shape} {b.dtype}"
        if np.array_equal(a, b, equal_nan=True):
            continue
        scale = 1e-8 * max(1.0, float(np.max(np.abs(b), initial=0.0, where=np.isfinite(b))))
        if np.allclose(a, b, rtol=1e-8, atol=scale, equal_nan=True):
            raise AssertionError(
                f"{what} {i}: equal to eager's up to rounding but not bitwise (the compiled backward "
                f"adds the same contributions in another order than the engine):\n{show(a)}\neager\n{show(b)}"
            )
        raise AssertionError(f"{what} {i}: a different gradient:\ncompiled\n{show(a)}\neager\n{show(b)}")


def twins(*arrays: np.ndarray, requires_grad: bool = True, **kw: Any) -> tuple[list[Tensor], list[Tensor]]:
    """Two separate sets of leaves with the same values: one for compiled, one for eager."""

    def make():
        return [Tensor(a, requires_grad=requires_grad, **kw) for a in arrays]

    return make(), make()


def source_network(seed: int = 0) -> tuple[Callable[..., Tensor], list[Tensor]]:
    """The source's network and squared-error loss over named leaves it closes over."""
    rng = np.random.default_rng(seed)
    w1 = Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="w1")
    b1 = Tensor(rng.normal(size=4), requires_grad=True, name="b1")
    w2 = Tensor(rng.normal(size=(4, 2)), requires_grad=True, name="w2")
    b2 = Tensor(rng.normal(size=2), requires_grad=True, name="b2")

    def loss_fn(x, y):
        pred = (x @ w1 + b1).relu() @ w2 + b2
        return ((pred - y) ** 2).sum()

    return loss_fn, [w1, b1, w2, b2]


def batch(rng: np.random.Generator, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 2))


# ----------------------------------------------------------------------------- 1. results and backward


def test_returns_a_tensor_tuple_or_list_as_fn_does():
    rng = np.random.default_rng(0)
    (w,), (w_e,) = twins(rng.normal(size=(3, 3)))

    fns = {
        "tensor": lambda x, w: (x @ w).sum(),
        "tuple": lambda x, w: ((x @ w).sum(), (x * 2.0).mean(axis=0)),
        "list": lambda x, w: [(x @ w).tanh(), x.exp()],
    }
    for name, fn in fns.items():
        f = autograd.compile(fn)
        for _ in range(CALLS):
            x = rng.normal(size=(2, 3))
            assert_same_tensors(f(Tensor(x), w), fn(Tensor(x), w_e), name)
        assert f.traces == 1


def test_decorator_forms():
    @autograd.compile
    def f(x):
        return (x * x).sum()

    @autograd.compile(cache_size=1)
    def g(x):
        return (x * x).sum()

    for h in (f, g):
        x = Tensor([1.0, 2.0], requires_grad=True)
        h(x).backward()
        h(x).backward()
        assert_bitwise(x.grad.data, [4.0, 8.0])
        assert h.__name__ in ("f", "g")
    assert g.cache_size == 1


def test_backward_accumulates_over_two_calls_and_zero_grad_resets_as_in_eager():
    loss_c, params_c = source_network()
    loss_e, params_e = source_network()
    f = autograd.compile(loss_c)
    opt_c, opt_e = nn.optim.SGD(params_c, lr=0.1), nn.optim.SGD(params_e, lr=0.1)
    rng = np.random.default_rng(1)
    batches = [batch(rng) for _ in range(4)]
    for x, y in batches[:2]:  # no zero_grad in between: the gradients add up
        f(x, y).backward()
        loss_e(x, y).backward()
    assert_same_grads(params_c, params_e, "accumulated grad")
    opt_c.zero_grad()
    opt_e.zero_grad()
    assert all(p.grad is None for p in params_c)
    for x, y in batches[2:]:
        f(x, y).backward()
        loss_e(x, y).backward()
        assert_same_grads(params_c, params_e, "grad after zero_grad")
    assert f.traces == 1


def test_gradient_flows_on_into_the_eager_graph_behind_an_argument():
    """An argument that is itself computed (``h = a * 2``) passes its gradient on to ``a``."""
    rng = np.random.default_rng(2)
    (w,), (w_e,) = twins(rng.normal(size=(3, 2)))

    def fn(h):
        return (h @ w).tanh().sum()

    def fn_e(h):
        return (h @ w_e).tanh().sum()

    f = autograd.compile(fn)
    for _ in range(CALLS):
        (a,), (a_e,) = twins(rng.normal(size=(4, 3)))
        f(a.exp() * 2.0).backward()
        fn_e(a_e.exp() * 2.0).backward()
        assert_same_grads([a, w], [a_e, w_e])


def test_second_backward_needs_retain_graph_as_in_eager():
    loss_c, params_c = source_network()
    loss_e, params_e = source_network()
    f = autograd.compile(loss_c)
    x, y = batch(np.random.default_rng(3))
    f(x, y)  # the trace
    for fn in (f, loss_e):
        loss = fn(x, y)
        loss.backward(retain_graph=True)
        loss.backward()  # kept: adds up
        with pytest.raises(RuntimeError, match="a second time"):
            loss.backward()
    assert_same_grads(params_c, params_e)


def test_two_outputs_backward_together():
    """``(a.sum() + b.sum()).backward()`` through two outputs of one compiled function.

    Not bitwise: each output's node runs the generated backward (the other output seeded with
    zeros), and the engine adds the two results at each input, where eager adds the two
    gradients at the shared value ``h`` and runs the rest once. Same terms, other grouping:
    float64 rounding of a handful of products and sums, so rtol 1e-12.
    """
    rng = np.random.default_rng(4)
    (w,), (w_e,) = twins(rng.normal(size=(3, 3)))

    def make(w):
        def fn(x):
            h = (x @ w).tanh()
            return h.sum(axis=0), (h * h).mean(axis=1)

        return fn

    f, fn_e = autograd.compile(make(w)), make(w_e)
    for _ in range(CALLS):
        x = rng.normal(size=(4, 3))
        a, b = f(Tensor(x))
        a_e, b_e = fn_e(Tensor(x))
        assert_same_tensors((a, b), (a_e, b_e))
        (a.sum() + b.sum()).backward()
        (a_e.sum() + b_e.sum()).backward()
        np.testing.assert_allclose(w.grad.data, w_e.grad.data, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- 2. random programs


def _program_fn(program: Program, n_args: int, closure: list[Tensor], everything: bool) -> Callable[..., Any]:
    """The fuzzer's program as a function of its first ``n_args`` inputs, closing over the rest.

    Returns the loss, or (with ``everything``) every value the program computed and the loss.
    """
    n = len(program.inputs)

    def fn(*args):
        values, loss = run(program, "ag", [*args, *closure])
        return (*values[n:], loss) if everything else loss

    fn.__name__ = "program"
    return fn


def _change_in_place(leaves: list[Tensor], rng: np.random.Generator, call: int) -> None:
    """Change closure leaves in place, both ways users do: ``sub_`` under no_grad, and ``data[...] =``."""
    for k, p in enumerate(leaves):
        new = rng.uniform(-2, 2, p.shape)
        if (k + call) % 2:
            with no_grad():
                p.sub_(p.data - new)  # p becomes new (up to rounding of the difference)
        else:
            p.data[...] = new


@FUZZ
@given(programs(), st.data())
def test_random_programs_compiled_equal_eager_bitwise_over_calls(program, data):
    """For fuzzed programs, compiled == eager bitwise, values and grads, call after call.

    The first ``n_args`` inputs are arguments (new Tensors with new values each call), the rest
    closure leaves changed in place between calls and never zeroed, so their ``.grad``
    accumulates over the calls: both must do the same.
    """
    n = len(program.inputs)
    n_args = data.draw(st.integers(0, n), label="n_args")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    rgs = program.requires_grad
    closures = {
        kind: [Tensor(x.copy(), requires_grad=rg) for x, rg in zip(program.inputs[n_args:], rgs[n_args:])]
        for kind in ("loss", "values", "eager")
    }
    f_loss = autograd.compile(_program_fn(program, n_args, closures["loss"], everything=False))
    f_values = autograd.compile(_program_fn(program, n_args, closures["values"], everything=True))
    eager_loss = _program_fn(program, n_args, closures["eager"], everything=False)
    eager_values = _program_fn(program, n_args, closures["eager"], everything=True)

    with np.errstate(all="ignore"):
        for call in range(CALLS):
            arrays = (
                program.inputs[:n_args] if call == 0 else [rng.uniform(-2, 2, x.shape) for x in program.inputs[:n_args]]
            )
            if call > 0:
                state = rng.bit_generator.state
                for leaves in closures.values():  # the same change for each copy
                    rng.bit_generator.state = state
                    _change_in_place(leaves, rng, call)
            args = {kind: [Tensor(a, requires_grad=rg) for a, rg in zip(arrays, rgs)] for kind in ("c", "e")}
            note(f"call {call}")

            # values: every intermediate, compiled with several outputs (no backward through them here)
            assert_same_tensors(f_values(*args["c"]), eager_values(*args["e"]), f"values, call {call}")

            # the loss and the gradients of arguments and (accumulated) closure leaves
            loss_c, loss_e = f_loss(*args["c"]), eager_loss(*args["e"])
            assert_same_tensors(loss_c, loss_e, f"loss, call {call}")
            if loss_e.requires_grad:
                loss_c.backward()
                loss_e.backward()
            assert_same_grads(args["c"], args["e"], f"argument grad, call {call}")
            assert_same_grads(closures["loss"], closures["eager"], f"closure leaf grad, call {call}")
    assert f_loss.traces == 1 and f_values.traces == 1, "one signature: one trace each"


def test_gradient_of_a_value_used_by_several_ops_is_summed_in_eager_order():
    """A value read by several ops gets its gradient summed from their contributions; the
    compiled backward must add them in the engine's order to give eager's numbers exactly.

    Shrunk by the fuzzer above: ``v1 = v0 + v0; v2 = v0 + v0; v3 = v2 + v0; v4 = v3 + v0;
    v5 = v4 + v0; loss = v5 * v1``. The engine visits ``v1``'s node before the chain
    ``v5 .. v2`` (its topological order), so v0's gradient is ``d1 + d1 + d5 + ...``.
    """

    def fn(v0):
        v1 = v0 + v0
        v2 = v0 + v0
        v3 = v2 + v0
        v4 = v3 + v0
        v5 = v4 + v0
        return v5 * v1

    f = autograd.compile(fn)
    rng = np.random.default_rng(1)
    for _ in range(20):  # about half of the values show a difference in the last bit
        (x,), (y,) = twins(rng.uniform(-2, 2))
        f(x).backward()
        fn(y).backward()
        assert_same_grads([x], [y])


@pytest.mark.parametrize("names", [("w", "w1"), ("mul0", "b"), ("sum0", "b")])
def test_tensor_names_never_collide_with_generated_names(names):
    """Named leaves keep their names in the code; no generated name may then reuse one of them.

    ``w`` and ``w1``: w's second gradient contribution must not be called ``d_w1`` (w1's
    gradient). ``mul0``, ``sum0``: the names the code gives to Mul's and Sum's results.
    """

    def make(a, b):
        return lambda x: (a * 2.0).sum() + (a * b * x).sum()

    (a, b), (a_e, b_e) = twins(np.array([1.0, 2.0]), np.array([3.0, 5.0]))
    a.name, b.name = names
    f, fn_e = autograd.compile(make(a, b)), make(a_e, b_e)
    for call in range(CALLS):
        x = np.array([1.0, 1.0]) + call
        lc, le = f(Tensor(x)), fn_e(Tensor(x))
        assert_same_tensors(lc, le, f"loss, call {call}")
        lc.backward()
        le.backward()
        assert_same_grads([a, b], [a_e, b_e], f"grad, call {call}")


def test_default_names_of_unnamed_leaves_never_collide():
    """Found by the fuzzer: unnamed closure leaves are ``leaf``, ``leaf1``; a second gradient
    contribution of ``leaf`` was then named ``d_leaf1``, overwriting leaf1's gradient."""
    (v0, v1), (v0_e, v1_e) = twins(np.array(0.0), np.array(0.04))

    def make(v0, v1):
        def fn():
            v3 = v1 + v0
            v4 = v3 + v3
            return (v4 - v0).sum() * 0.0 + (v4 - v1).sum()

        return fn

    f, fn_e = autograd.compile(make(v0, v1)), make(v0_e, v1_e)
    for call in range(CALLS):
        f().backward()
        fn_e().backward()
        assert_same_grads([v0, v1], [v0_e, v1_e], f"grad, call {call}")


# ----------------------------------------------------------------------------- 2. live inputs


def test_closure_leaves_changed_between_calls_are_read_live():
    """Every way of changing a parameter between calls: sub_ under no_grad, data[...] =, and a
    new array of the same shape (``p.data = ...``): the compiled function reads the current one."""
    loss_c, params_c = source_network()
    loss_e, params_e = source_network()
    f = autograd.compile(loss_c)
    rng = np.random.default_rng(5)
    changes = [
        lambda p, v: p.sub_(p.data - v),
        lambda p, v: p.data.__setitem__(Ellipsis, v),
        lambda p, v: setattr(p, "data", v.copy()),
    ]
    for call in range(2 * len(changes)):
        if call:
            for p, q in zip(params_c, params_e):
                v = rng.normal(size=p.shape)
                with no_grad():
                    changes[call % len(changes)](p, v)
                    changes[call % len(changes)](q, v)
        x, y = batch(rng)
        lc, le = f(x, y), loss_e(x, y)
        assert_same_tensors(lc, le, f"loss, call {call}")
        lc.backward()
        le.backward()
        assert_same_grads(params_c, params_e, f"grad, call {call}")
    assert f.traces == 1


def _pick(logits, labels):
    return -logits.log_softmax(axis=1)[np.arange(len(logits)), labels].mean()


@pytest.mark.parametrize("as_tensor", [False, True], ids=["labels_array", "labels_tensor"])
def test_integer_labels_are_inputs_not_constants(as_tensor):
    """``logits[np.arange(n), labels]`` with labels an argument: new labels each call."""
    rng = np.random.default_rng(6)
    (w,), (w_e,) = twins(rng.normal(size=(3, 4)))
    f = autograd.compile(lambda x, labels: _pick(x @ w, labels))
    for call in range(2 * CALLS):
        x = rng.normal(size=(5, 3))
        labels = rng.integers(0, 4, size=5)
        wrap = Tensor if as_tensor else np.array
        lc, le = f(Tensor(x), wrap(labels)), _pick(Tensor(x) @ w_e, wrap(labels))
        assert_same_tensors(lc, le, f"loss, call {call}")
        lc.backward()
        le.backward()
        assert_same_grads([w], [w_e], f"grad, call {call}")
    assert f.traces == 1


def test_integer_label_tensor_closed_over_is_a_live_input():
    """A leaf the function reaches is read at each call, integer ones used as an index too:
    after ``labels.data = new_labels`` the compiled function must pick the new labels."""
    rng = np.random.default_rng(7)
    (w,), (w_e,) = twins(rng.normal(size=(3, 4)))
    labels = Tensor(np.array([0, 1, 2, 3, 0]))
    f = autograd.compile(lambda x: _pick(x @ w, labels))
    for call in range(CALLS):
        if call:
            labels.data = rng.integers(0, 4, size=5)
        x = rng.normal(size=(5, 3))
        lc, le = f(Tensor(x)), _pick(Tensor(x) @ w_e, labels)
        assert_same_tensors(lc, le, f"loss, call {call}, labels {labels.data}")
        lc.backward()
        le.backward()
        assert_same_grads([w], [w_e], f"grad, call {call}")


def test_same_tensor_for_two_parameters_then_different_tensors():
    """Traced with ``f(x, x)``, then called with ``f(x, y)``: each parameter reads its own argument."""

    def fn(a, b):
        return (a * 2.0 + b).sum()

    f = autograd.compile(fn)
    x = Tensor([1.0, 2.0], requires_grad=True)
    f(x, x)  # the trace
    (x, y), (x_e, y_e) = twins(np.array([1.0, 2.0]), np.array([10.0, 20.0]))
    got, want = f(x, y), fn(x_e, y_e)
    assert_same_tensors(got, want, "f(x, y) after a trace with f(x, x)")
    got.backward()
    want.backward()
    assert_same_grads([x, y], [x_e, y_e])


def test_boolean_mask_computed_from_the_data_gives_eager_gradients_or_refuses():
    """``x[x > 0].mean()``: the mask, so the number of elements picked, comes from the data.

    The compiled function must give eager's value and gradient on a later call that picks a
    different number of elements, or else refuse at the trace (CompileError, or a warning and
    eager execution); a crash in backward, or a gradient for the traced count, is neither.
    """

    def fn(x):
        return x[x > 0].mean()

    f = autograd.compile(fn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            f(Tensor([1.0, -1.0, 2.0], requires_grad=True))
        except CompileError:
            return  # refused at the trace: fine
    if any("eagerly" in str(w.message) for w in caught):
        return  # ran eagerly, and said so: fine
    (x,), (x_e,) = twins(np.array([1.0, 1.0, 2.0]))  # three picked where the trace picked two
    out = f(x)
    assert_same_tensors(out, fn(x_e))
    out.backward()
    fn(x_e).backward()
    assert_same_grads([x], [x_e])


def test_float32_data_and_parameters_bitwise():
    rng = np.random.default_rng(8)
    (w, b), (w_e, b_e) = twins(rng.normal(size=(3, 2)), rng.normal(size=2), dtype=np.float32)

    def fn(x, w, b):
        return ((x @ w + b).sigmoid() ** 2).mean()

    f = autograd.compile(fn)
    for _ in range(CALLS):
        x = rng.normal(size=(4, 3)).astype(np.float32)
        lc, le = f(Tensor(x), w, b), fn(Tensor(x), w_e, b_e)
        assert lc.dtype == np.float32
        assert_same_tensors(lc, le)
        lc.backward()
        le.backward()
        assert_same_grads([w, b], [w_e, b_e])


# ----------------------------------------------------------------------------- 3. nn models


def _mse_ops(model, x, y):
    return ((model(x) - y) ** 2).mean()


def _ce_ops(model, x, labels):
    return _pick(model(x), labels)


LOSSES = {
    "mse_tensor_ops": (_mse_ops, 2),
    "nn.MSELoss": (lambda model, x, y: nn.MSELoss()(model(x), y), 2),
    "cross_entropy_tensor_ops": (_ce_ops, 3),
    "nn.CrossEntropyLoss": (lambda model, x, labels: nn.CrossEntropyLoss()(model(x), labels), 3),
}
OPTIMIZERS = {
    "SGD_momentum": lambda params: nn.optim.SGD(params, lr=0.1, momentum=0.9),
    "Adam": lambda params: nn.optim.Adam(params, lr=0.01),
}
TRAININGS = [
    ("mse_tensor_ops", "SGD_momentum"),
    ("mse_tensor_ops", "Adam"),
    ("cross_entropy_tensor_ops", "SGD_momentum"),
    ("cross_entropy_tensor_ops", "Adam"),
    ("nn.MSELoss", "SGD_momentum"),
    ("nn.CrossEntropyLoss", "Adam"),
]


@pytest.mark.parametrize(("loss_name", "optimizer"), TRAININGS)
def test_mlp_training_compiled_equals_eager(loss_name, optimizer):
    """A compiled loss closing over an nn.MLP, the batch (and labels) as arguments, a few
    optimizer steps: the same losses at every step and the same final parameters."""
    loss, n_out = LOSSES[loss_name]
    model_c = nn.MLP([3, 8, n_out], rng=np.random.default_rng(9))
    model_e = nn.MLP([3, 8, n_out], rng=np.random.default_rng(9))
    f = autograd.compile(lambda x, target: loss(model_c, x, target))
    opt_c, opt_e = OPTIMIZERS[optimizer](model_c.parameters()), OPTIMIZERS[optimizer](model_e.parameters())
    rng = np.random.default_rng(10)
    trajectory_c, trajectory_e = [], []
    for _ in range(5):
        x = rng.normal(size=(6, 3))
        target = rng.normal(size=(6, n_out)) if n_out == 2 else rng.integers(0, n_out, size=6)
        for _model, opt, fn, trajectory in (
            (model_c, opt_c, f, trajectory_c),
            (model_e, opt_e, lambda x, t: loss(model_e, x, t), trajectory_e),
        ):
            opt.zero_grad()
            value = fn(x, target)
            value.backward()
            opt.step()
            trajectory.append(value.data)
    assert_bitwise(np.array(trajectory_c), np.array(trajectory_e), "losses")
    for (name, p), q in zip(model_c.named_parameters(), model_e.parameters()):
        assert_bitwise(p.data, q.data, name)
    assert f.traces == 1


# ----------------------------------------------------------------------------- 4. retracing


def _flagged(x, c=1.0, flag="tanh"):
    y = x * c
    return (y.tanh() if flag == "tanh" else y.relu()).sum()


def _labelled(x, labels):
    return _pick(x, labels)


_X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
RETRACES = {  # fn, the first call's arguments, the second's: a new signature each time
    "shape": (_flagged, lambda: (Tensor(_X),), lambda: (Tensor(_X[:1]),)),
    "dtype": (_flagged, lambda: (Tensor(_X),), lambda: (Tensor(_X, dtype=np.float32),)),
    "requires_grad": (_flagged, lambda: (Tensor(_X),), lambda: (Tensor(_X, requires_grad=True),)),
    "number": (_flagged, lambda: (Tensor(_X), 1.0), lambda: (Tensor(_X), 2.5)),
    "int_vs_float": (_flagged, lambda: (Tensor(_X), 2), lambda: (Tensor(_X), 2.5)),
    "string": (_flagged, lambda: (Tensor(_X), 1.0, "tanh"), lambda: (Tensor(_X), 1.0, "relu")),
    "label_dtype": (
        _labelled,
        lambda: (Tensor(_X), np.array([0, 2])),
        lambda: (Tensor(_X), np.array([1, 2], dtype=np.int32)),
    ),
}


@pytest.mark.parametrize("change", list(RETRACES))
def test_new_signature_traces_again_same_signature_reuses(change):
    fn, first, second = RETRACES[change]
    f = autograd.compile(fn)
    for _ in range(CALLS):
        assert_same_tensors(f(*first()), fn(*first()))
    assert f.traces == 1, "the same signature reuses its trace"
    for _ in range(CALLS):
        assert_same_tensors(f(*second()), fn(*second()), f"after a new {change}")
    assert f.traces == 2, f"a new {change} traces again, once"
    assert_same_tensors(f(*first()), fn(*first()))
    assert f.traces == 2, "the first signature is still cached"


def test_numbers_that_compare_equal_but_differ_are_not_confused():
    """0.0 == -0.0 (and they hash alike), yet ``x / c`` is +inf for one and -inf for the other:
    a trace for one must not be reused for the other."""

    def fn(x, c):
        return x / c

    f = autograd.compile(fn)
    x = Tensor([1.0, -2.0])
    with np.errstate(divide="ignore"):
        for c in (0.0, -0.0, 0.0, -0.0):
            assert_same_tensors(f(x, c), fn(x, c), f"x / {c!r}")


def test_cache_is_bounded_least_recently_used_dropped():
    f = autograd.compile(lambda x: (x * x).sum(), cache_size=2)
    x = {n: Tensor(np.ones(n)) for n in (1, 2, 3)}
    f(x[1])
    f(x[2])
    assert (f.traces, len(f.cache)) == (2, 2)
    f(x[1])  # reused; now 2 is the least recently used
    f(x[3])  # drops 2
    assert (f.traces, len(f.cache)) == (3, 2)
    f(x[1])
    f(x[3])
    assert f.traces == 3, "1 and 3 are kept"
    f(x[2])
    assert (f.traces, len(f.cache)) == (4, 2), "2 was dropped: traced again"
    g = autograd.compile(lambda x: (x * x).sum())
    for n in range(1, 3 * g.cache_size):
        g(Tensor(np.ones(n)))
    assert len(g.cache) <= g.cache_size


@pytest.mark.parametrize("change", ["shape", "dtype", "requires_grad"])
def test_closure_leaf_that_changes_kind_is_retraced(change):
    rng = np.random.default_rng(11)
    (w,), (w_e,) = twins(rng.normal(size=(3, 2)))
    f = autograd.compile(lambda x: (x @ w).tanh().sum())

    def fn_e(x):
        return (x @ w_e).tanh().sum()

    x = rng.normal(size=(4, 3))
    f(Tensor(x))
    f(Tensor(x))
    assert f.traces == 1
    for p in (w, w_e):
        if change == "shape":
            p.data = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
        elif change == "dtype":
            p.data = p.data.astype(np.float32)
        else:
            p.requires_grad_(False)
    for _ in range(CALLS):
        lc, le = f(Tensor(x)), fn_e(Tensor(x))
        assert_same_tensors(lc, le, f"after a new {change} of the leaf")
        if le.requires_grad:
            lc.backward()
            le.backward()
    assert_same_grads([w], [w_e])
    assert f.traces == 2


# ----------------------------------------------------------------------------- 5. the source


def _body(source: str, name: str) -> list[str]:
    """The numpy lines of ``def name(...)`` in ``source`` (without the def and the return)."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("    ") or line.strip().startswith("return"):
            break
        body.append(line)
    return body


def _parameters(source: str, name: str) -> list[str]:
    match = re.search(rf"^def {name}\((.*)\):", source, re.MULTILINE)
    assert match, f"no def {name}( in the source"
    return [p.strip() for p in match.group(1).split(",") if p.strip()]


OP_NAMES = {name for name in dir(autograd.ops) if isinstance(getattr(autograd.ops, name), type)}


def test_source_of_the_source_network():
    loss_fn, params = source_network()
    f = autograd.compile(loss_fn)
    assert f.source == ""
    x, y = batch(np.random.default_rng(12))
    want = f(x, y)
    src = f.source
    compile(src, "generated", "exec")  # valid Python (the built-in compile: autograd's is autograd.compile)
    assert "def forward(" in src and "def backward(" in src
    assert set(_parameters(src, "forward")) == {"x", "y", "w1", "b1", "w2", "b2"}, "arguments and named leaves"

    # one line per numpy call, each commented with the op it came from
    forward, backward = _body(src, "forward"), _body(src, "backward")
    comments = []
    for line in forward + backward:
        match = re.fullmatch(r"    \w+ = .+  # (\w+)( backward)?", line)
        assert match, f"not one commented line of code: {line!r}"
        assert match.group(1) in OP_NAMES, f"{match.group(1)} is not an op"
        comments.append(match.group(0).split("# ")[1])
    assert comments[: len(forward)] == ["MatMul", "Add", "ReLU", "MatMul", "Add", "Sub", "PowScalar", "Sum"]
    assert "ReLU backward" in comments and "MatMul backward" in comments

    # the backward one would write by hand: x.T @ (directly or through a name), the > 0 mask, 2 *
    code = "\n".join(backward)
    transposes = {m.group(1) for m in re.finditer(r"(\w+) = x\.T\b", code)} | {"x.T"}
    assert any(re.search(rf"(^|[ (=]){re.escape(t)} @ ", code, re.MULTILINE) for t in transposes), code
    assert re.search(r"> 0\b", code), code
    assert "2 * " in code, code

    # and it is the code that runs: executed by hand, its forward gives the loss
    namespace = {"np": np}
    exec(compile(src, "generated", "exec"), namespace)  # noqa: S102
    arrays = {"x": x, "y": y, **{p.name: p.data for p in params}}
    (loss,), _ = namespace["forward"](*(arrays[n] for n in _parameters(src, "forward")))
    assert_bitwise(loss, want.data)


def test_source_names_arguments_after_the_parameters_of_fn():
    def objective(inputs, targets, scale):
        return ((inputs - targets) * scale).abs().mean()

    f = autograd.compile(objective)
    f(Tensor(_X, requires_grad=True), np.zeros_like(_X), 3.0)
    params = _parameters(f.source, "forward")
    assert params[:2] == ["inputs", "targets"], params
    compile(f.source, "generated", "exec")
    assert "# Abs backward" in f.source and "# Mean" in f.source


# ----------------------------------------------------------------------------- 6. refusals


READS = {  # how a value is read, and the names a message may give it
    "item": (lambda t: t.item(), ("item()",)),
    "bool": (lambda t: bool(t), ("bool()",)),
    "if": (lambda t: 1 if t > 0 else 0, ("bool()", " if ")),
    "float": (lambda t: float(t), ("float", "item()")),
    "numpy": (lambda t: t.numpy(), ("numpy()",)),
    "tolist": (lambda t: t.tolist(), ("tolist()",)),
    "np.asarray": (lambda t: np.asarray(t), ("np.asarray",)),
}


@pytest.mark.parametrize("of", ["intermediate", "argument"])
@pytest.mark.parametrize("read", list(READS))
def test_value_read_while_tracing_raises_compile_error_naming_it_and_the_line(read, of):
    reader, names = READS[read]

    def fn(x):
        h = x.sum() * 2.0
        reader(h if of == "intermediate" else x)
        return h

    f = autograd.compile(fn)
    for _ in range(2):  # and it is not cached as if it had worked
        with pytest.raises(CompileError) as info:
            f(Tensor([0.5], requires_grad=True))
        message = str(info.value)
        assert isinstance(info.value, RuntimeError)
        assert any(name in message for name in names), message
        assert f"test_compile.py:{reader.__code__.co_firstlineno}" in message, message


@pytest.mark.parametrize("kind", ["tensor", "array"])
def test_reading_data_of_an_argument_raises(kind):
    f = autograd.compile(lambda x, y: (x * Tensor(y.data * 2.0)).sum())
    y = np.ones(3) if kind == "array" else Tensor(np.ones(3))
    with pytest.raises(RuntimeError, match="argument 1"):
        f(Tensor(np.ones(3), requires_grad=True), y)


def test_create_graph_through_a_compiled_result_raises_first_order():
    f = autograd.compile(lambda x: (x * x * x).sum())
    x = Tensor([1.0, 2.0], requires_grad=True)
    f(x)
    with pytest.raises(RuntimeError, match="first order"):
        f(x).backward(create_graph=True)
    assert x.grad is None, "a failed backward writes no .grad"
    with pytest.raises(RuntimeError, match="first order"):
        autograd.grad(f(x), [x], create_graph=True)


NOT_TENSORS = {
    "dict": lambda x: {"double": x * 2.0},
    "number_in_tuple": lambda x: ((x * x).sum(), 3),
    "argument_in_dict": lambda x: {"x": x},
}


@pytest.mark.parametrize("returns", list(NOT_TENSORS))
def test_non_tensor_return_is_refused_or_run_eagerly_with_a_warning(returns):
    """Either a clear error, or eager execution announced by a warning, whose results are
    exactly what fn returns (the argument itself, readable, not a traced stand-in)."""
    fn = NOT_TENSORS[returns]
    f = autograd.compile(fn)
    x = Tensor([1.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            first = f(x)
        except (CompileError, TypeError) as err:
            assert "return" in str(err), err
            return
    assert any("eagerly" in str(w.message) for w in caught), "neither an error nor a warning: silent"
    for got in (first, f(x)):
        want = fn(x)
        assert type(got) is type(want)
        for k in want.keys() if isinstance(want, dict) else range(len(want)):
            if isinstance(want[k], Tensor):
                assert_bitwise(got[k].data, want[k].data, f"result[{k!r}]")
            else:
                assert got[k] == want[k]


@pytest.mark.parametrize("bad", [{"scale": 2.0}, [1.0, 2.0]], ids=["dict", "list"])
def test_unhashable_argument_raises_type_error_naming_it(bad):
    def fn(x, opts):
        return (x * 2.0).sum()

    f = autograd.compile(fn)
    with pytest.raises(TypeError) as info:
        f(Tensor([1.0]), bad)
    message = str(info.value)
    assert re.search(r"argument 1\b|\bopts\b", message), message
    assert type(bad).__name__ in message, message


def test_parameter_changed_between_forward_and_backward_raises_as_in_eager():
    loss_c, params_c = source_network()
    loss_e, params_e = source_network()
    f = autograd.compile(loss_c)
    x, y = batch(np.random.default_rng(13))
    for fn, params in ((f, params_c), (loss_e, params_e)):
        opt = nn.optim.SGD(params, lr=0.1)
        fn(x, y).backward()  # (the trace, for f)
        for _ in range(2):
            loss = fn(x, y)
            opt.step()
            with pytest.raises(RuntimeError, match="modified in place"):
                loss.backward()


# ----------------------------------------------------------------------------- 7. no_grad


def test_under_no_grad_results_do_not_require_grad_and_have_the_same_values():
    loss_c, _ = source_network()
    loss_e, _ = source_network()
    f = autograd.compile(loss_c)
    g = autograd.compile(lambda x: ((x * 2.0).tanh(), x.exp()))
    rng = np.random.default_rng(14)
    x, y = batch(rng)
    f(x, y)  # a trace with grad on: must not leak into no_grad calls
    for _ in range(CALLS):
        x, y = batch(rng)
        t = Tensor(x, requires_grad=True)
        with no_grad(), warnings.catch_warnings():
            warnings.simplefilter("error")  # compiled, not run eagerly
            got, want = f(x, y), loss_e(x, y)
            outs = g(t)
        assert_same_tensors(got, want)
        assert not got.requires_grad and got.grad_fn is None
        assert_same_tensors(outs, ((t * 2.0).tanh().detach(), t.exp().detach()))
    loss = f(x, y)  # grad mode again: a graph again
    assert loss.requires_grad and loss.grad_fn is not None


# ----------------------------------------------------------------------------- 8. nesting


def test_compiled_function_called_inside_a_trace_is_inlined():
    rng = np.random.default_rng(15)
    (w,), (w_e,) = twins(rng.normal(size=(3, 3)))
    inner = autograd.compile(lambda x: (x @ w).tanh())
    outer = autograd.compile(lambda x: (inner(x) * 2.0).sum())

    def fn_e(x):
        return ((x @ w_e).tanh() * 2.0).sum()

    for _ in range(CALLS):
        (x,), (x_e,) = twins(rng.normal(size=(2, 3)))
        lc, le = outer(x), fn_e(x_e)
        assert_same_tensors(lc, le)
        lc.backward()
        le.backward()
        assert_same_grads([x, w], [x_e, w_e])
    assert outer.traces == 1 and inner.traces == 0, "inner ran as part of outer's trace"
    forward = [line.rsplit("# ", 1)[1] for line in _body(outer.source, "forward")]
    assert forward == ["MatMul", "Tanh", "Mul", "Sum"], forward


def test_power_of_zero_d_intermediates_is_bitwise_eager():
    """A 0-d op result is a numpy scalar, and on numpy scalars ``a ** b`` (C's pow, what the
    compiled code writes) and ``np.power(a, b)`` (numpy's loop) differ in the last bit for some
    inputs, such as this one (found by the fuzzer above): eager's Pow must use the operator too."""
    a = 0.016527635528529094
    assert np.float64(a) ** np.float64(a) != np.power(np.array(a), np.array(a))  # the inputs still tell

    def fn(x):
        h = x * 1.0  # a numpy scalar, not a 0-d array
        return h**h

    compiled = autograd.compile(fn)
    for _ in range(CALLS):  # the first call traces (eager's values); the later ones run the code
        (x,), (x_e,) = twins(np.array(a))
        got, want = compiled(x), fn(x_e)
        assert_same_tensors(got, want)
        got.backward()
        want.backward()
        assert_same_grads([x], [x_e])
