"""Every script in examples/ runs, at reduced size, and does what it says.

Each example runs as a user runs it (``python examples/NAME.py ...`` in a fresh interpreter)
with the reduced arguments in ``RUNS``; its check then looks at what it printed and wrote.
The list of examples comes from a glob, so a new script without an entry in ``RUNS`` fails
here until it gets one.

``seed_mlp.py`` also runs in-process at full size: its printed losses must be the source's,
recomputed below with the source's own numpy algorithm (hand-derived gradients, no autograd).

``makemore_mlp.py``, ``tiny_gpt.py`` and ``digits_cnn.py`` also train in-process at their
``--tiny`` size through ``main()``, which returns their figures: the loss must fall well below
guessing (or the accuracy beat chance), and the same seed must give the same run.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import source_numpy

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def example_scripts() -> list[str]:
    """Every runnable script in examples/ (names starting with "_" would be helpers, not scripts)."""
    return sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


# ----------------------------------------------------------------------------- helpers


def printed_number(stdout: str, label: str) -> float:
    """The number on the line ``<label> <number>`` that the script printed (exactly one such line)."""
    found = re.findall(rf"^{re.escape(label)} ([-+0-9.eE]+)$", stdout, re.M)
    assert len(found) == 1, f"expected one line '{label} <number>' in the output, got {found!r}:\n{stdout}"
    return float(found[0])


def step_losses(stdout: str) -> list[tuple[int, float]]:
    """The ``step loss`` lines seed_mlp prints, as (step, loss) pairs."""
    pairs = re.findall(r"^(\d+) (\S+)$", stdout, re.M)
    return [(int(step), float(loss)) for step, loss in pairs]


def assert_png(path: Path) -> None:
    """``path`` is a PNG that decodes to a picture with something drawn on it."""
    import matplotlib.image

    assert path.is_file(), f"{path.name} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] >= 200 and image.shape[1] >= 200, image.shape
    assert image[..., :3].std() > 0.05, f"{path.name} is (nearly) blank"


# ----------------------------------------------------------------------------- per-example runs


def check_digits(stdout: str, out: Path) -> None:
    assert_png(out / "digits.png")
    # 5 epochs reach ~0.93 on the held-out quarter (the full 30 reach ~0.97); chance is 0.1
    assert printed_number(stdout, "test accuracy") >= 0.90
    assert printed_number(stdout, "train accuracy") >= 0.90
    assert "epoch" not in stdout, "--quiet should print no per-epoch lines"


def check_moons(stdout: str, out: Path) -> None:
    assert_png(out / "moons.png")
    # 150 steps fit the moons (~0.99 on the training points); a straight line gets ~0.87
    assert printed_number(stdout, "train accuracy") >= 0.95
    assert printed_number(stdout, "test accuracy") >= 0.90
    assert printed_number(stdout, "final loss") < 0.2


def check_seed_mlp(stdout: str, out: Path) -> None:
    losses = step_losses(stdout)
    assert [step for step, _ in losses] == list(range(0, 51, 10))
    values = [loss for _, loss in losses]
    assert all(b < a for a, b in zip(values, values[1:])), f"the loss should fall at every report: {values}"
    assert not list(out.iterdir()), "--no-pictures should write nothing"


def check_source_numpy(stdout: str, out: Path) -> None:
    """The source's own script prints its first six losses, the same as seed_mlp's."""
    assert step_losses(stdout) == source_losses(51)


def check_makemore_mlp(stdout: str, out: Path) -> None:
    # 20 steps: the command line works and prints its figures (test_makemore_mlp_learns trains longer)
    assert 0 < printed_number(stdout, "val loss") < printed_number(stdout, "initial val loss") + 0.5
    assert re.search(r"^samples: ", stdout, re.MULTILINE), stdout
    assert "step" not in stdout, "--quiet should print no per-step lines"


def check_tiny_gpt(stdout: str, out: Path) -> None:
    # 5 steps: the command line works and prints its figures (test_tiny_gpt_learns trains longer)
    assert 0 < printed_number(stdout, "val loss") < printed_number(stdout, "initial val loss") + 0.5
    assert re.search(r"^sample:\nThe ", stdout, re.MULTILINE), stdout
    assert "step" not in stdout, "--quiet should print no per-step lines"


def check_digits_cnn(stdout: str, out: Path) -> None:
    # one epoch reaches ~0.8 on the held-out quarter (the default 15 reach ~0.98); chance is 0.1
    assert printed_number(stdout, "test accuracy") >= 0.5
    assert "epoch" not in stdout, "--quiet should print no per-epoch lines"


@dataclass
class Run:
    args: list[str]  # reduced-size arguments
    check: Callable[[str, Path], None]  # (stdout, out folder) -> asserts
    writes_files: bool = True  # if so, --out is added


RUNS: dict[str, Run] = {
    "digits.py": Run(["--epochs", "5", "--quiet"], check_digits),
    "digits_cnn.py": Run(["--tiny", "--epochs", "1", "--quiet"], check_digits_cnn, writes_files=False),
    "makemore_mlp.py": Run(["--tiny", "--steps", "20", "--quiet"], check_makemore_mlp, writes_files=False),
    "moons.py": Run(["--steps", "150", "--quiet"], check_moons),
    # pictures need autograd.viz and Graphviz: test_seed_mlp_pictures covers them
    "seed_mlp.py": Run(["--steps", "51", "--no-pictures"], check_seed_mlp),
    "source_numpy.py": Run(["--steps", "51"], check_source_numpy, writes_files=False),
    "tiny_gpt.py": Run(
        ["--tiny", "--steps", "5", "--eval-windows", "16", "--sample-length", "10", "--quiet"],
        check_tiny_gpt,
        writes_files=False,
    ),
}


def test_every_example_has_a_run() -> None:
    scripts = set(example_scripts())
    assert scripts, f"no examples found in {EXAMPLES}"
    assert not scripts - set(RUNS), f"add a reduced-size run to RUNS for: {sorted(scripts - set(RUNS))}"
    assert not set(RUNS) - scripts, f"RUNS names scripts that do not exist: {sorted(set(RUNS) - scripts)}"


@pytest.mark.parametrize("name", example_scripts())
def test_example_runs(name: str, tmp_path: Path) -> None:
    if name not in RUNS:
        pytest.fail(f"examples/{name} has no entry in RUNS: give it reduced-size arguments and a check")
    run = RUNS[name]
    out = tmp_path / "out"
    out.mkdir()
    # The project's folder on the path, so the run works from a checkout as well as an install
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *run.args, *(["--out", str(out)] if run.writes_files else [])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"examples/{name} failed:\n{result.stdout}\n{result.stderr}"
    run.check(result.stdout, out)


# ----------------------------------------------------------------------------- seed_mlp, exactly


def source_losses(steps: int = 501) -> list[tuple[int, float]]:
    """The source's own run (examples/source_numpy.py): its printed ``(step, loss)`` lines."""
    printed: list[tuple[int, float]] = []
    source_numpy.train(steps, report=lambda step, loss: printed.append((step, loss)))
    return printed


