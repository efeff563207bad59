"""Optimizers: SGD (momentum, Nesterov, weight decay), Adam/AdamW, RMSprop and Adagrad, as PyTorch defines them.

An optimizer holds *parameter groups*: lists of parameters that share options. Pass
parameters directly, or dicts such as ``{"params": biases, "lr": 1e-4}`` to give a group its
own options; options not given come from the optimizer's arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Tensor, no_grad

from ..module import zero_grads


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``state_dict``."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], Mapping) else [{"params": params}]
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        seen: set[Tensor] = set()
        for group in groups:
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise ValueError(f"{type(self).__name__}: unknown option(s) {sorted(unknown)} in a parameter group")
            group = {**defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad or not p.is_leaf:
                    raise TypeError(
                        f"{type(self).__name__}: can only optimize leaf tensors that require grad, got {p!r}"
                    )
                if p in seen:
                    raise ValueError(f"{type(self).__name__}: a parameter appears in more than one group")
                seen.add(p)
            self._check(group)
            self.param_groups.append(group)
        self.state: dict[Tensor, dict[str, Any]] = {}

    # Buffers each optimizer keeps per parameter (what load_state_dict accepts), and those that
    # must not be negative (a square root is taken of them).
    state_keys: frozenset[str] = frozenset()
    nonnegative_state: frozenset[str] = frozenset()
    # Options a learning-rate scheduler adds to a group (see nn.optim.lr_scheduler).
    scheduler_keys = frozenset({"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"})

    def _check(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        for option, value in group.items():
            if option == "params":
                continue
            for v in value if isinstance(value, tuple) else (value,):
                if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                    if option in self.defaults and isinstance(self.defaults[option], bool) and isinstance(v, bool):
                        continue
                    raise TypeError(f"{name}: option {option} must be a number, got {type(v).__name__} {v!r}")
                if not np.isfinite(v):
                    raise ValueError(f"{name}: option {option} must be finite, got {v}")
        for option in ("lr", "momentum", "dampening", "weight_decay", "eps", "alpha", "lr_decay",
                       "initial_accumulator_value"):  # fmt: skip
            if option in group and group[option] < 0:
                raise ValueError(f"{name}: {option} must be >= 0, got {group[option]}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: set it to None (as PyTorch does by default), or
        with ``set_to_none=False`` fill the gradients that exist with zeros (as PyTorch's)."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    @no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient, in place (bumping its version)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad.data, self.state.setdefault(p, {}), group)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ saving and loading

    def state_dict(self) -> dict[str, Any]:
        """Options and state, with parameters named by their position (0, 1, ...) across groups.

        Shaped as nested dicts of numbers and arrays, so ``nn.save`` can write it.
        """
        index = {p: i for i, p in enumerate(self._all_params())}
        groups = {}
        for g, group in enumerate(self.param_groups):
            options = {k: v for k, v in group.items() if k != "params"}
            groups[str(g)] = {**options, "params": np.array([index[p] for p in group["params"]])}
        state = {
            str(index[p]): {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for p, s in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore options and state saved by ``state_dict`` (or read back by ``nn.load``).

        Everything is checked before anything changes, as the constructor checks its
        arguments: the groups and their parameter counts, every option (the same names as this
        optimizer's, finite, in range), every buffer (one this optimizer keeps, the parameter's
        shape, finite counts). A problem raises ValueError (or TypeError) and loads nothing.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or "param_groups" not in state_dict:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'param_groups' (and 'state'); nothing loaded"
            )
        params = self._all_params()
        groups = state_dict["param_groups"]
        if not isinstance(groups, Mapping) or len(groups) != len(self.param_groups):
            count = len(groups) if isinstance(groups, Mapping) else type(groups).__name__
            raise ValueError(
                f"{name}.load_state_dict: {count} groups saved, {len(self.param_groups)} here; nothing loaded"
            )
        new_groups = []
        start = 0
        for g, group in enumerate(self.param_groups):
            saved = groups.get(str(g))
            if not isinstance(saved, Mapping):
                raise ValueError(f"{name}.load_state_dict: group {g} is missing; nothing loaded")
            indices = np.atleast_1d(np.asarray(saved.get("params", [])))
            expected = np.arange(start, start + len(group["params"]))
            start += len(group["params"])
            if indices.shape != expected.shape or not np.array_equal(indices, expected):
                raise ValueError(
                    f"{name}.load_state_dict: group {g} holds parameters {indices.tolist()}, here it holds "
                    f"{expected.tolist()}; nothing loaded"
                )
            options = {k: v for k, v in saved.items() if k != "params"}
            missing = set(self.defaults) - set(options)
            unknown = set(options) - set(self.defaults) - self.scheduler_keys
            if missing or unknown:
                raise ValueError(
                    f"{name}.load_state_dict: group {g} has options {sorted(options)}, but {name} takes "
                    f"{sorted(self.defaults)} (missing {sorted(missing)}, unknown {sorted(unknown)}): a state "
                    "saved by another optimizer? Nothing loaded"
                )
            try:
                plain = {k: _plain(v, self.defaults.get(k, group.get(k, 0.0))) for k, v in options.items()}
            except (TypeError, ValueError) as err:
                raise ValueError(f"{name}.load_state_dict: group {g}: {err}; nothing loaded") from None
            candidate = {**group, **plain}
            try:
                self._check(candidate)
            except (TypeError, ValueError) as err:
                raise type(err)(f"{name}.load_state_dict: group {g}: {err}; nothing loaded") from None
            new_groups.append(plain)
        new_state = {}
        saved_state = state_dict.get("state", {})  # a file drops an empty state
        if not isinstance(saved_state, Mapping):
            raise ValueError(f"{name}.load_state_dict: 'state' must be a dict; nothing loaded")
        for key, s in saved_state.items():
            try:
                i = int(key)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name}.load_state_dict: state key {key!r} is not a parameter index; nothing loaded"
                ) from None
            if not 0 <= i < len(params) or str(i) != str(key):
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter {key}, but there are {len(params)}; nothing loaded"
                )
            new_state[params[i]] = self._checked_state(i, params[i], s)
        for group, options in zip(self.param_groups, new_groups):
            group.update(options)
        self.state = new_state

    def _checked_state(self, i: int, p: Tensor, saved: Any) -> dict[str, Any]:
        """One parameter's buffers, checked: names this optimizer keeps, shapes, finite values."""
        name = type(self).__name__
        if not isinstance(saved, Mapping):
            raise ValueError(f"{name}.load_state_dict: state of parameter {i} must be a dict; nothing loaded")
        unknown = set(saved) - self.state_keys
        if unknown:
            raise ValueError(
                f"{name}.load_state_dict: state of parameter {i} has {sorted(unknown)}, which {name} does not keep "
                f"(it keeps {sorted(self.state_keys)}): a state saved by another optimizer? Nothing loaded"
            )
        state: dict[str, Any] = {}
        for key, value in saved.items():
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise TypeError(
                    f"{name}.load_state_dict: state {key!r} of parameter {i} is not numeric; nothing loaded"
                )
            if key == "step":  # a count
                if array.shape != () or not np.isfinite(array) or array < 0 or float(array) != int(array):
                    raise ValueError(
                        f"{name}.load_state_dict: step of parameter {i} must be a count >= 0, got {value!r}; nothing loaded"
                    )
                state[key] = int(array)
                continue
            if array.shape != p.shape:
                raise ValueError(
                    f"{name}.load_state_dict: state {key!r} of parameter {i} has shape {array.shape}, "
                    f"the parameter {p.shape}; nothing loaded"
                )
            if key in self.nonnegative_state and np.any(array < 0):
                raise ValueError(
                    f"{name}.load_state_dict: state {key!r} of parameter {i} has negative entries (it is a running "
                    "sum of squares); nothing loaded"
                )
            state[key] = np.array(array, dtype=p.dtype)  # a buffer updated in place: an array of its own
        return state

    def _all_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]


