"""Losses as functions and as modules, with PyTorch's semantics, argument names and defaults.

Every loss takes ``reduction="mean"`` (the default), ``"sum"`` or ``"none"`` (the elementwise
losses, unreduced); ``kl_div`` also takes ``"batchmean"``. Targets may be Tensors (they get
gradients where the loss is differentiable in them) or numpy arrays / Python numbers, which
are used in the input's dtype.

Positional arguments sit where PyTorch has them. Where PyTorch keeps the deprecated
``size_average`` and ``reduce`` slots in its signature, the arguments after them are
keyword-only here: a call written for PyTorch with those options passed by position fails
loudly instead of meaning something else (and ``size_average=``/``reduce=`` name
``reduction=``).

How each is built. Most losses are compositions of recorded ops (``log_softmax``, ``where``,
``abs``...), so their first and second derivatives come from those ops. Two have an op of
their own where stability needs it: ``binary_cross_entropy`` (``BinaryCrossEntropy``: the
log clamped at -100 and PyTorch's finite gradient at 0 and 1) and
``binary_cross_entropy_with_logits`` (autograd's ``Softplus`` op: log(1 + e^x) without
overflow, whose slope at 0 is 1/2, which relu(x) + log1p(e^-|x|) composed from ops would
get wrong).
``ClassLabels`` checks class indices on every call (also in ``autograd.compile``'s code).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from autograd import Function, Tensor, ops, where
from autograd.function import as_tensor, is_tensor

from .module import Module

REDUCTIONS = ("mean", "sum", "none")
KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")
LOG_CLAMP = -100.0  # binary_cross_entropy's logs are clamped here (PyTorch's value)
BCE_EPS = float(np.float32(1e-12))  # ... and its gradient divides by max(x (1 - x), this): PyTorch's 1e-12f


# ----------------------------------------------------------------------------- shared checks


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(reduction: str, op: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _refuse_legacy(op: str, legacy: dict[str, Any]) -> None:
    """PyTorch's deprecated size_average= / reduce= name reduction=; anything else is unknown."""
    for key in legacy:
        if key in ("size_average", "reduce"):
            raise TypeError(f'{op}: {key}= is PyTorch\'s deprecated spelling; write reduction="mean", "sum" or "none"')
        raise TypeError(f"{op}() got an unexpected keyword argument {key!r}")


def _check_weight_position(weight: Any, op: str) -> None:
    if isinstance(weight, str):
        raise TypeError(
            f"{op}: the third positional argument is weight (as in PyTorch), got {weight!r}; "
            f"write reduction={weight!r} by keyword"
        )


def _input(input: Any, op: str) -> Tensor:
    """The input as a floating-point Tensor."""
    input = as_tensor(input, op=op)
    if input.dtype.kind != "f":
        raise TypeError(
            f"{op}: input must be floating point, got dtype {input.dtype}; write x.astype(np.float64) "
            "(or np.float32) first"
        )
    return input


def _float_like(value: Any, input: Tensor, op: str, what: str) -> Tensor:
    """``value`` (a target, a weight) as a Tensor in ``input``'s dtype; a Tensor stays one (cast by
    a recorded op, so that its gradient flows)."""
    if is_tensor(value):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{op}: {what} must hold real numbers, got dtype {value.dtype}")
        return value.astype(input.dtype)
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {what} must hold real numbers, got dtype {array.dtype}")
    return as_tensor(array.astype(input.dtype, copy=False))


def _same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input shape {input.shape} and target shape {target.shape} differ; they must be "
            "equal (PyTorch broadcasts with a warning; here broadcasting is refused, as it is usually a bug)"
        )


