"""autograd.viz: the replayed trace, the picture (parsed as XML), save, explain and the page's HTML.

The browser half of the page's tests is in test_viz_browser.py.
"""

from __future__ import annotations

import gc
import inspect
import json
import re
import shutil
import subprocess
import sys
import weakref
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, broadcastable_pairs
from viz_helpers import HOSTILE, MLP, classes, edge_ends, groups, micrograd, mlp, neuron, parse_svg, require, texts

import autograd
from autograd import Tensor, ops
from autograd.engine import topological_order
from autograd.viz import GraphvizNotFound, Page, check_backward, draw, explain, layout, page, save, trace
from autograd.viz.dot import NONFINITE_COLOUR, REDUCED_COLOUR, render_svg, to_digraph
from autograd.viz.explain import use_color
from autograd.viz.page import grad_states, page_data, page_html
from autograd.viz.replay import summarize

HAVE_GRAPHVIZ = shutil.which("dot") is not None
try:
    import graphviz  # noqa: F401
except ImportError:
    HAVE_GRAPHVIZ = False


def needs_graphviz() -> None:
    require(HAVE_GRAPHVIZ, "needs the graphviz package and Graphviz's dot (apt-get install graphviz)")


def svg_of(tr, renderer: str) -> str:
    """The picture of a trace from Graphviz or from the built-in layout."""
    if renderer == "dot":
        needs_graphviz()
        return render_svg(to_digraph(tr))
    return layout.svg(tr)


def words(text: str) -> str:
    return " ".join(text.split())


def grads_by_autograd(net: MLP) -> dict[str, np.ndarray]:
    """dL/d(every named tensor) straight from autograd.grad on the original graph."""
    named = {**net.intermediates, **{k: v for k, v in net.leaves.items() if v.requires_grad}, "loss": net.loss}
    result = autograd.grad(net.loss, list(named.values()), retain_graph=True)
    return {name: g.data for name, g in zip(named, result)}


# ----------------------------------------------------------------------------- importing


def test_importing_autograd_and_viz_does_not_import_graphviz():
    code = "import sys, autograd, autograd.viz; assert 'graphviz' not in sys.modules, 'graphviz imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


# ----------------------------------------------------------------------------- the trace


def test_grads_after_plain_backward_match_autograd_for_intermediates():
    twin = mlp(seed=1)  # the same graph, its intermediates kept alive and named
    expected = grads_by_autograd(twin)
    names = {info.name: tid for tid, info in trace(twin.loss).tensors.items()}

    net = mlp(seed=1)
    alive = [weakref.ref(t) for t in net.intermediates.values()]
    net.intermediates.clear()  # nothing refers to the intermediates but the graph
    net.loss.backward()  # plain backward: the graph is released
    gc.collect()
    order = topological_order([net.loss.grad_fn])
    assert all(node.released for node in order)
    assert all(ref() is None for ref in alive), "intermediates should be collected"

    tr = trace(net.loss)
    for name, grad in expected.items():
        np.testing.assert_allclose(tr.tensors[names[name]].grad, grad, rtol=1e-12, atol=0)
    for name in ("w1", "b1", "w2", "b2"):  # and what that backward wrote to .grad
        np.testing.assert_allclose(tr.tensors[names[name]].grad, net.leaves[name].grad.data, rtol=1e-12)


def test_each_tensors_terms_add_up_to_its_grad():
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, -1.0], requires_grad=True, name="b")
    h = a * b
    z = (h * a + h + a).sum()
    tr = trace(z)
    for info in tr.tensors.values():
        if info.terms:
            np.testing.assert_allclose(sum(t.grad for t in info.terms), info.grad, rtol=1e-12)
    by_name = {info.name: info for info in tr.tensors.values()}
    assert len(by_name["a"].terms) == 3 and len(by_name["b"].terms) == 1
    np.testing.assert_allclose(by_name["a"].grad, 2 * a.data * b.data + b.data + 1)  # z = a²b + ab + a


def test_trace_touches_no_grad_and_leaves_the_graph_usable():
    net = mlp()
    tr = trace(net.loss)
    assert all(t.grad is None for t in net.leaves.values())
    net.loss.backward()  # the original graph was not consumed by the trace
    w1 = next(i for i in tr.tensors.values() if i.name == "w1")
    np.testing.assert_allclose(w1.grad, net.leaves["w1"].grad.data, rtol=1e-12)
    before = net.leaves["w1"].grad.data.copy()
    trace(net.loss)
    np.testing.assert_array_equal(net.leaves["w1"].grad.data, before)


def test_replay_uses_the_leaves_current_values():
    net = mlp()
    old_loss = net.loss.item()
    net.leaves["w1"].data -= 0.5  # as an optimizer step would
    tr = trace(net.loss)
    w1 = next(i for i in tr.tensors.values() if i.name == "w1")
    np.testing.assert_array_equal(w1.value, net.leaves["w1"].data)
    assert tr.tensor(tr.output).value.item() != pytest.approx(old_loss)


def test_non_scalar_output_is_seeded_with_ones_and_a_lone_leaf_works():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="x")
    tr = trace(x * 3.0)
    assert tr.seeded_with_ones
    np.testing.assert_array_equal(tr.tensors["t1"].grad, np.full((2, 2), 3.0))
    alone = trace(x)
    assert list(alone.tensors) == ["t1"] and alone.ops == []
    np.testing.assert_array_equal(alone.tensors["t1"].grad, np.ones((2, 2)))


