"""Shared test set-up: hypothesis profiles (``CI=true`` selects the thorough, derandomized one)."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The examples folder holds the source itself (source_numpy.py), which tests import.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