def _broadcast_weight(weight: Any, input: Tensor, op: str, what: str = "weight") -> Tensor | None:
    """An elementwise weight that broadcasts to the input's shape (and leaves it unchanged)."""
    if weight is None:
        return None
    w = _float_like(weight, input, op, what)
    try:
        shape = np.broadcast_shapes(w.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise ValueError(
            f"{op}: {what} of shape {w.shape} does not broadcast to the input's shape {input.shape}; "
            f"give {what} a shape that does, e.g. {input.shape[-1:]} (one per class of the last axis) "
            f"or {input.shape}"
        )
    return w


# ----------------------------------------------------------------------------- regression


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(pred - target)**2, averaged ("mean"), added up ("sum") or elementwise ("none").

    d/dpred of the "sum" form is 2 (pred - target): the source's ``mse_grad``.
    """
    _check_reduction(reduction, "mse_loss")
    target_shape = target.shape if isinstance(target, Tensor) else np.shape(target)
    if pred.shape != target_shape:
        raise ValueError(
            f"mse_loss: prediction shape {pred.shape} and target shape {target_shape} "
            "differ; they must be equal (broadcasting here is usually a bug)"
        )
    diff = pred - target
    return _reduce(diff * diff, reduction)


def _difference(input: Any, target: Any, op: str) -> Tensor:
    input = _input(input, op)
    target = _float_like(target, input, op, "target")
    _same_shape(input, target, op)
    return input - target


def l1_loss(input: Any, target: Any, *, reduction: str = "mean", **legacy: Any) -> Tensor:
    """l = |x - t| elementwise, then reduced.

    dl/dx = sign(x - t) = -dl/dt (0 where x == t, as PyTorch); the second derivative is 0.
    """
    if legacy:
        _refuse_legacy("l1_loss", legacy)
    _check_reduction(reduction, "l1_loss")
    return _reduce(_difference(input, target, "l1_loss").abs(), reduction)


def smooth_l1_loss(input: Any, target: Any, *, reduction: str = "mean", beta: float = 1.0, **legacy: Any) -> Tensor:
    """With d = x - t:  l = d**2 / (2 beta) where |d| < beta, else |d| - beta / 2; then reduced.

    dl/dx = d / beta where |d| < beta, else sign(d);  dl/dt = -dl/dx;  d2l/dx2 = 1/beta inside, 0
    outside. ``beta=0`` is ``l1_loss`` (as PyTorch); a negative beta is refused.
    """
    if legacy:
        _refuse_legacy("smooth_l1_loss", legacy)
    _check_reduction(reduction, "smooth_l1_loss")
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0 (0 gives l1_loss), got {beta!r}")
    diff = _difference(input, target, "smooth_l1_loss")
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(where(size < beta, diff * diff * (0.5 / beta), size - 0.5 * beta), reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """With d = x - t:  l = d**2 / 2 where |d| < delta, else delta (|d| - delta / 2); then reduced.

    dl/dx = d where |d| < delta, else delta sign(d);  dl/dt = -dl/dx. Equal to
    delta * smooth_l1_loss(beta=delta). delta must be > 0 (as PyTorch).
    """
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta!r}")
    diff = _difference(input, target, "huber_loss")
    size = diff.abs()
    return _reduce(where(size < delta, diff * diff * 0.5, (size - 0.5 * delta) * delta), reduction)


def kl_div(input: Any, target: Any, *, reduction: str = "mean", log_target: bool = False, **legacy: Any) -> Tensor:
    """PyTorch's KL divergence: ``input`` holds log-probabilities log q, ``target`` probabilities p
    (or log p with ``log_target=True``).

    l = p (log p - input) elementwise (0 where p == 0: xlogy), or e^t (t - input) for t = log p;
    dl/dinput = -p;  dl/dp = log p + 1 - input (taken as -input at p == 0, where PyTorch gives
    NaN);  with log_target, dl/dt = e^t (t - input + 1).

    Reductions: "sum"; "batchmean" = sum / input.shape[0] (the KL divergence per sample, the
    mathematically right one; the sum for a 0-d input); "mean" averages over ALL elements, as
    PyTorch does (which is batchmean / number of classes, not the KL divergence); "none".
    """
    if legacy:
        _refuse_legacy("kl_div", legacy)
    _check_reduction(reduction, "kl_div", KL_REDUCTIONS)
    input = _input(input, "kl_div")
    target = _float_like(target, input, "kl_div", "target")
    _same_shape(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        zero = target == 0.0
        loss = target * where(zero, 1.0, target).log() - target * input  # log of a negative p: NaN
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim > 0 else total
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- classification


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    **legacy: Any,
) -> Tensor:
    """Cross-entropy of logits ``input`` against class indices or class probabilities (PyTorch's).

    Shapes: input (N, C) or (N, C, d1, d2, ...) with the classes on axis 1, or (C,) unbatched.
    ``target`` holds either integer class indices, shape (N, d1, ...) (or () unbatched), each in
    [0, C) or equal to ``ignore_index``; or floating-point class probabilities of the input's shape.

    With z = log_softmax(input, axis=1) (stable: finite for logits of 1e4), w = ``weight`` (C,)
    (default all 1), eps = ``label_smoothing`` and each sample's coefficients q over the classes,

        l_i = -sum_c w_c q_ic z_ic,     dl_i/dinput_ic = (sum_k w_k q_ik) softmax_ic - w_c q_ic

    where q = (1 - eps) onehot(t_i) + eps / C for class indices (q = 0 where t_i ==
    ignore_index), and q = (1 - eps) p_i + eps / C for probabilities p (dl_i/dp_ic =
    -(1 - eps) w_c z_ic: a probability target gets a gradient too).

    "mean" is PyTorch's weighted mean: for class indices sum_i l_i / sum_i w_{t_i} over the
    targets that are not ignored (NaN if all are); for probabilities sum_i l_i / (number of
    samples), weights or not. "sum" adds the l_i, "none" returns them, shape (N, d1, ...) (0 at
    ignored targets). ``ignore_index`` is refused with probability targets, as in PyTorch.

    ``weight`` is a constant in PyTorch; here a Tensor weight that requires grad gets its gradient.
    An empty batch is refused (PyTorch returns NaN).
    """
    if legacy:
        _refuse_legacy("cross_entropy", legacy)
    _check_weight_position(weight, "cross_entropy")
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got {label_smoothing!r}")
    return _class_loss(input, target, weight, ignore_index, reduction, float(label_smoothing), "cross_entropy")


def nll_loss(
    input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean", **legacy: Any
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` at integer class indices (PyTorch's).

    Shapes as ``cross_entropy`` (input (N, C, d1, ...) or (C,); target (N, d1, ...) or ()), with
    class indices only. l_i = -w_{t_i} input[i, t_i] (0 where t_i == ignore_index);
    dl_i/dinput_ic = -w_c [c == t_i]. "mean" divides by sum_i w_{t_i} over the targets that are
    not ignored, as PyTorch. ``cross_entropy(x, t)`` is ``nll_loss(log_softmax(x, axis=1), t)``.
    """
    if legacy:
        _refuse_legacy("nll_loss", legacy)
    _check_weight_position(weight, "nll_loss")
    _check_reduction(reduction, "nll_loss")
    return _class_loss(input, target, weight, ignore_index, reduction, 0.0, "nll_loss")


def _class_loss(input: Any, target: Any, weight: Any, ignore_index: int, reduction: str, eps: float, op: str) -> Tensor:
    """cross_entropy (op "cross_entropy": log_softmax first) and nll_loss (input is already z)."""
    input = _input(input, op)
    ignore_index = operator.index(ignore_index)
    if input.ndim == 0:
        raise ValueError(
            f"{op}: input of shape () has no class axis; give logits of shape (C,), (N, C) or (N, C, d1, ...)"
        )
    if not is_tensor(target):
        target = as_tensor(np.asarray(target), op=op)
    n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    index_shape = () if input.ndim == 1 else input.shape[:1] + input.shape[2:]
    probabilities = target.dtype.kind == "f" and target.shape != index_shape
    if op == "nll_loss" and target.dtype.kind == "f":
        raise TypeError(
            f"nll_loss: target must be integer class indices, got dtype {target.dtype}; for class "
            "probabilities use cross_entropy (on logits)"
        )
    if probabilities:
        if target.shape != input.shape:
            raise ValueError(
                f"{op}: input of shape {input.shape} takes class indices of shape {index_shape} (integers) "
                f"or class probabilities of shape {input.shape} (floats); got a float target of shape "
                f"{target.shape}"
            )
        if ignore_index != -100:
            raise ValueError(
                f"{op}: ignore_index={ignore_index} applies to class-index targets only (as in PyTorch); with "
                "class probabilities give the samples to skip zero probabilities (or leave ignore_index out)"
            )
    else:
        if target.shape != index_shape:
            raise ValueError(
                f"{op}: input of shape {input.shape} takes class indices of shape {index_shape} "
                f"(input (N, C, d1, ...) -> target (N, d1, ...); (C,) -> ()), or class probabilities of "
                f"shape {input.shape}; got target of shape {target.shape}"
            )
        if target.dtype.kind not in "iu":
            raise TypeError(
                f"{op}: class-index targets must be integers, got dtype {target.dtype} for shape "
                f"{target.shape} (class probabilities must have the input's shape {input.shape})"
            )
    if input.size == 0:
        raise ValueError(f"{op}: the batch is empty (input of shape {input.shape}); there is no loss to take")
    w = None
    if weight is not None:
        w = _float_like(weight, input, op, "weight")
        if w.shape != (n_classes,):
            raise ValueError(
                f"{op}: weight must hold one number per class, shape ({n_classes},) for input of shape "
                f"{input.shape}; got weight of shape {w.shape}"
            )

    unbatched = input.ndim == 1
    if unbatched:  # as a batch of one
        input = input.reshape(1, n_classes)
        target = target.reshape((1, n_classes) if probabilities else (1,))
    along = (1, n_classes) + (1,) * (input.ndim - 2)  # a per-class array, broadcast along axis 1
    w_b = None if w is None else w.reshape(along)
    z = input.log_softmax(axis=1) if op == "cross_entropy" else input

    if probabilities:
        q = _float_like(target, input, op, "target")
        if eps:
            q = q * (1.0 - eps) + eps / n_classes
        per_sample = -(z * (q if w_b is None else q * w_b)).sum(axis=1)
        total = None  # "mean" divides by the number of samples
    else:
        labels = ClassLabels.apply(target, n_classes, ignore_index, op)
        kept = labels != ignore_index  # the samples that count
        safe = where(kept, labels, 0)  # a valid class everywhere (ignored samples get weight 0)
        kept = kept.astype(input.dtype)
        # z[i, t_i, j, k...]: an O(N) pick (its backward adds into zeros at the same places)
        rest = input.ndim - 2
        grid = [
            np.arange(n).reshape((1,) * (a + 1) + (n,) + (1,) * (rest - a - 1)) for a, n in enumerate(input.shape[2:])
        ]
        index = (np.arange(input.shape[0]).reshape((-1,) + (1,) * rest), safe, *grid)
        picked = z[index]
        w_t = kept if w is None else w[safe] * kept  # w_{t_i}, 0 where ignored
        per_sample = -(picked * w_t)
        if eps:  # PyTorch's smoothing term: -sum_c w_c z_c per sample kept, over C
            smooth = -(z if w_b is None else z * w_b).sum(axis=1) * kept
            per_sample = per_sample * (1.0 - eps) + smooth * (eps / n_classes)
        total = w_t.sum()  # sum of w_{t_i} over the samples that count

    if reduction == "none":
        return per_sample.reshape(()) if unbatched else per_sample
    if reduction == "sum":
        return per_sample.sum()
    if total is None:
        return per_sample.mean()
    with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: 0 / 0 = NaN, as PyTorch
        return per_sample.sum() / total


class ClassLabels(Function):
    """y = labels, checked to be class indices in [0, n_classes) or ignore_index (an index: no gradient).

    An op rather than a check in cross_entropy, so that autograd.compile's code checks the
    labels of every call, not only those of the call it traced.
    """

    @staticmethod
    def forward(
        ctx: Any, labels: Tensor, n_classes: int, ignore_index: int | None = None, op: str = "cross_entropy"
    ) -> Any:
        return check_labels(labels.data, n_classes, ignore_index, op)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[None, None, None, None]:
        return None, None, None, None


def check_labels(labels: Any, n_classes: int, ignore_index: int | None = None, op: str = "cross_entropy") -> Any:
    """``labels`` if every one lies in [0, n_classes) (or equals ignore_index), else a ValueError
    saying which do not."""
    if not isinstance(labels, (np.ndarray, np.generic)):  # a value autograd.compile traces: one call
        return labels.call(check_labels, labels, n_classes, ignore_index, op)
    values = np.asarray(labels)  # a numpy scalar as a 0-d array; an array as it is
    bad = (values < 0) | (values >= n_classes)
    if ignore_index is not None:
        bad &= values != ignore_index
    if bad.any():
        wrong = np.unique(values[bad])
        also = "" if ignore_index is None else f" (or equal ignore_index={ignore_index})"
        raise ValueError(
            f"{op}: labels must lie in [0, {n_classes}){also}, got {values.min()}..{values.max()} in the "
            f"target of shape {values.shape}: {', '.join(map(str, wrong[:5]))}{'...' if len(wrong) > 5 else ''} "
            "out of range (mark samples to skip with ignore_index=)"
        )
    return labels


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, *, reduction: str = "mean", **legacy: Any
) -> Tensor:
    """Binary cross-entropy of probabilities ``input`` x in [0, 1] against targets t (PyTorch's).

    l = -w (t log x + (1 - t) log(1 - x)), each log clamped at -100 (so x = 0 or 1 gives a
    finite loss), then reduced ("mean" averages w l over all elements: no weighted mean).
    dl/dx = w (x - t) / max(x (1 - x), 1e-12) (PyTorch's formula: finite at 0 and 1, and the
    exact slope wherever x (1 - x) >= 1e-12); dl/dt = w (log(1 - x) - log x), clamped alike
    (finite where PyTorch's is +-inf, at x = 0 or 1). ``weight`` broadcasts to the input's shape.
    For logits, ``binary_cross_entropy_with_logits`` is stabler.
    """
    if legacy:
        _refuse_legacy("binary_cross_entropy", legacy)
    _check_weight_position(weight, "binary_cross_entropy")
    _check_reduction(reduction, "binary_cross_entropy")
    input = _input(input, "binary_cross_entropy")
    target = _float_like(target, input, "binary_cross_entropy", "target")
    _same_shape(input, target, "binary_cross_entropy")
    w = _broadcast_weight(weight, input, "binary_cross_entropy")
    loss = BinaryCrossEntropy.apply(input, target)
    return _reduce(loss if w is None else loss * w, reduction)


def binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None, **legacy: Any
) -> Tensor:
    """Binary cross-entropy of logits x against targets t: sigmoid and log in one stable step.

    With softplus(x) = log(1 + e^x) (never overflows: finite for logits of 1e4) and p =
    ``pos_weight`` (default 1; broadcast against the input, typically one per class of the last axis):

        l = w (p t softplus(-x) + (1 - t) softplus(x))      (= -w (p t log s + (1 - t) log(1 - s)), s = sigmoid(x))
        dl/dx = w ((1 - t) sigmoid(x) - p t sigmoid(-x)),   dl/dt = w (softplus(x) - p softplus(-x))

    then reduced ("mean" averages over all elements). ``weight`` broadcasts to the input's shape.
    """
    op = "binary_cross_entropy_with_logits"
    if legacy:
        _refuse_legacy(op, legacy)
    _check_weight_position(weight, op)
    _check_reduction(reduction, op)
    input = _input(input, op)
    target = _float_like(target, input, op, "target")
    _same_shape(input, target, op)
    w = _broadcast_weight(weight, input, op)
    p = _broadcast_weight(pos_weight, input, op, "pos_weight")
    positive = target if p is None else target * p
    loss = positive * _softplus(-input) + (1.0 - target) * _softplus(input)
    return _reduce(loss if w is None else loss * w, reduction)


