"""Convolution, pooling, interpolation and attention: values, first and second derivatives.

Each op's ``Case`` (in ``CASES``) draws a configuration with hypothesis: batch N <= 2,
channels <= 3, images up to 6x6, kernels up to 3x3, random stride, padding (numbers,
"valid", "same"), dilation and groups. ``check_first``/``check_second``/``check_float32``
(tests/op_checks.py) compare the op with a numpy reference written here *independently*
of autograd/ops/conv.py (windows gathered by fancy indexing and contracted with einsum,
transposed convolutions scattered tap by tap, pooling divisors counted window by window),
and its first and second derivatives with central differences of that reference.

Then PyTorch: every op and option is compared with ``torch.nn.functional`` (values and the
gradients of every input), also second derivatives (a gradient penalty), ties in
max-pooling, the layers' parameter shapes and initialisation bounds, and the error
messages for bad input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import strategies as S
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from op_checks import Case, check_first, check_float32, check_second

import nn
from autograd import Tensor, compile, grad
from autograd.ops import conv as C
from autograd.ops.conv import AvgPool2dBackward, Conv2dWeightGrad

# ----------------------------------------------------------------------------- numpy references


def _np_windows(xp: np.ndarray, kernel, stride, dilation, out) -> np.ndarray:
    """(N, C, oH, oW, kH, kW) by fancy indexing: [..., i, j, p, q] = xp[..., i s + p d, j s + q d]."""
    rows = np.arange(out[0])[:, None] * stride[0] + np.arange(kernel[0])[None, :] * dilation[0]
    cols = np.arange(out[1])[:, None] * stride[1] + np.arange(kernel[1])[None, :] * dilation[1]
    return xp[:, :, rows[:, None, :, None], cols[None, :, None, :]]


def _same_pads(kernel, dilation):
    """PyTorch's 'same': total dilation (k - 1), the odd one out at the end."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return [(t // 2, t - t // 2) for t in totals]


def _conv_pads(padding, kernel, dilation):
    if padding == "same":
        return _same_pads(kernel, dilation)
    if padding == "valid":
        return [(0, 0), (0, 0)]
    p = (padding, padding) if isinstance(padding, int) else padding
    return [(p[0], p[0]), (p[1], p[1])]


