"""Pictures and terminal output against hostile input (issue 11, items 27-29).

* ``draw(size=...)`` reaches the DOT text: only Graphviz's size syntax passes;
* a name of 20,000 characters is cut in the pictures (full in the tooltip and the page's
  panel), and when Graphviz fails on a graph anyway, ``save(".svg")`` and ``page()`` fall
  back to the built-in layout;
* ESC and BEL from op class names, docstrings and argument values never reach ``explain``,
  the DOT text or the page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

import autograd.viz.files as viz_files
from autograd import Function, Tensor
from autograd.viz import RenderFailed, draw, explain, page, save
from autograd.viz.page import page_html
from autograd.viz.replay import trace

viz_page = sys.modules["autograd.viz.page"]  # (the package's name `page` is the function)

HAVE_GRAPHVIZ = shutil.which("dot") is not None
try:
    import graphviz  # noqa: F401
except ImportError:
    HAVE_GRAPHVIZ = False
needs_graphviz = pytest.mark.skipif(not HAVE_GRAPHVIZ, reason="needs graphviz and Graphviz's dot")


def small_graph(name: str = "x") -> Tensor:
    x = Tensor([1.0, -2.0], requires_grad=True, name=name)
    return (x * x).sum()


# ----------------------------------------------------------------------------- draw(size=...)


@needs_graphviz
@pytest.mark.parametrize(
    "size",
    [
        '10,14"; node [URL="javascript:alert(1)"]; "',
        "10,14] a -> b [",
        "javascript:alert(1)",
        "10;14",
        "",
        "-3",
        True,
        None.__class__,
    ],
)
def test_draw_refuses_a_size_that_is_not_graphviz_inches(size):
    with pytest.raises(ValueError, match="draw: size must be inches"):
        draw(small_graph(), size=size)


@needs_graphviz
@pytest.mark.parametrize(("size", "expected"), [("10,14", "10,14"), ("7.5", "7.5"), ("10,14!", "10,14!"), (8, "8")])
def test_draw_takes_graphviz_sizes(size, expected):
    graph = draw(small_graph(), size=size)
    assert f"size={expected}" in graph.source or f'size="{expected}"' in graph.source
    assert "javascript" not in graph.source


# ----------------------------------------------------------------------------- long labels


LONG = "n" * 20_000


@needs_graphviz
def test_a_very_long_name_is_cut_in_the_picture_and_the_svg_renders(tmp_path):
    path = save(small_graph(LONG), tmp_path / "long.svg")
    svg = path.read_text()
    assert "n" * 77 + "..." in svg
    shown = re.findall(r">(n+)(?:\.\.\.)?<", svg)  # the text of every label made of the name
    assert shown and max(len(run) for run in shown) == 77  # cut; only the tooltip holds more
    assert len(svg) < 60_000


def test_a_very_long_name_is_whole_in_the_pages_panel_and_cut_in_its_picture(tmp_path):
    html = page_html(trace(small_graph(LONG)), "builtin")
    assert LONG in html  # the panel's data: the full name
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "n" * 77 + "..." in svg and "n" * 81 not in svg


@needs_graphviz
def test_page_with_a_very_long_name_uses_graphviz_successfully(tmp_path):
    html = page(small_graph(LONG), tmp_path / "long.html").read_text()
    assert LONG in html and "n" * 77 + "..." in html


def _failing_render(*args, **kwargs):
    raise subprocess.CalledProcessError(1, ["dot"], stderr=b"syntax error in line 1")


@needs_graphviz
def test_save_svg_falls_back_to_the_built_in_layout_when_graphviz_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(viz_files, "render", _failing_render)
    with pytest.warns(RuntimeWarning, match="built-in layout"):
        path = save(small_graph(), tmp_path / "g.svg")
    svg = path.read_text()
    assert svg.startswith("<svg") and 'font-family="monospace"' in svg  # the built-in layout's picture


@needs_graphviz
@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_save_of_other_formats_says_graphviz_failed(tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(viz_files, "render", _failing_render)
    with pytest.raises(RenderFailed, match="save as .svg or .dot"):
        save(small_graph(), tmp_path / f"g{suffix}")
    assert not (tmp_path / f"g{suffix}").exists()


def test_page_falls_back_to_the_built_in_layout_when_graphviz_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(viz_page, "render_svg", _failing_render)
    html = page(small_graph(), tmp_path / "g.html").read_text()
    assert '"renderer": "builtin"' in html or "builtin" in html
    with pytest.raises(subprocess.CalledProcessError):
        page(small_graph(), tmp_path / "h.html", renderer="dot")


# ----------------------------------------------------------------------------- control characters


class Loud(Function):
    """y = 2 x \x1b[31mRED\x1b[0m ring the bell \x07;  dy/dx = 2"""

    @staticmethod
    def forward(ctx, x, tag):
        return x.data * 2.0

    @staticmethod
    def backward(ctx, grad):
        return grad * 2.0, None


Loud.__name__ = Loud.__qualname__ = "Loud\x1b]0;pwned\x07"

CONTROL = ["\x1b", "\x07"]


def loud_graph() -> Tensor:
    x = Tensor(np.ones(2), requires_grad=True, name="x\x1b[2J")
    return Loud.apply(x, "tag\x1b[5m\x07").sum()


def test_explain_shows_no_control_characters_from_code():
    text = explain(loud_graph(), color=False)
    assert "Loud" in text and "RED" in text
    for ch in CONTROL:
        assert ch not in text, repr(ch)
    assert "\\x1b" in text  # shown, escaped


def test_explain_in_colour_adds_only_its_own_colour_codes():
    text = explain(loud_graph(), color=True)
    assert "\x07" not in text and "]0;pwned" not in text.replace("\\x1b]0;pwned", "")
    assert "\x1b[2J" not in text and "\x1b[5m" not in text


@pytest.mark.parametrize("renderer", ["builtin", pytest.param("dot", marks=needs_graphviz)])
def test_the_page_shows_no_control_characters_from_code(renderer):
    html = page_html(trace(loud_graph()), renderer)
    for ch in CONTROL:
        assert ch not in html, repr(ch)


@needs_graphviz
def test_the_dot_text_holds_no_control_characters_from_code():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = draw(loud_graph()).source
    for ch in CONTROL:
        assert ch not in source, repr(ch)
