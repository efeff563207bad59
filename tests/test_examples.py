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

Every example is also used as a notebook uses it: ``main(argv)`` in-process leaves matplotlib's
backend alone and returns its figures and numbers; a progress bar shows on a terminal (and in
a Jupyter kernel, which one test starts), never with ``--quiet`` or when stdout goes to a pipe.
"""

from __future__ import annotations

import io
import math
import os
import re
import runpy
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import source_numpy

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# tqdm's bar, as it draws it on a terminal: "moons:  40%|####      | 8/20 [00:00<00:00, ...]"
BAR = re.compile(r"\d+%\|")
# The lines an example prints instead of a bar when its output goes to a pipe or a file
PROGRESS_LINE = re.compile(r"^(step|epoch) +\d+  ", re.MULTILINE)


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
    assert not BAR.search(result.stderr), f"examples/{name} drew a progress bar into a pipe:\n{result.stderr}"
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


# ----------------------------------------------------------------------------- from a notebook: main(argv)

# Tiny in-process arguments for each example's main() (source_numpy.py, the source as it was, has
# none); examples that draw figures also get --out.
IN_PROCESS: dict[str, list[str]] = {
    "digits.py": ["--epochs", "1"],
    "digits_cnn.py": ["--tiny", "--epochs", "1", "--batch-size", "256"],
    "makemore_mlp.py": ["--tiny", "--steps", "20", "--samples", "3"],
    "moons.py": ["--steps", "20", "--samples", "50"],
    "seed_mlp.py": ["--steps", "11", "--no-pictures"],
    "tiny_gpt.py": ["--tiny", "--steps", "3", "--eval-windows", "8", "--sample-length", "10"],
}
# What main() returns: the keys holding matplotlib Figures, and some holding numbers
FIGURES: dict[str, list[str]] = {"digits.py": ["figure"], "moons.py": ["figure"]}
METRICS: dict[str, list[str]] = {
    "digits.py": ["train_accuracy", "test_accuracy"],
    "digits_cnn.py": ["initial_test_accuracy", "train_accuracy", "test_accuracy"],
    "makemore_mlp.py": ["initial_val_loss", "train_loss", "val_loss"],
    "moons.py": ["final_loss", "train_accuracy", "test_accuracy"],
    "seed_mlp.py": ["final_loss"],
    "tiny_gpt.py": ["initial_train_loss", "initial_val_loss", "train_loss", "val_loss"],
}
# seed_mlp.py's progress is its `step loss` lines (the result it is run for): it draws no bar
WITH_BAR = sorted(set(IN_PROCESS) - {"seed_mlp.py"})


def in_process_args(name: str, out: Path) -> list[str]:
    return [*IN_PROCESS[name], *(["--out", str(out)] if name in FIGURES else [])]


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as sys.stdout and sys.stderr are in a shell."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def sentinel_backend() -> Iterator[Callable[[], str]]:
    """matplotlib set to the "svg" backend, which no example would choose; restored afterwards."""
    matplotlib = pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    yield matplotlib.get_backend
    plt.close("all")
    matplotlib.use(before)


def test_every_example_has_an_in_process_run() -> None:
    scripts = set(example_scripts()) - {"source_numpy.py"}
    assert scripts == set(IN_PROCESS) == set(METRICS), "give each example tiny in-process arguments and its metrics"


@pytest.mark.parametrize("name", sorted(IN_PROCESS))
def test_main_keeps_the_backend_and_returns_its_results(name: str, tmp_path: Path, sentinel_backend, capsys) -> None:
    """As from a notebook: importing the example and calling main() leave the backend as it was;
    main() returns its figures (open) and finite numbers."""
    from matplotlib.figure import Figure
    from matplotlib.pyplot import fignum_exists

    main = example_main(name)
    assert sentinel_backend() == "svg", f"importing examples/{name} changed matplotlib's backend"
    result = main([*in_process_args(name, tmp_path), "--quiet"])
    assert sentinel_backend() == "svg", f"examples/{name}'s main() changed matplotlib's backend"
    assert isinstance(result, dict), f"examples/{name}'s main() returned {result!r}, not its results"
    for key in FIGURES.get(name, []):
        figure = result[key]
        assert isinstance(figure, Figure), f"{name}: result[{key!r}] is {figure!r}"
        assert figure.axes and fignum_exists(figure.number), f"{name}: result[{key!r}] is empty or closed"
    for key in METRICS[name]:
        value = result[key]
        assert isinstance(value, float) and math.isfinite(value), f"{name}: result[{key!r}] = {value!r}"
    captured = capsys.readouterr()
    assert not BAR.search(captured.err) and not PROGRESS_LINE.search(captured.out), captured


@pytest.mark.parametrize("where", ["terminal", "terminal, --quiet", "stdout to a file"])
@pytest.mark.parametrize("name", WITH_BAR)
def test_progress_bar_only_on_a_terminal(name: str, where: str, tmp_path: Path, monkeypatch) -> None:
    """A bar on a terminal; with --quiet nothing; with stdout to a file or pipe, no bar on the
    terminal (stderr) but a line now and then on stdout."""
    stdout = io.StringIO() if where == "stdout to a file" else Terminal()
    stderr = Terminal()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    example_main(name)([*in_process_args(name, tmp_path), *(["--quiet"] if "quiet" in where else [])])
    monkeypatch.undo()
    out, err = stdout.getvalue(), stderr.getvalue()
    if where == "terminal":
        assert BAR.search(err), f"{name}: no progress bar on a terminal:\n{err}"
        assert not PROGRESS_LINE.search(out), f"{name}: progress lines as well as the bar:\n{out}"
    else:
        assert not BAR.search(err), f"{name} drew a progress bar ({where}):\n{err}"
        assert bool(PROGRESS_LINE.search(out)) == (where == "stdout to a file"), out


def test_seed_mlp_quiet_prints_nothing_and_returns_the_losses(seed_mlp_main, capsys) -> None:
    loud = seed_mlp_main(["--steps", "21", "--no-pictures"])
    printed = step_losses(capsys.readouterr().out)
    quiet = seed_mlp_main(["--steps", "21", "--no-pictures", "--quiet"])
    assert capsys.readouterr().out == ""
    assert printed == loud["losses"] == quiet["losses"] and [step for step, _ in printed] == [0, 10, 20]
    assert quiet["final_loss"] == printed[-1][1] and quiet["pictures"] == []


def run_on_a_terminal(args: list[str], cwd: Path, stdout_too: bool = False) -> tuple[int, str, str]:
    """Run ``python args`` with stderr on an 80-column (pseudo-)terminal and stdout to a pipe, as in
    ``python examples/x.py | tee log`` (or on the terminal too): (return code, stdout, what the
    terminal showed)."""
    pty = pytest.importorskip("pty", reason="a pseudo-terminal needs a POSIX system")
    import fcntl
    import struct
    import termios

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    controller, terminal = pty.openpty()
    # a new pseudo-terminal is 0 columns wide, where tqdm draws an empty bar
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    shown: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(controller, 4096)
            except OSError:  # EIO: the program has exited and closed its end
                return
            if not data:
                return
            shown.append(data)

    reader = threading.Thread(target=read_terminal, daemon=True)
    try:
        with subprocess.Popen(
            [sys.executable, *args],
            cwd=cwd,
            env=env,
            stdout=terminal if stdout_too else subprocess.PIPE,
            stderr=terminal,
            text=True,
        ) as process:
            os.close(terminal)
            reader.start()
            stdout, _ = process.communicate(timeout=300)
        reader.join(timeout=10)
    finally:
        os.close(controller)
    return process.returncode, stdout or "", b"".join(shown).decode(errors="replace")


@pytest.mark.parametrize("name", sorted(IN_PROCESS))
def test_piped_stdout_shows_no_bar(name: str, tmp_path: Path) -> None:
    """stdout to a pipe, stderr on a terminal, no --quiet: no bar; the progress goes to stdout as lines."""
    code, stdout, terminal = run_on_a_terminal([str(EXAMPLES / name), *in_process_args(name, tmp_path)], tmp_path)
    assert code == 0, f"examples/{name} failed:\n{stdout}\n{terminal}"
    assert not BAR.search(terminal), f"examples/{name} drew a bar while its stdout went to a pipe:\n{terminal}"
    if name == "seed_mlp.py":
        assert [step for step, _ in step_losses(stdout)] == [0, 10]
    else:
        assert PROGRESS_LINE.search(stdout), f"examples/{name} printed no progress lines:\n{stdout}"


def test_a_terminal_shows_the_bar(tmp_path: Path) -> None:
    """The control for the test above: with stdout on the terminal as well, the bar is drawn there."""
    args = [str(EXAMPLES / "makemore_mlp.py"), *in_process_args("makemore_mlp.py", tmp_path)]
    code, _, terminal = run_on_a_terminal(args, tmp_path, stdout_too=True)
    assert code == 0, terminal
    assert BAR.search(terminal) and not PROGRESS_LINE.search(terminal.replace("\r\n", "\n")), terminal
    assert "val loss" in terminal
    code, _, terminal = run_on_a_terminal([*args, "--quiet"], tmp_path, stdout_too=True)
    assert code == 0 and not BAR.search(terminal) and "val loss" in terminal, terminal


@pytest.mark.parametrize("name", sorted(FIGURES))
@pytest.mark.parametrize(
    "env, agg",
    [({}, True), ({"DISPLAY": ":0"}, False), ({"WAYLAND_DISPLAY": "wayland-0"}, False), ({"MPLBACKEND": "svg"}, False)],
)
def test_script_picks_agg_only_without_a_display(
    name: str, env: dict[str, str], agg: bool, monkeypatch, sentinel_backend
) -> None:
    """Run as a script (the ``__main__`` path), an example chooses Agg only on Linux with no
    display and no MPLBACKEND of the user's."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux")
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runpy.run_path(str(EXAMPLES / name))["use_agg_without_display"]()
    assert sentinel_backend().lower() == ("agg" if agg else "svg")
    assert "use_agg_without_display()" in (EXAMPLES / name).read_text().split('if __name__ == "__main__":')[1]


