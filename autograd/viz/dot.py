"""The graph as a Graphviz picture: ``draw`` builds it, ``save`` writes .svg/.png/.pdf/.dot.

Tensors are boxes (name, shape and dtype, value, grad; a single number shows no shape or
dtype), ops are badges with the number of the step in which backward visits them (1 =
first); a literal number is drawn inside its op (``* 2``, ``** 3``), not as a box. Arrows
point the way the forward pass went; where the order of an op's inputs matters they are
labelled 1st, 2nd. A dashed red arrow marks a broadcast: the gradient that came back along
it was summed to the input's smaller shape. A grey arrow carries no gradient. With
``chain=True`` every arrow that carries a gradient shows its chain-rule step.

The ``graphviz`` Python package builds the DOT text; Graphviz's ``dot`` program turns it
into a picture. Both are optional: they are imported or run only when needed here.
Every user string (tensor and parameter names) goes through :func:`escape`.
"""

from __future__ import annotations

import html
import re
import shutil
from typing import TYPE_CHECKING, Any

from .replay import (
    CONSTANT,
    INTERMEDIATE,
    LEAF,
    PARAMETER,
    InputEdge,
    OpInfo,
    TensorInfo,
    Trace,
    describe,
    has_nonfinite,
    shape_text,
    summarize,
    trace,
)
from .rules import chain as chain_step
from .rules import folded, shown_options

if TYPE_CHECKING:
    import graphviz

    from ..tensor import Tensor

# Fill colours, shared with the page and the fallback layout.
FILL = {
    PARAMETER: "#c8e6c9",
    LEAF: "#bbdefb",
    CONSTANT: "#eeeeee",
    INTERMEDIATE: "#ffffff",
    "output": "#ffe0b2",
    "op": "#fff3c4",
}
LEGEND = [
    (PARAMETER, "parameter"),
    (LEAF, "leaf (requires grad)"),
    (CONSTANT, "constant (no grad)"),
    (INTERMEDIATE, "intermediate"),
    ("output", "output"),
]
LEGEND_NOTES = [
    "numbered op: n-th visited by backward",
    "dashed red: grad summed to a smaller shape",
    "grey arrow: no gradient flows",
    "red border: NaN or Inf inside",
]
RANKDIRS = ("TB", "LR", "BT", "RL")
REDUCED_COLOUR = "#c62828"
NONFINITE_COLOUR = "#d50000"
NO_GRAD_COLOUR = "#b0b0b0"
FONT = "Helvetica"

INSTALL_HINT = (
    "`pip install pygraphviz` (its wheels bring Graphviz with them) or install Graphviz's dot "
    "program (Debian/Ubuntu: `sudo apt-get install graphviz`, macOS: `brew install graphviz`, "
    "conda: `conda install -c conda-forge graphviz`)"
)


class GraphvizNotFound(RuntimeError):
    """No Graphviz renderer (``dot`` on PATH or pygraphviz), so no picture can be rendered."""


# ----------------------------------------------------------------------------- text of the nodes


def escape(text: str) -> str:
    """``text`` safe inside a Graphviz HTML-like label (and so in the SVG made from it).

    ``& < > "`` become entities, so a name cannot close the label or start markup; a
    backslash is doubled, or Graphviz would read ``\\N``, ``\\G`` as its own escapes;
    control characters (newlines too) become spaces.
    """
    text = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in str(text))
    return html.escape(text, quote=True).replace("&#x27;", "'").replace("\\", "\\\\")


def tensor_classes(info: TensorInfo) -> str:
    """The SVG classes of a tensor's node: "tensor leaf", "tensor intermediate output nonfinite"."""
    classes = f"tensor {info.kind}"
    if info.is_output:
        classes += " output"
    if border(info) == NONFINITE_COLOUR:
        classes += " nonfinite"
    return classes


def fill(info: TensorInfo) -> str:
    return FILL["output"] if info.is_output else FILL[info.kind]


def grad_text(info: TensorInfo, precision: int | None = None) -> str:
    """A box's grad line: ``grad 138.8338``, or ``grad (no grad)``."""
    return f"grad   {summarize(info.grad, precision=precision) if info.requires_grad else '(no grad)'}"


