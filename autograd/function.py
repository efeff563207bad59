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

One formula, two ways to run it. ``backward`` is written with operations that numpy
arrays and Tensors share (``grad * b``, ``grad @ b.T``, ``np.exp(x)``, ``np.where(m, g, 0)``).
In a plain ``backward()`` the engine hands it numpy arrays (``grad``, ``ctx.saved_tensors``,
``ctx.output``): nothing is recorded, it runs at numpy's speed. Under
``create_graph=True`` it hands Tensors, and the same line records itself, so the gradient
can be differentiated again.

Gradients may come back in the broadcast shape of the output: the engine sums them
back to each input's shape in one place (``engine.sum_to``).
"""

from __future__ import annotations

import operator
import os
import re
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .mode import mode

Axis = int | tuple[int, ...] | None  # an ``axis`` argument: one axis, several, or all (None)
Grad = Any  # a gradient in backward: a numpy array in a plain backward, a Tensor under create_graph

if TYPE_CHECKING:  # for type hints only; at run time tensor.py hands its class over below
    from .tensor import Tensor

# ----------------------------------------------------------------------------- versions

# In-place changes are counted per block of memory, not per tensor: x, x.reshape(...), x[0],
# x.T and x.detach() all share x's memory, so a change through any of them is a change of
# all. A block is named by the array that owns it. For each block that was ever changed,
# ``_changes`` holds [how many changes, the tick of the last one] until that array is freed
# (weakref.finalize drops it then, so a recycled id() never inherits a count).
#
# Every change takes the next tick of one global clock. A node notes the clock when it saves
# tensors; if the clock has not moved by backward time (the usual case), nothing saved can
# have changed and backward checks nothing. Saving is O(1); checking is O(1) until some
# in-place change happens somewhere.
_changes: dict[int, list[int]] = {}
_clock = 0  # tick of the latest in-place change anywhere: only ever grows
_clock_lock = threading.Lock()  # so that concurrent changes in threads keep it growing


def _owner(array: Any) -> Any:
    """The array that owns ``array``'s memory (itself, unless it is a view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def version_of(array: np.ndarray) -> int:
    """How many in-place changes the memory under ``array`` has seen."""
    entry = _changes.get(id(_owner(array)))
    return 0 if entry is None else entry[0]


def _changed_since(array: np.ndarray, tick: int) -> bool:
    """True if the memory under ``array`` was changed in place after clock tick ``tick``."""
    entry = _changes.get(id(_owner(array)))
    return entry is not None and entry[1] > tick


def bump_version(array: np.ndarray) -> None:
    """Count one in-place change of the memory under ``array``."""
    global _clock
    owner = _owner(array)
    key = id(owner)
    with _clock_lock:
        tick = _clock + 1
        entry = _changes.get(key)
        if entry is None:
            weakref.finalize(owner, _changes.pop, key, None)
            _changes[key] = [1, tick]
        else:
            entry[0] += 1
            entry[1] = tick
        _clock = tick


# ----------------------------------------------------------------------------- the graph node