def test_moons_in_a_jupyter_kernel(tmp_path: Path) -> None:
    """In a real kernel: the bar shows (a widget, or tqdm's text when ipywidgets is missing), the
    inline backend stays, and main() hands back the Figure."""
    from test_docs import kernel_environment, missing_packages, require

    missing = missing_packages()
    require(not missing, f"a kernel needs {', '.join(missing)}")
    import nbformat
    from nbclient import NotebookClient

    code = f"""
import runpy, matplotlib
before = matplotlib.get_backend()
result = runpy.run_path({str(EXAMPLES / "moons.py")!r})["main"](["--steps", "20", "--samples", "50", "--out", {str(tmp_path)!r}])
print("backend", before == matplotlib.get_backend(), before)
print("figure", type(result["figure"]).__module__, type(result["figure"]).__name__)
"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    with kernel_environment():
        client.execute()
    outputs = nb.cells[0].outputs
    stdout = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    widget = any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert widget or BAR.search(stderr), f"no progress bar in the notebook:\n{outputs}"
    assert "backend True" in stdout, stdout
    assert "figure matplotlib.figure Figure" in stdout, stdout
    assert not PROGRESS_LINE.search(stdout), f"progress lines as well as the bar:\n{stdout}"
    assert (tmp_path / "moons.png").is_file()