@pytest.fixture(scope="module")
def seed_mlp_main() -> Callable[[list[str]], None]:
    return runpy.run_path(str(EXAMPLES / "seed_mlp.py"))["main"]


def test_seed_mlp_prints_the_sources_losses(seed_mlp_main, capsys) -> None:
    seed_mlp_main(["--no-pictures"])
    stdout = capsys.readouterr().out
    got = step_losses(stdout)
    expected = source_losses()
    assert [step for step, _ in got] == [step for step, _ in expected] == list(range(0, 501, 10))
    for (step, loss), (_, want) in zip(got, expected):
        assert loss == pytest.approx(want, rel=1e-6), f"step {step}: printed {loss}, the source's algorithm {want}"
    # The source's last line is `500 2.3711536645661272e-05`; the last digits move with the BLAS.
    last = stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"500 2\.37115366456\d*e-05", last), last


def test_seed_mlp_consistent_loss_decreases(seed_mlp_main, capsys) -> None:
    seed_mlp_main(["--no-pictures", "--consistent"])
    got = step_losses(capsys.readouterr().out)
    assert [step for step, _ in got] == list(range(0, 501, 10))
    values = [loss for _, loss in got]
    assert values[0] == pytest.approx(source_losses(1)[0][1], rel=1e-12), "same data and weights at step 0"
    assert all(b < a for a, b in zip(values, values[1:])), f"the mean loss should fall at every report: {values}"
    # The mean loss's gradient is 640x smaller than the source's summed one: a slower descent
    assert values[-1] < 0.95 * values[0]
    assert values[-1] > 10 * source_losses()[-1][1]


