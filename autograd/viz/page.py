"""One self-contained HTML page that steps through the backward pass.

The page holds the picture (inline SVG), the explanation of every step and every tensor's
value and gradient (inline JSON), and a little script: previous / play / next buttons, the
arrow keys and a slider move through the steps in the order backward visits the ops.

What a learner sees at each step:

* the current op outlined in purple, the tensor whose gradient it receives (upstream) in
  blue, the inputs it sends gradients to in teal; constants are never highlighted;
* the panel: the op's rule, the forward value, the upstream gradient, and for each input
  the chain rule with its numbers (``d(a * b)/da = b = 2;  83.30029 × 2 = 166.6006 -> a``);
* honest gradients: a box shows ``grad ?`` until backward reaches the tensor, then the
  running sum of what has arrived (``grad 166.6006 (1 of 5 terms)``), and its final value
  only from the step that completes it;
* the picture fits the pane in width and height, but its text never gets smaller than
  10 px: when the graph is too big for that, the pane scrolls to keep the current op and
  its upstream tensor in view;
* clicking a tensor shows its value and gradient (every element up to 100 of them; bigger
  ones as statistics and a small heatmap), clicking an op jumps to its step.

``exercise=True`` hides the gradients: at each step the learner types what the op sends to
each input, the page checks it against the trace (the tolerance is shown) and, when it is
wrong, gives a hint that names the rule. No network, no external files.

``page(t)`` without a path returns a :class:`Page`, which a notebook shows inline (the
same page, in an iframe); ``page(t, path)`` writes the file.

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

import numpy as np

from . import layout
from .dot import (
    FILL,
    LEGEND,
    LEGEND_NOTES,
    GraphvizNotFound,
    _checked_rankdir,
    checked_precision,
    render_svg,
    to_digraph,
)
from .explain import entries
from .replay import FULL, SMALL, Trace, describe, full_text, heatmap, shape_text, summarize, trace
from .rules import chain, local_rule

if TYPE_CHECKING:
    from ..tensor import Tensor

RENDERERS = ("auto", "dot", "builtin")
RTOL, ATOL = 0.01, 0.001  # exercise answers within 1% (or 0.001 of a zero) are right
NBSP = "\u00a0"


class Page:
    """The page as an object: ``html`` is its text; a notebook shows it inline (``_repr_html_``,
    the same self-contained page in an iframe); ``save(path)`` writes it to a file."""

    def __init__(self, text: str, height: int = 640) -> None:
        self.html = text
        self.height = height

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
            f'style="width: 100%; height: {int(self.height)}px; border: 1px solid #ddd" '
            'title="backward pass"></iframe>'
        )

    def __repr__(self) -> str:
        return f"<autograd.viz.Page: {len(self.html)} characters; save(path) writes it>"


def page(
    t: Tensor,
    path: str | Path | None = None,
    params: Any = None,
    renderer: str = "auto",
    rankdir: str = "TB",
    precision: int | None = None,
    exercise: bool = False,
) -> Path | Page:
    """The interactive page that walks through the backward pass of ``t``: written at ``path``
    (returns the Path), or, without a path, returned as a :class:`Page` a notebook shows inline.

    ``params`` names parameters, as in ``draw``. ``renderer``: "auto" uses Graphviz's
    ``dot`` when available and the built-in layout otherwise; "dot" raises
    :class:`GraphvizNotFound` without it; "builtin" never uses Graphviz. ``rankdir``: "TB"
    or "LR" (left to right). ``precision``: significant digits (default 7 for single
    numbers, 4 for arrays). ``exercise``: hide the gradients and let the learner type
    them, step by step. Values and grads come from replaying the graph with the leaves'
    current values (see :mod:`autograd.viz.replay`).
    """
    text = page_html(trace(t, params), renderer, rankdir=rankdir, precision=precision, exercise=exercise)
    if path is None:
        return Page(text)
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path


def page_html(
    tr: Trace, renderer: str = "auto", rankdir: str = "TB", precision: int | None = None, exercise: bool = False
) -> str:
    """The page's HTML text for a trace."""
    if renderer not in RENDERERS:
        raise ValueError(f"page: renderer must be one of {RENDERERS}, not {renderer!r}")
    rankdir = _checked_rankdir(rankdir)
    precision = checked_precision(precision)
    states = {tid: grad_states(tr, tid, precision) for tid in tr.tensors}
    widest = {tid: max(len(text) for _, text, _ in s) for tid, s in states.items() if s}
    padded = {tid: ("grad   " + s[-1][1]).ljust(7 + widest[tid], NBSP) for tid, s in states.items() if s}
    svg, used = _picture(tr, renderer, rankdir, precision, padded)
    values = {
        "TITLE": html.escape(tr.tensor(tr.output).name),
        "SVG": svg,
        "DATA": _script_json(page_data(tr, used, precision, exercise, states)),
        "MODE": "exercise" if exercise else "walk",
    }
    # One pass, so text put in (a name such as "__DATA__") is never substituted again.
    return re.sub(r"__(TITLE|SVG|DATA|MODE)__", lambda m: values[m.group(1)], TEMPLATE)


