"""Backpropagation: walk the graph from the output back to the leaves, applying the chain rule.

1. ``topological_order`` lists the graph's nodes so that each comes before the nodes that
   made its inputs (iteratively: no recursion limit, however deep the graph).
2. ``backward`` visits them in that order. Each node's gradient is complete by the time it
   is visited (every use of its output has sent its share); the node's ``backward`` turns
   it into gradients for its inputs, which are summed back to each input's shape
   (``unbroadcast``, the one place this happens) and added to what that input has so far.
3. Only when every node succeeded are leaf ``.grad``s (and retained grads) written and the
   graph's saved tensors freed: an error part-way (or Ctrl-C) changes no ``.grad`` and
   leaves the graph as it was.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Sequence

from .function import (
    Context,
    as_tensor,
    check_finite,
    is_anomaly_enabled,
    is_tensor,
    set_grad_enabled,
    set_in_backward,
)
from .ops import SumTo

if TYPE_CHECKING:
    from .tensor import Tensor


def topological_order(roots: Sequence[Context]) -> list[Context]:
    """Every node reachable from ``roots``, each before the nodes that made its inputs.

    This is the order backward visits them. An explicit stack replaces recursion, so a
    chain of a million ops is fine.
    """
    order: list[Context] = []
    visited: set[Context] = set()
    for root in roots:
        stack: list[tuple[Context, bool]] = [(root, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)  # after every node it depends on
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for source in reversed(node.inputs):
                if type(source) is Context and source not in visited:
                    stack.append((source, False))
    order.reverse()
    return order


def _leading_to(order: list[Context], wanted: set[Context], inputs: Sequence[Tensor]) -> set[Context]:
    """The nodes of ``order`` whose backward sends gradient on toward one of ``inputs``
    (``wanted``: the inputs' own nodes). ``autograd.grad`` runs only these, so the graph
    behind the inputs is never touched.
    """
    leaves = {t for t in inputs if t.grad_fn is None}
    useful: set[Context] = set()
    for node in reversed(order):  # inputs before the nodes that use them
        for source in node.inputs:
            if type(source) is Context:
                if source in useful or source in wanted:
                    useful.add(node)
                    break
            elif is_tensor(source) and source in leaves:
                useful.add(node)
                break
    return useful


def unbroadcast(grad: Tensor, shape: tuple[int, ...], node: Context) -> Tensor:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    If forward broadcast an input of shape (3,) to (4, 3), its gradient arrives as (4, 3)
    and the 4 copies' gradients add up: sum over axis 0. The sum is an op (``SumTo``), so it
    can be differentiated again.
    """
    lead = grad.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != g for n, g in zip(shape, grad.shape[lead:])):
        raise RuntimeError(
            f"{node.name}.backward returned a gradient of shape {grad.shape} for an input of "
            f"shape {shape}; a gradient must have the input's shape or broadcast to it"
        )
    return SumTo.apply(grad, summed_axes(grad.shape, shape), shape)


