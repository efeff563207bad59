"""Softmax and log-softmax along an axis (stable: shifted by the max first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..function import Context, Function, Grad

if TYPE_CHECKING:
    from ..tensor import Tensor


class Softmax(Function):
    """y = e^x / sum(e^x) along axis;  dL/dx = y * (g - sum(g * y))  (stable: x - max(x) first)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: int) -> np.ndarray:
        ctx.axis = axis
        if x.data.size == 0:  # nothing to normalise: an empty result (max of nothing is undefined)
            return x.data.copy()
        e = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        y = ctx.output
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True)), None


class LogSoftmax(Function):
    """y = x - log(sum(e^x)) along axis;  dL/dx = g - e^y * sum(g)  (stable: x - max(x) first)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: int) -> np.ndarray:
        ctx.axis = axis
        if x.data.size == 0:
            return x.data.copy()
        shifted = x.data - x.data.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        y = ctx.output
        return grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True), None
