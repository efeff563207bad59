"""autograd: a Tensor on numpy that records its ops and backpropagates through them."""

from .engine import grad
from .function import Context, Function, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .gradcheck import gradcheck
from .ops import concatenate, maximum, minimum, stack, where
from .tensor import Tensor

__all__ = [
    "Context",
    "Function",
    "Tensor",
    "concatenate",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "maximum",
    "minimum",
    "no_grad",
    "stack",
    "where",
]
