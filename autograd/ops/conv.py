"""Convolution, pooling, resizing and attention, in PyTorch's layout and with its definitions.

Images are (N, C, H, W) arrays (and (N, C, L) for ``conv1d``); a conv weight is
(out_channels, in_channels / groups, kH, kW), a transposed conv's weight
(in_channels, out_channels / groups, kH, kW), as in PyTorch. Inputs without the batch axis,
(C, H, W), are accepted as PyTorch accepts them.

Every window op is one numpy expression over ``sliding_window_view`` (no Python loop over
pixels or the batch): a convolution is im2col (the windows copied into rows) times the
weight, one (batched) matmul.

A convolution is bilinear in input and weight. Three maps share its geometry (``Window``):

    C(x, w)   = conv2d(x, w)                       the forward
    I(gy, w)  = d<gy, C(x, w)>/dx                   conv_transpose2d: the input gradient
    W(x, gy)  = d<gy, C(x, w)>/dw                   the weight gradient

and the two gradients of each are the other two (``<G, I(gy, w)> = <gy, C(G, w)>``,
``<G, W(x, gy)> = <gy, C(x, G)>``). So each op's backward calls the other ops: on arrays
in a plain ``backward()`` (numpy speed), on Tensors under ``create_graph=True`` (recorded),
and every derivative of every order exists. Pooling works the same way with its own pairs
(a window sum and its transpose; a gather and a scatter).

``interpolate``, ``adaptive_avg_pool2d`` and ``scaled_dot_product_attention`` are
compositions of recorded ops (indexing, matmul, softmax, where), so they need no backward
of their own.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import random
from ..function import Context, Function, Grad, as_tensor, is_tensor, value_of
from .select import where
from .shape import IndexAdd

if TYPE_CHECKING:
    from ..tensor import Tensor

Pair = tuple[int, int]
Padding = int | Sequence[int] | str


# ----------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Window:
    """Where a 2-D window op's windows lie; shared by an op and the ops in its backward.

    ``in_size`` is the (H, W) of the windowed input, ``out_size`` the (oH, oW) of the
    output (one value per window); ``padding`` is ((top, bottom), (left, right)). Window
    (i, j), tap (p, q) reads padded input row ``i * stride[0] + p * dilation[0]``, column
    ``j * stride[1] + q * dilation[1]``.
    """

    in_size: Pair
    out_size: Pair
    kernel: Pair
    stride: Pair
    padding: tuple[Pair, Pair]
    dilation: Pair
    groups: int = 1


def _run(kernel: Callable[..., Any], *args: Any) -> Any:
    """``kernel(*args)`` on arrays; while ``autograd.compile`` traces (its arrays are not
    ndarrays), one line of the generated code."""
    for a in args:
        if hasattr(a, "call") and not isinstance(a, (np.ndarray, np.generic)):
            return a.call(kernel, *args)
    return kernel(*args)


def _pad(x: np.ndarray, padding: tuple[Pair, Pair], value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) with rows and columns of ``value`` around it (crops where negative)."""
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return x
    h, w = x.shape[2], x.shape[3]
    x = x[:, :, max(-top, 0) : h - max(-bottom, 0), max(-left, 0) : w - max(-right, 0)]  # negative: crop
    top, bottom, left, right = max(top, 0), max(bottom, 0), max(left, 0), max(right, 0)
    if top == bottom == left == right == 0:
        return x
    out = np.full((*x.shape[:2], x.shape[2] + top + bottom, x.shape[3] + left + right), value, dtype=x.dtype)
    out[:, :, top : top + x.shape[2], left : left + x.shape[3]] = x
    return out


def _lowest(dtype: np.dtype) -> Any:
    """The value max-pooling pads with: -inf (or the smallest integer)."""
    if dtype.kind == "f":
        return -np.inf
    return np.iinfo(dtype).min if dtype.kind in "iu" else False


