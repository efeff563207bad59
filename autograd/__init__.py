"""autograd: a Tensor on numpy that records its ops and backpropagates through them."""

from pathlib import Path as _Path
from typing import TYPE_CHECKING as _TYPE_CHECKING

from .install_check import check as _check_install

_check_install("autograd", _Path(__file__).resolve().parent)  # HIPS autograd installed over it?

__version__ = "0.2.0"

from . import random as random  # autograd.random: the library-wide generator (default_generator, manual_seed)
from .compile import compile

# The function ``tensor`` takes the attribute name ``autograd.tensor``; the module stays importable
# with ``from autograd.tensor import ...``.
from .creation import (
    arange,
    empty,
    eye,
    full,
    full_like,
    linspace,
    manual_seed,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .engine import grad
from .function import Context, Function, once_differentiable
from .gradcheck import gradcheck
from .mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import (
    argmax,
    argmin,
    chunk,
    concatenate,
    cumprod,
    cumsum,
    einsum,
    gather,
    maximum,
    minimum,
    one_hot,
    pad,
    prod,
    scatter_add,
    split,
    stack,
    std,
    take_along_axis,
    tril,
    triu,
    var,
    where,
)  # fmt: skip
from .tensor import Tensor
from .tensor import no_attribute as _no_attribute

__all__ = [
    "Context",
    "Function",
    "Tensor",
    "__version__",
    "arange",
    "argmax",
    "argmin",
    "chunk",
    "compile",
    "concatenate",
    "cumprod",
    "cumsum",
    "detect_anomaly",
    "einsum",
    "empty",
    "enable_grad",
    "eye",
    "full",
    "full_like",
    "gather",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "linspace",
    "manual_seed",
    "maximum",
    "minimum",
    "multinomial",
    "no_grad",
    "normal",
    "once_differentiable",
    "one_hot",
    "ones",
    "ones_like",
    "pad",
    "prod",
    "rand",
    "randint",
    "randn",
    "scatter_add",
    "set_grad_enabled",
    "split",
    "stack",
    "std",
    "take_along_axis",
    "tensor",
    "tril",
    "triu",
    "var",
    "where",
    "zeros",
    "zeros_like",
]

# PyTorch's torch.* names that are not defined here -> what to write (docs/api.md, "PyTorch
# names not defined here"). A module __getattr__ (PEP 562) runs only for a name the module lacks.
_TORCH_NAMES = {
    "cat": "torch.cat(ts, dim) is autograd.concatenate(ts, axis) here",
    "concat": "torch.concat(ts, dim) is autograd.concatenate(ts, axis) here",
    "hstack": "torch.hstack(ts) is autograd.concatenate(ts, axis=1) here (axis=0 for 1-D tensors)",
    "is_tensor": "torch.is_tensor(x) is isinstance(x, autograd.Tensor) here",
    "inference_mode": "torch.inference_mode() is autograd.no_grad() here",
    "backward": "torch.autograd.backward(loss) is loss.backward() here",
    "randn_like": "torch.randn_like(x) is autograd.randn(x.shape) here",
    "rand_like": "torch.rand_like(x) is autograd.rand(x.shape) here",
    "randperm": "torch.randperm(n) is autograd.random.default_generator().permutation(n) here (a numpy array)",
}

if not _TYPE_CHECKING:  # hidden from type checkers, which would accept every name otherwise

    def __getattr__(name: str) -> object:
        raise _no_attribute("module 'autograd'", name, _TORCH_NAMES)