def np_conv2d(x, w, b, stride, pads, dilation, groups):
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    out = [(xp.shape[2 + i] - dilation[i] * ((kh, kw)[i] - 1) - 1) // stride[i] + 1 for i in range(2)]
    win = _np_windows(xp, (kh, kw), stride, dilation, out).reshape(n, groups, cg, *out, kh, kw)
    y = np.einsum("ngcijpq,gocpq->ngoij", win, w.reshape(groups, o // groups, cg, kh, kw)).reshape(n, o, *out)
    return y if b is None else y + b[:, None, None]


def np_conv_weight(x, gy, kernel, stride, pads, dilation, groups):
    n, c = x.shape[:2]
    o, out = gy.shape[1], gy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    win = _np_windows(xp, kernel, stride, dilation, out).reshape(n, groups, c // groups, *out, *kernel)
    gw = np.einsum("ngcijpq,ngoij->gocpq", win, gy.reshape(n, groups, o // groups, *out))
    return gw.reshape(o, c // groups, *kernel)


def np_conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation):
    """Scatter x[n, o, i, j] w[o, c, p, q] to row i s + p d - padding, tap by tap."""
    n, c_in, h, wd = x.shape
    _, cog, kh, kw = w.shape
    s, p, e, d = (np.broadcast_to(v, 2) for v in (stride, padding, output_padding, dilation))
    out = [(size - 1) * s[i] - 2 * p[i] + d[i] * (k - 1) + e[i] + 1 for i, (size, k) in enumerate(((h, kh), (wd, kw)))]
    full = np.zeros((n, groups, cog, out[0] + 2 * p[0], out[1] + 2 * p[1]))
    xg = x.reshape(n, groups, c_in // groups, h, wd)
    wg = w.reshape(groups, c_in // groups, cog, kh, kw)
    for a in range(kh):
        for bb in range(kw):
            part = np.einsum("ngoij,goc->ngcij", xg, wg[:, :, :, a, bb])
            r0, c0 = a * d[0], bb * d[1]
            full[:, :, :, r0 : r0 + (h - 1) * s[0] + 1 : s[0], c0 : c0 + (wd - 1) * s[1] + 1 : s[1]] += part
    y = full[:, :, :, p[0] : p[0] + out[0], p[1] : p[1] + out[1]].reshape(n, groups * cog, *out)
    return y if b is None else y + b[:, None, None]


def _pool_out(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape."""
    o = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    return o


def _pool_padded(x, kernel, stride, padding, dilation, ceil_mode, value):
    out = [_pool_out(x.shape[2 + i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(2)]
    need = [(out[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 for i in range(2)]
    pads = [(padding[i], max(padding[i], need[i] - x.shape[2 + i] - padding[i])) for i in range(2)]
    return np.pad(x, ((0, 0), (0, 0), *pads), constant_values=value), out


def np_max_pool2d(x, kernel, stride, padding, dilation, ceil_mode):
    xp, out = _pool_padded(x, kernel, stride, padding, dilation, ceil_mode, -np.inf)
    return _np_windows(xp, kernel, stride, dilation, out).max(axis=(-2, -1))


def np_avg_divisor(h, w, out, kernel, stride, padding, count_include_pad, divisor_override):
    """PyTorch's avg_pool2d divisor, window by window (its C++ loop, transcribed)."""
    div = np.zeros(out)
    for i in range(out[0]):
        for j in range(out[1]):
            hs, ws = i * stride[0] - padding[0], j * stride[1] - padding[1]
            he, we = min(hs + kernel[0], h + padding[0]), min(ws + kernel[1], w + padding[1])
            pool = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            div[i, j] = divisor_override or (pool if count_include_pad else (he - hs) * (we - ws))
    return div


def np_avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    xp, out = _pool_padded(x, kernel, stride, padding, (1, 1), ceil_mode, 0.0)
    sums = _np_windows(xp, kernel, stride, (1, 1), out).sum(axis=(-2, -1))
    return sums / np_avg_divisor(*x.shape[2:], out, kernel, stride, padding, count_include_pad, divisor_override)


def np_avg_pool2d_transpose(g, in_shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """The adjoint of np_avg_pool2d: g / divisor added back over each window, tap by tap."""
    h, w = in_shape[2:]
    out = g.shape[2:]
    gd = g / np_avg_divisor(h, w, out, kernel, stride, padding, count_include_pad, divisor_override)
    need = [(out[i] - 1) * stride[i] + kernel[i] for i in range(2)]
    full = np.zeros((*in_shape[:2], max(need[0], h + 2 * padding[0]), max(need[1], w + 2 * padding[1])))
    for a in range(kernel[0]):
        for b in range(kernel[1]):
            full[
                :, :, a : a + (out[0] - 1) * stride[0] + 1 : stride[0], b : b + (out[1] - 1) * stride[1] + 1 : stride[1]
            ] += gd
    return full[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]


def np_adaptive_avg_pool2d(x, out):
    h, w = x.shape[2:]
    y = np.zeros((*x.shape[:2], *out))
    for i in range(out[0]):
        for j in range(out[1]):
            r0, r1 = math.floor(i * h / out[0]), math.ceil((i + 1) * h / out[0])
            c0, c1 = math.floor(j * w / out[1]), math.ceil((j + 1) * w / out[1])
            y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(-2, -1))
    return y


def _np_linear_weights(n_in, n_out, scale, align_corners):
    """PyTorch's bilinear source index: (i0, i1, lambda1) per output position, float64."""
    if n_out == n_in:
        return np.arange(n_out), np.arange(n_out), np.zeros(n_out)
    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = i * ((n_in - 1) / (n_out - 1)) if n_out > 1 else 0 * i
    else:
        s = 1.0 / scale if scale else n_in / n_out
        src = np.maximum((i + 0.5) * s - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
    return i0, np.minimum(i0 + 1, n_in - 1), src - i0


def np_interpolate(x, out, scales, mode, align_corners):
    h, w = x.shape[2:]
    if mode == "nearest":

        def nearest(n_in, n_o, sc):
            if n_o == n_in:  # a side whose size does not change is copied, even with a scale factor (as torch)
                return np.arange(n_in)
            f = np.float32(1.0 / sc) if sc else np.float32(n_in) / np.float32(n_o)
            return np.minimum(np.floor(np.arange(n_o, dtype=np.float32) * f).astype(int), n_in - 1)

        return x[:, :, nearest(h, out[0], scales[0])[:, None], nearest(w, out[1], scales[1])[None, :]]
    r0, r1, lr = _np_linear_weights(h, out[0], scales[0], align_corners)
    c0, c1, lc = _np_linear_weights(w, out[1], scales[1], align_corners)
    lr, lc = lr[:, None], lc[None, :]

    def corner(r, c):
        return x[:, :, r[:, None], c[None, :]]

    return ((1 - lr) * (1 - lc) * corner(r0, c0) + (1 - lr) * lc * corner(r0, c1)
            + lr * (1 - lc) * corner(r1, c0) + lr * lc * corner(r1, c1))  # fmt: skip


def np_attention(q, k, v, keep, added, scale, dropout_keep):
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if added is not None:
        scores = scores + added
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
        dead = ~keep.any(axis=-1, keepdims=True)
        scores = np.where(dead, 0.0, scores)
    else:
        dead = None
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    attn = e / e.sum(axis=-1, keepdims=True)
    if dead is not None:
        attn = np.where(dead, 0.0, attn)
    if dropout_keep is not None:
        attn = attn * dropout_keep
    return attn @ v


# ----------------------------------------------------------------------------- configurations

PADDINGS = st.one_of(
    st.sampled_from(["valid", "same"]), st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))
)


@st.composite
def conv2d_setup(draw, transpose_shapes: bool = False):
    """(arrays, call, ref): x, weight (and bias) for conv2d; call(F, *tensors) runs the op
    with F = autograd.ops.conv or torch.nn.functional; ref(*arrays) is the numpy reference."""
    groups = draw(st.integers(1, 3), label="groups")
    cg = draw(st.integers(1, 3 // groups), label="in_channels / groups")
    og = draw(st.integers(1, 3 // groups), label="out_channels / groups")
    n = draw(st.integers(1, 2), label="N")
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)), label="kernel")
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)), label="dilation")
    padding = draw(PADDINGS, label="padding")
    stride = (1, 1) if padding == "same" else draw(st.tuples(st.integers(1, 3), st.integers(1, 3)), label="stride")
    pads = _conv_pads(padding, kernel, dilation)
    size = [draw(st.integers(max(1, dilation[i] * (kernel[i] - 1) + 1 - sum(pads[i])), 6), label="H, W"[3 * i])
            for i in range(2)]  # fmt: skip
    x = draw(S.arrays((n, groups * cg, *size)), label="x")
    w = draw(S.arrays((groups * og, cg, *kernel)), label="weight")
    arrays = [x, w]
    if draw(st.booleans(), label="bias"):
        arrays.append(draw(S.arrays((groups * og,)), label="bias"))

    def call(F, x, w, b=None):
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    def ref(x, w, b=None):
        return np_conv2d(x, w, b, stride, pads, dilation, groups)

    options = {"stride": stride, "padding": padding, "pads": pads, "dilation": dilation, "groups": groups}
    return arrays, call, ref, options


@st.composite
def conv1d_setup(draw):
    groups = draw(st.integers(1, 3), label="groups")
    cg = draw(st.integers(1, 3 // groups), label="in_channels / groups")
    og = draw(st.integers(1, 3 // groups), label="out_channels / groups")
    n = draw(st.integers(1, 2), label="N")
    k = draw(st.integers(1, 3), label="kernel")
    dilation = draw(st.integers(1, 2), label="dilation")
    padding = draw(st.one_of(st.sampled_from(["valid", "same"]), st.integers(0, 2)), label="padding")
    stride = 1 if padding == "same" else draw(st.integers(1, 3), label="stride")
    (pad,) = _conv_pads(padding, (k, k), (dilation, dilation))[1:]
    length = draw(st.integers(max(1, dilation * (k - 1) + 1 - sum(pad)), 6), label="L")
    x = draw(S.arrays((n, groups * cg, length)), label="x")
    w = draw(S.arrays((groups * og, cg, k)), label="weight")
    arrays = [x, w]
    if draw(st.booleans(), label="bias"):
        arrays.append(draw(S.arrays((groups * og,)), label="bias"))

    def call(F, x, w, b=None):
        return F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    def ref(x, w, b=None):
        return np_conv2d(x[:, :, None, :], w[:, :, None, :], b, (1, stride), [(0, 0), pad], (1, dilation), groups)[
            :, :, 0
        ]

    return arrays, call, ref


@st.composite
def conv_transpose2d_setup(draw):
    groups = draw(st.integers(1, 3), label="groups")
    cg = draw(st.integers(1, 3 // groups), label="in_channels / groups")
    og = draw(st.integers(1, 3 // groups), label="out_channels / groups")
    n = draw(st.integers(1, 2), label="N")
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)), label="kernel")
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)), label="stride")
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)), label="dilation")
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)), label="padding")
    output_padding = tuple(
        draw(st.integers(0, max(stride[i], dilation[i]) - 1), label="output_padding") for i in range(2)
    )
    size = [draw(st.integers(1, 4), label="H, W") for _ in range(2)]
    # the output (H - 1) s - 2 p + d (k - 1) + output_padding + 1 must not be empty
    assume(all((size[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + output_padding[i] >= 0
               for i in range(2)))  # fmt: skip
    x = draw(S.arrays((n, groups * cg, *size)), label="x")
    w = draw(S.arrays((groups * cg, og, *kernel)), label="weight")
    arrays = [x, w]
    if draw(st.booleans(), label="bias"):
        arrays.append(draw(S.arrays((groups * og,)), label="bias"))

    def call(F, x, w, b=None):
        return F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                                  groups=groups, dilation=dilation)  # fmt: skip

    def ref(x, w, b=None):
        return np_conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)

    return arrays, call, ref


@st.composite
def pool_options(draw, dilated: bool):
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)), label="kernel")
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))), label="stride")
    padding = tuple(draw(st.integers(0, k // 2), label="padding") for k in kernel)
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)), label="dilation") if dilated else (1, 1)
    ceil_mode = draw(st.booleans(), label="ceil_mode")
    steps = kernel if stride is None else stride
    span = [dilation[i] * (kernel[i] - 1) + 1 for i in range(2)]
    size = [draw(st.integers(max(1, span[i] - 2 * padding[i]), 6), label="H, W") for i in range(2)]
    n, c = draw(st.integers(1, 2), label="N"), draw(st.integers(1, 2), label="C")
    return (n, c, *size), kernel, stride, steps, padding, dilation, ceil_mode


