"""Replay a graph and record everything the pictures and the explanation show.

``trace(loss)`` walks the graph behind ``loss`` and *replays* it: every op is run again
with ``node.fn.apply`` on freshly recomputed inputs, starting from the leaves. That builds
an identical, fresh graph, so all gradients can be asked for at once with
``autograd.grad``, even after a plain ``loss.backward()`` freed the original graph and
its intermediate tensors were garbage-collected. Nothing of the original graph changes,
and no ``.grad`` is touched.

Two consequences to keep in mind:

* Replay uses the leaves' *current* values. After an optimizer step they differ from the
  ones the original forward saw, and so do the pictured values and gradients.
* An op that is random (a dropout mask, say) draws again when replayed.

Besides each tensor's total gradient, the trace keeps every *contribution*: what each op
sent to each input, after the engine's un-broadcasting. A tensor used twice receives two
contributions, and its gradient is their sum (``TensorInfo.terms``).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import grad as autograd_grad
from ..engine import input_grads, topological_order
from ..function import Context, Function, is_tensor
from ..mode import enable_grad, no_grad
from ..tensor import Tensor

Shape = tuple[int, ...]

# What a tensor node is, for its colour and legend.
PARAMETER = "parameter"  # a leaf named by ``params`` (a model's weight)
LEAF = "leaf"  # any other leaf with requires_grad=True
CONSTANT = "constant"  # a leaf without requires_grad: data, targets, literal numbers
INTERMEDIATE = "intermediate"  # made by an op
KINDS = (PARAMETER, LEAF, CONSTANT, INTERMEDIATE)


@dataclass
class Term:
    """One contribution to a tensor's gradient: what op ``op`` sent it, in backward step ``step``."""

    op: str  # id of the op that sent it
    step: int
    arg_name: str  # as which argument of that op the tensor was used ("a", "b")
    grad: np.ndarray  # after un-broadcasting: the tensor's own shape
    raw_shape: Shape  # what the op's backward returned, before the engine summed it down
    position: int = 0  # the argument's position in the op's call


@dataclass
class TensorInfo:
    """A tensor of the graph: a leaf, a constant, or the output of an op."""

    id: str  # "t1", "t2", ... in forward order
    name: str  # given name, parameter path, or the id
    kind: str  # one of KINDS
    shape: Shape
    dtype: np.dtype
    value: np.ndarray
    grad: np.ndarray | None  # dL/d(this tensor) from autograd.grad; None if no gradient flows
    requires_grad: bool
    is_output: bool = False  # the tensor the trace started from (the loss)
    producer: str | None = None  # id of the op that made it
    terms: list[Term] = field(default_factory=list)  # contributions, in the order backward sends them
    literal: bool = False  # an unnamed 0-d constant used once (the 2 of ``x * 2``): drawn inside its op

    @property
    def final_step(self) -> int:
        """The backward step after which the gradient is complete (0: known from the start)."""
        return max((term.step for term in self.terms), default=0)

    def arrived(self, step: int) -> list[Term]:
        """The contributions backward has sent this tensor by the end of step ``step``."""
        return [term for term in self.terms if term.step <= step]

    def running_sum(self, step: int) -> np.ndarray | None:
        """What this tensor's gradient adds up to after step ``step`` (None: nothing arrived yet).

        The traced output's gradient is the seed, known from the start."""
        if self.is_output:
            return self.grad
        arrived = self.arrived(step)
        if not arrived:
            return None
        total = np.array(arrived[0].grad, copy=True)
        for term in arrived[1:]:
            total = total + term.grad
        return total


@dataclass
class InputEdge:
    """Argument ``position`` of op ``op`` is tensor ``source``."""

    source: str  # tensor id
    op: str  # op id
    position: int
    arg_name: str  # the name of forward's parameter ("a", "b", "x")
    needs_grad: bool
    reduced_from: Shape | None = None  # the engine summed a gradient of this shape down to the input's
    term: Term | None = None  # the gradient sent along this edge in backward
    label: str | None = None  # what the arrow says: "1st", "2nd"; None for a commutative op or a lone input
    local: np.ndarray | None = None  # elementwise ops: d(output)/d(this input), element by element
    product: np.ndarray | None = None  # upstream * local: what backward returned, before any un-broadcast


