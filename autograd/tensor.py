"""Tensor: a numpy array that remembers how it was made, so gradients can flow back.

``data`` is the array. A tensor made by an op has ``grad_fn``, the graph node of that op;
a tensor you make yourself is a leaf (``grad_fn is None``). ``backward()`` fills ``grad``
on every leaf that has ``requires_grad=True``. Operators are one-line calls into ``ops``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NoReturn, overload

import numpy as np

from . import engine, numpy_api, ops
from .function import Context, as_tensor, bump_version, refuse_torch_keywords, set_tensor_class, version_of
from .mode import is_grad_enabled, mode, no_grad

Shape = tuple[int, ...]


def _shape_arg(shape: tuple[Any, ...]) -> Shape:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both give (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


# (for the type checker: an int axis stays an int, which argmax and argmin require)
@overload
def _axis_arg(axis: int | None, ndim: int) -> int | None: ...
@overload
def _axis_arg(axis: Any, ndim: int) -> int | tuple[int, ...] | None: ...
def _axis_arg(axis: Any, ndim: int) -> int | tuple[int, ...] | None:
    """A reduction's axis: a list as a tuple; on a 0-d tensor axis 0 or -1 (PyTorch accepts
    them there, as numpy's sum does) means its one element: reduce over nothing more."""
    if isinstance(axis, list):
        axis = tuple(axis)
    if ndim == 0 and axis in (0, -1, (0,), (-1,)):
        return None
    return axis


