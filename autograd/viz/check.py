"""``check_backward(my_backward, loss)``: a hand-written backward pass, checked against the engine.

The learner writes backward the way the source does, with numpy: functions that take the
forward values and return gradients (``fc_backward(x, w, z_grad)``). ``my_backward`` gets
the forward values of every named tensor of ``loss``'s graph and returns the gradients it
computed, by name. Each is compared with the engine's gradient of the same tensor, in the
order backward computes them (nearest the loss first), and the first wrong one is named,
with both values, a constant ratio if there is one (the source's ``np.mean`` bias
gradient is the engine's divided by the batch size) and the op whose rule makes it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .explain import call_text
from .replay import TensorInfo, Trace, number, shape_text, summarize, trace

if TYPE_CHECKING:
    from ..tensor import Tensor


def check_backward(
    my_backward: Callable[..., Mapping[str, Any]],
    loss: Tensor,
    params: Any = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> bool:
    """True if every gradient ``my_backward`` returns equals the engine's; else AssertionError
    naming the first wrong tensor (in the order backward computes them).

    ``my_backward`` is called with the forward values (numpy arrays) of the named tensors
    of ``loss``'s graph, the leaves and the intermediates you named: as one dict
    ``{name: array}`` if it takes a single argument that is not one of those names, else
    as keyword arguments (``def my_backward(x, w1, b1, ...)``). It returns ``{name:
    gradient}`` for the tensors it differentiates; a key may end in ``_grad`` as in the
    source (``"w1_grad"``). ``params`` names parameters, as in ``draw``. Values come from
    replaying the graph with the leaves' current values.
    """
    tr = trace(loss, params)
    by_name: dict[str, TensorInfo] = {}
    for info in tr.tensors.values():
        if info.name != info.id and not info.literal:
            by_name.setdefault(info.name, info)
    values = {name: np.array(info.value, copy=True) for name, info in by_name.items()}
    returned = _call(my_backward, values)
    if not isinstance(returned, Mapping):
        raise TypeError(
            f"check_backward: my_backward must return a dict {{name: gradient}}, not {type(returned).__name__}"
        )
    theirs: dict[str, tuple[TensorInfo, np.ndarray]] = {}
    for key, grad in returned.items():
        name = str(key)
        if name not in by_name and name.endswith("_grad") and name[: -len("_grad")] in by_name:
            name = name[: -len("_grad")]
        if name not in by_name:
            raise ValueError(
                f"check_backward: my_backward returned a gradient for {key!r}, which names no tensor of the "
                f"graph; the named tensors are {', '.join(sorted(by_name))}"
            )
        theirs[name] = (by_name[name], np.asarray(grad, dtype=np.float64))
    if not theirs:
        raise ValueError("check_backward: my_backward returned no gradients")

    order = sorted(theirs.values(), key=lambda pair: (pair[0].final_step, int(pair[0].id[1:])))
    right: list[str] = []
    for info, grad in order:
        problem = _compare(info, grad, rtol, atol)
        if problem is not None:
            done = f" ({', '.join(right)} matched)" if right else ""
            raise AssertionError(f"check_backward: {problem}{_where(tr, info)}{done}")
        right.append(info.name)
    return True


def _call(fn: Callable[..., Any], values: dict[str, np.ndarray]) -> Any:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn(values)
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(parameters) == 1 and positional and positional[0].name not in values:
        return fn(values)
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return fn(**values)
    wanted = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    missing = [name for name in wanted if name not in values]
    if missing:
        raise TypeError(
            f"check_backward: my_backward takes {', '.join(missing)}, which name no tensor of the graph; "
            f"the named tensors are {', '.join(sorted(values))} (or take one argument: a dict of them all)"
        )
    return fn(**{name: values[name] for name in wanted})


def _compare(info: TensorInfo, grad: np.ndarray, rtol: float, atol: float) -> str | None:
    """None if ``grad`` is the engine's gradient of ``info``, else what is wrong with it."""
    name = info.name
    if info.grad is None:
        return f"{name} gets no gradient from the engine (nothing it affects reaches the loss), but yours is {summarize(grad)}"
    expected = np.asarray(info.grad, dtype=np.float64)
    if grad.shape != expected.shape:
        return (
            f"the gradient of {name} has shape {shape_text(grad.shape)}, but {name} has shape "
            f"{shape_text(expected.shape)} (a gradient has the shape of its tensor)"
        )
    if np.allclose(grad, expected, rtol=rtol, atol=atol, equal_nan=True):
        return None
    wrong = np.flatnonzero(~np.isclose(grad, expected, rtol=rtol, atol=atol, equal_nan=True))
    where = ""
    if expected.ndim and len(wrong) == expected.size:
        where = " at every element"
    elif expected.ndim:
        first = tuple(int(i) for i in np.unravel_index(wrong[0], expected.shape))
        where = f" at {len(wrong)} of {expected.size} elements, first at index {first}"
    text = f"the gradient of {name} is wrong{where}: yours is {summarize(grad)}, the engine's {summarize(expected)}"
    ratio = _constant_ratio(grad, expected, rtol)
    if ratio is not None:
        if ratio == -1:
            text += "; yours has the wrong sign"
        elif abs(ratio) < 1:
            text += f"; yours is the engine's divided by {number(1 / ratio, 6)} everywhere"
            if expected.ndim and round(1 / ratio) == 1 / ratio:
                text += " (a mean where the engine sums?)"
        else:
            text += f"; yours is the engine's times {number(ratio, 6)} everywhere"
    return text


def _constant_ratio(grad: np.ndarray, expected: np.ndarray, rtol: float) -> float | None:
    nonzero = expected != 0
    if not nonzero.any() or not np.array_equal(grad == 0, ~nonzero):
        return None
    ratios = grad[nonzero] / expected[nonzero]
    r = float(np.median(ratios))
    if r == 0 or not np.allclose(ratios, r, rtol=max(rtol, 1e-9)):
        return None
    return r


def _where(tr: Trace, info: TensorInfo) -> str:
    """Which backward step completes this gradient, and by which rule."""
    if not info.terms:
        return ""
    term = info.terms[-1]
    op = tr.op(term.op)
    names = tr.labels()
    return f". Backward completes it at step {op.step}, {call_text(tr, op, names)} -> {names[op.output]}, by the rule {op.rule}"