@given(data=st.data(), pair=broadcastable_pairs())
def test_traced_grads_equal_autograds_and_reductions_are_marked_where_shapes_differ(data, pair):
    shape_a, shape_b = pair.input_shapes
    a = Tensor(data.draw(arrays(shape_a)), requires_grad=True, name="a")
    b = Tensor(data.draw(arrays(shape_b)), requires_grad=True, name="b")
    z = (a * b + b).sum()
    tr = trace(z)
    by_name = {info.name: info for info in tr.tensors.values()}
    # the replay runs the same ops in the same order: the same numbers up to rounding
    for t, g in zip((a, b), autograd.grad(z, [a, b])):
        np.testing.assert_allclose(by_name[t.name].grad, g.data, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(sum(term.grad for term in by_name[t.name].terms), g.data, rtol=1e-12, atol=1e-300)
    for op in tr.ops:
        for edge in op.inputs:
            source = tr.tensor(edge.source).shape
            summed = op.name in ("Mul", "Add") and source != pair.result_shape
            assert (edge.reduced_from is not None) == summed, (op.name, source, pair.result_shape)
            if summed:
                assert edge.reduced_from == pair.result_shape


def test_a_real_nn_module_names_its_parameters():
    nn = pytest.importorskip("nn")
    model = nn.MLP([3, 5, 2])
    x = Tensor(np.ones((4, 3)), name="x")
    loss = nn.MSELoss(reduction="sum")(model(x), Tensor(np.zeros((4, 2))))
    kinds = {info.name: info.kind for info in trace(loss, model).tensors.values()}
    for name, _ in model.named_parameters():
        assert kinds[name] == "parameter"
    assert kinds["x"] == "constant"


class Model:
    """Anything with named_parameters() names parameters, like nn.Module."""

    def __init__(self, net: MLP) -> None:
        self.net = net

    def named_parameters(self):
        yield "layers.0.weight", self.net.leaves["w1"]
        yield "layers.0.bias", self.net.leaves["b1"]


def test_params_from_a_module_or_a_mapping_name_the_parameters():
    net = mlp()
    for params in (Model(net), {"layers.0.weight": net.leaves["w1"], "layers.0.bias": net.leaves["b1"]}):
        tr = trace(net.loss, params)
        by_name = {i.name: i for i in tr.tensors.values()}
        assert by_name["layers.0.weight"].kind == "parameter"
        assert by_name["layers.0.bias"].kind == "parameter"
        assert by_name["w2"].kind == "leaf" and by_name["x"].kind == "constant"
    with pytest.raises(TypeError, match="named_parameters"):
        trace(net.loss, [net.leaves["w1"]])


def test_summaries_exact_when_small_statistics_and_nan_inf_flags_when_large():
    assert summarize(np.array([1.0, -0.0, 2.5])) == "[1, 0, 2.5]"
    assert summarize(np.array(3.0)) == "3"
    assert summarize(np.array([[1.0, 2.0], [3.0, 4.0]])) == "[[1, 2], [3, 4]]"
    big = np.arange(10.0)
    assert summarize(big) == f"min 0  max 9  mean 4.5  norm {np.linalg.norm(big):.4g}"
    big[[1, 2]] = np.nan
    big[3] = -np.inf
    text = summarize(big)
    assert "NaN x2" in text and "Inf x1" in text and "min 0" in text
    assert summarize(None) == "none" and summarize(np.zeros((0, 3))) == "empty"


# ----------------------------------------------------------------------------- the picture


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_svg_nodes_ids_classes_and_backward_numbers_follow_the_engine(renderer):
    net = mlp()
    root = parse_svg(svg_of(trace(net.loss, {"w1": net.leaves["w1"]}), renderer))
    nodes, edges = groups(root, "node"), groups(root, "edge")
    order = topological_order([net.loss.grad_fn])

    # one node per op, numbered by the step in which backward visits it
    op_ids = [i for i, g in nodes.items() if "op" in classes(g)]
    assert sorted(op_ids) == sorted(f"op{k}" for k in range(1, len(order) + 1))
    for step, node in enumerate(order, start=1):
        labels = texts(nodes[f"op{step}"])
        assert labels[0].split()[0] == str(step)
        assert node.name in words(" ".join(labels))

    # one node per tensor: every distinct leaf or constant, and every op's output
    leaves = {id(s): s for n in order for s in n.inputs if isinstance(s, Tensor)}
    tensor_ids = [i for i, g in nodes.items() if "tensor" in classes(g)]
    assert len(tensor_ids) == len(leaves) + len(order)
    name_of = {i: texts(nodes[i])[0] for i in tensor_ids}
    id_of = {name: i for i, name in name_of.items()}
    assert "parameter" in classes(nodes[id_of["w1"]])
    assert "leaf" in classes(nodes[id_of["b1"]])
    assert "constant" in classes(nodes[id_of["x"]])
    assert {"intermediate", "output"} <= classes(nodes[id_of["loss"]])
    assert "intermediate" in classes(nodes[id_of["h"]])

    # edges: each op's inputs are exactly the tensors of node.inputs, its output its own tensor
    ends = [edge_ends(e) for e in edges.values()]
    output_of = {src: dst for src, dst in ends if src.startswith("op")}

    def seen_as(tensor_id: str) -> str:
        """A leaf by its name; an unnamed one (the 2 of ** 2) just as "unnamed"."""
        auto = tensor_id not in output_of.values() and re.fullmatch(r"t\d+", name_of[tensor_id])
        return "unnamed" if auto else tensor_id

    for step, node in enumerate(order, start=1):
        expected = sorted(
            output_of[f"op{order.index(s) + 1}"] if isinstance(s, autograd.Context) else id_of.get(s.name, "unnamed")
            for s in node.inputs
            if isinstance(s, (Tensor, autograd.Context))
        )
        assert sorted(seen_as(src) for src, dst in ends if dst == f"op{step}") == expected
        if node.output_name:  # the name given to the op's output tensor, kept by the node
            assert name_of[output_of[f"op{step}"]] == node.output_name


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_broadcast_reductions_are_dashed_and_labelled(renderer):
    net = mlp(n=4, d_hidden=5)
    root = parse_svg(svg_of(trace(net.loss), renderer))
    nodes, edges = groups(root, "node"), groups(root, "edge")
    name_of = {i: texts(g)[0] for i, g in nodes.items() if "tensor" in classes(g)}
    reduced = {name_of[edge_ends(e)[0]]: e for e in edges.values() if "reduced" in classes(e)}
    assert set(reduced) == {"b1", "b2"}  # not w1, w2: matmul's shapes differ but nothing is summed
    assert "sum to (5,)" in words(" ".join(texts(reduced["b1"])))
    assert "sum to (2,)" in words(" ".join(texts(reduced["b2"])))
    path = reduced["b1"].find("{http://www.w3.org/2000/svg}path")
    assert path.get("stroke-dasharray")


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_tensor_boxes_show_shape_dtype_value_and_grad(renderer):
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="a")
    b = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, name="b")
    loss = (a @ b).sum()
    loss.name = "loss"
    root = parse_svg(svg_of(trace(loss), renderer))
    boxes = {texts(g)[0]: [words(t) for t in texts(g)] for g in groups(root, "node").values() if "tensor" in classes(g)}
    assert boxes["a"][1:] == ["(3,) float64", "value [1, 2, 3]", "grad [6, 22, 38]"]  # b's row sums
    assert boxes["b"][1] == "(3, 4) float64"
    assert boxes["b"][3] == "grad min 1 max 3 mean 2 norm " + f"{np.linalg.norm(np.repeat([1, 2, 3], 4)):.4g}"
    assert boxes["loss"][1:] == [f"value {(a.data @ b.data).sum():.7g}", "grad 1"]  # a single number: no shape
    assert not [g for g in groups(root, "node").values() if "nonfinite" in classes(g)]


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_nan_and_inf_are_flagged_in_the_picture(renderer):
    a = Tensor([1.0, 0.0, -1.0], requires_grad=True, name="a")
    b = Tensor(np.linspace(-1.0, 1.0, 9), requires_grad=True, name="b")  # 0 in the middle
    with np.errstate(all="ignore"):
        loss = a.log().sum() + b.log().sum()  # log 0 = -inf, log -1 = nan; d/dx = 1/x = inf at 0
    loss.name = "loss"
    root = parse_svg(svg_of(trace(loss), renderer))
    boxes = {texts(g)[0]: g for g in groups(root, "node").values() if "tensor" in classes(g)}
    assert "nonfinite" in classes(boxes["a"]) and "nonfinite" in classes(boxes["loss"])
    assert words(texts(boxes["a"])[-1]) == "grad [1, inf, -1]"  # small: every element
    assert words(texts(boxes["b"])[-1]).endswith("Inf x1")  # large: statistics and counts
    log_b = [g for g in boxes.values() if "b" not in texts(g)[0] and "(9,)" in texts(g)[1]]
    assert words(texts(log_b[0])[2]).endswith("NaN x4 Inf x1")


