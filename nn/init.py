"""Weight initialisation, PyTorch's ``torch.nn.init`` formulas: ``nn.init.kaiming_uniform_(w)``.

Every function fills its tensor in place (under ``no_grad``, so a Parameter can be filled
without recording anything), returns it, and draws from ``rng`` (an ``np.random.Generator``)
or, without one, from the library's default generator (``_generator``, below).

Fans follow this library's layouts, which differ from PyTorch's for 2-D weights:

* 2-D, ``nn.Linear``'s weight ``(in_features, out_features)``: fan_in = shape[0],
  fan_out = shape[1] (PyTorch's Linear weight is ``(out, in)``, so its fan_in is shape[1]);
* 3-D and more, convolution weights ``(out_channels, in_channels, *kernel)`` as PyTorch:
  fan_in = shape[1] * prod(kernel), fan_out = shape[0] * prod(kernel).

So ``kaiming_uniform_(linear.weight)`` gives this library's Linear the same distribution
PyTorch's gives its Linear. (Xavier and orthogonal init do not depend on the order.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd.random
from autograd import Tensor, no_grad

# ----------------------------------------------------------------------------- the random source


def _generator(rng: np.random.Generator | None) -> np.random.Generator:
    """The generator to draw from: ``rng`` if given, else the library's default one.

    The one place every random layer and init function asks (nn.Linear, nn.Embedding,
    nn.Dropout, F.dropout, nn.MultiheadAttention, nn.init.*): repoint it to change where
    unseeded randomness comes from.
    """
    if isinstance(rng, (bool, int, np.integer)):
        raise TypeError(
            f"rng must be an np.random.Generator, got the number {rng!r}: write rng=np.random.default_rng({rng!r})"
        )
    return autograd.random.resolve(rng, "rng")  # None: the library-wide generator, seeded by manual_seed


# ----------------------------------------------------------------------------- gains and fans

_LINEAR_GAIN = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")  # fmt: skip


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity``, as PyTorch: 1 for linear/conv/sigmoid,
    5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope**2)) for leaky_relu (``param`` is the
    slope, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; choose one of "
        f"{', '.join(_LINEAR_GAIN)}, tanh, relu, leaky_relu, selu"
    )


def calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) in this library's layouts: (shape[0], shape[1]) for a 2-D
    ``(in, out)`` Linear weight; (shape[1] * k, shape[0] * k) for a conv weight
    ``(out, in, *kernel)`` with k = prod(kernel)."""
    shape = np.shape(tensor.data if isinstance(tensor, Tensor) else tensor)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions (a weight), got shape {shape}")
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = int(np.prod(shape[2:]))
    return int(shape[1]) * receptive, int(shape[0]) * receptive


def _fan(tensor: Any, mode: str, op: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    try:
        fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    except ValueError as err:
        raise ValueError(f"{op}: {err}") from None
    return fan_in if mode == "fan_in" else fan_out


# ----------------------------------------------------------------------------- filling in place


def _fill(tensor: Any, values: Any, op: str) -> Any:
    """Copy ``values`` into ``tensor`` (a Tensor or ndarray) in place, unrecorded; return it."""
    if isinstance(tensor, Tensor):
        with no_grad():
            tensor.copy_(values)
    elif isinstance(tensor, np.ndarray):
        np.copyto(tensor, values, casting="unsafe")
    else:
        raise TypeError(f"{op}: expected a Tensor (or an ndarray) to fill in place, got {type(tensor).__name__}")
    return tensor


def _shape(tensor: Any, op: str) -> tuple[int, ...]:
    if not isinstance(tensor, (Tensor, np.ndarray)):
        raise TypeError(f"{op}: expected a Tensor (or an ndarray) to fill in place, got {type(tensor).__name__}")
    if np.dtype(tensor.dtype).kind != "f":
        raise TypeError(f"{op}: can only fill a floating-point tensor, this one is {tensor.dtype}")
    return tuple(tensor.shape)


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, rng: np.random.Generator | None = None) -> Any:
    """Fill with draws from U(a, b)."""
    shape = _shape(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: the bounds need a <= b, got a={a}, b={b}")
    return _fill(tensor, _generator(rng).uniform(a, b, shape), "uniform_")


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, rng: np.random.Generator | None = None) -> Any:
    """Fill with draws from N(mean, std**2)."""
    shape = _shape(tensor, "normal_")
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, _generator(rng).normal(mean, std, shape), "normal_")


