"""Function and Context: the one pattern every op uses.

An op is a subclass of :class:`Function` with two static methods side by side::

    class Mul(Function):
        '''c = a * b;  dc/da = b,  dc/db = a'''

        @staticmethod
        def forward(ctx, a, b):          # Tensors in, a numpy array out
            ctx.save_for_backward(a, b)
            return a.data * b.data

        @staticmethod
        def backward(ctx, grad):         # dL/dc in, (dL/da, dL/db) out
            a, b = ctx.saved_tensors
            return grad * b, grad * a

``Mul.apply(a, b)`` runs ``forward`` and, when some input requires grad and grad mode
is on, records the :class:`Context` as the output's ``grad_fn``: a node of the graph.
``backward`` is written with Tensor operations, so with ``create_graph=True`` the
gradient is itself recorded and can be differentiated again.

Gradients may come back in the broadcast shape of the output: the engine sums them
back to each input's shape in one place (``engine.unbroadcast``).
"""

from __future__ import annotations

import functools
import os
import threading
import traceback
import weakref
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import numpy as np

if TYPE_CHECKING:  # for type hints only; at run time tensor.py hands its class over below
    from .tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])


# ----------------------------------------------------------------------------- grad mode


class _GradMode(threading.local):
    """Per-thread switches: does an op record the graph (on by default), and is
    ``detect_anomaly`` checking every value (off by default)."""

    enabled: bool = True
    anomaly: bool = False
    in_backward: bool = False  # set by the engine while it runs backward formulas


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when ops record the graph in this thread."""
    return _mode.enabled


def set_in_backward(flag: bool) -> bool:
    """Mark that the engine is running backward formulas (anomaly checks name the op then)."""
    previous = _mode.in_backward
    _mode.in_backward = flag
    return previous


def set_grad_enabled(enabled: bool) -> bool:
    """Turn recording on or off in this thread; returns the previous setting (to restore it)."""
    previous = _mode.enabled
    _mode.enabled = enabled
    return previous


class _Switch:
    """Context manager and decorator: set one of this thread's switches for a block, then
    restore it. Subclasses name the switch and the value."""

    switch: str
    value: bool

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(getattr(_mode, self.switch))
        setattr(_mode, self.switch, self.value)

    def __exit__(self, *exc_info: object) -> None:
        setattr(_mode, self.switch, self._previous.pop())

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_Switch):
    """Ops inside record no graph: ``with no_grad(): ...`` or ``@no_grad()`` (thread-local)."""

    switch, value = "enabled", False


class enable_grad(_Switch):
    """Turn recording back on inside a ``no_grad`` block (thread-local)."""

    switch, value = "enabled", True


# ----------------------------------------------------------------------------- versions


# In-place changes are counted per block of memory, not per tensor: x, x.reshape(...), x[0],
# x.T and x.detach() all share x's memory, so a change through any of them is a change of
# all. A block is named by the array that owns it; the count lives here until that array
# is freed (weakref.finalize drops it then, so a recycled id() never inherits a count).
_changes: dict[int, int] = {}


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (itself, unless it is a view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def version_of(array: np.ndarray) -> int:
    """How many in-place changes the memory under ``array`` has seen."""
    return _changes.get(id(_owner(array)), 0)


def bump_version(array: np.ndarray) -> None:
    """Count one in-place change of the memory under ``array``."""
    owner = _owner(array)
    key = id(owner)
    if key not in _changes:
        weakref.finalize(owner, _changes.pop, key, None)
    _changes[key] = _changes.get(key, 0) + 1


# ----------------------------------------------------------------------------- the graph node


class Context:
    """A node of the graph: one op's record, and the ``ctx`` its forward and backward share.

    ``inputs[i]`` is where input ``i`` came from: the Context of the op that made it, or
    the tensor itself when it is a leaf (or a constant), or the plain value (an axis, a
    shape). ``shape`` and ``dtype`` describe the op's output. Ops may set any other
    attribute they need in backward (``ctx.axis = axis``).
    """

    # Defaults live on the class, so making a Context (once per op) sets nothing.
    fn: type[Function]
    inputs: tuple[Any, ...] = ()
    needs_input_grad: tuple[bool, ...] = ()
    shape: tuple[int, ...] = ()
    dtype: np.dtype
    _output: Tensor | None = None  # see the ``output`` property
    _output_version: int = 0
    out_ref: weakref.ref[Tensor] | None = None  # the output tensor, while something else keeps it
    released: bool = False  # True once backward freed what forward saved
    retained: weakref.ref[Tensor] | None = None  # set by Tensor.retain_grad()
    _saved: tuple[Tensor, ...] = ()
    _versions: tuple[int, ...] = ()
    created_at: list[str] | None = None  # where in your code, under detect_anomaly()

    def save_for_backward(self, *tensors: Tensor) -> None:
        """Keep these tensors for backward; the engine drops them after it (see ``retain_graph``).

        Each tensor's version is noted: if it is changed in place before backward (an
        optimizer step, say), backward raises instead of using the new values.
        """
        if self.needs_input_grad:  # recording; under no_grad there is no backward to save for
            self._saved = tensors
            self._versions = tuple([version_of(t.data) for t in tensors])

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        if self.released:
            raise RuntimeError(self.released_message())
        for i, (t, version) in enumerate(zip(self._saved, self._versions)):
            if version_of(t.data) != version:
                raise RuntimeError(self._modified_message(f"saved tensor {i}", t, version))
        return self._saved

    @property
    def output(self) -> Tensor:
        """The op's output, for ops with ``save_output = True`` (checked like saved tensors)."""
        if self.released:
            raise RuntimeError(self.released_message())
        out = self._output
        if version_of(out.data) != self._output_version:
            raise RuntimeError(self._modified_message("its output", out, self._output_version))
        return out

    def _modified_message(self, what: str, t: Tensor, version: int) -> str:
        label = f" {t.name!r}" if t.name else ""
        return (
            f"{self.name}.backward: {what}{label} of shape {t.shape} was modified in place "
            f"after the forward pass saved it (version {version_of(t.data)}, saved at version "
            f"{version}), so the gradient would be computed from the wrong values. Call "
            "backward() before changing it (e.g. before optimizer.step()), or recompute the "
            "forward pass after the change."
        )

    def release(self) -> None:
        """Free what forward saved; a later backward through this node raises."""
        self._saved = ()
        self._output = None
        self.released = True

    def released_message(self) -> str:
        return (
            f"backward through {self.name} a second time: its saved tensors were freed by the "
            "first backward(). Call the first backward(retain_graph=True) (or autograd.grad("
            "..., retain_graph=True)) to backward through the same graph again, or recompute "
            "the forward."
        )

    @property
    def name(self) -> str:
        return self.fn.__name__

    def __repr__(self) -> str:
        return f"<{self.name}>"