def _picture(
    tr: Trace, renderer: str, rankdir: str, precision: int | None, grad_lines: dict[str, str]
) -> tuple[str, str]:
    """(svg text, "dot" or "builtin")."""
    if renderer != "builtin":
        try:
            digraph = to_digraph(tr, rankdir=rankdir, precision=precision, grad_lines=grad_lines, legend=False)
            return _bare_svg(render_svg(digraph)), "dot"
        except (ImportError, GraphvizNotFound):
            if renderer == "dot":
                raise
        except Exception:
            if renderer == "dot":
                raise
    return layout.svg(tr, precision=precision, grad_lines=grad_lines, rankdir=rankdir, legend=False), "builtin"


def _bare_svg(svg: str) -> str:
    """The ``<svg>`` element alone: no XML declaration, doctype or comments (they hold nothing we need)."""
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    return svg[svg.index("<svg") :]


def _script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: it can never contain "</script>"."""
    text = json.dumps(data, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ----------------------------------------------------------------------------- honest gradients


def grad_states(tr: Trace, tid: str, precision: int | None = None) -> list[tuple[int, str, str]]:
    """What a tensor's grad shows as backward goes: ``[(from step, box text, panel text), ...]``.

    ``?`` until the first contribution arrives, then the running sum with how many terms are
    in (``166.6006 (1 of 5 terms)``), and the final value from the step that completes it.
    Empty for a tensor that needs no gradient."""
    info = tr.tensor(tid)
    if not info.requires_grad or info.literal:
        return []
    if info.is_output or not info.terms:
        final = summarize(info.grad, precision=precision) if info.grad is not None else "none"
        if info.is_output:
            return [(0, final, full_text(info.grad, precision))]
        return [(0, "?", "? (backward has not reached it yet)"), (len(tr.ops) + 1, final, "no gradient reached it")]
    states = [(0, "?", "? (backward has not reached it yet)")]
    n = len(info.terms)
    for i, term in enumerate(info.terms, start=1):
        total = info.running_sum(term.step)
        text = summarize(total, precision=precision)
        if i < n:
            states.append(
                (
                    term.step,
                    f"{text} ({i} of {n} terms)",
                    f"running sum of {i} of {n} terms so far:\n{_full(total, precision)}",
                )
            )
        else:
            note = f"final: the sum of all {n} terms\n" if n > 1 else "final\n"
            states.append((term.step, summarize(info.grad, precision=precision), note + _full(info.grad, precision)))
    return states


def _full(array: np.ndarray | None, precision: int | None) -> str:
    """Every element of a small array; statistics of a big one (its heatmap is drawn apart)."""
    if array is not None and np.size(array) > FULL:
        return summarize(array, precision=precision)
    return full_text(array, precision)


# ----------------------------------------------------------------------------- the data


def page_data(
    tr: Trace,
    renderer: str = "dot",
    precision: int | None = None,
    exercise: bool = False,
    states: dict[str, list[tuple[int, str, str]]] | None = None,
) -> dict[str, Any]:
    """What the page's script needs: the steps, and every tensor's and op's details."""
    if states is None:
        states = {tid: grad_states(tr, tid, precision) for tid in tr.tensors}
    names = tr.labels()
    steps = entries(tr, precision)
    return {
        "renderer": renderer,
        "output": tr.output,
        "exercise": exercise,
        "tolerance": {"rtol": RTOL, "atol": ATOL},
        "steps": [
            {
                "step": e.step,
                "title": e.title,
                "lines": e.lines,
                "op": e.op,
                "edges": {str(k): v for k, v in e.edges.items()},
            }
            for e in steps
        ],
        "ops": {op.id: _op_data(tr, op, names, precision, exercise) for op in tr.ops},
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
                "literal": info.literal,
                "value": _full(info.value, precision),
                "value_summary": summarize(info.value, precision=precision),
                "value_map": heatmap(info.value) if info.value.size > FULL else None,
                "grad_map": heatmap(info.grad) if info.grad is not None and info.grad.size > FULL else None,
                "states": states.get(tid, []),
                "uses": len(info.terms),
                "terms": [[term.op, term.position] for term in info.terms],
            }
            for tid, info in tr.tensors.items()
        },
        "notes": LEGEND_NOTES,
        "legend": [[FILL[kind], text] for kind, text in LEGEND],
    }


