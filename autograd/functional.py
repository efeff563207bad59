"""Transforms of functions: ``grad(f)``, ``jacobian(f)``, ``hessian(f)``, ``vjp``, ``jvp``, ``hvp``.

Users of HIPS autograd, JAX or ``torch.func`` write functions, not graphs::

    from autograd.functional import grad, jacobian, hessian
    df = grad(f)              # a function: df(x) = d f(x) / dx, for a scalar f
    d2f = grad(grad(f))       # transforms compose
    J = jacobian(f)(x)        # shape f(x).shape + x.shape

Arguments may be Tensors, numpy arrays or numbers; results are Tensors for Tensor
arguments and numpy arrays otherwise. An argument that already requires grad (as inside an
outer transform) is differentiated through with ``create_graph=True``, so the result is
differentiable again: that is how ``grad(grad(f))`` works.

Two modes:

* **reverse mode** (``vjp``, ``grad``, ``jacobian(mode="reverse")``) runs ``f`` once and
  backpropagates: one backward pass per *output* element gives a row of the Jacobian.
* **forward mode** (``jvp``, ``jacobian(mode="forward")``) pushes a tangent along with the
  values while ``f`` runs: one pass per *input* direction gives a column. Each op's output
  tangent comes from its inputs' tangents. An op with a ``jvp`` rule (beside its forward and
  backward: the arithmetic, matmul, exp/log/sqrt/tanh/sigmoid/relu, sum/mean, reshape and
  transpose have one) uses it, plain numpy on the tangents; any other op gets its tangent
  from its own backward formula by the double-vjp construction: its backward is linear in the upstream gradient u, so
  ``J t = d/du <backward(u), t>``, computed on that one op's local graph (never the whole
  program, never a Jacobian). That keeps every op of the library, and every user Function
  whose backward is written on Tensors, usable in forward mode.

For a scalar loss of n parameters reverse mode needs 1 pass and forward mode n: that is
why backprop is reverse mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from .function import _GUARDED, Context, Function, is_tensor
from .mode import is_grad_enabled, mode
from .ops import ValueOp, stack, sum_to
from .tensor import Tensor

Argnums = int | Sequence[int]


# ----------------------------------------------------------------------------- arguments


def _argnums(argnums: Argnums, n: int, op: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{op}: argnums is empty; give the position of at least one argument")
    for i in nums:
        if not isinstance(i, int) or not -n <= i < n:
            raise ValueError(f"{op}: argnums {argnums!r} does not fit a call with {n} positional argument(s)")
    return tuple(i % n for i in nums)


def _float_array(x: Any, op: str) -> np.ndarray:
    array = np.asarray(x.data if is_tensor(x) else x)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)  # an integer point: differentiate at its float value
    if array.dtype.kind != "f":
        raise TypeError(f"{op}: cannot differentiate with respect to a {type(x).__name__} of dtype {array.dtype}")
    return array


class _Inputs:
    """The differentiated arguments as leaves: an argument that requires grad (inside an outer
    transform) is used as it is and the result keeps a graph; any other becomes a new leaf."""

    def __init__(self, args: Sequence[Any], nums: tuple[int, ...], op: str) -> None:
        self.args = list(args)
        self.nums = nums
        self.was_tensor = [is_tensor(args[i]) for i in nums]
        self.tensors: list[Tensor] = []
        self.nested = False  # True when an argument belongs to an outer computation
        for i in nums:
            x = args[i]
            if is_tensor(x) and x.requires_grad and is_grad_enabled():
                t = x
                self.nested = True
            else:
                t = Tensor(_float_array(x, op), requires_grad=True)
            self.tensors.append(t)
            self.args[i] = t

    def result(self, k: int, g: Tensor | None, like: Tensor) -> Any:
        """The k-th derivative as the caller gave the argument: a Tensor, or an ndarray."""
        if g is None:
            g = Tensor(np.zeros(like.shape, like.dtype))
        if self.was_tensor[k]:
            return g if self.nested else g.detach()
        return np.array(g.data)


def _call(f: Callable[..., Any], args: list[Any], kwargs: dict[str, Any], has_aux: bool, op: str) -> tuple[Any, Any]:
    out = f(*args, **kwargs)
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{op}: has_aux=True needs f to return a pair (output, aux), got {type(out).__name__}")
        out, aux = out
    if not is_tensor(out):
        raise TypeError(
            f"{op}: f returned a {type(out).__name__}, not a Tensor computed from its argument(s); "
            "compute the output with Tensor operations"
        )
    return out, aux


def _scalar(out: Tensor, op: str) -> None:
    if out.size != 1:
        raise ValueError(
            f"{op}: f returned shape {out.shape}, but {op} needs a scalar (one-element) output. Use "
            "jacobian(f) for every partial derivative, elementwise_grad(f) for an elementwise f, or "
            "vjp(f, x) to weight the outputs"
        )


# ----------------------------------------------------------------------------- reverse mode


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function giving ``(f(*args), df/dargs)``; ``((f(*args), aux), df/dargs)`` with ``has_aux``.

    ``f`` must return a one-element Tensor. With a tuple ``argnums`` the gradient is a tuple.
    """

    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "value_and_grad")
        inputs = _Inputs(args, nums, "grad")
        out, aux = _call(f, inputs.args, kwargs, has_aux, "grad")
        _scalar(out, "grad")
        grads = _reverse(out, inputs, None)
        value = out if inputs.nested else out.detach()
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        return ((value, aux) if has_aux else value), g

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """``grad(f)(x)`` = df/dx for a scalar-valued ``f``; ``grad(grad(f))`` is the second derivative.

    >>> import numpy as np
    >>> df = grad(lambda x: (x ** 3).sum())
    >>> df(np.array([1.0, 2.0]))          # 3 x**2
    array([ 3., 12.])
    """
    both = value_and_grad(f, argnums, has_aux)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, g = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_f