class Context:
    """A node of the graph: one op's record, and the ``ctx`` its forward and backward share.

    ``inputs[i]`` is where input ``i`` came from: the Context of the op that made it, or
    the tensor itself when it is a leaf (or a constant), or the plain value (an axis, a
    shape). ``shape`` and ``dtype`` describe the op's output. Ops may set any other
    attribute they need in backward (``ctx.axis = axis``).
    """

    # What every recorded op sets lives in slots; what only some set (an op's own attributes,
    # the rare flags below) goes to the instance dict, with the class's defaults until then.
    __slots__ = ("fn", "inputs", "needs_input_grad", "shape", "dtype", "_saved", "_clock", "_output", "__dict__")

    fn: type[Function]
    inputs: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    _saved: tuple[Any, ...] | None  # what save_for_backward kept; None once released
    _output: Any  # the output's array, for ops with save_output
    retained: weakref.ref[Tensor] | None = None  # set by Tensor.retain_grad()
    output_name: str | None = None  # the output tensor's name, kept when the tensor is gone
    created_at: list[str] | None = None  # where in your code, under detect_anomaly()

    # What the library's ops keep between forward and backward, declared so that a type checker
    # knows them (a misspelt ``ctx.axsi`` is an error). They live in the instance dict: each op
    # sets the few it needs. Where two ops use a name differently, its type is Any. (Your own
    # Function may set any other name; annotate its ``ctx`` as ``Any`` for mypy, as in PyTorch.)
    in_shape: tuple[int, ...]  # the input's shape, to shape the gradient back
    in_dtype: np.dtype
    source_shape: tuple[int, ...]
    moved_shape: tuple[int, ...]
    v_shape: tuple[int, ...]
    shapes: list[tuple[int, ...]]
    target_ndim: int
    axis: Any  # an int, a tuple of ints or None, as the op was given it
    axes: Any  # a tuple of ints (None for a reversing transpose)
    inverse: tuple[int, ...]  # the inverse permutation
    keepdims: bool
    kept: Any  # reductions: the shape with reduced axes kept as 1; setitem: a mask or None
    index: Any  # an index as numpy takes it (ints, slices, arrays)
    bounds: Any  # split's cut points
    grouped: tuple[int, ...]
    uniform: int | None
    shift: Any
    k: int
    pad_width: tuple[tuple[int, int], ...]
    mode: str
    count: int
    scale: Any
    p: Any  # norm's order
    # masks and factors saved by forward (numpy arrays)
    mask: np.ndarray
    cond: np.ndarray
    inside: np.ndarray
    positive: np.ndarray
    negative: np.ndarray
    linear: np.ndarray
    untouched: np.ndarray
    zero: np.ndarray
    x_zero: np.ndarray
    first: np.ndarray
    divisible: np.ndarray
    share: np.ndarray
    share_a: np.ndarray
    sign: np.ndarray
    # activations' constants
    alpha: float
    beta: float
    slope: float
    approximate: str
    # einsum
    terms: list[str]
    output_letters: str
    optimize: Any
    sizes: dict[str, int]
    # conv and pools: the window geometry (ops.conv.Window), the argmax taps, the divisors
    window: Any
    tap: Any
    divisor: Any
    entry: Any  # compile's cached program (compile._Entry)
    op_name: str  # engine.OnceDifferentiated: the op whose once_differentiable backward made it

    def save_for_backward(self, *tensors: Tensor) -> None:
        """Keep these tensors for backward; the engine drops them after it (see ``retain_graph``).

        If one is changed in place before backward (an optimizer step, say), backward
        raises instead of using the new values.
        """
        if self.needs_input_grad:  # recording; under no_grad there is no backward to save for
            self._saved = tensors
            self._clock = _clock

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """What forward saved: numpy arrays in a plain backward, Tensors under create_graph."""
        try:
            saved = self._saved
        except AttributeError:
            return ()
        if saved is None:
            raise RuntimeError(self.released_message())
        if _clock != self._clock:  # something, somewhere, changed in place since forward
            for i, t in enumerate(saved):
                if _changed_since(t.data, self._clock):
                    raise RuntimeError(self._modified_message(f"saved tensor {i}", t.data, t.name))
        if not mode.enabled:
            return tuple(map(_data_of, saved))
        if self.fn._trusted:
            return saved
        return tuple([_guard(t, _read_message(self.fn)) for t in saved])

    @property
    def output(self) -> Any:
        """The op's output, for ops with ``save_output = True`` (checked like saved tensors):
        its array in a plain backward, a Tensor on this node under create_graph."""
        try:
            out = self._output  # read once: another thread's backward may free it meanwhile
        except AttributeError:
            raise RuntimeError(f"{self.name}: ctx.output needs save_output = True on the Function") from None
        if out is None:
            raise RuntimeError(self.released_message())
        if _clock != self._clock and _changed_since(out, self._clock):
            raise RuntimeError(self._modified_message("its output", out, self.output_name))
        if not mode.enabled:
            return out
        t = _tensor_class._make(out)  # a new Tensor for the same graph node: no reference cycle
        t.grad_fn = self
        t.requires_grad = True
        return t if self.fn._trusted else _guard(t, _read_message(self.fn))

    def _modified_message(self, what: str, array: np.ndarray, name: str | None) -> str:
        label = f" {name!r}" if name else ""
        return (
            f"{self.name}.backward: {what}{label} of shape {np.shape(array)} was modified in place "
            f"after the forward pass saved it (it is now at version {version_of(array)}), so the "
            "gradient would be computed from the wrong values. Call backward() before changing "
            "it (e.g. before optimizer.step()), or recompute the forward pass after the change."
        )

    @property
    def released(self) -> bool:
        """True once backward freed what forward saved (a second backward through it raises)."""
        try:
            return self._saved is None
        except AttributeError:
            return False

    def release(self) -> None:
        """Free what forward saved; a later backward through this node raises."""
        self._saved = None
        self._output = None

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
    and returns a numpy array. ``backward(ctx, grad)`` gets dL/d(output) and returns one
    gradient per argument of forward (``None`` for plain values or inputs that need none;
    ``ctx.needs_input_grad[i]`` says which do). Set ``save_output = True`` to find the
    output as ``ctx.output`` in backward (``exp`` reuses it).

    Write backward with operations that numpy arrays and Tensors share: it receives arrays
    in a plain ``backward()`` and Tensors under ``create_graph=True`` (see the module's
    docstring). A backward that cannot be written so (it calls numpy on ``.data``, or
    returns arrays) can be marked ``@once_differentiable``: it then always gets arrays, and
    differentiating its result again raises instead of giving a wrong answer.
    """

    save_output: bool = False
    _trusted: bool = False  # the library's own ops: their backward never reads .data

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._trusted = cls.__module__.split(".")[0] in ("autograd", "nn")

    @staticmethod
    def forward(ctx: Context, *args: Any) -> np.ndarray:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run forward; if grad mode is on and an input requires grad, record the node."""
        tensor = _tensor_class
        m = mode
        enabled = m.enabled
        ctx = _new_context(Context)
        record = False
        if enabled:
            if enabled is _GUARDED:  # guarded tensors may be about: ops use what they stand for
                args = tuple([a._inner if type(a) is _guard_class else a for a in args])
            if len(args) == 2 and isinstance(args[0], tensor) and isinstance(args[1], tensor):
                a, b = args  # the common case (a * b, a @ b), without building lists
                record = a.requires_grad or b.requires_grad
                if record:
                    ctx.needs_input_grad = (a.requires_grad, b.requires_grad)
                    inputs = (a if a.grad_fn is None else a.grad_fn, b if b.grad_fn is None else b.grad_fn)
                else:
                    ctx.needs_input_grad = ()
            else:
                needs = []
                sources = []  # where each argument comes from: a node, a leaf, a plain value
                for a in args:  # one pass; a loop, since a comprehension costs a call in Python 3.11
                    if isinstance(a, tensor):
                        if a.requires_grad:
                            record = True
                            needs.append(True)
                        else:
                            needs.append(False)
                        node = a.grad_fn
                        sources.append(a if node is None else node)
                    else:
                        needs.append(False)
                        sources.append(a)
                ctx.needs_input_grad = tuple(needs) if record else ()
                inputs = tuple(sources)
        else:
            ctx.needs_input_grad = ()
            if m.watching and m.tracer is not None:  # compile traces under no_grad: unwrap guards too
                args = tuple([a._inner if type(a) is _guard_class else a for a in args])
        try:
            data = cls.forward(ctx, *args)
        except (ValueError, IndexError) as err:
            raise _op_error(cls, args, err) from err
        if type(data) is not np.ndarray and not isinstance(data, np.generic):
            data = np.asarray(data)  # (a 0-d result stays a numpy scalar: 10x quicker arithmetic)
        out = _new_tensor(tensor)
        out.data = data
        out._grad = out._name = None
        if record:
            ctx.fn = cls
            ctx.inputs = inputs
            ctx.shape = data.shape
            ctx.dtype = data.dtype
            if cls.save_output:
                ctx._output = data
                ctx._clock = _clock
            out.grad_fn = ctx
            out.requires_grad = True
        else:
            out.grad_fn = None
            out.requires_grad = False
        if m.watching:  # detect_anomaly or autograd.compile's tracer
            if m.anomaly and not m.in_backward:  # your forward code (backward checks its own)
                ctx.fn = cls
                ctx.created_at = _user_stack()
                check_finite(data, ctx, "forward")
            if m.tracer is not None:  # compile sees every op, recorded or not
                m.tracer.record(cls, args, ctx, out)
        return out


