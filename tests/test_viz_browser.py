"""The interactive page in a real headless browser: Debian's chromium driven by Playwright.

Skipped when Playwright or chromium is missing, but with CI=true that is a failure.
Never run ``playwright install``: the browser is the system's /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from viz_helpers import HOSTILE, mlp, require

import autograd
from autograd import Tensor
from autograd.engine import topological_order
from autograd.viz import page
from autograd.viz.replay import full_text, summarize

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDERERS = ["builtin", "dot"] if shutil.which("dot") else ["builtin"]
if os.environ.get("CI") == "true":
    RENDERERS = ["builtin", "dot"]  # on CI, dot must be there: the dot case fails if it is not


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require(sync_playwright is not None, "needs Playwright for Python (pip install playwright)")
    require(Path(CHROMIUM).exists(), f"needs chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as err:  # noqa: BLE001 - any launch failure means "no browser here"
            require(False, f"chromium did not start: {err}")
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """Open an HTML file with every network request blocked and recorded, and dialogs recorded."""
    contexts = []

    def opener(path: Path):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        tab = context.new_page()
        tab.requests, tab.dialogs, tab.errors = [], [], []

        def route(request_route):
            tab.requests.append(request_route.request.url)
            request_route.abort()

        context.route(lambda url: not url.startswith("file:"), route)
        tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
        tab.on("pageerror", lambda err: tab.errors.append(str(err)))
        tab.clock.install()  # so "play" can be fast-forwarded
        tab.goto(path.resolve().as_uri())
        return tab

    yield opener
    for context in contexts:
        context.close()


def current_op(tab) -> str | None:
    ids = tab.eval_on_selector_all("#ui-graph g.node.current", "els => els.map(e => e.id)")
    assert len(ids) <= 1
    return ids[0] if ids else None


def panel(tab) -> str:
    return tab.inner_text("#ui-step")


def node_id(tab, name: str) -> str:
    """The id of the tensor named ``name``, from the page's data."""
    return tab.evaluate(
        "name => Object.entries(data.tensors).find(([id, t]) => t.name === name)[0]", name
    )


@pytest.mark.parametrize("renderer", RENDERERS)
def test_next_follows_the_engines_backward_order_and_shows_the_grads(open_page, tmp_path, renderer):
    net = mlp()
    order = topological_order([net.loss.grad_fn])
    made = {t.grad_fn: t for t in [net.loss, *net.intermediates.values()]}  # mlp() keeps them alive
    outputs = [made[node] for node in order]
    upstream = autograd.grad(net.loss, outputs, retain_graph=True)
    net.loss.backward()  # a plain backward first: the page must not need the graph
    tab = open_page(page(net.loss, tmp_path / "page.html", renderer=renderer))

    assert tab.get_attribute("body", "data-step") == "0" and current_op(tab) is None
    w1 = node_id(tab, "w1")
    for k, (node, grad) in enumerate(zip(order, upstream), start=1):
        tab.click("#ui-next")
        assert tab.get_attribute("body", "data-step") == str(k)
        assert current_op(tab) == f"op{k}"
        text = panel(tab)
        assert f"step {k} of {len(order)}: {node.name}(" in text
        assert f"= {summarize(grad.data)}" in text  # the gradient this op receives
        badge = tab.eval_on_selector(f"#op{k} text", "el => el.textContent")  # the first <text>
        assert badge.split()[0] == str(k)
        pending = "pending" in tab.get_attribute(f"#{w1}", "class")
        assert pending == (k < len(order))  # w1's grad is complete only after the last op
    tab.click("#ui-next")  # the end: every leaf's gradient
    text = panel(tab)
    for name in ("w1", "b1", "w2", "b2"):
        assert f"dloss/d{name} {net.leaves[name].shape} = {summarize(net.leaves[name].grad.data)}" in text
    assert tab.eval_on_selector_all("#ui-graph .pending", "els => els.length") == 0
    assert tab.requests == [] and tab.errors == []


def test_arrow_keys_slider_and_play(open_page, tmp_path):
    net = mlp()
    steps = len(topological_order([net.loss.grad_fn])) + 1
    tab = open_page(page(net.loss, tmp_path / "page.html", renderer="builtin"))
    for _ in range(3):
        tab.keyboard.press("ArrowRight")
    assert current_op(tab) == "op3"
    tab.keyboard.press("ArrowLeft")
    assert current_op(tab) == "op2"
    tab.keyboard.press("End")
    assert tab.get_attribute("body", "data-step") == str(steps)
    tab.fill("#ui-slider", "5")  # sets the value and fires "input"
    assert current_op(tab) == "op5"
    tab.keyboard.press("Home")
    tab.click("#ui-play")
    assert tab.inner_text("#ui-play").endswith("pause")
    tab.clock.run_for(1000 * (steps + 2))
    assert tab.get_attribute("body", "data-step") == str(steps)
    assert tab.inner_text("#ui-play").endswith("play")  # stopped at the end


@pytest.mark.parametrize("renderer", RENDERERS)
def test_clicking_a_node_shows_its_full_value_and_grad(open_page, tmp_path, renderer):
    net = mlp()
    net.loss.backward()
    tab = open_page(page(net.loss, tmp_path / "page.html", renderer=renderer))
    tab.click(f"#{node_id(tab, 'b1')}")
    details = tab.inner_text("#ui-details")
    assert details.splitlines()[0] == "b1"
    assert full_text(net.leaves["b1"].data) in details
    assert full_text(net.leaves["b1"].grad.data) in details
    assert "complete after step" in details  # at step 0 b1's grad is not final yet
    tab.click(f"#{node_id(tab, 'x')}")
    details = tab.inner_text("#ui-details")
    assert full_text(net.leaves["x"].data) in details and "(no grad)" in details
    tab.click("#op3")  # an op: its rule, and the walk jumps to its step
    assert current_op(tab) == "op3" and "rule" in tab.inner_text("#ui-details")


@pytest.mark.parametrize("renderer", RENDERERS)
def test_a_hostile_name_is_shown_as_text_and_runs_nothing(open_page, tmp_path, renderer):
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name=HOSTILE)
    loss = (a * a).sum()
    loss.name = HOSTILE
    tab = open_page(page(loss, tmp_path / "page.html", renderer=renderer))
    assert tab.inner_text("#ui-name") == HOSTILE
    tab.click(f"#{node_id(tab, HOSTILE)}")
    assert tab.inner_text("#ui-details").splitlines()[0] == HOSTILE
    tab.click("#ui-next")
    assert HOSTILE in panel(tab)
    assert tab.eval_on_selector_all("script", "els => els.length") == 2
    assert tab.eval_on_selector_all("#ui-graph g.node.tensor", "els => els.length") == 3
    assert tab.eval_on_selector_all("x, b[label], #ui-graph script", "els => els.length") == 0
    assert tab.dialogs == [] and tab.errors == [] and tab.requests == []
