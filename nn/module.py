"""Module and Parameter: the containers that hold a model's weights.

A Module finds its parameters and submodules by looking at its own attributes, in the
order they were assigned: a Parameter, a Module, or a list/tuple/dict of them. No
registration step and no ``__setattr__`` hooks: ``self.fc = Linear(2, 3)`` is all it takes.
The one exception is a buffer (state that is saved but not trained, such as BatchNorm's
running mean): a plain Tensor attribute is not part of the state until
``self.register_buffer("running_mean", Tensor(...))`` names it so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from autograd import Tensor, no_grad
from autograd.tensor import dir_without_torch_names, is_cpu, refuse_to, refuse_torch_names


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


def zero_grads(params: Iterable[Tensor], set_to_none: bool) -> None:
    """``zero_grad`` of modules and optimizers: each ``.grad`` to None, or (``set_to_none=False``)
    the existing ``.grad`` tensors zeroed in place, as PyTorch's: a reference to one sees zeros.
    A gradient recorded by ``create_graph`` is replaced by a plain zero tensor (PyTorch detaches it)."""
    for p in params:
        if set_to_none:
            p.grad = None
        elif p.grad is not None:
            if p.grad.grad_fn is None and not p.grad.requires_grad:
                p.grad.data = np.zeros_like(p.grad.data)
            else:
                p.grad = Tensor(np.zeros_like(p.data))


class Module:
    """Base class for layers and models: define ``forward``; call the module to run it."""

    training: bool = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Typed loosely so that each layer can define its own arguments and result (a Tensor
        for most layers, an (output, weights) pair for MultiheadAttention)."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ the tree

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, value) for each Parameter or Module attribute: list and tuple items as ``name.i``,
        dict values as ``name.key``, at any depth (a dict of lists of layers is found too)."""
        for name, value in vars(self).items():
            yield from _found(name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules, in assignment order (one reachable by two names: once)."""
        seen: set[Module] = set()
        for name, value in self._members():
            if isinstance(value, Module) and value not in seen:
                seen.add(value)
                yield name, value

    def children(self) -> list[Module]:
        """The direct submodules, in assignment order, each once."""
        return [module for _, module in self.named_children()]

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
        """This module and every submodule below it, in preorder, each once."""
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

    # ------------------------------------------------------------------ buffers

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as the attribute ``name``: state the module carries that is not
        trained (BatchNorm's ``running_mean``). Buffers are in ``state_dict()`` (unless
        ``persistent=False``), restored by ``load_state_dict``, and cast by ``to(dtype)``.

        Assigning the attribute later (``self.running_mean = Tensor(...)``) keeps it a buffer;
        ``None`` is allowed (a buffer left out of ``state_dict``), as in PyTorch.
        """
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: the name must be a non-empty string without '.', got {name!r}")
        if isinstance(tensor, Parameter):
            raise TypeError(
                f"register_buffer({name!r}): a Parameter is trained, not a buffer; assign it as an "
                f"attribute (self.{name} = Parameter(...)), or register Tensor(...) for state that is not trained"
            )
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer({name!r}): expected a Tensor or None, got {type(tensor).__name__}; "
                "wrap values as Tensor(values)"
            )
        names = self.__dict__.setdefault("_buffer_names", {})
        if name not in names and (name in vars(self) or hasattr(type(self), name)):
            raise KeyError(f"register_buffer: attribute {name!r} already exists on {type(self).__name__}")
        names[name] = persistent
        setattr(self, name, tensor)

    def _own_buffers(self, persistent_only: bool = False) -> Iterator[tuple[str, Tensor]]:
        for name, persistent in self.__dict__.get("_buffer_names", {}).items():
            value = getattr(self, name, None)
            if value is not None and (persistent or not persistent_only):
                yield name, value

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """Every buffer (persistent or not) with its dotted path, each once, in a fixed order."""
        seen: set[Tensor] = set()
        for path, module in self.named_modules():
            for name, value in module._own_buffers():
                if value not in seen:
                    seen.add(value)
                    yield (f"{path}.{name}" if path else name), value

    def buffers(self) -> list[Tensor]:
        return [b for _, b in self.named_buffers()]

    def _named_state(self) -> Iterator[tuple[str, Tensor]]:
        """What ``state_dict`` holds: module by module (preorder), its parameters then its
        persistent buffers, as PyTorch orders them. Each tensor once."""
        seen: set[Tensor] = set()
        for path, module in self.named_modules():
            own: list[tuple[str, Tensor]] = [(n, v) for n, v in module._members() if isinstance(v, Parameter)]
            own += list(module._own_buffers(persistent_only=True))
            for name, value in own:
                if value not in seen:
                    seen.add(value)
                    yield (f"{path}.{name}" if path else name), value

    # ------------------------------------------------------------------ the whole tree at once

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children before their parent, as PyTorch), each
        once, then on this module; returns self. ``model.apply(init_weights)``."""
        seen: set[Module] = {self}

        def visit(module: Module) -> None:
            for child in module.children():
                if child not in seen:
                    seen.add(child)
                    visit(child)
            fn(module)

        visit(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (False freezes them); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, dtype: Any = None, *args: Any, **kwargs: Any) -> Module:
        """Cast every parameter (and its grad) and every floating-point buffer to ``dtype``,
        in place: the same Parameter objects (an optimizer's references stay valid) hold
        new arrays. Integer buffers (``num_batches_tracked``) keep their dtype. Returns self.
        ``to("cpu")`` is the module itself (everything is there); another device raises.
        """
        if dtype is None or args or kwargs.keys() - {"non_blocking"}:
            refuse_to(dtype, args, kwargs)  # PyTorch's to(device=), to(dtype=), to(device, dtype)
        if is_cpu(dtype):
            return self
        try:
            target = np.dtype(dtype)
        except TypeError:
            target = None
        if target is None or target.kind != "f":
            raise TypeError(
                f"to: expected a floating-point dtype (np.float32, np.float64), got {dtype!r}; "
                "this library runs on the CPU only, so there is no device to move to"
            )
        for p in self.parameters():
            if p.dtype != target:
                p.data = p.data.astype(target)
            if p.grad is not None and p.grad.dtype != target:
                p.grad = Tensor._make(np.asarray(p.grad.data).astype(target))
        for b in self.buffers():
            if b.dtype.kind == "f" and b.dtype != target:
                b.data = np.asarray(b.data).astype(target)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: set it to None (as PyTorch does by default), or
        with ``set_to_none=False`` fill the gradients that exist with zeros (as PyTorch's)."""
        zero_grads(self.parameters(), set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every submodule (Dropout and BatchNorm read it)."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """``train(False)``: Dropout becomes the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    # ------------------------------------------------------------------ saving and loading

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's and persistent buffer's values, keyed by dotted path."""
        return {name: np.array(t.data) for name, t in self._named_state()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values into the parameters and persistent buffers. Every problem is found
        before anything changes.

        Raises ValueError naming each missing or unexpected key (with ``strict``) and each
        value of the wrong shape, a non-numeric one, or a fractional one for an integer buffer.
        Values are cast to each tensor's own dtype.
        """
        targets = dict(self._named_state())
        problems = []
        if strict:
            missing = [k for k in targets if k not in state]
            unexpected = [k for k in state if k not in targets]
            if missing:
                problems.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                problems.append(f"unexpected keys: {', '.join(unexpected)}")
        values = {}
        for name, t in targets.items():
            if name not in state:
                continue
            value = np.asarray(state[name])
            if value.dtype.kind not in "fiub":
                problems.append(f"{name}: values of dtype {value.dtype} are not numbers")
            elif value.shape != t.shape:
                problems.append(f"{name}: shape {value.shape} in the state, {t.shape} in the model")
            elif t.dtype.kind in "iub" and value.dtype.kind == "f":
                problems.append(f"{name}: values of dtype {value.dtype} for a buffer of dtype {t.dtype}")
            else:
                values[name] = value
        if problems:
            listed = "; ".join(problems)
            raise ValueError(f"load_state_dict for {type(self).__name__}: {listed}; nothing was loaded")
        with no_grad():
            for name, value in values.items():
                targets[name].copy_(value)

    # ------------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The arguments shown after the class name, e.g. ``in_features=2, out_features=3``."""
        return ""

    def __dir__(self) -> list[str]:
        return dir_without_torch_names(self)

    def __repr__(self) -> str:
        children = [(name, value) for name, value in self._members() if isinstance(value, Module)]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


# name -> what PyTorch's Module method is here (docs/api.md, "PyTorch names not defined here").
# Reading one raises AttributeError with that hint: hasattr(model, "cuda") stays False.
TORCH_NAMES = {
    "cuda": "model.cuda() has no counterpart here: parameters are numpy arrays on the CPU; drop it",
    "cpu": "model.cpu() is the model itself here (everything is on the CPU): drop it",
    "float": "model.float() is model.to(np.float32) here",
    "double": "model.double() is model.to(np.float64) here",
    "register_parameter": "model.register_parameter(name, p) is setattr(model, name, p) here (assigning registers it)",
    "add_module": "model.add_module(name, m) is setattr(model, name, m) here (assigning registers it)",
    "register_forward_hook": "model.register_forward_hook(f) has no counterpart here: there are no hooks",
}

refuse_torch_names(Module, TORCH_NAMES)