def _windows(xp: np.ndarray, win: Window) -> np.ndarray:
    """The view (N, C, oH, oW, kH, kW) of the padded input ``xp``: [..., i, j, p, q] is
    xp[..., i sH + p dH, j sW + q dW]. No copy."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = win.kernel, win.stride, win.dilation, win.out_size
    view = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return view[:, :, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, ::dh, ::dw]


def _transposed(gy: np.ndarray, win: Window) -> tuple[np.ndarray, Window]:
    """``gy`` (N, K, oH, oW) spread out so that a stride-1 window op over it with the kernel
    flipped gives the transpose of the window op ``win``: stride - 1 zeros between its
    elements, then padded (or cropped) by dilation (k - 1) - pad in front and as much behind
    as gives the (H, W) outputs. Returns it and the stride-1 geometry to run over it."""
    (sh, sw), (oh, ow), (h, w) = win.stride, win.out_size, win.in_size
    if sh > 1 or sw > 1:
        z = np.zeros((*gy.shape[:2], (oh - 1) * sh + 1, (ow - 1) * sw + 1), dtype=gy.dtype)
        z[:, :, ::sh, ::sw] = gy
    else:
        z = gy
    (kh, kw), (dh, dw), ((top, _), (left, _)) = win.kernel, win.dilation, win.padding
    front_h, front_w = dh * (kh - 1) - top, dw * (kw - 1) - left
    back_h = h + dh * (kh - 1) - front_h - z.shape[2]
    back_w = w + dw * (kw - 1) - front_w - z.shape[3]
    zp = _pad(z, ((front_h, back_h), (front_w, back_w)))
    flat = replace(win, in_size=zp.shape[2:], out_size=(h, w), stride=(1, 1), padding=((0, 0), (0, 0)))
    return zp, flat


# ----------------------------------------------------------------------------- the three conv maps


def _conv(x: np.ndarray, w: np.ndarray, win: Window) -> np.ndarray:
    """C(x, w): y[n, o, i, j] = sum_{c, p, q} w[o, c, p, q] x_pad[n, group(o) Cg + c, i sH + p dH, j sW + q dW].

    im2col: the windows as rows (g, N oH oW, Cg kH kW), times the weight as (g, Cg kH kW, Og).
    """
    n, c = x.shape[:2]
    o, g = w.shape[0], win.groups
    cg, og = c // g, o // g
    (kh, kw), (oh, ow) = win.kernel, win.out_size
    cols = _windows(_pad(x, win.padding), win).reshape(n, g, cg, oh, ow, kh, kw)
    cols = cols.transpose(1, 0, 3, 4, 2, 5, 6).reshape(g, n * oh * ow, cg * kh * kw)
    y = np.matmul(cols, w.reshape(g, og, cg * kh * kw).transpose(0, 2, 1))  # (g, N oH oW, Og)
    return np.ascontiguousarray(y.reshape(g, n, oh, ow, og).transpose(1, 0, 4, 2, 3)).reshape(n, o, oh, ow)


def _conv_transpose(gy: np.ndarray, w: np.ndarray, win: Window) -> np.ndarray:
    """I(gy, w) = d<gy, C(x, w)>/dx: gx[n, c, h, v] = sum of gy[n, o, i, j] w[o, c, p, q] over
    h = i sH + p dH - top, v = j sW + q dW - left.

    The same im2col: C over ``gy`` spread out (``_transposed``) with the weight flipped and
    its in/out axes swapped within each group.
    """
    o, cg, kh, kw = w.shape
    g = win.groups
    og = o // g
    flipped = w.reshape(g, og, cg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(g * cg, og, kh, kw)[:, :, ::-1, ::-1]
    zp, flat = _transposed(gy, win)
    return _conv(zp, flipped, flat)


def _conv_weight(x: np.ndarray, gy: np.ndarray, win: Window) -> np.ndarray:
    """W(x, gy) = d<gy, C(x, w)>/dw: gw[o, c, p, q] = sum_{n, i, j} gy[n, o, i, j] x_pad[n, group(o) Cg + c, i sH + p dH, j sW + q dW].

    The windows as (g, Cg kH kW, N oH oW) times gy as (g, N oH oW, Og).
    """
    n, c = x.shape[:2]
    o, g = gy.shape[1], win.groups
    cg, og = c // g, o // g
    (kh, kw), (oh, ow) = win.kernel, win.out_size
    cols = _windows(_pad(x, win.padding), win).reshape(n, g, cg, oh, ow, kh, kw)
    cols = cols.transpose(1, 2, 5, 6, 0, 3, 4).reshape(g, cg * kh * kw, n * oh * ow)
    gm = gy.reshape(n, g, og, oh * ow).transpose(1, 0, 3, 2).reshape(g, n * oh * ow, og)
    gw = np.matmul(cols, gm)  # (g, Cg kH kW, Og)
    return np.ascontiguousarray(gw.reshape(g, cg, kh, kw, og).transpose(0, 4, 1, 2, 3)).reshape(o, cg, kh, kw)


def _add_bias(y: Any, b: Tensor | None) -> Any:
    return y if b is None else y + b.data.reshape(-1, 1, 1)


def _apply_conv(x: Any, w: Any, win: Window) -> Any:
    """C(x, w): recorded (Conv2d) on Tensors, numpy on arrays."""
    if is_tensor(x) or is_tensor(w):
        return Conv2d.apply(as_tensor(x), as_tensor(w), None, win)
    return _run(_conv, x, w, win)


def _apply_transpose(gy: Any, w: Any, win: Window) -> Any:
    """I(gy, w): recorded (ConvTranspose2d) on Tensors, numpy on arrays."""
    if is_tensor(gy) or is_tensor(w):
        return ConvTranspose2d.apply(as_tensor(gy), as_tensor(w), None, win)
    return _run(_conv_transpose, gy, w, win)


def _apply_weight(x: Any, gy: Any, win: Window) -> Any:
    """W(x, gy): recorded (Conv2dWeightGrad) on Tensors, numpy on arrays."""
    if is_tensor(x) or is_tensor(gy):
        return Conv2dWeightGrad.apply(as_tensor(x), as_tensor(gy), win)
    return _run(_conv_weight, x, gy, win)


class Conv2d(Function):
    """y = C(x, w) + b:  y[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] x_pad[n, group(o) Cg + c, i sH + p dH, j sW + q dW];
    dL/dx = I(g, w) (conv_transpose2d of g with w),  dL/dw = W(x, g) = sum_{n,i,j} g[n,o,i,j] x_pad[...],  dL/db = sum_{n,i,j} g"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, w: Tensor, b: Tensor | None, win: Window) -> np.ndarray:
        ctx.window = win
        ctx.save_for_backward(x, w)
        return _add_bias(_run(_conv, x.data, w.data, win), b)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, Any, Any, None]:
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        win = ctx.window
        return (
            _apply_transpose(grad, w, win) if need_x else None,
            _apply_weight(x, grad, win) if need_w else None,
            grad.sum(axis=(0, 2, 3)) if need_b else None,
            None,
        )


