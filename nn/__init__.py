"""nn: modules, layers, losses, optimizers and checkpoints built on autograd.

``nn`` imports autograd's public names; autograd never imports nn.
"""

from . import functional, optim
from .checkpoint import load, save
from .layers import MLP, Linear, ReLU, Sequential, Sigmoid, Tanh
from .losses import CrossEntropyLoss, MSELoss, cross_entropy, mse_loss
from .module import Module, Parameter

__all__ = [
    "MLP",
    "CrossEntropyLoss",
    "Linear",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "cross_entropy",
    "functional",
    "load",
    "mse_loss",
    "optim",
    "save",
]
