"""Redraw the pictures in docs/img: ``python docs/img/screenshots.py`` from the repository's root.

* ``seed_mlp.svg``: the source's trained network, as ``examples/seed_mlp.py`` draws it;
* ``page_neuron.png``: the lecture's neuron ``tanh(x1*w1 + x2*w2 + b)`` in ``viz.page``'s default
  view, at step 2 (the chain rule in the panel, ``?`` on the gradients backward has not reached);
* ``page_seed_mlp.png``: the source's network (batch 64, 20 -> 100 -> 10) in the same view, at
  step 4, where the bias's gradient is summed over the batch.

Needs Graphviz's ``dot``, Playwright for Python and the system's Chromium (``CHROMIUM`` to
point elsewhere); never ``playwright install``.
"""

from __future__ import annotations

import os
import runpy
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from autograd import Tensor, viz

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def neuron() -> Tensor:
    x1, x2 = Tensor(2.0, name="x1"), Tensor(0.0, name="x2")
    w1 = Tensor(-3.0, requires_grad=True, name="w1")
    w2 = Tensor(1.0, requires_grad=True, name="w2")
    b = Tensor(6.8813735870195432, requires_grad=True, name="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    for t, name in [(x1w1, "x1*w1"), (x2w2, "x2*w2"), (s, "x1*w1 + x2*w2"), (n, "n"), (o, "o")]:
        t.name = name
    return o


def source_network() -> Tensor:
    """The source's forward pass at its initial weights, as in part 2 of the tutorial."""
    np.random.seed(0)
    x, true = np.random.randn(64, 20), np.random.randn(64, 10)
    w1, w2 = np.random.randn(20, 100) * 0.1, np.random.randn(100, 10) * 0.1
    X, TRUE = Tensor(x, name="x"), Tensor(true, name="true")
    W1, B1 = Tensor(w1, requires_grad=True, name="w1"), Tensor(np.zeros(100), requires_grad=True, name="b1")
    W2, B2 = Tensor(w2, requires_grad=True, name="w2"), Tensor(np.zeros(10), requires_grad=True, name="b2")
    z = X @ W1 + B1
    a = z.relu()
    pred = a @ W2 + B2
    loss = ((pred - TRUE) ** 2).sum()
    for t, name in [(z, "z"), (a, "a"), (pred, "pred"), (loss, "S")]:
        t.name = name
    return loss


def screenshot(html: Path, png: Path, steps: int, size: tuple[int, int] = (1280, 760)) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": size[0], "height": size[1]})
        tab.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
        tab.goto(html.as_uri())
        for _ in range(steps):
            tab.keyboard.press("ArrowRight")
        tab.screenshot(path=str(png))
        browser.close()
    print("wrote", png.relative_to(ROOT))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        runpy.run_path(str(ROOT / "examples" / "seed_mlp.py"), run_name="seed_mlp")["main"](["--out", folder])
        (HERE / "seed_mlp.svg").write_text((out / "seed_mlp.svg").read_text())
        print("wrote", (HERE / "seed_mlp.svg").relative_to(ROOT))
        screenshot(viz.page(neuron(), out / "neuron.html"), HERE / "page_neuron.png", steps=2)
        screenshot(viz.page(source_network(), out / "network.html"), HERE / "page_seed_mlp.png", steps=4)


if __name__ == "__main__":
    main()
