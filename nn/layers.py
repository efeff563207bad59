"""Layers: Linear, Embedding, the normalisations, Dropout, MultiheadAttention, the
activations, shape layers, and the containers Sequential, ModuleList, ModuleDict and MLP.

Names, arguments and defaults are PyTorch's, with numpy's ``axis`` for PyTorch's ``dim``.
One layout differs: ``Linear``'s weight is (in_features, out_features) (y = x @ W + b).
Random initialisation draws from ``rng`` (an ``np.random.Generator``), else from the
library's default generator (``nn.init._generator``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from autograd import Tensor
from autograd.function import as_tensor, is_tensor, refuse_torch_keywords, value_of

from . import functional as F
from . import init
from .init import _generator
from .module import Module, Parameter, _found


class Linear(Module):
    """y = x @ weight + bias, with ``weight`` of shape (in_features, out_features).

    The layout is the source's ``fc_forward`` (PyTorch stores the transpose). Default init,
    as PyTorch's: every weight and bias drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)),
    from ``rng`` (an ``np.random.Generator``; the library's default generator if None).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        rng = _generator(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(rng.uniform(-bound, bound, (in_features, out_features)), dtype=dtype)
        self.bias = Parameter(rng.uniform(-bound, bound, (out_features,)), dtype=dtype) if bias else None

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}): input of shape {x.shape} "
                f"must have {self.in_features} features on its last axis"
            )
        y = x @ self.weight
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _refuse_inplace(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """PyTorch's ``inplace=`` (``nn.ReLU(True)`` positionally): nothing here changes its input."""
    refuse_torch_keywords(op, {"inplace": args[0], **kwargs} if args else kwargs)


class ReLU(Module):
    """y = max(x, 0)"""

    def __init__(self, *torch_inplace: Any, **torch_spelling: Any) -> None:
        if torch_inplace or torch_spelling:
            _refuse_inplace("ReLU", torch_inplace, torch_spelling)

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Tanh(Module):
    """y = tanh(x)"""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class Sigmoid(Module):
    """y = 1 / (1 + e^-x)"""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``."""

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def forward(self, x: Any) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


class MLP(Sequential):
    """Linear layers of the given sizes with ``activation`` between them and none after the last.

    ``MLP([20, 100, 10])`` is the source's network: Linear(20, 100), ReLU, Linear(100, 10).
    Parameters are named ``layers.0.weight``, ``layers.0.bias``, ``layers.2.weight``, ...
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: type[Module] = ReLU,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {list(sizes)}")
        rng = _generator(rng)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i > 0:
                layers.append(activation())
            layers.append(Linear(n_in, n_out, rng=rng, dtype=dtype))
        super().__init__(*layers)
        self.sizes = list(sizes)

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"


# ----------------------------------------------------------------------------- lookups and normalisation


class Embedding(Module):
    """A lookup table: ``Embedding(n, d)(indices)`` is ``weight[indices]``, weight (n, d).

    ``weight`` starts as N(0, 1) draws (PyTorch's init) from ``rng``. Row ``padding_idx``
    (negative counts from the end) starts at zero and gets no gradient, so it stays as set.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must lie in [-{num_embeddings}, {num_embeddings})"
                )
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        weight = _generator(rng).standard_normal((num_embeddings, embedding_dim))
        if padding_idx is not None:
            weight[padding_idx] = 0.0
        self.weight = Parameter(weight, dtype=dtype)

    def forward(self, indices: Any) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axes (``normalized_shape``),
    var biased (divided by n) as PyTorch; weight starts at 1, bias at 0 (see ``F.layer_norm``)."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = Parameter(np.ones(shape), dtype=dtype) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape), dtype=dtype) if elementwise_affine and bias else None

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d: see BatchNorm1d."""

    _shapes: str = ""
    _ndims: tuple[int, ...] = ()
    # buffers (register_buffer sets them; None without track_running_stats)
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float64,
        *,
        bias: bool = True,
    ) -> None:
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = Parameter(np.ones(num_features), dtype=dtype) if affine else None
        self.bias = Parameter(np.zeros(num_features), dtype=dtype) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features), dtype=dtype))
            self.register_buffer("running_var", Tensor(np.ones(num_features), dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.data = np.array(0, dtype=np.int64)

    def forward(self, x: Any) -> Tensor:
        name = type(self).__name__
        like = self.weight if self.weight is not None else self.running_mean
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=None if like is None else like.dtype)
        if x.ndim not in self._ndims:
            raise ValueError(f"{name}: expected input of shape {self._shapes}, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}({self.num_features}): input of shape {x.shape} has {x.shape[1]} channels on axis 1"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and x.size // max(x.shape[1], 1) <= 1:
            raise ValueError(f"{name}: input of shape {x.shape} has 1 value per channel; training needs more than 1")
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            F._refuse_tracing(f"{name} in training updates its running statistics as a side effect")
            self.num_batches_tracked.data = np.asarray(self.num_batches_tracked.data + 1)
            factor = 1.0 / float(self.num_batches_tracked.data) if self.momentum is None else self.momentum
        use_batch = self.training or self.running_mean is None
        return F.batch_norm(
            x,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight,
            self.bias,
            training=use_batch,
            momentum=factor,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Normalise each channel of (N, C) or (N, C, L) input over the batch (and L), as PyTorch.

    Training: y = (x - mean) / sqrt(var + eps) * weight + bias with the batch's mean and
    biased var; the buffers are updated: running = (1 - momentum) * running + momentum *
    batch (the *unbiased* var for running_var), ``num_batches_tracked`` += 1, and
    ``momentum=None`` makes it the cumulative average (factor 1 / num_batches_tracked).
    ``affine`` gives the learnt ``weight`` (starts at 1) and ``bias`` (starts at 0; none with
    ``bias=False``, PyTorch's keyword-only argument).
    Eval (``.eval()``): running_mean and running_var are used instead. With
    ``track_running_stats=False`` there are no buffers and batch statistics are always used.
    """

    _shapes = "(N, C) or (N, C, L)"
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm1d for (N, C, H, W) input: statistics per channel over N, H and W."""

    _shapes = "(N, C, H, W)"
    _ndims = (4,)


# ----------------------------------------------------------------------------- dropout and shapes


def _check_p(p: Any, op: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"{op}: probability p must be a number between 0 and 1, got {p!r}")
    return float(p)


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the others by
    1 / (1 - p) (so the expected value is unchanged); the identity in eval mode.
    The masks are drawn from ``rng``, else from the library's default generator."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None, **torch_spelling: Any) -> None:
        if torch_spelling or isinstance(rng, bool):  # Dropout(p, True): PyTorch's inplace=True
            _refuse_inplace("Dropout", (rng,) if isinstance(rng, bool) else (), torch_spelling)
        self.p = _check_p(p, "Dropout")
        self.rng = rng

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Identity(Module):
    """y = x (arguments are accepted and ignored, as PyTorch's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merge axes ``start_axis``..``end_axis`` (inclusive) into one: (N, C, H, W) -> (N, C*H*W)
    by default (start_axis=1, as PyTorch's start_dim)."""

    def __init__(self, start_axis: int = 1, end_axis: int = -1, **torch_spelling: Any) -> None:
        if torch_spelling:
            refuse_torch_keywords("Flatten", torch_spelling)
        self.start_axis = start_axis
        self.end_axis = end_axis

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x, op="Flatten")
        if x.ndim == 0:
            return x.reshape(1)
        nd = x.ndim
        if not (-nd <= self.start_axis < nd and -nd <= self.end_axis < nd):
            raise ValueError(
                f"Flatten: start_axis={self.start_axis}, end_axis={self.end_axis} out of range "
                f"for input of shape {x.shape}"
            )
        start, end = self.start_axis % nd, self.end_axis % nd
        if start > end:
            raise ValueError(
                f"Flatten: start_axis {self.start_axis} comes after end_axis {self.end_axis} (input of shape {x.shape})"
            )
        shape = x.shape[:start] + (int(np.prod(x.shape[start : end + 1])),) + x.shape[end + 1 :]
        return x.reshape(shape)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


class Unflatten(Module):
    """Split axis ``axis`` into ``sizes``: Unflatten(1, (C, H, W)) maps (N, C*H*W) -> (N, C, H, W)
    (one size may be -1)."""

    def __init__(self, axis: int, sizes: Sequence[int], **torch_spelling: Any) -> None:
        if torch_spelling:
            refuse_torch_keywords("Unflatten", torch_spelling)
        self.axis = axis
        self.sizes = tuple(int(n) for n in sizes)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x, op="Unflatten")
        nd = x.ndim
        if not -nd <= self.axis < nd:
            raise ValueError(f"Unflatten: axis {self.axis} out of range for input of shape {x.shape}")
        axis = self.axis % nd
        n = x.shape[axis]
        known = int(np.prod([s for s in self.sizes if s != -1]))
        free = self.sizes.count(-1)
        if free > 1 or (free == 0 and known != n) or (free == 1 and (known == 0 or n % known)):
            raise ValueError(
                f"Unflatten: sizes {self.sizes} do not split axis {self.axis} of size {n} (input of shape {x.shape})"
            )
        return x.reshape(x.shape[:axis] + self.sizes + x.shape[axis + 1 :])

    def extra_repr(self) -> str:
        return f"axis={self.axis}, sizes={self.sizes}"


# ----------------------------------------------------------------------------- more activations


class GELU(Module):
    """y = x * Phi(x) (``approximate="none"``) or its tanh approximation (``"tanh"``)."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """y = x * sigmoid(x)"""

    def __init__(self, *torch_inplace: Any, **torch_spelling: Any) -> None:
        if torch_inplace or torch_spelling:
            _refuse_inplace("SiLU", torch_inplace, torch_spelling)

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x"""

    def __init__(self, negative_slope: float = 0.01, *torch_inplace: Any, **torch_spelling: Any) -> None:
        if torch_inplace or torch_spelling:
            _refuse_inplace("LeakyReLU", torch_inplace, torch_spelling)
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """y = x if x > 0 else alpha * (e^x - 1)"""

    def __init__(self, alpha: float = 1.0, *torch_inplace: Any, **torch_spelling: Any) -> None:
        if torch_inplace or torch_spelling:
            _refuse_inplace("ELU", torch_inplace, torch_spelling)
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """y = log(1 + e^(beta x)) / beta, and y = x where beta * x > threshold (as PyTorch)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """y = e^x / sum(e^x) along ``axis`` (PyTorch's ``dim``)."""

    def __init__(self, axis: int = -1, **torch_spelling: Any) -> None:
        if torch_spelling:
            refuse_torch_keywords("Softmax", torch_spelling)
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """y = x - log(sum(e^x)) along ``axis`` (PyTorch's ``dim``)."""

    def __init__(self, axis: int = -1, **torch_spelling: Any) -> None:
        if torch_spelling:
            refuse_torch_keywords("LogSoftmax", torch_spelling)
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


# ----------------------------------------------------------------------------- attention


def _additive_mask(mask: Any, what: str, dtype: np.dtype) -> np.ndarray:
    """A bool mask (True = not allowed) as 0 / -inf, or a float mask as it is (added to the scores)."""
    array = np.asarray(value_of(mask) if is_tensor(mask) else mask)
    if array.dtype == np.bool_:
        return np.where(array, -np.inf, 0.0).astype(dtype)
    if array.dtype.kind == "f":
        return array.astype(dtype)
    raise TypeError(
        f"MultiheadAttention: {what} must be bool (True = not attended) or float (added), got dtype {array.dtype}"
    )


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention with PyTorch's parameters and call.

    q, k, v = query @ Wq.T + bq, key @ Wk.T + bk, value @ Wv.T + bv with
    ``in_proj_weight`` = [Wq; Wk; Wv] of shape (3E, E) (PyTorch's layout) and ``in_proj_bias``
    (3E,); each is split into ``num_heads`` heads of size D = E / num_heads;
    weights = softmax(q k^T / sqrt(D) + masks) per head; output = out_proj(weights @ v, heads
    joined). ``out_proj`` is an ``nn.Linear`` and so has this library's (in, out) layout: to copy
    PyTorch's module, take ``in_proj_weight`` as it is and ``out_proj.weight`` transposed.

    Inputs are (L, N, E) (or (N, L, E) with ``batch_first=True``), or unbatched (L, E).
    Masks: ``attn_mask`` (L, S) or (N * num_heads, L, S), ``key_padding_mask`` (N, S); bool
    masks mark with True what may *not* be attended, float masks are added to the scores.
    ``is_causal=True`` without an ``attn_mask`` applies the causal mask (PyTorch requires the
    mask itself then; with a mask given, it is the mask that counts, as there). Returns
    (output, weights): weights (N, L, S) averaged over heads, or (N, num_heads, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False``. ``dropout`` applies to
    the weights in training.

    Init as PyTorch: in_proj_weight Xavier-uniform, biases zero, out_proj.weight U(-1/sqrt(E), 1/sqrt(E)).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = False,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        if num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        self.rng = rng  # dropout's masks: drawn from it, or (None) from the default generator at each call
        rng = _generator(rng)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = _check_p(dropout, "MultiheadAttention")
        self.batch_first = batch_first
        self.in_proj_weight = Parameter(np.zeros((3 * embed_dim, embed_dim)), dtype=dtype)  # filled below
        init.xavier_uniform_(self.in_proj_weight, rng=rng)
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim), dtype=dtype) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, rng=rng, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.bias)

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        w = self.in_proj_weight
        q, k, v = (as_tensor(t, w, "MultiheadAttention") for t in (query, key, value))
        shapes = f"got shapes {q.shape}, {k.shape}, {v.shape}"
        batched = q.ndim == 3
        if q.ndim not in (2, 3) or k.ndim != q.ndim or v.ndim != q.ndim:
            raise ValueError(
                f"MultiheadAttention: query, key and value must all be 3-D (batched) or 2-D (unbatched), {shapes}"
            )
        if batched and not self.batch_first:  # (L, N, E) -> (N, L, E)
            q, k, v = q.swapaxes(0, 1), k.swapaxes(0, 1), v.swapaxes(0, 1)
        elif not batched:
            q, k, v = q.reshape((1, *q.shape)), k.reshape((1, *k.shape)), v.reshape((1, *v.shape))
        n, length, e = q.shape
        s = k.shape[1]
        if e != self.embed_dim or k.shape[2] != e or v.shape[2] != e:
            raise ValueError(
                f"MultiheadAttention(embed_dim={self.embed_dim}): query, key and value must have {self.embed_dim} "
                f"features on their last axis, {shapes}"
            )
        if k.shape[:2] != v.shape[:2] or k.shape[0] != n:
            raise ValueError(
                f"MultiheadAttention: key and value need the same batch and length, and the query's batch; {shapes}"
            )
        h, d = self.num_heads, self.head_dim
        b = self.in_proj_bias

        def project(x: Tensor, i: int, size: int) -> Tensor:
            y = x @ w[i * e : (i + 1) * e].T
            if b is not None:
                y = y + b[i * e : (i + 1) * e]
            return y.reshape(n, size, h, d).transpose(0, 2, 1, 3)  # (N, H, size, D)

        qh, kh, vh = project(q, 0, length), project(k, 1, s), project(v, 2, s)
        scores = (qh * (1.0 / math.sqrt(d))) @ kh.transpose(0, 1, 3, 2)  # (N, H, L, S)
        dtype = scores.dtype
        bias = np.zeros((1, 1, 1, 1), dtype=dtype)
        masked = False
        if attn_mask is not None:
            m = _additive_mask(attn_mask, "attn_mask", dtype)
            if m.shape == (length, s):
                m = m.reshape(1, 1, length, s)
            elif m.shape == (n * h, length, s):
                m = m.reshape(n, h, length, s)
            else:
                raise ValueError(
                    f"MultiheadAttention: attn_mask of shape {m.shape} must be (L, S) = {(length, s)} "
                    f"or (N * num_heads, L, S) = {(n * h, length, s)}"
                )
            bias, masked = bias + m, True
        elif is_causal:
            causal = np.triu(np.ones((length, s), dtype=bool), 1)  # key j > query i is not attended
            bias, masked = bias + _additive_mask(causal, "the causal mask", dtype), True
        if key_padding_mask is not None:
            m = _additive_mask(key_padding_mask, "key_padding_mask", dtype)
            want = (n, s) if batched else (s,)
            if m.shape != want:
                raise ValueError(f"MultiheadAttention: key_padding_mask of shape {m.shape} must be (N, S) = {want}")
            bias, masked = bias + m.reshape(n, 1, 1, s), True
        if masked:
            scores = scores + bias
        weights = scores.softmax(-1)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout, True, self.rng)
        out = (weights @ vh).transpose(0, 2, 1, 3).reshape(n, length, e)
        out = self.out_proj(out)
        if not batched:
            out = out[0]
        elif not self.batch_first:
            out = out.swapaxes(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights if batched else weights[0])

    def extra_repr(self) -> str:
        heads = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        return f"{heads}, dropout={self.dropout}, batch_first={self.batch_first}"


# ----------------------------------------------------------------------------- containers


def _module(value: Any, where: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{where}: {type(value).__name__} is not a Module")
    return value


class ModuleList(Module):
    """A list of modules whose parameters are the container's: ``blocks.0.weight``, ``blocks.1.weight``...

    ``append``, ``extend``, ``insert``, indexing (a slice gives a ModuleList), ``len``, iteration.
    It has no forward: call its items.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        self._items: list[Module] = []
        if modules is not None:
            self.extend(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, m in enumerate(self._items):
            yield str(i), m
        for name, value in vars(self).items():
            if name != "_items":
                yield from _found(name, value)

    def append(self, module: Module) -> ModuleList:
        self._items.append(_module(module, "ModuleList.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        self._items.extend([_module(m, "ModuleList.extend") for m in modules])
        return self

    def insert(self, index: int, module: Module) -> None:
        self._items.insert(index, _module(module, "ModuleList.insert"))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(self._items[index])
        return self._items[index]

    def __setitem__(self, index: int, module: Module) -> None:
        self._items[index] = _module(module, "ModuleList[...] =")

    def __delitem__(self, index: int | slice) -> None:
        del self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)


class ModuleDict(Module):
    """An ordered dict of modules, string keys (no "."): parameters are named ``heads.key.weight``.

    Indexing by key, ``in``, ``len``, iteration over keys, ``keys()``, ``values()``,
    ``items()``, ``update()``, ``pop()``, ``clear()``. It has no forward: call its items.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        self._items: dict[str, Module] = {}
        if modules is not None:
            self.update(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from self._items.items()
        for name, value in vars(self).items():
            if name != "_items":
                yield from _found(name, value)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        self._items[key] = _module(module, f"ModuleDict[{key!r}]")

    def __getitem__(self, key: str) -> Module:
        return self._items[key]

    def __delitem__(self, key: str) -> None:
        del self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def keys(self) -> Any:
        return self._items.keys()

    def values(self) -> Any:
        return self._items.values()

    def items(self) -> Any:
        return self._items.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        return self._items.pop(key)

    def clear(self) -> None:
        self._items.clear()