def elementwise_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """d sum(f(x)) / dx: for an elementwise ``f``, each element's own derivative f'(x_i)."""

    def elementwise_grad_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "elementwise_grad")
        inputs = _Inputs(args, nums, "elementwise_grad")
        out, _ = _call(f, inputs.args, kwargs, False, "elementwise_grad")
        grads = _reverse(out, inputs, np.ones(out.shape, out.dtype))
        return grads[0] if isinstance(argnums, int) else tuple(grads)

    return elementwise_grad_f


def _reverse(out: Tensor, inputs: _Inputs, seed: Any) -> list[Any]:
    if not out.requires_grad:  # f does not depend on the arguments: its derivative is 0
        return [inputs.result(k, None, t) for k, t in enumerate(inputs.tensors)]
    grads = engine.grad(
        out, inputs.tensors, grad_outputs=seed, create_graph=inputs.nested, retain_graph=True, allow_unused=True
    )
    return [inputs.result(k, g, t) for k, (g, t) in enumerate(zip(grads, inputs.tensors))]


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(v)`` is ``v^T J``, one result per primal (a tuple).

    Reverse mode: ``f`` runs once; each call of ``vjp_fn`` is one backward pass.
    """
    inputs = _Inputs(primals, tuple(range(len(primals))), "vjp")
    out, _ = _call(f, inputs.args, {}, False, "vjp")

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        v = np.asarray(cotangent.data if is_tensor(cotangent) else cotangent, dtype=out.dtype)
        if v.shape != out.shape:
            raise ValueError(f"vjp: the cotangent has shape {v.shape}; f's output has shape {out.shape}")
        return tuple(_reverse(out, inputs, v))

    value = out if inputs.nested else out.detach()
    return (value if any(inputs.was_tensor) else np.array(out.data)), vjp_fn


def hvp(f: Callable[..., Any], x: Any, v: Any) -> tuple[Any, Any]:
    """``(f(x), H v)``: the Hessian of a scalar ``f`` times ``v``, by reverse over reverse,
    without forming the Hessian (two backward passes)."""
    inputs = _Inputs([x], (0,), "hvp")
    (t,) = inputs.tensors
    direction = _float_array(v, "hvp")
    if direction.shape != t.shape:
        raise ValueError(f"hvp: v has shape {direction.shape}; x has shape {t.shape}")
    out, _ = _call(f, inputs.args, {}, False, "hvp")
    _scalar(out, "hvp")
    if not out.requires_grad:
        return out.detach(), inputs.result(0, None, t)
    (g,) = engine.grad(out, [t], create_graph=True, retain_graph=True, allow_unused=True)
    if g is None or not g.requires_grad:  # f is at most linear in x: its Hessian is 0
        return out.detach(), inputs.result(0, None, t)
    (hv,) = engine.grad((g * direction).sum(), [t], create_graph=inputs.nested, retain_graph=True, allow_unused=True)
    return (out if inputs.nested else out.detach()), inputs.result(0, hv, t)


def jacobian(f: Callable[..., Any], argnums: Argnums = 0, mode: str = "reverse") -> Callable[..., Any]:
    """``jacobian(f)(x)``: every partial derivative, of shape ``f(x).shape + x.shape``.

    ``mode="reverse"``: f runs once, then one backward pass per output element.
    ``mode="forward"``: one forward pass with a tangent per input element (see ``jvp``).
    Pick the mode with fewer passes: reverse for few outputs, forward for few inputs.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f'jacobian: mode must be "reverse" or "forward", got {mode!r}')

    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacobian")
        if mode == "forward":
            results = [_forward_jacobian(f, args, kwargs, i) for i in nums]
        else:
            results = _reverse_jacobian(f, args, kwargs, nums)
        return results[0] if isinstance(argnums, int) else tuple(results)

    return jacobian_f


