"""A plain layered SVG of a trace, for when Graphviz's ``dot`` is not installed.

Not as tidy as ``dot``, but needs nothing: the page uses it as a fallback. Rows go
top-down in forward order (tensor row, op row, tensor row, ...); each leaf sits just
above the first op that uses it; a few sweeps down and up pull each node towards the
average position of its neighbours, keeping a row's nodes apart. The SVG has the same
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
from .replay import Trace

CHAR = 6.6  # width of one character of 11px monospace
LINE = 14  # line height
PAD = 6
GAP_X = 24
GAP_Y = 34
LEGEND_HEIGHT = 15 * len(LEGEND) + 10


class Box:
    """A node's place: centre x, top y, width, height."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.w = max(len(line) for line in lines) * CHAR + 2 * PAD
        self.h = len(lines) * LINE + 2 * PAD - 2
        self.x = 0.0
        self.y = 0.0


def _rows(tr: Trace, used_by: dict[str, list[str]]) -> list[list[str]]:
    """Node ids by row: ops in odd rows below their inputs, tensors in even rows."""
    row: dict[str, int] = {}
    for op in reversed(tr.ops):  # forward order: inputs are placed before the op
        op_row = 1 + max((row.get(e.source, 0) for e in op.inputs if e.source in row), default=0)
        row[op.id] = op_row
        row[op.output] = op_row + 1
    for tid, info in tr.tensors.items():  # leaves: just above the first op that uses them
        if info.producer is None and tid not in row:
            users = [row[op_id] for op_id in used_by.get(tid, [])]
            row[tid] = min(users) - 1 if users else 0
    rows: list[list[str]] = [[] for _ in range(max(row.values()) + 1)]
    for node_id in [*tr.tensors, *(op.id for op in reversed(tr.ops))]:
        rows[row[node_id]].append(node_id)
    return rows


def svg(tr: Trace) -> str:
    """The trace as SVG text (ids, classes and step badges as in the Graphviz picture)."""
    boxes: dict[str, Box] = {tid: Box([short(line) for line in tensor_lines(info)]) for tid, info in tr.tensors.items()}
    for op in tr.ops:
        boxes[op.id] = Box([short(f"{op.step}  {op.name}"), *([option_text(op)] if op.options else [])])
    feeds: dict[str, list[str]] = {op.id: [e.source for e in op.inputs] for op in tr.ops}
    feeds.update({op.output: [op.id] for op in tr.ops})

    used_by: dict[str, list[str]] = {}
    for node_id, sources in feeds.items():
        for source in sources:
            used_by.setdefault(source, []).append(node_id)
    rows = _rows(tr, used_by)
    _place(rows, boxes, feeds, used_by)

    y = 40.0 + LEGEND_HEIGHT  # the title and the legend come first
    for ids in rows:
        for node_id in ids:
            boxes[node_id].y = y
        y += max((boxes[i].h for i in ids), default=0) + GAP_Y
    height = y
    width = max([240.0] + [b.x + b.w / 2 + 10 for b in boxes.values()])

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<g id="graph0" class="graph">',
        f'<text x="10" y="20" font-weight="bold">{escape(short(tr.tensor(tr.output).name))}: '
        f"{len(tr.ops)} ops, numbered in backward order</text>",
    ]
    count = 0
    for op in reversed(tr.ops):
        for edge in op.inputs:
            count += 1
            colour = REDUCED_COLOUR if edge.reduced_from else ("#333" if edge.needs_grad else NO_GRAD_COLOUR)
            classes = f"input of-{op.id} from-{edge.source}" + (" reduced" if edge.reduced_from else "")
            classes += "" if edge.needs_grad else " nograd"
            label = " ".join(edge_label(tr, op, edge))
            ends = (edge.source, op.id)
            parts.append(_edge(f"e{count}", classes, ends, boxes, colour, label, bool(edge.reduced_from)))
        count += 1
        parts.append(_edge(f"e{count}", f"output of-{op.id}", (op.id, op.output), boxes, "#333", "", False))
    for tid, info in tr.tensors.items():
        parts.append(_node(tid, f"node {tensor_classes(info)}", boxes[tid], fill(info), border(info)))
    for op in tr.ops:
        parts.append(_node(op.id, f"node op step-{op.step}", boxes[op.id], FILL["op"], "#8d6e00"))
    parts.append(_legend())
    parts.append("</g></svg>")
    return "\n".join(parts)


def _place(
    rows: list[list[str]], boxes: dict[str, Box], feeds: dict[str, list[str]], used_by: dict[str, list[str]]
) -> None:
    """Set each box's centre x: a few sweeps down and up, each node drawn towards its neighbours."""
    for ids in rows:  # start: packed left to right
        _pack(ids, boxes, {i: 0.0 for i in ids})
    for sweep in range(6):
        down = sweep % 2 == 0
        for ids in rows if down else reversed(rows):
            wanted = {}
            for i in ids:
                near = (feeds if down else used_by).get(i) or (used_by if down else feeds).get(i, [])
                wanted[i] = sum(boxes[n].x for n in near) / len(near) if near else boxes[i].x
            _pack(ids, boxes, wanted)
    shift = 10 - min(b.x - b.w / 2 for b in boxes.values())
    for box in boxes.values():
        box.x += shift


def _pack(ids: list[str], boxes: dict[str, Box], wanted: dict[str, float]) -> None:
    """Put a row's boxes in order of their wanted x, no overlaps, as close to it as the row allows."""
    ids.sort(key=lambda i: wanted[i])
    x = -1e18
    for i in ids:
        box = boxes[i]
        box.x = max(wanted[i], x + box.w / 2)
        x = box.x + box.w / 2 + GAP_X
    drift = sum(boxes[i].x - wanted[i] for i in ids) / max(len(ids), 1)
    for i in ids:  # pushing right moved the row; move it back by the average
        boxes[i].x -= drift


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
    edge_id: str, classes: str, ends: tuple[str, str], boxes: dict[str, Box], colour: str, label: str, dashed: bool
) -> str:
    a, b = boxes[ends[0]], boxes[ends[1]]
    x1, y1, x2, y2 = a.x, a.y + a.h, b.x, b.y
    mid = (y1 + y2) / 2
    dash = ' stroke-dasharray="5,3"' if dashed else ""
    out = [
        f'<g id="{edge_id}" class="edge {classes}"><title>{ends[0]}-&gt;{ends[1]}</title>',
        f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}" fill="none" '
        f'stroke="{colour}"{dash} marker-end="url(#arrow)"/>',
    ]
    if label:
        x = (x1 + x2) / 2 + 4
        out.append(f'<text x="{x:.1f}" y="{mid:.1f}" font-size="9" fill="{colour}">{escape(label)}</text>')
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
