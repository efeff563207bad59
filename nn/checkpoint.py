"""Checkpoints: ``save(state, path)`` and ``load(path)`` as ``.npz`` files that cannot run code.

* Reading uses ``np.load(..., allow_pickle=False)``: a file from elsewhere holds arrays only,
  never pickled objects, so opening it can never execute anything.
* Writing goes to a temporary file in the same folder, then ``os.replace`` renames it over the
  target in one step: a crash mid-save leaves the previous checkpoint whole.
* Nested dicts (an optimizer's ``state_dict``) are stored flat, with keys joined by "/".
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from typing import Any, Mapping

import numpy as np

from autograd import Tensor

SEP = "/"


def _flatten(state: Mapping[str, Any], prefix: str, out: dict[str, np.ndarray]) -> None:
    for key, value in state.items():
        if not isinstance(key, str) or SEP in key or not key:
            raise ValueError(f"save: keys must be non-empty strings without {SEP!r}, got {key!r}")
        name = prefix + key
        if isinstance(value, Mapping):
            _flatten(value, name + SEP, out)
            continue
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "fiub":
            raise TypeError(
                f"save: {name!r} is not numeric (dtype {array.dtype}); only numbers and arrays can be saved"
            )
        out[name] = array


def save(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``state`` (name -> array or number, dicts may nest) to ``path`` atomically."""
    arrays: dict[str, np.ndarray] = {}
    _flatten(state, "", arrays)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by ``save``; nested dicts come back nested.

    Raises ValueError if the file is not a readable checkpoint (truncated, not an npz, or
    holding pickled objects, which are refused rather than run).
    """
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a lone .npy array
            raise ValueError("it holds a single array, not a .npz archive written by nn.save")
        with archive:
            flat = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError) as err:
        # NotImplementedError: zipfile's answer to a corrupted compression field
        raise ValueError(f"load: {os.fspath(path)!r} is not a valid checkpoint: {err}") from err
    state: dict[str, Any] = {}
    for name, array in flat.items():
        *parents, leaf = name.split(SEP)
        node = state
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = array
    return state
