"""The wheel, living beside the other packages named ``autograd`` and ``nn`` (issue 14).

(What the wheel and the sdist hold is tests/test_artifacts.py's, which builds the wheel used here.)

* in a fresh virtual environment, HIPS autograd (PyPI's ``autograd``) installed *before* this
  wheel makes ``import autograd`` raise an ImportError that names HIPS autograd and the fix,
  instead of breaking the other package's users obscurely; installed *after* it (its
  ``__init__.py`` over ours), ``import nn`` says the same.
* with the wheel installed, a user's ``mypy --strict`` reads the packages' hints (py.typed).

These build real environments with pip (about a minute); they are skipped where pip cannot
reach a package index.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from test_artifacts import build_artifacts


def pip(python: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """This project's wheel (built from the checkout, by tests/test_artifacts.py) and HIPS autograd's (from the index)."""
    ours = build_artifacts(tmp_path_factory).wheel
    out = tmp_path_factory.mktemp("wheels")
    hips = pip(sys.executable, "download", "--no-deps", "-d", str(out), "autograd==1.7.0")
    if hips.returncode != 0:
        pytest.skip(f"no package index reachable for HIPS autograd: {hips.stderr[-300:]}")
    found = {p.name.split("-")[0]: p for p in out.glob("*.whl")}
    return {"ours": ours, "hips": found["autograd"]}


def environment(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    venv.create(folder, with_pip=True)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    numpy = pip(python, "install", "numpy>=2.0")
    if numpy.returncode != 0:
        pytest.skip(f"cannot install numpy into a fresh environment: {numpy.stderr[-300:]}")
    return python


def run(python: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, cwd="/")


def test_hips_autograd_installed_first_is_named_on_import(wheels, tmp_path):
    python = environment(tmp_path, "hips-then-ours")
    assert pip(python, "install", "--no-deps", str(wheels["hips"])).returncode == 0
    assert pip(python, "install", "--no-deps", str(wheels["ours"])).returncode == 0
    result = run(python, "import autograd")
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "HIPS autograd" in result.stderr
    assert "fresh virtual environment" in result.stderr and "pip uninstall -y autograd autograd-seed" in result.stderr


def test_hips_autograd_installed_after_is_named_by_import_nn(wheels, tmp_path):
    python = environment(tmp_path, "ours-then-hips")
    assert pip(python, "install", "--no-deps", str(wheels["ours"])).returncode == 0
    assert run(python, "import autograd, nn; print(autograd.Tensor)").returncode == 0  # alone, it works
    assert pip(python, "install", "--no-deps", str(wheels["hips"])).returncode == 0
    result = run(python, "import nn")
    assert result.returncode != 0
    assert (
        "ImportError" in result.stderr
        and "HIPS autograd" in result.stderr
        and "fresh virtual environment" in result.stderr
    )


USER_PROGRAM = """
from typing import Any

import numpy as np

import autograd
import nn
import nn.functional as F
from autograd import Function, Tensor, no_grad


class Cube(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.asarray(x.data) ** 3

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


model = nn.MLP([4, 8, 2])
opt = nn.optim.Adam(model.parameters(), lr=1e-3)
x = autograd.randn(16, 4)
loss = F.mse_loss(model(x), autograd.zeros(16, 2))
opt.zero_grad()
loss.backward()
opt.step()
with no_grad():
    z: Tensor = (x @ Tensor(np.ones((4, 1)))).relu().sum(axis=0)
w = Tensor(np.ones(3), requires_grad=True)
Cube.apply(w).sum().backward()
"""


def test_a_users_strict_mypy_reads_the_installed_packages_hints(wheels, tmp_path):
    """py.typed at work: in an environment with the wheel installed (not editable), a user's
    ``mypy --strict`` checks a typical program against the library's hints: clean as written,
    and a wrong argument type is reported (without py.typed, mypy would see only Any)."""
    python = environment(tmp_path, "users-mypy")
    assert pip(python, "install", "--no-deps", str(wheels["ours"])).returncode == 0
    installed = pip(python, "install", "mypy==2.4.1")
    if installed.returncode != 0:
        pytest.skip(f"cannot install mypy into a fresh environment: {installed.stderr[-300:]}")

    def mypy(source: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / "user.py").write_text(source)
        return subprocess.run(
            [str(python), "-m", "mypy", "--strict", "--no-incremental", "user.py"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )

    clean = mypy(USER_PROGRAM)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    wrong = mypy(USER_PROGRAM + 'loss.backward(retain_graph="yes")\n')
    assert wrong.returncode == 1 and 'Argument "retain_graph" to "backward" of "Tensor"' in wrong.stdout, wrong.stdout
