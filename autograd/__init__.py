"""autograd: a Tensor on numpy that records its ops and backpropagates through them."""

from .compile import compile
from .engine import grad
from .function import Context, Function, once_differentiable
from .gradcheck import gradcheck
from .mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import concatenate, maximum, minimum, stack, where
from .tensor import Tensor

__all__ = [
    "Context",
    "Function",
    "Tensor",
    "compile",
    "concatenate",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "maximum",
    "minimum",
    "no_grad",
    "once_differentiable",
    "set_grad_enabled",
    "stack",
    "where",
]
