"""The sdist and the wheel, built as a release builds them (issue item "Packaging").

* the wheel holds the packages ``autograd`` and ``nn`` -- every file of them in the checkout, both
  ``py.typed`` markers among them (PEP 561) -- and a METADATA whose version is
  ``autograd.__version__`` and whose classifiers include ``Typing :: Typed``; no tests, examples,
  caches or egg-info;
* the sdist holds the packages, README.md, LICENSE and pyproject.toml, and no tests: they need the
  whole repository (examples/, docs/, benchmarks/, .ci/), so MANIFEST.in prunes them and the
  repository stays the place to run them;
* the wheel built from the sdist holds the same files as the wheel built from the checkout.

``python -m build`` builds from a copy of the checkout (no build/, dist/ or egg-info lands in it)
in isolated environments, whose setuptools comes from the package index. One build of each, shared
with tests/test_install.py. Where the build cannot run the tests skip, except with CI=true: there
they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

import autograd

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn")
NAME = f"autograd_seed-{autograd.__version__}"  # how file names spell "autograd-seed" and its version

# In a checkout but not part of it: version control, caches, environments, earlier builds.
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".ci-venv",
    ".ci-out",
    ".hypothesis",
    ".*_cache",
    "__pycache__",
    "*.py[cod]",
    "*.egg-info",
    "build",
    "dist",
)
# The sdist's top level: what MANIFEST.in lets through, and what setuptools writes itself.
SDIST_TOP = {"autograd", "nn", "README.md", "LICENSE", "pyproject.toml", "MANIFEST.in", "PKG-INFO"}
SDIST_GENERATED = {"setup.cfg", "autograd_seed.egg-info"}
CLASSIFIERS = [
    "Typing :: Typed",  # the py.typed markers ship
    "Operating System :: OS Independent",  # pure Python on numpy
    "Programming Language :: Python :: 3.10",  # requires-python's floor
    "Intended Audience :: Education",
]


@dataclass(frozen=True)
class Artifacts:
    source: Path  # the copy of the checkout they were built from
    sdist: Path
    wheel: Path  # built from the checkout
    wheel_from_sdist: Path


def require(condition: bool, reason: str) -> None:
    """Skip when the build cannot run here, but fail when CI=true: there it must run."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}\nCI=true, where this test must not be skipped")
    pytest.skip(reason)