def tensor_lines(info: TensorInfo, precision: int | None = None, grad_line: str | None = None) -> list[str]:
    """The lines of a tensor's box: name, shape and dtype (not for a single number), value,
    grad (the grad always last). ``grad_line`` replaces the grad line (the page pads it)."""
    lines = [info.name]
    if info.shape != ():
        lines.append(f"{shape_text(info.shape)} {info.dtype}")
    lines.append(f"value  {summarize(info.value, precision=precision)}")
    lines.append(grad_text(info, precision) if grad_line is None else grad_line)
    return lines


def option_text(op: OpInfo, width: int = 40, tr: Trace | None = None) -> str:
    """What an op's badge says under its name: its literal (``* 2``, ``** 3``) and its plain
    arguments, shortened (``axis=1``)."""
    parts = []
    literal = folded(tr, op) if tr is not None else None
    if literal is not None:
        parts.append(literal)
    options = shown_options(op)
    if op.name == "PowScalar" and literal is not None:
        options = {}
    if options:
        parts.append(", ".join(f"{key}={describe(value)}" for key, value in options.items()))
    text = "  ".join(parts)
    return text if len(text) <= width else text[: width - 3] + "..."


def edge_label(tr: Trace, op: OpInfo, edge: InputEdge, chain: bool = False, precision: int | None = None) -> list[str]:
    """What an input arrow says: 1st/2nd where the op's input order matters, any sum, and with
    ``chain`` the chain-rule step (``× 2 = 166.6006``)."""
    parts = []
    if edge.label:
        parts.append(edge.label)
    if edge.reduced_from is not None:
        parts.append(f"sum to {shape_text(tr.tensor(edge.source).shape)}")
    if chain and edge.term is not None and op.upstream is not None:
        parts.append(chain_label(tr, op, edge, precision))
    return parts


def chain_label(tr: Trace, op: OpInfo, edge: InputEdge, precision: int | None = None) -> str:
    """The chain rule on an arrow: ``83.3 × 2 = 166.6`` for an elementwise op on small
    tensors, else the rule with its shapes (``upstream @ w2^T: (4, 2) @ (2, 5) = (4, 5)``)."""
    step = chain_step(tr, op, edge, tr.labels(), precision)
    return step.product if step.product and "elementwise" not in step.product else step.rule


def border(info: TensorInfo) -> str:
    """Red around a tensor whose value or grad holds a NaN or an Inf, else grey."""
    return NONFINITE_COLOUR if has_nonfinite(info.value) or has_nonfinite(info.grad) else "#555555"


# ----------------------------------------------------------------------------- the Digraph


def _graphviz() -> Any:
    """The graphviz package, imported only when a picture is asked for."""
    try:
        import graphviz
    except ImportError as err:
        raise ImportError(
            "autograd.viz needs the graphviz Python package to draw: pip install graphviz "
            f"(and to render pictures, {INSTALL_HINT})"
        ) from err
    return graphviz


def draw(
    t: Tensor,
    params: Any = None,
    size: str | None = None,
    rankdir: str = "TB",
    precision: int | None = None,
    chain: bool = False,
) -> graphviz.Digraph:
    """The graph behind ``t`` as a ``graphviz.Digraph`` that shows itself in Jupyter.

    ``params``: a Module (``named_parameters()``) or ``{name: Tensor}`` to label parameters.
    ``size``: Graphviz's largest drawing size in inches, e.g. ``"10,14"`` to fit a notebook.
    ``rankdir``: "TB" (top to bottom, the default) or "LR" (left to right, as micrograd
    draws). ``precision``: significant digits of the numbers (default 7 for single
    numbers, 4 for arrays). ``chain``: label each arrow with its chain-rule step.
    Values and grads come from replaying the graph with the leaves' *current* values
    (see :mod:`autograd.viz.replay`), so they are there even after ``loss.backward()``.

    In a notebook it is drawn by Graphviz's ``dot`` program, or by pygraphviz without it,
    or, if neither is here or Graphviz fails on the graph, by the built-in layout (as
    :func:`~autograd.viz.save` does for .svg).
    """
    if size is not None:
        size = _checked_size(size)
    tr = trace(t, params)
    graph = to_digraph(tr, rankdir=rankdir, precision=precision, chain=chain, cls=_drawing_class())
    graph.trace = tr
    if size is not None:
        graph.attr(size=size)
    return graph


