"""Checkpoints: ``save(state, path)`` and ``load(path)`` as ``.npz`` files that cannot run code.

* The file is a zip of ``.npy`` arrays (numpy's ``.npz``), read by this module itself: only
  numbers (bool, int, float) are accepted, never pickled objects, so opening a file from
  elsewhere can never execute anything.
* ``load`` checks every member before reading it: declared sizes against ``max_bytes``
  (default 16 GiB in all), the array header against the member's size, and a compressed
  member's output against what it declares. A file that fails a check raises ValueError
  naming the problem; nothing is half-read, and the file is closed.
* Writing goes to a temporary file next to the target, then ``os.replace`` renames it over the
  target in one step: a crash mid-save leaves the previous checkpoint whole. A temporary
  file left by a killed process is removed by the next save of the same path. The target
  keeps an existing file's permissions; a new file gets the umask's.
* Nested dicts (an optimizer's ``state_dict``) are stored flat, with keys joined by "/";
  an empty dict is kept too. Keys are non-empty strings without "/" or NUL.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from autograd import Tensor

SEP = "/"
SUFFIX = ".npy"
DEFAULT_MAX_BYTES = 16 * 2**30  # far above any model this library trains; pass max_bytes= to change
_NUMBER_KINDS = "biuf"


# ----------------------------------------------------------------------------- save


def _flatten(state: Mapping[str, Any], prefix: str, out: dict[str, np.ndarray | None]) -> None:
    """name -> array for every leaf; name -> None for an empty dict (kept as a folder entry)."""
    if not state and prefix:
        out[prefix] = None
    for key, value in state.items():
        if not isinstance(key, str) or SEP in key or "\x00" in key or not key:
            raise ValueError(f"save: keys must be non-empty strings without {SEP!r} or NUL, got {key!r}")
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"save: key {key!r} cannot be written as UTF-8") from None
        name = prefix + key
        if isinstance(value, Mapping):
            _flatten(value, name + SEP, out)
            continue
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in _NUMBER_KINDS:
            raise TypeError(
                f"save: {name!r} is not numeric (dtype {array.dtype}); only numbers and arrays can be saved"
            )
        out[name] = array


def _write_archive(file: IO[bytes], arrays: Mapping[str, np.ndarray | None]) -> None:
    """The arrays as a zip of .npy members (what ``np.savez`` writes, any key allowed)."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            if array is None:  # an empty dict: a folder entry "name/"
                archive.writestr(name, b"")
                continue
            with archive.open(name + SUFFIX, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _umask() -> int:
    try:  # Linux says it without changing it
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def _remove_orphans(folder: str, base: str) -> None:
    """Delete temporary files of earlier saves of ``base`` whose process no longer runs."""
    pattern = re.compile(rf"^\.{re.escape(base)}\.save-(\d+)-.*\.tmp$")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        found = pattern.match(name)
        if not found:
            continue
        pid = int(found.group(1))
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # that process still runs: perhaps it is saving right now
        except ProcessLookupError:
            pass
        except (PermissionError, OSError):
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


def save(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``state`` (name -> array or number, dicts may nest) to ``path`` atomically."""
    if not isinstance(state, Mapping):
        hint = " (a Module or an optimizer: save its .state_dict())" if hasattr(state, "state_dict") else ""
        raise TypeError(
            f"save: expected a state dict (name -> array), got a {type(state).__name__}{hint}; write "
            "nn.save(model.state_dict(), path): only numbers are saved, never objects (PyTorch's torch.save "
            "pickles any object)"
        )
    arrays: dict[str, np.ndarray | None] = {}
    _flatten(state, "", arrays)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _remove_orphans(folder, base)
    try:
        mode = os.stat(path).st_mode & 0o7777  # keep the existing file's permissions
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # a new file: what open() would give it
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}.save-{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            _write_archive(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ----------------------------------------------------------------------------- load


class _Refused(Exception):
    """A check failed: the message says which."""


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> np.ndarray:
    """One .npy member, checked before reading: no objects, sizes that agree, nothing hidden."""
    if info.flag_bits & 0x1:
        raise _Refused(f"member {info.filename!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Refused(
            f"member {info.filename!r} uses compression method {info.compress_type} (only stored or deflate)"
        )
    if info.file_size > budget:
        raise _Refused(
            f"member {info.filename!r} declares {info.file_size} bytes, over the limit of {budget} left "
            "(pass max_bytes= to load a larger checkpoint)"
        )
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=10_000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=10_000)
        else:
            raise _Refused(f"member {info.filename!r} has .npy version {version}")
        if dtype.kind not in _NUMBER_KINDS or dtype.hasobject or dtype.fields is not None:
            raise _Refused(f"member {info.filename!r} holds dtype {dtype}, not numbers")
        if any(not isinstance(n, int) or n < 0 for n in shape):
            raise _Refused(f"member {info.filename!r} has shape {shape}")
        count = 1
        for n in shape:
            count *= n
        nbytes = count * dtype.itemsize
        room = info.file_size - member.tell()  # the member's declared size after the header
        if nbytes != room:
            raise _Refused(
                f"member {info.filename!r} declares shape {shape} of {dtype} ({nbytes} bytes) but holds "
                f"{'only ' if nbytes > room else ''}{room} bytes of data"
            )
        raw = member.read(nbytes + 1)  # one byte more than the header promises: a bomb shows here
        if len(raw) != nbytes:
            raise _Refused(
                f"member {info.filename!r} holds {len(raw)}{'+' if len(raw) > nbytes else ''} bytes of data, "
                f"its header says {nbytes}"
            )
    array = np.frombuffer(raw, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")
    return array.copy()  # writable, and not tied to the file's buffer


def load(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Read a checkpoint written by ``save``; nested dicts come back nested.

    Raises ValueError if the file is not a readable checkpoint (truncated, not an npz,
    holding pickled objects, which are refused rather than run, or larger than
    ``max_bytes`` of array data in all).
    """
    flat: dict[str, np.ndarray | None] = {}
    try:
        with zipfile.ZipFile(os.fspath(path)) as archive:
            budget = max_bytes
            for info in archive.infolist():
                name = info.filename
                if info.is_dir():  # an empty dict
                    flat[name] = None
                    continue
                if not name.endswith(SUFFIX) or name == SUFFIX:
                    raise _Refused(f"member {name!r} is not a .npy array")
                key = name[: -len(SUFFIX)]
                if key in flat:
                    raise _Refused(f"member {name!r} appears twice")
                flat[key] = _read_member(archive, info, budget)
                budget -= info.file_size
    except _Refused as err:
        raise ValueError(f"load: {os.fspath(path)!r} is not a valid checkpoint: {err}") from None
    except FileNotFoundError:
        raise
    except (
        ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError, RuntimeError,
        IndexError, OverflowError, MemoryError, struct.error, zlib.error, UnicodeDecodeError, TypeError,
    ) as err:  # fmt: skip
        # NotImplementedError: zipfile's answer to a corrupted compression field
        raise ValueError(f"load: {os.fspath(path)!r} is not a valid checkpoint: {type(err).__name__}: {err}") from None
    return _nest(flat, os.fspath(path))


def _nest(flat: Mapping[str, np.ndarray | None], path: str) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name, array in flat.items():
        parts = name.rstrip(SEP).split(SEP) if array is None else name.split(SEP)
        if any(not part for part in parts):
            raise ValueError(f"load: {path!r} is not a valid checkpoint: member name {name!r} has an empty key")
        *parents, leaf = parts
        node = state
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"load: {path!r} is not a valid checkpoint: {name!r} is inside the array {part!r}")
            node = child
        if array is None:
            existing = node.setdefault(leaf, {})
            if not isinstance(existing, dict):
                raise ValueError(f"load: {path!r} is not a valid checkpoint: {name!r} is both an array and a dict")
        else:
            if leaf in node:
                raise ValueError(f"load: {path!r} is not a valid checkpoint: {name!r} is both an array and a dict")
            node[leaf] = array
    return state
