"""``autograd.compile(fn)``: trace once, then run generated straight-line numpy.

The first call for a signature (shapes, dtypes and ``requires_grad`` of the array arguments,
values of the others) runs ``fn`` eagerly while a tracer notes every op, recorded or not.
Then each op's *own* forward and backward are run once more on :class:`Sym` values:
arrays that carry their real value and a name, and write one line of numpy code for every
numpy call made on them. The lines become two Python functions, ``forward`` and
``backward``: the backward you would write by hand, read off the ops' formulas
(``f.source`` shows it). Later calls run those, and their result is a Tensor whose graph
node is one op, whose backward is the generated one: ``loss.backward()`` fills ``.grad``
as eager does.

What is an input: the arguments (Tensors, numpy arrays, including integer labels and masks)
and every leaf tensor ``fn`` reaches (model parameters, closures), whose current ``.data``
each call reads. Numbers and other plain arguments are part of the signature. Arrays that
``fn`` makes itself (``np.arange(n)``) and numbers are constants of the trace.

Never silently wrong: inside ``fn`` the array arguments are Tensors whose values cannot be
read; reading a value (``.item()``, ``bool(t)``, ``float(t)``, ``.numpy()``...) while tracing
raises, since the graph could depend on it. The compiled backward is first order:
``create_graph=True`` through it raises.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import keyword
import re
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from . import function
from .engine import input_grads, topological_order
from .function import _GUARDED, Context, Function, _guard, is_tensor
from .mode import mode

__all__ = ["CompileError", "Compiled", "compile"]


class CompileError(RuntimeError):
    """``fn`` (or one of its ops) cannot be traced into straight-line code."""


# ----------------------------------------------------------------------------- Sym: a traced array

# ufuncs written as Python operators in the generated code
_BINARY = {
    np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/", np.power: "**",
    np.matmul: "@", np.greater: ">", np.greater_equal: ">=", np.less: "<", np.less_equal: "<=",
    np.equal: "==", np.not_equal: "!=", np.bitwise_and: "&", np.bitwise_or: "|", np.bitwise_xor: "^",
}  # fmt: skip
_UNARY = {np.negative: "-", np.positive: "+", np.invert: "~"}


class Sym:
    """An array while ``compile`` writes code: its real ``value`` and its ``name`` there.

    Every numpy operation on a Sym computes the real result (so shapes, dtypes and values are
    exactly eager's) and appends one line to the program being written.
    """

    __slots__ = ("value", "name", "program")
    __array_priority__ = 1000

    def __init__(self, value: Any, name: str | None, program: Program) -> None:
        self.value = value
        self.name = name
        self.program = program

    # what it is: read from the real value, writes no code
    shape = property(lambda self: np.shape(self.value))
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: np.ndim(self.value))
    size = property(lambda self: np.size(self.value))
    base = None

    def __len__(self) -> int:
        return len(self.value)

    # unary operators: numpy's ufuncs (so each is one line, through __array_ufunc__)
    def __neg__(self) -> Any:
        return np.negative(self)

    def __pos__(self) -> Any:
        return np.positive(self)

    def __invert__(self) -> Any:
        return np.invert(self)

    def __abs__(self) -> Any:
        return np.absolute(self)

    # numpy's protocols: every call becomes a line
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or "out" in kwargs:
            raise CompileError(f"np.{ufunc.__name__}.{method}(..., out=...) writes in place, which is not traced")
        value = ufunc(*_values(inputs), **_values(kwargs))
        if ufunc in _BINARY and len(inputs) == 2 and not kwargs:
            expr = ("{} " + _BINARY[ufunc] + " {}", list(inputs))
        elif ufunc in _UNARY and not kwargs:
            expr = (_UNARY[ufunc] + "{}", list(inputs))
        else:
            expr = _call_expr(f"np.{ufunc.__name__}", inputs, kwargs)
        return self.program.emit(value, expr)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        value = func(*_values(args), **_values(kwargs))
        if not isinstance(value, (np.ndarray, np.generic)):  # a shape, a size: plain Python
            if isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value):
                raise CompileError(f"np.{func.__name__} of a traced value gives arrays whose shape depends on data")
            return value
        return self.program.emit(value, _call_expr(f"np.{func.__name__}", args, kwargs))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise CompileError("np.asarray of a traced value: its value would be baked into the code")

    def _method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        value = getattr(self.value, name)(*_values(args), **_values(kwargs))
        return self.program.emit(value, _call_expr("{}." + name, (self, *args), kwargs, receiver=True))

    @property
    def T(self) -> Any:
        return self.program.emit(self.value.T, ("{}.T", [self]))

    def __getitem__(self, index: Any) -> Any:
        for i in index if type(index) is tuple else (index,):
            if type(i) is Sym and i.dtype == bool:
                raise CompileError(
                    "indexing with a boolean mask computed from traced values: the shape depends on data"
                )
        return self.program.emit(self.value[_values(index)], ("{}[{}]", [self, _Index(index)]))

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` as one line of the code (a library helper, not traced into)."""
        name = self.program.constant(fn, fn.__name__.strip("_"), numbered=False)
        return self.program.emit(fn(*_values(args)), _call_expr(name, args, {}))

    def __setitem__(self, index: Any, value: Any) -> None:
        raise CompileError("item assignment on a traced value is not traced")

    def __bool__(self) -> bool:
        raise CompileError("a Python decision on a traced value (if/and/or/bool): the code would depend on data")

    def __float__(self) -> float:
        raise CompileError("float() of a traced value: its value would be baked into the code")

    __int__ = __index__ = __float__

    def __iter__(self) -> Any:
        raise CompileError("iterating over a traced value is not traced; index it instead")

    def __repr__(self) -> str:
        return f"Sym({self.name}, shape={self.shape})"


def _make_operator(ufunc: np.ufunc, reflected: bool) -> Callable[..., Any]:
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


_ufunc: np.ufunc
for _ufunc, _names in (
    (np.add, ("add",)), (np.subtract, ("sub",)), (np.multiply, ("mul",)), (np.true_divide, ("truediv",)),
    (np.power, ("pow",)), (np.matmul, ("matmul",)), (np.bitwise_and, ("and",)), (np.bitwise_or, ("or",)),
    (np.bitwise_xor, ("xor",)),
):  # fmt: skip
    for _name in _names:
        setattr(Sym, f"__{_name}__", _make_operator(_ufunc, False))
        setattr(Sym, f"__r{_name}__", _make_operator(_ufunc, True))
for _ufunc, _name in ((np.greater, "gt"), (np.greater_equal, "ge"), (np.less, "lt"), (np.less_equal, "le"),
                      (np.equal, "eq"), (np.not_equal, "ne")):  # fmt: skip
    setattr(Sym, f"__{_name}__", _make_operator(_ufunc, False))


def _make_method(name: str) -> Callable[..., Any]:
    return lambda self, *args, **kwargs: self._method(name, *args, **kwargs)


# ndarray methods the ops call: each becomes one line (``add0.sum(axis=(0,))``)
for _name in ("sum", "mean", "max", "min", "any", "all", "reshape", "transpose", "swapaxes", "astype", "copy"):
    setattr(Sym, _name, _make_method(_name))
Sym.__hash__ = object.__hash__  # type: ignore[method-assign]


def _values(x: Any) -> Any:
    """``x`` with every Sym in it (also inside tuples, lists, dicts) replaced by its real value."""
    if type(x) is Sym:
        return x.value
    if type(x) in (tuple, list):
        return type(x)(_values(v) for v in x)
    if type(x) is dict:
        return {k: _values(v) for k, v in x.items()}
    return x


class _Index:
    """An index as it is written inside ``[...]``: slices as ``a:b``, tuples without parentheses."""

    def __init__(self, index: Any) -> None:
        self.index = index


def _call_expr(func: str, args: Any, kwargs: dict[str, Any], receiver: bool = False) -> tuple[str, list[Any]]:
    """``func(arg, ..., key=value)`` as a template and its parts (``{}.sum`` for a method)."""
    parts = list(args)
    slots = ["{}"] * len(parts)
    if receiver:
        slots = slots[1:]
    slots += [f"{k}={{}}" for k in kwargs]
    parts += list(kwargs.values())
    return func + "(" + ", ".join(slots) + ")", parts


# ----------------------------------------------------------------------------- the program


class Program:
    """The code being written: lines, the names in use, and the constants it refers to."""

    def __init__(self) -> None:
        self.lines: list[tuple[Sym, str, list[Any], str]] = []  # (target, template, parts, comment)
        self.counts: dict[str, int] = {}
        self.taken: set[str] = {"np"}  # every name given out
        self.constants: dict[str, Any] = {}
        self.constant_ids: dict[int, str] = {}
        self.comment = ""

    def fresh(self, stem: str) -> str:
        """A new name ``<stem><n>`` that nothing in the code uses yet."""
        stem = re.sub(r"\W", "_", stem).strip("_").lower() or "t"
        if stem[0].isdigit() or keyword.iskeyword(stem):
            stem = "v_" + stem
        n = self.counts.get(stem, 0)
        while f"{stem}{n}" in self.taken:
            n += 1
        self.counts[stem] = n + 1
        self.taken.add(f"{stem}{n}")
        return f"{stem}{n}"

    def fresh_input(self, stem: str) -> str:
        """An input's name: as given (``w1``, ``x``) where it is free, numbered otherwise."""
        clean = re.sub(r"\W", "_", stem)
        if clean.isidentifier() and not keyword.iskeyword(clean) and clean not in self.taken:
            self.taken.add(clean)
            return clean
        return self.fresh(stem)

    def emit(self, value: Any, expr: tuple[str, list[Any]]) -> Sym:
        """A new Sym for ``value``, computed by the line ``expr``."""
        sym = Sym(value, None, self)
        template, parts = expr
        self.lines.append((sym, template, parts, self.comment))
        return sym

    def render(self, part: Any) -> str:
        """How a value is written in the code."""
        if type(part) is Sym:
            return _code_name(part)
        if isinstance(part, _Index):
            index = part.index
            items = index if type(index) is tuple else (index,)
            text = ", ".join(self.render_index_item(i) for i in items)
            return text if items else "()"
        if isinstance(part, np.ndarray):
            return self.constant(part)
        if isinstance(part, (tuple, list)):
            inner = ", ".join(self.render(v) for v in part)
            if type(part) is tuple:
                return f"({inner},)" if len(part) == 1 else f"({inner})"
            return f"[{inner}]"
        if isinstance(part, np.dtype):
            return f"np.{part.name}" if hasattr(np, part.name) else f"np.dtype({part.str!r})"
        if isinstance(part, type) and issubclass(part, np.generic):
            return f"np.{part.__name__}"
        if isinstance(part, np.generic):
            return self.render(part.item()) if part.dtype.kind in "biuf" else self.constant(np.asarray(part))
        if isinstance(part, float) and not np.isfinite(part):
            return f"float({str(part)!r})"
        if part is Ellipsis:
            return "..."
        if isinstance(part, (int, float, bool, str, type(None))):
            return repr(part)
        if isinstance(part, slice):
            return f"slice({self.render(part.start)}, {self.render(part.stop)}, {self.render(part.step)})"
        return self.constant(part)

    def render_index_item(self, item: Any) -> str:
        if isinstance(item, slice):
            start, stop, step = ("" if v is None else self.render(v) for v in (item.start, item.stop, item.step))
            return f"{start}:{stop}" + (f":{step}" if step else "")
        return self.render(item)

    def constant(self, value: Any, stem: str = "const", numbered: bool = True) -> str:
        name = self.constant_ids.get(id(value))
        if name is None:
            name = self.constant_ids[id(value)] = self.fresh(stem) if numbered else self.fresh_input(stem)
            self.constants[name] = value
        return name

    def code(self, start: int, stop: int) -> list[str]:
        """Lines ``start:stop`` as code, each with the op it came from."""
        out = []
        for sym, template, parts, comment in self.lines[start:stop]:
            text = f"{sym.name} = " + template.format(*(self.render(p) for p in parts))
            out.append(f"    {text:<44}  # {comment}" if comment else f"    {text}")
        return out


def _code_name(sym: Sym) -> str:
    """A Sym's name in the code (every Sym is named before code is written)."""
    assert sym.name is not None, "a Sym written into the code before it was named"
    return sym.name


def _walk(parts: Any) -> Any:
    for p in parts:
        if isinstance(p, _Index):
            p = p.index
        if type(p) in (tuple, list):
            yield from _walk(p)
        else:
            yield p


# ----------------------------------------------------------------------------- tracing


class Tracer:
    """What ``Function.apply`` reports while ``fn`` runs eagerly: every op, recorded or not."""

    def __init__(self) -> None:
        self.records: list[tuple[type[Function], tuple[Any, ...], Context, Any]] = []

    def record(self, cls: type[Function], args: tuple[Any, ...], ctx: Context, out: Any) -> None:
        self.records.append((cls, args, ctx, out))

    def value_read(self, what: str) -> None:
        """Tensor's value readers (``item``, ``__bool__``...) call this: refuse while tracing."""
        raise CompileError(
            f"autograd.compile: the traced function reads a tensor's value ({what}) at "
            f"{_user_line()}: the ops that follow could depend on it, and the compiled code would "
            "silently reuse this call's value. Compute it outside the compiled function and pass "
            "it as an argument (numbers are part of the signature), or don't compile this function."
        )


_READ_MESSAGE = (
    "autograd.compile: {fn} read the values of its argument {arg} while being traced (.data, "
    "np.asarray, .item(), .numpy()): numpy code on values is not traced, so the compiled code "
    "would silently reuse this call's values. Use Tensor operations on it (they are traced), or "
    "do the computation outside the compiled function and pass the result as an argument."
)


def _user_line() -> str:
    here = __file__.rsplit("/", 1)[0]
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not frame.filename.startswith(here):
            return f"{frame.filename}:{frame.lineno} ({(frame.line or '').strip()})"
    return "an unknown line"


# ----------------------------------------------------------------------------- compiled programs


class _Entry:
    """One traced signature: the generated functions and how to feed them."""

    forward: Callable[..., Any]
    backward: Callable[..., Any] | None
    source: str
    inputs: list[tuple[str, Any]]  # ("arg", position) or ("leaf", tensor), in the order forward takes them
    grad_inputs: list[int]  # which of ``inputs`` get gradients (they require grad), in backward's order
    leaf_specs: list[tuple[Any, tuple[int, ...], Any, bool]]  # (tensor, shape, dtype, requires_grad) to recheck
    structure: Any  # how to rebuild fn's return value from the output arrays
    out_meta: list[tuple[tuple[int, ...], Any, bool]]  # each output's shape, dtype, differentiable
    eager_reason: str | None = None  # set when fn cannot be compiled: run it eagerly


class CompiledOutput(Function):
    """An output of a compiled function: its backward is the generated backward."""

    @staticmethod
    def forward(ctx: Context, *inputs: Any) -> np.ndarray:  # never called: compiled outputs are made directly
        raise RuntimeError("CompiledOutput is made by autograd.compile")

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        if mode.enabled:
            raise RuntimeError(
                "create_graph=True through a compiled function: its generated backward is first "
                "order. Call the function eagerly (without autograd.compile) for higher derivatives."
            )
        _ = ctx.saved_tensors  # the inputs' version check: raises if one was changed in place since
        entry: _Entry = ctx.entry
        seeds = [
            (grad if i == ctx.index else np.zeros(shape, dtype=dtype))
            for i, (shape, dtype, differentiable) in enumerate(entry.out_meta)
            if differentiable
        ]
        assert entry.backward is not None
        return tuple(entry.backward(*seeds, *ctx._output))


class Compiled:
    """``autograd.compile(fn)``: call it like ``fn``; ``source`` is the generated code."""

    def __init__(self, fn: Callable[..., Any], cache_size: int = 8) -> None:
        if not callable(fn):
            raise TypeError(f"autograd.compile: expected a function, got {type(fn).__name__}")
        if cache_size < 1:
            raise ValueError("autograd.compile: cache_size must be at least 1")
        self.fn = fn
        self.cache_size = cache_size
        self.cache: OrderedDict[Any, _Entry] = OrderedDict()
        self.traces = 0  # how many times fn was traced (a new signature, or a leaf that changed)
        self.last: _Entry | None = None
        functools.update_wrapper(self, fn)

    @property
    def source(self) -> str:
        """The code generated for the latest call's signature (empty before the first call)."""
        return self.last.source if self.last is not None else ""

    def __call__(self, *args: Any) -> Any:
        if mode.tracer is not None:  # compiled inside a compiled function: inline it in the trace
            return self.fn(*args)
        key = _signature(args)
        entry = self.cache.get(key)
        if entry is not None and not _leaves_unchanged(entry):
            entry = None
        if entry is None:
            entry, result = self._trace(args)
            self.cache[key] = entry
            if len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)
            self.last = entry
            return result
        self.cache.move_to_end(key)
        self.last = entry
        if entry.eager_reason is not None:
            return self.fn(*args)
        return _run(entry, args)

    def _trace(self, args: tuple[Any, ...]) -> tuple[_Entry, Any]:
        self.traces += 1
        name = getattr(self.fn, "__name__", "fn")
        call_args = []
        for i, a in enumerate(args):
            if is_tensor(a) or isinstance(a, np.ndarray):
                t = a if is_tensor(a) else function._tensor_class._make(a)
                call_args.append(_guard(t, _READ_MESSAGE.format(fn=name, arg=i)))
            else:
                call_args.append(a)
        tracer = Tracer()
        previous = (mode.tracer, mode.enabled)
        mode.tracer = tracer
        mode.enabled = _GUARDED if mode.enabled else False
        mode.refresh()
        try:
            result = self.fn(*call_args)
        finally:
            mode.tracer, mode.enabled = previous
            mode.refresh()
        result = _unguard(result)
        try:
            entry = _build(self.fn, name, args, tracer, result)
        except CompileError as err:
            warnings.warn(f"autograd.compile: {name} runs eagerly: {err}", stacklevel=3)
            entry = _Entry()
            entry.eager_reason = str(err)
            entry.leaf_specs = []
            entry.source = f"# autograd.compile({name}) runs eagerly: {err}\n"
        return entry, result


