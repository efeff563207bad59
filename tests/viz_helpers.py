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
