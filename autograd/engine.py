"""Backpropagation: walk the graph from the output back to the leaves, applying the chain rule.

1. ``topological_order`` lists the graph's nodes so that each comes before the nodes that
   made its inputs (iteratively: no recursion limit, however deep the graph).
2. ``backward`` visits them in that order. Each node's gradient is complete by the time it
   is visited (every use of its output has sent its share); the node's ``backward`` turns
   it into gradients for its inputs, which are summed back to each input's shape
   (``unbroadcast``, the one place this happens) and added to what that input has so far.
3. Only when every node succeeded are leaf ``.grad``s (and retained grads) written, so an
   error part-way changes no ``.grad``.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Sequence

from .function import Context, enable_grad, no_grad

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


def unbroadcast(grad: Tensor, shape: tuple[int, ...], node: Context) -> Tensor:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    If forward broadcast an input of shape (3,) to (4, 3), its gradient arrives as (4, 3)
    and the 4 copies' gradients add up: sum over axis 0. Uses Tensor.sum, so it can be
    differentiated again.
    """
    lead = grad.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != g for n, g in zip(shape, grad.shape[lead:])):
        raise RuntimeError(
            f"{node.name}.backward returned a gradient of shape {grad.shape} for an input of "
            f"shape {shape}; a gradient must have the input's shape or broadcast to it"
        )
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    grad = grad.sum(axis=tuple(range(lead)) + stretched, keepdims=True)
    return grad.reshape(shape)


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

    def send(source: object, grad: Tensor) -> None:
        """Add ``grad`` to what ``source`` (a node, or a leaf tensor) has received."""
        if type(source) is Context:
            previous = pending.get(source)
            pending[source] = grad if previous is None else previous + grad
        else:
            previous = leaf_grads.get(source)  # type: ignore[call-overload]
            leaf_grads[source] = grad if previous is None else previous + grad  # type: ignore[index]

    with enable_grad() if create_graph else no_grad():
        for root, grad in zip(roots, root_grads):
            send(root.grad_fn if root.grad_fn is not None else root, grad)
        for node in topological_order([r.grad_fn for r in roots if r.grad_fn is not None]):
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
            input_grads = node.fn.backward(node, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if len(input_grads) != len(node.inputs):
                raise RuntimeError(
                    f"{node.name}.backward returned {len(input_grads)} gradient(s) for "
                    f"{len(node.inputs)} forward argument(s); return one per argument (None "
                    "for arguments that take no gradient)"
                )
            for source, input_grad, needed in zip(node.inputs, input_grads, node.needs_input_grad):
                if input_grad is None or not needed:
                    continue
                if input_grad.shape != source.shape:
                    input_grad = unbroadcast(input_grad, source.shape, node)
                if input_grad.dtype != source.dtype:
                    input_grad = input_grad.astype(source.dtype)
                send(source, input_grad)
            if not retain_graph:
                node.release()

        if inputs is not None:
            return [
                captured.get(t.grad_fn) if t.grad_fn is not None else leaf_grads.get(t)
                for t in inputs
            ]
        # Every node succeeded: only now write the gradients.
        for tensor, grad in list(leaf_grads.items()) + retained:
            if not create_graph and not grad.data.flags.writeable:
                grad = grad._make(grad.data.copy())  # a broadcast view: give .grad its own memory
            tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    return None


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