def _reverse_jacobian(
    f: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], nums: tuple[int, ...]
) -> list[Any]:
    inputs = _Inputs(args, nums, "jacobian")
    out, _ = _call(f, inputs.args, kwargs, False, "jacobian")
    rows: list[list[Any]] = [[] for _ in nums]
    for k in range(out.size):
        seed = np.zeros(out.size, out.dtype)
        seed[k] = 1.0
        for j, g in enumerate(_reverse(out, inputs, seed.reshape(out.shape))):
            rows[j].append(g)
    results = []
    for j, t in enumerate(inputs.tensors):
        shape = out.shape + t.shape
        if not rows[j]:  # an empty output: an empty Jacobian
            results.append(_like(inputs.was_tensor[j], np.zeros(shape, t.dtype)))
        elif inputs.was_tensor[j]:  # the rows as one Tensor (differentiable when nested)
            results.append(stack(rows[j]).reshape(shape))
        else:
            results.append(np.stack(rows[j]).reshape(shape))
    return results


def _like(was_tensor: bool, array: np.ndarray) -> Any:
    return Tensor(array) if was_tensor else array


def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """``hessian(f)(x)``: the second derivatives of a scalar ``f``, shape ``x.shape + x.shape``;
    the Jacobian of its gradient (reverse over reverse)."""
    if not isinstance(argnums, int):
        raise TypeError("hessian: argnums must be one position (an int); for several, use jacobian(grad(f, argnums))")
    return jacobian(grad(f, argnums), argnums)


# ----------------------------------------------------------------------------- forward mode


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J t)``: the directional derivative of ``f`` along ``tangents``, in one
    forward pass that carries each value's tangent beside it (forward mode; no Jacobian)."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    inputs = _Inputs(primals, tuple(range(len(primals))), "jvp")
    seeds: dict[int, tuple[Tensor, np.ndarray]] = {}
    for i, (t, tangent) in enumerate(zip(inputs.tensors, tangents)):
        direction = _float_array(tangent, "jvp").astype(t.dtype, copy=False)
        if direction.shape != t.shape:
            raise ValueError(f"jvp: tangent {i} has shape {direction.shape}; primal {i} has shape {t.shape}")
        seeds[id(t)] = (t, direction)
    tracer = _TangentTracer(seeds)
    previous = mode.tracer
    mode.tracer = tracer
    mode.refresh()
    try:
        out, _ = _call(f, inputs.args, {}, False, "jvp")
    finally:
        mode.tracer = previous
        mode.refresh()
    tangent_out = tracer.tangent(out)
    if tangent_out is None:
        tangent_out = np.zeros(out.shape, out.dtype)
    tangent_out = np.broadcast_to(tangent_out, out.shape).astype(out.dtype, copy=True)
    as_tensor = any(inputs.was_tensor)
    value = out if inputs.nested else out.detach()
    if as_tensor:
        return value, Tensor(tangent_out)
    return np.array(out.data), tangent_out


def _forward_jacobian(f: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], i: int) -> Any:
    x = _float_array(args[i], "jacobian")
    columns = []
    out = None
    for k in range(x.size):
        direction = np.zeros(x.size, x.dtype)
        direction[k] = 1.0

        def g(xi: Any) -> Any:
            call = list(args)
            call[i] = xi
            return f(*call, **kwargs)

        out, column = jvp(g, (args[i],), (direction.reshape(x.shape),))
        columns.append(np.asarray(column.data if is_tensor(column) else column))
    if out is None:  # an empty input: f's output shape from one plain call
        value = f(*args, **kwargs)
        out_shape = value.shape
    else:
        out_shape = np.shape(out.data if is_tensor(out) else out)
    jac = np.stack(columns, axis=-1).reshape(out_shape + x.shape) if columns else np.zeros(out_shape + x.shape, x.dtype)
    return Tensor(jac) if is_tensor(args[i]) else jac


