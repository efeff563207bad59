"""The contributor's checks and CI's agree: .pre-commit-config.yaml pins the versions of ruff and
mypy that pyproject's ``lint`` extra pins (and CI installs), and .ci/run runs all three checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]


def lint_pins() -> dict[str, str]:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["lint"]
    pins = dict(re.fullmatch(r"([a-z-]+)==([0-9.]+)", req).groups() for req in extra)
    assert set(pins) == {"ruff", "mypy"}, extra
    return pins


def test_pre_commit_pins_the_lint_extras_versions():
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    found = re.findall(r'"(ruff|mypy)==([0-9.]+)"', config)
    assert {name for name, _ in found} == {"ruff", "mypy"}, found
    pins = lint_pins()
    for name, version in found:
        assert version == pins[name], (
            f".pre-commit-config.yaml pins {name}=={version}, pyproject's lint extra {pins[name]}"
        )


def test_ci_runs_ruff_check_ruff_format_and_mypy():
    commands = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    for wanted in ("ruff check .", "ruff format --check .", "mypy"):
        assert wanted in commands, f".ci/run does not run `{wanted}`"
    assert 'python -m pip install -q -e ".[lint]"' in commands
