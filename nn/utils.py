"""Gradient clipping and flat parameter vectors, as ``torch.nn.utils`` has them.

``clip_grad_norm_`` and ``clip_grad_value_`` change the parameters' ``.grad`` in place (call
them between ``backward()`` and ``optimizer.step()``); ``parameters_to_vector`` and
``vector_to_parameters`` go between a model's parameters and one flat vector.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Tensor, concatenate, no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _tensors(op: str, parameters: Any) -> list[Tensor]:
    """A Tensor, or an iterable of them (``model.parameters()``), as a list."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected Tensors (model.parameters()), got {type(p).__name__}")
    return params


def _vector_norm(x: np.ndarray, norm_type: float) -> np.ndarray:
    """(sum |x|^p)^(1/p); max |x| for p = inf; the count of non-zeros for p = 0."""
    a = np.abs(x.reshape(-1))
    if norm_type == math.inf:
        return a.max(initial=0).astype(x.dtype)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(a), dtype=x.dtype)
    if norm_type == 1:
        return a.sum()
    if norm_type == 2:
        return np.sqrt(np.dot(a, a))
    return (a**norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(
    parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``; returns that
    norm (before clipping) as a 0-d Tensor, as PyTorch does.

        total = || (||g_1||_p, ||g_2||_p, ...) ||_p        (p = norm_type; inf: the largest |g|)
        g_i  <- g_i * min(1, max_norm / (total + 1e-6))

    Parameters without a gradient are skipped (no gradients at all: the norm is 0). With
    ``error_if_nonfinite`` a nan or inf total raises RuntimeError and changes nothing.
    """
    norm_type = float(norm_type)
    if math.isnan(norm_type) or norm_type < 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be >= 0 or inf, got {norm_type}")
    grads = [p.grad for p in _tensors("clip_grad_norm_", parameters) if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    dtype = np.result_type(*(g.dtype for g in grads))
    norms = np.stack([_vector_norm(g.data, norm_type).astype(dtype) for g in grads])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}, so they "
            "cannot be clipped; pass error_if_nonfinite=False to scale them anyway (they become nan)"
        )
    coef = np.minimum(np.asarray(max_norm, dtype=dtype) / (total + np.asarray(1e-6, dtype=dtype)), 1.0)
    with no_grad():
        for g in grads:
            g.mul_(coef.astype(g.dtype))
    return Tensor(total)


def clip_grad_value_(parameters: Any, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    with no_grad():
        for p in _tensors("clip_grad_value_", parameters):
            if p.grad is not None:
                p.grad.copy_(np.clip(p.grad.data, -clip_value, clip_value))


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D Tensor (differentiable, like ``torch.cat``)."""
    params = _tensors("parameters_to_vector", parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return concatenate([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Any, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive pieces of the 1-D ``vec`` into the parameters (in place, not recorded)."""
    params = _tensors("vector_to_parameters", parameters)
    values = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    if values.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {values.shape}")
    needed = sum(p.size for p in params)
    if values.size != needed:
        raise ValueError(
            f"vector_to_parameters: vec has {values.size} values, the parameters {needed}; nothing was copied"
        )
    offset = 0
    with no_grad():
        for p in params:
            p.copy_(values[offset : offset + p.size].reshape(p.shape))
            offset += p.size
