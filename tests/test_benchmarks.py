"""The benchmark harness runs (``--tiny``), writes the JSON it documents, and checks its contenders.

No timing assertions: figures depend on the machine. What is checked is that every section
ran, and that every contender computed the same loss as the minimal hand-written numpy step
(step), as micrograd (scalar) and as PyTorch (transformer).
"""

import dataclasses
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
    assert report["step"]["reference"] == "minimal" == bench.CONTENDERS[0]
    results = report["step"]["results"]
    assert {(e["size"], e["dtype"]) for e in results} == {("tiny", "float64"), ("tiny", "float32")}
    for e in results:
        check = e["check"]
        assert check["agree"] is True
        assert e["reference"] == check["reference"] == "minimal"
        ran = set(e["contenders"])
        assert {"minimal", "numpy", "autograd", "nn"} <= ran
        assert ran | set(e["skipped"]) == set(bench.CONTENDERS)
        assert next(iter(e["contenders"])) == "minimal"
        # Re-check from the raw figures: every contender's step-0 (and step-1) loss is the minimal step's.
        for step in ("loss_step0", "loss_step1"):
            reference = check[step]["minimal"]
            assert positive(reference)
            for name in ran:
                assert check[step][name] == pytest.approx(reference, rel=bench.RTOL[e["dtype"]])
        for r in e["contenders"].values():
            assert positive(r["median_us"]) and positive(r["ratio_to_minimal"])
            assert len(r["samples_us"]) == report["settings"]["repeats"]
            assert r["steps_per_repeat"] >= 1
        # The ratios are to the minimal step: its own is exactly 1, and numpy's is its time over minimal's.
        assert e["contenders"]["minimal"]["ratio_to_minimal"] == 1.0
        numpy, minimal = e["contenders"]["numpy"], e["contenders"]["minimal"]
        assert numpy["ratio_to_minimal"] == pytest.approx(numpy["median_us"] / minimal["median_us"])
        assert "unused x_grad" in e["labels"]["numpy"]


def test_compiled_contender_runs_or_is_skipped(report, bench):
    for e in report["step"]["results"]:
        if "compiled" in e["contenders"]:  # it ran: so its losses were checked and agreed
            for step in ("loss_step0", "loss_step1"):
                expected = pytest.approx(e["check"][step]["minimal"], rel=bench.RTOL[e["dtype"]])
                assert e["check"][step]["compiled"] == expected
        else:
            assert e["skipped"]["compiled"] == "autograd.compile not available"
            assert not hasattr(bench.autograd, "compile")


def test_compiled_hook(bench, monkeypatch):
    """With an autograd.compile (here the identity), the compiled contender trains like the others."""
    monkeypatch.setattr(bench.autograd, "compile", lambda f: f, raising=False)
    assert bench.missing_reason("compiled") is None
    size = bench.SIZES["tiny"]
    problem = bench.make_problem(size, "float64")
    contenders = {name: bench.STEP_CLASSES[name](problem, size) for name in ("minimal", "compiled")}
    check = bench.check_losses(contenders, bench.RTOL["float64"])
    assert check["reference"] == "minimal" and check["agree"] is True


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


def test_scalar_section(report, bench):
    scalar = report["scalar"]
    if bench.MicrogradValue is None:
        assert "micrograd" in scalar["skipped"]
        return
    check = scalar["check"]
    assert check["agree"] is True and check["micrograd_matches_readme"] is True
    for lib in scalar["libraries"]:
        values = check["values"][lib]
        assert values["g"] == pytest.approx(24.70408163265306, rel=1e-9)
        assert values["a.grad"] == pytest.approx(138.83381924198252, rel=1e-9)
        assert values["b.grad"] == pytest.approx(645.5772594752186, rel=1e-9)
    assert scalar["libraries"][:2] == ["micrograd", "autograd"]
    assert [row["case"] for row in scalar["rows"]] == ["a", "b", "c"]
    assert [row["target_ratio"] for row in scalar["rows"]] == [1.0, 2.5, None]
    for row in scalar["rows"]:
        for lib in scalar["libraries"]:
            assert positive(row[f"{lib}_us"]) and positive(row[f"{lib}_ratio_to_micrograd"])
        assert row["micrograd_ratio_to_micrograd"] == 1.0
        assert row["meets_target"] in ((True, False) if row["target_ratio"] else (None,))


def test_scalar_check_catches_a_wrong_value(bench, monkeypatch):
    if bench.MicrogradValue is None:
        pytest.skip("micrograd is not installed")
    wrong_a = ("Tensor(-4.5, requires_grad=True)", "Tensor(2.0, requires_grad=True)")  # a = -4.5, not -4
    monkeypatch.setitem(bench.SCALAR_LEAVES, "autograd", wrong_a)
    check = bench.check_readme_example(["micrograd", "autograd"])
    assert check["agree"] is False and check["disagree"] == ["autograd"]


def test_transformer_section(report, bench):
    block = report["transformer"]
    assert block["shape"] == dataclasses.asdict(bench.BLOCK_SHAPES["tiny"])
    if bench.torch is None:
        assert "torch" in block["skipped"]
        return
    check = block["check"]
    assert check["agree"] is True and check["reference"] == "torch"
    for step in ("loss_step0", "loss_step1"):
        assert positive(check[step]["torch"])
        assert check[step]["autograd"] == pytest.approx(check[step]["torch"], rel=1e-9)
    assert check["loss_step1"]["torch"] < check["loss_step0"]["torch"]  # one SGD step lowers the loss
    assert set(block["contenders"]) == {"torch", "autograd"}
    for r in block["contenders"].values():
        assert positive(r["median_ms"]) and len(r["samples_us"]) == report["settings"]["repeats"]
    assert block["ratio"] == block["contenders"]["autograd"]["ratio_to_torch"] and positive(block["ratio"])
    assert isinstance(block["meets_target"], bool) and block["target"] == 1.5
    assert block["threads"]["torch_threads"] == 1
    assert block["threads"]["threadpoolctl"] == (bench.threadpool_limits is not None)


def test_transformer_check_catches_a_wrong_step(bench):
    if bench.torch is None:
        pytest.skip("torch is not installed")
    shape = bench.BLOCK_SHAPES["tiny"]
    data, params = bench.make_block_problem(shape)

    # Twice the learning rate: the same step-0 loss, a different step 1.
    wrong = bench.BlockAutogradStep(data, params, dataclasses.replace(shape, lr=2 * shape.lr))
    contenders = {"torch": bench.BlockTorchStep(data, params, shape), "autograd": wrong}
    check = bench.check_losses(contenders, bench.BLOCK_RTOL, "torch")
    assert check["loss_step0"]["autograd"] == pytest.approx(check["loss_step0"]["torch"], rel=1e-12)
    assert check["agree"] is False and check["disagree"] == ["autograd"]


def test_a_wrong_contender_is_caught(bench):
    """The check is what makes the timings mean anything: a wrong gradient must fail it."""
    size = bench.SIZES["tiny"]
    problem = bench.make_problem(size, "float64")

    class WrongBias(bench.AutogradStep):  # updates biases with the full lr: a different step 1
        def __init__(self, p, size):
            super().__init__(p, size)
            self.params = [(t, size.lr) for t, _ in self.params]

    contenders = {"minimal": bench.MinimalStep(problem, size), "autograd": WrongBias(problem, size)}
    check = bench.check_losses(contenders, bench.RTOL["float64"])
    assert check["loss_step0"]["autograd"] == pytest.approx(check["loss_step0"]["minimal"], rel=1e-12)
    assert check["agree"] is False and check["disagree"] == ["autograd"]