def test_seed_mlp_pictures(seed_mlp_main, capsys, tmp_path: Path) -> None:
    pytest.importorskip("autograd.viz", reason="the pictures need autograd.viz (the viz extra)")
    seed_mlp_main(["--steps", "11", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert "no pictures" not in captured.err, captured.err
    svg = (tmp_path / "seed_mlp.svg").read_text()
    html = (tmp_path / "seed_mlp.html").read_text()
    assert "<svg" in svg and "</svg>" in svg
    assert "<html" in html.lower()


# ----------------------------------------------------------------------------- makemore, GPT, convnet: in-process


def example_main(name: str) -> Callable[[list[str]], dict]:
    """The ``main`` of examples/``name``, loaded as a script is (examples/ is not a package)."""
    return runpy.run_path(str(EXAMPLES / name))["main"]


def test_makemore_mlp_learns_to_spell(capsys) -> None:
    """--tiny (300 steps): the held-out words' loss falls well below uniform guessing (ln 27 = 3.30)."""
    result = example_main("makemore_mlp.py")(["--tiny", "--quiet"])
    assert result["words"] > 2000
    assert result["initial_val_loss"] > 3.0  # an untrained model is about as good as guessing
    assert result["val_loss"] < min(result["initial_val_loss"] - 0.4, np.log(27) - 0.4), result["val_loss"]
    assert result["train_loss"] < result["initial_val_loss"] - 0.4
    losses = result["losses"]
    assert len(losses) == 300 and np.mean(losses[-50:]) < np.mean(losses[:50]) - 0.4
    assert len(result["samples"]) == 5 and all(re.fullmatch("[a-z]*", w) for w in result["samples"]), result["samples"]
    assert "val loss" in capsys.readouterr().out


def test_makemore_mlp_reads_a_words_file(tmp_path: Path) -> None:
    """--words FILE: one word a line, lower-cased, letters a-z only; too few words are refused."""
    main = example_main("makemore_mlp.py")
    path = tmp_path / "names.txt"
    path.write_text("Emma\nolivia\n\nAva!\n" * 5 + "isabella\nsophia\n", encoding="utf-8")
    result = main(["--tiny", "--words", str(path), "--steps", "5", "--quiet"])
    assert result["words"] == 17
    assert all(re.fullmatch("[a-z]*", w) for w in result["samples"]), result["samples"]
    path.write_text("emma\nava\n", encoding="utf-8")
    with pytest.raises(ValueError, match="too few"):
        main(["--words", str(path), "--quiet"])


def test_tiny_gpt_learns_the_help_texts(capsys) -> None:
    """--tiny (60 steps of a one-block model): the held-out loss falls far below uniform (ln 103 = 4.63)."""
    result = example_main("tiny_gpt.py")(["--tiny", "--quiet"])
    uniform = np.log(result["vocab_size"])
    assert result["vocab_size"] > 60 and result["characters"] > 100_000
    assert result["initial_val_loss"] > uniform - 0.5
    assert result["val_loss"] < min(result["initial_val_loss"] - 1.0, uniform - 1.0), result["val_loss"]
    assert result["train_loss"] < result["initial_train_loss"] - 1.0
    assert np.mean(result["losses"][-10:]) < np.mean(result["losses"][:10]) - 0.5
    assert result["sample"].startswith("The ") and len(result["sample"]) == len("The ") + 40
    assert "val loss" in capsys.readouterr().out


def test_digits_cnn_beats_chance(capsys) -> None:
    """--tiny (2 epochs): far above chance (0.1) on the held-out images; the loss falls."""
    result = example_main("digits_cnn.py")(["--tiny", "--quiet"])
    assert result["initial_test_accuracy"] < 0.3
    assert result["test_accuracy"] >= 0.7, result["test_accuracy"]
    assert result["train_loss"][-1] < result["train_loss"][0] < np.log(10)
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name, args",
    [
        ("makemore_mlp.py", ["--tiny", "--steps", "20", "--samples", "3"]),
        ("tiny_gpt.py", ["--tiny", "--steps", "3", "--eval-windows", "8", "--sample-length", "10"]),
        ("digits_cnn.py", ["--tiny", "--epochs", "1", "--batch-size", "128"]),
    ],
)
def test_new_examples_are_deterministic(name: str, args: list[str], capsys) -> None:
    """The same seed gives the same run: losses, metrics and samples, to the last bit."""
    main = example_main(name)
    first, second = main([*args, "--quiet"]), main([*args, "--quiet"])
    assert first == second
    other = main([*args, "--quiet", "--seed", "1"])
    assert other != first