def compile(fn: Callable[..., Any] | None = None, *, cache_size: int = 8) -> Any:
    """Trace ``fn`` once per signature and run generated numpy code for forward and backward.

    Use as ``f = autograd.compile(fn)`` or ``@autograd.compile``. ``f(*args)`` returns what
    ``fn`` returns; ``loss.backward()`` fills ``.grad`` as eager does. ``f.source`` is the
    generated code. Up to ``cache_size`` signatures are kept (least recently used dropped).
    """
    if fn is None:
        return lambda f: Compiled(f, cache_size)
    return Compiled(fn, cache_size)


def _signature(args: tuple[Any, ...]) -> Any:
    """What decides whether a trace can be reused: array shapes, dtypes, requires_grad; values otherwise.

    The same array passed for two parameters is traced as one input, so which arguments share
    an array is part of the signature too.
    """
    tensor = function._tensor_class
    key: list[Any] = [bool(mode.enabled)]
    firsts: dict[int, int] = {}  # id of an argument's array -> the first position it came in
    for i, a in enumerate(args):
        if isinstance(a, tensor):
            key.append((a.shape, a.dtype, a.requires_grad, firsts.setdefault(id(a.data), i)))
        elif isinstance(a, np.ndarray):
            key.append((a.shape, a.dtype, None, firsts.setdefault(id(a), i)))
        elif isinstance(a, (float, complex)):
            key.append((type(a), repr(a)))  # -0.0 is not 0.0, and nan is nan
        else:
            try:
                hash(a)
            except TypeError:
                raise TypeError(
                    f"autograd.compile: argument {i} is a {type(a).__name__}, which cannot be part of "
                    "a signature; pass Tensors, numpy arrays, numbers, strings or tuples of them"
                ) from None
            key.append((type(a), a))
    return tuple(key)


