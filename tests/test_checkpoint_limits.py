"""nn.load against crafted files, and what nn.save does to the file system.

* every member's size is checked before it is read: a declared size over ``max_bytes``, an
  array header larger than its member, or a compressed member that inflates past what its
  header declares is refused with ValueError, before any large allocation;
* crafted files (objects, structured dtypes, other compressions, duplicate or clashing
  names) raise ValueError naming the problem, and leave no file handle open;
* ``save`` keeps an existing file's permissions, gives a new one the umask's, and removes
  temporary files that a killed save left behind;
* every key ``save`` accepts comes back from ``load`` unchanged (``allow_pickle``, ``file``,
  ``x.npy``, empty dicts), and keys it cannot store are refused by name.
"""

from __future__ import annotations

import gc
import io
import os
import stat
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

import nn


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A version 1.0 .npy header declaring ``shape`` (no data after it)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def write_zip(path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


# ----------------------------------------------------------------------------- sizes


def test_a_member_over_max_bytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.npz"
    nn.save({"w": np.zeros(1000)}, path)
    with pytest.raises(ValueError, match="over the limit"):
        nn.load(path, max_bytes=1000)
    assert nn.load(path, max_bytes=10_000)["w"].shape == (1000,)


def test_the_limit_counts_all_members_together(tmp_path):
    path = tmp_path / "two.npz"
    nn.save({"a": np.zeros(100), "b": np.zeros(100)}, path)  # 800 bytes of data each
    with pytest.raises(ValueError, match="'b.npy'.*over the limit"):
        nn.load(path, max_bytes=1200)


def test_a_header_declaring_terabytes_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    write_zip(path, {"w.npy": npy_header((2**40,))})  # 8 TiB of float64 declared, none present
    with pytest.raises(ValueError, match="declares shape"):
        nn.load(path)


def test_a_bzip2_member_is_refused(tmp_path):
    """bzip2 reaches ratios of 10^6 (a 439-byte member can expand to 256 MiB): not accepted."""
    path = tmp_path / "bz.npz"
    write_zip(path, {"w.npy": npy_bytes(np.zeros(10))}, compression=zipfile.ZIP_BZIP2)
    with pytest.raises(ValueError, match="compression method"):
        nn.load(path)


def test_a_deflated_member_that_inflates_past_its_header_is_refused(tmp_path):
    """The array header says 10 floats; the member inflates to 4 MiB: refused before inflating."""
    path = tmp_path / "bomb.npz"
    write_zip(path, {"w.npy": npy_header((10,)) + bytes(4 * 2**20)}, compression=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 20_000
    with pytest.raises(ValueError, match=r"declares shape \(10,\) of float64 \(80 bytes\) but holds 4194304"):
        nn.load(path)


def test_a_deflated_checkpoint_from_savez_compressed_loads(tmp_path):
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, w=np.arange(6.0).reshape(2, 3), n=np.int64(3))
    state = nn.load(path)
    np.testing.assert_array_equal(state["w"], np.arange(6.0).reshape(2, 3))
    assert state["n"] == 3


def test_fortran_order_arrays_load_with_their_values(tmp_path):
    path = tmp_path / "f.npz"
    value = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez(path, w=value)
    np.testing.assert_array_equal(nn.load(path)["w"], value)


# ----------------------------------------------------------------------------- crafted files


@pytest.mark.parametrize(
    ("members", "needle"),
    [
        ({"w.npy": npy_header((2,), "|O") + b"\x00" * 16}, "not numbers"),
        ({"w.npy": npy_header((2,), "<c16") + b"\x00" * 32}, "not numbers"),
        ({"w.npy": npy_header((3,)) + b"\x00" * 8}, "holds only"),
        ({"w.npy": npy_header((1,)) + b"\x00" * 16}, "8 bytes.*holds 16 bytes"),
        ({"w.txt": b"hello"}, "not a .npy array"),
        ({"a.npy": npy_bytes(np.ones(1)), "a/b.npy": npy_bytes(np.ones(1))}, "inside the array"),
        ({"a/b.npy": npy_bytes(np.ones(1)), "a.npy": npy_bytes(np.ones(1))}, "both an array and a dict"),
        ({"a//b.npy": npy_bytes(np.ones(1))}, "empty key"),
        ({"w.npy": b"\x93NUMPY\x09\x00garbage"}, "not a valid checkpoint"),
    ],
    ids=["object", "complex", "short-data", "extra-data", "not-npy", "array-then-dict", "dict-then-array",
         "empty-key", "bad-version"],
)  # fmt: skip
def test_crafted_members_are_refused_by_name(tmp_path, members, needle):
    path = tmp_path / "crafted.npz"
    write_zip(path, members)
    with pytest.raises(ValueError, match=needle):
        nn.load(path)


def test_a_structured_dtype_is_refused(tmp_path):
    path = tmp_path / "structured.npz"
    np.savez(path, w=np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]))
    with pytest.raises(ValueError, match="not numbers"):
        nn.load(path)


