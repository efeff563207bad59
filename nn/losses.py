"""Losses: mean squared error and cross-entropy, as functions and as modules."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Function, Tensor

from .module import Module

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(pred - target)**2, averaged ("mean"), added up ("sum") or elementwise ("none").

    d/dpred of the "sum" form is 2 (pred - target): the source's ``mse_grad``.
    """
    _check_reduction(reduction, "mse_loss")
    target_shape = target.shape if isinstance(target, Tensor) else np.shape(target)
    if pred.shape != target_shape:
        raise ValueError(
            f"mse_loss: prediction shape {pred.shape} and target shape {target_shape} "
            "differ; they must be equal (broadcasting here is usually a bug)"
        )
    diff = pred - target
    return _reduce(diff * diff, reduction)


def cross_entropy(logits: Tensor, labels: Any, reduction: str = "mean") -> Tensor:
    """-log softmax(logits)[label] per row, for logits (N, C) and integer labels (N,) in [0, C).

    Uses log_softmax, so huge logits give finite losses and gradients.
    """
    _check_reduction(reduction, "cross_entropy")
    if not isinstance(labels, Tensor):
        labels = Tensor(np.asarray(labels))
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"cross_entropy: logits must be (N, C) and labels (N,); got {logits.shape} and {labels.shape}"
        )
    if labels.size == 0:
        raise ValueError("cross_entropy: the batch is empty (no rows in logits); there is no loss to take")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class indices, got dtype {labels.dtype}")
    checked = ClassLabels.apply(labels, logits.shape[1])
    picked = logits.log_softmax(axis=1)[np.arange(labels.shape[0]), checked]
    return _reduce(-picked, reduction)


class ClassLabels(Function):
    """y = labels, checked to be class indices in [0, n_classes) (an index: no gradient).

    An op rather than a check in cross_entropy, so that autograd.compile's code checks the
    labels of every call, not only those of the call it traced.
    """

    @staticmethod
    def forward(ctx: Any, labels: Tensor, n_classes: int) -> Any:
        return check_labels(labels.data, n_classes)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[None, None]:
        return None, None


def check_labels(labels: Any, n_classes: int) -> Any:
    """``labels`` if every one lies in [0, n_classes), else a ValueError saying which do not."""
    if not isinstance(labels, (np.ndarray, np.generic)):  # a value autograd.compile traces: one call
        return labels.call(check_labels, labels, n_classes)
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"cross_entropy: labels must lie in [0, {n_classes}), got {labels.min()}..{labels.max()}")
    return labels


class MSELoss(Module):
    """Mean squared error as a module: ``MSELoss(reduction="sum")(pred, target)``."""

    def __init__(self, reduction: str = "mean") -> None:
        _check_reduction(reduction, "MSELoss")
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return mse_loss(pred, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(Module):
    """Cross-entropy on integer class labels as a module."""

    def __init__(self, reduction: str = "mean") -> None:
        _check_reduction(reduction, "CrossEntropyLoss")
        self.reduction = reduction

    def forward(self, logits: Tensor, labels: Any) -> Tensor:
        return cross_entropy(logits, labels, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
