"""Layers: Linear and the activations, and the containers Sequential and MLP."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from autograd import Tensor

from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight + bias, with ``weight`` of shape (in_features, out_features).

    The layout is the source's ``fc_forward`` (PyTorch stores the transpose). Default init,
    as PyTorch's: every weight and bias drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)),
    from ``rng`` (an ``np.random.Generator``; a fresh unseeded one if None).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        rng = np.random.default_rng() if rng is None else rng
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


class ReLU(Module):
    """y = max(x, 0)"""

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
        rng = np.random.default_rng() if rng is None else rng
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i > 0:
                layers.append(activation())
            layers.append(Linear(n_in, n_out, rng=rng, dtype=dtype))
        super().__init__(*layers)
        self.sizes = list(sizes)

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"