class ConvTranspose2d(Function):
    """y = I(x, w) + b (the adjoint of C in its input):  y[n,c,h,v] = b[c] + sum of x[n,o,i,j] w[o,c,p,q] over h = i sH + p dH - pad;
    dL/dx = C(g, w) (conv2d of g with w),  dL/dw = W(g, x),  dL/db = sum_{n,h,v} g"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, w: Tensor, b: Tensor | None, win: Window) -> np.ndarray:
        ctx.window = win
        ctx.save_for_backward(x, w)
        return _add_bias(_run(_conv_transpose, x.data, w.data, win), b)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, Any, Any, None]:
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        win = ctx.window
        return (
            _apply_conv(grad, w, win) if need_x else None,
            _apply_weight(grad, x, win) if need_w else None,
            grad.sum(axis=(0, 2, 3)) if need_b else None,
            None,
        )


class Conv2dWeightGrad(Function):
    """gw = W(x, gy) (conv2d's weight gradient):  gw[o,c,p,q] = sum_{n,i,j} gy[n,o,i,j] x_pad[n, group(o) Cg + c, i sH + p dH, j sW + q dW];
    dL/dx = I(gy, g),  dL/dgy = C(x, g)"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, gy: Tensor, win: Window) -> np.ndarray:
        ctx.window = win
        ctx.save_for_backward(x, gy)
        return _run(_conv_weight, x.data, gy.data, win)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, Any, None]:
        x, gy = ctx.saved_tensors
        need_x, need_gy = ctx.needs_input_grad[:2]
        win = ctx.window
        return (
            _apply_transpose(gy, grad, win) if need_x else None,
            _apply_conv(x, grad, win) if need_gy else None,
            None,
        )


# ----------------------------------------------------------------------------- argument checks