def summed_axes(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``grad_shape`` that broadcasting added (leading) or stretched (from 1)."""
    lead = len(grad_shape) - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1)
    return tuple(range(lead)) + stretched


def backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Tensor],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """Backpropagate ``root_grads`` from ``roots``.

    Without ``inputs``: add each leaf's gradient to its ``.grad`` (and to retained grads).
    With ``inputs``: touch no ``.grad``; return the gradient of each input (None if unused).
    ``create_graph`` records the backward pass so gradients can be differentiated again.
    """
    pending: dict[Context, Tensor] = {}  # node -> gradient of its output, summed so far
    leaf_grads: dict[Tensor, Tensor] = {}  # leaf tensor -> its gradient, summed so far
    retained: list[tuple[Tensor, Tensor]] = []
    wanted = None if inputs is None else {t.grad_fn for t in inputs if t.grad_fn is not None}
    captured: dict[Context, Tensor] = {}
    visited: list[Context] = []
    anomaly = is_anomaly_enabled()

    grad_mode = set_grad_enabled(create_graph)  # record the backward pass only for create_graph
    was_in_backward = set_in_backward(True)
    try:
        for root, grad in zip(roots, root_grads):
            _add_to(pending if root.grad_fn is not None else leaf_grads, root.grad_fn or root, grad)
        order = topological_order([r.grad_fn for r in roots if r.grad_fn is not None])
        useful = None if inputs is None else _leading_to(order, wanted, inputs)  # type: ignore[arg-type]
        for node in order:
            if useful is not None and node not in useful:  # grad(): nothing wanted lies behind it
                if node in wanted:  # type: ignore[operator]
                    captured[node] = pending.pop(node, None)  # type: ignore[assignment]
                continue
            if node.released:
                raise RuntimeError(node.released_message())
            grad = pending.pop(node, None)
            if grad is None:  # no gradient reached this node
                continue
            if wanted is not None and node in wanted:
                captured[node] = grad
            if node.retained is not None and inputs is None:
                owner = node.retained()
                if owner is not None:
                    retained.append((owner, grad))
            for source, input_grad, _ in input_grads(node, grad, anomaly):
                _add_to(pending if type(source) is Context else leaf_grads, source, input_grad)
            visited.append(node)

        # Every node succeeded: only now free the graph and write the gradients.
        if not retain_graph:
            for node in visited:
                node.release()
        if inputs is not None:
            return [
                captured.get(t.grad_fn) if t.grad_fn is not None else leaf_grads.get(t)
                for t in inputs
            ]
        updates = []
        owned: set[int] = set()  # ids of the arrays handed out below (all alive meanwhile)
        for tensor, grad in list(leaf_grads.items()) + retained:
            if tensor.grad is not None:
                grad = tensor.grad + grad  # a new array
            elif not create_graph and _borrowed(grad.data, owned):
                grad = grad._make(grad.data.copy())
            owned.add(id(grad.data))
            updates.append((tensor, grad))
        for tensor, grad in updates:
            tensor.grad = grad
    finally:
        set_grad_enabled(grad_mode)
        set_in_backward(was_in_backward)
    return None


def input_grads(node: Context, grad: Tensor, anomaly: bool = False) -> list[tuple[object, Tensor, tuple[int, ...]]]:
    """One step of the chain rule: the gradient ``node`` sends to each input that needs one.

    Calls the op's backward with dL/d(output) and returns (input, dL/d(input), shape as
    backward returned it) for each input that needs a gradient: summed back to the input's
    shape if forward broadcast it, and cast to its dtype.
    """
    results = node.fn.backward(node, grad)
    if type(results) is not tuple:
        results = (results,)
    if len(results) != len(node.inputs):
        raise RuntimeError(
            f"{node.name}.backward returned {len(results)} gradient(s) for "
            f"{len(node.inputs)} forward argument(s); return one per argument (None "
            "for arguments that take no gradient)"
        )
    sent = []
    for source, input_grad, needed in zip(node.inputs, results, node.needs_input_grad):
        if input_grad is None or not needed:
            continue
        if not is_tensor(input_grad):  # a Function may return a plain array
            input_grad = as_tensor(input_grad, op=f"{node.name}.backward")
        if anomaly:
            check_finite(input_grad.data, node, "backward")
        raw_shape = input_grad.shape
        if raw_shape != source.shape:  # broadcast in forward: sum it back
            input_grad = unbroadcast(input_grad, source.shape, node)
        if input_grad.dtype is not source.dtype and input_grad.dtype != source.dtype:  # float32 input, float64 operand
            input_grad = input_grad.astype(source.dtype)
        sent.append((source, input_grad, raw_shape))
    return sent


def _borrowed(array: object, owned: set[int]) -> bool:
    """True if ``array`` can't be a ``.grad`` as it is: another grad has it (``a + b`` passes
    one gradient to both), or it is a view (of a broadcast, or of another array)."""
    return id(array) in owned or array.base is not None or not array.flags.writeable  # type: ignore[attr-defined]


def _add_to(sums: dict, key: object, grad: Tensor) -> None:
    """sums[key] += grad, starting from nothing: each use of a value adds its share."""
    previous = sums.get(key)
    sums[key] = grad if previous is None else previous + grad


def retain(tensor: Tensor) -> None:
    """Make backward keep this non-leaf tensor's gradient in ``tensor.grad``."""
    if tensor.grad_fn is not None:
        tensor.grad_fn.retained = weakref.ref(tensor)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: object | Sequence[object] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) as a tuple, one per input, without touching any ``.grad``.

    ``grad_outputs`` weights each output (default 1 for one-element outputs). With
    ``create_graph=True`` the results are differentiable: call ``grad`` on them again for
    second derivatives. ``retain_graph`` defaults to ``create_graph``.
    """
    outputs = [outputs] if not isinstance(outputs, (list, tuple)) else list(outputs)
    inputs = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
    if grad_outputs is None or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {i} (shape {out.shape}) does not require grad")
    seeds = [out._seed_grad(g, "grad") for out, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    results = backward(outputs, seeds, retain_graph=retain, create_graph=create_graph, inputs=inputs)
    assert results is not None
    if not allow_unused:
        for i, (t, g) in enumerate(zip(inputs, results)):
            if g is None:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
    return tuple(results)