_new_context = object.__new__
_data_of = operator.attrgetter("data")
_new_tensor = object.__new__

# ``mode.enabled`` is True/False, or this value while the engine runs a create_graph backward
# or autograd.compile traces a function: truthy, so ops record, and it tells apply that
# guarded tensors (see ``_guard``) may be among the arguments.
_GUARDED = 2


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a Function's backward as first-order only (as PyTorch's ``once_differentiable``).

    Put it under ``@staticmethod``. The engine then always runs it on arrays; under
    ``create_graph=True`` its results are gradients that raise, naming the op, if anything
    tries to differentiate through them.
    """
    backward.once_differentiable = True  # type: ignore[attr-defined]
    return backward


# ----------------------------------------------------------------------------- anomaly detection


def _user_stack() -> list[str]:
    """The call stack outside autograd's own files, formatted, innermost last."""
    here = os.path.dirname(os.path.abspath(__file__))
    frames = [f for f in traceback.extract_stack()[:-2] if not os.path.abspath(f.filename).startswith(here)]
    return traceback.format_list(frames[-6:])


def check_finite(data: Any, ctx: Context, phase: str) -> None:
    """Raise (under detect_anomaly) if ``data`` holds a NaN or an Inf."""
    data = np.asarray(data)
    if data.dtype.kind in "fc" and not np.isfinite(data).all():
        what = "NaN" if np.isnan(data).any() else "Inf"
        where = "".join(ctx.created_at or ["  (not recorded: the op was created outside detect_anomaly)\n"])
        raise FloatingPointError(
            f"detect_anomaly: {ctx.name}'s {phase} produced {what} (shape {data.shape}). "
            f"The op was created here:\n{where}"
        )


