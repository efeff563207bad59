"""Losses: mean squared error and cross-entropy, as functions and as modules."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Tensor

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
    target_data = target.data if isinstance(target, Tensor) else np.asarray(target)
    if pred.shape != target_data.shape:
        raise ValueError(
            f"mse_loss: prediction shape {pred.shape} and target shape {target_data.shape} "
            "differ; they must be equal (broadcasting here is usually a bug)"
        )
    diff = pred - target
    return _reduce(diff * diff, reduction)


def cross_entropy(logits: Tensor, labels: Any, reduction: str = "mean") -> Tensor:
    """-log softmax(logits)[label] per row, for logits (N, C) and integer labels (N,) in [0, C).

    Uses log_softmax, so huge logits give finite losses and gradients.
    """
    _check_reduction(reduction, "cross_entropy")
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"cross_entropy: logits must be (N, C) and labels (N,); got {logits.shape} and {labels.shape}"
        )
    if labels.size == 0:
        raise ValueError("cross_entropy: the batch is empty (no rows in logits); there is no loss to take")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class indices, got dtype {labels.dtype}")
    if (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {logits.shape[1]}), got {labels.min()}..{labels.max()}"
        )
    picked = logits.log_softmax(axis=1)[np.arange(len(labels)), labels]
    return _reduce(-picked, reduction)


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