def _leaves_unchanged(entry: _Entry) -> bool:
    """The leaves fn reached still have the shape, dtype and requires_grad of the trace."""
    for t, shape, dtype, requires_grad in entry.leaf_specs:
        if t.data.shape != shape or t.data.dtype != dtype or t.requires_grad != requires_grad:
            return False
    return True


def _unguard(result: Any) -> Any:
    """``result`` with every guarded argument in it (also in tuples, lists, dicts) as itself."""
    if type(result) is function._guard_class:
        return result._inner
    if type(result) in (tuple, list):
        return type(result)(_unguard(r) for r in result)
    if type(result) is dict:
        return {k: _unguard(v) for k, v in result.items()}
    return result


def _outputs(result: Any) -> tuple[list[Any], Any]:
    """The Tensors in fn's return value, and its structure to rebuild it."""
    if is_tensor(result):
        return [result], None
    if type(result) in (tuple, list) and all(is_tensor(r) for r in result):
        return list(result), (type(result), len(result))
    raise CompileError(
        f"the function returned a {type(result).__name__}; a compiled function returns a Tensor "
        "or a tuple or list of Tensors"
    )


def _parameter_names(fn: Callable[..., Any], n: int) -> list[str]:
    """Names for fn's first ``n`` positional arguments (``arg<i>`` where it has none)."""
    try:
        names = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"arg{i}" for i in range(n)]


