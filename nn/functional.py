"""The functional form of every layer, activation and loss: ``import nn.functional as F``.

Each name here is a function of Tensors with no parameters of its own; the layers in
``nn`` hold the parameters and call these. The ops themselves live in ``autograd.ops``
(forward and backward side by side) and ``nn.losses``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd import Tensor, no_grad, ops, where
from autograd.compile import CompileError
from autograd.function import as_tensor, is_tensor, refuse_torch_keywords, value_of
from autograd.mode import mode
from autograd.ops.conv import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    interpolate,
    max_pool2d,
    scaled_dot_product_attention,
)
from autograd.tensor import no_attribute

from .init import _generator
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)


def relu(x: Tensor, **torch_spelling: Any) -> Tensor:
    """max(x, 0) elementwise."""
    if torch_spelling:  # inplace=: nothing here changes its input
        refuse_torch_keywords("relu", torch_spelling)
    return x.relu()


def tanh(x: Tensor) -> Tensor:
    """tanh(x) elementwise."""
    return x.tanh()


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF; ``approximate="tanh"`` uses PyTorch's tanh formula."""
    return ops.gelu(x, approximate)


def silu(x: Tensor, **torch_spelling: Any) -> Tensor:
    """x sigmoid(x) elementwise."""
    if torch_spelling:  # inplace=: nothing here changes its input
        refuse_torch_keywords("silu", torch_spelling)
    return ops.silu(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, **torch_spelling: Any) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere."""
    if torch_spelling:  # inplace=: nothing here changes its input
        refuse_torch_keywords("leaky_relu", torch_spelling)
    return ops.leaky_relu(x, negative_slope)


def elu(x: Tensor, alpha: float = 1.0, **torch_spelling: Any) -> Tensor:
    """x where x > 0, alpha (e^x - 1) elsewhere."""
    if torch_spelling:  # inplace=: nothing here changes its input
        refuse_torch_keywords("elu", torch_spelling)
    return ops.elu(x, alpha)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(beta x)) / beta, and x where beta x > threshold (PyTorch's definition)."""
    return ops.softplus(x, beta, threshold)


def logsigmoid(x: Tensor) -> Tensor:
    """ln sigmoid(x), stable for huge |x|."""
    return ops.logsigmoid(x)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0, **torch_spelling: Any) -> Tensor:
    """x clipped to [min_val, max_val] (gradient 0 at the bounds, as PyTorch)."""
    if torch_spelling:  # inplace=: nothing here changes its input
        refuse_torch_keywords("hardtanh", torch_spelling)
    return ops.hardtanh(x, min_val, max_val)


def hardsigmoid(x: Tensor, **torch_spelling: Any) -> Tensor:
    """clip(x + 3, 0, 6) / 6 elementwise."""
    if torch_spelling:  # inplace=: nothing here changes its input
        refuse_torch_keywords("hardsigmoid", torch_spelling)
    return ops.hardsigmoid(x)


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|) elementwise."""
    return ops.softsign(x)


def mish(x: Tensor, **torch_spelling: Any) -> Tensor:
    """x tanh(softplus(x)) elementwise."""
    if torch_spelling:  # inplace=: nothing here changes its input
        refuse_torch_keywords("mish", torch_spelling)
    return ops.mish(x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x) elementwise."""
    return x.sigmoid()


def softmax(x: Tensor, axis: int = -1, **torch_spelling: Any) -> Tensor:
    """e^x / sum(e^x) along ``axis``."""
    if torch_spelling:
        refuse_torch_keywords("softmax", torch_spelling)
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1, **torch_spelling: Any) -> Tensor:
    """x - log(sum(e^x)) along ``axis``."""
    if torch_spelling:
        refuse_torch_keywords("log_softmax", torch_spelling)
    return x.log_softmax(axis)


# ----------------------------------------------------------------------------- layers' functional forms
# linear, layer_norm, batch_norm, dropout and embedding are compositions of recorded ops
# (matmul, mean, pow, where, indexing): their first and second derivatives come from those ops.


def _shape_of(value: Any) -> tuple[int, ...]:
    return tuple(np.shape(value_of(value) if is_tensor(value) else value))