@dataclass
class OpInfo:
    """An op of the graph (a Context), with its backward step: 1 is the first op backward visits."""

    id: str  # "op1", "op2", ... = "op" + step
    step: int
    name: str  # "MatMul"
    rule: str  # first line of the op's docstring: the math
    output: str  # id of the tensor it made
    inputs: list[InputEdge]
    options: dict[str, Any]  # the plain (non-tensor) arguments: {"axis": 0, "keepdims": False}
    upstream: np.ndarray | None  # dL/d(output) when backward visits it; None if nothing reached it


@dataclass
class Trace:
    """Everything :func:`trace` found: tensors in forward order, ops in backward order."""

    output: str  # id of the traced tensor
    tensors: dict[str, TensorInfo]
    ops: list[OpInfo]
    seeded_with_ones: bool  # the output is not a scalar: backward was seeded with ones

    def tensor(self, tensor_id: str) -> TensorInfo:
        return self.tensors[tensor_id]

    def op(self, op_id: str) -> OpInfo:
        return self.ops[int(op_id.removeprefix("op")) - 1]

    def literal_text(self, tensor_id: str) -> str:
        """A folded literal as the number it is: 2, 0.5."""
        return number(float(np.asarray(self.tensors[tensor_id].value)))

    def labels(self) -> dict[str, str]:
        """How text refers to each tensor: its name, plus its id where two share a name."""
        counts: dict[str, int] = {}
        for info in self.tensors.values():
            counts[info.name] = counts.get(info.name, 0) + 1
        return {
            tid: info.name if counts[info.name] == 1 or info.name == tid else f"{info.name} ({tid})"
            for tid, info in self.tensors.items()
        }


# ----------------------------------------------------------------------------- params


