"""The README's Python examples run, and print what the README says they do."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_its_examples():
    assert len(python_blocks()) >= 2


def test_the_ten_line_example_runs_and_its_gradients_have_the_parameters_shapes():
    namespace: dict = {}
    exec(python_blocks()[0], namespace)  # noqa: S102 - the README's own code
    assert namespace["w"].grad.shape == (20, 10) and namespace["b"].grad.shape == (10,)
    assert np.isfinite(namespace["loss"].item())


def test_the_scalar_example_gives_the_gradients_its_comment_states():
    block = python_blocks()[1]
    namespace: dict = {}
    exec("from autograd import Tensor\n" + block, namespace)  # noqa: S102
    stated = re.search(r"\(Tensor\(([-\d.]+)\), Tensor\(([-\d.]+)\)\)", block)
    assert stated is not None
    assert namespace["a"].grad.item() == float(stated.group(1))  # dc/da = b = 2
    assert namespace["b"].grad.item() == float(stated.group(2))  # dc/db = a + 3 b**2 = 8
