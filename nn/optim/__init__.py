"""nn.optim: optimizers (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``) and, in
``nn.optim.lr_scheduler``, the schedules that change their learning rates.

An optimizer holds *parameter groups*: lists of parameters that share options. Pass
parameters directly, or dicts such as ``{"params": biases, "lr": 1e-4}`` to give a group its
own options; options not given come from the optimizer's arguments.
"""

from . import lr_scheduler
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
