"""A plain layered SVG of a trace, for when Graphviz's ``dot`` is not installed.

Not as tidy as ``dot``, but needs nothing: the page uses it as a fallback. Rows go
top-down in forward order (tensor row, op row, tensor row, ...), or left to right with
``rankdir="LR"``; each leaf sits just above the first op that uses it; a few sweeps down
and up pull each node towards the average position of its neighbours, keeping a row's
nodes apart. Literal numbers are drawn inside their op, as in the Graphviz picture. The SVG has the same
structure as Graphviz's (``<g id="t3" class="node tensor ...">`` per node, ``<g
class="edge input of-op2 ...">`` per edge, with a ``<title>`` naming its ends), so the
page's script works with either.
"""

from __future__ import annotations

from html import escape

from .dot import (
    FILL,
    LEGEND,
    NO_GRAD_COLOUR,
    REDUCED_COLOUR,
    border,
    edge_label,
    fill,
    option_text,
    short,
    tensor_classes,
    tensor_lines,
)
from .replay import InputEdge, Trace

CHAR = 6.6  # width of one character of 11px monospace
LINE = 14  # line height
PAD = 6
GAP_X = 24
GAP_Y = 34
LEGEND_HEIGHT = 15 * len(LEGEND) + 10


class Box:
    """A node's place: centre x, top y, width, height; ``c`` is the centre across the rows
    (x top-down, y left to right) while the layout runs."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.w = max(len(line) for line in lines) * CHAR + 2 * PAD
        self.h = len(lines) * LINE + 2 * PAD - 2
        self.x = 0.0
        self.y = 0.0
        self.c = 0.0
        self.across = self.w  # its extent across the rows


def _rows(tr: Trace, used_by: dict[str, list[str]]) -> list[list[str]]:
    """Node ids by row: ops in odd rows below their inputs, tensors in even rows."""
    row: dict[str, int] = {}
    for op in reversed(tr.ops):  # forward order: inputs are placed before the op
        op_row = 1 + max((row.get(e.source, 0) for e in op.inputs if e.source in row), default=0)
        row[op.id] = op_row
        row[op.output] = op_row + 1
    for tid, info in tr.tensors.items():  # leaves: just above the first op that uses them
        if info.literal:
            continue
        if info.producer is None and tid not in row:
            users = [row[op_id] for op_id in used_by.get(tid, [])]
            row[tid] = min(users) - 1 if users else 0
    rows: list[list[str]] = [[] for _ in range(max(row.values()) + 1)]
    for node_id in [*(t for t in tr.tensors if t in row), *(op.id for op in reversed(tr.ops))]:
        rows[row[node_id]].append(node_id)
    return rows


def svg(
    tr: Trace,
    precision: int | None = None,
    chain: bool = False,
    grad_lines: dict[str, str] | None = None,
    rankdir: str = "TB",
    legend: bool = True,
) -> str:
    """The trace as SVG text (ids, classes and step badges as in the Graphviz picture).

    ``rankdir``: "TB" rows top-down, "LR" left to right (BT and RL are drawn as TB and LR).
    ``legend``: the title and the key of the colours (the page shows its own)."""
    grad_lines = grad_lines or {}
    horizontal = rankdir in ("LR", "RL")
    boxes: dict[str, Box] = {
        tid: Box([short(line) for line in tensor_lines(info, precision, grad_lines.get(tid))])
        for tid, info in tr.tensors.items()
        if not info.literal
    }
    for op in tr.ops:
        options = option_text(op, tr=tr)
        boxes[op.id] = Box([short(f"{op.step}  {op.name}"), *([options] if options else [])])
    for box in boxes.values():
        box.across = box.h if horizontal else box.w

    def drawn(edge: InputEdge) -> bool:  # literals are drawn inside their op
        return not tr.tensor(edge.source).literal

    feeds: dict[str, list[str]] = {op.id: [e.source for e in op.inputs if drawn(e)] for op in tr.ops}
    feeds.update({op.output: [op.id] for op in tr.ops})

    used_by: dict[str, list[str]] = {}
    for node_id, sources in feeds.items():
        for source in sources:
            used_by.setdefault(source, []).append(node_id)
    rows = _rows(tr, used_by)
    _place(rows, boxes, feeds, used_by)

    top = 40.0 + LEGEND_HEIGHT if legend else 10.0  # the title and the legend come first
    if horizontal:
        x = 10.0
        for ids in rows:
            widest = max((boxes[i].w for i in ids), default=0)
            for node_id in ids:
                box = boxes[node_id]
                box.x, box.y = x + widest / 2, top + box.c - box.h / 2
            x += widest + GAP_X * 2
    else:
        y = top
        for ids in rows:
            for node_id in ids:
                boxes[node_id].x, boxes[node_id].y = boxes[node_id].c, y
            y += max((boxes[i].h for i in ids), default=0) + GAP_Y
    height = max([top] + [b.y + b.h + GAP_Y for b in boxes.values()])
    width = max([240.0] + [b.x + b.w / 2 + 10 for b in boxes.values()])

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<g id="graph0" class="graph">',
    ]
    if legend:
        parts.append(
            f'<text x="10" y="20" font-weight="bold">{escape(short(tr.tensor(tr.output).name))}: '
            f"{len(tr.ops)} ops, numbered in backward order</text>"
        )
    count = 0
    for op in reversed(tr.ops):
        for edge in op.inputs:
            if not drawn(edge):
                continue
            count += 1
            colour = REDUCED_COLOUR if edge.reduced_from else ("#333" if edge.needs_grad else NO_GRAD_COLOUR)
            classes = f"input of-{op.id} from-{edge.source}" + (" reduced" if edge.reduced_from else "")
            classes += "" if edge.needs_grad else " nograd"
            label = " ".join(edge_label(tr, op, edge, chain, precision))
            ends = (edge.source, op.id)
            parts.append(_edge(f"e{count}", classes, ends, boxes, colour, label, bool(edge.reduced_from), horizontal))
        count += 1
        parts.append(_edge(f"e{count}", f"output of-{op.id}", (op.id, op.output), boxes, "#333", "", False, horizontal))
    for tid, info in tr.tensors.items():
        if tid in boxes:
            parts.append(_node(tid, f"node {tensor_classes(info)}", boxes[tid], fill(info), border(info)))
    for op in tr.ops:
        parts.append(_node(op.id, f"node op step-{op.step}", boxes[op.id], FILL["op"], "#8d6e00"))
    if legend:
        parts.append(_legend())
    parts.append("</g></svg>")
    return "\n".join(parts)


def _place(
    rows: list[list[str]], boxes: dict[str, Box], feeds: dict[str, list[str]], used_by: dict[str, list[str]]
) -> None:
    """Set each box's centre across the rows: a few sweeps down and up, each node drawn
    towards its neighbours."""
    for ids in rows:  # start: packed left to right
        _pack(ids, boxes, {i: 0.0 for i in ids})
    for sweep in range(6):
        down = sweep % 2 == 0
        for ids in rows if down else reversed(rows):
            wanted = {}
            for i in ids:
                near = (feeds if down else used_by).get(i) or (used_by if down else feeds).get(i, [])
                wanted[i] = sum(boxes[n].c for n in near) / len(near) if near else boxes[i].c
            _pack(ids, boxes, wanted)
    shift = 10 - min(b.c - b.across / 2 for b in boxes.values())
    for box in boxes.values():
        box.c += shift


def _pack(ids: list[str], boxes: dict[str, Box], wanted: dict[str, float]) -> None:
    """Put a row's boxes in order of their wanted place, no overlaps, as close to it as the row allows."""
    ids.sort(key=lambda i: wanted[i])
    c = -1e18
    for i in ids:
        box = boxes[i]
        box.c = max(wanted[i], c + box.across / 2)
        c = box.c + box.across / 2 + GAP_X
    drift = sum(boxes[i].c - wanted[i] for i in ids) / max(len(ids), 1)
    for i in ids:  # pushing on moved the row; move it back by the average
        boxes[i].c -= drift


