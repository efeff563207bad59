"""docs/tutorial.ipynb: its saved outputs are all there, and a fresh run reproduces them.

The notebook is committed with its outputs, so that it reads well on a code host without being
run. These tests check that those outputs are complete, then run a temporary copy top to bottom
with nbclient (the committed file is never touched) and compare the key printed numbers.

Running the notebook needs nbclient, nbformat and ipykernel (and Graphviz's ``dot`` for the
picture in part 3). Without them these tests are skipped, except with CI=true, where a skip
would hide a broken tutorial, so it is a failure instead.

After changing the notebook (or the library's printed output), refresh the saved outputs with

    python tests/test_docs.py

which executes docs/tutorial.ipynb in place with this Python and this checkout's packages.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
CELL_TIMEOUT = 120  # seconds per cell
MAX_BYTES = 300_000
# The source's own last printed line: 500 2.3711536645661272e-05 (the last digits move with the BLAS).
SOURCE_FINAL_LOSS = 2.3711536645661272e-05
SOURCE_RTOL = 1e-9
# A fresh run on the same machine prints the same digits; a different BLAS may move the last few.
RTOL = 1e-10

# Printed values that a fresh run must reproduce. Each pattern is matched line by line against
# all of the notebook's printed text; numbers are compared to RTOL, everything else exactly.
KEY_LINES = {
    # "500 2.37115366456614e-05": the hand-written loop's losses, then nn's
    "training losses": r"^(\d+) (\d\.\d+(?:e-\d+)?)$",
    # "b2_grad    (10,)   ...   64": autograd's gradient / the source's
    "gradient ratios": r"^(\w+_grad) .*   (\d+)$",
    # "printed loss (the mean) : mse_grad / gradient = 640"
    "mse_grad factors": r"^(.*): mse_grad / gradient = (\d+)$",
    "gradcheck verdicts": r"^(True|False)$",
    "gradcheck catching the wrong backward": r"^at random x: (.*)$",
    "Newton's method": r"^step (\d+)  loss (\S+)",
}


# ----------------------------------------------------------------------------- helpers


def require(condition: bool, reason: str) -> None:
    """Skip when something optional is missing, but fail when CI=true: there it must run."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, where this test must not be skipped")
    pytest.skip(reason)


def missing_packages() -> list[str]:
    return [name for name in ("nbclient", "nbformat", "ipykernel") if importlib.util.find_spec(name) is None]


def load(path: Path = NOTEBOOK) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def source(cell: dict[str, Any]) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def printed_text(nb: dict[str, Any]) -> str:
    """Everything the notebook printed to stdout, cell after cell."""
    parts = []
    for cell in code_cells(nb):
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream" and out["name"] == "stdout":
                text = out["text"]
                parts.append(text if isinstance(text, str) else "".join(text))
    return "".join(parts)


def output_kinds(cell: dict[str, Any]) -> list[str]:
    """What a cell showed: "stream:stdout", "execute_result:image/svg+xml,text/plain", ..."""
    kinds = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            kind = f"stream:{out['name']}"
            if not kinds or kinds[-1] != kind:  # a stream may arrive in pieces
                kinds.append(kind)
        elif out["output_type"] in ("execute_result", "display_data"):
            kinds.append(f"{out['output_type']}:{','.join(sorted(out['data']))}")
        else:
            kinds.append(out["output_type"])
    return kinds