def test_a_duplicate_member_is_refused(tmp_path):
    path = tmp_path / "dup.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it writes
        write_zip(path, {"w.npy": npy_bytes(np.ones(1))})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("w.npy", npy_bytes(np.zeros(1)))
    with pytest.raises(ValueError, match="twice"):
        nn.load(path)


def test_a_refused_file_leaves_no_handle_open(tmp_path):
    path = tmp_path / "bad.npz"
    write_zip(path, {"w.npy": npy_header((3,)) + b"\x00" * 8})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            with pytest.raises(ValueError):
                nn.load(path)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nothing.npz")


# ----------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    "key", ["allow_pickle", "file", "x.npy", "args", "kwds", "é", "a b", "..", "-", "0", "a.npy.npy", " "]
)
def test_every_accepted_key_round_trips(tmp_path, key):
    path = tmp_path / "keys.npz"
    state = {key: np.arange(3.0), "outer": {key: np.int32(4)}}
    nn.save(state, path)
    loaded = nn.load(path)
    assert set(loaded) == {key, "outer"} and set(loaded["outer"]) == {key}
    np.testing.assert_array_equal(loaded[key], np.arange(3.0))
    assert loaded["outer"][key] == 4 and loaded["outer"][key].dtype == np.int32


def test_empty_dicts_round_trip(tmp_path):
    path = tmp_path / "empty.npz"
    state = {"state": {}, "groups": {"0": {"lr": 0.1, "extra": {}}}}
    nn.save(state, path)
    loaded = nn.load(path)
    assert loaded["state"] == {} and loaded["groups"]["0"]["extra"] == {}
    assert loaded["groups"]["0"]["lr"] == 0.1


@pytest.mark.parametrize("key", ["a\x00b", "a/b", "", "\ud800"], ids=["nul", "slash", "empty", "surrogate"])
def test_keys_that_cannot_round_trip_are_refused_by_name(tmp_path, key):
    path = tmp_path / "refused.npz"
    with pytest.raises(ValueError, match="key"):
        nn.save({key: np.ones(1)}, path)
    assert not path.exists()


# ----------------------------------------------------------------------------- file system


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_save_keeps_an_existing_files_mode(tmp_path):
    path = tmp_path / "private.npz"
    nn.save({"w": np.ones(1)}, path)
    os.chmod(path, 0o600)
    nn.save({"w": np.zeros(1)}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize(("umask", "expected"), [(0o077, 0o600), (0o022, 0o644), (0o002, 0o664)])
def test_a_new_file_gets_the_umasks_mode(tmp_path, umask, expected):
    path = tmp_path / "new.npz"
    old = os.umask(umask)
    try:
        nn.save({"w": np.ones(1)}, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == expected


@pytest.mark.skipif(os.name != "posix", reason="process ids")
def test_a_killed_saves_temporary_file_is_removed_by_the_next_save(tmp_path):
    """A save killed mid-write leaves its temporary file; the next save of that path removes
    it (its process is gone), but not one whose process still runs, nor other files."""
    path = tmp_path / "model.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited
    orphan = tmp_path / f".model.npz.save-{dead_pid}-abc123.tmp"
    orphan.write_bytes(b"half a checkpoint")
    live = tmp_path / f".model.npz.save-{os.getppid()}-def456.tmp"
    live.write_bytes(b"another process is writing this")
    other = tmp_path / f".other.npz.save-{dead_pid}-ghi789.tmp"
    other.write_bytes(b"not ours")
    nn.save({"w": np.ones(1)}, path)
    assert not orphan.exists()
    assert live.exists() and other.exists()
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, live.name, other.name])
