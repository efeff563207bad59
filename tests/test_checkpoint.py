"""nn.save / nn.load and Module.load_state_dict: round trips, refusals, and atomic writes.

The promises checked here (nn/checkpoint.py, nn/module.py):
* what ``save`` writes, ``load`` gives back: same keys, nesting, values and dtypes;
* ``load`` refuses anything that is not such a checkpoint (pickled objects, truncated or
  foreign files) with ValueError, and never runs code from the file;
* ``load_state_dict`` finds every problem before changing anything, and names each key;
* ``save`` replaces the previous file in one step: a crash mid-save leaves it whole and no
  temporary file behind.
"""

from __future__ import annotations

import copy
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import MLP, Linear, MSELoss, Parameter, checkpoint
from nn.optim import SGD, Adam


def make_model(seed: int = 0, dtype=np.float64) -> MLP:
    return MLP([3, 5, 2], rng=np.random.default_rng(seed), dtype=dtype)


def snapshot(model) -> dict[str, np.ndarray]:
    return {name: p.data.copy() for name, p in model.named_parameters()}


def assert_unchanged(model, before: dict[str, np.ndarray]) -> None:
    after = snapshot(model)
    assert list(after) == list(before)
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)


def assert_same_tree(actual, expected) -> None:
    """Nested dicts of arrays/numbers, compared key by key (values as arrays)."""
    assert isinstance(actual, dict), type(actual)
    assert set(actual) == set(expected)
    for key, value in expected.items():
        if isinstance(value, dict):
            assert_same_tree(actual[key], value)
        else:
            np.testing.assert_array_equal(actual[key], np.asarray(value), err_msg=key)


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_model_state_dict_round_trip(tmp_path, dtype):
    model = make_model(0, dtype)
    path = tmp_path / "model.npz"
    nn.save(model.state_dict(), path)
    loaded = nn.load(path)
    assert list(loaded) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    for name, value in model.state_dict().items():
        assert loaded[name].dtype == dtype and loaded[name].shape == value.shape
        np.testing.assert_array_equal(loaded[name], value)
    # into a model with other weights: afterwards it computes the same function
    other = make_model(1, dtype)
    x = np.random.default_rng(0).normal(size=(4, 3))
    assert not np.allclose(other(x).data, model(x).data)
    other.load_state_dict(loaded)
    np.testing.assert_array_equal(other(x).data, model(x).data)
    assert files_in(tmp_path) == ["model.npz"]


def test_save_takes_tensors_numbers_and_nested_dicts(tmp_path):
    state = {
        "weight": Parameter(np.arange(6.0).reshape(2, 3)),
        "plain": Tensor(np.array([1, 2, 3], dtype=np.int32)),
        "lr": 0.25,
        "step": 7,
        "flag": True,
        "nested": {"deeper": {"x": np.ones((2, 2), dtype=np.float32)}, "y": np.uint8(3)},
    }
    path = tmp_path / "state"  # no .npz suffix: the file is written where asked
    nn.save(state, path)
    assert files_in(tmp_path) == ["state"]
    loaded = nn.load(str(path))
    assert_same_tree(loaded, {k: (v.data if isinstance(v, Tensor) else v) for k, v in state.items()})
    assert loaded["plain"].dtype == np.int32 and loaded["nested"]["deeper"]["x"].dtype == np.float32
    assert loaded["flag"].dtype == np.bool_ and loaded["lr"].shape == ()


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01}], lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: Adam([{"params": ps[:2], "betas": (0.8, 0.9)}, {"params": ps[2:], "weight_decay": 0.1}], lr=0.05),
        lambda ps: Adam(ps, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    ],
    ids=["sgd-nesterov", "adam-groups", "adamw"],
)
def test_optimizer_state_dict_round_trip_through_a_file(tmp_path, make):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    loss_fn = MSELoss()

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

    model = make_model(0)
    opt = make(model.parameters())
    train(model, opt, 3)
    nn.save(model.state_dict(), tmp_path / "model.npz")
    nn.save(opt.state_dict(), tmp_path / "opt.npz")

    loaded = nn.load(tmp_path / "opt.npz")
    assert_same_tree(loaded, opt.state_dict())  # nested: state/<index>/<name>, param_groups/<g>/<option>

    twin = make_model(5)
    twin.load_state_dict(nn.load(tmp_path / "model.npz"))
    twin_opt = make(twin.parameters())
    twin_opt.load_state_dict(loaded)
    # options come back in their own types, not as 0-d arrays
    for ours, theirs in zip(twin_opt.param_groups, opt.param_groups, strict=True):
        for key, value in theirs.items():
            if key != "params":
                assert type(ours[key]) is type(value) and ours[key] == value, key
    train(model, opt, 4)
    train(twin, twin_opt, 4)
    assert_unchanged(twin, snapshot(model))


