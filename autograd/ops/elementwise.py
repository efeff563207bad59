"""Elementwise functions: exp, log, sqrt, tanh, sigmoid, relu, abs, dtype casts; sin, cos, tan,
log1p, expm1, log2, log10, exp2, rsqrt, erf (differentiable); sign, floor, ceil, round,
isnan, isinf, isfinite (zero gradient: their results record no graph)."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..function import Context, Function, Grad, as_tensor, is_tensor
from .arithmetic import PowScalar
from .select import ValueOp

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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        (t,) = tangents
        return t * out


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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        (t,) = tangents
        return t / x


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.sqrt(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return grad / (ctx.output * 2.0)

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        (t,) = tangents
        return t / (out * 2.0)


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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        (t,) = tangents
        return t * (1.0 - out * out)


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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        (t,) = tangents
        return t * out * (1.0 - out)


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

    @staticmethod
    def jvp(ctx: Context, out: Any, tangents: Any, x: Any) -> Any:
        """Forward mode: the output's tangent from the inputs' (0.0 for an input that does not move)."""
        (t,) = tangents
        return t * (x > 0)


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


# ----------------------------------------------------------------------------- trigonometric


class Sin(Function):
    """y = sin x;  dy/dx = cos x"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.cos(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return -(grad * np.sin(x))