def _node(node_id: str, classes: str, box: Box, colour: str, stroke: str) -> str:
    """A box with its lines of text, the first in bold."""
    left = box.x - box.w / 2
    out = [
        f'<g id="{node_id}" class="{classes}"><title>{node_id}</title>',
        f'<rect x="{left:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="6" '
        f'fill="{colour}" stroke="{stroke}"/>',
    ]
    for i, line in enumerate(box.lines):
        weight = ' font-weight="bold"' if i == 0 else ""
        out.append(
            f'<text x="{left + PAD:.1f}" y="{box.y + PAD + 10 + i * LINE:.1f}"{weight} '
            f'xml:space="preserve">{escape(line)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def _edge(
    edge_id: str,
    classes: str,
    ends: tuple[str, str],
    boxes: dict[str, Box],
    colour: str,
    label: str,
    dashed: bool,
    horizontal: bool = False,
) -> str:
    a, b = boxes[ends[0]], boxes[ends[1]]
    dash = ' stroke-dasharray="5,3"' if dashed else ""
    if horizontal:
        x1, y1, x2, y2 = a.x + a.w / 2, a.y + a.h / 2, b.x - b.w / 2, b.y + b.h / 2
        mid = (x1 + x2) / 2
        path = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        at = (mid + 2, (y1 + y2) / 2 - 3)
    else:
        x1, y1, x2, y2 = a.x, a.y + a.h, b.x, b.y
        mid = (y1 + y2) / 2
        path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}"
        at = ((x1 + x2) / 2 + 4, mid)
    out = [
        f'<g id="{edge_id}" class="edge {classes}"><title>{ends[0]}-&gt;{ends[1]}</title>',
        f'<path d="{path}" fill="none" stroke="{colour}"{dash} marker-end="url(#arrow)"/>',
    ]
    if label:
        out.append(f'<text x="{at[0]:.1f}" y="{at[1]:.1f}" font-size="10" fill="{colour}">{escape(label)}</text>')
    out.append("</g>")
    return "".join(out)


def _legend() -> str:
    """A small key under the title."""
    out = ['<g id="legend" class="legend">']
    x = 10
    for i, (kind, text) in enumerate(LEGEND):
        y = 42 + i * 15
        out.append(f'<rect x="{x:.0f}" y="{y - 10}" width="12" height="12" fill="{FILL[kind]}" stroke="#555"/>')
        out.append(f'<text x="{x + 18:.0f}" y="{y}">{escape(text)}</text>')
    out.append("</g>")
    return "".join(out)
