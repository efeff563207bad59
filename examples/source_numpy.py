"""The source this project grew from: a numpy two-layer network with hand-derived gradients.

Its ``utils.py`` and ``main.py`` (from a CSDN blog post by 努力学习计算机123), re-indented and
merged into one file; the formulas, asserts and hyperparameters are unchanged, and the
comments are translated. ``python examples/source_numpy.py`` prints the source's losses;
``examples/seed_mlp.py`` trains the same network through autograd and prints the same ones.
Tests and benchmarks import the functions from here, so the source lives in one place.

Its gradient conventions (see docs/api.md): ``mse_grad`` is the gradient of the *summed*
squared error, ``fc_backward``'s ``w_grad`` a sum over the batch, its ``b_grad`` a *mean*.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

# ----------------------------------------------------------------------------- utils.py


def fc_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """z = x @ w + b: a fully connected layer's forward pass"""
    assert w.shape[0] == x.shape[1]
    assert w.shape[1] == b.shape[0]
    return np.matmul(x, w) + b


def fc_backward(x: np.ndarray, w: np.ndarray, z_grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z = x @ w + b: the layer's backward pass (x_grad, w_grad summed, b_grad a batch MEAN)"""
    # x @ w = z  ->  z.shape = x.shape[0], w.shape[1]
    assert z_grad.shape[0] == x.shape[0]
    assert z_grad.shape[1] == w.shape[1]
    x_grad = z_grad @ w.T
    w_grad = x.T @ z_grad
    b_grad = np.mean(z_grad, 0)
    return x_grad, w_grad, b_grad


def relu_forward(z: np.ndarray) -> np.ndarray:
    """a = relu(z)"""
    return z * (z > 0)


def relu_backward(z: np.ndarray, a_grad: np.ndarray) -> np.ndarray:
    """a = relu(z): its backward pass (0 at z == 0)"""
    return a_grad * (z > 0)


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """loss = np.mean((y_true - y_pred) ** 2, axis=-1): mean squared error per row, shape (batch_size,)"""
    assert y_true.shape == y_pred.shape
    return np.mean((y_true - y_pred) ** 2, axis=-1)


def mse_grad(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """2 * (y_pred - y_true): the gradient of the SUMMED squared error, shape (batch_size, class_num)"""
    assert y_true.shape == y_pred.shape
    return 2 * (y_pred - y_true)


# ----------------------------------------------------------------------------- main.py

BATCH_SIZE = 64
LR = 1e-3


def forward_backward(
    x: np.ndarray, true: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Steps 1-3 of the source's loop: forward, loss (per row), backward (w1, b1, w2, b2 grads)."""
    # 1. forward
    z = fc_forward(x, w1, b1)  # (batch_size, 100)
    a = relu_forward(z)  # (batch_size, 100)
    pred = fc_forward(a, w2, b2)  # (batch_size, 10)
    # 2. loss
    loss = mse(true, pred)  # (batch_size,)
    # 3. backward
    pred_grad = mse_grad(true, pred)  # (batch_size, 10)
    a_grad, w2_grad, b2_grad = fc_backward(a, w2, pred_grad)
    z_grad = relu_backward(z, a_grad)  # (batch_size, 100)
    _, w1_grad, b1_grad = fc_backward(x, w1, z_grad)
    return loss, (w1_grad, b1_grad, w2_grad, b2_grad)


def train(steps: int = 501, report: Callable[[int, float], None] = print) -> dict[str, np.ndarray]:
    """The source's main.py: data and weights from seed 0, then ``steps`` steps of SGD.

    Reports ``step mean_loss`` every 10th step (the loss of that step's forward pass, before
    its update) and returns the final weights.
    """
    # 1. prepare the data
    np.random.seed(0)
    x = np.random.randn(BATCH_SIZE, 20)
    true = np.random.randn(BATCH_SIZE, 10)  # y_true
    # 2. initialise weights and biases
    w1 = np.random.randn(20, 100) * 0.1
    w2 = np.random.randn(100, 10) * 0.1
    b1 = np.zeros((100,))
    b2 = np.zeros((10,))
    for i in range(steps):
        loss, (w1_grad, b1_grad, w2_grad, b2_grad) = forward_backward(x, true, w1, b1, w2, b2)
        # 4. update
        w1 -= LR * w1_grad  # (20, 100)
        w2 -= LR * w2_grad  # (100, 10)
        b1 -= LR * b1_grad  # (100,)
        b2 -= LR * b2_grad  # (10,)
        if i % 10 == 0:
            report(i, float(np.mean(loss)))  # 500 2.3711536645661272e-05
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The source's numpy network, as it was.")
    parser.add_argument("--steps", type=int, default=501, help="training steps (the source runs 501)")
    train(parser.parse_args().steps)