def test_optimizer_state_dict_before_any_step_round_trips(tmp_path):
    """A fresh optimizer's state is empty: saving it must still give back a loadable dict."""
    model = make_model(0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    nn.save(opt.state_dict(), tmp_path / "opt.npz")
    loaded = nn.load(tmp_path / "opt.npz")
    twin_opt = SGD(make_model(0).parameters(), lr=0.5, momentum=0.9)
    twin_opt.load_state_dict(loaded)
    assert twin_opt.param_groups[0]["lr"] == 0.1


# ----------------------------------------------------------------------------- load_state_dict


def test_strict_load_names_every_problem_and_changes_nothing():
    model = make_model(0)
    before = snapshot(model)
    state = make_model(1).state_dict()  # valid new values for every entry ...
    del state["layers.2.bias"]  # ... but one missing,
    state["layers.9.weight"] = np.zeros((2, 2))  # one unexpected,
    state["layers.0.weight"] = np.zeros((5, 3))  # one the wrong shape (the transpose),
    state["layers.2.weight"] = np.array([["a", "b"]] * 5)  # and one not numbers
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for needle in ["MLP", "layers.2.bias", "layers.9.weight", "layers.0.weight", "(5, 3)", "(3, 5)", "layers.2.weight"]:
        assert needle in message, (needle, message)
    assert "missing" in message and "unexpected" in message
    assert_unchanged(model, before)  # layers.0.bias was valid, and still was not loaded


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda s: s.pop("layers.0.bias"), ["missing", "layers.0.bias"]),
        (lambda s: s.update({"extra": np.zeros(1)}), ["unexpected", "extra"]),
        (lambda s: s.update({"layers.2.bias": np.zeros((1, 2))}), ["layers.2.bias", "(1, 2)", "(2,)"]),
        (lambda s: s.update({"layers.2.bias": np.float64(1.0)}), ["layers.2.bias", "()"]),
        (lambda s: s.update({"layers.2.bias": np.array([None, None])}), ["layers.2.bias", "object"]),
    ],
    ids=["missing", "unexpected", "shape", "scalar-for-vector", "object"],
)
def test_strict_load_refuses_each_problem_alone(edit, needles):
    model = make_model(0)
    before = snapshot(model)
    state = make_model(1).state_dict()
    edit(state)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    for needle in needles:
        assert needle in str(info.value)
    assert_unchanged(model, before)


def test_non_strict_load_takes_the_matching_entries():
    model = make_model(0)
    before = snapshot(model)
    source = make_model(1).state_dict()
    partial = {
        "layers.0.weight": source["layers.0.weight"],
        "layers.2.bias": source["layers.2.bias"],
        "other.weight": np.ones(3),
    }
    model.load_state_dict(partial, strict=False)
    after = snapshot(model)
    np.testing.assert_array_equal(after["layers.0.weight"], source["layers.0.weight"])
    np.testing.assert_array_equal(after["layers.2.bias"], source["layers.2.bias"])
    np.testing.assert_array_equal(after["layers.0.bias"], before["layers.0.bias"])
    np.testing.assert_array_equal(after["layers.2.weight"], before["layers.2.weight"])


def test_non_strict_load_still_refuses_a_wrong_shape_and_changes_nothing():
    model = make_model(0)
    before = snapshot(model)
    source = make_model(1).state_dict()
    partial = {"layers.0.weight": source["layers.0.weight"], "layers.2.bias": np.zeros(3)}
    with pytest.raises(ValueError, match=r"layers\.2\.bias.*\(3,\)"):
        model.load_state_dict(partial, strict=False)
    assert_unchanged(model, before)


