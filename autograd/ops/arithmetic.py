"""Arithmetic and matmul: + - * / ** @ and negation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..function import Context, Function, Grad, is_tensor

if TYPE_CHECKING:
    from ..tensor import Tensor


class Add(Function):
    """c = a + b;  dc/da = 1,  dc/db = 1"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        return a.data + b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, Grad]:
        return grad, grad

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, a: Any, b: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        ta, tb = tangents
        return ta + tb


class Sub(Function):
    """c = a - b;  dc/da = 1,  dc/db = -1"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        return a.data - b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad, Grad | None]:
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, a: Any, b: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        ta, tb = tangents
        return ta - tb


class Neg(Function):
    """b = -a;  db/da = -1"""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> np.ndarray:
        return -a.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return -grad

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        (t,) = tangents
        return -t


class Mul(Function):
    """c = a * b;  dc/da = b,  dc/db = a"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a.data * b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad | None, Grad | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, a: Any, b: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        ta, tb = tangents
        return ta * b + a * tb


class Div(Function):
    """c = a / b;  dc/da = 1 / b,  dc/db = -a / b**2"""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a.data / b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad | None, Grad | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, a: Any, b: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        ta, tb = tangents
        return (ta - out * tb) / b


class Pow(Function):
    """c = a ** b;  dc/da = b * a**(b - 1),  dc/db = a**b * log(a)

    For a Tensor exponent (``x ** 3`` with a number is ``PowScalar``). dc/da is 0 where
    b == 0 (also at a == 0). As in PyTorch, dc/db is taken as 0 where a == 0 and b >= 0
    (a**b is flat in b there, or the limit is 0), and is NaN for a negative base (log(a) is
    undefined).
    """

    save_output = True

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        # The operator, as autograd.compile writes it: on numpy scalars (0-d results) it is C's pow,
        # which differs from np.power's own loop in the last bit for some inputs.
        return a.data**b.data

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:  # at a == b == 0, a**(b - 1) is inf: use base 1 there (times b = 0)
            base = np.where((a == 0) & (b == 0), 1.0, a)
            grad_a = grad * b * base ** (b - 1)
        if need_b:  # log(1) = 0 where the gradient is taken as 0
            safe_a = np.where((a == 0) & (b >= 0), 1.0, a)
            with np.errstate(invalid="ignore"):  # log of a negative base is NaN, as documented
                grad_b = grad * ctx.output * np.log(safe_a)
        return grad_a, grad_b


class PowScalar(Function):
    """y = x ** c for a number c;  dy/dx = c * x**(c - 1)

    Small integer powers are multiplies (``x**2`` is ``x * x``, its derivative ``2 * x``):
    exact, and much faster than numpy's general power. dy/dx is 0 for c == 0.
    """

    @staticmethod
    def forward(ctx: Context, x: Tensor, c: float) -> np.ndarray:
        ctx.save_for_backward(x)
        return _power(x.data, c) if c != 1 else x.data.copy()

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None]:
        (x,) = ctx.saved_tensors
        c = ctx.inputs[1]
        if c == 0:  # flat: x**(c - 1) would be inf at 0
            return grad * np.zeros_like(x), None
        return grad * (c * _power(x, c - 1)), None


def _power(x: Any, c: float) -> Any:
    """x ** c, by multiplies for c = 2 and 3 (works on arrays and Tensors alike)."""
    if c == 1 and not is_tensor(x):  # on Tensors x ** 1 stays an op: its derivatives exist (and are 0)
        return x
    if c == 2:
        return x * x
    if c == 3:
        return x * x * x
    return x**c


# ----------------------------------------------------------------------------- matmul


class MatMul(Function):
    """C = A @ B;  dL/dA = dL/dC @ B^T,  dL/dB = A^T @ dL/dC

    Works like ``np.matmul``: 2-D, 1-D (a vector is a row on the left, a column on the
    right) and batched with broadcast batch dimensions, which the engine sums back.
    """

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a.data, b.data)
        except ValueError:
            raise ValueError(_matmul_mismatch(a.shape, b.shape)) from None

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Grad | None, Grad | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case, read straight from the math
            return (grad @ b.T if need_a else None), (a.T @ grad if need_b else None)
        if a.ndim > 2 and b.ndim == 2:  # a batch of inputs times one weight (a Linear layer on 3-D input):
            # dL/dB sums over the batch, so one 2-D matmul of the flattened batch does it
            grad_a = grad @ b.T if need_a else None
            grad_b = a.reshape(-1, a.shape[-1]).T @ grad.reshape(-1, grad.shape[-1]) if need_b else None
            return grad_a, grad_b
        if a.ndim > 1 and b.ndim > 1:  # batched: transpose the last two axes
            grad_a = grad @ b.swapaxes(-1, -2) if need_a else None
            grad_b = a.swapaxes(-1, -2) @ grad if need_b else None
            return grad_a, grad_b
        # A vector is promoted to a matrix (row on the left, column on the right), and the
        # gradient loses that axis again.
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
        if b.ndim == 1:
            g2 = g2.reshape(g2.shape + (1,))
        grad_a = grad_b = None
        if need_a:
            grad_a = g2 @ b2.swapaxes(-1, -2)
            if a.ndim == 1:
                grad_a = grad_a.reshape(grad_a.shape[:-2] + grad_a.shape[-1:])
        if need_b:
            grad_b = a2.swapaxes(-1, -2) @ g2
            if b.ndim == 1:
                grad_b = grad_b.reshape(grad_b.shape[:-1])
        return grad_a, grad_b

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, a: Any, b: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        ta, tb = tangents
        return _matmul_tangent(ta, b) + _matmul_tangent(a, tb, left=False)


def _matmul_tangent(a: Any, b: Any, left: bool = True) -> Any:
    """One term of d(a @ b) = da @ b + a @ db: 0 when the moving factor's tangent is 0."""
    moving = a if left else b
    if np.ndim(moving) == 0:  # 0.0: that input does not move
        return 0.0
    return np.matmul(a, b)


def _matmul_mismatch(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """Why np.matmul refused shapes ``a`` and ``b``, and what to do."""
    if len(a) == 0 or len(b) == 0:
        return f"matmul needs at least 1-D operands, got shapes {a} and {b}; use * to multiply by a scalar"
    which = "second-to-last" if len(b) > 1 else "only"
    inner_b = b[-2] if len(b) > 1 else b[0]
    if a[-1] != inner_b:
        return (
            f"shapes {a} and {b} are not aligned: the last axis of the left ({a[-1]}) must equal "
            f"the {which} axis of the right ({inner_b}); transpose or reshape one operand"
        )
    return f"the batch dimensions of shapes {a} and {b} do not broadcast together"