def _ints(op: str, name: str, value: Any, n: int) -> tuple[int, ...]:
    """An int, or a sequence of ``n`` ints, as a tuple of ``n`` ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if (
        isinstance(value, (tuple, list))
        and len(value) == n
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        return tuple(int(v) for v in value)
    raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")


def _positive(op: str, name: str, value: Any, n: int) -> tuple[int, ...]:
    out = _ints(op, name, value, n)
    if min(out) < 1:
        raise ValueError(f"{op}: {name} must be >= 1, got {value!r}")
    return out


def _size_text(sizes: Sequence[int]) -> str:
    return "x".join(str(s) for s in sizes)


def _batched(op: str, x: Tensor, d: int, layout: str) -> tuple[Tensor, bool]:
    """``x`` with a batch axis (added if it came without one, as PyTorch allows)."""
    if x.ndim == d + 1:
        return x.reshape(1, *x.shape), True
    if x.ndim != d + 2:
        raise ValueError(
            f"{op}: input of shape {x.shape} must be {d + 2}-D {layout} (or {d + 1}-D without the batch axis)"
        )
    return x, False


def _conv_window(
    op: str,
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    b: Tensor | None,
    stride: Any,
    padding: Padding,
    dilation: Any,
    groups: Any,
    d: int,
) -> Window:
    """The geometry of ``op`` (conv1d: d = 1, conv2d: d = 2) as a 2-D ``Window``, after
    checking every argument against the input and weight shapes."""
    letters = "L" if d == 1 else "kH, kW"
    if len(w_shape) != d + 2:
        raise ValueError(
            f"{op}: weight of shape {w_shape} must be {d + 2}-D (out_channels, in_channels / groups, {letters})"
        )
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be an int >= 1, got {groups!r}")
    n_in, out_ch, per_group = x_shape[1], w_shape[0], w_shape[1]
    if n_in % groups or out_ch % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide the input's channels ({n_in}, input shape {x_shape}) and the "
            f"weight's out_channels ({out_ch}, weight shape {w_shape})"
        )
    if per_group * groups != n_in:
        raise ValueError(
            f"{op}: the input has {n_in} channels (shape {x_shape}) but the weight of shape {w_shape} with "
            f"groups={groups} expects {per_group} x {groups} = {per_group * groups}; weight.shape[1] must be "
            "in_channels / groups"
        )
    if b is not None and b.shape != (out_ch,):
        raise ValueError(f"{op}: bias of shape {b.shape} must be (out_channels,) = ({out_ch},)")
    strides = _positive(op, "stride", stride, d)
    dilations = _positive(op, "dilation", dilation, d)
    kernel, size = tuple(w_shape[2:]), tuple(x_shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * d
        elif padding == "same":
            if strides != (1,) * d:
                raise ValueError(
                    f"{op}: padding='same' needs stride 1 (as in PyTorch), got stride={stride!r}; "
                    "give the padding as numbers instead"
                )
            # PyTorch's: total dilation (k - 1), the extra one (when odd) on the bottom/right
            totals = [dl * (k - 1) for dl, k in zip(dilations, kernel)]
            pads = [(t // 2, t - t // 2) for t in totals]
        else:
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple of {d} ints, got {padding!r}")
    else:
        amounts = _ints(op, "padding", padding, d)
        if min(amounts) < 0:
            raise ValueError(f"{op}: padding must be >= 0, got {padding!r}")
        pads = [(p, p) for p in amounts]
    spans = [dl * (k - 1) + 1 for dl, k in zip(dilations, kernel)]
    padded = [s + lo + hi for s, (lo, hi) in zip(size, pads)]
    if any(p < sp for p, sp in zip(padded, spans)):
        dilated = f" (spanning {_size_text(spans)} with dilation {dilation!r})" if max(dilations) > 1 else ""
        raise ValueError(
            f"{op}: kernel {_size_text(kernel)}{dilated} is larger than the padded input {_size_text(padded)} "
            f"(input shape {x_shape}, weight shape {w_shape}, padding {padding!r}); pad more or use a smaller kernel"
        )
    out = [(p - sp) // s + 1 for p, sp, s in zip(padded, spans, strides)]
    if d == 1:  # conv1d runs as a conv2d over a height-1 image
        return Window((1, size[0]), (1, out[0]), (1, kernel[0]), (1, strides[0]), ((0, 0), pads[0]),
                      (1, dilations[0]), int(groups))  # fmt: skip
    return Window(size, tuple(out), kernel, strides, tuple(pads), dilations, int(groups))  # type: ignore[arg-type]


def _bias(op: str, bias: Any, like: Tensor) -> Tensor | None:
    return None if bias is None else as_tensor(bias, like, op)


# ----------------------------------------------------------------------------- public conv functions


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | Pair = 1,
    padding: Padding = 0,
    dilation: int | Pair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``: x (N, C, H, W), weight
    (out_channels, C / groups, kH, kW), bias (out_channels,) -> (N, out_channels, oH, oW),
    oH = (H + pad_top + pad_bottom - dilation (kH - 1) - 1) // stride + 1.

    ``padding`` is an int, a pair, ``"valid"`` (0) or ``"same"`` (stride 1 only; an odd total
    dilation (k - 1) puts the extra row/column at the bottom/right, as PyTorch).
    """
    x = as_tensor(x, op="conv2d")
    x, unbatched = _batched("conv2d", x, 2, "(N, C, H, W)")
    w = as_tensor(weight, x, "conv2d")
    b = _bias("conv2d", bias, x)
    win = _conv_window("conv2d", x.shape, w.shape, b, stride, padding, dilation, groups, 2)
    y = Conv2d.apply(x, w, b, win)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv1d(
    x: Any, weight: Any, bias: Any = None, stride: int = 1, padding: Padding = 0, dilation: int = 1, groups: int = 1
) -> Tensor:
    """1-D cross-correlation, as ``torch.nn.functional.conv1d``: x (N, C, L), weight
    (out_channels, C / groups, k) -> (N, out_channels, oL). Runs as ``conv2d`` over images
    of height 1 (the reshapes are recorded too)."""
    x = as_tensor(x, op="conv1d")
    x, unbatched = _batched("conv1d", x, 1, "(N, C, L)")
    w = as_tensor(weight, x, "conv1d")
    b = _bias("conv1d", bias, x)
    win = _conv_window("conv1d", x.shape, w.shape, b, stride, padding, dilation, groups, 1)
    n, c, length = x.shape
    y = Conv2d.apply(x.reshape(n, c, 1, length), w.reshape(w.shape[0], w.shape[1], 1, w.shape[2]), b, win)
    return y.reshape(y.shape[1], y.shape[3]) if unbatched else y.reshape(n, y.shape[1], y.shape[3])