@st.composite
def max_pool_setup(draw, values=None):
    shape, kernel, stride, steps, padding, dilation, ceil_mode = draw(pool_options(dilated=True))
    x = draw(S.distinct_arrays(shape) if values is None else S.arrays(shape, values), label="x")
    # a window holding no element of x (dilation can skip over it) is -inf with no gradient
    assume(np.isfinite(np_max_pool2d(np.zeros(shape), kernel, steps, padding, dilation, ceil_mode)).all())

    def call(F, x):
        return F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)

    def ref(x):
        return np_max_pool2d(x, kernel, steps, padding, dilation, ceil_mode)

    return [x], call, ref


@st.composite
def avg_pool_setup(draw):
    shape, kernel, stride, steps, padding, _, ceil_mode = draw(pool_options(dilated=False))
    count_include_pad = draw(st.booleans(), label="count_include_pad")
    divisor_override = draw(st.sampled_from([None, None, 3]), label="divisor_override")
    x = draw(S.arrays(shape), label="x")

    def call(F, x):
        return F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)

    def ref(x):
        return np_avg_pool2d(x, kernel, steps, padding, ceil_mode, count_include_pad, divisor_override)

    return [x], call, ref, (shape, kernel, stride, steps, padding, ceil_mode, count_include_pad, divisor_override)