def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x) by autograd's Softplus op, with no linear piece (threshold inf): stable, and
    its slope is sigmoid(x) everywhere (1/2 at 0, where relu(x) + log1p(e^-|x|) composed from
    ops would give 0 or 1)."""
    return ops.softplus(x, 1.0, math.inf)


def _log_or_clamp(x: Any, ok: np.ndarray) -> Any:
    """log(x) where ``ok`` (log x > -100 at forward time), else -100: with x replaced by 1
    where not ok, so that no log(0) (and no 0 * inf in a gradient) is ever computed."""
    return np.where(ok, np.log(np.where(ok, x, 1.0)), LOG_CLAMP)


def check_probabilities(x: Any, op: str) -> Any:
    """``x`` if every value lies in [0, 1], else a ValueError naming ``op``."""
    if not isinstance(x, (np.ndarray, np.generic)):  # a value autograd.compile traces: one call
        return x.call(check_probabilities, x, op)
    values = np.asarray(x)  # a numpy scalar as a 0-d array; an array as it is
    inside = (values >= 0) & (values <= 1)
    if not inside.all():
        outside = values[~inside]
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1], got {outside.size} value(s) outside in the "
            f"input of shape {values.shape} (e.g. {outside.flat[0]}); for logits use binary_cross_entropy_with_logits"
        )
    return x


class BinaryCrossEntropy(Function):
    """y = -(t max(log x, -100) + (1 - t) max(log(1 - x), -100));
    dy/dx = (x - t) / max(x (1 - x), 1e-12)  (PyTorch's),  dy/dt = max(log(1 - x), -100) - max(log x, -100)

    dy/dx is the exact slope wherever x (1 - x) >= 1e-12; at x = 0 or 1 it stays finite, as in
    PyTorch. Both gradients are written with ops Tensors share, so they differentiate again.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, t: Tensor) -> np.ndarray:
        values = check_probabilities(x.data, "binary_cross_entropy")
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped below
            log_x = np.log(values)
            log_1mx = np.log1p(-values)
        ctx.save_for_backward(x, t)
        ctx.x_ok = log_x > LOG_CLAMP  # where the logs are not clamped
        ctx.rest_ok = log_1mx > LOG_CLAMP
        return -(t.data * np.maximum(log_x, LOG_CLAMP) + (1.0 - t.data) * np.maximum(log_1mx, LOG_CLAMP))

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[Any, Any]:
        x, t = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad
        grad_x = grad * (x - t) / np.maximum(x * (1.0 - x), BCE_EPS) if need_x else None
        grad_t = grad * (_log_or_clamp(1.0 - x, ctx.rest_ok) - _log_or_clamp(x, ctx.x_ok)) if need_t else None
        return grad_x, grad_t