def conv_transpose2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | Pair = 1,
    padding: int | Pair = 0,
    output_padding: int | Pair = 0,
    groups: int = 1,
    dilation: int | Pair = 1,
) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input), as
    ``torch.nn.functional.conv_transpose2d``: x (N, C_in, H, W), weight
    (C_in, C_out / groups, kH, kW) -> (N, C_out, oH, oW) with
    oH = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
    """
    op = "conv_transpose2d"
    x = as_tensor(x, op=op)
    x, unbatched = _batched(op, x, 2, "(N, C_in, H, W)")
    w = as_tensor(weight, x, op)
    b = _bias(op, bias, x)
    if w.ndim != 4:
        raise ValueError(f"{op}: weight of shape {w.shape} must be 4-D (in_channels, out_channels / groups, kH, kW)")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be an int >= 1, got {groups!r}")
    c_in = x.shape[1]
    if w.shape[0] != c_in or c_in % groups:
        raise ValueError(
            f"{op}: the input has {c_in} channels (shape {x.shape}); the weight of shape {w.shape} must have "
            f"in_channels = {c_in} first, and groups={groups} must divide it"
        )
    c_out = w.shape[1] * groups
    if b is not None and b.shape != (c_out,):
        raise ValueError(f"{op}: bias of shape {b.shape} must be (out_channels,) = ({c_out},)")
    strides = _positive(op, "stride", stride, 2)
    dilations = _positive(op, "dilation", dilation, 2)
    pads = _ints(op, "padding", padding, 2)
    extra = _ints(op, "output_padding", output_padding, 2)
    if min(pads) < 0 or min(extra) < 0:
        raise ValueError(f"{op}: padding and output_padding must be >= 0, got {padding!r} and {output_padding!r}")
    if any(e >= s and e >= dl for e, s, dl in zip(extra, strides, dilations)):
        raise ValueError(
            f"{op}: output_padding {output_padding!r} must be smaller than either stride {stride!r} or dilation "
            f"{dilation!r} (as in PyTorch)"
        )
    kernel, size = tuple(w.shape[2:]), tuple(x.shape[2:])
    out = [
        (n - 1) * s - 2 * p + dl * (k - 1) + e + 1
        for n, s, p, dl, k, e in zip(size, strides, pads, dilations, kernel, extra)
    ]
    if min(out) < 1:
        raise ValueError(
            f"{op}: the output would be {_size_text(out)} for input shape {x.shape}, weight shape {w.shape}, "
            f"stride {stride!r}, padding {padding!r}: reduce the padding"
        )
    win = Window(tuple(out), size, kernel, strides, ((pads[0], pads[0]), (pads[1], pads[1])), dilations, int(groups))  # type: ignore[arg-type]
    y = ConvTranspose2d.apply(x, w, b, win)
    return y.reshape(y.shape[1:]) if unbatched else y


# ----------------------------------------------------------------------------- pooling


def _pool_window(
    op: str, shape: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
) -> Window:
    """PyTorch's pooling geometry: out = (n + 2 pad - dilation (k - 1) - 1 (+ stride - 1 in
    ceil mode)) // stride + 1, less one in ceil mode if the last window would start in the
    right padding; pad <= k // 2. Ceil mode's extra windows hang over the bottom/right:
    there the padding is extended (so Window.padding may be asymmetric)."""
    kernel = _positive(op, "kernel_size", kernel_size, 2)
    strides = (
        kernel
        if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
        else _positive(op, "stride", stride, 2)
    )
    dilations = _positive(op, "dilation", dilation, 2)
    pads = _ints(op, "padding", padding, 2)
    if min(pads) < 0 or any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{op}: padding {padding!r} must be between 0 and half the kernel size {kernel_size!r} (as in PyTorch)"
        )
    size = shape[2:]
    out, padding_2d = [], []
    for n, k, s, p, dl in zip(size, kernel, strides, pads, dilations):
        span = dl * (k - 1) + 1
        o = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        if o < 1:
            raise ValueError(
                f"{op}: kernel {_size_text(kernel)} (dilation {dilation!r}) does not fit in the input of shape "
                f"{shape} with padding {padding!r}: the output would be empty"
            )
        out.append(o)
        padding_2d.append((p, max(p, (o - 1) * s + span - n - p)))  # ceil mode's overhang: more padding
    return Window(tuple(size), tuple(out), kernel, strides, tuple(padding_2d), dilations)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=256)
def _first_inside(n_out: int, stride: int, dilation: int, k: int, front: int, size: int) -> np.ndarray:
    """For each window along one axis, its first tap inside x (k if none is). Cached: do not
    change the array."""
    taps = np.arange(n_out)[:, None] * stride + np.arange(k) * dilation - front  # (n_out, k) positions in x
    inside = (taps >= 0) & (taps < size)
    return np.where(inside.any(axis=1), inside.argmax(axis=1), k)


def _max_pool(x: np.ndarray, win: Window) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum, and which tap (p kW + q) holds it.

    PyTorch's scan, vectorized over all windows at once (a loop over the kH kW taps only):
    start at -inf on the window's first element inside x; a tap takes over if it is
    greater, or NaN. So ties go to the first maximum in row-major order, padding (-inf)
    never wins, and an all -inf window points at its first element inside x.
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = win.kernel, win.stride, win.dilation, win.out_size
    (top, _), (left, _) = win.padding
    view = _windows(_pad(x, win.padding, _lowest(x.dtype)), win)  # (N, C, oH, oW, kH, kW), no copy
    # one copy, taps first: each tap's plane (N, C, oH, oW) is then contiguous, so fast to scan
    planes = np.ascontiguousarray(view.transpose(4, 5, 0, 1, 2, 3)).reshape(kh * kw, n, c, oh, ow)
    first = _first_inside(oh, sh, dh, kh, top, h)[:, None] * kw + _first_inside(ow, sw, dw, kw, left, w)
    best = np.full((n, c, oh, ow), _lowest(x.dtype), dtype=x.dtype)
    tap = np.empty((n, c, oh, ow), dtype=np.min_scalar_type(kh * kw))
    tap[...] = first
    check_nan = x.dtype.kind == "f"
    for t in range(kh * kw):
        v = planes[t]
        better = v > best
        if check_nan:
            better |= np.isnan(v)
        np.maximum(best, v, out=best)  # (NaN stays NaN, as PyTorch's)
        np.copyto(tap, t, where=better)
    return best, tap


def _flat_index(tap: np.ndarray, win: Window, shape: tuple[int, ...]) -> np.ndarray:
    """The flat index into x (N C H W) of each window's tap; x.size for a window with no
    element of x in it (dilation can skip over x): it passes no gradient (PyTorch's backward
    writes out of bounds there)."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = win.kernel, win.stride, win.dilation, win.out_size
    (top, _), (left, _) = win.padding
    tap = tap.astype(np.int64)
    rows = np.arange(oh)[:, None] * sh + (tap // kw) * dh - top
    cols = np.arange(ow) * sw + (tap % kw) * dw - left
    flat = (np.arange(n * c) * (h * w)).reshape(n, c, 1, 1) + rows * w + cols
    empty = (_first_inside(oh, sh, dh, kh, top, h)[:, None] == kh) | (_first_inside(ow, sw, dw, kw, left, w) == kw)
    return np.where(empty, n * c * h * w, flat) if empty.any() else flat


def _scatter(g: np.ndarray, flat: np.ndarray, shape: tuple[int, ...], unique: bool) -> np.ndarray:
    """zeros(shape) with g added at the flat indices (repeats add up; index size is dropped).
    ``unique``: no index repeats but size (windows that do not overlap), so g is assigned."""
    size = math.prod(shape)
    if unique:
        out = np.zeros(size + 1, dtype=g.dtype)
        out[flat.reshape(-1)] = np.broadcast_to(g, flat.shape).reshape(-1)
    else:
        out = np.bincount(flat.reshape(-1), weights=np.broadcast_to(g, flat.shape).reshape(-1), minlength=size + 1)
    return out[:size].astype(g.dtype, copy=False).reshape(shape)


class MaxPool2d(Function):
    """y[n,c,i,j] = max of x over window (i, j) (padding counts as -inf);
    dL/dx = dL/dy sent to the window's first maximum (all of it, also at ties, as PyTorch); overlapping windows add up"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, win: Window) -> np.ndarray:
        result = _run(_max_pool, x.data, win)
        ctx.window, ctx.tap, ctx.in_shape = win, result[1], x.shape
        return result[0]

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None]:
        win, shape = ctx.window, ctx.in_shape
        flat = _run(_flat_index, ctx.tap, win, shape)
        if is_tensor(grad):  # the scatter is recorded: its own gradient is the gather back
            size = math.prod(shape)
            spread = IndexAdd.apply(grad.reshape(-1), (flat.reshape(-1),), (size + 1,))
            return spread[:size].reshape(shape), None
        spans = [dl * (k - 1) + 1 for dl, k in zip(win.dilation, win.kernel)]
        unique = all(s >= span for s, span in zip(win.stride, spans))  # windows do not overlap
        return _run(_scatter, grad, flat, shape, unique), None


def _window_sum(x: np.ndarray, win: Window, divisor: np.ndarray) -> np.ndarray:
    """S(x) / divisor: each window's sum over the zero-padded x."""
    return _windows(_pad(x, win.padding), win).sum(axis=(-2, -1)) / divisor


def _window_sum_transpose(g: np.ndarray, win: Window, divisor: np.ndarray) -> np.ndarray:
    """S^T(g / divisor): each x element gets the sum of g / divisor over the windows holding it."""
    zp, flat = _transposed(g / divisor, win)
    return _windows(zp, flat).sum(axis=(-2, -1))


class AvgPool2d(Function):
    """y = S(x) / divisor:  y[n,c,i,j] = sum of the zero-padded x over window (i, j), divided by PyTorch's divisor;
    dL/dx = S^T(g / divisor): each x element gets g / divisor of every window holding it"""

    @staticmethod
    def forward(ctx: Context, x: Tensor, win: Window, divisor: np.ndarray) -> np.ndarray:
        ctx.window, ctx.divisor = win, divisor
        return _run(_window_sum, x.data, win, divisor)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None, None]:
        if is_tensor(grad):
            return AvgPool2dBackward.apply(grad, ctx.window, ctx.divisor), None, None
        return _run(_window_sum_transpose, grad, ctx.window, ctx.divisor), None, None


