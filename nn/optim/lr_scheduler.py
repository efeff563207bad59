"""Learning-rate schedules, PyTorch's ``torch.optim.lr_scheduler``: the same trajectories.

A scheduler changes ``group["lr"]`` in its optimizer's ``param_groups``. Make it after the
optimizer (making it sets each group's ``initial_lr`` and the lr of step 0), then call
``optimizer.step()`` and ``scheduler.step()`` once per epoch (or batch, for OneCycleLR):

    opt = SGD(model.parameters(), lr=0.1)
    sched = StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)
        sched.step()

Most schedules update the lr *recursively* from its current value, as PyTorch does
(``ExponentialLR`` multiplies by gamma each step, ``CosineAnnealingLR`` applies the ratio of
consecutive cosine terms), so they compose with other changes to the lr, and the numbers
are PyTorch's to the last bit; their docstrings give the closed form they follow.

``get_last_lr()`` is the list of lrs (one per group) set by the latest step. ``state_dict()``
holds a scheduler's progress (numbers only, so ``nn.save`` writes it); its settings (gamma,
milestones...) come from its constructor. ``load_state_dict`` restores the progress and
sets the groups' lrs to the saved ones.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .optimizers import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


def _check_optimizer(name: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an nn.optim optimizer (SGD, Adam...), got {type(optimizer).__name__}")


def _floats(name: str, key: str, value: Any, count: int) -> list[float]:
    """A saved list of numbers (a list, or an array read back by nn.load) of ``count`` floats."""
    values = [float(v) for v in np.atleast_1d(np.asarray(value, dtype=np.float64))]
    if len(values) != count:
        raise ValueError(
            f"{name}.load_state_dict: {key!r} holds {len(values)} values, the optimizer has {count} "
            "parameter groups; nothing was loaded"
        )
    return values


def _per_group(name: str, what: str, value: Any, optimizer: Optimizer) -> list[Any]:
    """``value`` for every group: a list/tuple of one per group, or one value for all."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name}: expected {n} values of {what} (one per parameter group), got {len(value)}")
        return list(value)
    return [value] * n


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``state_dict()``, ``load_state_dict()``.

    A subclass defines ``get_lr()``: the lrs at step ``self.last_epoch`` (0 for the step the
    constructor takes), usually from the groups' current lrs; ``self._initial`` is True during
    that first step. ``_closed_form_lr()``, where defined, gives them from ``base_lrs`` alone
    (``SequentialLR`` restarts a schedule with it).
    """

    def __init__(self, optimizer: Optimizer) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._initial_step()

    def _initial_step(self) -> None:
        self._initial = True
        try:
            self.step()
        finally:
            self._initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self) -> None:
        """Advance one step (epoch) and set the groups' lrs for it."""
        self.last_epoch += 1
        self._set(self.get_lr())

    def _restart(self) -> None:
        """Start again at step 0 (SequentialLR does this at a milestone)."""
        self.last_epoch = 0
        closed_form = getattr(self, "_closed_form_lr", None)
        self._set(closed_form() if closed_form is not None else self.get_lr())

    def _undo_initial_step(self) -> None:
        self.last_epoch -= 1

    def _set(self, lrs: Sequence[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs (one per parameter group) that the latest step set."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The progress: ``last_epoch``, ``base_lrs`` and ``last_lr`` (numbers and lists of numbers)."""
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs), "last_lr": list(self._last_lr)}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the progress saved by ``state_dict`` (or read back by ``nn.load``) and the lrs."""
        name, n = type(self).__name__, len(self.optimizer.param_groups)
        missing = {"last_epoch", "base_lrs", "last_lr"} - set(state_dict)
        if missing:
            raise ValueError(f"{name}.load_state_dict: missing {sorted(missing)}; nothing was loaded")
        base_lrs = _floats(name, "base_lrs", state_dict["base_lrs"], n)
        last_lr = _floats(name, "last_lr", state_dict["last_lr"], n)
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = base_lrs
        self._set(last_lr)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` steps: lr_t = base_lr * gamma ** (t // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each milestone step: lr_t = base_lr * gamma ** (milestones <= t).

    A milestone listed twice multiplies by gamma twice.
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1) -> None:
        milestones = list(milestones)
        if any(isinstance(m, bool) or not isinstance(m, (int, np.integer)) for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be integers (step numbers), got {milestones}")
        self.milestones = Counter(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current()]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every step: lr_t = base_lr * gamma ** t."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self._initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr down to ``eta_min`` over ``T_max`` steps (and back up over the
    next T_max, periodically, as PyTorch's):

        lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    computed recursively as PyTorch does (lr_t from lr_{t-1} by the ratio of consecutive
    ``1 + cos`` terms), so an lr changed from outside is annealed from where it is.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, (int, np.integer)) or T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max, self.eta_min = int(T_max), eta_min
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, period = self.last_epoch, self.T_max
        if self._initial:
            return self._current()
        if (t - 1 - period) % (2 * period) == 0:  # leaving the bottom: the ratio's denominator is 0 here
            rise = (1 - math.cos(math.pi / period)) / 2
            return [lr + (base - self.eta_min) * rise for lr, base in zip(self._current(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - self.eta_min) + self.eta_min for lr in self._current()]

    def _closed_form_lr(self) -> list[float]:
        cos = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * cos / 2 for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the lr by a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps, then keep it:

        lr_t = base_lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)
    """

    def __init__(
        self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
    ) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must lie in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must lie in [0, 1], got {end_factor}")
        if isinstance(total_iters, bool) or not isinstance(total_iters, (int, np.integer)) or total_iters <= 0:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, int(total_iters)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._current()]
        if t > self.total_iters:
            return self._current()
        factor = 1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start))
        return [lr * factor for lr in self._current()]

    def _closed_form_lr(self) -> list[float]:
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * done) for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr_t = base_lr * lr_lambda(t): one function for every group, or a list of one per group."""

    def __init__(
        self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]
    ) -> None:
        _check_optimizer("LambdaLR", optimizer)
        lambdas = _per_group("LambdaLR", "lr_lambda", lr_lambda, optimizer)
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the step number, got {fn!r}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class OneCycleLR(LRScheduler):
    """The 1cycle policy: the lr rises from max_lr / div_factor to ``max_lr`` over the first
    ``pct_start`` of ``total_steps``, then falls to max_lr / (div_factor * final_div_factor);
    with ``three_phase`` it comes back down to the start symmetrically first, then falls. Each
    phase anneals by ``anneal_strategy``, from a to b as the phase's fraction f goes 0 -> 1:

        "cos":    b + (a - b) * (1 + cos(pi * f)) / 2;        "linear":  a + (b - a) * f

    With ``cycle_momentum`` the momentum (SGD's ``momentum``, Adam's beta1) moves the other way
    between ``max_momentum`` and ``base_momentum``. Call ``step()`` after every batch; the
    schedule allows ``total_steps`` steps (``epochs * steps_per_epoch`` if total_steps is None).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)

        def positive_int(what: str, value: Any) -> int:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
            return int(value)

        if total_steps is not None:
            self.total_steps = positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = positive_int("epochs", epochs) * positive_int("steps_per_epoch", steps_per_epoch)
        else:
            raise ValueError(f"{name}: give total_steps, or both epochs and steps_per_epoch")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"{name}: pct_start must lie in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        n = self.total_steps
        # (last step of the phase, lr at its start, lr at its end, momentum at its start, at its end)
        if three_phase:
            self._phases = [
                (float(pct_start * n) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * n) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (n - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (float(pct_start * n) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (n - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        starts = [0.0] + [phase[0] for phase in self._phases[:-1]]
        if any(phase[0] == start for phase, start in zip(self._phases, starts)):
            raise ValueError(
                f"{name}: a phase of the schedule has no steps (total_steps={n}, pct_start={pct_start}); "
                "use more steps or another pct_start"
            )
        for group, top in zip(optimizer.param_groups, _per_group(name, "max_lr", max_lr, optimizer)):
            group["initial_lr"] = top / div_factor
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"{name}: cycle_momentum=True needs an optimizer with momentum (SGD, RMSprop) or betas "
                    f"(Adam), and {type(optimizer).__name__} has neither; pass cycle_momentum=False"
                )
            self._use_beta1 = "betas" in optimizer.defaults
            tops = _per_group(name, "max_momentum", max_momentum, optimizer)
            bottoms = _per_group(name, "base_momentum", base_momentum, optimizer)
            for group, top, bottom in zip(optimizer.param_groups, tops, bottoms):
                self._set_momentum(group, top)
                group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self._use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, but the schedule has total_steps={self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_a, lr_b, mom_a, mom_b) in enumerate(self._phases):
                if t <= end or i == len(self._phases) - 1:
                    fraction = (t - start) / (end - start)
                    lrs.append(self._anneal(group[lr_a], group[lr_b], fraction))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[mom_a], group[mom_b], fraction))
                    break
                start = end
        return lrs

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the progress, and the lrs and momenta of that step."""
        super().load_state_dict(state_dict)
        if self.last_epoch <= self.total_steps:
            self._set(self.get_lr())  # also puts the momentum back


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another: the i-th takes over (restarting at its step 0) at step
    ``milestones[i - 1]``. All must drive ``optimizer``; ReduceLROnPlateau cannot be one."""

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int]) -> None:
        name = "SequentialLR"
        _check_optimizer(name, optimizer)
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{name}: needs at least one scheduler")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise TypeError(f"{name}: scheduler {i} is a ReduceLROnPlateau, whose step() needs a metric")
            if not isinstance(s, LRScheduler):
                raise TypeError(f"{name}: scheduler {i} is a {type(s).__name__}, not an LRScheduler")
            if s.optimizer is not optimizer:
                raise ValueError(f"{name}: scheduler {i} ({type(s).__name__}) drives a different optimizer")
        milestones = [int(m) for m in milestones]
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{name}: {len(schedulers)} schedulers need {len(schedulers) - 1} milestones, got {len(milestones)}"
            )
        if milestones != sorted(milestones):
            raise ValueError(f"{name}: milestones must increase, got {milestones}")
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._milestones = milestones
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._initial = False
        # Undo what the schedulers' constructors did, then take step 0 with the first one.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in schedulers:
            s._undo_initial_step()
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_initial_step(self) -> None:
        for s in self._schedulers:
            s._undo_initial_step()

    def step(self) -> None:
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def _restart(self) -> None:
        self.last_epoch = 0
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._restart()
        self._last_lr = first.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """The progress, with each scheduler's own under ``schedulers`` ("0", "1", ...)."""
        return {
            "last_epoch": self.last_epoch,
            "last_lr": list(self._last_lr),
            "schedulers": {str(i): s.state_dict() for i, s in enumerate(self._schedulers)},
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        saved = state_dict.get("schedulers", {})
        if sorted(saved, key=str) != sorted(str(i) for i in range(len(self._schedulers))):
            raise ValueError(
                f"SequentialLR.load_state_dict: saved states for schedulers {sorted(saved)}, but there are "
                f"{len(self._schedulers)} here; nothing was loaded"
            )
        last_lr = _floats("SequentialLR", "last_lr", state_dict["last_lr"], len(self.optimizer.param_groups))
        for i, s in enumerate(self._schedulers):
            s.load_state_dict(saved[str(i)])
        self.last_epoch = int(state_dict["last_epoch"])
        self._set(last_lr)


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` once a metric has not improved for more than ``patience`` steps.

    ``step(metric)`` after each evaluation. "Improved" means, in mode "min" (a loss), below
    best * (1 - threshold) ("rel") or best - threshold ("abs"); in mode "max" (an accuracy),
    above best * (1 + threshold) or best + threshold. After a reduction, ``cooldown`` steps
    pass before bad steps count again. The lr never goes below ``min_lr`` (one number, or one
    per group), and a change smaller than ``eps`` is skipped.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        if not factor < 1.0:
            raise ValueError(f"{name}: factor must be < 1 (the lr is multiplied by it), got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.eps = threshold, threshold_mode, cooldown, eps
        self.min_lrs = _per_group(name, "min_lr", min_lr, optimizer)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _is_better(self, value: float) -> bool:
        if self.mode == "min":
            bound = self.best * (1.0 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return value < bound
        bound = self.best * (self.threshold + 1.0) if self.threshold_mode == "rel" else self.best + self.threshold
        return value > bound

    def step(self, metrics: Any) -> None:
        """Record the metric of one evaluation (a number or a one-element Tensor)."""
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The groups' lrs after the latest step."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The progress: ``last_epoch``, ``best``, ``num_bad_epochs``, ``cooldown_counter``, ``last_lr``."""
        return {
            "last_epoch": self.last_epoch,
            "best": self.best,
            "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter,
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        keys = {"last_epoch", "best", "num_bad_epochs", "cooldown_counter", "last_lr"}
        missing = keys - set(state_dict)
        if missing:
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: missing {sorted(missing)}; nothing was loaded")
        last_lr = _floats("ReduceLROnPlateau", "last_lr", state_dict["last_lr"], len(self.optimizer.param_groups))
        self.last_epoch = int(state_dict["last_epoch"])
        self.best = float(state_dict["best"])
        self.num_bad_epochs = int(state_dict["num_bad_epochs"])
        self.cooldown_counter = int(state_dict["cooldown_counter"])
        for group, lr in zip(self.optimizer.param_groups, last_lr):
            group["lr"] = lr
        self._last_lr = last_lr
