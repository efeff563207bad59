"""Shared graphs and SVG readers for the viz tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np

from autograd import Tensor

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script>"] ; x [label=<b>'


@dataclass
class MLP:
    """A 2-layer MLP on raw Tensors: loss = mean(((x @ w1 + b1).relu() @ w2 + b2 - y) ** 2)."""

    loss: Tensor
    leaves: dict[str, Tensor]
    intermediates: dict[str, Tensor] = field(default_factory=dict)


def mlp(seed: int = 0, n: int = 4, d_in: int = 3, d_hidden: int = 5, d_out: int = 2, keep: bool = True) -> MLP:
    """Build the MLP; ``keep=False`` drops every reference to the intermediate tensors."""
    rng = np.random.default_rng(seed)
    leaves = {
        "x": Tensor(rng.normal(size=(n, d_in)), name="x"),
        "y": Tensor(rng.normal(size=(n, d_out)), name="y"),
        "w1": Tensor(rng.normal(size=(d_in, d_hidden)), requires_grad=True, name="w1"),
        "b1": Tensor(rng.normal(size=d_hidden) * 0.1, requires_grad=True, name="b1"),
        "w2": Tensor(rng.normal(size=(d_hidden, d_out)), requires_grad=True, name="w2"),
        "b2": Tensor(rng.normal(size=d_out) * 0.1, requires_grad=True, name="b2"),
    }
    x, y, w1, b1, w2, b2 = (leaves[k] for k in ("x", "y", "w1", "b1", "w2", "b2"))
    mid = {}
    mid["xw1"] = x @ w1
    mid["z1"] = mid["xw1"] + b1
    mid["h"] = mid["z1"].relu()
    mid["hw2"] = mid["h"] @ w2
    mid["pred"] = mid["hw2"] + b2
    mid["err"] = mid["pred"] - y
    mid["sq"] = mid["err"] ** 2
    loss = mid["sq"].mean()
    loss.name = "loss"
    for name, t in mid.items():
        t.name = name
    return MLP(loss, leaves, mid if keep else {})


def parse_svg(svg: str) -> ET.Element:
    """The SVG document as an XML tree (fails on anything that is not well-formed XML)."""
    return ET.fromstring(svg)


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def groups(root: ET.Element, cls: str) -> dict[str, ET.Element]:
    """``{id: <g>}`` for every SVG group with the class ``cls`` ("node", "edge")."""
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if cls in classes(g)}


def texts(element: ET.Element) -> list[str]:
    """The text of every <text> inside ``element``, in document order."""
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def edge_ends(edge: ET.Element) -> tuple[str, str]:
    """(source id, target id) of an edge, from its <title> "t5->op3" (as Graphviz writes it)."""
    source, target = edge.find(f"{SVG}title").text.split("->")
    return source, target


def require(condition: bool, reason: str) -> None:
    """Skip when something optional is missing, but fail when CI=true: there it must run."""
    import os

    import pytest

    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, where this must not be skipped")
    pytest.skip(reason)


def neuron(keep_names: bool = True) -> Tensor:
    """The lecture's neuron o = tanh(x1*w1 + x2*w2 + b), built inside a function: once it
    returns, only the graph holds the intermediates (and their names)."""
    x1, x2 = Tensor(2.0, name="x1"), Tensor(0.0, name="x2")
    w1 = Tensor(-3.0, requires_grad=True, name="w1")
    w2 = Tensor(1.0, requires_grad=True, name="w2")
    b = Tensor(6.8813735870195432, requires_grad=True, name="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    if keep_names:
        x1w1.name, x2w2.name, s.name, n.name, o.name = "x1*w1", "x2*w2", "x1*w1 + x2*w2", "n", "o"
    return o


def micrograd() -> tuple[Tensor, Tensor, Tensor]:
    """micrograd's README example: (g, a, b); a.grad = 138.8338, b.grad = 645.5773. a is used
    in five ops, b in five."""
    a = Tensor(-4.0, requires_grad=True, name="a")
    b = Tensor(2.0, requires_grad=True, name="b")
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.name = "g"
    return g, a, b