class AvgPool2dBackward(Function):
    """gx = S^T(g / divisor) (avg_pool2d's input gradient);  dL/dg = S(G) / divisor = avg_pool2d(G)"""

    @staticmethod
    def forward(ctx: Context, g: Tensor, win: Window, divisor: np.ndarray) -> np.ndarray:
        ctx.window, ctx.divisor = win, divisor
        return _run(_window_sum_transpose, g.data, win, divisor)

    @staticmethod
    def backward(ctx: Context, grad: Grad) -> tuple[Any, None, None]:
        if is_tensor(grad):
            return AvgPool2d.apply(grad, ctx.window, ctx.divisor), None, None
        return _run(_window_sum, grad, ctx.window, ctx.divisor), None, None


def _avg_divisor(win: Window, pad: Pair, count_include_pad: bool, divisor_override: Any, dtype: np.dtype) -> np.ndarray:
    """PyTorch's divisor per window (oH, oW): the window's size clipped to the padded input
    (not to ceil mode's overhang), or only its elements inside x (count_include_pad=False)."""
    if divisor_override is not None:
        return np.full(win.out_size, divisor_override, dtype=dtype)
    sizes = []
    for n, o, k, s, p in zip(win.in_size, win.out_size, win.kernel, win.stride, pad):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        sizes.append(end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0))
    return np.outer(sizes[0], sizes[1]).astype(dtype)