@st.composite
def adaptive_setup(draw):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    out = draw(st.tuples(st.integers(1, 6), st.integers(1, 6)), label="output_size")
    spec = draw(st.sampled_from(["pair", "int", "None"]), label="written as")
    output_size = {"pair": out, "int": out[0], "None": (None, out[1])}[spec]
    out = {"pair": out, "int": (out[0], out[0]), "None": (shape[2], out[1])}[spec]
    x = draw(S.arrays(shape), label="x")
    return [x], (lambda F, x: F.adaptive_avg_pool2d(x, output_size)), (lambda x: np_adaptive_avg_pool2d(x, out))


@st.composite
def interpolate_setup(draw, mode: str):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    align_corners = draw(st.sampled_from([None, False, True]), label="align_corners") if mode == "bilinear" else None
    if draw(st.booleans(), label="by size"):
        out = draw(st.tuples(st.integers(1, 7), st.integers(1, 7)), label="size")
        kwargs, scales = {"size": out}, (None, None)
    else:
        factor = draw(st.sampled_from([0.5, 0.75, 1.3, 1.5, 2.0, 2.5, 3.0]), label="scale_factor")
        out = (math.floor(shape[2] * factor), math.floor(shape[3] * factor))
        assume(min(out) >= 1)
        kwargs, scales = {"scale_factor": factor}, (factor, factor)
    x = draw(S.arrays(shape), label="x")

    def call(F, x):
        return F.interpolate(x, mode=mode, align_corners=align_corners, **kwargs)

    return [x], call, (lambda x: np_interpolate(x, out, scales, mode, bool(align_corners)))


@st.composite
def attention_setup(draw, dropout: bool = False):
    batch = draw(hnp_shapes(), label="batch")
    n_q, n_k, e, ev = (draw(st.integers(1, 3), label=name) for name in ("L", "S", "E", "Ev"))
    q = draw(S.arrays((*batch, n_q, e)), label="q")
    k = draw(S.arrays((*batch, n_k, e)), label="k")
    v = draw(S.arrays((*batch, n_k, ev)), label="v")
    kind = "none" if dropout else draw(st.sampled_from(["none", "bool", "float", "causal"]), label="mask")
    scale = draw(st.sampled_from([None, 0.3]), label="scale")
    factor = 1 / math.sqrt(e) if scale is None else scale
    keep = added = None
    mask_shape = draw(st.sampled_from([(n_q, n_k), (*batch, n_q, n_k)]), label="mask shape")
    if kind == "bool":
        keep = draw(hnp_bools(mask_shape), label="attn_mask")
    elif kind == "float":
        added = draw(S.arrays(mask_shape), label="attn_mask")
    elif kind == "causal":
        keep = np.tril(np.ones((n_q, n_k), dtype=bool))
    p, seed = (0.4, draw(st.integers(0, 2**16), label="seed")) if dropout else (0.0, 0)
    drop = (np.random.default_rng(seed).random((*batch, n_q, n_k)) >= p) / (1 - p) if dropout else None

    def call(F, q, k, v):
        mask = keep if kind == "bool" else added if kind == "float" else None
        if mask is not None and F is not C:  # PyTorch's masks are tensors
            import torch

            mask = torch.as_tensor(mask)
        extra = {"rng": np.random.default_rng(seed)} if dropout else {}
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=kind == "causal",
                                              scale=scale, **extra)  # fmt: skip

    return [q, k, v], call, (lambda q, k, v: np_attention(q, k, v, keep, added, factor, drop))


def hnp_shapes():
    return S.shapes(min_dims=0, max_dims=2, max_side=2)


def hnp_bools(shape):
    from hypothesis.extra import numpy as hnp

    return hnp.arrays(np.bool_, shape)


# ----------------------------------------------------------------------------- the cases


def _case(name: str, setup) -> Case:
    def draw(data):
        arrays, call, ref = data.draw(setup, label=name)[:3]
        return arrays, (lambda *ts: call(C, *ts)), ref

    return Case(name, draw)


def _weight_grad(data):
    """conv2d's weight gradient W(x, gy), an op of its own (its backward: I and C)."""
    arrays, _, ref, o = data.draw(conv2d_setup(), label="conv2d")
    x, w = arrays[:2]
    gy = data.draw(S.arrays(ref(x, w).shape), label="gy")
    win = C._conv_window("conv2d", x.shape, w.shape, None, o["stride"], o["padding"], o["dilation"], o["groups"], 2)
    return (
        [x, gy],
        lambda tx, tgy: Conv2dWeightGrad.apply(tx, tgy, win),
        lambda nx, ngy: np_conv_weight(nx, ngy, w.shape[2:], o["stride"], o["pads"], o["dilation"], o["groups"]),
    )


def _avg_pool_transpose(data):
    """avg_pool2d's input gradient S^T(g / divisor), an op of its own (its backward: avg_pool2d)."""
    _, _, _, options = data.draw(avg_pool_setup(), label="avg_pool2d")
    shape, kernel, stride, steps, padding, ceil_mode, include, override = options
    win = C._pool_window("avg_pool2d", shape, kernel, stride, padding, 1, ceil_mode)
    divisor = C._avg_divisor(win, padding, include, override, np.dtype(np.float64))
    g = data.draw(S.arrays((*shape[:2], *win.out_size)), label="g")
    return (
        [g],
        lambda t: AvgPool2dBackward.apply(t, win, divisor.astype(t.dtype)),
        lambda a: np_avg_pool2d_transpose(a, shape, kernel, steps, padding, ceil_mode, include, override),
    )