def _op_data(tr: Trace, op: Any, names: dict[str, str], precision: int | None, exercise: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": op.name,
        "step": op.step,
        "rule": op.rule,
        "options": {key: describe(value) for key, value in op.options.items()},
        "inputs": [
            {
                "id": e.source,
                "needs": e.needs_grad and e.term is not None,
                "literal": tr.tensor(e.source).literal,
                "position": e.position,
            }
            for e in op.inputs
        ],
        "output": op.output,
    }
    if exercise:
        data["asks"] = [
            _ask(tr, op, e, names, precision) for e in op.inputs if e.term is not None and op.upstream is not None
        ]
    return data


def _ask(tr: Trace, op: Any, edge: Any, names: dict[str, str], precision: int | None) -> dict[str, Any]:
    """One question of the exercise: what does this op send to this input?"""
    assert edge.term is not None
    grad = np.asarray(edge.term.grad, dtype=np.float64)
    step = chain(tr, op, edge, names, precision)
    if edge.local is not None:
        rule = local_rule(tr, op, edge, names)
        hint = f"{op.name}'s local derivative for {names[edge.source]} is {rule}; multiply the upstream gradient by it"
        if grad.ndim:
            hint += ", element by element"
        if edge.reduced_from is not None:
            hint += f", then sum over the axes {names[edge.source]} was broadcast along"
    else:
        hint = f"{op.name}'s rule: {op.rule}. Here: {step.rule.split(' = ')[0]}"
    return {
        "position": edge.position,
        "target": edge.source,
        "name": names[edge.source] + (f" ({edge.label})" if edge.label else ""),
        "shape": "" if grad.ndim == 0 else shape_text(tr.tensor(edge.source).shape),
        "expected": [float(v) for v in grad.ravel()] if grad.size <= SMALL else None,
        "hint": hint,
    }


TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>backward pass of __TITLE__</title>
<style>
  html, body { height: 100%; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; display: flex; flex-direction: column; }
  header { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; padding: 6px 12px;
           background: #37474f; color: white; }
  header h1 { font-size: 16px; margin: 0 10px 0 0; }
  header button { font: inherit; padding: 2px 10px; cursor: pointer; }
  #ui-slider { width: 220px; }
  main { display: flex; gap: 10px; padding: 8px; flex: 1; min-height: 0; }
  #ui-graph { flex: 3; overflow: auto; border: 1px solid #ddd; min-width: 0; position: relative; }
  #ui-graph svg { display: block; margin: 0 auto; }
  aside { flex: 2; min-width: 300px; max-width: 480px; overflow: auto; }
  aside section { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; margin-bottom: 10px; }
  aside h2 { font-size: 15px; margin: 4px 0 8px; }
  pre { font: 13px/1.4 ui-monospace, monospace; white-space: pre-wrap; margin: 0; }
  #ui-details pre { max-height: 240px; overflow: auto; background: #f7f7f7; padding: 6px; white-space: pre; }
  #ui-details dt { font-weight: bold; margin-top: 6px; }
  #ui-details dd { margin: 0; }
  .hint { color: #555; font-size: 13px; }
  .ask { margin: 8px 0; padding: 6px 8px; background: #f6f2fa; border-radius: 4px; }
  .ask input { font: 13px ui-monospace, monospace; width: 14em; }
  .ask .right { color: #1b5e20; font-weight: bold; }
  .ask .wrong { color: #8e2424; }
  .heatmap rect { shape-rendering: crispEdges; }
  #ui-graph g.node { cursor: pointer; }
  /* highlights: outlines only (no glow that hides labels); purple is used for nothing else */
  #ui-graph g.current polygon, #ui-graph g.current rect, #ui-graph g.current path { stroke: #8e24aa; stroke-width: 3px; }
  #ui-graph g.edge.current path { stroke: #8e24aa; stroke-width: 2.5px; }
  #ui-graph g.edge.current polygon { stroke: #8e24aa; fill: #8e24aa; }
  #ui-graph g.upstream polygon, #ui-graph g.upstream rect, #ui-graph g.upstream path { stroke: #1565c0; stroke-width: 3px; }
  #ui-graph g.receiving polygon, #ui-graph g.receiving rect, #ui-graph g.receiving path { stroke: #00897b; stroke-width: 3px; }
  #ui-graph g.selected polygon, #ui-graph g.selected rect, #ui-graph g.selected path { stroke-dasharray: 6 3; stroke-width: 2px; }
  #ui-graph g.pending text:last-of-type { fill: #757575; font-style: italic; }
  #ui-graph g.pending path, #ui-graph g.pending rect, #ui-graph g.pending polygon { stroke-dasharray: 4 3; }
  .key { display: inline-block; width: 12px; height: 12px; border: 3px solid; margin: 0 4px -3px 8px; box-sizing: border-box; }
</style>
</head>
<body data-mode="__MODE__">
<header>
  <h1>backward pass of <span id="ui-name">__TITLE__</span></h1>
  <button id="ui-prev" title="previous step (left arrow)">&#9664; prev</button>
  <button id="ui-play" title="play / pause (space)">&#9654; play</button>
  <button id="ui-next" title="next step (right arrow)">next &#9654;</button>
  <input id="ui-slider" type="range" min="0" value="0" step="1" aria-label="step">
  <span id="ui-counter"></span>
  <button id="ui-zoom" title="fit the picture to the pane (text stays at least 10 px), or show it at full size">full size</button>
</header>
<main>
  <div id="ui-graph">__SVG__</div>
  <aside>
    <section id="ui-step">
      <h2 id="ui-step-title"></h2>
      <pre id="ui-step-lines"></pre>
      <div id="ui-asks"></div>
    </section>
    <section id="ui-details">
      <h2>click a node</h2>
      <p class="hint">Click a tensor to see its value and gradient, or an op to jump to its step.</p>
    </section>
    <section class="hint">
      <div>Outlined: <span class="key" style="border-color:#8e24aa"></span>the op backward visits now,
        <span class="key" style="border-color:#1565c0"></span>the tensor whose gradient it receives,
        <span class="key" style="border-color:#00897b"></span>the inputs it sends gradients to.
        A dashed box with a grey grad line: its gradient is not complete yet
        (<b>?</b>: nothing has arrived; otherwise the running sum so far).</div>
      <div id="ui-legend"></div>
      <div id="ui-tolerance"></div>
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
const opCount = Object.keys(data.ops).length;
const byId = (id) => document.getElementById(id);
const slider = byId("ui-slider");
const pane = byId("ui-graph");
const svg = pane.querySelector("svg");
const answered = {};  // "op3:1" -> true once the learner's answer was right (or revealed)
let current = 0;
let timer = null;
let actual = false;  // full-size view instead of fit

// ---------------------------------------------------------------- counters and marks

function counterText(k) {
  if (k === 0) return "start";
  if (k > opCount) return "done";
  return "step " + k + " of " + opCount;
}

function clearMarks() {
  for (const name of ["current", "upstream", "receiving"]) {
    document.querySelectorAll("#ui-graph ." + name).forEach((el) => el.classList.remove(name));
  }
}

// ---------------------------------------------------------------- honest gradients

function termKnown(tid, i) {
  const [op, position] = data.tensors[tid].terms[i];
  if (!data.exercise) return data.ops[op].step <= current;
  return Boolean(answered[op + ":" + position]);
}

function gradState(tid) {
  // [box text, panel text, complete?] of a tensor's gradient at the current step
  const t = data.tensors[tid];
  const states = t.states;
  if (!states.length) return null;
  if (data.exercise && !t.is_output) {
    const known = t.terms.length > 0 && t.terms.every((_, i) => termKnown(tid, i));
    if (!known) return ["?", "? (not answered yet)", false];
    const end = states[states.length - 1];
    return [end[1], end[2], true];
  }
  let state = states[0];
  for (const s of states) if (s[0] <= current) state = s;
  return [state[1], state[2], state === states[states.length - 1]];
}

function gradLine(id) {
  const texts = byId(id).querySelectorAll("text");
  return texts.length ? texts[texts.length - 1] : null;
}

function showGrads() {
  for (const [id, t] of Object.entries(data.tensors)) {
    const el = byId(id);
    if (!el) continue;  // a literal, drawn inside its op
    const state = gradState(id);
    if (state === null) continue;
    const line = gradLine(id);
    if (line) line.textContent = "grad\u00a0\u00a0\u00a0" + state[0];
    el.classList.toggle("pending", !state[2]);
  }
}

// ---------------------------------------------------------------- zoom: fit, text >= 10 px

const MIN_TEXT = 10;
let natural = null;  // [width, height] of the picture in px at scale 1, and its smallest text in px

function measure() {
  const box = svg.viewBox.baseVal;
  let w = box && box.width ? box.width : svg.getBBox().width;
  let h = box && box.height ? box.height : svg.getBBox().height;
  svg.style.width = w + "px";
  svg.style.height = h + "px";
  let smallest = Infinity;
  svg.querySelectorAll("text").forEach((el) => {
    if (!el.textContent.trim()) return;
    const size = parseFloat(getComputedStyle(el).fontSize);
    const scale = el.getScreenCTM() ? el.getScreenCTM().a : 1;
    const rootScale = svg.getScreenCTM() ? svg.getScreenCTM().a : 1;
    smallest = Math.min(smallest, (size * scale) / rootScale);
  });
  natural = { w: w, h: h, text: smallest === Infinity ? MIN_TEXT : smallest };
}

function zoom() {
  if (natural === null) measure();
  const readable = MIN_TEXT / natural.text;  // the smallest scale at which every text is >= 10 px
  const fit = Math.min((pane.clientWidth - 4) / natural.w, (pane.clientHeight - 4) / natural.h);
  const scale = actual ? Math.max(4 / 3, readable) : Math.max(Math.min(fit, 4 / 3), readable);
  svg.style.width = natural.w * scale + "px";
  svg.style.height = natural.h * scale + "px";
  document.body.dataset.scale = scale.toFixed(4);
  keepInView();
}

function keepInView() {
  const step = data.steps[current];
  if (!step || !step.op) return;
  const op = data.ops[step.op];
  const ids = [step.op, op.output];
  const outer = pane.getBoundingClientRect();
  let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
  for (const id of ids) {
    const el = byId(id);
    if (!el) continue;
    const r = el.getBoundingClientRect();
    left = Math.min(left, r.left); top = Math.min(top, r.top);
    right = Math.max(right, r.right); bottom = Math.max(bottom, r.bottom);
  }
  if (left === Infinity) return;
  const x = pane.scrollLeft + (left + right) / 2 - outer.left - pane.clientWidth / 2;
  const y = pane.scrollTop + (top + bottom) / 2 - outer.top - pane.clientHeight / 2;
  pane.scrollTo({ left: Math.max(0, x), top: Math.max(0, y), behavior: "instant" });
}

// ---------------------------------------------------------------- the step panel

function show(k) {
  current = Math.max(0, Math.min(last, k));
  const step = data.steps[current];
  slider.value = String(current);
  byId("ui-counter").textContent = counterText(current);
  byId("ui-step-title").textContent = step.title;
  document.body.dataset.step = String(current);
  clearMarks();
  if (step.op) {
    const op = data.ops[step.op];
    byId(step.op).classList.add("current");
    document.querySelectorAll("#ui-graph g.edge.of-" + step.op).forEach((el) => el.classList.add("current"));
    byId(op.output).classList.add("upstream");
    for (const input of op.inputs) {
      if (input.needs && byId(input.id)) byId(input.id).classList.add("receiving");
    }
  }
  if (data.exercise) showExercise(step);
  else {
    byId("ui-step-lines").textContent = step.lines.join("\n");
    byId("ui-asks").replaceChildren();
  }
  showGrads();
  keepInView();
}

// ---------------------------------------------------------------- exercise mode

function upstreamKnown(op) {
  const out = data.tensors[op.output];
  if (out.is_output) return true;
  return out.terms.every((_, i) => termKnown(op.output, i));
}

function parseNumbers(text) {
  return text.split(/[\s,;\[\]()]+/).filter((s) => s.length).map(Number);
}

function isRight(got, want) {
  if (got.length !== want.length || got.some((v) => Number.isNaN(v))) return false;
  const { rtol, atol } = data.tolerance;
  return got.every((g, i) => Math.abs(g - want[i]) <= atol + rtol * Math.abs(want[i]));
}

function showExercise(step) {
  const asks = byId("ui-asks");
  asks.replaceChildren();
  if (!step.op) {
    if (step.step === 0) {
      byId("ui-step-lines").textContent = step.lines.join("\n") +
        "\n\nExercise: at each step, type what the op sends to each input (its share of the gradient).";
    } else {
      const all = Object.entries(data.ops).every(([id, op]) => (op.asks || []).every((a) => answered[id + ":" + a.position]));
      byId("ui-step-lines").textContent = all ? step.lines.join("\n") : "Answer every step to see the leaves' gradients.";
    }
    return;
  }
  const op = data.ops[step.op];
  const lines = step.lines.filter((line) => line.startsWith("rule") || line.startsWith("forward"));
  const at = step.lines.findIndex((line) => line.startsWith("upstream"));
  if (!upstreamKnown(op)) lines.push("upstream  ? (answer the steps that send it first)");
  else if (at >= 0) {
    lines.push(step.lines[at]);
    for (let i = at + 1; i < step.lines.length && step.lines[i].startsWith("  "); i++) lines.push(step.lines[i]);
  }
  for (const input of op.inputs) {
    if (!input.needs && !input.literal) {
      const name = data.tensors[input.id].name;
      const line = step.lines.find((l) => l.startsWith(name + " ") && l.includes("needs no gradient"));
      if (line) lines.push(line);
    }
  }
  byId("ui-step-lines").textContent = lines.join("\n");
  for (const ask of op.asks || []) asks.append(askBox(step, ask));
}

function askBox(step, ask) {
  const key = step.op + ":" + ask.position;
  const box = document.createElement("div");
  box.className = "ask";
  box.dataset.key = key;
  const label = document.createElement("div");
  label.textContent = "What does this step send to " + ask.name + (ask.shape ? " " + ask.shape : "") + "?";
  box.append(label);
  const solved = document.createElement("pre");
  solved.className = "solution";
  const reveal = () => {
    solved.textContent = (step.edges[String(ask.position)] || []).join("\n");
  };
  if (ask.expected === null) {
    const note = document.createElement("div");
    note.className = "hint";
    note.textContent = "(too many numbers to type: here it is)";
    box.append(note);
    answered[key] = true;
    reveal();
    box.append(solved);
    return box;
  }
  const input = document.createElement("input");
  input.type = "text";
  input.placeholder = ask.expected.length > 1 ? "numbers, e.g. 1.5, -2" : "a number";
  const check = document.createElement("button");
  check.textContent = "check";
  check.className = "check";
  const give = document.createElement("button");
  give.textContent = "show me";
  give.className = "reveal";
  const feedback = document.createElement("div");
  feedback.className = "feedback";
  const done = () => { answered[key] = true; reveal(); showGrads(); };
  check.addEventListener("click", () => {
    const got = parseNumbers(input.value);
    if (isRight(got, ask.expected)) {
      feedback.className = "feedback right";
      feedback.textContent = "Right.";
      done();
    } else {
      feedback.className = "feedback wrong";
      feedback.textContent = "Not quite. Hint: " + ask.hint + ".";
    }
  });
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") check.click(); event.stopPropagation(); });
  give.addEventListener("click", () => { feedback.className = "feedback"; feedback.textContent = ""; done(); });
  box.append(input, check, give, feedback, solved);
  if (answered[key]) { feedback.className = "feedback right"; feedback.textContent = "Right."; reveal(); }
  return box;
}

// ---------------------------------------------------------------- details of a node

function field(list, term, text, pre) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement(pre ? "pre" : "dd");
  dd.textContent = text;
  list.append(dt, dd);
  return dd;
}

function heatmapSvg(map, label) {
  const ns = svg.namespaceURI;  // the SVG namespace, from the picture itself
  const cell = Math.max(3, Math.min(10, Math.floor(300 / map.cols)));
  const pic = document.createElementNS(ns, "svg");
  pic.setAttribute("class", "heatmap");
  pic.setAttribute("width", String(map.cols * cell));
  pic.setAttribute("height", String(map.rows * cell));
  pic.setAttribute("role", "img");
  pic.setAttribute("aria-label", label);
  map.cells.forEach((v, i) => {
    const r = document.createElementNS(ns, "rect");
    r.setAttribute("x", String((i % map.cols) * cell));
    r.setAttribute("y", String(Math.floor(i / map.cols) * cell));
    r.setAttribute("width", String(cell));
    r.setAttribute("height", String(cell));
    let colour = "#000";
    if (v !== null) {
      const a = Math.abs(v) / 100;
      const mix = (c) => Math.round(255 - a * (255 - c));
      colour = v >= 0 ? `rgb(${mix(230)},${mix(81)},${mix(0)})` : `rgb(${mix(21)},${mix(101)},${mix(192)})`;
    }
    r.setAttribute("fill", colour);
    pic.append(r);
  });
  return pic;
}

function mapField(list, term, map) {
  const dt = document.createElement("dt");
  dt.textContent = term + " (heatmap: blue < 0 < orange, |largest| " + map.scale + "; black: NaN/Inf)";
  const dd = document.createElement("dd");
  dd.append(heatmapSvg(map, term));
  list.append(dt, dd);
}

function details(id) {
  const box = byId("ui-details");
  box.replaceChildren();
  document.querySelectorAll("#ui-graph .selected").forEach((el) => el.classList.remove("selected"));
  byId(id).classList.add("selected");
  box.dataset.node = id;
  const title = document.createElement("h2");
  const list = document.createElement("dl");
  box.append(title, list);
  if (id in data.ops) {
    const op = data.ops[id];
    title.textContent = op.name + " (step " + op.step + ")";
    field(list, "rule", op.rule);
    field(list, "inputs", op.inputs.map((i) => data.tensors[i.id].name).join(", "));
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
  if (t.value_map) mapField(list, "value", t.value_map);
  const state = gradState(id);
  if (state === null) {
    field(list, "grad", "(no grad)", true);
    return;
  }
  let gradTitle = "grad";
  if (!state[2] && t.final_step > 0) gradTitle += " (complete after step " + t.final_step + ")";
  if (t.uses > 1) gradTitle += ": the sum of " + t.uses + " contributions";
  field(list, gradTitle, state[1], true);
  if (state[2] && t.grad_map) mapField(list, "grad", t.grad_map);
}

function refreshDetails() {
  const id = byId("ui-details").dataset.node;
  if (id && id in data.tensors) details(id);
}

// ---------------------------------------------------------------- controls

function play() {
  if (timer !== null) return stop();
  if (current >= last) go(0);
  byId("ui-play").textContent = "\u275a\u275a pause";
  timer = setInterval(() => (current >= last ? stop() : go(current + 1)), 1000);
}

function stop() {
  clearInterval(timer);
  timer = null;
  byId("ui-play").textContent = "\u25b6 play";
}

function go(k) {
  show(k);
  refreshDetails();
}

slider.max = String(last);
slider.addEventListener("input", () => go(Number(slider.value)));
byId("ui-prev").addEventListener("click", () => go(current - 1));
byId("ui-next").addEventListener("click", () => go(current + 1));
byId("ui-play").addEventListener("click", play);
byId("ui-zoom").addEventListener("click", () => {
  actual = !actual;
  byId("ui-zoom").textContent = actual ? "fit" : "full size";
  zoom();
});
document.addEventListener("keydown", (event) => {
  if (event.target === slider || event.target.tagName === "INPUT") return;
  const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last };
  if (event.key in moves) { go(moves[event.key]); event.preventDefault(); }
  else if (event.key === " ") { play(); event.preventDefault(); }
});
document.querySelectorAll("#ui-graph g.node").forEach((el) => {
  if (el.id in data.tensors || el.id in data.ops) el.addEventListener("click", () => details(el.id));
});
window.addEventListener("resize", zoom);
byId("ui-notes").textContent = data.notes.join(" \u00b7 ");
for (const [colour, text] of data.legend) {
  const key = document.createElement("span");
  key.className = "key";
  key.style.background = colour;
  key.style.border = "1px solid #555";
  byId("ui-legend").append(key, document.createTextNode(text));
}
byId("ui-renderer").textContent = data.renderer === "dot"
  ? "Picture drawn by Graphviz (dot)."
  : "Picture drawn by the built-in layout (Graphviz's dot was not found; install it for a tidier one).";
if (data.exercise) {
  byId("ui-tolerance").textContent = "Exercise: an answer is right within " + data.tolerance.rtol * 100 +
    "% (or " + data.tolerance.atol + " of an expected 0). Type several numbers for a tensor, in order, separated by commas.";
}
show(0);
zoom();
</script>
</body>
</html>
"""
