"""The backward pass as text, one entry per op in the order backward visits them.

Each entry says what the op computed (``t12 = a * b = -8``), the local rule it applies
(the first line of the op's docstring), the gradient it received (dL/d(its output)), and
the chain rule for each input with its numbers: the local derivative's rule and value,
and the product that makes the input's share (``d(a * b)/da = b = 2;  83.30029 × 2 =
166.6006 -> a``); for a matmul or a sum, the shapes of each factor instead. A tensor used
more than once gets one contribution per use, and its running sum is shown as each one
arrives ("a: 3 of 5 terms in, running sum 305.4"); the entry where its total is used
adds them up term by term. The last entry lists each leaf's gradient.

``entries`` gives the structured steps (the interactive page shows them one by one);
``explain`` renders them for a terminal: wrapped to its width, coloured only on a TTY and
never with NO_COLOR.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from .replay import CONSTANT, OpInfo, TensorInfo, Trace, describe, shape_text, summarize, trace
from .rules import chain, derivative, formula, operand, shown_options

if TYPE_CHECKING:
    from ..tensor import Tensor


@dataclass
class Entry:
    """One step of the walk: 0 is the start, 1..N the ops in backward order, N+1 the leaves."""

    step: int
    title: str
    lines: list[str]
    op: str | None = None  # the op's id, for ops
    edges: dict[int, list[str]] = field(default_factory=dict)  # input position -> its chain-rule lines


def entries(tr: Trace, precision: int | None = None) -> list[Entry]:
    """The start, then each op in the order backward visits it, then the leaves' gradients.

    ``precision``: significant digits (default 7 for single numbers, 4 for arrays)."""
    names = tr.labels()
    root = tr.tensor(tr.output)
    seed = summarize(root.grad, precision=precision) if root.grad is not None else "1"
    if tr.seeded_with_ones:
        seed = f"{seed} {shape_text(root.shape)} (ones: it is not a scalar)"
    loss = names[root.id]
    start = Entry(
        0,
        f"start: {derivative(loss, loss)} = {seed}",
        [
            f"Backward starts at {loss}{_shape(root)} with the gradient {seed}, then visits the "
            f"{len(tr.ops)} ops in the order numbered in the picture. Each op turns the gradient of "
            "its output into gradients for its inputs by its local rule (the chain rule).",
        ],
    )
    if not root.requires_grad:
        start.title = f"{loss} does not require grad: there is no backward pass"
        start.lines = [
            "No input of the ops that made it has requires_grad=True, or it was made under no_grad().",
        ]
        return [start]
    steps = [_op_entry(tr, op, names, precision) for op in tr.ops]
    return [start, *steps, _leaf_entry(tr, names, precision)]


def _shape(info: TensorInfo) -> str:
    """ " (4, 5)" for a tensor, nothing for a single number."""
    return "" if info.shape == () else f" {shape_text(info.shape)}"


def call_text(tr: Trace, op: OpInfo, names: dict[str, str]) -> str:
    """``Mul(a, b)``, ``Mul(3, d)``, ``Sum(sq, axis=0)``: the inputs by name, literals by value."""
    args = [operand(tr, e.source, names) for e in op.inputs]
    args += [f"{key}={describe(value)}" for key, value in shown_options(op).items()]
    return f"{op.name}({', '.join(args)})"


def _op_entry(tr: Trace, op: OpInfo, names: dict[str, str], precision: int | None) -> Entry:
    out = tr.tensor(op.output)
    title = f"step {op.step} of {len(tr.ops)}: {call_text(tr, op, names)} -> {names[out.id]}"
    lines = [f"rule      {op.rule}"]
    math = formula(tr, op, names)
    value = summarize(out.value, precision=precision)
    if math is not None:
        lines.append(f"forward   {names[out.id]} = {math} = {value}")
    else:
        lines.append(f"forward   {names[out.id]}{_shape(out)} = {value}")
    entry = Entry(op.step, title, lines, op.id)
    if op.upstream is None:
        lines.append("no gradient reached this op: backward skips it")
        return entry
    lines += _received(tr, out, names, f"upstream  {derivative(names[tr.output], names[out.id])}", precision)
    for edge in op.inputs:
        target = tr.tensor(edge.source)
        if target.literal:
            continue  # a literal number: part of the op, needs no gradient
        name = names[target.id] + (f" ({edge.label})" if edge.label else "")
        if not edge.needs_grad:
            lines.append(f"{name} needs no gradient ({_why_no_grad(target)})")
            continue
        if edge.term is None:
            lines.append(f"{name}: no gradient (backward returned None)")
            continue
        edge_lines = chain(tr, op, edge, names, precision).lines()
        if edge.label:
            edge_lines[-1] += f" ({edge.label})"
        if len(target.terms) > 1:
            edge_lines.append("  " + _so_far(target, edge.term, names, precision))
        entry.edges[edge.position] = edge_lines
        lines += edge_lines
    return entry


def _so_far(target: TensorInfo, term: Any, names: dict[str, str], precision: int | None) -> str:
    """``a: 3 of 5 terms in, running sum 305.4`` (or ``... in: its gradient is ...`` at the last)."""
    number = next(i for i, t in enumerate(target.terms, start=1) if t is term)
    total = summarize(target.running_sum(term.step), precision=precision)
    if number == len(target.terms):
        return f"{names[target.id]}: {number} of {number} terms in: its gradient is {total}"
    return f"{names[target.id]}: {number} of {len(target.terms)} terms in, running sum {total}"


def _received(tr: Trace, info: TensorInfo, names: dict[str, str], head: str, precision: int | None) -> list[str]:
    """``head = grad``, or, for a tensor used more than once, its contributions added up term by term."""
    if len(info.terms) <= 1:
        return [f"{head}{_shape(info)} = {summarize(info.grad, precision=precision)}"]
    lines = [f"{head}{_shape(info)} is the sum of {len(info.terms)} contributions:"]
    for i, term in enumerate(info.terms):
        sign = " " if i == 0 else "+"
        label = tr.op(term.op).inputs[term.position].label if term.position < len(tr.op(term.op).inputs) else None
        source = f"from step {term.step} ({tr.op(term.op).name}{', ' + label if label else ''})"
        lines.append(f"  {sign} {source}: {summarize(term.grad, precision=precision)}")
    lines.append(f"  = {summarize(info.grad, precision=precision)}")
    return lines


def _leaf_entry(tr: Trace, names: dict[str, str], precision: int | None) -> Entry:
    leaves = [t for t in tr.tensors.values() if t.producer is None and t.requires_grad]
    lines = []
    for leaf in leaves:
        if leaf.grad is None:
            lines.append(f"{names[leaf.id]}{_shape(leaf)}: no gradient reached it")
        else:
            lines += _received(tr, leaf, names, derivative(names[tr.output], names[leaf.id]), precision)
    if not lines:
        lines.append("no leaf requires grad")
    return Entry(len(tr.ops) + 1, "done: the leaves' gradients (what backward() adds to .grad)", lines)


def _why_no_grad(info: TensorInfo) -> str:
    return "a constant" if info.kind == CONSTANT else "requires_grad is False"


# ----------------------------------------------------------------------------- terminal text


def use_color(color: bool | None = None, stream: IO[str] | None = None) -> bool:
    """Colour if asked (or, by default, if ``stream`` is a terminal), and never when NO_COLOR is set."""
    if os.environ.get("NO_COLOR"):
        return False
    if color is not None:
        return color
    stream = sys.stdout if stream is None else stream
    return bool(getattr(stream, "isatty", lambda: False)())


def terminal_width(width: int | None = None) -> int:
    """``width``, else the terminal's (COLUMNS if set, else 80 when it cannot be told); at least 40."""
    if width is None:
        width = shutil.get_terminal_size((80, 24)).columns
    return max(int(width), 40)


