"""Every op: forward (numpy) and backward side by side.

Each docstring states the math. Backward returns one gradient per argument of forward,
in the *output's* broadcast shape if that is easier: the engine sums it back to the
input's shape. Each backward is one formula written with operations that numpy arrays and
Tensors share: in a plain ``backward()`` it runs on arrays (numpy's speed, nothing
recorded); under ``create_graph=True`` on Tensors, so every gradient here can be
differentiated again. Masks such as ``x > 0`` are constants: their derivative is zero
wherever it exists.

One module per family: ``arithmetic`` (+ - * / ** @), ``elementwise`` (exp, log, tanh...),
``reduce`` (sum, mean, max...), ``shape`` (reshape, transpose, indexing, concatenate...),
``select`` (where, maximum, minimum, clip), ``softmax``, and ``broadcast`` (the engine's
un-broadcasting). Everything public is importable from ``autograd.ops`` itself.
"""

from .broadcast import BroadcastTo, broadcast_to, SumTo, sum_to, summed_axes
from .arithmetic import Add, Sub, Neg, Mul, Div, Pow, PowScalar, MatMul
from .elementwise import Exp, Log, Sqrt, Tanh, Sigmoid, ReLU, Abs, Cast
from .reduce import Sum, Mean, Max, Min
from .shape import Reshape, Transpose, GetItem, IndexAdd, Concatenate, Stack, concatenate, stack
from .select import Where, Maximum, Minimum, Clip, ValueOp, where, maximum, minimum
from .softmax import Softmax, LogSoftmax

__all__ = [
    "Abs",
    "Add",
    "BroadcastTo",
    "Cast",
    "Clip",
    "Concatenate",
    "Div",
    "Exp",
    "GetItem",
    "IndexAdd",
    "Log",
    "LogSoftmax",
    "MatMul",
    "Max",
    "Maximum",
    "Mean",
    "Min",
    "Minimum",
    "Mul",
    "Neg",
    "Pow",
    "PowScalar",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "Sqrt",
    "Stack",
    "Sub",
    "Sum",
    "SumTo",
    "Tanh",
    "Transpose",
    "ValueOp",
    "Where",
    "broadcast_to",
    "concatenate",
    "maximum",
    "minimum",
    "stack",
    "sum_to",
    "summed_axes",
    "where",
]
