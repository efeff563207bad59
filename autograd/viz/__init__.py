"""Pictures of the graph: draw, save, explain, page. They replay the graph; never change it.

* ``draw(loss, params)`` -> ``graphviz.Digraph`` (shows itself in Jupyter)
* ``save(loss, "graph.svg", params)`` -> .svg / .png / .pdf / .dot by suffix
* ``explain(loss, params)`` -> the backward pass as text, op by op
* ``page(loss, "backward.html", params)`` -> a self-contained page that steps through it
* ``trace(loss, params)`` -> the replayed graph with every value and gradient (what the others use)

Importing this package needs only numpy. ``draw`` and ``save`` need the graphviz Python
package (``pip install graphviz``) and, for pictures, a renderer: Graphviz's ``dot`` program
(``apt-get install graphviz`` / ``brew install graphviz``) or pygraphviz, whose wheels bring
Graphviz with them (both come with ``pip install -e ".[viz]"``); ``explain`` and ``page``
work without either. Values and gradients are recomputed from the leaves' current values.
"""

from .dot import GraphvizNotFound, draw
from .explain import explain
from .files import RenderFailed, save
from .page import page
from .replay import Trace, trace

__all__ = ["GraphvizNotFound", "RenderFailed", "Trace", "draw", "explain", "page", "save", "trace"]