class Tan(Function):
    """y = tan x;  dy/dx = 1 + tan(x)**2 = 1 + y**2  (poles at x = pi/2 + k pi)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.tan(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        y = ctx.output
        return grad * (1.0 + y * y)


# ----------------------------------------------------------------------------- logs and exponentials


class Log1p(Function):
    """y = ln(1 + x), accurate for tiny x;  dy/dx = 1 / (1 + x)  (needs x > -1)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log1p(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad / (x + 1.0)


class Expm1(Function):
    """y = e^x - 1, accurate for tiny x;  dy/dx = e^x  (not y + 1, which loses e^x's digits for x << 0)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.expm1(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad * np.exp(x)


_LN2 = math.log(2.0)  # Python floats: they take the tensor's dtype (a numpy float64 would not)
_LN10 = math.log(10.0)


class Log2(Function):
    """y = log2 x;  dy/dx = 1 / (x ln 2)  (needs x > 0)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log2(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad / (x * _LN2)


class Log10(Function):
    """y = log10 x;  dy/dx = 1 / (x ln 10)  (needs x > 0)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log10(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad / (x * _LN10)


class Exp2(Function):
    """y = 2^x;  dy/dx = 2^x ln 2 = y ln 2"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return np.exp2(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        return grad * (ctx.output * _LN2)


class Rsqrt(Function):
    """y = 1 / sqrt(x);  dy/dx = -1 / (2 x^(3/2)) = -y**3 / 2  (needs x > 0)"""

    save_output = True

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        return 1.0 / np.sqrt(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        y = ctx.output
        return grad * (y * y * y * -0.5)


# ----------------------------------------------------------------------------- the error function

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _series_terms(x: float) -> int:
    """How many terms of erf's series (below) reach 2**-60 relative at |x|."""
    t, term, total, n = 2.0 * x * x, 1.0, 1.0, 0
    while term > 2.0**-60 * total:
        n += 1
        term *= t / (2 * n + 1)
        total += term
    return n + 1


# erf(x) = 2/sqrt(pi) x e^(-x^2) sum_n (2x^2)^n / (1 * 3 * ... * (2n+1)): every term positive, so
# no cancellation. Using the same rounded q = x*x in e^-q and in the sum makes its rounding
# error cancel to first order (the sum grows like e^q). |x| < 2.5 is cut into bands, each
# summed with as many terms as its upper end needs.
_SERIES_BANDS = [(b, _series_terms(b)) for b in (0.5, 1.0, 1.5, 2.0, 2.5)]
_SERIES_COEFFS = [1.0 / math.prod(range(1, 2 * n + 2, 2)) for n in range(_SERIES_BANDS[-1][1] + 1)]
# erfc(z) = e^(-z^2) / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...)))) for z >= 2.5
# (Laplace's continued fraction), 32 levels: absolute error < 1e-17 there. Beyond |x| = 6,
# erfc(|x|) < 2.2e-17 is below half an ulp of 1, so erf(x) is +-1 in float64.
_FRACTION_START, _FRACTION_LEVELS, _ERF_IS_ONE = 2.5, 32, 6.0


def _erf_series(x: np.ndarray, terms: int) -> np.ndarray:
    q = x * x
    t = 2.0 * q
    total = np.full_like(x, _SERIES_COEFFS[terms])
    for c in reversed(_SERIES_COEFFS[:terms]):  # Horner's rule
        total = total * t + c
    return x * _TWO_OVER_SQRT_PI * (np.exp(-q) * total)


def _erfc_fraction(z: np.ndarray) -> np.ndarray:
    t = z.copy()
    for k in range(_FRACTION_LEVELS, 0, -1):
        t = z + (0.5 * k) / t
    return np.exp(-z * z) / (math.sqrt(math.pi) * t)


def erf_values(a: Any) -> Any:
    """erf of an array (numpy has none): relative error < 1e-15 on the whole real line.

    Computed in float64 and returned in ``a``'s float dtype (float64 for integers).
    erf(+-inf) = +-1, erf(nan) = nan, erf(-0.0) = -0.0.
    """
    if not isinstance(a, (np.ndarray, np.generic)):  # a value autograd.compile traces: one call
        return a.call(erf_values, a)
    x = np.asarray(a)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(np.float64).ravel()
    ax = np.abs(x)
    out = np.where(np.isnan(x), x, np.copysign(1.0, x))  # right for |x| >= 6 (and nan)
    lo = 0.0
    for hi, terms in _SERIES_BANDS:
        band = (ax >= lo) & (ax < hi)
        if band.any():
            out[band] = _erf_series(x[band], terms)
        lo = hi
    tail = (ax >= _FRACTION_START) & (ax < _ERF_IS_ONE)
    if tail.any():
        out[tail] = np.copysign(1.0 - _erfc_fraction(ax[tail]), x[tail])
    return out.reshape(np.shape(a)).astype(dtype, copy=False)


class Erf(Function):
    """y = erf x = 2/sqrt(pi) int_0^x e^(-t^2) dt;  dy/dx = 2/sqrt(pi) e^(-x^2)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return erf_values(x.data)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> Grad:
        (x,) = ctx.saved_tensors
        return grad * (np.exp(-(x * x)) * _TWO_OVER_SQRT_PI)


def erf_of(x: Any) -> Any:
    """erf on a Tensor (the op, recorded) or on an array (values): for other ops' backward formulas."""
    return Erf.apply(x) if is_tensor(x) else erf_values(x)


# ----------------------------------------------------------------------------- functional forms


def sin(x: Any) -> Tensor:
    """sin x elementwise."""
    return Sin.apply(as_tensor(x, op="sin"))


def cos(x: Any) -> Tensor:
    """cos x elementwise."""
    return Cos.apply(as_tensor(x, op="cos"))


def tan(x: Any) -> Tensor:
    """tan x elementwise."""
    return Tan.apply(as_tensor(x, op="tan"))


def log1p(x: Any) -> Tensor:
    """ln(1 + x) elementwise, accurate for tiny x."""
    return Log1p.apply(as_tensor(x, op="log1p"))


def expm1(x: Any) -> Tensor:
    """e^x - 1 elementwise, accurate for tiny x."""
    return Expm1.apply(as_tensor(x, op="expm1"))


def log2(x: Any) -> Tensor:
    """log2 x elementwise."""
    return Log2.apply(as_tensor(x, op="log2"))


def log10(x: Any) -> Tensor:
    """log10 x elementwise."""
    return Log10.apply(as_tensor(x, op="log10"))


def exp2(x: Any) -> Tensor:
    """2^x elementwise."""
    return Exp2.apply(as_tensor(x, op="exp2"))


def square(x: Any) -> Tensor:
    """x**2 elementwise (the x ** 2 op: d/dx = 2x)."""
    return PowScalar.apply(as_tensor(x, op="square"), 2)


def rsqrt(x: Any) -> Tensor:
    """1 / sqrt(x) elementwise."""
    return Rsqrt.apply(as_tensor(x, op="rsqrt"))


def erf(x: Any) -> Tensor:
    """The error function elementwise (float64 accuracy; numpy has no erf)."""
    return Erf.apply(as_tensor(x, op="erf"))


# Zero gradient wherever the derivative exists (as PyTorch): the results record no graph.


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 elementwise (np.sign); no gradient."""
    return ValueOp.apply(np.sign, as_tensor(x, op="sign"))


def floor(x: Any) -> Tensor:
    """The largest integer <= x elementwise (as floats, like np.floor); no gradient."""
    return ValueOp.apply(np.floor, as_tensor(x, op="floor"))


def ceil(x: Any) -> Tensor:
    """The smallest integer >= x elementwise (as floats, like np.ceil); no gradient."""
    return ValueOp.apply(np.ceil, as_tensor(x, op="ceil"))


def round(x: Any, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` digits, halves to even (np.round, as torch.round); no gradient."""
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}")
    return ValueOp.apply(functools.partial(np.round, decimals=int(decimals)), as_tensor(x, op="round"))


def isnan(x: Any) -> Tensor:
    """True where x is NaN (a bool tensor, no graph)."""
    return ValueOp.apply(np.isnan, as_tensor(x, op="isnan"))


def isinf(x: Any) -> Tensor:
    """True where x is +-inf (a bool tensor, no graph)."""
    return ValueOp.apply(np.isinf, as_tensor(x, op="isinf"))


def isfinite(x: Any) -> Tensor:
    """True where x is neither NaN nor +-inf (a bool tensor, no graph)."""
    return ValueOp.apply(np.isfinite, as_tensor(x, op="isfinite"))