# ----------------------------------------------------------------------------- modules


def _weight_buffer(module: Module, name: str, weight: Any) -> None:
    """Keep a per-class weight as a buffer (in state_dict, cast by to(dtype)), as PyTorch does."""
    if weight is not None and not is_tensor(weight):
        weight = Tensor(np.asarray(weight, dtype=np.float64))
    module.register_buffer(name, weight)


class MSELoss(Module):
    """Mean squared error as a module: ``MSELoss(reduction="sum")(pred, target)``."""

    def __init__(self, reduction: str = "mean") -> None:
        _check_reduction(reduction, "MSELoss")
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return mse_loss(pred, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(Module):
    """``cross_entropy`` as a module: ``CrossEntropyLoss(weight=None, *, ignore_index=-100,
    reduction="mean", label_smoothing=0.0)(input, target)``."""

    weight: Tensor | None  # a buffer (register_buffer in __init__)

    def __init__(
        self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
    ) -> None:
        _check_weight_position(weight, "CrossEntropyLoss")
        _check_reduction(reduction, "CrossEntropyLoss")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must lie in [0, 1], got {label_smoothing!r}")
        _weight_buffer(self, "weight", weight)
        self.ignore_index = operator.index(ignore_index)
        self.reduction = reduction
        self.label_smoothing = float(label_smoothing)

    def forward(self, input: Any, target: Any) -> Tensor:
        return cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" + (
            f", label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        )


class NLLLoss(Module):
    """``nll_loss`` as a module: ``NLLLoss(weight=None, *, ignore_index=-100, reduction="mean")``."""

    weight: Tensor | None  # a buffer (register_buffer in __init__)

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean") -> None:
        _check_weight_position(weight, "NLLLoss")
        _check_reduction(reduction, "NLLLoss")
        _weight_buffer(self, "weight", weight)
        self.ignore_index = operator.index(ignore_index)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCELoss(Module):
    """``binary_cross_entropy`` as a module: ``BCELoss(weight=None, *, reduction="mean")``."""

    weight: Tensor | None  # a buffer (register_buffer in __init__)

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        _check_weight_position(weight, "BCELoss")
        _check_reduction(reduction, "BCELoss")
        _weight_buffer(self, "weight", weight)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """``binary_cross_entropy_with_logits`` as a module:
    ``BCEWithLogitsLoss(weight=None, *, reduction="mean", pos_weight=None)``."""

    weight: Tensor | None  # buffers (register_buffer in __init__)
    pos_weight: Tensor | None

    def __init__(self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None) -> None:
        _check_weight_position(weight, "BCEWithLogitsLoss")
        _check_reduction(reduction, "BCEWithLogitsLoss")
        _weight_buffer(self, "weight", weight)
        _weight_buffer(self, "pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class L1Loss(Module):
    """``l1_loss`` as a module: ``L1Loss(*, reduction="mean")``."""

    def __init__(self, *, reduction: str = "mean") -> None:
        _check_reduction(reduction, "L1Loss")
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class SmoothL1Loss(Module):
    """``smooth_l1_loss`` as a module: ``SmoothL1Loss(*, reduction="mean", beta=1.0)``."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        _check_reduction(reduction, "SmoothL1Loss")
        if not beta >= 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0 (0 gives L1Loss), got {beta!r}")
        self.reduction = reduction
        self.beta = beta

    def forward(self, input: Any, target: Any) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"


class HuberLoss(Module):
    """``huber_loss`` as a module: ``HuberLoss(reduction="mean", delta=1.0)``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        _check_reduction(reduction, "HuberLoss")
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {delta!r}")
        self.reduction = reduction
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Tensor:
        return huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


class KLDivLoss(Module):
    """``kl_div`` as a module: ``KLDivLoss(*, reduction="mean", log_target=False)`` (input: log-probabilities)."""

    def __init__(self, *, reduction: str = "mean", log_target: bool = False) -> None:
        _check_reduction(reduction, "KLDivLoss", KL_REDUCTIONS)
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Any, target: Any) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"