def python_build(source: Path, out: Path, *what: str) -> None:
    """``python -m build [what] --outdir out source``; with no ``what``: the sdist, then the wheel from that sdist."""
    command = [sys.executable, "-m", "build", *what, "--outdir", str(out), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    require(
        result.returncode == 0,
        f"cannot build here: {' '.join(command)}\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}",
    )


_built: Artifacts | None = None


def build_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    """The sdist and the two wheels, built once per test session (tests/test_install.py uses the wheel)."""
    global _built
    if _built is None:
        work = tmp_path_factory.mktemp("artifacts")
        source = work / "checkout"
        shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
        python_build(source, work / "via-sdist")
        python_build(source, work / "from-checkout", "--wheel")
        _built = Artifacts(
            source=source,
            sdist=work / "via-sdist" / f"{NAME}.tar.gz",
            wheel=work / "from-checkout" / f"{NAME}-py3-none-any.whl",
            wheel_from_sdist=work / "via-sdist" / f"{NAME}-py3-none-any.whl",
        )
    return _built


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    return build_artifacts(tmp_path_factory)


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(archive.namelist())


def sdist_files(sdist: Path) -> list[str]:
    """The sdist's files (not its folders), without the leading ``autograd_seed-<version>/``."""
    with tarfile.open(sdist) as archive:
        return sorted(member.name.removeprefix(f"{NAME}/") for member in archive.getmembers() if member.isfile())


def package_files(source: Path) -> list[str]:
    """Every file of the two packages in the checkout (caches aside), as ``autograd/ops/conv.py``."""
    return sorted(
        path.relative_to(source).as_posix()
        for package in PACKAGES
        for path in (source / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}
    )


def in_packages(names: list[str]) -> list[str]:
    return [name for name in names if name.split("/")[0] in PACKAGES]


def strays(names: list[str]) -> list[str]:
    """What must not ship: the tests and the rest of the repository, caches, egg-info."""
    elsewhere = ("tests/", "examples/", "docs/", "benchmarks/", ".ci/")
    return [
        name for name in names if name.startswith(elsewhere) or "__pycache__" in name or name.endswith((".pyc", ".pyo"))
    ]


def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        return Parser().parsestr(archive.read(f"{NAME}.dist-info/METADATA").decode("utf-8"))


# ----------------------------------------------------------------------------- the wheel


def test_the_wheel_holds_every_file_of_both_packages_and_their_py_typed(artifacts):
    names = wheel_files(artifacts.wheel)
    assert "autograd/py.typed" in names and "nn/py.typed" in names
    assert {"autograd/__init__.py", "autograd/ops/conv.py", "nn/optim/__init__.py"} <= set(names)
    # Every module of the checkout, and nothing the checkout lacks (a data file that is not .py
    # ships only if [tool.setuptools.package-data] names it).
    assert in_packages(names) == package_files(artifacts.source)


def test_the_wheel_holds_nothing_but_the_packages_and_its_dist_info(artifacts):
    names = wheel_files(artifacts.wheel)
    assert {name.split("/")[0] for name in names} == {"autograd", "nn", f"{NAME}.dist-info"}
    assert strays(names) == []
    assert not [name for name in names if ".egg-info" in name]
    dist_info = sorted(
        name.removeprefix(f"{NAME}.dist-info/") for name in names if name.startswith(f"{NAME}.dist-info/")
    )
    assert dist_info == ["METADATA", "RECORD", "WHEEL", "licenses/LICENSE", "top_level.txt"]


def test_the_metadata_has_autograd___version___and_the_classifiers(artifacts):
    meta = metadata(artifacts.wheel)
    assert meta["Name"] == "autograd-seed"
    assert meta["Version"] == autograd.__version__  # one version, written in autograd/__init__.py
    classifiers = meta.get_all("Classifier")
    assert [c for c in CLASSIFIERS if c not in classifiers] == []
    # license = "MIT" is an SPDX expression (PEP 639): no "License ::" classifier beside it.
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert meta["Requires-Python"] == ">=3.10"
    assert "automatic differentiation" in meta["Keywords"].split(",")
    # numpy is the only runtime dependency; everything else is an extra.
    assert [d for d in meta.get_all("Requires-Dist") if "extra ==" not in d] == ["numpy>=2.0"]
    # The README is the long description, as Markdown.
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload() == (artifacts.source / "README.md").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- the sdist


def test_the_sdist_holds_the_packages_readme_license_and_pyproject_and_no_tests(artifacts):
    names = sdist_files(artifacts.sdist)
    top = {name.split("/")[0] for name in names}
    assert SDIST_TOP <= top and top - SDIST_TOP <= SDIST_GENERATED, sorted(top)
    assert in_packages(names) == package_files(artifacts.source)
    assert "autograd/py.typed" in names and "nn/py.typed" in names
    assert strays(names) == []


def test_the_sdist_metadata_is_the_wheels(artifacts):
    with tarfile.open(artifacts.sdist) as archive:
        pkg_info = archive.extractfile(f"{NAME}/PKG-INFO")
        assert pkg_info is not None
        assert Parser().parsestr(pkg_info.read().decode("utf-8")).items() == metadata(artifacts.wheel).items()


def test_the_wheel_built_from_the_sdist_is_the_wheel_built_from_the_checkout(artifacts):
    assert wheel_files(artifacts.wheel_from_sdist) == wheel_files(artifacts.wheel)
    with zipfile.ZipFile(artifacts.wheel) as ours, zipfile.ZipFile(artifacts.wheel_from_sdist) as theirs:
        assert [name for name in ours.namelist() if ours.read(name) != theirs.read(name)] == []
