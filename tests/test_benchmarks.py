"""The benchmark harness runs (``--tiny``), writes the JSON it documents, and checks its contenders.

No timing assertions: figures depend on the machine. What is checked is that every section
ran, and that every contender computed the same loss as the hand-written numpy step.
"""

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(bench, tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "out.json"
    assert bench.main(["--tiny", "--json", str(path)]) == 0
    return json.loads(path.read_text())


def positive(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_machine_and_settings(report):
    assert report["schema"] == 1
    assert report["checks_passed"] is True
    machine = report["machine"]
    for key in ("cpu_model", "logical_cores", "python", "numpy", "numpy_build", "threadpools", "torch", "mygrad"):
        assert key in machine
    assert report["settings"]["tiny"] is True
    assert report["settings"]["sizes"] == ["tiny"]


def test_step_section_losses_agree(report, bench):
    results = report["step"]["results"]
    assert {(e["size"], e["dtype"]) for e in results} == {("tiny", "float64"), ("tiny", "float32")}
    for e in results:
        check = e["check"]
        assert check["agree"] is True
        ran = set(e["contenders"])
        assert {"numpy", "autograd", "nn"} <= ran
        assert ran | set(e["skipped"]) == set(bench.CONTENDERS)
        # Re-check from the raw figures: every contender's step-0 (and step-1) loss is numpy's.
        for step in ("loss_step0", "loss_step1"):
            reference = check[step]["numpy"]
            assert positive(reference)
            for name in ran:
                assert check[step][name] == pytest.approx(reference, rel=bench.RTOL[e["dtype"]])
        for name, r in e["contenders"].items():
            assert positive(r["median_us"]) and positive(r["ratio_to_numpy"])
            assert len(r["samples_us"]) == report["settings"]["repeats"]
            assert r["steps_per_repeat"] >= 1
        assert e["contenders"]["numpy"]["ratio_to_numpy"] == 1.0


def test_chain_section(report):
    chain = report["chain"]
    assert set(chain["runs"]) == {"200", "2000"}
    for run in chain["runs"].values():
        assert positive(run["total_s"]) and positive(run["us_per_op"])
    assert positive(chain["time_ratio"]) and isinstance(chain["meets_target"], bool)


def test_memory_section(report):
    memory = report["memory"]
    assert set(memory["loops"]) == {"numpy", "nn"}
    for loop in memory["loops"].values():
        assert loop["peak_bytes"] >= loop["setup_bytes"] > 0
    assert positive(memory["peak_ratio"]) and memory["steps"] == 5


def test_overhead_section(report):
    overhead = report["overhead"]
    assert "autograd" in overhead["libraries"]
    assert len(overhead["rows"]) == 5
    for row in overhead["rows"]:
        assert positive(row["numpy_us"])
        for lib in overhead["libraries"]:
            if lib == "micrograd" and "no_grad" in row["op"]:  # it has no no_grad: no figure
                assert row[f"{lib}_us"] is None
                continue
            assert positive(row[f"{lib}_us"]) and positive(row[f"{lib}_ratio_to_numpy"])


def test_a_wrong_contender_is_caught(bench):
    """The check is what makes the timings mean anything: a wrong gradient must fail it."""
    size = bench.SIZES["tiny"]
    problem = bench.make_problem(size, "float64")

    class WrongBias(bench.AutogradStep):  # updates biases with the full lr: a different step 1
        def __init__(self, p, size):
            super().__init__(p, size)
            self.params = [(t, size.lr) for t, _ in self.params]

    contenders = {"numpy": bench.NumpyStep(problem, size), "autograd": WrongBias(problem, size)}
    check = bench.check_losses(contenders, bench.RTOL["float64"])
    assert check["loss_step0"]["autograd"] == pytest.approx(check["loss_step0"]["numpy"], rel=1e-12)
    assert check["agree"] is False and check["disagree"] == ["autograd"]