def _plain(value: Any, like: Any) -> Any:
    """A value read back from a file (a 0-d or 1-d array) in the type of its default."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"option value {value!r} is not a number")
    if isinstance(like, tuple):
        if array.shape != (len(like),):
            raise ValueError(f"expected {len(like)} numbers like {like}, got {value!r}")
        return tuple(float(v) for v in array)
    if array.size != 1:
        raise ValueError(f"expected one number, got {value!r}")
    if isinstance(like, bool):
        return bool(value)
    if isinstance(like, int) and not isinstance(like, bool) and float(value).is_integer():
        return int(value)
    return float(value)


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule. With g = grad + weight_decay * p:

    buf = g (first step), else momentum * buf + (1 - dampening) * g
    g   = g + momentum * buf if nesterov, else buf          (only when momentum != 0)
    p   = p - lr * g
    """

    state_keys = frozenset({"momentum_buffer"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening == 0")

    def _update(self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.sub_(group["lr"] * grad)


class Adam(Optimizer):
    """Adam, PyTorch's rule; ``decoupled_weight_decay=True`` gives AdamW. At step t:

    p = p * (1 - lr * weight_decay)                       (decoupled only)
    g = grad + weight_decay * p                           (not decoupled)
    m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g**2
    p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq"})
    nonnegative_state = frozenset({"exp_avg_sq"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, decoupled_weight_decay=decoupled_weight_decay
        )
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        beta1, beta2 = group["betas"]
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {group['betas']}")

    def _update(self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd:
            grad = grad + wd * p.data
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(m, grad, 1 - beta1)  # m = beta1 * m + (1 - beta1) * g, rounded as PyTorch rounds it
        v *= beta2
        v += (1 - beta2) * grad * grad
        denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
        p.sub_((lr / (1 - beta1**t)) * m / denom)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start += weight * (end - start), in place, with PyTorch's ``lerp`` rounding: from the nearer
    end (for weight >= 0.5, end - (end - start) * (1 - weight)), so results match torch.optim."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


class AdamW(Adam):
    """AdamW, PyTorch's defaults: Adam with decoupled weight decay, ``weight_decay=0.01``.

    ``p = p * (1 - lr * weight_decay)`` before the Adam step (see ``Adam``).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop, PyTorch's rule. With g = grad + weight_decay * p, per parameter:

    v   = alpha * v + (1 - alpha) * g**2                (square_avg, starts at 0)
    avg = sqrt(v) + eps;   centered: m = alpha * m + (1 - alpha) * g,  avg = sqrt(v - m**2) + eps
    p   = p - lr * g / avg                              (momentum == 0)
    buf = momentum * buf + g / avg;  p = p - lr * buf   (momentum > 0, buf starts at 0)
    """

    state_keys = frozenset({"step", "square_avg", "grad_avg", "momentum_buffer"})
    nonnegative_state = frozenset({"square_avg"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        if "step" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * grad * grad
        if group["centered"]:
            m = state.setdefault("grad_avg", np.zeros_like(p.data))
            _lerp_(m, grad, 1 - alpha)
            avg = np.sqrt(v - m * m) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(p.data))
            buf *= momentum
            buf += grad / avg
            p.sub_(lr * buf)
        else:
            p.sub_(lr * grad / avg)


class Adagrad(Optimizer):
    """Adagrad, PyTorch's rule. With g = grad + weight_decay * p, at the parameter's step t:

    sum = sum + g**2                                   (starts at initial_accumulator_value)
    p   = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)
    """

    state_keys = frozenset({"step", "sum"})
    nonnegative_state = frozenset({"sum"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = dict(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        if "step" not in state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        total = state["sum"]
        total += grad * grad
        p.sub_(clr * grad / (np.sqrt(total) + group["eps"]))
