"""Elementwise functions: exp, log, sqrt, tanh, sigmoid, relu, abs, and dtype casts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..function import Context, Function, Grad

if TYPE_CHECKING:
    from ..tensor import Tensor


class Exp(Function):
    """y = e^x;  dy/dx = e^x = y"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.exp(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return grad * ctx.output


class Log(Function):
    """y = ln x;  dy/dx = 1 / x"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.sqrt(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return grad / (ctx.output * 2.0)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y**2"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.tanh(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        y = ctx.output
        return grad * (1.0 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y).

    Computed from e = e^-|x| as 1 / (1 + e) for x >= 0 and e / (1 + e) below: no overflow,
    and full relative precision for very negative x (sigmoid(-40) is 4.2e-18, not 0).
    """

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        e = np.exp(-np.abs(x.data))
        return np.where(x.data >= 0, 1.0, e) / (1.0 + e)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        y = ctx.output
        return grad * (y * (1.0 - y))


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0 (0 at x == 0, as in PyTorch and the source)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.maximum(x.data, 0)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Any:
        (x,) = ctx.saved_tensors
        return grad * (x > 0)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at x == 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.abs(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Cast(Function):
    """y = x as another dtype;  dL/dx = dL/dy cast back to x's dtype"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, dtype: np.dtype) -> np.ndarray:
        ctx.in_dtype = x.dtype
        return x.data.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        return grad.astype(ctx.in_dtype), None
