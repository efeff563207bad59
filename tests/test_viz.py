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
from viz_helpers import HOSTILE, MLP, classes, edge_ends, groups, mlp, parse_svg, require, texts

import autograd
from autograd import Tensor, ops
from autograd.engine import topological_order
from autograd.viz import GraphvizNotFound, draw, explain, layout, page, save, trace
from autograd.viz.dot import render_svg, to_digraph
from autograd.viz.explain import use_color
from autograd.viz.page import page_html
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
    assert boxes["loss"][2:] == [f"value {(a.data @ b.data).sum():.4g}", "grad 1"]
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
    text = explain(net.loss, color=False)
    order = topological_order([net.loss.grad_fn])
    titles = re.findall(r"^step (\d+) of (\d+): (\w+)\(", text, flags=re.M)
    assert [(int(k), int(n), name) for k, n, name in titles] == [
        (k, len(order), node.name) for k, node in enumerate(order, start=1)
    ]
    for node in order:  # the rule is the first line of the op's docstring
        assert "rule      " + inspect.getdoc(node.fn).splitlines()[0] in text
    assert "C = A @ B;  dL/dA = dL/dC @ B^T" in text
    assert "to b1 (as b): (4, 5) summed over axis 0 -> (5,) (un-broadcast)" in text
    assert "to x (as a): needs no gradient (a constant)" in text
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
    text = explain(z, color=False)
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
    assert "(term 1 of 3)" in text and "(term 3 of 3)" in text


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
