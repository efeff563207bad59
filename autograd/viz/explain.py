"""The backward pass as text, one entry per op in the order backward visits them.

Each entry says what the op received (dL/d(its output)), the local rule it applies (the
first line of the op's docstring in ``autograd/ops.py``), and what it sends to each input,
with the shapes and any broadcast sum the engine does. A tensor used more than once gets
one contribution per use; the entry where its total is used shows them added up term by
term. The last entry lists each leaf's gradient.

``entries`` gives the structured steps (the interactive page shows them one by one);
``explain`` renders them for a terminal: coloured only on a TTY and never with NO_COLOR.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ..engine import summed_axes
from .replay import CONSTANT, OpInfo, TensorInfo, Trace, describe, shape_text, summarize, trace

if TYPE_CHECKING:
    from ..tensor import Tensor


@dataclass
class Entry:
    """One step of the walk: 0 is the start, 1..N the ops in backward order, N+1 the leaves."""

    step: int
    title: str
    lines: list[str]
    op: str | None = None  # the op's id, for ops


def entries(tr: Trace) -> list[Entry]:
    """The start, then each op in the order backward visits it, then the leaves' gradients."""
    names = tr.labels()
    root = tr.tensor(tr.output)
    seed = "ones of its shape (it is not a scalar)" if tr.seeded_with_ones else "1"
    start = Entry(
        0,
        f"start: d{names[root.id]}/d{names[root.id]} = {seed}",
        [
            f"Backward starts at {names[root.id]} {shape_text(root.shape)} with the gradient {seed},",
            f"then visits the {len(tr.ops)} ops in the order numbered in the picture. Each op turns the",
            "gradient of its output into gradients for its inputs by its local rule (chain rule).",
        ],
    )
    if not root.requires_grad:
        start.title = f"{names[root.id]} does not require grad: there is no backward pass"
        start.lines = [
            "No input of the ops that made it has requires_grad=True, or it was made under no_grad().",
        ]
        return [start]
    steps = [_op_entry(tr, op, names) for op in tr.ops]
    return [start, *steps, _leaf_entry(tr, names)]


def _op_entry(tr: Trace, op: OpInfo, names: dict[str, str]) -> Entry:
    out = tr.tensor(op.output)
    args = ", ".join(f"{e.arg_name}={names[e.source]}" for e in op.inputs)
    options = "".join(f", {key}={describe(value)}" for key, value in op.options.items())
    title = f"step {op.step} of {len(tr.ops)}: {op.name}({args}{options}) -> {names[out.id]}"
    lines = [f"rule      {op.rule}"]
    if op.upstream is None:
        lines.append("no gradient reached this op: backward skips it")
        return Entry(op.step, title, lines, op.id)
    lines += _received(tr, out, names, f"upstream  d{_loss(tr, names)}/d{names[out.id]}")
    for edge in op.inputs:
        target = tr.tensor(edge.source)
        head = f"to {names[target.id]} (as {edge.arg_name})"
        if not edge.needs_grad:
            lines.append(f"{head}: needs no gradient ({_why_no_grad(target)})")
            continue
        if edge.term is None:
            lines.append(f"{head}: no gradient (backward returned None)")
            continue
        term = edge.term
        number = next(i for i, t in enumerate(target.terms, start=1) if t is term)
        note = f"  (term {number} of {len(target.terms)})" if len(target.terms) > 1 else ""
        if edge.reduced_from is not None:
            axes = summed_axes(edge.reduced_from, target.shape)
            lines.append(
                f"{head}: {shape_text(edge.reduced_from)} summed over {_axes_text(axes)} "
                f"-> {shape_text(target.shape)} (un-broadcast){note}"
            )
            lines.append(f"    = {summarize(term.grad)}")
        else:
            lines.append(f"{head} {shape_text(target.shape)}: {summarize(term.grad)}{note}")
    return Entry(op.step, title, lines, op.id)


def _received(tr: Trace, info: TensorInfo, names: dict[str, str], head: str) -> list[str]:
    """``head = grad``, or, for a tensor used more than once, its contributions added up term by term."""
    if len(info.terms) <= 1:
        return [f"{head} {shape_text(info.shape)} = {summarize(info.grad)}"]
    lines = [f"{head} {shape_text(info.shape)} is the sum of {len(info.terms)} contributions:"]
    for i, term in enumerate(info.terms):
        sign = " " if i == 0 else "+"
        source = f"from step {term.step} ({tr.op(term.op).name}, as {term.arg_name})"
        lines.append(f"  {sign} {source}: {summarize(term.grad)}")
    lines.append(f"  = {summarize(info.grad)}")
    return lines


def _leaf_entry(tr: Trace, names: dict[str, str]) -> Entry:
    leaves = [t for t in tr.tensors.values() if t.producer is None and t.requires_grad]
    lines = []
    for leaf in leaves:
        if leaf.grad is None:
            lines.append(f"{names[leaf.id]} {shape_text(leaf.shape)}: no gradient reached it")
        else:
            lines += _received(tr, leaf, names, f"d{_loss(tr, names)}/d{names[leaf.id]}")
    if not lines:
        lines.append("no leaf requires grad")
    return Entry(len(tr.ops) + 1, "done: the leaves' gradients (what backward() adds to .grad)", lines)


def _loss(tr: Trace, names: dict[str, str]) -> str:
    return names[tr.output]


def _axes_text(axes: tuple[int, ...]) -> str:
    """axis 0, or axes (0, 2)."""
    return f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"


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


NONFINITE = re.compile(r"\b(nan|inf)\b", re.IGNORECASE)  # as summaries and numpy print them
BOLD, DIM, CYAN, RED, RESET = "\033[1m", "\033[2m", "\033[36m", "\033[31m", "\033[0m"


def render(steps: list[Entry], color: bool = False) -> str:
    """The entries as plain text, or with ANSI colours: bold titles, dim rules, red NaN/Inf."""

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if color else text

    out = []
    for entry in steps:
        out.append(paint(entry.title, BOLD + CYAN if entry.op else BOLD))
        for line in entry.lines:
            if line.startswith("rule"):
                line = paint(line, DIM)
            elif NONFINITE.search(line):
                line = paint(line, RED)
            out.append("    " + line)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def explain(t: Tensor, params: Any = None, color: bool | None = None) -> str:
    """The backward pass of ``t`` in visit order as text (see the module docstring).

    ``params`` names parameters, as in ``draw``. ``color``: None colours only when stdout is
    a terminal; NO_COLOR in the environment always turns colour off. Values come from
    replaying the graph with the leaves' current values (see :mod:`autograd.viz.replay`).
    """
    return render(entries(trace(t, params)), use_color(color))