def _refuse_tracing(what: str) -> None:
    """Random masks and running statistics are not ops: code compiled from this call would
    replay this call's mask, or skip the update. Refuse while autograd.compile traces."""
    if mode.tracer is not None:
        raise CompileError(
            f"autograd.compile: {what}, which the compiled code would not repeat on later calls. "
            "Compile the model in eval mode (model.eval()), or don't compile this function."
        )


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = x @ weight + bias, with ``weight`` of shape (in_features, out_features): this
    library's ``nn.Linear`` layout. PyTorch's ``F.linear`` takes weight (out, in) and computes
    x @ weight.T + bias: pass ``weight.T`` here for a weight in PyTorch's layout."""
    weight = as_tensor(weight, op="linear")
    x = as_tensor(x, weight, "linear")
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[0]:
        raise ValueError(
            f"linear: input of shape {x.shape} and weight of shape {weight.shape}: the weight must be "
            "(in_features, out_features) with in_features the input's last axis (this library's layout; "
            "PyTorch's (out, in) weight is weight.T here)"
        )
    y = x @ weight
    return y if bias is None else y + bias


def layer_norm(
    x: Any,
    normalized_shape: int | Sequence[int],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias, with mean and the biased variance
    (divided by n, as PyTorch) over the last ``len(normalized_shape)`` axes, whose sizes must
    be ``normalized_shape``; ``weight`` and ``bias`` have that shape."""
    if isinstance(normalized_shape, (int, np.integer)):
        shape: tuple[int, ...] = (int(normalized_shape),)
    else:
        shape = tuple(int(n) for n in normalized_shape)
    x = as_tensor(x, op="layer_norm")
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != shape:
        raise ValueError(f"layer_norm: input of shape {x.shape} must end with normalized_shape {shape} (non-empty)")
    for label, param in (("weight", weight), ("bias", bias)):
        if param is not None and _shape_of(param) != shape:
            raise ValueError(f"layer_norm: {label} of shape {_shape_of(param)} must have normalized_shape {shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    centred = x - x.mean(axis=axes, keepdims=True)
    var = (centred * centred).mean(axis=axes, keepdims=True)
    y = centred * (var + eps) ** -0.5
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _update_running(stat: Any, new: np.ndarray) -> None:
    """stat <- new, in place (a buffer Tensor or an ndarray), unrecorded."""
    if is_tensor(stat):
        with no_grad():
            stat.copy_(new)
    else:
        np.copyto(stat, new, casting="unsafe")


def batch_norm(
    x: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) of x (N, C, *) over the batch and spatial axes:
    y = (x - mean) / sqrt(var + eps) * weight + bias, weight and bias of shape (C,).

    ``training=True``: mean and var are the batch's (var biased, divided by n), and the
    running statistics, if given (Tensors or arrays), are updated in place as PyTorch does:
    running = (1 - momentum) * running + momentum * batch, with the *unbiased* batch var
    (divided by n - 1) for running_var. ``training=False``: mean and var are
    ``running_mean`` and ``running_var`` (constants: no gradient flows into them).
    """
    x = as_tensor(x, op="batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input of shape {x.shape} must be (N, C) or (N, C, *) with channels on axis 1")
    channels = x.shape[1]
    given = {"running_mean": running_mean, "running_var": running_var, "weight": weight, "bias": bias}
    for label, value in given.items():
        if value is not None and _shape_of(value) != (channels,):
            raise ValueError(
                f"batch_norm: {label} of shape {_shape_of(value)} must be ({channels},), one per channel of {x.shape}"
            )
    axes = (0, *range(2, x.ndim))
    stat_shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        n = x.size // channels
        if n <= 1:
            raise ValueError(
                f"batch_norm: input of shape {x.shape} has {n} value per channel; training needs more than 1"
            )
        updating = running_mean is not None or running_var is not None
        if updating and momentum is None:
            raise ValueError(
                "batch_norm: momentum=None (a cumulative average) needs the number of batches seen: "
                "pass momentum=1 / count, or use nn.BatchNorm1d(momentum=None), which counts them"
            )
        if updating:
            _refuse_tracing("batch_norm in training updates its running statistics as a side effect")
        centred = x - x.mean(axis=axes, keepdims=True)
        var = (centred * centred).mean(axis=axes, keepdims=True)
        if running_mean is not None:
            old = np.asarray(value_of(running_mean) if is_tensor(running_mean) else running_mean)
            _update_running(running_mean, (1 - momentum) * old + momentum * np.mean(x.data, axis=axes))
        if running_var is not None:
            unbiased = np.asarray(var.data).reshape(channels) * (n / (n - 1))
            old = np.asarray(value_of(running_var) if is_tensor(running_var) else running_var)
            _update_running(running_var, (1 - momentum) * old + momentum * unbiased)
        y = centred * (var + eps) ** -0.5
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: training=False uses running_mean and running_var, so both are needed")
        mean = np.asarray(value_of(running_mean) if is_tensor(running_mean) else running_mean)
        var = np.asarray(value_of(running_var) if is_tensor(running_var) else running_var)
        dtype = x.dtype if x.dtype.kind == "f" else np.float64
        y = (x - mean.reshape(stat_shape).astype(dtype)) * ((var + eps) ** -0.5).reshape(stat_shape).astype(dtype)
    if weight is not None:
        y = y * as_tensor(weight, x, "batch_norm").reshape(stat_shape)
    if bias is not None:
        y = y + as_tensor(bias, x, "batch_norm").reshape(stat_shape)
    return y


def dropout(
    x: Any, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None, **torch_spelling: Any
) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (inverted
    dropout: the expected value is x); the identity when ``training`` is False or p == 0.
    The mask is drawn from ``rng``, else from the library's default generator."""
    if torch_spelling:  # inplace=: nothing here changes its input
        refuse_torch_keywords("dropout", torch_spelling)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p must be a number between 0 and 1, got {p!r}")
    x = as_tensor(x, op="dropout")
    if not training or p == 0:
        return x
    _refuse_tracing("dropout in training draws a new random mask on every call")
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    if p == 1:
        scale = np.zeros(x.shape, dtype=dtype)
    else:
        scale = (_generator(rng).random(x.shape) >= p).astype(dtype) / dtype.type(1 - p)
    return x * scale


def embedding(indices: Any, weight: Any, padding_idx: int | None = None) -> Tensor:
    """y = weight[indices]: row i of weight (num_embeddings, embedding_dim) for each index i;
    y has shape indices.shape + (embedding_dim,). The gradient adds up into the rows used,
    except row ``padding_idx``, whose gradient is zero (its value is still looked up)."""
    weight = as_tensor(weight, op="embedding")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight of shape {weight.shape} must be 2-D (num_embeddings, embedding_dim)")
    idx = np.asarray(value_of(indices) if is_tensor(indices) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}; use labels.astype(np.int64)")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"embedding: indices must lie in [0, {n}), got {idx.min()}..{idx.max()}")
    out = weight[idx]
    if padding_idx is None:
        return out
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx {padding_idx} must lie in [-{n}, {n})")
    keep = (idx != padding_idx % n)[..., None]
    return where(keep, out, weight.detach()[idx])  # the same values; no gradient into the padding row


__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "hardsigmoid",
    "hardtanh",
    "huber_loss",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
]

# PyTorch's F.* names that are not defined here -> what to write (docs/api.md, "PyTorch names
# not defined here"). A module __getattr__ (PEP 562) runs only for a name the module lacks.
_TORCH_NAMES = {
    "pad": (
        "F.pad(x, pad) is autograd.pad(x, pad_width) here: numpy's pad_width, one (before, after) pair per "
        "axis, first axis first (PyTorch's pairs start from the last axis)"
    ),
    "one_hot": "F.one_hot(labels, num_classes) is autograd.one_hot(labels, num_classes) here",
}

if not TYPE_CHECKING:  # hidden from type checkers, which would accept every name otherwise

    def __getattr__(name: str) -> object:
        raise no_attribute(f"module {__name__!r}", name, _TORCH_NAMES)