def test_legend_names_every_colour():
    needs_graphviz()
    svg = parse_svg(render_svg(draw(mlp().loss)))
    legend = words(" ".join(texts(groups(svg, "node")["legend"])))
    for kind in ("parameter", "leaf", "constant", "intermediate", "output"):
        assert kind in legend


HOSTILE_NAMES = [HOSTILE, "\\N \\G \\L back\\slash", "__DATA__ __SVG__", "a & b &amp; 'q'", "new\nline"]


def hostile_graph() -> tuple[Tensor, dict[str, Tensor]]:
    ts = [Tensor([float(i + 1)], requires_grad=True, name=name) for i, name in enumerate(HOSTILE_NAMES)]
    p = Tensor([0.5], requires_grad=True)
    loss = ts[0] * ts[1] + ts[2] - ts[3] * ts[4] + p
    loss = loss.sum()
    loss.name = HOSTILE
    return loss, {"]]><x y='1'> & \\N" + HOSTILE: p}


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_hostile_names_are_text_in_the_svg_and_add_no_node(renderer):
    loss, params = hostile_graph()
    tr = trace(loss, params)
    root = parse_svg(svg_of(tr, renderer))
    nodes = groups(root, "node")
    assert set(nodes) == set(tr.tensors) | {op.id for op in tr.ops} | ({"legend"} if renderer == "dot" else set())
    shown = {texts(g)[0] for g in nodes.values() if "tensor" in classes(g)}
    assert HOSTILE in shown
    assert "\\N \\G \\L back\\slash" in shown  # not Graphviz's \N (node name) or \G (graph name)
    assert "__DATA__ __SVG__" in shown and "a & b &amp; 'q'" in shown and "new\\nline" in shown
    assert "]]><x y='1'> & \\N" + HOSTILE in shown
    assert not [e for e in root.iter() if not e.tag.startswith("{http://www.w3.org/2000/svg}")]
    assert not [e for e in root.iter() if e.tag.endswith("script") or e.tag.endswith("foreignObject")]