def max_pool2d(
    x: Any,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """The maximum over each window, as ``torch.nn.functional.max_pool2d`` (padding is -inf;
    stride defaults to kernel_size). Its gradient goes to the first maximum of each window
    in row-major order, all of it even at ties, as PyTorch's."""
    op = "max_pool2d"
    if return_indices:
        raise ValueError(f"{op}: return_indices=True is not supported here")
    x = as_tensor(x, op=op)
    x, unbatched = _batched(op, x, 2, "(N, C, H, W)")
    y = MaxPool2d.apply(x, _pool_window(op, x.shape, kernel_size, stride, padding, dilation, ceil_mode))
    return y.reshape(y.shape[1:]) if unbatched else y


def avg_pool2d(
    x: Any,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean over each window, as ``torch.nn.functional.avg_pool2d``: the zero-padded
    window's sum divided by its size within the padded input (count_include_pad=True) or by
    its number of elements inside x (False), or by ``divisor_override``."""
    op = "avg_pool2d"
    x = as_tensor(x, op=op)
    x, unbatched = _batched(op, x, 2, "(N, C, H, W)")
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    win = _pool_window(op, x.shape, kernel_size, stride, padding, 1, ceil_mode)
    pad = (win.padding[0][0], win.padding[1][0])
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    y = AvgPool2d.apply(x, win, _avg_divisor(win, pad, count_include_pad, divisor_override, dtype))
    return y.reshape(y.shape[1:]) if unbatched else y


def _adaptive_matrix(n_in: int, n_out: int, dtype: np.dtype) -> np.ndarray:
    """(n_out, n_in): row i averages x[start:end], start = floor(i n_in / n_out),
    end = ceil((i + 1) n_in / n_out) (PyTorch's windows)."""
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    k = np.arange(n_in)
    inside = (k >= start[:, None]) & (k < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d(x: Any, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Means over PyTorch's adaptive windows, as ``torch.nn.functional.adaptive_avg_pool2d``:
    output row i averages rows floor(i H / oH) to ceil((i + 1) H / oH) (exclusive); the same
    for columns. ``None`` in output_size keeps that side.

    The windows are rectangles, so the mean is separable: y = A_H @ x @ A_W.T with
    averaging matrices A; two recorded matmuls (no backward of its own).
    """
    op = "adaptive_avg_pool2d"
    x = as_tensor(x, op=op)
    x, unbatched = _batched(op, x, 2, "(N, C, H, W)")
    sizes = (
        (output_size, output_size) if output_size is None or isinstance(output_size, (int, np.integer)) else output_size
    )
    if (
        not isinstance(sizes, (tuple, list))
        or len(sizes) != 2
        or not all(
            s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1) for s in sizes
        )
    ):
        raise ValueError(f"{op}: output_size must be an int >= 1 or a pair of them (or None), got {output_size!r}")
    h, w = x.shape[2:]
    oh, ow = (h if sizes[0] is None else int(sizes[0])), (w if sizes[1] is None else int(sizes[1]))
    if h < 1 or w < 1:
        raise ValueError(f"{op}: input of shape {x.shape} has an empty image")
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    y = as_tensor(_adaptive_matrix(h, oh, dtype)) @ x @ as_tensor(_adaptive_matrix(w, ow, dtype).T)
    return y.reshape(y.shape[1:]) if unbatched else y


# ----------------------------------------------------------------------------- interpolate


def _nearest_source(n_in: int, n_out: int, scale: float | None) -> np.ndarray:
    """PyTorch's "nearest": src = min(floor(dst * s), n_in - 1), s = 1 / scale_factor (or
    n_in / n_out), computed in float32 as PyTorch does."""
    if n_out == n_in:
        return np.arange(n_out)
    if n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    return np.minimum(np.floor(np.arange(n_out).astype(np.float32) * s).astype(np.int64), n_in - 1)


def _linear_source(
    n_in: int, n_out: int, scale: float | None, align_corners: bool, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's bilinear source positions: i0, i1 = i0 + (i0 < n_in - 1) and the weight of i1.

    align_corners: src = dst (n_in - 1) / (n_out - 1); else src = (dst + 0.5) s - 0.5
    clamped at 0, s = 1 / scale_factor (or n_in / n_out); a side that keeps its size is
    copied (as PyTorch, even with a scale_factor). In the input's float type.
    """
    t = dtype.type
    dst = np.arange(n_out).astype(dtype)
    if n_out == n_in:
        return np.arange(n_out), np.arange(n_out), np.zeros(n_out, dtype=dtype)
    if align_corners:
        src = dst * (t(n_in - 1) / t(n_out - 1)) if n_out > 1 else np.zeros(n_out, dtype=dtype)
    else:
        s = t(1.0 / scale) if scale is not None and scale > 0 else t(n_in) / t(n_out)
        src = np.maximum(s * (dst + t(0.5)) - t(0.5), t(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0, 0, 1).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    return i0, i1, lam


def interpolate(
    x: Any,
    size: int | Pair | None = None,
    scale_factor: float | tuple[float, float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
) -> Tensor:
    """Resize (N, C, H, W) images, as ``torch.nn.functional.interpolate`` in modes
    ``"nearest"`` and ``"bilinear"``.

    Give ``size`` or ``scale_factor`` (the output is floor(H scale_factor); unless
    ``recompute_scale_factor``, the source positions use 1 / scale_factor, as PyTorch).
    nearest: y[i] = x[min(floor(i s), H - 1)] with s = H / oH (or 1 / scale_factor).
    bilinear: src = (i + 0.5) s - 0.5 clamped at 0 (align_corners=False, the default), or
    i (H - 1) / (oH - 1) (align_corners=True); y mixes x[floor(src)] and the next row by the
    fraction. Recorded indexing and arithmetic: no backward of its own.
    """
    op = "interpolate"
    x = as_tensor(x, op=op)
    if x.ndim != 4:
        raise ValueError(f"{op}: input of shape {x.shape} must be 4-D (N, C, H, W) here (modes nearest and bilinear)")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"{op}: mode must be 'nearest' or 'bilinear' here, got {mode!r}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{op}: align_corners can only be set with mode='bilinear' (as in PyTorch)")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    h, w = x.shape[2:]
    if size is not None:
        out = _positive(op, "size", size, 2)
        scales: tuple[float | None, float | None] = (None, None)
    else:
        assert scale_factor is not None  # checked above: exactly one of size and scale_factor
        pair = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
        if len(pair) != 2 or not all(isinstance(s, (int, float, np.number)) and s > 0 for s in pair):
            raise ValueError(f"{op}: scale_factor must be a positive number or a pair of them, got {scale_factor!r}")
        out = (math.floor(h * float(pair[0])), math.floor(w * float(pair[1])))
        if min(out) < 1:
            raise ValueError(f"{op}: scale_factor {scale_factor!r} makes the {h}x{w} image empty")
        scales = (None, None) if recompute_scale_factor else (float(pair[0]), float(pair[1]))
    if mode == "nearest":
        rows = _nearest_source(h, out[0], scales[0])
        cols = _nearest_source(w, out[1], scales[1])
        return x[:, :, rows[:, None], cols[None, :]]
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    corners = bool(align_corners)
    r0, r1, lr = _linear_source(h, out[0], scales[0], corners, dtype)
    c0, c1, lc = _linear_source(w, out[1], scales[1], corners, dtype)
    lr = lr[:, None]
    rows_mixed = x[:, :, r0, :] * (1 - lr) + x[:, :, r1, :] * lr  # (N, C, oH, W)
    return rows_mixed[:, :, :, c0] * (1 - lc) + rows_mixed[:, :, :, c1] * lc


# ----------------------------------------------------------------------------- attention


def scaled_dot_product_attention(
    q: Any,
    k: Any,
    v: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """softmax(q @ k^T * scale + mask) @ v over the last two axes, as
    ``torch.nn.functional.scaled_dot_product_attention``: q (..., L, E), k (..., S, E),
    v (..., S, Ev) -> (..., L, Ev); scale defaults to 1 / sqrt(E).

    ``attn_mask``: a bool mask (True = attend, as PyTorch) or a float mask added to the
    scores, broadcast to (..., L, S). ``is_causal``: position i attends to j <= i (no
    attn_mask then). A row with nothing to attend to gives zeros (as PyTorch's). With
    ``dropout_p`` > 0 each attention weight is kept with probability 1 - dropout_p (a draw
    ``rng.random(shape) >= dropout_p`` from ``rng``, the library-wide generator if None) and scaled
    by 1 / (1 - dropout_p). Recorded matmul, where and softmax: no backward of its own.
    """
    op = "scaled_dot_product_attention"
    q, k, v = as_tensor(q, op=op), as_tensor(k, op=op), as_tensor(v, op=op)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{op}: q (..., L, E), k (..., S, E) and v (..., S, Ev) must agree on E and S; got q {q.shape}, "
            f"k {k.shape}, v {v.shape}"
        )
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1), got {dropout_p!r}")
    n_q, n_k = q.shape[-2], k.shape[-2]
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = (q @ k.swapaxes(-1, -2)) * factor  # (..., L, S)
    dead = None  # rows with nothing to attend to: they give zeros, as PyTorch's
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: give attn_mask or is_causal=True, not both (as in PyTorch)")
        scores = where(np.tril(np.ones((n_q, n_k), dtype=bool)), scores, -np.inf)
    elif attn_mask is not None:
        mask = value_of(attn_mask) if is_tensor(attn_mask) else np.asarray(attn_mask)
        try:
            np.broadcast_shapes(mask.shape, scores.shape)
        except ValueError:
            raise ValueError(
                f"{op}: attn_mask of shape {mask.shape} does not broadcast to the scores' shape {scores.shape} (..., L, S)"
            ) from None
        if mask.dtype == bool:
            dead = ~mask.any(axis=-1, keepdims=True)
            scores = where(mask | dead, scores, -np.inf)  # (a dead row keeps its scores: no 0/0 in softmax)
        else:  # added to the scores; a row that is all -inf adds 0 instead, and is zeroed below
            dead = np.all(np.isneginf(mask), axis=-1, keepdims=True)
            added = attn_mask if is_tensor(attn_mask) else as_tensor(mask.astype(scores.dtype, copy=False))
            scores = scores + (where(dead, 0.0, added) if dead.any() else added)
    attn = scores.softmax(-1)
    if dead is not None and dead.any():
        attn = where(dead, 0.0, attn)
    if dropout_p > 0.0:
        draws = random.resolve(rng, "scaled_dot_product_attention").random(attn.shape)
        attn = attn * ((draws >= dropout_p) / (1.0 - dropout_p)).astype(attn.dtype)
    return attn @ v


__all__ = [
    "AvgPool2d",
    "AvgPool2dBackward",
    "Conv2d",
    "Conv2dWeightGrad",
    "ConvTranspose2d",
    "MaxPool2d",
    "Window",
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "interpolate",
    "max_pool2d",
    "scaled_dot_product_attention",
]