NONFINITE = re.compile(r"\b(nan|inf)\b", re.IGNORECASE)  # as summaries and numpy print them
BOLD, CYAN, GREEN, RED, RESET = "\033[1m", "\033[36m", "\033[32m", "\033[31m", "\033[0m"
INDENT = "    "


def wrap(line: str, width: int, indent: str = "") -> list[str]:
    """``line`` cut at spaces to ``width`` columns; continuation lines indented 4 more. A number or
    a name is split only if it alone is longer than a line."""
    body = KEEP_TOGETHER.sub(lambda m: m.group(1) + "\0", line.lstrip(" "))
    lead = indent + " " * (len(line) - len(line.lstrip(" ")))
    parts = textwrap.wrap(
        body,
        width=width,
        initial_indent=lead,
        subsequent_indent=lead + INDENT,
        break_on_hyphens=False,
        drop_whitespace=True,
    ) or [lead.rstrip()]
    return [part.replace("\0", " ") for part in parts]


KEEP_TOGETHER = re.compile(r"\b(min|max|mean|norm|all|of|x\d+|NaN|Inf) (?=\S)")  # "min 0.5" stays on one line


def render(steps: list[Entry], color: bool = False, width: int = 10_000) -> str:
    """The entries as plain text wrapped to ``width``, or with ANSI colours: bold titles, the
    chain-rule lines in green, red NaN/Inf. The rule lines (the math) are never dimmed."""

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if color else text

    out = []
    for entry in steps:
        for part in wrap(entry.title, width):
            out.append(paint(part, BOLD + CYAN if entry.op else BOLD))
        chain_lines = {line for lines in entry.edges.values() for line in lines}
        for line in entry.lines:
            code = RED if NONFINITE.search(line) else GREEN if line in chain_lines and "->" in line else ""
            for part in wrap(line, width, INDENT):
                out.append(paint(part, code) if code else part)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def explain(
    t: Tensor, params: Any = None, color: bool | None = None, width: int | None = None, precision: int | None = None
) -> str:
    """The backward pass of ``t`` in visit order as text (see the module docstring).

    ``params`` names parameters, as in ``draw``. ``color``: None colours only when stdout is
    a terminal; NO_COLOR in the environment always turns colour off. ``width``: the columns
    to wrap to (default: the terminal's, from ``shutil.get_terminal_size``, which reads
    COLUMNS). ``precision``: significant digits (default 7 for single numbers, 4 for
    arrays). Values come from replaying the graph with the leaves' current values (see
    :mod:`autograd.viz.replay`).
    """
    return render(entries(trace(t, params), precision), use_color(color), terminal_width(width))