# ----------------------------------------------------------------------------- Function


class Function:
    """Base class of every op, built-in or yours: define ``forward`` and ``backward``.

    ``forward(ctx, *args)`` gets the Tensors (and any plain values) passed to ``apply``
    and returns a numpy array. ``backward(ctx, grad)`` gets dL/d(output) as a Tensor and
    returns one gradient per argument of forward (``None`` for plain values or inputs
    that need none; ``ctx.needs_input_grad[i]`` says which do). Set ``save_output = True``
    to find the output Tensor as ``ctx.output`` in backward (``exp`` reuses it).
    """

    save_output: bool = False

    @staticmethod
    def forward(ctx: Context, *args: Any) -> np.ndarray:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor | None | tuple[Tensor | None, ...]:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run forward; if grad mode is on and an input requires grad, record the node."""
        tensor = _tensor_class
        mode = _mode
        ctx = Context()
        record = False
        if mode.enabled:
            needs = tuple([isinstance(a, tensor) and a.requires_grad for a in args])
            if True in needs:
                record = True
                ctx.needs_input_grad = needs
        try:
            data = cls.forward(ctx, *args)
        except (ValueError, IndexError) as err:
            raise _op_error(cls, args, err) from err
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # numpy gives scalars, not 0-d arrays, for 0-d results
        if mode.anomaly and not mode.in_backward:  # your forward code (backward checks its own)
            ctx.fn = cls
            ctx.created_at = _user_stack()
            check_finite(data, ctx, "forward")
        out = tensor._make(data)
        if record:
            ctx.fn = cls
            ctx.inputs = tuple(
                [a.grad_fn if isinstance(a, tensor) and a.grad_fn is not None else a for a in args]
            )
            ctx.shape = data.shape
            ctx.dtype = data.dtype
            ctx.out_ref = weakref.ref(out)
            if cls.save_output:
                ctx._output = out
                ctx._output_version = version_of(data)
            out.grad_fn = ctx
            out.requires_grad = True
        return out


# ----------------------------------------------------------------------------- anomaly detection


class detect_anomaly(_Switch):
    """Inside this block, the first op whose forward or backward makes a NaN or Inf raises.

    The error names the op and shows where in your code it was created. Checking every
    value costs time: use it to find a problem, not in normal training. Thread-local; also
    a decorator (``@detect_anomaly()``).
    """

    switch, value = "anomaly", True


def is_anomaly_enabled() -> bool:
    return _mode.anomaly


def _user_stack() -> list[str]:
    """The call stack outside autograd's own files, formatted, innermost last."""
    here = os.path.dirname(os.path.abspath(__file__))
    frames = [f for f in traceback.extract_stack()[:-2] if not os.path.abspath(f.filename).startswith(here)]
    return traceback.format_list(frames[-6:])


