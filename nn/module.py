"""Module and Parameter: the containers that hold a model's weights.

A Module finds its parameters and submodules by looking at its own attributes, in the
order they were assigned: a Parameter, a Module, or a list/tuple of them. No registration
step and no ``__setattr__`` hooks: ``self.fc = Linear(2, 3)`` is all it takes.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np

from autograd import Tensor, no_grad


class Parameter(Tensor):
    """A leaf Tensor that a Module owns and an optimizer updates (``requires_grad=True``)."""

    def __init__(self, data: Any, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, name=name, dtype=dtype)


def _found(path: str, value: Any) -> Iterator[tuple[str, Any]]:
    """The Parameters and Modules in ``value`` (itself, or inside lists, tuples and dicts), with paths."""
    if isinstance(value, (Parameter, Module)):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _found(f"{path}.{i}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (Parameter, Module, list, tuple, dict)) and not isinstance(key, str):
                raise TypeError(
                    f"{path}: a dict holding layers or parameters needs string keys (for state_dict names), "
                    f"got {type(key).__name__} key {key!r}"
                )
            yield from _found(f"{path}.{key}", item)


class Module:
    """Base class for layers and models: define ``forward``; call the module to run it."""

    training: bool = True

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ the tree

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, value) for each Parameter or Module attribute: list and tuple items as ``name.i``,
        dict values as ``name.key``, at any depth (a dict of lists of layers is found too)."""
        for name, value in vars(self).items():
            yield from _found(name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules, in assignment order."""
        return ((name, value) for name, value in self._members() if isinstance(value, Module))

    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """This module and every submodule below it, each once, with dotted paths ("" for this one)."""
        seen: set[Module] = set()
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            path, module = stack.pop()
            if module in seen:
                continue
            seen.add(module)
            yield path, module
            children = [(f"{path}.{name}" if path else name, child) for name, child in module.named_children()]
            stack.extend(reversed(children))

    def modules(self) -> list[Module]:
        return [module for _, module in self.named_modules()]

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted path (``layers.0.weight``), each once, in a fixed order."""
        seen: set[Tensor] = set()
        for path, module in self.named_modules():
            for name, value in module._members():
                if isinstance(value, Parameter) and value not in seen:
                    seen.add(value)
                    yield (f"{path}.{name}" if path else name), value

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set it to None)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    # ------------------------------------------------------------------ saving and loading

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, keyed by dotted path."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values into the parameters. Every problem is found before anything changes.

        Raises ValueError naming each missing or unexpected key (with ``strict``) and each
        value of the wrong shape or a non-numeric one.
        """
        params = dict(self.named_parameters())
        problems = []
        if strict:
            missing = [k for k in params if k not in state]
            unexpected = [k for k in state if k not in params]
            if missing:
                problems.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                problems.append(f"unexpected keys: {', '.join(unexpected)}")
        values = {}
        for name, p in params.items():
            if name not in state:
                continue
            value = np.asarray(state[name])
            if value.dtype.kind not in "fiub":
                problems.append(f"{name}: values of dtype {value.dtype} are not numbers")
            elif value.shape != p.shape:
                problems.append(f"{name}: shape {value.shape} in the state, {p.shape} in the model")
            else:
                values[name] = value
        if problems:
            listed = "; ".join(problems)
            raise ValueError(f"load_state_dict for {type(self).__name__}: {listed}; nothing was loaded")
        with no_grad():
            for name, value in values.items():
                params[name].copy_(value)

    # ------------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The arguments shown after the class name, e.g. ``in_features=2, out_features=3``."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"
