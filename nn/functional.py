"""The functional form of every layer, activation and loss: ``import nn.functional as F``.

Each name here is a function of Tensors with no parameters of its own; the layers in
``nn`` hold the parameters and call these. The ops themselves live in ``autograd.ops``
(forward and backward side by side) and ``nn.losses``.
"""

from __future__ import annotations

from typing import Any

from autograd import Tensor
from autograd.function import refuse_torch_keywords

from .losses import cross_entropy, mse_loss


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise."""
    return x.relu()


def tanh(x: Tensor) -> Tensor:
    """tanh(x) elementwise."""
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x) elementwise."""
    return x.sigmoid()


def softmax(x: Tensor, axis: int = -1, **torch_spelling: Any) -> Tensor:
    """e^x / sum(e^x) along ``axis``."""
    if torch_spelling:
        refuse_torch_keywords("softmax", torch_spelling)
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1, **torch_spelling: Any) -> Tensor:
    """x - log(sum(e^x)) along ``axis``."""
    if torch_spelling:
        refuse_torch_keywords("log_softmax", torch_spelling)
    return x.log_softmax(axis)


__all__ = [
    "cross_entropy",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
