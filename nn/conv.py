"""Convolution and pooling layers, with PyTorch's names, arguments, layouts and initialisation.

Images are (N, C, H, W) (and (N, C, L) for ``Conv1d``). Unlike ``nn.Linear`` here, whose
weight is stored (in, out), conv weights are in PyTorch's layout:
(out_channels, in_channels / groups, kH, kW), and (in_channels, out_channels / groups, kH, kW)
for ``ConvTranspose2d``, so PyTorch state dicts load as they are.

Default initialisation, as PyTorch's ``reset_parameters`` (kaiming-uniform with a = sqrt(5)):
weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = weight.shape[1] * kH * kW,
drawn from ``rng`` (an ``np.random.Generator``; the library-wide one, seeded by
``autograd.manual_seed``, if None), weight first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Tensor
from autograd.ops import conv as ops

from .init import _generator
from .module import Module, Parameter

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d"]


def _tuple(value: Any, n: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _as_input(x: Any, like: Tensor) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x, dtype=like.dtype)


class _ConvNd(Module):
    """What Conv1d, Conv2d and ConvTranspose2d share: checks, parameters, init, repr."""

    d = 2
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: Any,
        padding: Any,
        dilation: Any,
        groups: int,
        bias: bool,
        padding_mode: str,
        rng: np.random.Generator | None,
        dtype: Any,
        output_padding: Any = 0,
    ) -> None:
        name = type(self).__name__
        if not isinstance(groups, int) or groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups!r} must be an int >= 1 dividing in_channels={in_channels} and "
                f"out_channels={out_channels}"
            )
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode={padding_mode!r} is not supported here; only 'zeros'")
        kernel = _tuple(kernel_size, self.d)
        if len(kernel) != self.d or not all(isinstance(k, int) and k >= 1 for k in kernel):
            raise ValueError(
                f"{name}: kernel_size must be an int >= 1 or a tuple of {self.d} of them, got {kernel_size!r}"
            )
        if isinstance(padding, str) and (self.transposed or padding not in ("same", "valid")):
            allowed = "numbers" if self.transposed else "numbers, 'same' or 'valid'"
            raise ValueError(f"{name}: padding={padding!r} is not supported; give {allowed}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = kernel
        self.stride = _tuple(stride, self.d)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, self.d)
        self.dilation = _tuple(dilation, self.d)
        self.output_padding = _tuple(output_padding, self.d)
        self.groups = groups
        self.padding_mode = padding_mode
        if self.transposed:
            shape = (in_channels, out_channels // groups, *kernel)
        else:
            shape = (out_channels, in_channels // groups, *kernel)
        fan_in = shape[1] * math.prod(kernel)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        rng = _generator(rng)  # the library-wide generator (autograd.manual_seed) unless given one
        self.weight = Parameter(rng.uniform(-bound, bound, shape), dtype=dtype)
        self.bias = Parameter(rng.uniform(-bound, bound, (out_channels,)), dtype=dtype) if bias else None

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.d:
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * self.d:
            text += f", dilation={self.dilation}"
        if self.transposed and self.output_padding != (0,) * self.d:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """y = conv1d(x, weight, bias): x (N, C_in, L) -> (N, C_out, L_out); weight (C_out, C_in / groups, k)."""

    d = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] | str = 0,
        dilation: int | tuple[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, rng, dtype)  # fmt: skip

    def forward(self, x: Any) -> Tensor:
        return ops.conv1d(_as_input(x, self.weight), self.weight, self.bias, self.stride[0],
                          self.padding if isinstance(self.padding, str) else self.padding[0], self.dilation[0],
                          self.groups)  # fmt: skip


class Conv2d(_ConvNd):
    """y = conv2d(x, weight, bias): x (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_out, C_in / groups, kH, kW)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, rng, dtype)  # fmt: skip

    def forward(self, x: Any) -> Tensor:
        return ops.conv2d(_as_input(x, self.weight), self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups)  # fmt: skip


class ConvTranspose2d(_ConvNd):
    """y = conv_transpose2d(x, weight, bias): x (N, C_in, H, W) -> (N, C_out, H_out, W_out) with
    H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1; weight (C_in, C_out / groups, kH, kW).

    ``forward(x, output_size=None)``: an output (H_out, W_out) (or (N, C, H_out, W_out)) picks
    the output_padding, as in PyTorch.
    """

    transposed = True
    padding: tuple[int, int]  # numbers only: _ConvNd.__init__ refuses a string padding here

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, rng, dtype, output_padding)  # fmt: skip

    def forward(self, x: Any, output_size: Sequence[int] | None = None) -> Tensor:
        x = _as_input(x, self.weight)
        extra = self.output_padding
        if output_size is not None:
            wanted = tuple(output_size)[-2:]
            natural = [
                (n - 1) * s - 2 * p + dl * (k - 1) + 1
                for n, s, p, dl, k in zip(x.shape[-2:], self.stride, self.padding, self.dilation, self.kernel_size)
            ]
            extra = tuple(w - n for w, n in zip(wanted, natural))
            if len(wanted) != 2 or any(
                e < 0 or (e >= s and e >= dl) for e, s, dl in zip(extra, self.stride, self.dilation)
            ):
                raise ValueError(
                    f"ConvTranspose2d: output_size {tuple(output_size)} is not reachable from input shape {x.shape}: "
                    f"the output is between {tuple(natural)} and that plus max(stride, dilation) - 1"
                )
        return ops.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, extra, self.groups,
                                    self.dilation)  # fmt: skip


class MaxPool2d(Module):
    """y = max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode): the maximum of each
    window (stride defaults to kernel_size); the gradient goes to the window's first maximum."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        if return_indices:
            raise ValueError("MaxPool2d: return_indices=True is not supported here")
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode

    def forward(self, x: Any) -> Tensor:
        return ops.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")  # fmt: skip


class AvgPool2d(Module):
    """y = avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    the mean of each window, with PyTorch's divisors."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Any) -> Tensor:
        return ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """y = adaptive_avg_pool2d(x, output_size): means over PyTorch's adaptive windows
    (``AdaptiveAvgPool2d(1)`` is global average pooling)."""

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        self.output_size = output_size

    def forward(self, x: Any) -> Tensor:
        return ops.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
