"""Softmax and log-softmax along an axis (stable: shifted by the max first)."""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType
from typing import TYPE_CHECKING

import numpy as np

from ..function import Context, Function, Grad

if TYPE_CHECKING:
    from ..tensor import Tensor


# autograd/ and nn/, whose frames a warning skips to point at the user's line
_LIBRARY = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), d) + os.sep for d in ("autograd", "nn")
)


def _user_stacklevel() -> int:
    """The ``stacklevel`` of the first caller outside the library (for warnings.warn here)."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY):
        frame, level = frame.f_back, level + 1
    return level


def _shifted(op: str, x: np.ndarray, axis: int) -> np.ndarray:
    """x - max(x) along axis, so that e^(x - max) cannot overflow.

    A slice whose max is +inf, or that is all -inf (a fully masked row of attention scores), has
    no softmax: its result is NaN, as in PyTorch. numpy would warn "invalid value encountered in
    subtract" about a subtraction you did not write; this warning says which op and why.
    """
    top = x.max(axis=axis, keepdims=True)
    if type(top) is not np.ndarray or not np.isinf(top).any():  # (not an array: autograd.compile traces)
        return x - top
    warnings.warn(
        f"{op}: {int(np.isinf(top).sum())} slice(s) along axis {axis} are all -inf (every entry masked?) "
        f"or hold +inf: their {op} is NaN, as in PyTorch. Leave at least one finite entry per slice",
        RuntimeWarning,
        stacklevel=_user_stacklevel(),
    )
    with np.errstate(invalid="ignore"):
        return x - top


class Softmax(Function):
    """y = e^x / sum(e^x) along axis;  dL/dx = y * (g - sum(g * y))  (stable: x - max(x) first)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor, axis: int) -> np.ndarray:
        ctx.axis = axis
        if x.data.size == 0:  # nothing to normalise: an empty result (max of nothing is undefined)
            return x.data.copy()
        e = np.exp(_shifted("softmax", x.data, axis))
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
        shifted = _shifted("log_softmax", x.data, axis)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, None]:
        y = ctx.output
        return grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True), None
