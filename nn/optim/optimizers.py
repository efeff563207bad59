"""Optimizers: SGD (momentum, Nesterov, weight decay), Adam/AdamW, RMSprop and Adagrad, as PyTorch defines them.

An optimizer holds *parameter groups*: lists of parameters that share options. Pass
parameters directly, or dicts such as ``{"params": biases, "lr": 1e-4}`` to give a group its
own options; options not given come from the optimizer's arguments.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from autograd import Tensor, no_grad


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

    def _check(self, group: dict[str, Any]) -> None:
        for option in ("lr", "momentum", "dampening", "weight_decay", "eps", "alpha", "lr_decay",
                       "initial_accumulator_value"):  # fmt: skip
            if option in group and group[option] < 0:
                raise ValueError(f"{type(self).__name__}: {option} must be >= 0, got {group[option]}")

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set it to None, as PyTorch does by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

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
        """Restore options and state saved by ``state_dict`` (or read back by ``nn.load``)."""
        params = self._all_params()
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"load_state_dict: {len(groups)} groups saved, {len(self.param_groups)} here; nothing loaded"
            )
        new_options = []
        for g, group in enumerate(self.param_groups):
            saved = groups[str(g)]
            if len(np.atleast_1d(saved["params"])) != len(group["params"]):
                raise ValueError(f"load_state_dict: group {g} has a different number of parameters; nothing loaded")
            # options a scheduler added (initial_lr, max_lr...) are numbers too
            new_options.append(
                {k: _plain(v, self.defaults.get(k, group.get(k, 0.0))) for k, v in saved.items() if k != "params"}
            )
        new_state = {}
        for key, s in state_dict.get("state", {}).items():  # a file drops an empty state
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(
                    f"load_state_dict: state for parameter {i}, but there are {len(params)}; nothing loaded"
                )
            for name, value in s.items():
                if isinstance(value, np.ndarray) and value.ndim > 0 and value.shape != params[i].shape:
                    raise ValueError(
                        f"load_state_dict: state {name!r} of parameter {i} has shape {value.shape}, "
                        f"the parameter {params[i].shape}; nothing loaded"
                    )
            # "step" is a count; everything else is a buffer updated in place, so stays an array
            new_state[params[i]] = {k: (int(v) if k == "step" else np.array(v)) for k, v in s.items()}
        for group, options in zip(self.param_groups, new_options):
            group.update(options)
        self.state = new_state

    def _all_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]


def _plain(value: Any, like: Any) -> Any:
    """A value read back from a file (a 0-d or 1-d array) in the type of its default."""
    if isinstance(like, tuple):
        return tuple(float(v) for v in np.asarray(value))
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