def shows_something(code: str) -> bool:
    """True if a cell calls print, or ends with a bare value (``graph``) that the notebook shows.

    (A cell ending with a call may show nothing: ``np.set_printoptions(...)`` returns None.)
    """
    tree = ast.parse(code)
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not isinstance(tree.body[-1].value, ast.Call):
        return True
    return any(isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print" for node in ast.walk(tree))


def same_value(a: str, b: str) -> bool:
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    return math.isclose(x, y, rel_tol=RTOL, abs_tol=0.0)


def key_values(text: str) -> dict[str, list[tuple[str, ...]]]:
    found = {}
    for label, pattern in KEY_LINES.items():
        matches = re.findall(pattern, text, flags=re.MULTILINE)
        found[label] = [m if isinstance(m, tuple) else (m,) for m in matches]
    return found


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """Kernels started inside run this Python with this checkout's packages on the path.

    A kernelspec named python3 in a temporary folder put first on JUPYTER_PATH wins over any
    python3 kernel installed elsewhere (which might be another Python without numpy).
    """
    saved = {key: os.environ.get(key) for key in ("JUPYTER_PATH", "PYTHONPATH")}
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder, "kernels", "python3")
        spec.mkdir(parents=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        spec.joinpath("kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
        )
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [folder, saved["JUPYTER_PATH"]]))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved["PYTHONPATH"]]))
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def execute(path: Path) -> None:
    """Run the notebook at ``path`` top to bottom in its own folder and save it with its outputs."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        record_timing=False,  # no timestamps in the saved file
        resources={"metadata": {"path": str(path.parent)}},
    )
    with kernel_environment():
        client.execute()
    for cell in nb.cells:  # one output per stream, as a reader sees it
        if cell.cell_type != "code":
            continue
        merged: list[Any] = []
        for out in cell.outputs:
            last = merged[-1] if merged else None
            if (
                out.output_type == "stream"
                and last is not None
                and last.output_type == "stream"
                and last.name == out.name
            ):
                last.text += out.text
            else:
                merged.append(out)
        cell.outputs = merged
    nbformat.write(nb, path)


# ----------------------------------------------------------------------------- the committed file


def test_committed_notebook_has_its_outputs() -> None:
    """Every code cell was run, in order, in one session, and shows what it prints."""
    nb = load()
    assert NOTEBOOK.stat().st_size < MAX_BYTES, f"{NOTEBOOK.name} is {NOTEBOOK.stat().st_size} bytes"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    cells = code_cells(nb)
    counts = [cell.get("execution_count") for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"execution counts {counts}: the saved notebook was not run top to bottom in one go; "
        "refresh it with `python tests/test_docs.py`"
    )
    for number, cell in enumerate(cells, start=1):
        outputs = cell.get("outputs", [])
        errors = [out for out in outputs if out["output_type"] == "error"]
        assert not errors, f"code cell {number} saved an error: {errors[0].get('ename')}: {errors[0].get('evalue')}"
        if shows_something(source(cell)):
            assert outputs, (
                f"code cell {number} prints or shows a value, but its saved outputs are missing:\n{source(cell)}"
            )
    pictures = [c for c in cells if any("image/svg+xml" in o.get("data", {}) for o in c.get("outputs", []))]
    assert pictures, "the graph picture of part 3 (viz.draw) is not among the saved outputs"


def test_committed_notebook_shows_the_sources_numbers() -> None:
    """The saved run reproduces the source's final loss and its gradient conventions."""
    values = key_values(printed_text(load()))
    losses = values["training losses"]
    finals = [float(loss) for step, loss in losses if step == "500"]
    assert len(finals) == 2, f"expected the hand-written and the nn runs to print step 500, found {losses}"
    for final in finals:
        assert math.isclose(final, SOURCE_FINAL_LOSS, rel_tol=SOURCE_RTOL), final
    assert dict(values["gradient ratios"]) == {
        "pred_grad": "1",
        "w2_grad": "1",
        "b2_grad": "64",
        "w1_grad": "1",
        "b1_grad": "64",
    }
    assert [factor for _, factor in values["mse_grad factors"]] == ["1", "10", "640"]


# ----------------------------------------------------------------------------- a fresh run


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The notebook run anew, top to bottom, in a temporary copy."""
    missing = missing_packages()
    require(not missing, f"running the tutorial needs {', '.join(missing)} (pip install nbclient nbformat ipykernel)")
    require(shutil.which("dot") is not None, "the tutorial's picture needs Graphviz's dot (apt-get install graphviz)")
    from nbclient.exceptions import CellExecutionError

    copy = tmp_path_factory.mktemp("tutorial") / NOTEBOOK.name
    shutil.copyfile(NOTEBOOK, copy)
    try:
        execute(copy)
    except CellExecutionError as err:
        pytest.fail(f"docs/tutorial.ipynb failed when run top to bottom:\n{err}")
    return load(copy)


def test_fresh_run_shows_what_was_saved(fresh: dict[str, Any]) -> None:
    """Each cell shows the same kinds of output as the saved notebook (a picture, printed text, ...)."""
    saved, new = code_cells(load()), code_cells(fresh)
    assert [source(c) for c in saved] == [source(c) for c in new]
    for number, (old, cell) in enumerate(zip(saved, new), start=1):
        assert output_kinds(cell) == output_kinds(old), (
            f"code cell {number} now shows {output_kinds(cell)}, the saved notebook {output_kinds(old)}; "
            f"refresh it with `python tests/test_docs.py`:\n{source(cell)}"
        )


@pytest.mark.parametrize("label", list(KEY_LINES))
def test_fresh_run_prints_the_saved_numbers(fresh: dict[str, Any], label: str) -> None:
    saved = key_values(printed_text(load()))[label]
    new = key_values(printed_text(fresh))[label]
    assert saved, f"no {label!r} lines in the saved notebook (pattern {KEY_LINES[label]!r})"
    assert len(new) == len(saved), f"{label}: the fresh run printed {new}, the saved notebook {saved}"
    for old, value in zip(saved, new):
        assert len(old) == len(value) and all(map(same_value, old, value)), (
            f"{label}: the fresh run printed {value}, the saved notebook {old}; if the change is "
            "intended, refresh it with `python tests/test_docs.py`"
        )


if __name__ == "__main__":
    missing = missing_packages()
    if missing:
        sys.exit(f"needs {', '.join(missing)}: pip install nbclient nbformat ipykernel")
    execute(NOTEBOOK)
    print(f"executed and saved {NOTEBOOK.relative_to(ROOT)} ({NOTEBOOK.stat().st_size} bytes)")
