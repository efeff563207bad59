"""Datasets and batches: ``Dataset``, ``TensorDataset``, ``Subset``, ``DataLoader``, ``random_split``,
as ``torch.utils.data`` has them.

A dataset is anything with ``__len__`` and ``__getitem__(i)`` returning one sample (a Tensor,
an array, a number, or a tuple/list/dict of them). ``DataLoader`` cuts it into batches and
stacks the samples: a tuple of samples becomes a tuple of stacked Tensors, and so on.
Shuffling draws from ``generator`` (an ``np.random.Generator``) or the library-wide one
(``autograd.manual_seed`` seeds it), a new order at every pass.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, SupportsIndex

import numpy as np

from autograd import Tensor, stack
from autograd.random import resolve

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]


class Dataset:
    """Base class: define ``__getitem__(i)`` (one sample) and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Samples are rows: item i is ``(t[i] for t in tensors)``; all tensors share their first axis."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = [t.shape for t in self.tensors]
            raise ValueError(
                f"TensorDataset: every tensor needs the same first axis (the samples), got shapes {shapes}"
            )

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index: int) -> Any:
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch: Tensors with ``stack`` (keeping gradients), arrays and
    numbers into a Tensor, and tuples, lists and dicts position by position (key by key)."""
    first = samples[0]
    if isinstance(first, Tensor):
        return stack(list(samples))
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("DataLoader: the samples of a batch hold different numbers of fields")
        fields = [default_collate(list(group)) for group in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    try:
        return Tensor(np.stack([np.asarray(s) for s in samples]))
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"DataLoader: cannot stack samples of type {type(first).__name__} into a batch ({err}); "
            "return Tensors, arrays or numbers (or tuples/dicts of them), or pass collate_fn="
        ) from None


class DataLoader:
    """Batches of ``batch_size`` samples of ``dataset``, in order or (``shuffle=True``) in a fresh
    random order at each pass; the last, smaller batch is dropped with ``drop_last``.

    ``for x, y in DataLoader(TensorDataset(X, Y), batch_size=32, shuffle=True): ...``. A
    ``TensorDataset`` is cut by indexing each tensor once per batch; other datasets are read
    sample by sample and joined by ``collate_fn`` (``default_collate``: stacked Tensors).
    ``len(loader)`` is the number of batches.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        resolve(generator, "DataLoader")  # refuse a wrong generator now, not at the first pass
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = resolve(self.generator, "DataLoader").permutation(n) if self.shuffle else np.arange(n)
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        collate = self.collate_fn or default_collate
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start : start + self.batch_size]
            if fast:
                yield self.dataset[indices]
            else:
                yield collate([self.dataset[int(i)] for i in indices])


def random_split(dataset: Any, lengths: Sequence[float], generator: np.random.Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1 (as PyTorch:
    each split gets floor(fraction * len), then the leftover samples go one each to the
    first splits in turn).
    """
    n = len(dataset)
    lengths = list(lengths)
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(x > 1 for x in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        sizes = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = []
        for x in lengths:
            if not isinstance(x, SupportsIndex):  # a float, in lengths that are not fractions summing to 1
                raise ValueError(
                    f"random_split: lengths must be integers summing to {n}, or fractions summing to 1, got {lengths}"
                )
            sizes.append(operator.index(x))
    if sum(sizes) != n:
        raise ValueError(f"random_split: lengths {lengths} sum to {sum(sizes)}, but the dataset has {n} samples")
    order = resolve(generator, "random_split").permutation(n)
    splits, offset = [], 0
    for size in sizes:
        splits.append(Subset(dataset, order[offset : offset + size]))
        offset += size
    return splits