CASES: list[Case] = [
    _case("conv2d", conv2d_setup()),
    _case("conv1d", conv1d_setup()),
    _case("conv_transpose2d", conv_transpose2d_setup()),
    Case("conv2d_weight_grad", _weight_grad),
    # distinct values (gap 2 KINK_GAP): the maximum of each window is unique, and stays so
    # under the 1e-6 steps of central differences
    _case("max_pool2d", max_pool_setup()),
    _case("avg_pool2d", avg_pool_setup()),
    Case("avg_pool2d_backward", _avg_pool_transpose),
    _case("adaptive_avg_pool2d", adaptive_setup()),
    _case("interpolate_nearest", interpolate_setup("nearest")),
    _case("interpolate_bilinear", interpolate_setup("bilinear")),
    _case("scaled_dot_product_attention", attention_setup()),
    _case("scaled_dot_product_attention_dropout", attention_setup(dropout=True)),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=25)
@given(data=st.data())
def test_forward_and_first_derivative(case: Case, data: st.DataObject) -> None:
    check_first(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=8)
@given(data=st.data())
def test_second_derivative(case: Case, data: st.DataObject) -> None:
    check_second(case, data)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=5)
@given(data=st.data())
def test_float32_in_float32_out_and_float32_grads(case: Case, data: st.DataObject) -> None:
    check_float32(case, data)


# ----------------------------------------------------------------------------- against PyTorch

# float64 on both sides; the libraries sum the same <= 27-term products in different orders
# (and PyTorch scales q and k by sqrt(scale) each): results of magnitude <~ 1e2 differ by a
# few ulps (1e-14), so rtol 1e-9 / atol 1e-11 leave a margin of 1e3 and catch any wrong term.
TORCH_TOL = {"rtol": 1e-9, "atol": 1e-11}


def _against_torch(setup, data, create_graph: bool = False) -> None:
    """Values, and the gradients of every input of sum(g * op(...)), equal PyTorch's.
    With ``create_graph``, a gradient penalty instead: the gradients of sum(f**2) for the
    first gradients f of sum(g * op(...)**2)."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    arrays, call, _ = data.draw(setup)[:3]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = call(C, *ours), call(TF, *theirs)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **TORCH_TOL)
    g = data.draw(S.weights(y.shape), label="g")
    if create_graph:  # squared, so that ops linear in an input still have a second derivative
        y, ty = y * y, ty * ty
    firsts = grad((y * g).sum(), ours, create_graph=create_graph)
    torch_firsts = torch.autograd.grad((ty * torch.tensor(g)).sum(), theirs, create_graph=create_graph)
    for i, (a, b) in enumerate(zip(firsts, torch_firsts)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), err_msg=f"gradient of input {i}", **TORCH_TOL)
    if create_graph:
        penalty = sum(((f * f).sum() for f in firsts), start=Tensor(0.0))
        torch_penalty = sum((f * f).sum() for f in torch_firsts)
        seconds = grad(penalty, ours, allow_unused=True)
        torch_seconds = torch.autograd.grad(torch_penalty, theirs, allow_unused=True)
        for i, (a, b) in enumerate(zip(seconds, torch_seconds)):
            if b is None:  # PyTorch: no path (e.g. a bias's gradient does not depend on anything)
                assert a is None or np.all(a.data == 0), f"second derivative of input {i}"
                continue
            np.testing.assert_allclose(a.data, b.numpy(), err_msg=f"second derivative of input {i}", **TORCH_TOL)


TORCH_SETUPS = {
    "conv2d": conv2d_setup(),
    "conv1d": conv1d_setup(),
    "conv_transpose2d": conv_transpose2d_setup(),
    "max_pool2d": max_pool_setup(),
    "avg_pool2d": avg_pool_setup(),
    "adaptive_avg_pool2d": adaptive_setup(),
    "interpolate_nearest": interpolate_setup("nearest"),
    "interpolate_bilinear": interpolate_setup("bilinear"),
    "scaled_dot_product_attention": attention_setup(),
}


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on its own speed
@pytest.mark.parametrize("name", list(TORCH_SETUPS))
@settings(max_examples=20)
@given(data=st.data())
def test_values_and_gradients_match_torch(name: str, data: st.DataObject) -> None:
    _against_torch(TORCH_SETUPS[name], data)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name", ["conv2d", "conv1d", "conv_transpose2d", "max_pool2d", "avg_pool2d"])
@settings(max_examples=6)
@given(data=st.data())
def test_gradient_penalty_second_derivatives_match_torch(name: str, data: st.DataObject) -> None:
    """d/d(inputs) of |d/d(inputs) sum(g * op)|^2, as in a WGAN-GP gradient penalty."""
    _against_torch(TORCH_SETUPS[name], data, create_graph=True)


@settings(max_examples=30)
@given(data=st.data())
def test_max_pool_ties_give_the_whole_gradient_to_the_first_maximum_as_torch(data: st.DataObject) -> None:
    """Values from {-1, 0, 1}: most windows have tied maxima. PyTorch sends each window's
    gradient to one element, the first maximum in row-major order; so do we (exactly)."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    arrays, call, _ = data.draw(max_pool_setup(values=st.sampled_from([-1.0, 0.0, 1.0])))
    x, tx = Tensor(arrays[0], requires_grad=True), torch.tensor(arrays[0], requires_grad=True)
    y, ty = call(C, x), call(TF, tx)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    g = data.draw(S.arrays(y.shape, st.sampled_from([1.0, 2.0, 4.0, 8.0])), label="g")  # sums stay exact
    (y * g).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_max_pool_tie_example() -> None:
    x = Tensor([[[[1.0, 3.0], [3.0, 2.0]]]], requires_grad=True)
    C.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_max_pool_window_with_no_input_element_is_minus_inf_without_gradient() -> None:
    """dilation 2, padding 1 over a 1-row image: a window's taps are rows -1 and 1, both
    padding. PyTorch gives -inf there too (its backward then writes out of bounds)."""
    x = Tensor([[[[1.0, 2.0, 3.0]]]], requires_grad=True)
    y = C.max_pool2d(x, 2, stride=1, padding=1, dilation=(2, 1))
    assert y.shape == (1, 1, 1, 4) and np.isneginf(y.data).all()
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad.data, np.zeros((1, 1, 1, 3)))
    (g,) = grad(C.max_pool2d(x, (1, 2), stride=1, padding=(0, 1)).sum(), [x])
    np.testing.assert_array_equal(g.data, [[[[1.0, 1.0, 2.0]]]])