def trunc_normal_(
    tensor: Any,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    rng: np.random.Generator | None = None,
) -> Any:
    """Fill with draws from N(mean, std**2) conditioned on a <= x <= b (``a``, ``b`` are
    absolute bounds, as PyTorch's, not multiples of std).

    Drawn by rejection: normal draws outside [a, b] are drawn again. Refuses bounds that
    hold less than 1e-4 of the normal's mass (rejection would take too long there).
    """
    shape = _shape(tensor, "trunc_normal_")
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be > 0, got {std}")
    if not a < b:
        raise ValueError(f"trunc_normal_: the bounds need a < b, got a={a}, b={b}")

    def cdf(x: float) -> float:
        return 0.5 * (1.0 + math.erf((x - mean) / (std * math.sqrt(2.0))))

    mass = cdf(b) - cdf(a)
    if mass < 1e-4:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds only {mass:.2g} of N({mean}, {std}**2)'s mass; "
            "move the bounds nearer the mean"
        )
    gen = _generator(rng)
    out = gen.normal(mean, std, shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = gen.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out, "trunc_normal_")


def constant_(tensor: Any, val: float) -> Any:
    """Fill with ``val``."""
    shape = _shape(tensor, "constant_")
    return _fill(tensor, np.full(shape, val), "constant_")


def zeros_(tensor: Any) -> Any:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Any) -> Any:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Any, gain: float = 1.0, rng: np.random.Generator | None = None) -> Any:
    """Glorot: U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out))."""
    shape = _shape(tensor, "xavier_uniform_")
    fan_in, fan_out = _fan(tensor, "fan_in", "xavier_uniform_"), _fan(tensor, "fan_out", "xavier_uniform_")
    if not np.prod(shape):
        return tensor  # nothing to fill
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _generator(rng).uniform(-bound, bound, shape), "xavier_uniform_")


def xavier_normal_(tensor: Any, gain: float = 1.0, rng: np.random.Generator | None = None) -> Any:
    """Glorot: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    shape = _shape(tensor, "xavier_normal_")
    fan_in, fan_out = _fan(tensor, "fan_in", "xavier_normal_"), _fan(tensor, "fan_out", "xavier_normal_")
    if not np.prod(shape):
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _generator(rng).normal(0.0, std, shape), "xavier_normal_")


def kaiming_uniform_(
    tensor: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | None = None,
) -> Any:
    """He: U(-bound, bound) with bound = sqrt(3) * gain / sqrt(fan), gain =
    calculate_gain(nonlinearity, a); fan is fan_in or fan_out (``mode``)."""
    shape = _shape(tensor, "kaiming_uniform_")
    fan = _fan(tensor, mode, "kaiming_uniform_")
    gain = calculate_gain(nonlinearity, a)
    if not np.prod(shape):
        return tensor
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return _fill(tensor, _generator(rng).uniform(-bound, bound, shape), "kaiming_uniform_")


def kaiming_normal_(
    tensor: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | None = None,
) -> Any:
    """He: N(0, std**2) with std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    shape = _shape(tensor, "kaiming_normal_")
    fan = _fan(tensor, mode, "kaiming_normal_")
    gain = calculate_gain(nonlinearity, a)
    if not np.prod(shape):
        return tensor
    std = gain / math.sqrt(fan)
    return _fill(tensor, _generator(rng).normal(0.0, std, shape), "kaiming_normal_")


def orthogonal_(tensor: Any, gain: float = 1.0, rng: np.random.Generator | None = None) -> Any:
    """A (semi-)orthogonal matrix times ``gain``, as PyTorch: the tensor seen as
    (shape[0], rest) gets orthonormal rows (if shape[0] <= rest) or columns, from the QR
    decomposition of a normal matrix with the signs fixed so that the draw is uniform."""
    shape = _shape(tensor, "orthogonal_")
    if len(shape) < 2:
        raise ValueError(f"orthogonal_: needs a tensor of at least 2 dimensions, got shape {shape}")
    if not np.prod(shape):
        return tensor
    rows = shape[0]
    cols = int(np.prod(shape)) // rows
    flat = _generator(rng).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the distribution uniform (Haar)
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(shape), "orthogonal_")


__all__ = [
    "calculate_fan_in_and_fan_out",
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]