def test_hostile_names_in_the_dot_text_stay_inside_their_labels():
    needs_graphviz()
    loss, params = hostile_graph()
    source = draw(loss, params).source
    assert HOSTILE not in source and "<script>" not in source
    statements = [line for line in source.splitlines() if re.match(r"\s*(t\d+|op\d+|legend)\b", line)]
    tr = trace(loss, params)
    assert len(statements) == len(tr.tensors) + 2 * len(tr.ops) + 1 + sum(len(op.inputs) for op in tr.ops)


class PageParser(HTMLParser):
    """Collect the page's elements and the text of its <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_page_is_self_contained_and_hostile_names_stay_data(renderer):
    if renderer == "dot":
        needs_graphviz()
    loss, params = hostile_graph()
    text = page_html(trace(loss, params), renderer)
    parsed = PageParser()
    parsed.feed(text)
    tags = [tag for tag, _ in parsed.tags]
    assert tags.count("script") == 2 and tags.count("svg") == 1
    assert "x" not in tags and "b" in tags  # <b> from the page's own help text only
    data = json.loads(parsed.scripts[0])
    assert {t["name"] for t in data["tensors"].values()} >= {HOSTILE, "__DATA__ __SVG__", "new\\nline"}
    assert data["renderer"] == renderer
    # nothing is fetched: no src/href attributes, no URLs but the SVG namespace names
    assert not [attrs for _, attrs in parsed.tags if "src" in attrs or "href" in attrs or "xlink:href" in attrs]
    assert not {"link", "img", "iframe", "object", "embed"} & set(tags)
    without_namespaces = re.sub(r'xmlns(:\w+)?="[^"]*"', "", text)
    assert "://" not in without_namespaces


def test_page_steps_are_the_explain_entries_in_backward_order(tmp_path):
    net = mlp()
    path = page(net.loss, tmp_path / "backward.html", renderer="builtin")
    parsed = PageParser()
    parsed.feed(path.read_text())
    data = json.loads(parsed.scripts[0])
    order = topological_order([net.loss.grad_fn])
    steps = data["steps"]
    assert len(steps) == len(order) + 2  # start, one per op, the leaves
    assert [s["op"] for s in steps[1:-1]] == [f"op{k}" for k in range(1, len(order) + 1)]
    assert [data["ops"][s["op"]]["name"] for s in steps[1:-1]] == [n.name for n in order]
    w1 = next(t for t in data["tensors"].values() if t["name"] == "w1")
    assert w1["final_step"] == len(order)  # the first matmul is visited last


# ----------------------------------------------------------------------------- save and no renderer


@pytest.mark.parametrize(
    "suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF"), (".dot", b"digraph")]
)
def test_save_writes_the_format_of_the_suffix(tmp_path, suffix, magic):
    needs_graphviz()
    path = save(mlp().loss, tmp_path / f"graph{suffix}")
    assert path.read_bytes().startswith(magic)


def test_save_rejects_an_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg"):
        save(mlp().loss, tmp_path / "graph.jpeg")


def test_without_dot_on_path_pygraphviz_renders_the_picture(tmp_path, monkeypatch):
    """pygraphviz's wheels bundle Graphviz: a pip-only machine still gets pictures."""
    pytest.importorskip("graphviz")
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        require(False, "needs pygraphviz (in the viz extra)")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    net = mlp()
    svg = parse_svg(save(net.loss, tmp_path / "picture.svg").read_text())
    assert len(groups(svg, "op")) == len(topological_order([net.loss.grad_fn]))
    assert save(net.loss, tmp_path / "picture.png").read_bytes().startswith(b"\x89PNG")
    assert save(net.loss, tmp_path / "picture.pdf").read_bytes().startswith(b"%PDF")
    assert '"renderer": "dot"' in page(net.loss, tmp_path / "p.html").read_text()