def test_max_pool_picks_a_real_minus_inf_over_padding() -> None:
    x = Tensor([[[[-np.inf, 1.0], [-np.inf, 2.0]]]], requires_grad=True)
    y = C.max_pool2d(x, 2, stride=2, padding=1)  # window (0, 0) is padding + x[0, 0] = -inf
    y.backward(np.array([[[[1.0, 0.0], [0.0, 0.0]]]]))
    np.testing.assert_array_equal(x.grad.data, [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_attention_rows_with_nothing_to_attend_to_are_zero_as_torch() -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
    keep = rng.random((2, 3, 5)) < 0.5
    keep[0, 1] = False
    added = np.where(keep, 0.0, -np.inf)
    for mask, torch_mask in ((keep, torch.tensor(keep)), (added, torch.tensor(added))):
        ours = [Tensor(a, requires_grad=True) for a in (q, k, v)]
        theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
        y = C.scaled_dot_product_attention(*ours, attn_mask=mask)
        ty = TF.scaled_dot_product_attention(*theirs, attn_mask=torch_mask)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), **TORCH_TOL)
        np.testing.assert_array_equal(y.data[0, 1], 0.0)
        y.sum().backward()
        ty.sum().backward()
        for a, b in zip(ours, theirs):
            assert np.all(np.isfinite(a.grad.data))
            np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **TORCH_TOL)


def test_attention_dropout_keeps_with_probability_one_minus_p() -> None:
    q = Tensor(np.zeros((1, 400, 1)))
    k, v = Tensor(np.zeros((1, 1, 1))), Tensor(np.ones((1, 1, 1)))
    y = C.scaled_dot_product_attention(q, k, v, dropout_p=0.25, rng=np.random.default_rng(1))
    kept = y.data[0, :, 0]
    assert set(np.unique(kept)) <= {0.0, 1 / 0.75}
    assert abs((kept > 0).mean() - 0.75) < 0.1  # 400 draws: the standard deviation is 0.022


def test_unbatched_inputs_as_torch() -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    rng = np.random.default_rng(0)
    x, w, w1 = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((3, 2, 3))
    pairs = [
        (C.conv2d(x, w, padding=1), TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1)),
        (C.conv1d(x[:, 0], w1), TF.conv1d(torch.tensor(x[:, 0]), torch.tensor(w1))),
        (C.conv_transpose2d(x, w.transpose(1, 0, 2, 3), stride=2),
         TF.conv_transpose2d(torch.tensor(x), torch.tensor(w.transpose(1, 0, 2, 3)), stride=2)),
        (C.max_pool2d(x, 2), TF.max_pool2d(torch.tensor(x), 2)),
        (C.avg_pool2d(x, 3, 2, 1), TF.avg_pool2d(torch.tensor(x), 3, 2, 1)),
        (C.adaptive_avg_pool2d(x, 2), TF.adaptive_avg_pool2d(torch.tensor(x), 2)),
    ]  # fmt: skip
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.data, theirs.numpy(), **TORCH_TOL)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_same_padding_even_kernel_pads_more_at_the_end_as_torch() -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, 5, 6)), rng.standard_normal((1, 1, 2, 4))
    y = C.conv2d(x, w, padding="same", dilation=(1, 3))
    assert y.shape == x.shape
    np.testing.assert_allclose(
        y.data, TF.conv2d(torch.tensor(x), torch.tensor(w), padding="same", dilation=(1, 3)), **TORCH_TOL
    )


# ----------------------------------------------------------------------------- layers


LAYER_CONFIGS = [
    ("Conv1d", (2, 4, 3), {"stride": 2, "padding": 1, "bias": False}),
    ("Conv1d", (3, 6, 2), {"groups": 3, "dilation": 2, "padding": "same"}),
    ("Conv2d", (1, 8, 3), {"padding": 1}),
    ("Conv2d", (4, 6, (2, 3)), {"stride": (2, 1), "groups": 2, "padding": "valid"}),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ("ConvTranspose2d", (2, 3, (3, 2)), {"dilation": 2, "bias": False}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), LAYER_CONFIGS)
def test_layer_parameters_match_torch_in_shape_and_init_bound(name, args, kwargs) -> None:
    torch = pytest.importorskip("torch")

    ours = getattr(nn, name)(*args, **kwargs, rng=np.random.default_rng(0))
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
    bound = 1 / math.sqrt(fan_in)  # PyTorch's kaiming_uniform(a=sqrt(5)) and bias bound
    for p in ours.parameters():
        assert np.abs(p.data).max() <= bound
    # the same weights give the same function
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        with torch.no_grad():
            tp.copy_(torch.tensor(p.data))
    x = np.random.default_rng(1).standard_normal((2, args[0], *([5] if name == "Conv1d" else [5, 4])))
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(), **TORCH_TOL)


