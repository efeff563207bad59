"""``save(t, path)``: the picture of a graph as a file (.svg, .png, .pdf or .dot).

Graphviz draws it when a renderer is here; if Graphviz fails on a graph, an .svg falls back to
the built-in layout (with a warning), and other formats raise :class:`RenderFailed`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout
from .dot import INSTALL_HINT, GraphvizNotFound, dot_available, draw, render
from .replay import trace

if TYPE_CHECKING:
    from ..tensor import Tensor


FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}


def save(
    t: Tensor,
    path: str | Path,
    params: Any = None,
    rankdir: str = "TB",
    precision: int | None = None,
    chain: bool = False,
) -> Path:
    """Write the picture of ``t``'s graph; the suffix picks the format: .svg, .png, .pdf or .dot.

    ``rankdir``, ``precision`` and ``chain`` are as in :func:`~autograd.viz.draw`.

    .dot (the Graphviz text) needs only the graphviz Python package. The others need a
    renderer: Graphviz's ``dot`` program, or pygraphviz (``pip install pygraphviz``, which
    brings Graphviz with it). Without either, the .dot text is written next to ``path`` and
    :class:`GraphvizNotFound` says how to get the picture. Replay uses the leaves' current
    values (see :mod:`autograd.viz.replay`).
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"save: cannot tell the format from {path.name!r}; use one of {', '.join(FORMATS)}")
    graph = draw(t, params, rankdir=rankdir, precision=precision, chain=chain)
    if fmt == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return path
    if not dot_available():
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(graph.source, encoding="utf-8")
        raise GraphvizNotFound(
            f"could not write {path}: no Graphviz renderer here (neither the `dot` program "
            f"nor pygraphviz). The graph was saved as DOT text in {dot_path} instead. To get "
            f"the picture, `pip install pygraphviz` (it brings Graphviz with it) or "
            f"{INSTALL_HINT}, and call save again; or render that file anywhere Graphviz "
            f"runs: `dot -T{fmt} {dot_path} -o {path}`."
        )
    try:
        picture = render(graph.source, fmt)
    except Exception as err:  # noqa: BLE001 - Graphviz failed on this graph: say so, keep what can be kept
        if fmt != "svg":
            raise RenderFailed(f"save: Graphviz could not render {path.name} ({err}); save as .svg or .dot") from err
        warnings.warn(
            f"save: Graphviz could not render this graph ({type(err).__name__}); {path.name} holds the "
            "built-in layout instead",
            RuntimeWarning,
            stacklevel=2,
        )
        picture = layout.svg(trace(t, params), precision, chain, rankdir=rankdir).encode("utf-8")
    path.write_bytes(picture)
    return path


class RenderFailed(RuntimeError):
    """Graphviz was found but failed on this graph (and no fallback exists for the format)."""
