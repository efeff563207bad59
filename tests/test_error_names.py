"""Every op's bad-input path names the op (issue 11, item 16).

Each row calls an op the way a user gets it wrong (shapes that do not fit, an axis out of
range, an argument out of its domain) and checks the error's type and that its message starts
with the op's name, so the user knows which line of their program to look at.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd import Tensor


def x() -> Tensor:
    return Tensor(np.ones((2, 3)), requires_grad=True)


def v3() -> Tensor:
    return Tensor(np.ones(3), requires_grad=True)


def images() -> Tensor:
    return Tensor(np.ones((1, 2, 5, 5)), requires_grad=True)


CALLS = {
    # arithmetic and matmul
    "add": lambda: x() + Tensor(np.ones(4)),
    "sub": lambda: x() - Tensor(np.ones(4)),
    "mul": lambda: x() * Tensor(np.ones(4)),
    "div": lambda: x() / Tensor(np.ones(4)),
    "pow": lambda: x() ** Tensor(np.ones(4)),
    "matmul": lambda: x() @ Tensor(np.ones((2, 2))),
    # reductions
    "sum": lambda: x().sum(axis=3),
    "mean": lambda: x().mean(axis=5),
    "max": lambda: x().max(axis=2),
    "min": lambda: x().min(axis=-3),
    "var": lambda: x().var(axis=3),
    "std": lambda: x().std(axis=3),
    "prod": lambda: x().prod(axis=3),
    "logsumexp": lambda: x().logsumexp(axis=3),
    "cumsum": lambda: x().cumsum(axis=3),
    "cumprod": lambda: x().cumprod(axis=3),
    "argmax": lambda: x().argmax(axis=3),
    "argmin": lambda: x().argmin(axis=3),
    "norm": lambda: x().norm(ord="bad"),
    # softmax
    "softmax": lambda: x().softmax(axis=4),
    "log_softmax": lambda: x().log_softmax(axis=4),
    # shape and indexing
    "reshape": lambda: x().reshape(4),
    "transpose": lambda: x().transpose(0, 1, 2),
    "swapaxes": lambda: x().swapaxes(0, 3),
    "broadcast_to": lambda: x().broadcast_to((3,)),
    "getitem": lambda: x()[5],
    "concatenate": lambda: ag.concatenate([x(), Tensor(np.ones((3, 3)))], axis=1),
    "stack": lambda: ag.stack([x(), Tensor(np.ones((3, 3)))]),
    "flatten": lambda: x().flatten(0, 5),
    "squeeze": lambda: x().squeeze(0),
    "unsqueeze": lambda: x().unsqueeze(5),
    "permute": lambda: x().permute(0, 0),
    "flip": lambda: x().flip(4),
    "roll": lambda: x().roll(1, axis=4),
    "tile": lambda: x().tile("a"),
    "repeat": lambda: x().repeat(2, 3),
    "pad": lambda: ag.pad(x(), -1),
    "tril": lambda: v3().tril(),
    "triu": lambda: v3().triu(),
    "diagonal": lambda: x().diagonal(axis1=0, axis2=0),
    "chunk": lambda: x().chunk(0),
    "split": lambda: ag.split(x(), 4, axis=1),
    "einsum": lambda: ag.einsum("ij,jk->ik", x(), x()),
    "gather": lambda: x().gather(1, np.array([[5]])),
    "scatter_add": lambda: x().scatter_add(1, np.array([[5]]), Tensor(np.ones((1, 1)))),
    "masked_fill": lambda: x().masked_fill(np.ones(4, bool), 0.0),
    "one_hot": lambda: ag.one_hot(np.array([1.5])),
    "setitem": lambda: x().__setitem__(0, Tensor(np.ones(5))),
    # selection
    "where": lambda: ag.where(np.ones(4, bool), x(), x()),
    "maximum": lambda: ag.maximum(x(), Tensor(np.ones(4))),
    "minimum": lambda: ag.minimum(x(), Tensor(np.ones(4))),
    "clip": lambda: x().clip("a", 1),
    # activations
    "gelu": lambda: x().gelu("bad"),
    "hardtanh": lambda: x().hardtanh(2, 1),
    "softplus": lambda: x().softplus(beta=0),
    # creation and randomness
    "zeros": lambda: ag.zeros(-1),
    "multinomial": lambda: ag.multinomial(Tensor([-1.0, 1.0]), 1),
    # nn.functional
    "mse_loss": lambda: nn.mse_loss(x(), np.ones(4)),
    "cross_entropy": lambda: nn.cross_entropy(x(), np.array([5, 0])),
    "layer_norm": lambda: F.layer_norm(x(), (4,)),
    "embedding": lambda: F.embedding(np.array([9]), x()),
    "linear": lambda: F.linear(x(), Tensor(np.ones((4, 2)))),
    "dropout": lambda: F.dropout(x(), p=2),
    "conv2d": lambda: F.conv2d(x(), Tensor(np.ones((1, 2, 3, 3)))),
    "conv1d": lambda: F.conv1d(x(), Tensor(np.ones((1, 2, 3, 3)))),
    "max_pool2d": lambda: F.max_pool2d(x(), 2),
    "avg_pool2d": lambda: F.avg_pool2d(x(), 2),
    "nll_loss": lambda: F.nll_loss(x(), np.array([5, 0])),
    "binary_cross_entropy": lambda: F.binary_cross_entropy(x().sigmoid(), np.ones(4)),
    "l1_loss": lambda: F.l1_loss(x(), np.ones(4)),
}


ALIASES = {"unsqueeze": ("expand_dims",)}  # one op, two names


@pytest.mark.parametrize("op", list(CALLS))
def test_the_error_names_the_op(op):
    with pytest.raises((ValueError, TypeError, IndexError, RuntimeError)) as caught:
        CALLS[op]()
    message = str(caught.value)
    names = [op, *ALIASES.get(op, ())]
    assert any(message.startswith((f"{name}: ", f"{name}(")) for name in names), (
        f"{op}: {type(caught.value).__name__}: {message}"
    )


def test_an_op_that_names_itself_is_not_named_twice():
    with pytest.raises(ValueError) as caught:
        nn.cross_entropy(x(), np.array([5, 0]))
    assert not str(caught.value).startswith("class_labels")
