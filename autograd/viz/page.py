"""One self-contained HTML file that steps through the backward pass.

The page holds the picture (inline SVG), the explanation of every step and every tensor's
full value and gradient (inline JSON), and a little script: previous / play / next
buttons, the arrow keys and a slider move through the steps in the order backward
visits the ops; the current op is highlighted, gradients not yet complete are greyed,
and clicking a node shows its value and gradient (every element; numpy elides the middle
of arrays over 10,000 elements). No network, no external files.

The picture comes from Graphviz's ``dot`` when both it and the graphviz Python package
are installed, else from the built-in layout in :mod:`autograd.viz.layout` (plainer, but
the page works the same). Pass ``renderer="dot"`` to insist on Graphviz.

Escaping: names reach the page only as SVG text made by :func:`dot.escape` (or
``html.escape``), as JSON with ``<``, ``>`` and ``&`` written as ``\\u003c`` etc., and
are put into the page by the script with ``textContent``, never as HTML.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout
from .dot import LEGEND_NOTES, GraphvizNotFound, render_svg, to_digraph
from .explain import entries
from .replay import Trace, describe, full_text, shape_text, summarize, trace

if TYPE_CHECKING:
    from ..tensor import Tensor

RENDERERS = ("auto", "dot", "builtin")


def page(t: Tensor, path: str | Path, params: Any = None, renderer: str = "auto") -> Path:
    """Write an HTML page at ``path`` that walks through the backward pass of ``t``.

    ``params`` names parameters, as in ``draw``. ``renderer``: "auto" uses Graphviz's
    ``dot`` when available and the built-in layout otherwise; "dot" raises
    :class:`GraphvizNotFound` without it; "builtin" never uses Graphviz. Values and grads
    come from replaying the graph with the leaves' current values (see :mod:`autograd.viz.replay`).
    """
    path = Path(path)
    path.write_text(page_html(trace(t, params), renderer), encoding="utf-8")
    return path


def page_html(tr: Trace, renderer: str = "auto") -> str:
    """The page's HTML text for a trace."""
    if renderer not in RENDERERS:
        raise ValueError(f"page: renderer must be one of {RENDERERS}, not {renderer!r}")
    svg, used = _picture(tr, renderer)
    values = {
        "TITLE": html.escape(tr.tensor(tr.output).name),
        "SVG": svg,
        "DATA": _script_json(page_data(tr, used)),
    }
    # One pass, so text put in (a name such as "__DATA__") is never substituted again.
    return re.sub(r"__(TITLE|SVG|DATA)__", lambda m: values[m.group(1)], TEMPLATE)


def _picture(tr: Trace, renderer: str) -> tuple[str, str]:
    """(svg text, "dot" or "builtin")."""
    if renderer != "builtin":
        try:
            return _bare_svg(render_svg(to_digraph(tr))), "dot"
        except (ImportError, GraphvizNotFound):
            if renderer == "dot":
                raise
        except Exception:  # noqa: BLE001 - Graphviz is here but failed on this graph: draw it ourselves
            if renderer == "dot":
                raise
    return layout.svg(tr), "builtin"


def _bare_svg(svg: str) -> str:
    """The ``<svg>`` element alone: no XML declaration, doctype or comments (they hold nothing we need)."""
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    return svg[svg.index("<svg") :]


def _script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: it can never contain "</script>"."""
    text = json.dumps(data, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_data(tr: Trace, renderer: str = "dot") -> dict[str, Any]:
    """What the page's script needs: the steps, and every tensor's and op's details."""
    return {
        "renderer": renderer,
        "output": tr.output,
        "steps": [
            {"step": e.step, "title": e.title, "lines": e.lines, "op": e.op} for e in entries(tr)
        ],
        "ops": {
            op.id: {
                "name": op.name,
                "step": op.step,
                "rule": op.rule,
                "options": {key: describe(value) for key, value in op.options.items()},
                "inputs": [edge.source for edge in op.inputs],
                "output": op.output,
            }
            for op in tr.ops
        },
        "tensors": {
            tid: {
                "name": info.name,
                "kind": info.kind,
                "is_output": info.is_output,
                "shape": shape_text(info.shape),
                "dtype": str(info.dtype),
                "requires_grad": info.requires_grad,
                "final_step": info.final_step,
                "producer": info.producer,
                "value": full_text(info.value),
                "grad": full_text(info.grad) if info.requires_grad else "(no grad)",
                "grad_summary": summarize(info.grad) if info.requires_grad else "(no grad)",
                "uses": len(info.terms),
            }
            for tid, info in tr.tensors.items()
        },
        "notes": LEGEND_NOTES,
    }


TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>backward pass of __TITLE__</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
  header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 8px 14px;
           background: #37474f; color: white; position: sticky; top: 0; z-index: 1; }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  header button { font: inherit; padding: 3px 10px; cursor: pointer; }
  #ui-slider { width: 260px; }
  main { display: flex; gap: 12px; padding: 10px; align-items: flex-start; }
  #ui-graph { flex: 3; overflow: auto; max-height: calc(100vh - 70px); border: 1px solid #ddd; }
  #ui-graph svg { max-width: 100%; height: auto; display: block; }
  #ui-graph.actual svg { max-width: none; }
  aside { flex: 2; min-width: 320px; max-height: calc(100vh - 70px); overflow: auto; }
  aside section { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; margin-bottom: 10px; }
  aside h2 { font-size: 15px; margin: 4px 0 8px; }
  pre { font: 12px/1.35 ui-monospace, monospace; white-space: pre-wrap; margin: 0; }
  #ui-details pre { max-height: 260px; overflow: auto; background: #f7f7f7; padding: 6px; white-space: pre; }
  #ui-details dt { font-weight: bold; margin-top: 6px; }
  #ui-details dd { margin: 0; }
  .hint { color: #666; font-size: 12px; }
  #ui-graph g.node { cursor: pointer; }
  #ui-graph g.current { filter: drop-shadow(0 0 3px #d50000) drop-shadow(0 0 5px #d50000); }
  #ui-graph g.upstream { filter: drop-shadow(0 0 4px #1565c0); }
  #ui-graph g.receiving { filter: drop-shadow(0 0 4px #ef6c00); }
  #ui-graph g.selected { filter: drop-shadow(0 0 4px #6a1b9a) drop-shadow(0 0 2px #6a1b9a); }
  #ui-graph g.edge.current path { stroke: #d50000; stroke-width: 2.5px; }
  #ui-graph g.pending > text:last-of-type { fill: #bdbdbd; }
  #ui-graph g.pending > path, #ui-graph g.pending > rect { stroke-dasharray: 4 3; }
  .key span { display: inline-block; width: 10px; height: 10px; border: 1px solid #555; margin: 0 4px 0 10px; }
</style>
</head>
<body>
<header>
  <h1>backward pass of <span id="ui-name">__TITLE__</span></h1>
  <button id="ui-prev" title="previous step (left arrow)">&#9664; prev</button>
  <button id="ui-play" title="play / pause (space)">&#9654; play</button>
  <button id="ui-next" title="next step (right arrow)">next &#9654;</button>
  <input id="ui-slider" type="range" min="0" value="0" step="1" aria-label="step">
  <span id="ui-counter"></span>
  <button id="ui-zoom" title="fit the picture to the pane, or show it at full size">full size</button>
</header>
<main>
  <div id="ui-graph">__SVG__</div>
  <aside>
    <section id="ui-step">
      <h2 id="ui-step-title"></h2>
      <pre id="ui-step-lines"></pre>
    </section>
    <section id="ui-details">
      <h2>click a node</h2>
      <p class="hint">Click a tensor to see its full value and gradient, or an op to jump to its step.</p>
    </section>
    <section class="hint">
      <div>Highlighted: <b style="color:#d50000">the op backward visits now</b>,
        <b style="color:#1565c0">the gradient it receives</b>,
        <b style="color:#ef6c00">the inputs it sends gradients to</b>.
        A dashed box with a grey grad line: that gradient is not complete yet.</div>
      <div id="ui-notes"></div>
      <div id="ui-renderer"></div>
      <div>Values and gradients come from replaying the graph with the leaves' current values.</div>
    </section>
  </aside>
</main>
<script type="application/json" id="trace-data">__DATA__</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("trace-data").textContent);
const last = data.steps.length - 1;
const byId = (id) => document.getElementById(id);
const slider = byId("ui-slider");
let current = 0;
let timer = null;

function clearMarks() {
  for (const name of ["current", "upstream", "receiving"]) {
    document.querySelectorAll("#ui-graph ." + name).forEach((el) => el.classList.remove(name));
  }
}

function show(k) {
  current = Math.max(0, Math.min(last, k));
  const step = data.steps[current];
  slider.value = String(current);
  byId("ui-counter").textContent = "step " + current + " of " + last;
  byId("ui-step-title").textContent = step.title;
  byId("ui-step-lines").textContent = step.lines.join("\n");
  document.body.dataset.step = String(current);
  clearMarks();
  if (step.op) {
    const op = data.ops[step.op];
    byId(step.op).classList.add("current");
    byId(step.op).scrollIntoView({ block: "nearest", inline: "nearest" });
    document.querySelectorAll("#ui-graph g.edge.of-" + step.op).forEach((el) => el.classList.add("current"));
    byId(op.output).classList.add("upstream");
    for (const source of op.inputs) byId(source).classList.add("receiving");
  }
  for (const [id, t] of Object.entries(data.tensors)) {
    byId(id).classList.toggle("pending", t.requires_grad && t.final_step > current);
  }
}

function field(list, term, text, pre) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement(pre ? "pre" : "dd");
  dd.textContent = text;
  list.append(dt, dd);
}