def test_with_no_renderer_dot_text_is_written_and_the_error_says_how_to_get_a_picture(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # "import pygraphviz" now raises ImportError
    net = mlp()
    assert save(net.loss, tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(GraphvizNotFound) as err:
        save(net.loss, tmp_path / "picture.svg")
    message = str(err.value)
    assert "pip install pygraphviz" in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert str(tmp_path / "picture.dot") in message and "dot -Tsvg" in message
    assert (tmp_path / "picture.dot").read_text().startswith("digraph")
    assert not (tmp_path / "picture.svg").exists()
    assert draw(net.loss).source.startswith("digraph")  # building the graph needs no dot
    # the page falls back to the built-in layout, unless dot is insisted on
    text = page(net.loss, tmp_path / "p.html").read_text()
    assert "<svg" in text and '"renderer": "builtin"' in text
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        page(net.loss, tmp_path / "q.html", renderer="dot")


def test_without_the_graphviz_package_draw_says_pip_install_and_the_rest_works(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # "import graphviz" now raises ImportError
    net = mlp()
    with pytest.raises(ImportError, match="pip install graphviz"):
        draw(net.loss)
    with pytest.raises(ImportError, match="pip install graphviz"):
        save(net.loss, tmp_path / "g.dot")
    assert "step 1 of" in explain(net.loss)
    assert '"renderer": "builtin"' in page(net.loss, tmp_path / "p.html").read_text()


# ----------------------------------------------------------------------------- explain


def test_explain_lists_ops_in_backward_order_with_their_rules_and_shapes():
    net = mlp(n=4, d_hidden=5)
    text = explain(net.loss, color=False, width=10_000)
    order = topological_order([net.loss.grad_fn])
    titles = re.findall(r"^step (\d+) of (\d+): (\w+)\(", text, flags=re.MULTILINE)
    assert [(int(k), int(n), name) for k, n, name in titles] == [
        (k, len(order), node.name) for k, node in enumerate(order, start=1)
    ]
    for node in order:  # the rule is the first line of the op's docstring
        assert "rule      " + inspect.getdoc(node.fn).splitlines()[0] in text
    assert "C = A @ B;  dL/dA = dL/dC @ B^T" in text
    assert "(4, 5) × (4, 5) elementwise = (4, 5), summed over axis 0 -> (5,) = " in text
    assert "x (1st) needs no gradient (a constant)" in text
    assert "x^T @ upstream: (3, 4) @ (4, 5) = (3, 5) = " in text  # the matmul that replaces the product
    tail = text[text.index("done:") :]
    grads = grads_by_autograd(net)
    for name in ("w1", "b1", "w2", "b2"):
        assert f"dloss/d{name} {tuple(grads[name].shape)} = {summarize(grads[name])}" in tail


def test_explain_adds_up_a_reused_tensors_contributions_term_by_term():
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, -1.0], requires_grad=True, name="b")
    h = a * b
    h.name = "h"
    z = (h * a + h + a).sum()
    z.name = "z"
    text = explain(z, color=False, width=10_000)
    assert "rule      " + inspect.getdoc(ops.Mul).splitlines()[0] in text  # c = a * b;  dc/da = b, ...
    # h is used twice: dz/dh = a (from h * a) + 1 (from + h)
    block = text[text.index("upstream  dz/dh (2,) is the sum of 2 contributions:") :].splitlines()
    assert sorted(line.split(": ", 1)[1] for line in block[1:3]) == ["[1, 1]", "[1, 2]"]
    assert block[3].strip() == "= [2, 3]"
    # a is used three times: h (from h * a), 1 (from + a), b * dz/dh (from a * b); z = a²b + ab + a
    leaves = text[text.index("dz/da (2,) is the sum of 3 contributions:") :].splitlines()
    terms = sorted(line.split(": ", 1)[1] for line in leaves[1:4])
    assert terms == sorted(["[3, -2]", "[1, 1]", "[6, -3]"])
    assert leaves[1].split()[0] == "from" and leaves[2].split()[0] == "+" and leaves[3].split()[0] == "+"
    assert leaves[4].strip() == "= [10, -4]"
    # the running sum as each term arrives, and the total at the last one
    assert "a: 1 of 3 terms in, running sum " in text and "a: 2 of 3 terms in, running sum " in text
    assert "a: 3 of 3 terms in: its gradient is [10, -4]" in text


def test_explain_colours_only_when_asked_or_on_a_tty_and_never_with_no_color(monkeypatch):
    loss = mlp().loss
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\033[" in explain(loss, color=True)
    assert "\033[" not in explain(loss)  # pytest's captured stdout is not a terminal

    class Terminal:
        def isatty(self) -> bool:
            return True

    assert use_color(None, Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in explain(loss, color=True)
    assert not use_color(None, Terminal())


def test_explain_shows_unprintable_names_escaped():
    x = Tensor([1.0], requires_grad=True, name="evil\x1b[2J\nname")
    text = explain((x * 2.0).sum(), color=False)
    assert "\x1b" not in text and "evil\\x1b[2J\\nname" in text


# ----------------------------------------------------------------------------- issue 13: teaching


def by_name(tr) -> dict:
    return {info.name: info for info in tr.tensors.values()}


def test_defect6_a_name_set_inside_a_function_survives_on_the_graph_node():
    o = neuron()  # the intermediates were local variables of neuron(): only the graph holds them
    gc.collect()
    names = set(by_name(trace(o)))
    assert {"x1*w1", "x2*w2", "x1*w1 + x2*w2", "n", "o"} <= names
    assert not [name for name in names if re.fullmatch(r"t\d+", name)]  # no t3, t6, ...


def test_defect8_explain_wraps_to_columns_80_without_splitting_numbers(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    for loss in (micrograd()[0], mlp().loss, neuron()):
        text = explain(loss, color=False)
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= 80, max(lines, key=len)
        assert len(lines) > 20
        # every number of the unwrapped text is still whole in the wrapped one
        numbers = set(re.findall(r"-?\d+\.\d+", explain(loss, color=False, width=10_000)))
        assert numbers <= set(re.findall(r"-?\d+\.\d+", text))
    monkeypatch.setenv("COLUMNS", "120")
    assert max(len(line) for line in explain(mlp().loss, color=False).splitlines()) > 80


def test_defect8_rule_lines_are_not_dimmed_and_numbers_have_seven_digits():
    g = micrograd()[0]
    text = explain(g, color=True)
    rules = [line for line in text.splitlines() if "rule " in line]
    assert rules and not [line for line in rules if "\033[2m" in line]  # DIM
    plain = explain(g, color=False, width=10_000)
    assert "dg/da is the sum of 5 contributions:" in plain and "  = 138.8338" in plain  # as micrograd prints
    assert "  = 645.5773" in plain
    assert "138.8338" in explain(g, color=False, precision=7) and "138.8" in explain(g, color=False, precision=4)
    assert "138.8338" not in explain(g, color=False, precision=4)


def test_defect8_the_seed_is_shown_as_its_value_and_names_get_parentheses():
    assert "start: do/do = 1" in explain(neuron(), color=False)
    text = explain(neuron(), color=False, width=10_000)
    assert "upstream  do/d(x1*w1 + x2*w2) = 0.5" in text  # not do/dx1*w1 + x2*w2
    x = Tensor(np.ones((3, 4)), requires_grad=True, name="x")
    seeded = explain(x * 2.0, color=False, width=10_000)  # not a scalar: seeded with ones
    assert "min 1 max 1" not in " ".join(seeded.split())
    assert "start: dt3/dt3 = all 1 (3, 4)" in seeded  # (t2 is the literal 2.0)


def test_defect5_argument_labels_are_1st_and_2nd_or_none_and_never_parameter_names():
    a = Tensor(3.0, requires_grad=True, name="a")
    b = Tensor(5.0, requires_grad=True, name="b")
    loss = (b - a) * a  # Sub(b, a): the clash of "Sub(a=b, b=a)"
    text = explain(loss, color=False, width=10_000)
    assert "Sub(b, a)" in text and "Mul(" in text
    assert "(as " not in text and "a=b" not in text
    assert "-> b (1st)" in text and "-> a (2nd)" in text
    tr = trace(loss)
    labels = {op.name: [e.label for e in op.inputs] for op in tr.ops}
    assert labels == {"Sub": ["1st", "2nd"], "Mul": [None, None]}  # Mul is commutative


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_defect5_arrows_say_1st_and_2nd_only_where_the_order_matters(renderer):
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    w = Tensor([[1.0, 0.5], [2.0, 1.0]], requires_grad=True, name="w")
    loss = ((a @ w) - a + a * a).sum()
    root = parse_svg(svg_of(trace(loss), renderer))
    edges = groups(root, "edge")
    labels = sorted(words(" ".join(texts(e))) for e in edges.values() if texts(e))
    assert labels == ["1st", "1st", "2nd", "2nd"]  # MatMul and Sub; none on Mul, Add, Sum


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_defect7_literals_are_folded_into_their_op_and_scalars_show_no_shape(renderer):
    g = micrograd()[0]
    tr = trace(g)
    root = parse_svg(svg_of(tr, renderer))
    nodes = groups(root, "node")
    boxes = {texts(n)[0]: [words(t) for t in texts(n)] for n in nodes.values() if "tensor" in classes(n)}
    assert set(boxes) == {info.name for info in tr.tensors.values() if not info.literal}
    assert not [name for name in boxes if name not in ("a", "b", "g") and not re.fullmatch(r"t\d+", name)]
    literals = [info for info in tr.tensors.values() if info.literal]
    assert len(literals) == 6  # 1, 1, 2, 3, 2.0, 10.0 (the exponents 3 and 2 are plain arguments)
    assert boxes["a"] == ["a", "value -4", "grad 138.8338"]  # no "() float64", no "(no grad)" box
    ops_text = [words(" ".join(texts(n))) for n in nodes.values() if "op" in classes(n)]
    for folded in ("PowScalar ** 3", "Mul * 2", "Mul 3 *", "Div / 2", "Div 10 /", "PowScalar ** 2", "Add + 1"):
        assert any(t.endswith(folded) for t in ops_text), (folded, ops_text)
    assert not any("c=3" in t for t in ops_text)


def test_defect7_a_named_or_reused_constant_is_not_folded():
    k = Tensor(2.0, name="k")
    x = Tensor(3.0, requires_grad=True, name="x")
    two = Tensor(2.0)
    tr = trace(x * k + x * two + two * x)
    assert not [i for i in tr.tensors.values() if i.literal]


def test_deliver1_explain_shows_the_local_derivative_and_the_product():
    g = micrograd()[0]
    text = explain(g, color=False, width=10_000)
    assert "d(a * b)/da = b = 2;  83.30029 × 2 = 166.6006 -> a" in text
    assert "d(a * b)/db = a = -4;  83.30029 × -4 = -333.2012 -> b" in text
    assert "d(b ** 3)/db = 3 * b**2 = 12;  83.30029 × 12 = 999.6035 -> b" in text
    neuron_text = explain(neuron(), color=False, width=10_000)
    assert "do/dn = 1 - o**2 = 0.5;  1 × 0.5 = 0.5 -> n" in neuron_text
    assert "d(x1*w1)/dw1 = x1 = 2;  0.5 × 2 = 1 -> w1" in neuron_text  # x1*w1 is that tensor's name
    assert "d(3 * t20)/dt20 = 3;  6.941691 × 3 = 20.82507 -> t20" in text  # unnamed: its formula


def test_deliver1_tensors_show_the_shapes_of_each_factor():
    net = mlp(n=4, d_hidden=5)
    text = explain(net.loss, color=False, width=10_000)
    assert "upstream @ w2^T: (4, 2) @ (2, 5) = (4, 5) = " in text
    assert "h^T @ upstream: (5, 4) @ (4, 2) = (5, 2) = " in text
    assert "dsq/derr = 2 * err = " in text
    assert "every element gets the upstream 1, divided by 8 and copied to (4, 2) = all 0.125 -> sq" in text


def test_deliver1_each_product_equals_the_term_the_engine_sent():
    g = micrograd()[0]
    tr = trace(g)
    for op in tr.ops:
        for edge in op.inputs:
            if edge.term is None:
                continue
            assert edge.local is not None  # every op of this graph is elementwise
            np.testing.assert_allclose(np.asarray(op.upstream) * edge.local, edge.term.grad, rtol=1e-12)
    net = mlp()
    matmuls = [e for op in trace(net.loss).ops if op.name == "MatMul" for e in op.inputs]
    assert matmuls and all(e.local is None for e in matmuls)  # not elementwise: no local value


@pytest.mark.parametrize("renderer", ["dot", "builtin"])
def test_deliver1_draw_can_label_each_arrow_with_its_chain_rule_step(renderer):
    tr = trace(neuron())
    if renderer == "dot":
        needs_graphviz()
        svg = render_svg(to_digraph(tr, chain=True))
    else:
        svg = layout.svg(tr, chain=True)
    labels = [words(" ".join(texts(e))) for e in groups(parse_svg(svg), "edge").values()]
    assert "0.5 × 2 = 1" in labels  # w1 -> Mul: upstream 0.5 times x1 = 2
    assert "1 × 0.5 = 0.5" in labels  # n -> Tanh
    plain = [words(" ".join(texts(e))) for e in groups(parse_svg(svg_of(tr, renderer)), "edge").values()]
    assert not [label for label in plain if "×" in label]


def test_deliver2_grad_states_show_question_marks_then_running_sums_then_the_final_value():
    g = micrograd()[0]
    tr = trace(g)
    info = by_name(tr)["a"]
    states = grad_states(tr, info.id)
    assert [s[0] for s in states] == [0] + [t.step for t in info.terms]
    assert states[0][1] == "?"
    assert [s[1].endswith(f"({i} of 5 terms)") for i, s in enumerate(states[1:-1], start=1)] == [True] * 4
    assert states[-1][1] == "138.8338"
    assert not [s for s in states[:-1] if "138.8338" in s[1] or "138.8338" in s[2]]
    root = grad_states(tr, tr.output)
    assert root == [(0, "1", "1")]  # the seed is known from the start


def test_deliver3_rankdir_and_precision():
    needs_graphviz()
    o = neuron()
    assert "rankdir=LR" in draw(o, rankdir="LR").source
    assert "rankdir=TB" in draw(o).source
    with pytest.raises(ValueError, match="rankdir"):
        draw(o, rankdir="sideways")
    with pytest.raises(ValueError, match="precision"):
        draw(o, precision=0)
    assert "0.707" in draw(o, precision=3).source and "0.7071068" not in draw(o, precision=3).source
    assert "0.7071068" in draw(o).source


def test_deliver3_save_takes_the_same_options(tmp_path):
    needs_graphviz()
    text = save(neuron(), tmp_path / "o.dot", rankdir="LR", precision=3, chain=True).read_text()
    assert "rankdir=LR" in text and "0.707" in text and "0.7071068" not in text and "0.5 × 2 = 1" in text


def test_deliver3_the_built_in_layout_draws_left_to_right():
    tr = trace(neuron())
    nodes = groups(parse_svg(layout.svg(tr, rankdir="LR")), "node")

    def left(node_id: str) -> float:
        return float(nodes[node_id].find("{http://www.w3.org/2000/svg}rect").get("x"))

    names = {info.name: tid for tid, info in tr.tensors.items()}
    assert left(names["w1"]) < left(names["n"]) < left(names["o"])


def test_defect9_a_big_tensor_gets_statistics_and_a_heatmap_not_every_number():
    x = Tensor(np.random.default_rng(0).normal(size=(64, 20)), name="x")
    w = Tensor(np.random.default_rng(1).normal(size=(20, 100)) * 0.1, requires_grad=True, name="w")
    loss = (x @ w).relu().sum()
    tr = trace(loss)
    data = page_data(tr, "builtin")
    wt = next(t for t in data["tensors"].values() if t["name"] == "w")
    assert wt["value_map"]["rows"] * wt["value_map"]["cols"] <= 32 * 50
    assert wt["grad_map"] is not None and wt["value"].startswith("min ")
    assert all(len(state[2]) < 200 for state in wt["states"])
    assert "e-0" not in wt["value"] and len(wt["value"]) < 200
    small = next(t for t in data["tensors"].values() if t["shape"] == "()")
    assert small["value_map"] is None


def test_defect10_draw_displays_in_a_notebook_without_the_dot_program(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no `dot` on PATH: graphviz's own display would fail
    net = mlp()
    graph = draw(net.loss)
    try:
        import pygraphviz  # noqa: F401

        bundle = graph._repr_mimebundle_()  # drawn by pygraphviz, as save() would
        assert "image/svg+xml" in bundle and len(groups(parse_svg(bundle["image/svg+xml"]), "op")) == 8
    except ImportError:
        pass
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # no renderer at all: the built-in layout
    svg = draw(net.loss)._repr_mimebundle_()["image/svg+xml"]
    assert 'font-family="monospace"' in svg and len(groups(parse_svg(svg), "op")) == 8


def test_deliver5_page_without_a_path_shows_itself_inline(tmp_path):
    o = neuron()
    shown = page(o, renderer="builtin")
    assert isinstance(shown, Page)
    inline = shown._repr_html_()
    assert inline.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in inline
    assert "<script>" not in inline  # the page is inside the attribute, escaped
    assert shown.html == page_html(trace(o), "builtin")
    assert "://" not in re.sub(r'xmlns(:\w+)?="[^"]*"', "", shown.html)
    saved = shown.save(tmp_path / "o.html")
    assert saved.read_text() == shown.html
    assert isinstance(page(o, tmp_path / "p.html", renderer="builtin"), Path)


def test_defect3_the_highlight_colour_is_used_by_nothing_else_and_casts_no_glow():
    text = page_html(trace(neuron()), "builtin")
    style = text[text.index("<style>") : text.index("</style>")]
    assert "drop-shadow" not in style and "filter" not in style
    current = re.search(r"g\.current polygon[^{]*\{ stroke: (#\w+)", style).group(1)
    assert current.lower() not in {REDUCED_COLOUR.lower(), NONFINITE_COLOUR.lower(), "#d50000"}
    picture = text[text.index("<svg") : text.index("</svg>")]
    assert current.lower() not in picture.lower()


def test_deliver6_exercise_data_holds_the_expected_answers_and_hints():
    g = micrograd()[0]
    data = page_data(trace(g), "builtin", exercise=True)
    assert data["exercise"] and data["tolerance"] == {"rtol": 0.01, "atol": 0.001}
    mul = next(op for op in data["ops"].values() if op["step"] == 18)  # Mul(a, b)
    asks = {ask["name"]: ask for ask in mul["asks"]}
    assert asks["a"]["expected"] == [pytest.approx(166.60058309)]
    assert "Mul's local derivative for a is b" in asks["a"]["hint"]
    assert "asks" not in page_data(trace(g), "builtin")["ops"]["op1"]  # not in the plain page


# ----------------------------------------------------------------------------- check_backward


def source_like_graph():
    rng = np.random.default_rng(0)
    x, true = rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    w1, w2 = rng.normal(size=(4, 5)) * 0.5, rng.normal(size=(5, 3)) * 0.5
    b1, b2 = np.zeros(5), np.zeros(3)
    X, T = Tensor(x, name="x"), Tensor(true, name="true")
    W1, B1 = Tensor(w1, requires_grad=True, name="w1"), Tensor(b1, requires_grad=True, name="b1")
    W2, B2 = Tensor(w2, requires_grad=True, name="w2"), Tensor(b2, requires_grad=True, name="b2")
    z = X @ W1 + B1
    z.name = "z"
    a = z.relu()
    a.name = "a"
    pred = a @ W2 + B2
    pred.name = "pred"
    return ((pred - T) ** 2).sum()


def fc_backward(x, w, z_grad, bias=np.sum):
    return z_grad @ w.T, x.T @ z_grad, bias(z_grad, 0)


def test_check_backward_accepts_a_right_backward_in_the_sources_style():
    def my_backward(x, true, w1, w2, z, a, pred):
        pred_grad = 2 * (pred - true)
        a_grad, w2_grad, b2_grad = fc_backward(a, w2, pred_grad)
        z_grad = a_grad * (z > 0)
        _, w1_grad, b1_grad = fc_backward(x, w1, z_grad)
        return {"pred": pred_grad, "a_grad": a_grad, "z": z_grad, "w1_grad": w1_grad, "b1_grad": b1_grad,
                "w2_grad": w2_grad, "b2_grad": b2_grad}  # fmt: skip

    assert check_backward(my_backward, source_like_graph()) is True
    assert check_backward(lambda v: {"w2": fc_backward(v["a"], v["w2"], 2 * (v["pred"] - v["true"]))[1]},
                          source_like_graph())  # fmt: skip


def test_check_backward_names_the_first_wrong_tensor_and_the_sources_mean():
    def sources_backward(x, true, w1, w2, z, a, pred):  # the source's fc_backward: a mean for the bias
        pred_grad = 2 * (pred - true)
        a_grad, w2_grad, b2_grad = fc_backward(a, w2, pred_grad, np.mean)
        z_grad = a_grad * (z > 0)
        _, w1_grad, b1_grad = fc_backward(x, w1, z_grad, np.mean)
        return {"w1": w1_grad, "b1": b1_grad, "w2": w2_grad, "b2": b2_grad, "pred": pred_grad}

    with pytest.raises(AssertionError) as err:
        check_backward(sources_backward, source_like_graph())
    message = str(err.value)
    assert message.startswith("check_backward: the gradient of b2 is wrong")  # before b1: nearer the loss
    assert "divided by 8 everywhere (a mean where the engine sums?)" in message
    assert "Add(" in message and "(pred matched)" in message

    def wrong_relu(x, true, w1, w2, z, a, pred):
        pred_grad = 2 * (pred - true)
        a_grad, w2_grad, _ = fc_backward(a, w2, pred_grad)
        return {"z": a_grad * (z < 0), "w2": w2_grad}  # the mask the wrong way round

    with pytest.raises(AssertionError, match=r"the gradient of z is wrong at every element.*ReLU"):
        check_backward(wrong_relu, source_like_graph())

    def one_slip(v):
        pred_grad = 2 * (v["pred"] - v["true"])
        pred_grad[2, 1] += 1.0
        return {"pred": pred_grad}

    with pytest.raises(AssertionError, match=r"wrong at 1 of 24 elements, first at index \(2, 1\)"):
        check_backward(one_slip, source_like_graph())
    with pytest.raises(AssertionError, match="wrong sign"):
        check_backward(lambda v: {"pred": -2 * (v["pred"] - v["true"])}, source_like_graph())
    with pytest.raises(AssertionError, match=r"has shape \(3,\), but w2 has shape \(5, 3\)"):
        check_backward(lambda v: {"w2": np.zeros(3)}, source_like_graph())


def test_check_backward_says_what_it_needs():
    with pytest.raises(ValueError, match="names no tensor.*a, b1, b2, pred, true, w1, w2, x, z"):
        check_backward(lambda v: {"hidden": 0.0}, source_like_graph())
    with pytest.raises(TypeError, match="takes nope"):
        check_backward(lambda x, nope: {}, source_like_graph())
    with pytest.raises(TypeError, match="must return a dict"):
        check_backward(lambda v: [1.0], source_like_graph())