class _TangentTracer:
    """Watches every op while ``f`` runs (the op hook ``Function.apply`` reports to) and
    computes each output's tangent from its inputs' tangents."""

    def __init__(self, seeds: dict[int, tuple[Tensor, np.ndarray]]) -> None:
        self.tangents = dict(seeds)  # id(tensor) -> (tensor, tangent); the tensor keeps the id unique
        # node -> tangent of its output: a backward formula's ctx.output is a new Tensor
        # object for the same node (forward over reverse meets it in hessian-like uses)
        self.by_node: dict[Context, np.ndarray] = {}
        self.ops = 0  # ops whose tangent was computed (what tests count)

    def tangent(self, t: Any) -> np.ndarray | None:
        if not is_tensor(t):
            return None
        found = self.tangents.get(id(t))
        if found is not None and found[0] is t:
            return found[1]
        node = t.grad_fn
        return None if node is None else self.by_node.get(node)

    def value_read(self, what: str) -> None:
        """Reading a value (``item()``, ``if x > 0``) is fine in forward mode: the tangent
        follows the branch taken, as the derivative of that branch."""

    def record(self, cls: type[Function], args: tuple[Any, ...], ctx: Context, out: Tensor) -> None:
        tangents = [self.tangent(a) for a in args]
        if all(t is None for t in tangents) or cls is ValueOp:
            return  # no input moves (or the op's derivative is zero): no tangent
        previous = mode.tracer
        mode.tracer = None  # the tangent's own ops are not part of f
        mode.refresh()
        try:
            rule = getattr(cls, "jvp", None)
            if rule is not None:
                values = [a.data if is_tensor(a) else a for a in args]
                zero = [0.0 if t is None else t for t in tangents]
                result = np.broadcast_to(rule(ctx, out.data, zero, *values), out.shape)  # a tangent per element
            elif ctx.needs_input_grad:
                result = _tangent_by_double_vjp(ctx, out, args, tangents)
            else:  # not recorded (f ran it under no_grad): a constant, as in reverse mode
                return
        finally:
            mode.tracer = previous
            mode.refresh()
        self.ops += 1
        if result is not None:
            tangent = np.asarray(result, dtype=out.dtype)
            self.tangents[id(out)] = (out, tangent)
            if out.grad_fn is not None:
                self.by_node[out.grad_fn] = tangent


def _tangent_by_double_vjp(ctx: Context, out: Tensor, args: tuple[Any, ...], tangents: list[Any]) -> Any:
    """J t for one op from its backward: backward(u) = J^T u is linear in u, so
    d/du <backward(u), t> = J t. Computed on a copy of the node whose saved values are
    constants, so the graph is only this op's backward formula."""
    local = _constant_copy(ctx)
    u = Tensor(np.zeros(out.shape, out.dtype), requires_grad=True)
    previous, was_in_backward = mode.enabled, mode.in_backward
    mode.enabled, mode.in_backward = _GUARDED, True
    try:
        results = ctx.fn.backward(local, u)
        if type(results) is not tuple:
            results = (results,)
        total = None
        for r, t, a in zip(results, tangents, args):
            if r is None or t is None or not is_tensor(r):
                continue
            if r.shape != a.shape:
                r = sum_to(r, a.shape)
            term = (r * t).sum()
            total = term if total is None else total + term
    finally:
        mode.enabled, mode.in_backward = previous, was_in_backward
    if total is None or not total.requires_grad:
        return None
    (jt,) = engine.grad(total, [u], allow_unused=True)
    return None if jt is None else jt.data


class _ConstantNode(Context):
    """A copy of a node whose saved tensors and output are constants: differentiating its
    backward formula with respect to the upstream gradient never reaches the rest of the graph."""

    __slots__ = ()

    @property
    def output(self) -> Any:
        return Tensor._make(self._output) if mode.enabled else self._output


def _constant_copy(ctx: Context) -> Context:
    """``ctx`` as a ``_ConstantNode``: the same attributes, saved tensors detached."""
    local = object.__new__(_ConstantNode)
    for slot in ("fn", "inputs", "needs_input_grad", "shape", "dtype", "_clock", "_output"):
        try:
            setattr(local, slot, getattr(ctx, slot))
        except AttributeError:
            pass
    try:
        saved = ctx._saved
    except AttributeError:
        saved = None
    else:
        local._saved = None if saved is None else tuple(Tensor._make(t.data) for t in saved)
    local.__dict__.update(ctx.__dict__)
    return local


__all__ = ["elementwise_grad", "grad", "hessian", "hvp", "jacobian", "jvp", "value_and_grad", "vjp"]
