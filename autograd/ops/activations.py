"""Activations: gelu, leaky_relu, elu, silu, softplus, logsigmoid, hardtanh, hardsigmoid,
softsign, mish. PyTorch's definitions, and its gradients at the kinks (each docstring says
which value the derivative takes there). Written to stay finite at huge |x|.

Backward formulas that need sigmoid, softplus or erf of x call ``_sigmoid``, ``_softplus`` and
``erf_of``: the op on a Tensor (under create_graph, so the formula is recorded and can be
differentiated again), the same numbers computed on an array otherwise.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..function import Context, Function, Grad, as_tensor, is_tensor
from .elementwise import Sigmoid, erf_of

if TYPE_CHECKING:
    from ..tensor import Tensor

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715
# gelu(approximate="tanh") and mish read x clipped at +-100 (mish: at +100): beyond, their
# sigmoid/tanh factors are 0 or 1 exactly, so the value and slope are the formula's limits
# (x or 0; 1 or 0) instead of 0 * inf = nan (PyTorch's gelu gives nan for |x| > 1e154).
_CLIP = 100.0


def _sigmoid_values(x: Any) -> Any:
    """1 / (1 + e^-x) on an array, stably (as the Sigmoid op computes it)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def _softplus_values(x: Any) -> Any:
    """ln(1 + e^x) on an array, stably: max(x, 0) + ln(1 + e^-|x|)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: Any) -> Any:
    return Sigmoid.apply(x) if is_tensor(x) else _sigmoid_values(x)


def _softplus(x: Any) -> Any:
    return Softplus.apply(x, 1.0, math.inf) if is_tensor(x) else _softplus_values(x)


def _gelu_tanh_parts(x: Any) -> tuple[Any, Any]:
    """(x clipped to +-100, s = sigmoid(2u) = (1 + tanh u) / 2) for the tanh approximation."""
    xc = np.clip(x, -_CLIP, _CLIP)
    return xc, _sigmoid((xc + xc * xc * xc * _GELU_CUBIC) * (2.0 * _SQRT_2_OVER_PI))


class Gelu(Function):
    """y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2;  dy/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi).

    Phi is computed as PyTorch does: for x < -5 it has absolute, not relative, float64
    accuracy (gelu(-10) is -0.0, as in PyTorch; the true value is -7.6e-23).

    approximate="tanh": y = x (1 + tanh u) / 2, u = sqrt(2/pi) (x + 0.044715 x^3), computed as
    x s with s = sigmoid(2u) = (1 + tanh u) / 2, which keeps full precision for x << 0;
    dy/dx = s + 2 x s (1 - s) du/dx, du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, approximate: str) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            _, s = _gelu_tanh_parts(x.data)
            return x.data * s
        return x.data * (0.5 * (1.0 + erf_of(x.data * _SQRT_HALF)))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            xc, s = _gelu_tanh_parts(x)
            du = (1.0 + xc * xc * (3.0 * _GELU_CUBIC)) * (2.0 * _SQRT_2_OVER_PI)
            return grad * (s + xc * (s * (1.0 - s)) * du), None
        cdf = 0.5 * (1.0 + erf_of(x * _SQRT_HALF))
        pdf = np.exp(x * x * -0.5) * _INV_SQRT_2PI
        return grad * (cdf + x * pdf), None


class LeakyRelu(Function):
    """y = x if x > 0 else negative_slope * x;  dy/dx = 1 if x > 0 else negative_slope (also at 0, as PyTorch)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, negative_slope: float) -> np.ndarray:
        ctx.positive = x.data > 0
        ctx.slope = negative_slope
        return np.where(ctx.positive, x.data, x.data * negative_slope)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        return np.where(ctx.positive, grad, grad * ctx.slope), None


class Elu(Function):
    """y = x if x > 0 else alpha (e^x - 1);  dy/dx = 1 if x > 0 else alpha e^x (alpha at 0, as PyTorch)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, alpha: float) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.negative = x.data <= 0
        ctx.alpha = alpha
        below = np.where(ctx.negative, x.data, 0.0)  # (-0.0 stays -0.0, as in PyTorch)
        return np.where(ctx.negative, np.expm1(below) * alpha, x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        (x,) = ctx.saved_tensors
        below = np.where(ctx.negative, x, 0.0)  # e^x only where it is used: no overflow elsewhere
        return np.where(ctx.negative, grad * (np.exp(below) * ctx.alpha), grad), None


class Silu(Function):
    """y = x sigmoid(x);  dy/dx = s (1 + x (1 - s)), s = sigmoid(x)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return x.data * _sigmoid_values(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        s = _sigmoid(x)
        return grad * (s * (1.0 + x * (1.0 - s)))


class Softplus(Function):
    """y = ln(1 + e^(beta x)) / beta, or x where beta x > threshold;  dy/dx = sigmoid(beta x), or 1 there.

    PyTorch's definition, linear above the threshold (the two pieces differ by
    ln(1 + e^-threshold) / beta at the switch). Below it computed stably as
    (max(z, 0) + ln(1 + e^-|z|)) / beta, z = beta x: finite for every x and threshold.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, beta: float, threshold: float) -> np.ndarray:
        ctx.save_for_backward(x)
        z = x.data * beta
        ctx.linear = z > threshold
        ctx.beta = beta
        return np.where(ctx.linear, x.data, _softplus_values(z) / beta)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        (x,) = ctx.saved_tensors
        return np.where(ctx.linear, grad, grad * _sigmoid(x * ctx.beta)), None, None