# How errors name an op: its class name in snake case (LogSoftmax -> log_softmax), except these
_ERROR_NAMES = {"GetItem": "getitem", "SetItem": "setitem", "MatMul": "matmul", "LogSumExp": "logsumexp"}


def _op_error(cls: type[Function], args: tuple[Any, ...], err: Exception) -> Exception:
    """Re-raise a numpy error from ``cls.forward`` with the op's name and its input shapes."""
    shapes = ", ".join(str(a.shape) for a in args if isinstance(a, _tensor_class))
    kind = IndexError if isinstance(err, IndexError) and not isinstance(err, ValueError) else ValueError
    if cls._trusted and re.match(r"[a-z_0-9]+: ", str(err)):
        return kind(str(err))  # the op's own message, which names it already
    name = _ERROR_NAMES.get(cls.__name__) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls.__name__).lower()
    return kind(f"{name}: {err} (input shapes: {shapes})")


# Function.apply wraps every result in a Tensor, and Tensor's operators call the ops built
# on Function. To keep the imports one-way (tensor.py -> ops.py -> function.py), tensor.py
# hands its classes to this module once, right after defining them.
_tensor_class: Any = None
_guard_class: Any = None
_sym_class: Any = None  # autograd.compile's traced arrays, once compile is imported


def set_tensor_class(cls: type, guard: type) -> None:
    global _tensor_class, _guard_class
    _tensor_class = cls
    _guard_class = guard