def check_finite(data: np.ndarray, ctx: Context, phase: str) -> None:
    """Raise (under detect_anomaly) if ``data`` holds a NaN or an Inf."""
    if data.dtype.kind in "fc" and not np.isfinite(data).all():
        what = "NaN" if np.isnan(data).any() else "Inf"
        where = "".join(ctx.created_at or ["  (not recorded: the op was created outside detect_anomaly)\n"])
        raise FloatingPointError(
            f"detect_anomaly: {ctx.name}'s {phase} produced {what} (shape {data.shape}). "
            f"The op was created here:\n{where}"
        )


def _op_error(cls: type, args: tuple[Any, ...], err: Exception) -> Exception:
    """Re-raise a numpy error from ``cls.forward`` with the op's name and its input shapes."""
    shapes = ", ".join(str(a.shape) for a in args if isinstance(a, _tensor_class))
    kind = IndexError if isinstance(err, IndexError) and not isinstance(err, ValueError) else ValueError
    return kind(f"{cls.__name__.lower()}: {err} (input shapes: {shapes})")


# Function.apply wraps every result in a Tensor, and Tensor's operators call the ops built
# on Function. To keep the imports one-way (tensor.py -> ops.py -> function.py), tensor.py
# hands its class to this module once, right after defining it.
_tensor_class: Any = None


def set_tensor_class(cls: type) -> None:
    global _tensor_class
    _tensor_class = cls


def is_tensor(value: Any) -> bool:
    """True for a Tensor (or a subclass such as nn.Parameter)."""
    return isinstance(value, _tensor_class)


def as_tensor(value: Any, like: Tensor | None = None, op: str = "tensor") -> Tensor:
    """``value`` as a Tensor (no copy); a Python number takes ``like``'s float dtype, as in numpy."""
    tensor = _tensor_class
    if isinstance(value, tensor):
        return value
    if isinstance(value, (int, float, bool)) and like is not None and like.dtype.kind == "f":
        return tensor._make(np.asarray(value, dtype=like.dtype))
    if isinstance(value, (int, float, bool, np.ndarray, np.generic, list, tuple)):
        data = np.asarray(value)
        if data.dtype == object:
            raise TypeError(f"{op}: cannot use {value!r} as an operand: it is not numeric")
        return tensor._make(data)
    raise TypeError(
        f"{op}: unsupported operand type {type(value).__name__}; use a Tensor, a numpy array "
        "or a Python number"
    )
