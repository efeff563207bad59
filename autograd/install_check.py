"""Is the folder Python imported ``autograd`` (or ``nn``) from this library's alone?

Two other PyPI packages use these import names: HIPS autograd (``pip install autograd``,
pulled in by lifelines, PennyLane, pymanopt...) and ``nn``. pip installs a second package of
the same name into the same folder without a warning, file over file, and both break in
obscure ways ("cannot import name 'hessian' from 'autograd'"). ``import autograd`` and
``import nn`` look for files only the other package has, and say what happened instead.
"""

from __future__ import annotations

from pathlib import Path

# Files that the other package of each name has and this library never has.
FOREIGN = {
    "autograd": ("core.py", "tracer.py", "wrap_util.py", "differential_operators.py"),
    "nn": ("core.py", "ops.py", "optimizers.py"),
}
OTHER = {
    "autograd": "HIPS autograd (PyPI's `autograd`, which lifelines, PennyLane, pymanopt and others install)",
    "nn": "PyPI's `nn` package",
}
PYPI_NAME = {"autograd": "autograd", "nn": "nn"}


def advice(package: str, folder: Path) -> str:
    return (
        f"import {package}: the folder {folder} holds files of two different packages named "
        f"{package!r}: this library (autograd-seed) and {OTHER[package]}. pip installed one over the "
        f"other, so neither works. They cannot share one environment. Fix: use a fresh virtual "
        f"environment for each (python -m venv .venv && . .venv/bin/activate && pip install -e .), or "
        f"here run `pip uninstall -y {PYPI_NAME[package]} autograd-seed`, delete {folder} if it "
        "remains, and reinstall the one you want."
    )


def check(package: str, folder: Path) -> None:
    """Raise ImportError if ``folder`` (this package's) also holds the other package's files."""
    found = [name for name in FOREIGN[package] if (folder / name).exists()]
    if found:
        raise ImportError(advice(package, folder) + f" (found its files: {', '.join(found)})")