function details(id) {
  const box = byId("ui-details");
  box.replaceChildren();
  document.querySelectorAll("#ui-graph .selected").forEach((el) => el.classList.remove("selected"));
  byId(id).classList.add("selected");
  const title = document.createElement("h2");
  const list = document.createElement("dl");
  box.append(title, list);
  if (id in data.ops) {
    const op = data.ops[id];
    title.textContent = op.name + " (step " + op.step + ")";
    field(list, "rule", op.rule);
    field(list, "inputs", op.inputs.map((t) => data.tensors[t].name).join(", "));
    field(list, "output", data.tensors[op.output].name);
    for (const [key, value] of Object.entries(op.options)) field(list, key, value);
    show(op.step);
    return;
  }
  const t = data.tensors[id];
  title.textContent = t.name;
  field(list, "kind", t.kind + (t.is_output ? " (output)" : ""));
  field(list, "shape, dtype", t.shape + " " + t.dtype);
  if (t.producer) field(list, "made by", data.ops[t.producer].name + " (step " + data.ops[t.producer].step + ")");
  field(list, "value", t.value, true);
  let gradTitle = "grad";
  if (t.requires_grad && t.final_step > current) gradTitle += " (complete after step " + t.final_step + ")";
  if (t.uses > 1) gradTitle += " = sum of " + t.uses + " contributions";
  field(list, gradTitle, t.grad, true);
}

function play() {
  if (timer !== null) return stop();
  if (current >= last) show(0);
  byId("ui-play").textContent = "\u275a\u275a pause";
  timer = setInterval(() => (current >= last ? stop() : show(current + 1)), 1000);
}

function stop() {
  clearInterval(timer);
  timer = null;
  byId("ui-play").textContent = "\u25b6 play";
}

slider.max = String(last);
slider.addEventListener("input", () => show(Number(slider.value)));
byId("ui-prev").addEventListener("click", () => show(current - 1));
byId("ui-next").addEventListener("click", () => show(current + 1));
byId("ui-play").addEventListener("click", play);
byId("ui-zoom").addEventListener("click", () => {
  const actual = byId("ui-graph").classList.toggle("actual");
  byId("ui-zoom").textContent = actual ? "fit" : "full size";
});
document.addEventListener("keydown", (event) => {
  if (event.target === slider) return;  // the slider moves itself with the arrow keys
  const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last };
  if (event.key in moves) { show(moves[event.key]); event.preventDefault(); }
  else if (event.key === " ") { play(); event.preventDefault(); }
});
document.querySelectorAll("#ui-graph g.node").forEach((el) => {
  if (el.id in data.tensors || el.id in data.ops) el.addEventListener("click", () => details(el.id));
});
byId("ui-notes").textContent = data.notes.join(" \u00b7 ");
byId("ui-renderer").textContent = data.renderer === "dot"
  ? "Picture drawn by Graphviz (dot)."
  : "Picture drawn by the built-in layout (Graphviz's dot was not found; install it for a tidier one).";
show(0);
</script>
</body>
</html>
"""
