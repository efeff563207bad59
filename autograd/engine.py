"""Backpropagation: walk the graph from the output back to the leaves, applying the chain rule.

1. ``topological_order`` lists the graph's nodes so that each comes before the nodes that
   made its inputs (iteratively: no recursion limit, however deep the graph).
2. ``traverse`` visits them in that order. Each node's gradient is complete by the time it
   is visited (every use of its output has sent its share); the node's ``backward`` turns
   it into gradients for its inputs (``input_grads``: one chain-rule step), which are summed
   back to each input's shape (``ops.sum_to``, the one place this happens) and added to what
   that input has so far.
3. Its two callers: ``backward`` (``Tensor.backward``) writes the leaves' ``.grad``;
   ``grad`` returns the gradients of chosen inputs and touches no ``.grad``. Only when every
   node succeeded are ``.grad``s written and the graph's saved tensors freed: an error
   part-way (or Ctrl-C) changes no ``.grad`` and leaves the graph as it was.

In a plain backward everything runs on numpy arrays; with ``create_graph=True`` on Tensors,
so the backward pass is itself recorded and can be differentiated again.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import function
from .function import _GUARDED, Context, Function, _guard, _read_message, as_tensor, check_finite, is_tensor
from .mode import mode
from .ops import sum_to, summed_axes

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["backward", "grad", "input_grads", "sum_to", "summed_axes", "topological_order", "traverse"]


def topological_order(roots: Sequence[Context]) -> list[Context]:
    """Every node reachable from ``roots``, each before the nodes that made its inputs.

    This is the order backward visits them. An explicit stack replaces recursion, so a
    chain of a million ops is fine.
    """
    order: list[Context] = []
    visited: set[Context] = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.inputs))]
        while stack:
            node, sources = stack[-1]
            for source in sources:
                if type(source) is Context and source not in visited:
                    visited.add(source)
                    stack.append((source, iter(source.inputs)))
                    break
            else:  # every input of node is listed: node goes after them
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _leading_to(order: list[Context], wanted: set[Context], leaves: set[Tensor]) -> set[Context]:
    """The nodes of ``order`` whose backward sends gradient on toward a wanted node or leaf.
    ``autograd.grad`` runs only these, so the graph behind its inputs is never touched."""
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


def traverse(
    roots: Sequence[Tensor],
    seeds: Sequence[Any],
    capture: set[Context] | None = None,
    leaves: set[Tensor] | None = None,
) -> tuple[dict[Tensor, Any], dict[Context, Any], list[Context]]:
    """Backpropagate ``seeds`` from ``roots``: the one walk both callers share.

    Returns the gradient of every leaf reached, the gradient of each node in ``capture``
    (all nodes with ``retain_grad()`` when ``capture`` is None), and the nodes visited.
    Given ``leaves`` (``autograd.grad``), only nodes that lead to ``capture`` or ``leaves``
    are run. Gradients are arrays, or Tensors with ``create_graph``.
    """
    pending: dict[Any, Any] = {}  # node (or leaf tensor) -> gradient of its output, summed so far
    captured: dict[Context, Any] = {}
    visited: list[Context] = []
    anomaly = mode.anomaly
    for root, seed in zip(roots, seeds):
        key = root.grad_fn or root
        pending[key] = seed if key not in pending else pending[key] + seed
    order = topological_order([r.grad_fn for r in roots if r.grad_fn is not None])
    useful = None if leaves is None else _leading_to(order, capture or set(), leaves)
    for node in order:
        grad = pending.pop(node, None)
        if capture is None:
            if node.retained is not None and grad is not None:
                captured[node] = grad
        elif node in capture:
            captured[node] = grad
        if grad is None or (useful is not None and node not in useful):
            continue  # nothing reached it, or nothing wanted lies behind it
        if getattr(node, "_saved", ()) is None:  # released by an earlier backward
            raise RuntimeError(node.released_message())
        for source, input_grad, _ in input_grads(node, grad, anomaly):
            previous = pending.get(source)  # each use of a value adds its share
            pending[source] = input_grad if previous is None else previous + input_grad
        visited.append(node)
    return pending, captured, visited  # what is left pending is the leaves' gradients


def input_grads(node: Context, grad: Any, anomaly: bool = False) -> list[tuple[Any, Any, tuple[int, ...]]]:
    """One step of the chain rule: the gradient ``node`` sends to each input that needs one.

    Calls the op's backward with dL/d(output) (an array, or a Tensor when grad mode is on,
    i.e. under ``create_graph``) and returns (input, dL/d(input), shape as backward returned
    it) for each input that needs a gradient: summed back to the input's shape if forward
    broadcast it, and cast to its dtype. This is also the hook ``autograd.viz`` uses to show
    one step.
    """
    fn = node.fn
    graph = mode.enabled
    if graph:
        if getattr(fn.backward, "once_differentiable", False):
            return _once_differentiable_grads(node, grad, anomaly)
        if not fn._trusted:
            grad = _guard(grad, _read_message(fn))
    try:
        results = fn.backward(node, grad)
    except (TypeError, AttributeError) as err:
        if fn._trusted:
            raise
        raise type(err)(
            f"{node.name}.backward: {err}. (In a plain backward() it gets numpy arrays (grad, "
            "ctx.saved_tensors, ctx.output), under create_graph=True Tensors: write it with "
            "operations both share, e.g. grad * np.cos(x), not grad * np.cos(x.data).)"
        ) from err
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
        if graph:
            input_grad = _as_graph_grad(node, input_grad)
        elif type(input_grad) is not np.ndarray and type(input_grad) is not np.float64:
            input_grad = _as_array_grad(node, input_grad)
        if anomaly:
            check_finite(input_grad, node, "backward")
        raw_shape = input_grad.shape
        shape = source.shape
        if raw_shape != shape:  # broadcast in forward: sum it back
            _check_broadcast(node, raw_shape, shape)
            input_grad = sum_to(input_grad, shape)
        dtype = source.dtype
        if input_grad.dtype is not dtype and input_grad.dtype != dtype:  # float32 input, float64 operand
            input_grad = input_grad.astype(dtype)
        sent.append((source, input_grad, raw_shape))
    return sent


def _as_array_grad(node: Context, g: Any) -> Any:
    """A backward's result as a numpy value (a formula may give a Tensor, a scalar, a number)."""
    if is_tensor(g):
        return g.data
    if type(g) is np.float64 or isinstance(g, np.generic) or type(g) is function._sym_class:
        return g  # numpy's 0-d results (and autograd.compile's traced arrays): fine as they are
    value = np.asarray(g)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{node.name}.backward returned a {type(g).__name__}, not a gradient array")
    return value