_DRAWING: list[type] = []


def _drawing_class() -> type:
    """``Drawing``: a ``graphviz.Digraph`` that renders itself for a notebook through the same
    fallbacks as ``save``, so it shows up where only pygraphviz (or nothing) is installed."""
    if _DRAWING:
        return _DRAWING[0]
    graphviz = _graphviz()

    class Drawing(graphviz.Digraph):  # type: ignore[misc, name-defined]
        """A Digraph that displays itself with dot, else pygraphviz, else the built-in layout."""

        trace: Trace | None = None

        def _repr_image_svg_xml(self) -> str:
            return display_svg(self, self.trace)

        def _repr_svg_(self) -> str:
            return display_svg(self, self.trace)

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, str]:
            return {"image/svg+xml": display_svg(self, self.trace)}

    _DRAWING.append(Drawing)
    return Drawing


def display_svg(graph: graphviz.Digraph, tr: Trace | None) -> str:
    """The SVG a notebook shows: Graphviz's (dot or pygraphviz), else the built-in layout."""
    try:
        return render_svg(graph)
    except Exception:  # noqa: BLE001 - no renderer, or Graphviz failed on this graph: draw it ourselves
        if tr is None:
            raise
        from . import layout

        return layout.svg(tr)


_SIZE = re.compile(r"\d+(\.\d+)?(,\d+(\.\d+)?)?!?")


def _checked_size(size: Any) -> str:
    """``size`` as Graphviz reads it ("10,14", "7.5", "10,14!"), or a ValueError: it reaches
    the DOT text, so nothing else may pass."""
    if isinstance(size, (int, float)) and not isinstance(size, bool) and size > 0:
        size = f"{size:g}"
    if not isinstance(size, str) or not _SIZE.fullmatch(size):
        raise ValueError(
            f'draw: size must be inches as Graphviz reads them, like "10,14" (width,height), "7.5" '
            f'or "10,14!"; got {size!r}'
        )
    return size


LABEL_LIMIT = 80  # characters of a name shown in a box; the full name is its tooltip (and in the page's panel)
TOOLTIP_LIMIT = 2000


def short(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with "..." (Graphviz fails on labels of ~16k characters)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _checked_rankdir(rankdir: Any) -> str:
    if rankdir not in RANKDIRS:
        raise ValueError(f'draw: rankdir must be one of {RANKDIRS} ("LR": left to right), not {rankdir!r}')
    return str(rankdir)


def checked_precision(precision: Any) -> int | None:
    """None, or a number of significant digits from 1 to 17."""
    if precision is None:
        return None
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"precision must be a number of significant digits from 1 to 17, not {precision!r}")
    return precision