def _guard(t: Tensor, message: str) -> Tensor:
    """``t`` as your Function's backward sees it under create_graph (or a compiled function
    while it is traced): every op works on it, but reading its values (``.data``,
    ``np.asarray``, ``.item()``) raises ``message``: code that computes on values would give a
    second derivative (or compiled code) that is silently wrong."""
    g = _new_tensor(_guard_class)
    g._inner = t
    g._message = message
    return g


def _read_message(fn: type) -> str:
    return (
        f"{fn.__name__}.backward read the values of a tensor (.data, np.asarray, .item() or "
        ".numpy()) under create_graph=True: its result could not be differentiated again, and the "
        "second derivative would be wrong. Write the formula with operations on the tensor itself "
        "(np.cos(x), not np.cos(x.data)), or mark the backward @autograd.once_differentiable if "
        "it is first-order only."
    )


def value_of(t: Any) -> Any:
    """The array of a Tensor, also of a guarded one (for indices and masks, which have no gradient)."""
    return t._inner.data if type(t) is _guard_class else t.data


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
        if data.dtype.kind not in "biuf":
            raise TypeError(
                f"{op}: cannot use {type(value).__name__} of dtype {data.dtype} as an operand: a Tensor "
                "holds real numbers (bool, int or float) only; complex numbers, strings and objects are refused"
            )
        return tensor._make(data)
    raise TypeError(
        f"{op}: unsupported operand type {type(value).__name__}; use a Tensor, a numpy array or a Python number"
    )


# PyTorch spells some keywords differently. This library keeps numpy's spelling (one name
# per argument) and refuses PyTorch's with the name to write instead, rather than accepting
# an alias that would look right but differ (PyTorch's ``var(dim=...)`` divides by n - 1 and
# its ``max(dim=...)`` returns indices too).
TORCH_SPELLINGS = {
    "dim": "axis=",
    "keepdim": "keepdims=",
    "correction": "ddof= (numpy's default is ddof=0, PyTorch's correction=1: write ddof=1 for its result)",
    "unbiased": "ddof=1 for unbiased=True, ddof=0 for unbiased=False",
    "input": "the tensor as the first positional argument",
    "dims": "axes= (or axis=)",
    "start_dim": "start_axis=",
    "end_dim": "end_axis=",
    "end": "stop=",
}

# PyTorch keywords that numpy has no spelling for: what to do instead.
TORCH_ONLY_KEYWORDS = {
    "inplace": "in-place is not supported here (no op changes its input): drop inplace=, the result is the same",
    "gradient": "write grad= here (or give the gradient positionally: backward(g))",
    "inputs": (
        "backward() fills .grad on every leaf that requires grad; for the gradients of some inputs "
        "only, write autograd.grad(loss, inputs) here (it returns them and leaves .grad alone)"
    ),
    "device": "there are no devices here (numpy on the CPU): drop device=",
}


def refuse_torch_keywords(op: str, kwargs: dict[str, Any]) -> None:
    """Raise a TypeError naming numpy's spelling for keyword arguments ``op`` does not take.

    Methods that PyTorch users call with ``dim=`` take ``**kwargs`` and pass them here:
    ``x.sum(dim=1)`` raises "sum: dim= is PyTorch's spelling; write axis= here".
    """
    for key in kwargs:
        if key in TORCH_SPELLINGS:
            raise TypeError(f"{op}: {key}= is PyTorch's spelling; write {TORCH_SPELLINGS[key]} here (numpy's)")
        if key in TORCH_ONLY_KEYWORDS:
            raise TypeError(f"{op}: {key}= is PyTorch's; {TORCH_ONLY_KEYWORDS[key]}")
        raise TypeError(f"{op}() got an unexpected keyword argument {key!r}")
