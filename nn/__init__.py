"""nn: modules, layers, losses, optimizers and checkpoints built on autograd.

``nn`` imports autograd's public names; autograd never imports nn.
"""

from pathlib import Path as _Path

import autograd as _autograd
from autograd.install_check import advice as _advice
from autograd.install_check import check as _check_install

if not hasattr(_autograd, "Tensor"):  # another package's autograd/__init__.py over this library's
    raise ImportError(
        _advice("autograd", _Path(_autograd.__file__).resolve().parent) + " (its __init__.py is the other's)"
    )
_check_install("nn", _Path(__file__).resolve().parent)  # PyPI's nn installed over it?

from . import data, functional, init, optim, utils
from .checkpoint import load, save
from .conv import AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d
from .layers import (
    ELU,
    GELU,
    MLP,
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleDict,
    ModuleList,
    MultiheadAttention,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .module import Module, Parameter

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MLP",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "data",
    "functional",
    "huber_loss",
    "init",
    "kl_div",
    "l1_loss",
    "load",
    "mse_loss",
    "nll_loss",
    "optim",
    "save",
    "smooth_l1_loss",
    "utils",
]