class Tensor:
    """An n-dimensional array (float64 by default, as numpy) that records the ops applied to it.

    >>> a = Tensor(-4.0, requires_grad=True)
    >>> b = Tensor(2.0, requires_grad=True)
    >>> c = a * b + b ** 3
    >>> c.backward()
    >>> a.grad, b.grad          # dc/da = b, dc/db = a + 3 b**2
    (Tensor(2.), Tensor(8.))
    """

    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "_name", "__weakref__")
    __hash__ = object.__hash__  # == is elementwise, as in numpy; identity for dicts and sets

    data: np.ndarray
    _grad: Tensor | None
    requires_grad: bool
    grad_fn: Context | None

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        array = np.array(data, dtype=dtype)  # a copy, like torch.tensor: later edits to `data` don't leak in
        if array.dtype.kind not in "biuf":
            raise TypeError(_not_numbers("Tensor", data, array.dtype))
        self.data = array
        self._name = name
        self._grad = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_()

    @staticmethod
    def _make(data: np.ndarray) -> Tensor:
        """Wrap an array without copying or checking (what ops use)."""
        t = _new(Tensor)
        t.data = data
        t._grad = t.grad_fn = t._name = None
        t.requires_grad = False
        return t

    @property
    def grad(self) -> Tensor | None:
        """d(output)/d(this tensor), filled by ``backward()`` (and added to by every later one)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_grad(self, value)
        self._grad = value

    @property
    def name(self) -> str | None:
        """A label for pictures and messages (kept by the graph node, so a picture drawn after
        this tensor is gone still shows it)."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = value
        if self.grad_fn is not None:
            self.grad_fn.output_name = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf; only floating-point tensors can require grad."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, and this one is {self.dtype}: "
                "a gradient is a rate of change, which integers and bools cannot have. "
                "Make it from floats (3.0, not 3) or pass dtype=np.float64."
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = requires_grad
        return self

    # ------------------------------------------------------------------ what it is

    @property
    def shape(self) -> Shape:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements, as numpy's ``size`` (PyTorch's ``x.size()`` is ``x.shape`` here)."""
        return _Count(self.data.size)

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``)."""
        return self.data.size

    def dim(self) -> int:
        """The number of axes (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    def cpu(self) -> Tensor:
        """The tensor itself: everything here is a numpy array in main memory."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        raise RuntimeError("cuda: this library computes with numpy on the CPU; there is no GPU device. Drop .cuda()")

    def to(self, target: Any = None, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)`` is ``astype(dtype)``; devices ("cuda", "mps") do not exist here, "cpu" is the tensor itself."""
        if target is None or args or kwargs.keys() - {"non_blocking"}:  # (non_blocking means nothing here)
            refuse_to(target, args, kwargs)
        if is_cpu(target):
            return self
        try:
            dtype = np.dtype(target)
        except TypeError:
            raise TypeError(f"to: expected a numpy dtype (np.float32) or 'cpu', got {target!r}") from None
        return self.astype(dtype)

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by you rather than by an op."""
        return self.grad_fn is None

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        _reading("item()")
        if self.data.size != 1:
            raise ValueError(f"item: the tensor has shape {self.shape}; only a one-element tensor has an item")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        _reading("numpy()")
        return self.data if type(self.data) is np.ndarray else np.asarray(self.data)

    def tolist(self) -> Any:
        _reading("tolist()")
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph: a leaf that does not require grad."""
        return Tensor._make(self.data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        _reading("np.asarray()")
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        data = self.data if type(self.data) is np.ndarray else np.asarray(self.data)
        return data if dtype is None else data.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.exp(t)``, ``ndarray - t``, ``np.maximum(t, 0)``: numpy's ufuncs on Tensors are
        this library's ops (recorded); see ``autograd.numpy_api``."""
        return numpy_api.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """``np.sum(t, axis=0)``, ``np.concatenate([t, u])``, ``np.where(c, t, u)`` on Tensors
        are this library's ops (recorded); see ``autograd.numpy_api``."""
        return numpy_api.array_function(func, types, args, kwargs)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __float__(self) -> float:
        return float(self.item())

    def __index__(self) -> int:
        """A 0-d integer tensor as a Python int: ``names[t.argmax()]`` works (as numpy's 0-d arrays:
        a (1,)-shaped tensor is not an index, so ``a[Tensor([1])]`` stays an array index)."""
        if self.dtype.kind not in "iub" or self.ndim != 0:
            raise TypeError(
                f"only a 0-d integer tensor can be used as an index, not a {self.dtype} tensor of shape {self.shape}"
            )
        _reading("__index__")
        return int(self.data.reshape(()))

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        _reading("bool(), an if or a while")
        return bool(self.data)

    def __dir__(self) -> list[str]:
        return dir_without_torch_names(self)

    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self.data), separator=", ", prefix="Tensor(")
        extras = []
        if self.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return "Tensor(" + ", ".join([body] + extras) + ")"

    # ------------------------------------------------------------------ backprop

    def backward(
        self,
        grad: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        **torch_spelling: Any,
    ) -> None:
        """Add d(self)/d(leaf) * grad to every leaf's ``.grad``, by the chain rule.

        ``grad`` defaults to 1 for a one-element tensor (a loss). The graph's saved tensors
        are freed afterwards unless ``retain_graph`` (default: ``create_graph``).
        ``create_graph=True`` records the backward pass, so grads can be differentiated again.
        PyTorch's ``gradient=`` is ``grad=`` here; its ``inputs=`` is ``autograd.grad``.
        """
        if torch_spelling:
            refuse_torch_keywords("backward", torch_spelling)
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad: no input of the ops that made it "
                "has requires_grad=True (or it was made under no_grad()). Create the inputs "
                "you want gradients for with Tensor(..., requires_grad=True)."
            )
        seed = self._seed_grad(grad, "backward")
        retain = create_graph if retain_graph is None else retain_graph
        engine.backward([self], [seed], retain_graph=retain, create_graph=create_graph)

    def _seed_grad(self, grad: Any, op: str) -> Tensor:
        """The gradient backprop starts from: 1 for a scalar, else ``grad`` of our shape."""
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"{op}: the tensor has shape {self.shape}, so there is no implicit gradient "
                    "to start from. Reduce it to a scalar first (.sum() or .mean()), or pass "
                    f"grad= an array of shape {self.shape}."
                )
            one = self.dtype.type(1) if self.data.ndim == 0 else np.ones(self.shape, dtype=self.dtype)
            return Tensor._make(one)
        seed = Tensor(grad.data if isinstance(grad, Tensor) else grad)  # a copy: .grad never aliases yours
        if seed.shape != self.shape:
            raise ValueError(
                f"{op}: grad has shape {seed.shape} but the tensor has shape {self.shape}; "
                "pass a grad of the tensor's own shape"
            )
        return seed if seed.dtype == self.dtype else seed.astype(self.dtype)

    # ------------------------------------------------------------------ in-place updates

    def _check_in_place(self, op: str) -> None:
        """In-place changes are not recorded: refuse them where the gradient would come out wrong."""
        if self.requires_grad and is_grad_enabled():
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad cannot be changed in place while grad "
                    "mode is on (the change would not be recorded); do it under no_grad(), as "
                    "optimizers do"
                )
            raise RuntimeError(
                f"{op}: this tensor was made by {self.grad_fn.name} and is part of the graph (it may be a "
                "view of a tensor that requires grad); an in-place change would not be recorded and its "
                "gradients would be wrong. Make a new tensor instead (y = y * 2, not y.mul_(2)), or "
                "change it under no_grad() if nothing should be differentiated through the change"
            )
        if type(self.data) is not np.ndarray:  # a 0-d result held as a numpy scalar: make it an array
            self.data = np.array(self.data)

    def _in_place(self, op: str, ufunc: np.ufunc, other: Any, out_of_place: Any) -> Tensor:
        """``self op= other`` (``+=`` ``-=`` ``*=`` ``/=``), as PyTorch users mean it.

        Under ``no_grad()``, or when nothing involved requires grad, ``self`` changes in place
        (``p -= lr * p.grad`` in an optimizer loop updates ``p``). When the graph is being
        recorded and ``self`` is a value made by ops (micrograd's ``c += c + 1``), the result is
        a new recorded tensor, as a recorded in-place op would give. A leaf that requires grad
        cannot be changed in place in grad mode (the change would not be recorded): that raises.
        """
        value = other.data if isinstance(other, Tensor) else other
        graph = is_grad_enabled() and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
        if graph and not (self.requires_grad and self.grad_fn is None):
            return out_of_place(other)
        self._check_in_place(op)
        ufunc(self.data, value, out=self.data, casting="same_kind")
        bump_version(self.data)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place("+=", np.add, other, self.__add__)

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place("-=", np.subtract, other, self.__sub__)

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place("*=", np.multiply, other, self.__mul__)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place("/=", np.true_divide, other, self.__truediv__)

    @property
    def _version(self) -> int:
        """In-place changes so far of this tensor's memory (shared with its views)."""
        return version_of(self.data)

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        """self += alpha * other, in place (not recorded in the graph; counts as a change)."""
        self._check_in_place("add_")
        value = np.asarray(other.data if isinstance(other, Tensor) else other)  # [1.0] is a value, not a list
        self.data += value if alpha == 1.0 else alpha * value
        bump_version(self.data)  # only once the change has happened
        return self

    def sub_(self, other: Any) -> Tensor:
        """self -= other, in place (not recorded in the graph; counts as a change)."""
        self._check_in_place("sub_")
        self.data -= other.data if isinstance(other, Tensor) else other
        bump_version(self.data)
        return self

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place (not recorded in the graph; counts as a change)."""
        self._check_in_place("mul_")
        self.data *= other.data if isinstance(other, Tensor) else other
        bump_version(self.data)
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src``'s values into this tensor, in place (counts as a change).

        The source is converted to this tensor's dtype first, so a source that cannot be
        converted raises before anything is written.
        """
        value = np.asarray(src.data if isinstance(src, Tensor) else src)
        if value.shape != self.shape:
            raise ValueError(f"copy_: source shape {value.shape} differs from the tensor's {self.shape}")
        if value.dtype.kind not in "biuf":
            raise TypeError(f"copy_: {_not_numbers('copy_', value, value.dtype)}")
        self._check_in_place("copy_")
        converted = value.astype(self.dtype, casting="unsafe")  # may raise: nothing written yet
        try:
            np.copyto(self.data, converted)
        finally:
            bump_version(self.data)  # even a write cut short counts as a change
        return self

    def retain_grad(self) -> Tensor:
        """Keep this intermediate tensor's gradient in ``.grad`` after backward (leaves always do)."""
        engine.retain(self)
        return self

    # ------------------------------------------------------------------ arithmetic

    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(self, as_tensor(other, self, "add"))

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(as_tensor(other, self, "add"), self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(self, as_tensor(other, self, "sub"))

    def __rsub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(as_tensor(other, self, "sub"), self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(self, as_tensor(other, self, "mul"))

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(as_tensor(other, self, "mul"), self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(self, as_tensor(other, self, "div"))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(as_tensor(other, self, "div"), self)

    def __pow__(self, other: Any) -> Tensor:
        if type(other) is int or type(other) is float:  # x ** 3: its own op, exact and fast
            return ops.PowScalar.apply(self, other)
        return ops.Pow.apply(self, as_tensor(other, self, "pow"))

    def __rpow__(self, other: Any) -> Tensor:
        return ops.Pow.apply(as_tensor(other, self, "pow"), self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self, as_tensor(other, self, "matmul"))

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(as_tensor(other, self, "matmul"), self)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    # Comparisons and logic on masks give Tensors that record no graph (their gradient is zero).
    def __lt__(self, other: Any) -> Tensor:
        return ops.ValueOp.apply(np.less, self, as_tensor(other, self, "lt"))

    def __le__(self, other: Any) -> Tensor:
        return ops.ValueOp.apply(np.less_equal, self, as_tensor(other, self, "le"))

    def __gt__(self, other: Any) -> Tensor:
        return ops.ValueOp.apply(np.greater, self, as_tensor(other, self, "gt"))

    def __ge__(self, other: Any) -> Tensor:
        return ops.ValueOp.apply(np.greater_equal, self, as_tensor(other, self, "ge"))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.ValueOp.apply(np.equal, self, as_tensor(other, self, "eq"))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.ValueOp.apply(np.not_equal, self, as_tensor(other, self, "ne"))

    def __and__(self, other: Any) -> Tensor:
        return ops.ValueOp.apply(np.bitwise_and, self, as_tensor(other, self, "and"))

    def __or__(self, other: Any) -> Tensor:
        return ops.ValueOp.apply(np.bitwise_or, self, as_tensor(other, self, "or"))

    def __xor__(self, other: Any) -> Tensor:
        return ops.ValueOp.apply(np.bitwise_xor, self, as_tensor(other, self, "xor"))

    def __invert__(self) -> Tensor:
        return ops.ValueOp.apply(np.invert, self)

    # ------------------------------------------------------------------ elementwise functions

    def exp(self) -> Tensor:
        return ops.Exp.apply(self)

    def log(self) -> Tensor:
        return ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        return ops.Sqrt.apply(self)

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return ops.ReLU.apply(self)

    def abs(self) -> Tensor:
        return ops.Abs.apply(self)

    def __abs__(self) -> Tensor:
        return ops.Abs.apply(self)

    def astype(self, dtype: Any) -> Tensor:
        """The tensor as ``dtype``; the gradient is cast back."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind != "f":  # integer and bool results have no gradient: nothing to record
            with no_grad():
                return ops.Cast.apply(self, dtype)
        return ops.Cast.apply(self, dtype)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Limit values to [min, max]; the gradient passes where min <= x <= max."""
        for bound in (min, max):
            if bound is not None and not isinstance(bound, (int, float, np.integer, np.floating)):
                raise TypeError(f"clip: bounds must be numbers or None, got {type(bound).__name__} {bound!r}")
        return ops.Clip.apply(self, min, max)

    def maximum(self, other: Any) -> Tensor:
        return ops.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return ops.minimum(self, other)

    def softmax(self, axis: int = -1, **torch_spelling: Any) -> Tensor:
        if torch_spelling:
            refuse_torch_keywords("softmax", torch_spelling)
        return ops.Softmax.apply(self, axis)

    def log_softmax(self, axis: int = -1, **torch_spelling: Any) -> Tensor:
        if torch_spelling:
            refuse_torch_keywords("log_softmax", torch_spelling)
        return ops.LogSoftmax.apply(self, axis)

    def sin(self) -> Tensor:
        return ops.Sin.apply(self)

    def cos(self) -> Tensor:
        return ops.Cos.apply(self)

    def tan(self) -> Tensor:
        return ops.Tan.apply(self)

    def log1p(self) -> Tensor:
        return ops.Log1p.apply(self)

    def expm1(self) -> Tensor:
        return ops.Expm1.apply(self)

    def log2(self) -> Tensor:
        return ops.Log2.apply(self)

    def log10(self) -> Tensor:
        return ops.Log10.apply(self)

    def exp2(self) -> Tensor:
        return ops.Exp2.apply(self)

    def square(self) -> Tensor:
        return ops.PowScalar.apply(self, 2)

    def rsqrt(self) -> Tensor:
        return ops.Rsqrt.apply(self)

    def erf(self) -> Tensor:
        return ops.Erf.apply(self)

    # zero gradient (as PyTorch): these results record no graph
    def sign(self) -> Tensor:
        return ops.sign(self)

    def floor(self) -> Tensor:
        return ops.floor(self)

    def ceil(self) -> Tensor:
        return ops.ceil(self)

    def round(self, decimals: int = 0) -> Tensor:
        return ops.round(self, decimals)

    def isnan(self) -> Tensor:
        return ops.isnan(self)

    def isinf(self) -> Tensor:
        return ops.isinf(self)

    def isfinite(self) -> Tensor:
        return ops.isfinite(self)

    # activations (PyTorch's definitions and argument names; see autograd/ops/activations.py)
    def gelu(self, approximate: str = "none") -> Tensor:
        return ops.gelu(self, approximate)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return ops.leaky_relu(self, negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        return ops.elu(self, alpha)

    def silu(self) -> Tensor:
        return ops.Silu.apply(self)

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        return ops.softplus(self, beta, threshold)

    def logsigmoid(self) -> Tensor:
        return ops.LogSigmoid.apply(self)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        return ops.hardtanh(self, min_val, max_val)

    def hardsigmoid(self) -> Tensor:
        return ops.Hardsigmoid.apply(self)

    def softsign(self) -> Tensor:
        return ops.Softsign.apply(self)

    def mish(self) -> Tensor:
        return ops.Mish.apply(self)

    # ------------------------------------------------------------------ reductions

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        if torch_spelling:
            refuse_torch_keywords("sum", torch_spelling)
        return ops.Sum.apply(self, _axis_arg(axis, self.ndim), keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        if torch_spelling:
            refuse_torch_keywords("mean", torch_spelling)
        return ops.Mean.apply(self, _axis_arg(axis, self.ndim), keepdims)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        if torch_spelling:
            refuse_torch_keywords("max", torch_spelling)
        return ops.Max.apply(self, _axis_arg(axis, self.ndim), keepdims)

    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        if torch_spelling:
            refuse_torch_keywords("min", torch_spelling)
        return ops.Min.apply(self, _axis_arg(axis, self.ndim), keepdims)

    def var(
        self, axis: int | Sequence[int] | None = None, ddof: float = 0, keepdims: bool = False, **torch_spelling: Any
    ) -> Tensor:
        """Variance, dividing by n - ddof (numpy's default ddof=0; PyTorch's var(): ddof=1)."""
        return ops.var(self, _axis_arg(axis, self.ndim), ddof, keepdims, **torch_spelling)

    def std(
        self, axis: int | Sequence[int] | None = None, ddof: float = 0, keepdims: bool = False, **torch_spelling: Any
    ) -> Tensor:
        """Standard deviation, sqrt of var (numpy's default ddof=0; PyTorch's std(): ddof=1)."""
        return ops.std(self, _axis_arg(axis, self.ndim), ddof, keepdims, **torch_spelling)

    def prod(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        return ops.prod(self, _axis_arg(axis, self.ndim), keepdims, **torch_spelling)

    def logsumexp(
        self, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any
    ) -> Tensor:
        return ops.logsumexp(self, _axis_arg(axis, self.ndim), keepdims, **torch_spelling)

    def cumsum(self, axis: int | None = None, **torch_spelling: Any) -> Tensor:
        return ops.cumsum(self, axis, **torch_spelling)

    def cumprod(self, axis: int | None = None, **torch_spelling: Any) -> Tensor:
        return ops.cumprod(self, axis, **torch_spelling)

    def argmax(self, axis: int | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        return ops.argmax(self, _axis_arg(axis, self.ndim), keepdims, **torch_spelling)

    def argmin(self, axis: int | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        return ops.argmin(self, _axis_arg(axis, self.ndim), keepdims, **torch_spelling)

    def any(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        return ops.any(self, _axis_arg(axis, self.ndim), keepdims, **torch_spelling)

    def all(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any) -> Tensor:
        return ops.all(self, _axis_arg(axis, self.ndim), keepdims, **torch_spelling)

    def norm(
        self, ord: Any = None, axis: int | Sequence[int] | None = None, keepdims: bool = False, **torch_spelling: Any
    ) -> Tensor:
        """As np.linalg.norm(self, ord, axis, keepdims) (``ord``, not PyTorch's ``p``)."""
        return ops.norm(self, ord, _axis_arg(axis, self.ndim), keepdims, **torch_spelling)

    # ------------------------------------------------------------------ shape and indexing

    def reshape(self, *shape: Any) -> Tensor:
        return ops.Reshape.apply(self, _shape_arg(shape))

    def transpose(self, *axes: Any, **torch_spelling: Any) -> Tensor:
        """Permute axes like ``np.transpose``: ``transpose(1, 0, 2)`` or ``transpose((1, 0, 2))``
        gives axis 1 first; no arguments reverses them.

        PyTorch's ``transpose(dim0, dim1)`` swaps two axes; where the two readings differ
        (two axes on a tensor that is not 2-D, or ``(0, 1)`` on a 2-D one) this raises and
        names ``swapaxes``, rather than doing one of them silently.
        """
        if torch_spelling:
            if "dim0" in torch_spelling or "dim1" in torch_spelling:
                a, b = torch_spelling.get("dim0", "a"), torch_spelling.get("dim1", "b")
                raise TypeError(
                    f"transpose: dim0= and dim1= are PyTorch's spelling (its transpose swaps two axes); write "
                    f"swapaxes({a}, {b}) here (numpy's transpose permutes all the axes)"
                )
            refuse_torch_keywords("transpose", torch_spelling)
        axes_arg = _shape_arg(axes) if axes and axes != (None,) else None
        if axes_arg is not None and len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            a, b = (int(i) % max(self.ndim, 1) for i in axes)
            if self.ndim != 2 or (a, b) == (0, 1):
                raise ValueError(
                    f"transpose{tuple(axes)} on a {self.ndim}-D tensor: numpy reads it as a permutation of "
                    "all the axes, PyTorch as a swap of two. Write swapaxes"
                    f"({axes[0]}, {axes[1]}) to swap two axes (or .T to reverse them all), or give the "
                    "full permutation as numpy does"
                )
        return ops.Transpose.apply(self, axes_arg)

    @property
    def T(self) -> Tensor:
        """Axes reversed, like numpy's ``.T`` (a 0-d or 1-d tensor is returned as is)."""
        return self if self.ndim < 2 else ops.Transpose.apply(self, None)

    def swapaxes(self, axis1: int | None = None, axis2: int | None = None, **torch_spelling: Any) -> Tensor:
        """Axes ``axis1`` and ``axis2`` exchanged (PyTorch's ``transpose(dim0, dim1)``)."""
        if torch_spelling or axis1 is None or axis2 is None:
            if "dim0" in torch_spelling or "dim1" in torch_spelling:
                raise TypeError("swapaxes: dim0= and dim1= are PyTorch's keywords; write swapaxes(a, b) here")
            refuse_torch_keywords("swapaxes", torch_spelling)
            raise TypeError("swapaxes() needs two axes: swapaxes(0, 1)")
        order = list(range(self.ndim))
        for axis in (axis1, axis2):
            if not isinstance(axis, (int, np.integer)) or not -self.ndim <= axis < max(self.ndim, 1):
                raise ValueError(f"swapaxes: axis {axis!r} is out of range for a tensor of shape {self.shape}")
        order[axis1], order[axis2] = order[axis2], order[axis1]
        return ops.Transpose.apply(self, tuple(order))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return self if tuple(shape) == self.shape else ops.BroadcastTo.apply(self, tuple(shape))

    def __getitem__(self, index: Any) -> Tensor:
        return ops.GetItem.apply(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value``: in grad mode, when t or value requires grad, a recorded SetItem op
        (t then holds its result); otherwise in place, as numpy. See ``ops.setitem``."""
        ops.setitem(self, index, value)

    def gather(self, axis: int | None = None, index: Any = None, **torch_spelling: Any) -> Tensor:
        """PyTorch's gather: y[i][j] = x[i][index[i][j]] for axis 1 (see ``autograd.gather``)."""
        return ops.gather(self, axis, index, **torch_spelling)

    def scatter_add(self, axis: int | None = None, index: Any = None, src: Any = None, **torch_spelling: Any) -> Tensor:
        """PyTorch's scatter_add, out of place: y = x; y[i][index[i][j]] += src[i][j] for axis 1."""
        return ops.scatter_add(self, axis, index, src, **torch_spelling)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where the bool ``mask`` (broadcast to self's shape) is True; gradient 0 there."""
        return ops.masked_fill(self, mask, value)

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for ``reshape`` (there are no strides here: it is reshape)."""
        return ops.Reshape.apply(self, _shape_arg(shape))

    def ravel(self) -> Tensor:
        """The elements as a 1-D tensor, like ``np.ravel`` (and ``flatten()``)."""
        return ops.Reshape.apply(self, (-1,))

    def flatten(self, start_axis: int = 0, end_axis: int = -1, **torch_spelling: Any) -> Tensor:
        """Axes ``start_axis`` to ``end_axis`` merged into one (all of them by default)."""
        return ops.flatten(self, start_axis, end_axis, **torch_spelling)

    def expand_dims(self, axis: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
        return ops.expand_dims(self, axis, **torch_spelling)

    def unsqueeze(self, axis: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
        return ops.unsqueeze(self, axis, **torch_spelling)

    def squeeze(self, axis: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
        """Drop axes of size 1; an axis in ``axis`` whose size is not 1 raises (as numpy, unlike PyTorch)."""
        return ops.squeeze(self, axis, **torch_spelling)

    def permute(self, *axes: Any, **torch_spelling: Any) -> Tensor:
        return ops.permute(self, *axes, **torch_spelling)

    def flip(self, axis: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
        return ops.flip(self, axis, **torch_spelling)

    def roll(
        self, shift: int | Sequence[int] | None = None, axis: int | Sequence[int] | None = None, **torch_spelling: Any
    ) -> Tensor:
        return ops.roll(self, shift, axis, **torch_spelling)

    def repeat(self, repeats: Any, *pytorch_reps: int, axis: Any = "unset", **torch_spelling: Any) -> Tensor:
        """numpy's repeat: each element ``repeats`` times along ``axis`` ([a, b] -> [a, a, b, b]).

        PyTorch's ``Tensor.repeat`` is ``tile`` here; ``repeat(2, 3)`` raises and says so. On a
        1-D tensor ``x.repeat(2)`` reads two ways (numpy: [a, a, b, b]; PyTorch: [a, b, a, b]),
        so the method needs ``axis=`` there (``np.repeat(x, 2)`` is numpy's, unambiguously).
        """
        if axis == "unset":
            if self.ndim == 1 and not pytorch_reps and not torch_spelling:
                raise ValueError(
                    f"repeat({repeats!r}) on a 1-D tensor: numpy repeats each element ([a, a, b, b]), PyTorch's "
                    f"Tensor.repeat tiles the whole tensor ([a, b, a, b]). Write repeat({repeats!r}, axis=0) for "
                    f"numpy's meaning or tile({repeats!r}) for PyTorch's"
                )
            axis = None
        return ops.repeat(self, repeats, *pytorch_reps, axis=axis, **torch_spelling)

    def tile(self, reps: int | Sequence[int] | None = None, **torch_spelling: Any) -> Tensor:
        return ops.tile(self, reps, **torch_spelling)

    def split(self, *args: Any, **kwargs: Any) -> list[Tensor]:
        """Refused: numpy has no ``ndarray.split``, and PyTorch's ``Tensor.split(n)`` cuts pieces
        of size n where ``np.split(x, n)`` cuts n pieces."""
        raise TypeError(
            "Tensor.split: PyTorch's x.split(n) cuts pieces of size n, numpy's np.split(x, n) cuts n "
            "equal pieces. Write autograd.split(x, indices_or_sections, axis) for numpy's meaning (or "
            "np.split(x, ...)), or x.chunk(k) for k pieces of size ceil(n / k)"
        )

    def chunk(self, chunks: int, axis: int = 0, **torch_spelling: Any) -> list[Tensor]:
        return ops.chunk(self, chunks, axis, **torch_spelling)

    def tril(self, k: int = 0, **torch_spelling: Any) -> Tensor:
        return ops.tril(self, k, **torch_spelling)

    def triu(self, k: int = 0, **torch_spelling: Any) -> Tensor:
        return ops.triu(self, k, **torch_spelling)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1, **torch_spelling: Any) -> Tensor:
        return ops.diagonal(self, offset, axis1, axis2, **torch_spelling)


# ----------------------------------------------------------------------------- PyTorch names not defined here

# name -> what PyTorch's spelling is here (docs/api.md, "PyTorch names not defined here").
# Reading one raises AttributeError with that hint: hasattr(x, "t") stays False.
TORCH_NAMES = {
    "t": "x.t() is x.T here (it reverses all the axes)",
    "mT": "x.mT is x.swapaxes(-1, -2) here",
    "swapdims": "x.swapdims(a, b) is x.swapaxes(a, b) here",
    "movedim": "x.movedim(a, b) is x.permute(...) here (the whole new order of the axes)",
    "expand": "x.expand(*shape) is x.broadcast_to(shape) here",
    "expand_as": "x.expand_as(y) is x.broadcast_to(y.shape) here",
    "view_as": "x.view_as(y) is x.reshape(y.shape) here",
    "reshape_as": "x.reshape_as(y) is x.reshape(y.shape) here",
    "contiguous": "x.contiguous() has nothing to do here (there are no strides): drop it",
    "clone": "x.clone() is x + 0 here (recorded); x.detach().clone() is Tensor(x) (a copy, cut from the graph)",
    "float": "x.float() is x.astype(np.float32) here",
    "double": "x.double() is x.astype(np.float64) here",
    "half": "x.half() is x.astype(np.float16) here",
    "long": "x.long() is x.astype(np.int64) here",
    "int": "x.int() is x.astype(np.int32) here",
    "bool": "x.bool() is x.astype(bool) here",
    "type": "x.type(d) is x.astype(d) here, and x.type() is x.dtype",
    "type_as": "x.type_as(y) is x.astype(y.dtype) here",
    "is_floating_point": "x.is_floating_point() is x.dtype.kind == 'f' here",
    "nelement": "x.nelement() is x.numel() (or x.size) here",
    "element_size": "x.element_size() is x.dtype.itemsize here",
    "zero_": "x.zero_() is x[...] = 0 under no_grad() here",
    "fill_": "x.fill_(v) is x[...] = v under no_grad() here",
    "div_": "x.div_(v) is x.mul_(1 / v) under no_grad() here",
    "clamp_": "x.clamp_(a, b) is x.clip(a, b) here, out of place (x[...] = x.clip(a, b) under no_grad() writes it back)",
    "masked_fill_": "x.masked_fill_(m, v) is x.masked_fill(m, v) here, out of place",
    "normal_": "x.normal_() is nn.init.normal_(x) here",
    "uniform_": "x.uniform_() is nn.init.uniform_(x) here",
    "clamp": "x.clamp(a, b) is x.clip(a, b) here (and x.clamp(min=a) is x.clip(min=a))",
    "add": "x.add(y) is x + y here",
    "sub": "x.sub(y) is x - y here",
    "mul": "x.mul(y) is x * y here",
    "div": "x.div(y) is x / y here",
    "neg": "x.neg() is -x here",
    "pow": "x.pow(p) is x ** p here",
    "mm": "x.mm(y) is x @ y here",
    "matmul": "x.matmul(y) is x @ y here",
    "dot": "x.dot(y) is x @ y here",
    "eq": "x.eq(y) is x == y here",
    "allclose": "x.allclose(y) is np.allclose(x, y) here",
    "equal": "x.equal(y) is bool((x == y).all()) here (for tensors of one shape)",
    "amax": "x.amax(axis) is x.max(axis) here (ties share the gradient, as amax)",
    "amin": "x.amin(axis) is x.min(axis) here (ties share the gradient, as amin)",
    "sort": "x.sort(axis) is autograd.take_along_axis(x, i, axis) with i = np.argsort(x.numpy(), axis) here (recorded)",
    "argsort": "x.argsort(axis) is np.argsort(x.numpy(), axis) here",
    "topk": (
        "x.topk(k) is autograd.take_along_axis(x, i, -1) with i = np.argsort(x.numpy(), -1)[..., ::-1][..., :k] "
        "here (recorded)"
    ),
    "median": (
        "x.median(axis) is the middle of the sorted values here: autograd.take_along_axis(x, i, axis) with "
        "i = np.argsort(x.numpy(), axis), at index (n - 1) // 2 along the axis (PyTorch's, the lower middle)"
    ),
    "index_select": "x.index_select(1, i) is x[:, i] here (the index at the axis' place)",
    "narrow": "x.narrow(1, s, n) is x[:, s:s + n] here (the slice at the axis' place)",
    "unbind": "x.unbind(0) is list(x) here (along axis a: list(x.swapaxes(0, a)))",
    "scatter": (
        "x.scatter(axis, i, src) is item assignment here, y[rows, i] = src (recorded), or x.scatter_add(axis, i, "
        "src) where x holds zeros (it adds)"
    ),
    "scatter_": "x.scatter_(axis, i, src) is item assignment here: x[rows, i] = src (recorded), or x.scatter_add",
    "where": "x.where(c, y) is autograd.where(c, x, y) here",
    "new_zeros": "x.new_zeros(shape) is autograd.zeros(shape, dtype=x.dtype) here",
    "new_tensor": "x.new_tensor(v) is autograd.tensor(v, dtype=x.dtype) here",
    "register_hook": "x.register_hook(f) has no counterpart here; x.retain_grad() keeps an intermediate's gradient",
    "device": "x.device has no counterpart here: every tensor is a numpy array on the CPU",
    "is_cuda": "x.is_cuda has no counterpart here: every tensor is a numpy array on the CPU (no CUDA)",
}


def no_attribute(what: str, name: str, hints: dict[str, str]) -> AttributeError:
    """The AttributeError Python gives for ``what`` lacking ``name``, with PyTorch's spelling and
    what to write here when ``name`` is one of ``hints`` (for classes and modules alike)."""
    message = f"{what} has no attribute {name!r}"
    if name in hints:
        message += f": PyTorch's {hints[name]}"
    return AttributeError(message, name=name)


class TorchName:
    """A PyTorch name a class does not define: reading it raises the AttributeError Python
    would, with what to write here. A class attribute, not ``__getattr__``: a class with
    ``__getattr__`` makes every attribute read slower (Python cannot specialise them)."""

    def __init__(self, name: str, hint: str) -> None:
        self.name, self.hint = name, hint

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        what = f"type object {owner.__name__!r}" if obj is None and owner else f"{type(obj).__name__!r} object"
        raise no_attribute(what, self.name, {self.name: self.hint})


def refuse_torch_names(cls: type, names: dict[str, str]) -> None:
    """Give ``cls`` a :class:`TorchName` for each name of ``names`` (name -> the hint)."""
    for name, hint in names.items():
        if name in vars(cls):
            raise RuntimeError(f"{cls.__name__}.{name} is defined: remove it from the PyTorch names it lacks")
        setattr(cls, name, TorchName(name, hint))


refuse_torch_names(Tensor, TORCH_NAMES)


def dir_without_torch_names(obj: Any) -> list[str]:
    """``dir(obj)`` without the PyTorch names that only raise their hint: tab completion (a
    notebook's, the REPL's) offers what works."""
    hidden = {name for klass in type(obj).__mro__ for name, v in vars(klass).items() if isinstance(v, TorchName)}
    return [name for name in object.__dir__(obj) if name not in hidden]


def is_cpu(target: Any) -> bool:
    """True for the device "cpu" (or "cpu:0"), where everything already is; a RuntimeError for
    another device ("cuda", "mps"), which does not exist here; False for anything else."""
    if not isinstance(target, str):
        return False
    device = target.split(":")[0]
    if device in ("cuda", "mps", "xpu", "meta"):
        raise RuntimeError(
            f"to({target!r}): this library computes with numpy on the CPU; there is no {target} device. Drop .to()"
        )
    return device == "cpu"


def refuse_to(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> NoReturn:
    """``x.to(...)`` in PyTorch's forms that have no meaning here: what to write instead."""
    if "dtype" in kwargs:
        raise TypeError("to: dtype= is PyTorch's keyword; write x.to(np.float32) (the dtype positionally) here")
    if "device" in kwargs:
        refuse_torch_keywords("to", {"device": kwargs["device"]})
    if args:
        raise TypeError(
            f"to: takes one argument here, a numpy dtype (np.float32) or 'cpu', got {1 + len(args)}; for "
            "PyTorch's to(device, dtype) write x.to(dtype): the CPU is the only device"
        )
    unknown = sorted(set(kwargs) - {"non_blocking"})
    if unknown:
        raise TypeError(f"to() got an unexpected keyword argument {unknown[0]!r} (it takes a numpy dtype or 'cpu')")
    raise TypeError("to() missing its argument: a numpy dtype (np.float32) or 'cpu'")


_new = object.__new__


def _not_numbers(op: str, data: Any, dtype: np.dtype) -> str:
    """Why ``data`` cannot be a Tensor: only real numbers (bool, int, float) can."""
    what = {"c": "complex numbers (their gradients need conjugation, which this library does not do)",
            "U": "strings", "S": "bytes", "M": "dates", "m": "time spans", "V": "structured records",
            "O": "Python objects"}.get(dtype.kind, f"dtype {dtype}")  # fmt: skip
    return f"{op}: a Tensor holds real numbers (bool, int or float), not {what}; got {type(data).__name__} data"


def _check_grad(t: Tensor, value: Any) -> None:
    """``t.grad = value`` must give a Tensor of t's shape and float dtype (as backward would)."""
    if not isinstance(value, Tensor):
        raise TypeError(
            f"grad: assigned a {type(value).__name__} to .grad of a tensor of shape {t.shape}; assign a "
            "Tensor (Tensor(array)) or None"
        )
    if value.shape != t.shape:
        raise ValueError(f"grad: assigned a gradient of shape {value.shape} to a tensor of shape {t.shape}")
    if value.dtype != t.dtype:
        raise TypeError(
            f"grad: assigned a {value.dtype} gradient to a {t.dtype} tensor; cast it first (g.astype(np.{t.dtype}))"
        )


class _Count(int):
    """``x.size``: numpy's element count, an int. Called as PyTorch's ``x.size()``, it says
    what to write instead (calling an int would otherwise fail with "'int' object is not callable")."""

    def __call__(self, axis: Any = None) -> Any:
        where = "x.shape" if axis is None else f"x.shape[{axis}]"
        raise TypeError(
            f"size is numpy's element count here (x.size == {int(self)}, an int); PyTorch's x.size"
            f"({'' if axis is None else axis}) is {where} (and x.numel() the count)"
        )


def _reading(what: str) -> None:
    """Value reads refuse while autograd.compile traces (the ops after them could depend on it)."""
    if mode.tracer is not None:
        mode.tracer.value_read(what)


class _Guarded(Tensor):
    """A tensor as your Function's backward sees it under ``create_graph=True``.

    Every op works on it (and records against the tensor it stands for), but its values
    cannot be read: a formula that computes on ``.data`` or ``np.asarray(x)`` would give a
    gradient that cannot be differentiated again, and a silently wrong second derivative.
    """

    __slots__ = ("_inner", "_message")
    _inner: Tensor
    _message: str

    @property
    def data(self) -> np.ndarray:  # type: ignore[override]  # read-only here, on purpose
        raise RuntimeError(self._message)

    shape = property(lambda self: self._inner.shape)
    dtype = property(lambda self: self._inner.dtype)
    ndim = property(lambda self: self._inner.ndim)
    size = property(lambda self: self._inner.size)
    requires_grad = property(lambda self: self._inner.requires_grad)
    grad_fn = property(lambda self: self._inner.grad_fn)
    _name = property(lambda self: self._inner._name)

    def __len__(self) -> int:
        return len(self._inner)

    def __repr__(self) -> str:
        return f"<a guarded tensor of shape {self.shape}: its values cannot be read here>"


set_tensor_class(Tensor, _Guarded)