def _build(fn: Callable[..., Any], name: str, args: tuple[Any, ...], tracer: Tracer, result: Any) -> _Entry:
    """Write and exec the code for one trace."""
    outputs, structure = _outputs(result)
    program = Program()
    by_tensor: dict[int, Sym] = {}  # id of a traced Tensor -> its Sym
    by_array: dict[int, Sym] = {}  # id of an array a Sym stands for (indices, masks reach ops as arrays)
    keep: list[Any] = []  # keeps every traced object alive while ids are in use
    inputs: list[tuple[str, Any]] = []
    arg_names = _parameter_names(fn, len(args))
    params: list[str] = []
    input_syms: list[Sym] = []
    arg_tensor: dict[int, int] = {}  # id of an argument's Tensor (or array) -> its first position
    for i, a in enumerate(args):
        if is_tensor(a) or isinstance(a, np.ndarray):
            arg_tensor.setdefault(id(a), i)
            arg_tensor.setdefault(id(a.data if is_tensor(a) else a), i)

    def add_input(kind: str, ref: Any, value: Any, stem: str) -> Sym:
        param = program.fresh_input(stem)
        sym = Sym(value, param, program)
        inputs.append((kind, ref))
        params.append(param)
        input_syms.append(sym)
        return sym

    def sym_of_tensor(t: Any) -> Sym:
        sym = by_tensor.get(id(t))
        if sym is None:  # a leaf: an argument, or a tensor fn reached (a parameter, a closure)
            position = arg_tensor.get(id(t), arg_tensor.get(id(t.data)))
            if position is not None:
                sym = add_input("arg", position, t.data, t.name or arg_names[position])
            else:
                sym = add_input("leaf", t, t.data, t.name or "leaf")
            by_tensor[id(t)] = sym
            by_array[id(t.data)] = sym
            keep.append(t)
        return sym

    def plain(value: Any) -> Any:
        """A plain argument with the arrays in it that stand for traced values replaced by Syms."""
        if is_tensor(value):  # a Tensor inside an index (labels): an input or a traced value
            return sym_of_tensor(_unguard(value))
        if isinstance(value, np.ndarray):
            sym = by_array.get(id(value))
            if sym is not None:
                return sym
            position = arg_tensor.get(id(value))
            if position is not None:
                sym = add_input("arg", position, value, arg_names[position])
                by_array[id(value)] = sym
                return sym
            return value  # made inside fn: a constant
        if type(value) in (tuple, list):
            return type(value)(plain(v) for v in value)
        return value

    # Forward: each op's own forward, once more, on Syms.
    nodes = []
    tensor_class = function._tensor_class
    for cls, op_args, ctx, out in tracer.records:
        sym_args = tuple(tensor_class._make(sym_of_tensor(a)) if is_tensor(a) else plain(a) for a in op_args)
        sctx = function._new_context(Context)
        recorded = out.grad_fn is ctx
        sctx.needs_input_grad = ctx.needs_input_grad if recorded else ()
        program.comment = cls.__name__
        start = len(program.lines)
        try:
            produced: Any = cls.forward(sctx, *sym_args)  # on Syms: a Sym, or an array of constants
        except CompileError as err:
            raise CompileError(f"{cls.__name__}.forward: {err}") from err
        if type(produced) is Sym:
            value = produced
        else:  # computed from constants only
            value = program.emit(np.asarray(produced), ("{}", [np.asarray(produced)]))
        if value.name is None:
            value.name = program.fresh(out.name or cls.__name__.lower().removesuffix("scalar"))
        for sym, *_ in program.lines[start:]:
            if sym.name is None:
                sym.name = program.fresh("t")
        by_tensor[id(out)] = value
        by_array[id(out.data)] = value
        keep.append(out)
        if recorded:
            sctx.fn = cls
            sctx.inputs = tuple(a if is_tensor(a) else s for a, s in zip(op_args, sym_args))
            sctx.shape = out.shape
            sctx.dtype = out.dtype
            sctx._clock = function._clock
            if cls.save_output:
                sctx._output = value
            nodes.append((ctx, sctx, out))
    forward_end = len(program.lines)
    out_syms = [sym_of_tensor(t) for t in outputs]

    # Backward: the engine's own chain-rule step (input_grads) on each node, in reverse order.
    differentiable = [t.requires_grad for t in outputs]
    grad_positions = [k for k, (kind, ref) in enumerate(inputs) if _input_tensor(kind, ref, args).requires_grad]
    backward_params: list[str] = []
    pending: dict[int, Any] = {}
    for t, sym, diff in zip(outputs, out_syms, differentiable):
        if diff:
            param = program.fresh_input(f"d_{sym.name}")
            seed = Sym(np.ones(t.shape, t.dtype), param, program)
            backward_params.append(param)
            pending[id(t)] = _accumulate(program, pending.get(id(t)), seed)
    previous = mode.enabled
    mode.enabled = False
    by_node = {id(ctx): (sctx, out) for ctx, sctx, out in nodes}
    order = topological_order([t.grad_fn for t in outputs if t.grad_fn is not None])
    try:
        for sctx, out in (by_node[id(node)] for node in order if id(node) in by_node):
            g = pending.pop(id(out), None)
            if g is None:
                continue
            program.comment = f"{sctx.fn.__name__} backward"
            start = len(program.lines)
            try:
                sent = input_grads(sctx, g)
            except CompileError as err:
                raise CompileError(f"{sctx.fn.__name__}.backward: {err}") from err
            for source, ig, _ in sent:
                pending[id(source)] = _accumulate(program, pending.get(id(source)), _as_sym(program, ig))
            _name_lines(program, start, sent, by_tensor)
    finally:
        mode.enabled = previous
    grads_out = []
    for k in grad_positions:
        g = pending.get(id(_input_tensor(*inputs[k], args)))
        if g is not None and any(g is s for s in input_syms):  # d(x)/dx passes an input on: copy it
            g = program.emit(g.value.copy(), ("{}.copy()", [g]))
        grads_out.append(g)
    for sym, *_ in program.lines[forward_end:]:
        if sym.name is None:
            sym.name = program.fresh("t")

    # The code.
    read_by_backward = {id(p) for _, _, parts, _ in program.lines[forward_end:] for p in _walk(parts) if type(p) is Sym}
    saved = [s for s, *_ in program.lines[:forward_end] if id(s) in read_by_backward]
    saved += [s for s in input_syms if id(s) in read_by_backward]
    saved_names = list(dict.fromkeys(_code_name(s) for s in saved))
    returned = ", ".join(_code_name(s) for s in out_syms)
    header = f"# autograd.compile({name}): generated from each op's own forward and backward"
    forward_src = [f"def forward({', '.join(params)}):", *program.code(0, forward_end)]
    forward_src.append(f"    return ({returned},), ({', '.join(saved_names)}{',' if len(saved_names) == 1 else ''})")
    backward_src = [
        f"def backward({', '.join(backward_params + saved_names)}):",
        *program.code(forward_end, len(program.lines)),
    ]
    rendered = [program.render(g) if g is not None else "None" for g in grads_out]
    backward_src.append(f"    return ({', '.join(rendered)}{',' if len(rendered) == 1 else ''})")
    source = "\n".join([header, *forward_src, "", "", *backward_src]) + "\n"
    namespace: dict[str, Any] = {"np": np, **program.constants}
    exec(builtins.compile(source, f"<autograd.compile {name}>", "exec"), namespace)  # noqa: S102

    entry = _Entry()
    entry.forward = namespace["forward"]
    entry.backward = namespace["backward"] if any(differentiable) else None
    entry.source = source
    entry.inputs = inputs
    entry.grad_inputs = grad_positions
    entry.leaf_specs = [
        (ref, ref.data.shape, ref.data.dtype, ref.requires_grad) for kind, ref in inputs if kind == "leaf"
    ]
    entry.structure = structure
    entry.out_meta = [(t.shape, t.dtype, d) for t, d in zip(outputs, differentiable)]
    return entry