def to_digraph(
    tr: Trace,
    rankdir: str = "TB",
    precision: int | None = None,
    chain: bool = False,
    grad_lines: dict[str, str] | None = None,
    cls: type | None = None,
    legend: bool = True,
) -> graphviz.Digraph:
    """Build the Digraph of a trace: node ids are the trace's ids (t1.., op1..); literal
    numbers get no node (their op shows them). ``grad_lines``: the text of some boxes' grad
    lines. ``legend``: the title and the key of the colours (the page shows its own)."""
    graphviz = _graphviz()
    rankdir = _checked_rankdir(rankdir)
    precision = checked_precision(precision)
    g = (cls or graphviz.Digraph)("autograd")
    g.attr(rankdir=rankdir, nodesep="0.25", ranksep="0.3", fontname=FONT, bgcolor="white")
    g.attr("node", fontname=FONT, fontsize="11")
    g.attr("edge", fontname=FONT, fontsize="10", arrowsize="0.7")
    root = tr.tensor(tr.output)
    if legend:
        g.attr(
            label=f"<<b>{escape(short(root.name))}</b>: {len(tr.ops)} ops, numbered in backward order>", labelloc="t"
        )

    grad_lines = grad_lines or {}
    for info in tr.tensors.values():
        if info.literal:
            continue
        name, *rest = (escape(short(line)) for line in tensor_lines(info, precision, grad_lines.get(info.id)))
        body = '<br align="left"/>'.join([f"<b>{name}</b>", *rest]) + '<br align="left"/>'
        g.node(
            info.id,
            label=f"<{body}>",
            tooltip=graphviz.nohtml(escape(short(info.name, TOOLTIP_LIMIT))),  # a quoted string, never HTML
            id=info.id,
            shape="box",
            style="rounded,filled",
            fillcolor=fill(info),
            color=border(info),
            penwidth="2" if info.is_output or border(info) == NONFINITE_COLOUR else "1",
            margin="0.1,0.05",
            **{"class": tensor_classes(info)},
        )
    for op in tr.ops:
        name = f"<b>{escape(short(op.name))}</b>"
        options = option_text(op, tr=tr)
        if options:
            name += f'<br/><font point-size="10">{escape(options)}</font>'
        rows = f'<tr><td bgcolor="#5d4037"><font color="white"><b>{op.step}</b></font></td><td>{name}</td></tr>'
        g.node(
            op.id,
            label=f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="3" style="rounded" '
            f'bgcolor="{FILL["op"]}" color="#8d6e00">{rows}</table>>',
            id=op.id,
            shape="plain",
            **{"class": f"op step-{op.step}"},
        )

    count = 0
    for op in sorted(tr.ops, key=lambda o: -o.step):  # forward order reads best in the DOT text
        for edge in op.inputs:
            if tr.tensor(edge.source).literal:
                continue
            count += 1
            attrs = {"id": f"e{count}", "class": f"input of-{op.id} from-{edge.source}"}
            if not edge.needs_grad:
                attrs["color"] = NO_GRAD_COLOUR
                attrs["class"] += " nograd"
            if edge.reduced_from is not None:
                attrs.update(style="dashed", color=REDUCED_COLOUR, fontcolor=REDUCED_COLOUR, penwidth="1.5")
                attrs["class"] += " reduced"
            label = edge_label(tr, op, edge, chain, precision)
            if label:
                attrs["label"] = "<" + "<br/>".join(escape(short(part)) for part in label) + ">"
            g.edge(edge.source, op.id, **attrs)
        count += 1
        g.edge(op.id, op.output, id=f"e{count}", **{"class": f"output of-{op.id}"})

    if legend:
        g.node("legend", label=_legend_label(), shape="plain", id="legend", **{"class": "legend"})
    return g


def _legend_label() -> str:
    rows = "".join(
        f'<tr><td bgcolor="{FILL[kind]}" border="1" width="14"> </td><td align="left">{escape(text)}</td></tr>'
        for kind, text in LEGEND
    )
    notes = "".join(
        f'<tr><td colspan="2" align="left"><font point-size="10">{escape(note)}</font></td></tr>'
        for note in LEGEND_NOTES
    )
    return (
        '<<table border="0" cellborder="0" cellspacing="2" cellpadding="1">'
        f'<tr><td colspan="2" align="left"><b>legend</b></td></tr>{rows}{notes}</table>>'
    )


# ----------------------------------------------------------------------------- rendering and saving


def dot_available() -> bool:
    """True if a Graphviz renderer is here: the ``dot`` program on PATH, or pygraphviz."""
    return shutil.which("dot") is not None or _pygraphviz() is not None


def _pygraphviz() -> Any:
    """pygraphviz, whose wheels bundle Graphviz itself (``pip install pygraphviz``), or None."""
    try:
        import pygraphviz
    except ImportError:
        return None
    return pygraphviz


def render(source: str, fmt: str) -> bytes:
    """Render DOT text to ``fmt`` (svg, png, pdf): with ``dot`` if on PATH, else pygraphviz."""
    if shutil.which("dot") is not None:
        import graphviz

        return graphviz.Source(source).pipe(format=fmt)
    pygraphviz = _pygraphviz()
    if pygraphviz is not None:
        return pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")
    raise GraphvizNotFound(f"no Graphviz renderer here, so no {fmt} can be made: {INSTALL_HINT}")


def render_svg(graph: graphviz.Digraph) -> str:
    """The SVG text of a Digraph."""
    return render(graph.source, "svg").decode("utf-8")