class LogSigmoid(Function):
    """y = ln sigmoid(x) = min(x, 0) - ln(1 + e^-|x|) (stable);  dy/dx = 1 - sigmoid(x) = sigmoid(-x)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.minimum(x.data, 0.0) - np.log1p(np.exp(-np.abs(x.data)))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad * _sigmoid(-x)


class Hardtanh(Function):
    """y = clip(x, min_val, max_val);  dy/dx = 1 for min_val < x < max_val, else 0 (0 at the bounds, as PyTorch)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, min_val: float, max_val: float) -> np.ndarray:
        ctx.inside = (x.data > min_val) & (x.data < max_val)
        return np.clip(x.data, min_val, max_val)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None, None]:
        return np.where(ctx.inside, grad, 0.0), None, None


class Hardsigmoid(Function):
    """y = clip(x + 3, 0, 6) / 6;  dy/dx = 1/6 for -3 < x < 3, else 0 (0 at +-3, as PyTorch)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.inside = (x.data > -3.0) & (x.data < 3.0)
        return np.clip(x.data + 3.0, 0.0, 6.0) / 6.0

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return np.where(ctx.inside, grad / 6.0, 0.0)


class Softsign(Function):
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return x.data / (1.0 + np.abs(x.data))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        d = 1.0 + np.abs(x)
        return grad / d / d  # (not / d**2, which overflows for |x| > 1e154)


class Mish(Function):
    """y = x tanh(softplus(x));  dy/dx = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x))

    softplus computed stably, with no threshold; the slope reads x clipped at 100, where it is 1.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return x.data * np.tanh(_softplus_values(x.data))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        xc = np.clip(x, None, _CLIP)
        t = np.tanh(_softplus(xc))
        return grad * (t + xc * _sigmoid(xc) * (1.0 - t * t))


# ----------------------------------------------------------------------------- functional forms


def _number(op: str, name: str, value: Any) -> float:
    """A real-number parameter, as a Python float (so it takes the tensor's dtype)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


GELU_APPROXIMATIONS = ("none", "tanh")


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x Phi(x) (Phi the standard normal CDF); ``approximate="tanh"`` uses PyTorch's tanh formula."""
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh' (as in PyTorch), got {approximate!r}")
    return Gelu.apply(as_tensor(x, op="gelu"), approximate)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere."""
    return LeakyRelu.apply(as_tensor(x, op="leaky_relu"), _number("leaky_relu", "negative_slope", negative_slope))


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x where x > 0, alpha (e^x - 1) elsewhere."""
    return Elu.apply(as_tensor(x, op="elu"), _number("elu", "alpha", alpha))


def silu(x: Any) -> Tensor:
    """x sigmoid(x) (also called swish)."""
    return Silu.apply(as_tensor(x, op="silu"))


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(beta x)) / beta, and x where beta x > threshold (PyTorch's definition)."""
    beta = _number("softplus", "beta", beta)
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero (the result is ln(1 + e^(beta x)) / beta)")
    return Softplus.apply(as_tensor(x, op="softplus"), beta, _number("softplus", "threshold", threshold))


def logsigmoid(x: Any) -> Tensor:
    """ln sigmoid(x) = -softplus(-x), stable for huge |x|."""
    return LogSigmoid.apply(as_tensor(x, op="logsigmoid"))


def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val] (gradient 0 at the bounds, as PyTorch)."""
    lo, hi = _number("hardtanh", "min_val", min_val), _number("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val ({min_val!r}) cannot be greater than max_val ({max_val!r})")
    return Hardtanh.apply(as_tensor(x, op="hardtanh"), lo, hi)


def hardsigmoid(x: Any) -> Tensor:
    """clip(x + 3, 0, 6) / 6: 0 below -3, 1 above 3, x/6 + 1/2 between."""
    return Hardsigmoid.apply(as_tensor(x, op="hardsigmoid"))


def softsign(x: Any) -> Tensor:
    """x / (1 + |x|)."""
    return Softsign.apply(as_tensor(x, op="softsign"))


def mish(x: Any) -> Tensor:
    """x tanh(softplus(x))."""
    return Mish.apply(as_tensor(x, op="mish"))