def test_layer_init_draws_are_uniform_over_the_whole_bound() -> None:
    conv = nn.Conv2d(8, 16, 3, rng=np.random.default_rng(0))
    bound = 1 / math.sqrt(8 * 9)
    w = conv.weight.data
    assert conv.weight.shape == (16, 8, 3, 3) and conv.bias.shape == (16,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound  # 1152 draws reach the edge
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(-b, b) has std b / sqrt(3)
    same = nn.Conv2d(8, 16, 3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(same.weight.data, w)


@pytest.mark.parametrize(
    ("layer", "fn", "kwargs"),
    [
        ("MaxPool2d", "max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
        ("AvgPool2d", "avg_pool2d", {"kernel_size": 2, "padding": 1, "count_include_pad": False}),
        ("AdaptiveAvgPool2d", "adaptive_avg_pool2d", {"output_size": (2, 3)}),
    ],
)
def test_pool_layers_match_torch(layer, fn, kwargs) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    ours, theirs = getattr(nn, layer)(**kwargs), getattr(torch.nn, layer)(**kwargs)
    assert list(ours.parameters()) == [] and list(theirs.parameters()) == []
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).numpy(), **TORCH_TOL)
    np.testing.assert_array_equal(ours(x).data, getattr(nn.functional, fn)(Tensor(x), **kwargs).data)


def test_conv_transpose_output_size_picks_the_output_padding() -> None:
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, rng=np.random.default_rng(0))
    x = np.zeros((1, 2, 4, 4))
    assert layer(x).shape == (1, 3, 7, 7)
    assert layer(x, output_size=(8, 7)).shape == (1, 3, 8, 7)
    with pytest.raises(ValueError, match="ConvTranspose2d: output_size"):
        layer(x, output_size=(9, 9))