def _as_graph_grad(node: Context, g: Any) -> Tensor:
    """A backward's result under create_graph: it must be a Tensor that recorded itself."""
    if is_tensor(g):
        return g._inner if type(g) is function._guard_class else g
    raise RuntimeError(
        f"{node.name}.backward returned a {type(g).__name__} under create_graph=True, so the "
        "gradient could not be differentiated again (a second derivative through it would be "
        "silently wrong). Write backward with operations on its Tensor arguments (grad * x, "
        "np.exp(x)), or mark it @autograd.once_differentiable."
    )


def _check_broadcast(node: Context, raw: tuple[int, ...], shape: tuple[int, ...]) -> None:
    lead = len(raw) - len(shape)
    if lead < 0 or any(n != 1 and n != g for n, g in zip(shape, raw[lead:])):
        raise RuntimeError(
            f"{node.name}.backward returned a gradient of shape {raw} for an input of "
            f"shape {shape}; a gradient must have the input's shape or broadcast to it"
        )


class OnceDifferentiated(Function):
    """The gradient a ``@once_differentiable`` backward gave under create_graph: differentiating
    it again raises, naming the op (its true derivative is unknown)."""

    @staticmethod
    def forward(ctx: Context, value: Tensor, *sources: Any) -> np.ndarray:
        return value.data

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise RuntimeError(
            f"{ctx.op_name}.backward is marked once_differentiable: its gradient cannot be "
            "differentiated again. Write its backward with operations on Tensors to allow it."
        )


def _once_differentiable_grads(node: Context, grad: Tensor, anomaly: bool) -> list[tuple[Any, Any, tuple[int, ...]]]:
    """input_grads for a ``@once_differentiable`` backward under create_graph: run it on arrays,
    and hand on results that raise if something differentiates through them."""
    previous = mode.enabled
    mode.enabled = False
    try:
        sent = input_grads(node, grad.data, anomaly)
    finally:
        mode.enabled = previous
    # What the result depends on: the upstream gradient and what forward saved.
    depends = [t for t in (grad, *getattr(node, "_saved", ())) if t.requires_grad]
    wrapped = []
    for source, g, raw_shape in sent:
        t = OnceDifferentiated.apply(as_tensor(g), *depends)
        if t.grad_fn is not None:
            t.grad_fn.op_name = node.name
        wrapped.append((source, t, raw_shape))
    return wrapped


