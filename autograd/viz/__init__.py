"""Pictures of the graph: draw, save, explain, page. They replay the graph; never change it.

* ``draw(loss, params)`` -> a ``graphviz.Digraph`` that shows itself in Jupyter
  (``rankdir="LR"``, ``precision=``, ``chain=True`` for the chain rule on every arrow)
* ``save(loss, "graph.svg", params)`` -> .svg / .png / .pdf / .dot by suffix
* ``explain(loss, params)`` -> the backward pass as text, op by op, the chain rule with its numbers
* ``page(loss, "backward.html", params)`` -> a self-contained page that steps through it;
  without a path, a :class:`Page` that a notebook shows inline; ``exercise=True`` asks the
  learner for each gradient
* ``check_backward(my_backward, loss)`` -> True, or an AssertionError naming the first
  tensor whose hand-written gradient is wrong
* ``trace(loss, params)`` -> the replayed graph with every value and gradient (what the others use)

Importing this package needs only numpy. ``draw`` and ``save`` need the graphviz Python
package (``pip install graphviz``) and, for pictures, a renderer: Graphviz's ``dot`` program
(``apt-get install graphviz`` / ``brew install graphviz``) or pygraphviz, whose wheels bring
Graphviz with them (both come with ``pip install -e ".[viz]"``); without a renderer a
notebook shows ``draw``'s picture from the built-in layout. ``explain``, ``page`` and
``check_backward`` work without either. Values and gradients are recomputed from the
leaves' current values.
"""

from .check import check_backward
from .dot import GraphvizNotFound, draw
from .explain import explain
from .files import RenderFailed, save
from .page import Page, page
from .replay import Trace, trace

__all__ = [
    "GraphvizNotFound",
    "Page",
    "RenderFailed",
    "Trace",
    "check_backward",
    "draw",
    "explain",
    "page",
    "save",
    "trace",
]