def test_load_copies_values_in_and_keeps_the_parameters():
    model = make_model(0, np.float32)
    params = model.parameters()
    state = make_model(1).state_dict()  # float64 values into float32 parameters
    model.load_state_dict(state)
    assert all(p is q for p, q in zip(params, model.parameters(), strict=True))  # an optimizer's refs stay valid
    assert all(p.dtype == np.float32 for p in model.parameters())
    np.testing.assert_allclose(model.layers[0].weight.data, state["layers.0.weight"], rtol=1e-7)
    state["layers.0.weight"] += 1  # the model does not share memory with the state
    assert not np.allclose(model.layers[0].weight.data, state["layers.0.weight"])


# ----------------------------------------------------------------------------- files that are refused


def load_into(model, path) -> None:
    """What a user writes: model.load_state_dict(nn.load(path))."""
    model.load_state_dict(nn.load(path))


class LeavesAMark:
    """Unpickling this calls open(marker, "w"): proof that the file's code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_object_arrays_are_refused_and_never_unpickled(tmp_path):
    model = make_model(0)
    before = snapshot(model)
    marker = tmp_path / "code-ran"
    payload = np.empty(1, dtype=object)
    payload[0] = LeavesAMark(str(marker))
    state = {k: v for k, v in make_model(1).state_dict().items()}
    state["layers.0.bias"] = payload
    path = tmp_path / "evil.npz"
    np.savez(path, allow_pickle=True, **state)
    assert b"code-ran" in path.read_bytes()  # the pickle really is in there
    with pytest.raises(ValueError, match="evil.npz"):
        nn.load(path)
    with pytest.raises(ValueError):
        load_into(model, path)
    assert not marker.exists()
    assert_unchanged(model, before)


def test_a_pickle_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"layers.0.weight": LeavesAMark(str(marker))}))
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        nn.load(path)
    assert not marker.exists()


def sample_positions(n: int) -> list[int]:
    """Byte positions to cut or damage: every one in the first local header and in the tail
    (central directory and end record, where zip metadata lives), and a stride through the rest."""
    return sorted({*range(min(n, 120)), *range(max(0, n - 260), n), *range(0, n, 13)})


def test_truncations_are_refused(tmp_path):
    model = make_model(0)
    before = snapshot(model)
    path = tmp_path / "model.npz"
    nn.save(make_model(1).state_dict(), path)
    raw = path.read_bytes()
    for cut in sample_positions(len(raw)):
        path.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            load_into(model, path)
    assert_unchanged(model, before)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"layers.0.weight = [[1, 2, 3]]\n",
        bytes(range(256)) * 4,
        b"PK\x03\x04" + b"\x00" * 100,  # a zip signature with nothing behind it
    ],
    ids=["empty", "text", "random-bytes", "fake-zip-header"],
)
def test_foreign_files_are_refused(tmp_path, content):
    model = make_model(0)
    before = snapshot(model)
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        load_into(model, path)
    assert_unchanged(model, before)


def test_a_zip_without_arrays_is_refused_or_loads_nothing_usable(tmp_path):
    model = make_model(0)
    before = snapshot(model)
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("layers.0.weight.npy", b"not an npy header at all")
    with pytest.raises(ValueError):
        load_into(model, path)
    assert_unchanged(model, before)


def test_a_plain_npy_file_is_refused(tmp_path):
    """np.load returns an ndarray (not an NpzFile) for .npy data: still not a checkpoint."""
    model = make_model(0)
    before = snapshot(model)
    path = tmp_path / "model.npz"
    with open(path, "wb") as f:
        np.save(f, np.arange(3.0))
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        load_into(model, path)
    assert_unchanged(model, before)


def test_corrupted_bytes_are_refused_or_harmless(tmp_path):
    """Flip bytes one at a time: load either raises ValueError or returns arrays (the zip CRC
    protects the data, so any arrays that come back under the original names are intact)."""
    original = make_model(1).state_dict()
    path = tmp_path / "model.npz"
    nn.save(original, path)
    raw = path.read_bytes()
    unexpected = []
    for i in sample_positions(len(raw)):
        damaged = bytearray(raw)
        damaged[i] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            loaded = nn.load(path)
        except ValueError:
            continue
        except Exception as err:  # noqa: BLE001 - the point is which exceptions escape
            unexpected.append((i, type(err).__name__, str(err)[:60]))
            continue
        for name, value in loaded.items():
            if name in original:
                np.testing.assert_array_equal(value, original[name], err_msg=f"byte {i}")
    assert not unexpected, unexpected[:5]


# ----------------------------------------------------------------------------- atomic writes


def test_overwriting_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(make_model(0).state_dict(), path)
    nn.save(make_model(1).state_dict(), path)
    assert files_in(tmp_path) == ["model.npz"]
    assert_same_tree(nn.load(path), make_model(1).state_dict())


@pytest.mark.parametrize("crash", [RuntimeError("disk on fire"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_a_crash_mid_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch, crash):
    path = tmp_path / "model.npz"
    old = make_model(0).state_dict()
    nn.save(old, path)
    old_bytes = path.read_bytes()
    real_write = checkpoint._write_archive
    calls = []

    def write_then_crash(file, arrays):
        calls.append(file)
        file.write(b"PK\x03\x04 half a checkpoint")  # a partial write ...
        real_write(file, dict(list(arrays.items())[:1]))  # ... or a partial archive
        raise crash

    monkeypatch.setattr(checkpoint, "_write_archive", write_then_crash)
    with pytest.raises(type(crash)):
        nn.save(make_model(1).state_dict(), path)
    monkeypatch.undo()
    assert calls, "save did not go through _write_archive: the simulated crash tested nothing"
    assert getattr(calls[0], "name", None) != str(path)  # it was not writing the target itself
    assert path.read_bytes() == old_bytes
    assert_same_tree(nn.load(path), old)
    assert files_in(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_a_crash_at_the_rename_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = make_model(0).state_dict()
    nn.save(old, path)

    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        nn.save(make_model(1).state_dict(), path)
    monkeypatch.undo()
    assert_same_tree(nn.load(path), old)
    assert files_in(tmp_path) == ["model.npz"]


def test_a_first_save_that_crashes_leaves_no_file(tmp_path, monkeypatch):
    def crash(file, arrays):
        file.write(b"partial")
        raise RuntimeError("crash")

    monkeypatch.setattr(checkpoint, "_write_archive", crash)
    with pytest.raises(RuntimeError):
        nn.save(make_model(0).state_dict(), tmp_path / "model.npz")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("state", "error", "pattern"),
    [
        ({"w": np.array(["a", "b"])}, TypeError, "'w'.*not numeric"),
        ({"outer": {"w": np.array([None])}}, TypeError, "'outer/w'"),
        ({"w": "text"}, TypeError, "'w'"),
        ({"a/b": np.ones(2)}, ValueError, "a/b"),
        ({"": np.ones(2)}, ValueError, "keys"),
        ({3: np.ones(2)}, ValueError, "3"),
    ],
    ids=["strings", "nested-object", "str-value", "slash-key", "empty-key", "int-key"],
)
def test_save_refuses_what_it_cannot_store_and_writes_nothing(tmp_path, state, error, pattern):
    path = tmp_path / "model.npz"
    nn.save({"keep": np.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(error, match=pattern):
        nn.save(state, path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.npz"]


def test_state_dict_copies_survive_later_training(tmp_path):
    """Saving a state_dict taken earlier saves the earlier values, not the current ones."""
    model = make_model(0)
    early = model.state_dict()
    opt = SGD(model.parameters(), lr=0.5)
    MSELoss()(model(np.ones((2, 3))), np.zeros((2, 2))).backward()
    opt.step()
    nn.save(early, tmp_path / "early.npz")
    assert_same_tree(nn.load(tmp_path / "early.npz"), early)
    assert not np.array_equal(model.layers[0].weight.data, early["layers.0.weight"])
    # and a deep copy of a loaded tree equals the tree (plain dicts of arrays)
    loaded = nn.load(tmp_path / "early.npz")
    assert_same_tree(copy.deepcopy(loaded), loaded)


def test_linear_round_trip_without_bias(tmp_path):
    layer = Linear(3, 2, bias=False, rng=np.random.default_rng(0))
    nn.save(layer.state_dict(), tmp_path / "l.npz")
    other = Linear(3, 2, bias=False, rng=np.random.default_rng(1))
    other.load_state_dict(nn.load(tmp_path / "l.npz"))
    np.testing.assert_array_equal(other.weight.data, layer.weight.data)
    with pytest.raises(ValueError, match="unexpected keys: bias"):
        other.load_state_dict({"weight": layer.weight.data, "bias": np.zeros(2)})