def test_a_small_convnet_learns_as_torch_step_by_step() -> None:
    """Two SGD steps of conv -> relu -> max_pool -> conv -> avg_pool -> linear with
    cross-entropy give PyTorch's losses and parameters (float64)."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((4, 1, 8, 8)), rng.integers(0, 3, 4)
    c1, c2 = nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.Conv2d(4, 6, 3, stride=2, padding="valid", rng=rng)
    fc = nn.Linear(6, 3, rng=rng)
    params = [c1.weight, c1.bias, c2.weight, c2.bias, fc.weight, fc.bias]
    tparams = [torch.tensor(p.data, requires_grad=True) for p in params]

    def forward(F, p, x):
        h = F.max_pool2d(F.relu(F.conv2d(x, p[0], p[1], padding=1)), 2)
        h = F.adaptive_avg_pool2d(F.relu(F.conv2d(h, p[2], p[3], stride=2)), 1).reshape(4, 6)
        return F.cross_entropy(h @ p[4] + p[5], labels if F is nn.functional else torch.tensor(labels))

    for _ in range(2):
        loss, tloss = forward(nn.functional, params, Tensor(x)), forward(TF, tparams, torch.tensor(x))
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
        loss.backward()
        tloss.backward()
        with torch.no_grad():
            for p, tp in zip(params, tparams):
                np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), **TORCH_TOL)
                p.data -= 0.5 * p.grad.data
                p.grad = None
                tp -= 0.5 * tp.grad
                tp.grad = None


def test_compile_traces_the_conv_and_pool_ops() -> None:
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True, name="w")

    def loss(x):
        h = C.conv2d(x, w, padding=1, stride=2)
        h = C.max_pool2d(h, 2, stride=1) + C.avg_pool2d(h, 2, stride=1, padding=1)[:, :, 1:-1, 1:-1]
        return (C.conv_transpose2d(h, w, stride=2) ** 2).sum()

    x = Tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True, name="x")
    fast = compile(loss)
    for _ in range(2):  # the trace, then the generated code
        expected = loss(x)
        ex_x, ex_w = grad(expected, [x, w])
        got = fast(x)
        got_x, got_w = grad(got, [x, w])
        np.testing.assert_allclose(got.data, expected.data, rtol=1e-12)
        np.testing.assert_allclose(got_x.data, ex_x.data, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got_w.data, ex_w.data, rtol=1e-12, atol=1e-12)
        x = Tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True, name="x")


# ----------------------------------------------------------------------------- errors


def _raises(op: str, *fragments: str):
    """pytest.raises(ValueError) whose message names ``op`` and contains every fragment."""
    return pytest.raises(ValueError, match=f"^{op}: " + "".join(f"(?=.*{_escape(f)})" for f in fragments))


def _escape(text: str) -> str:
    import re

    return re.escape(text)


X4 = np.zeros((1, 3, 4, 4))


def test_conv_errors_name_the_op_and_the_shapes() -> None:
    with _raises("conv2d", "(3, 4)", "4-D (N, C, H, W)"):
        C.conv2d(np.zeros((3, 4)), np.zeros((1, 3, 1, 1)))
    with _raises("conv2d", "weight of shape (2, 3, 3)", "4-D"):
        C.conv2d(X4, np.zeros((2, 3, 3)))
    with _raises("conv2d", "groups=2", "(1, 3, 4, 4)", "(4, 1, 3, 3)"):
        C.conv2d(X4, np.zeros((4, 1, 3, 3)), groups=2)
    with _raises("conv2d", "3 channels", "(2, 2, 3, 3)"):
        C.conv2d(X4, np.zeros((2, 2, 3, 3)))
    with _raises("conv2d", "kernel 3x3", "padded input 2x2", "(1, 3, 2, 2)"):
        C.conv2d(np.zeros((1, 3, 2, 2)), np.zeros((1, 3, 3, 3)))
    with _raises("conv2d", "kernel 3x3", "spanning 5x5", "padded input 4x4"):
        C.conv2d(np.zeros((1, 3, 2, 2)), np.zeros((1, 3, 3, 3)), padding=1, dilation=2)
    with _raises("conv2d", "padding='same' needs stride 1", "(2, 2)"):
        C.conv2d(X4, np.zeros((1, 3, 3, 3)), stride=(2, 2), padding="same")
    with _raises("conv2d", "padding must be"):
        C.conv2d(X4, np.zeros((1, 3, 3, 3)), padding="full")
    with _raises("conv2d", "bias of shape (2,)", "(1,)"):
        C.conv2d(X4, np.zeros((1, 3, 3, 3)), np.zeros(2))
    with _raises("conv2d", "stride must be >= 1"):
        C.conv2d(X4, np.zeros((1, 3, 3, 3)), stride=0)
    with _raises("conv1d", "(1, 3, 4, 4)", "3-D (N, C, L)"):
        C.conv1d(X4, np.zeros((1, 3, 3)))
    with _raises("conv1d", "padding='same' needs stride 1"):
        C.conv1d(np.zeros((1, 3, 5)), np.zeros((1, 3, 3)), stride=2, padding="same")
    with _raises("conv1d", "groups=2", "(1, 3, 4)"):
        C.conv1d(X4[0:1, :, 0], np.zeros((2, 1, 3)), groups=2)
    with _raises("conv_transpose2d", "3 channels", "(2, 1, 3, 3)"):
        C.conv_transpose2d(X4, np.zeros((2, 1, 3, 3)))
    with _raises("conv_transpose2d", "output_padding (2, 0)", "stride"):
        C.conv_transpose2d(X4, np.zeros((3, 1, 3, 3)), stride=2, output_padding=(2, 0))
    with _raises("conv_transpose2d", "output would be", "(1, 3, 4, 4)"):
        C.conv_transpose2d(X4, np.zeros((3, 1, 1, 1)), padding=2)


def test_pool_errors_name_the_op_and_the_shapes() -> None:
    with _raises("max_pool2d", "(4, 4)", "4-D"):
        C.max_pool2d(np.zeros((4, 4)), 2)
    with _raises("max_pool2d", "padding 2", "half the kernel size 3"):
        C.max_pool2d(X4, 3, padding=2)
    with _raises("max_pool2d", "kernel 5x5", "(1, 3, 4, 4)"):
        C.max_pool2d(X4, 5)
    with _raises("max_pool2d", "return_indices"):
        C.max_pool2d(X4, 2, return_indices=True)
    with _raises("avg_pool2d", "(4, 4)", "4-D"):
        C.avg_pool2d(np.zeros((4, 4)), 2)
    with _raises("avg_pool2d", "kernel_size must be >= 1"):
        C.avg_pool2d(X4, 0)
    with _raises("adaptive_avg_pool2d", "output_size"):
        C.adaptive_avg_pool2d(X4, (2, 0))
    with _raises("adaptive_avg_pool2d", "(4,)", "4-D"):
        C.adaptive_avg_pool2d(np.zeros(4), 2)


def test_interpolate_and_attention_errors_name_the_op() -> None:
    with _raises("interpolate", "(3, 4, 4)", "4-D"):
        C.interpolate(X4[0], size=2)
    with _raises("interpolate", "exactly one of size and scale_factor"):
        C.interpolate(X4, size=2, scale_factor=2.0)
    with _raises("interpolate", "mode must be"):
        C.interpolate(X4, size=2, mode="bicubic")
    with _raises("interpolate", "align_corners"):
        C.interpolate(X4, size=2, align_corners=True)
    with _raises("interpolate", "empty"):
        C.interpolate(X4, scale_factor=0.1)
    q = np.zeros((2, 3, 4))
    with _raises("scaled_dot_product_attention", "(2, 3, 4)", "(2, 5, 3)"):
        C.scaled_dot_product_attention(q, np.zeros((2, 5, 3)), np.zeros((2, 5, 3)))
    with _raises("scaled_dot_product_attention", "attn_mask of shape (4, 4)"):
        C.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), dtype=bool))
    with _raises("scaled_dot_product_attention", "not both"):
        C.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), dtype=bool), is_causal=True)
    with _raises("scaled_dot_product_attention", "dropout_p"):
        C.scaled_dot_product_attention(q, q, q, dropout_p=1.0)


def test_layer_errors() -> None:
    with pytest.raises(ValueError, match="Conv2d: groups=2 .* in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: padding_mode='reflect'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="ConvTranspose2d: padding='same'"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
    with _raises("conv2d", "3 channels"):
        nn.Conv2d(2, 4, 3)(X4)


def test_interpolate_copies_a_side_whose_size_does_not_change_as_torch():
    """Regression: a scale factor that keeps a side's size (3 * 1.2 -> 3) copies that side (torch's
    rule); the numpy reference once read it through the scale (1/1.2) instead, seen only when a
    non-derandomized run drew such a scale."""
    x = np.arange(1.0, 4.0).reshape(1, 1, 1, 3)
    t = Tensor(x, requires_grad=True)
    y = C.interpolate(t, scale_factor=1.2, mode="nearest")
    np.testing.assert_array_equal(y.data, x)
    np.testing.assert_array_equal(np_interpolate(x, (1, 3), (1.2, 1.2), "nearest", False), x)
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.ones_like(x))