def parameter_names(params: Any) -> dict[Tensor, str]:
    """``{tensor: dotted name}`` from a Module (``named_parameters()``) or a ``{name: tensor}`` mapping."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        pairs: Iterable[tuple[str, Any]] = params.named_parameters()
    elif isinstance(params, Mapping):
        pairs = params.items()
    else:
        raise TypeError(
            f"params must be a module with named_parameters() or a mapping name -> Tensor, not {type(params).__name__}"
        )
    names: dict[Tensor, str] = {}
    for name, tensor in pairs:
        if not is_tensor(tensor):
            raise TypeError(f"params[{name!r}] is a {type(tensor).__name__}, not a Tensor")
        names.setdefault(tensor, str(name))
    return names


# ----------------------------------------------------------------------------- replay


def trace(output: Tensor, params: Any = None) -> Trace:
    """Replay the graph behind ``output`` and gather values and gradients of every tensor in it.

    ``params`` names parameters: a Module (``named_parameters()``) or ``{name: Tensor}``.
    A tensor is labelled by its ``params`` name, else its ``.name``, else its id ("t3").
    Replay uses the leaves' current values (see the module docstring). If ``output`` is not
    a scalar, backward is seeded with ones, as ``output.backward(grad=ones)`` would be.
    """
    if not is_tensor(output):
        raise TypeError(f"trace: expected a Tensor, got {type(output).__name__}")
    names = parameter_names(params)
    if output.grad_fn is None:  # a lone leaf: nothing to replay
        info = _leaf_info("t1", output, names)
        info.is_output = True
        info.grad = np.ones_like(output.data) if output.requires_grad else None
        return Trace("t1", {"t1": info}, [], output.size != 1)

    order = topological_order([output.grad_fn])  # the order backward visits the nodes in
    replay = Replay(names)
    with np.errstate(all="ignore"):  # numpy warned about NaN/Inf in the original run already
        for node in reversed(order):  # 1. forward again: each node after those that made its inputs
            replay.run(node)
        root_id = replay.node_ids[output.grad_fn]
        replay.tensors[root_id].is_output = True
        replay.tensors[root_id].name = _name(output, names, root_id)
        replay.ask_engine_for_grads(root_id)  # 2. every gradient at once, from the engine itself
        ops = [replay.backward_step(node, step) for step, node in enumerate(order, start=1)]  # 3.
    _fold_literals(replay.tensors, ops)
    for op in ops:
        _label_arguments(op, replay.tensors)
    return Trace(root_id, replay.tensors, ops, replay.fresh[root_id].size != 1)


LOCALS_LIMIT = 1_000_000  # outputs bigger than this get no elementwise local derivative
COMMUTATIVE = {"Add", "Mul", "Maximum", "Minimum"}  # ops whose arguments can be swapped: no labels
ORDINALS = ["1st", "2nd", "3rd"]


def _fold_literals(tensors: dict[str, TensorInfo], ops: list[OpInfo]) -> None:
    """Mark the literals: unnamed 0-d constants used by one op once (``x * 2``, ``10 / f``).
    The pictures draw them inside their op (``* 2``) instead of as boxes of their own."""
    uses: dict[str, int] = {}
    for op in ops:
        for edge in op.inputs:
            uses[edge.source] = uses.get(edge.source, 0) + 1
    for tid, info in tensors.items():
        info.literal = (
            info.kind == CONSTANT
            and info.name == tid
            and info.shape == ()
            and uses.get(tid) == 1
            and info.dtype.kind in "biuf"
        )


def _label_arguments(op: OpInfo, tensors: dict[str, TensorInfo]) -> None:
    """ "1st", "2nd"... on the inputs of an op whose argument order matters; no label where it
    does not (a commutative op, or an op with one tensor input besides literals)."""
    drawn = [e for e in op.inputs if not tensors[e.source].literal]
    if op.name in COMMUTATIVE or len(drawn) <= 1:
        return
    for i, edge in enumerate(op.inputs):
        edge.label = ordinal(i + 1)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 21st."""
    if n <= 3:
        return ORDINALS[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Replay:
    """The fresh graph being built, and how its tensors map to the original graph's."""

    def __init__(self, names: dict[Tensor, str]) -> None:
        self.names = names
        self.tensors: dict[str, TensorInfo] = {}  # tensor id -> what the trace reports
        self.fresh: dict[str, Tensor] = {}  # tensor id -> the replayed tensor (a leaf: itself)
        self.leaf_ids: dict[Tensor, str] = {}  # leaf tensor -> its id
        self.node_ids: dict[Context, str] = {}  # original node -> id of the tensor it made
        self.fresh_nodes: dict[Context, Context] = {}  # original node -> its replayed twin

    def new_id(self) -> str:
        return f"t{len(self.tensors) + 1}"

    def run(self, node: Context) -> None:
        """Apply the node's op again, to the replayed outputs of the nodes it came from."""
        args = []
        for source in node.inputs:
            if type(source) is Context:
                args.append(self.fresh[self.node_ids[source]])
                continue
            if is_tensor(source) and source not in self.leaf_ids:  # a leaf seen for the first time
                tid = self.leaf_ids[source] = self.new_id()
                self.tensors[tid] = _leaf_info(tid, source, self.names)
                self.fresh[tid] = source
            args.append(source)  # leaves and plain values are passed as they are
        with enable_grad():
            out = node.fn.apply(*args)
        if out.grad_fn is None:
            raise RuntimeError(
                f"trace: replaying {node.name} recorded no graph: none of its inputs requires "
                "grad any more (was requires_grad_(False) called on a leaf after the forward?)"
            )
        tid = self.node_ids[node] = self.new_id()
        self.tensors[tid] = TensorInfo(
            id=tid,
            name=_printable(node.output_name) if node.output_name else tid,
            kind=INTERMEDIATE,
            shape=out.shape,
            dtype=out.dtype,
            value=out.data,
            grad=None,
            requires_grad=True,
        )
        self.fresh[tid] = out
        self.fresh_nodes[node] = out.grad_fn

    def ask_engine_for_grads(self, root_id: str) -> None:
        """d(root)/d(every replayed tensor and leaf that requires grad), by ``autograd.grad``."""
        root = self.fresh[root_id]
        wanted = [tid for tid, t in self.fresh.items() if t.requires_grad]
        seed = np.ones_like(root.data) if root.size != 1 else None
        grads = autograd_grad(
            root, [self.fresh[tid] for tid in wanted], grad_outputs=seed, retain_graph=True, allow_unused=True
        )
        for tid, g in zip(wanted, grads):
            self.tensors[tid].grad = None if g is None else g.data

    def backward_step(self, node: Context, step: int) -> OpInfo:
        """The op as backward visits it: what it receives, and what it sends each input."""
        op_id = f"op{step}"
        out_id = self.node_ids[node]
        self.tensors[out_id].producer = op_id
        arg_names = _arg_names(node.fn, len(node.inputs))
        edges, options = [], {}
        for position, (source, arg_name, needed) in enumerate(zip(node.inputs, arg_names, _needs(node))):
            if type(source) is Context:
                edges.append(InputEdge(self.node_ids[source], op_id, position, arg_name, needed))
            elif is_tensor(source):
                edges.append(InputEdge(self.leaf_ids[source], op_id, position, arg_name, needed))
            else:
                options[arg_name] = source
        upstream = self.tensors[out_id].grad
        op = OpInfo(op_id, step, _printable(node.name), _rule(node.fn), out_id, edges, options, upstream)
        if upstream is not None:
            self.record_terms(self.fresh_nodes[node], op)
        return op

    def record_terms(self, node: Context, op: OpInfo) -> None:
        """Run the replayed node's chain-rule step (the engine's own ``input_grads``) and note
        what each input receives, as backward summed it back to the input's shape."""
        assert op.upstream is not None
        with no_grad():  # the engine's plain step: on arrays
            sent = input_grads(node, op.upstream)
        by_source: dict[Any, list[InputEdge]] = {}  # where an input came from -> its edges
        for edge in op.inputs:
            if edge.needs_grad:
                by_source.setdefault(node.inputs[edge.position], []).append(edge)
        for source, g, raw_shape in sent:
            for edge in by_source.get(source, [])[:1]:
                by_source[source].remove(edge)
                if raw_shape != g.shape:
                    edge.reduced_from = raw_shape
                edge.term = Term(op.id, op.step, edge.arg_name, np.asarray(g), raw_shape, edge.position)
                self.tensors[edge.source].terms.append(edge.term)
        self.record_locals(node, op)

    def record_locals(self, node: Context, op: OpInfo) -> None:
        """For an elementwise op, each input's local derivative d(output)/d(input), element by element.

        The op's backward is linear in the gradient it gets. It is elementwise when what it
        returns for an upstream gradient g equals g * (what it returns for ones), for the real
        upstream and for a random one: then that second result is the local derivative, and
        the chain rule is a product. Other ops (matmul, sums, reshapes) get none.
        """
        assert op.upstream is not None
        out_shape = np.shape(op.upstream)
        if np.size(op.upstream) > LOCALS_LIMIT:  # three more backward calls of a big op: not worth it
            return
        ones = np.ones(out_shape, dtype=np.asarray(op.upstream).dtype)
        probe = np.random.default_rng(0).uniform(0.5, 1.5, size=out_shape).astype(ones.dtype)
        try:
            with no_grad(), np.errstate(all="ignore"):
                local, real, random = (_raw_grads(node, g) for g in (ones, op.upstream, probe))
        except Exception:  # noqa: BLE001 - an op whose backward refuses a second call: no local values
            return
        for edge in op.inputs:
            parts = [r[edge.position] if edge.position < len(r) else None for r in (local, real, random)]
            if edge.term is None or any(p is None for p in parts):
                continue
            d, got, probed = (np.asarray(p) for p in parts)
            if not (d.shape == got.shape == probed.shape == out_shape):
                continue
            if _same(got, op.upstream * d) and _same(probed, probe * d):
                edge.local, edge.product = d, got


def _raw_grads(node: Context, grad: Any) -> tuple[Any, ...]:
    """What the op's own backward returns for ``grad``, before the engine sums anything down."""
    results = node.fn.backward(node, grad)
    return results if type(results) is tuple else (results,)


def _same(a: np.ndarray, b: Any) -> bool:
    return bool(np.allclose(a, np.asarray(b), rtol=1e-9, atol=1e-300, equal_nan=True))


def _leaf_info(tid: str, tensor: Tensor, names: dict[Tensor, str]) -> TensorInfo:
    if tensor in names:
        kind = PARAMETER
    elif tensor.requires_grad:
        kind = LEAF
    else:
        kind = CONSTANT
    return TensorInfo(
        id=tid,
        name=_name(tensor, names, tid),
        kind=kind,
        shape=tensor.shape,
        dtype=tensor.dtype,
        value=tensor.data,
        grad=None,
        requires_grad=tensor.requires_grad,
    )


def _name(tensor: Tensor | None, names: dict[Tensor, str], fallback: str) -> str:
    """The parameter path if ``params`` names it, else the tensor's own name, else ``fallback``.

    Unprintable characters (newlines, terminal escape codes) are shown as ``\\x1b`` etc.
    """
    if tensor is None:
        return fallback
    name = names.get(tensor) or tensor.name
    if not name:
        return fallback
    return _printable(name)


def _printable(name: Any) -> str:
    """``name`` with unprintable characters (newlines, terminal escape codes, BEL) shown as
    ``\\x1b``. Every string that reaches a picture, the page or ``explain`` from code (tensor
    names, op class names, docstrings, argument names and values) goes through here."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(name))


def _needs(node: Context) -> tuple[bool, ...]:
    """``needs_input_grad`` padded to one flag per input."""
    needs = tuple(node.needs_input_grad)
    return needs + (False,) * (len(node.inputs) - len(needs))


def _arg_names(fn: type[Function], count: int) -> list[str]:
    """The names of ``fn.forward``'s arguments after ``ctx``: ["a", "b"]; ``*xs`` gives xs0, xs1, ..."""
    names: list[str] = []
    try:
        parameters = list(inspect.signature(fn.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        parameters = []
    for p in parameters:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            names += [f"{p.name}{i}" for i in range(count - len(names))]
            break
        names.append(p.name)
    names += [f"arg{i}" for i in range(len(names), count)]
    return names[:count]


def _rule(fn: type[Function]) -> str:
    """The math an op states in the first line of its docstring (``c = a * b;  dc/da = b, ...``)."""
    doc = inspect.getdoc(fn) or ""
    return _printable(doc.strip().splitlines()[0] if doc.strip() else f"{fn.__name__} (no docstring)")


# ----------------------------------------------------------------------------- summaries

SMALL = 6  # arrays with at most this many elements are shown in full


SCALAR_DIGITS = 7  # a single number: 138.8338, as micrograd prints it
ARRAY_DIGITS = 4  # the elements of a small array, and statistics


def number(value: float, digits: int = SCALAR_DIGITS) -> str:
    """A number in ``digits`` significant digits (7 by default): 138.8338, -3, 1.5e-07."""
    return f"{float(value) + 0.0:.{digits}g}"  # + 0.0 turns -0.0 into 0.0


def digits_for(array: Any, precision: int | None = None) -> int:
    """``precision`` if given, else 7 significant digits for a single number and 4 for arrays."""
    if precision is not None:
        return precision
    return SCALAR_DIGITS if np.size(array) == 1 else ARRAY_DIGITS


def summarize(array: np.ndarray | None, small: int = SMALL, precision: int | None = None) -> str:
    """Short text for an array: every element if it is small, the value if all elements are
    equal (``all 1``), else min/max/mean/norm and NaN/Inf counts.

    ``precision``: significant digits (default 7 for one number, 4 for arrays)."""
    if array is None:
        return "none"
    a = np.asarray(array)
    if a.size == 0:
        return "empty"
    if a.dtype.kind not in "biuf":
        return f"<{a.dtype}>"
    digits = digits_for(a, precision)

    def fmt(v: float) -> str:
        return number(v, digits)

    if a.size <= small:
        text = np.array2string(a, separator=", ", max_line_width=10_000, formatter={"float_kind": fmt, "int": fmt})  # type: ignore[arg-type]
        return text.replace("\n", "")
    f = a.astype(np.float64)
    finite = f[np.isfinite(f)]
    if finite.size == f.size and finite.min() == finite.max():
        return f"all {fmt(finite.flat[0])}"
    parts = []
    if finite.size:
        parts += [
            f"min {fmt(finite.min())}",
            f"max {fmt(finite.max())}",
            f"mean {fmt(finite.mean())}",
            f"norm {fmt(float(np.linalg.norm(finite)))}",
        ]
    nans, infs = int(np.isnan(f).sum()), int(np.isinf(f).sum())
    if nans:
        parts.append(f"NaN x{nans}")
    if infs:
        parts.append(f"Inf x{infs}")
    return "  ".join(parts)


def describe(value: Any, width: int = 60) -> str:
    """A plain argument of an op on one short line: 1, None, (0, 2), float32, bool array (5, 3)."""
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, np.ndarray):
        if value.size <= SMALL:
            return summarize(value)
        return f"{value.dtype} array {shape_text(value.shape)}"
    text = _printable(" ".join(repr(value).split()))
    return text if len(text) <= width else text[: width - 3] + "..."


def has_nonfinite(array: np.ndarray | None) -> bool:
    """True if the array holds a NaN or an infinity."""
    return array is not None and np.asarray(array).dtype.kind == "f" and not bool(np.isfinite(array).all())


FULL = 100  # the page lists arrays up to this many elements in full; bigger ones get a heatmap


def full_text(array: np.ndarray | None, precision: int | None = None, limit: int = FULL) -> str:
    """Every element, in ``precision`` significant digits (default 7 for a single number, 6 for
    arrays); numpy elides the middle of arrays over ``limit`` elements."""
    if array is None:
        return "none"
    a = np.asarray(array)
    if a.dtype.kind not in "biuf":
        return f"<{a.dtype}>"
    digits = precision if precision is not None else (SCALAR_DIGITS if a.size == 1 else 6)

    def fmt(v: float) -> str:
        return number(v, digits)

    return np.array2string(a, separator=", ", threshold=limit, formatter={"float_kind": fmt}, max_line_width=100)  # type: ignore[arg-type]


def heatmap(array: np.ndarray | None, rows: int = 32, cols: int = 50) -> dict[str, Any] | None:
    """A big array as a small picture: block means of it seen as 2-D (its last axis across),
    at most ``rows`` x ``cols`` cells, each -100..100 of the largest magnitude (None: NaN or Inf)."""
    if array is None:
        return None
    a = np.asarray(array, dtype=np.float64)
    a = a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])
    r_groups = np.array_split(np.arange(a.shape[0]), min(rows, a.shape[0]))
    c_groups = np.array_split(np.arange(a.shape[1]), min(cols, a.shape[1]))
    finite = a[np.isfinite(a)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    cells: list[int | None] = []
    with np.errstate(all="ignore"):
        for r in r_groups:
            for c in c_groups:
                block = a[np.ix_(r, c)]
                if not np.isfinite(block).all():
                    cells.append(None)
                    continue
                mean = float(block.mean())
                cells.append(int(round(100 * mean / scale)) if scale else 0)
    return {"rows": len(r_groups), "cols": len(c_groups), "cells": cells, "scale": number(scale, 4)}


def shape_text(shape: Shape) -> str:
    """(64, 100); a scalar is ()."""
    return str(tuple(shape))