def _run(roots: Sequence[Tensor], seeds: Sequence[Any], create_graph: bool, **kw: Any) -> Any:
    """``traverse`` with grad mode set for the backward formulas: recording only for create_graph."""
    previous = mode.enabled
    was_in_backward = mode.in_backward
    mode.enabled = _GUARDED if create_graph else False
    mode.in_backward = True
    try:
        if create_graph:
            seeds = [as_tensor(s) for s in seeds]
        else:
            seeds = [s.data if is_tensor(s) else s for s in seeds]
        return traverse(roots, seeds, **kw)
    finally:
        mode.enabled = previous
        mode.in_backward = was_in_backward


def backward(
    roots: Sequence[Tensor],
    seeds: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Add d(roots)/d(leaf) * seeds to every leaf's ``.grad`` (and to retained grads)."""
    leaf_grads, captured, visited = _run(roots, seeds, create_graph)
    # Every node succeeded: only now write the gradients and free the graph. Under a lock, so
    # that threads running backward through shared leaves add up their gradients.
    with _commit_lock:
        updates = []
        owned: set[int] = set()  # ids of the arrays handed out below (all alive meanwhile)
        for tensor, g in leaf_grads.items():
            if type(tensor) is not Context:
                updates.append((tensor, _new_grad(tensor, g, owned, create_graph)))
        for node, g in captured.items():
            owner = node.retained() if node.retained is not None else None
            if owner is not None:
                updates.append((owner, _new_grad(owner, g, owned, create_graph)))
        _commit(updates, visited if not retain_graph else ())


_commit_lock = threading.Lock()


def _commit(updates: list[tuple[Tensor, Tensor]], release: Any) -> None:
    """Write every new ``.grad``, then free the ``release`` nodes: all or nothing, also when a
    KeyboardInterrupt (Ctrl-C) arrives in the middle. Interrupted while writing, the old
    gradients are put back and the graph stays whole; once every gradient is written, the
    graph is freed to the end before the interrupt goes on."""
    old = [tensor._grad for tensor, _ in updates]
    written = False
    try:
        for tensor, g in updates:
            tensor._grad = g
        written = True
        for node in release:
            node.release()
    except BaseException:
        if written:
            for node in release:
                node.release()
        else:
            for (tensor, _), old_grad in zip(updates, old):
                tensor._grad = old_grad
        raise


def _release_all(nodes: Any) -> None:
    """Free every node, finishing the job if interrupted on the way (``grad()``'s last step)."""
    try:
        for node in nodes:
            node.release()
    except BaseException:
        for node in nodes:
            node.release()
        raise


def _new_grad(tensor: Tensor, g: Any, owned: set[int], create_graph: bool) -> Tensor:
    """What ``tensor.grad`` becomes: ``g`` added to any gradient it has, as a Tensor of its own."""
    if tensor.dtype.kind != "f":
        raise TypeError(
            f"backward: a leaf of dtype {tensor.dtype} (shape {tensor.shape}) has requires_grad set; integer "
            "and bool tensors have no gradient. Make it from floats, or set requires_grad only on floats"
        )
    if create_graph:
        g = as_tensor(g)
        return g if tensor.grad is None else tensor.grad + g
    if tensor.grad is not None:
        g = tensor.grad.data + g  # a new array
    elif type(g) is not np.ndarray:
        g = np.asarray(g)  # numpy scalars from 0-d arithmetic
    elif id(g) in owned or g.base is not None or not g.flags.writeable:
        g = g.copy()  # another grad has it (a + b sends one array to both), or it is a view
    owned.add(id(g))
    return tensor._make(g)


def retain(tensor: Tensor) -> None:
    """Make backward keep this non-leaf tensor's gradient in ``tensor.grad``."""
    if tensor.grad_fn is not None:
        tensor.grad_fn.retained = weakref.ref(tensor)


def grad(
    outputs: Tensor | list[Tensor] | tuple[Tensor, ...],
    inputs: Tensor | list[Tensor] | tuple[Tensor, ...],
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
    nodes = {t.grad_fn for t in inputs if t.grad_fn is not None}
    leaves = {t for t in inputs if t.grad_fn is None}
    leaf_grads, captured, visited = _run(outputs, seeds, create_graph, capture=nodes, leaves=leaves)
    retain = create_graph if retain_graph is None else retain_graph
    if not retain:
        _release_all(visited)
    results: list[Tensor | None] = []
    for i, t in enumerate(inputs):
        g = captured.get(t.grad_fn) if t.grad_fn is not None else leaf_grads.get(t)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        results.append(None if g is None else g if is_tensor(g) else t._make(np.asarray(g)))
    return tuple(results)