def _input_tensor(kind: str, ref: Any, args: tuple[Any, ...]) -> Any:
    """The Tensor (or array) an input stands for in this call."""
    if kind == "leaf":
        return ref
    a = args[ref]
    return a if is_tensor(a) else _NoGrad


class _NoGrad:
    requires_grad = False


def _as_sym(program: Program, g: Any) -> Any:
    return g if type(g) is Sym else program.emit(np.asarray(g), ("{}", [np.asarray(g)]))


def _accumulate(program: Program, previous: Any, g: Any) -> Any:
    """previous + g, written as a line when both exist (a value used twice sums its gradients)."""
    if previous is None:
        return g
    return program.emit(previous.value + g.value, ("{} + {}", [previous, g]))


def _name_lines(program: Program, start: int, sent: list[Any], by_tensor: dict[int, Sym]) -> None:
    """Name a backward step's results ``d_<input>``; its temporaries stay ``t<n>``."""
    for source, g, _ in sent:
        if type(g) is Sym and g.name is None:
            target = by_tensor.get(id(source))
            g.name = program.fresh_input(f"d_{target.name if target is not None else 'x'}")


def _run(entry: _Entry, args: tuple[Any, ...]) -> Any:
    """One call of the generated code; outputs are Tensors on a CompiledOutput node each."""
    tensor = function._tensor_class
    arrays = []
    tensors = []  # the inputs that are Tensors: the node checks their versions in backward
    for kind, ref in entry.inputs:
        t = ref if kind == "leaf" else args[ref]
        if isinstance(t, tensor):
            arrays.append(t.data)
            tensors.append(t)
        else:
            arrays.append(t)
    outs, saved = entry.forward(*arrays)
    record = mode.enabled and entry.backward is not None
    if record:
        grad_tensors = [
            ref if kind == "leaf" else args[ref] for kind, ref in (entry.inputs[k] for k in entry.grad_inputs)
        ]
        sources = tuple([t if t.grad_fn is None else t.grad_fn for t in grad_tensors])
        needs = (True,) * len(sources)
    results = []
    for i, value in enumerate(outs):
        data = value if type(value) is np.ndarray or isinstance(value, np.generic) else np.asarray(value)
        out = tensor._make(data)
        if record and entry.out_meta[i][2]:
            ctx = function._new_context(Context)
            ctx.fn = CompiledOutput
            ctx.inputs = sources
            ctx.needs_input_grad = needs
            ctx.shape = data.shape
            ctx.dtype = data.dtype
            ctx.save_for_backward(*tensors)
            ctx._output = saved  # the intermediates backward reads; freed when backward releases the node
            ctx.entry = entry
            ctx.index = i
            out.grad_fn = ctx
            out.requires_grad = True
        results.append(out)
    if entry.structure is None:
        return results[0]
    return entry.structure[0](results)


function._sym_class = Sym
