"""Check an op's gradient against the slope measured by central differences.

For f(x), the derivative along element i is about (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),
with an error of order eps**2 (from the third derivative) plus rounding of order
|f| * 1e-16 / eps. With float64 and eps = 1e-6 both are far below the default tolerances.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .engine import grad as autograd_grad
from .tensor import Tensor


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """True if autograd's gradients of ``fn`` match central differences, else AssertionError.

    ``fn`` may return a tensor of any shape: a non-scalar is reduced to ``sum(fn(*inputs) * v)``
    with a fixed random ``v``, so every output element takes part. Inputs that require grad are
    checked, element by element; they should be float64 (float32 rounding swamps the slope).
    The error names the input and the index that disagree.
    """
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; use float64, since float32 rounding "
                "is larger than the differences being measured"
            )
    out = fn(*inputs)
    # A scalar output is checked as it is; any other is weighted by fixed random numbers.
    weights = np.ones(out.shape) if out.size == 1 else np.random.default_rng(seed).standard_normal(out.shape)

    def scalar(*args: Tensor) -> float:  # fn may itself call autograd, so grad mode stays on
        return float(np.sum(fn(*args).data * weights))

    analytic = autograd_grad((out * weights).sum(), [inputs[i] for i in checked], allow_unused=True)
    for i, g in zip(checked, analytic):
        x = inputs[i]
        expected = np.zeros(x.shape) if g is None else g.data
        for index in np.ndindex(*x.shape):
            original = x.data[index]
            x.data[index] = original + eps
            high = scalar(*inputs)
            x.data[index] = original - eps
            low = scalar(*inputs)
            x.data[index] = original
            numeric = (high - low) / (2 * eps)
            if not abs(numeric - expected[index]) <= atol + rtol * abs(numeric):
                what = "" if out.size == 1 else " of sum(fn(...) * v), with v fixed random weights,"
                raise AssertionError(
                    f"gradcheck: the gradient{what} with respect to input {i} (shape {x.shape}) at "
                    f"index {index} is {float(expected[index]):.6g} by autograd but {numeric:.6g} by "
                    "central differences"
                )
    return True
