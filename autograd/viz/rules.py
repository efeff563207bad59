"""The chain rule of one backward step, with its numbers.

For every input of an op, :func:`chain` says what the op sends it: the local derivative by
its rule and its value, and the product with the upstream gradient that makes the input's
share, e.g. ``d(a * b)/da = b = 2;  83.30029 × 2 = 166.6006 -> a``. For an elementwise op
the local derivative is a number per element (``InputEdge.local``, found by the trace);
for a matmul, a sum or a reshape the product is replaced by what the op does, with the
shape of each factor: ``upstream @ w2^T: (4, 2) @ (2, 5) = (4, 5)``.

The common ops have their formula here, written with the inputs' own names (``a * b``,
``tanh(n)``, ``b ** 3``); any other op's rule for an input is read from the first line of
its docstring (``dy/dx = ...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..engine import summed_axes
from .replay import SMALL, InputEdge, OpInfo, Trace, number, shape_text, summarize

# name -> (formula of the output, local derivative for each input). {0}, {1}: the inputs,
# {out}: the output, {c}: the op's plain argument c (PowScalar's exponent).
FORMULAS: dict[str, tuple[str, list[str]]] = {
    "Add": ("{0} + {1}", ["1", "1"]),
    "Sub": ("{0} - {1}", ["1", "-1"]),
    "Mul": ("{0} * {1}", ["{1}", "{0}"]),
    "Div": ("{0} / {1}", ["1 / {1}", "-{0} / {1}**2"]),
    "Neg": ("-{0}", ["-1"]),
    "Pow": ("{0} ** {1}", ["{1} * {0}**({1} - 1)", "{0}**{1} * log({0})"]),
    "Tanh": ("tanh({0})", ["1 - {out}**2"]),
    "Exp": ("exp({0})", ["exp({0}) = {out}"]),
    "Log": ("log({0})", ["1 / {0}"]),
    "ReLU": ("relu({0})", ["1 if {0} > 0 else 0"]),
    "Sigmoid": ("sigmoid({0})", ["{out} * (1 - {out})"]),
    "Sqrt": ("sqrt({0})", ["1 / (2 * {out})"]),
    "Sin": ("sin({0})", ["cos({0})"]),
    "Cos": ("cos({0})", ["-sin({0})"]),
    "Abs": ("|{0}|", ["sign({0})"]),
}
SYMBOLS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Pow": "**", "MatMul": "@", "PowScalar": "**"}
SIMPLE_NAME = re.compile(r"[A-Za-z_][\w.]*|-?\d+(\.\d*)?(e[-+]?\d+)?|-?inf|nan")


def bracket(name: str) -> str:
    """A name as it reads inside a formula: ``(x1*w1 + x2*w2)`` if it is not a plain name or number."""
    return name if SIMPLE_NAME.fullmatch(name) else f"({name})"


def derivative(of: str, wrt: str) -> str:
    """``dloss/dw1``, ``d(a * b)/da``, ``do/d(x1*w1 + x2*w2)``."""
    return f"d{bracket(of)}/d{bracket(wrt)}"


def operand(tr: Trace, source: str, names: dict[str, str]) -> str:
    """How a formula names an input: a literal by its value, a tensor by its label."""
    return tr.literal_text(source) if tr.tensor(source).literal else names[source]


def _operands(tr: Trace, op: OpInfo, names: dict[str, str]) -> list[str]:
    return [bracket(operand(tr, e.source, names)) for e in op.inputs]


def formula(tr: Trace, op: OpInfo, names: dict[str, str]) -> str | None:
    """The op as the math it computes with its inputs' names: ``a * b``, ``b ** 3``, ``x @ w1``;
    None for ops without a formula here."""
    args = _operands(tr, op, names)
    out = bracket(names[op.output])
    if op.name == "PowScalar" and len(args) == 1:
        return f"{args[0]} ** {_exponent(op)}"
    if op.name == "MatMul" and len(args) == 2:
        return f"{args[0]} @ {args[1]}"
    if op.name in FORMULAS and len(args) == len(FORMULAS[op.name][1]):
        return FORMULAS[op.name][0].format(*args, out=out)
    return None


def folded(tr: Trace, op: OpInfo) -> str | None:
    """How a picture shows an op's literal and its plain exponent: ``* 2``, ``10 /``, ``** 3``."""
    if op.name == "PowScalar":
        return f"** {_exponent(op)}"
    symbol = SYMBOLS.get(op.name)
    for edge in op.inputs:
        if tr.tensor(edge.source).literal:
            value = tr.literal_text(edge.source)
            if symbol is None:
                return f"with {value}"
            return f"{symbol} {value}" if edge.position > 0 else f"{value} {symbol}"
    return None


def shown_options(op: OpInfo) -> dict[str, object]:
    """The op's plain arguments worth showing: all but ``axis=None`` and ``keepdims=False``."""
    return {
        key: value
        for key, value in op.options.items()
        if not (key == "axis" and value is None or key == "keepdims" and value is False)
    }


def _exponent(op: OpInfo) -> str:
    c = next(iter(op.options.values()), "c")
    return number(float(c)) if isinstance(c, (int, float, np.number)) else str(c)


def local_rule(tr: Trace, op: OpInfo, edge: InputEdge, names: dict[str, str]) -> str:
    """The local derivative's rule for one input: ``b`` for the 1st input of ``a * b``."""
    args = _operands(tr, op, names)
    out = bracket(names[op.output])
    if op.name == "PowScalar":
        c = next(iter(op.options.values()), None)
        if isinstance(c, (int, float, np.number)):
            c = float(c)
            if c == 0:
                return "0"
            if c == 1:
                return "1"
            if c == 2:
                return f"2 * {args[0]}"
            return f"{number(c)} * {args[0]}**{number(c - 1)}"
    if op.name in FORMULAS and len(args) == len(FORMULAS[op.name][1]):
        return FORMULAS[op.name][1][edge.position].format(*args, out=out)
    return docstring_rule(op, edge)


_PIECE = re.compile(r"d\w*/d(\w+)\s*=")


def docstring_rule(op: OpInfo, edge: InputEdge) -> str:
    """The part of the op's rule (its docstring's first line) about this input: ``dy/dx = ...``."""
    _, _, after = op.rule.partition(";")
    after = after.strip() or op.rule
    pieces = list(_PIECE.finditer(after))
    for i, match in enumerate(pieces):
        if match.group(1) == edge.arg_name or len(pieces) == 1:
            end = pieces[i + 1].start() if i + 1 < len(pieces) else len(after)
            return after[match.start() : end].strip().rstrip(",").strip()
    return after


@dataclass
class Step:
    """What one input receives in one backward step, as text."""

    target: str  # the input's label
    rule: str  # "d(a * b)/da = b = 2" or "upstream @ w2^T: (4, 2) @ (2, 5) = (4, 5)"
    product: str  # "83.30029 × 2 = 166.6006" (may be empty when ``rule`` says it all)
    value: str  # the share the input gets, summarised

    def lines(self) -> list[str]:
        """One line when short, else the rule and the product on separate lines."""
        tail = f" -> {self.target}"
        if self.product and len(self.rule) + len(self.product) < 70:
            return [f"{self.rule};  {self.product}{tail}"]
        if self.product:
            return [self.rule, f"{self.product}{tail}"]
        return [f"{self.rule}{tail}"]


def _small(*arrays: np.ndarray | None) -> bool:
    return all(a is not None and np.size(a) <= SMALL for a in arrays)


def chain(tr: Trace, op: OpInfo, edge: InputEdge, names: dict[str, str], precision: int | None = None) -> Step:
    """The chain rule for one input of an op that gradient reached (``edge.term`` is set)."""
    assert edge.term is not None and op.upstream is not None
    target = tr.tensor(edge.source)
    name = names[target.id]
    grad = edge.term.grad
    upstream = op.upstream
    out = tr.tensor(op.output)
    of = names[out.id] if out.name != out.id else formula(tr, op, names) or names[out.id]  # its own name, if it has one
    shares = summarize(grad, precision=precision)
    reduced = ""
    if edge.reduced_from is not None:
        axes = summed_axes(edge.reduced_from, target.shape)
        where = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"
        reduced = f", summed over {where} -> {shape_text(target.shape)}"

    def s(a: np.ndarray | None) -> str:
        return summarize(a, precision=precision)

    if edge.local is not None and edge.product is not None:  # elementwise: a product
        rule = local_rule(tr, op, edge, names)
        head = f"{derivative(of, name)} = {rule}"
        value = s(edge.local)
        if value not in (rule, f"all {rule}"):
            head += f" = {value}"
        if _small(upstream, edge.local, edge.product):
            product = f"{s(upstream)} × {s(edge.local)} = {s(edge.product)}"
            if reduced:
                product += f"{reduced} = {shares}"
        else:
            product = f"{shape_text(np.shape(upstream))} × {shape_text(np.shape(edge.local))} elementwise"
            product += f" = {shape_text(np.shape(edge.product))}{reduced} = {shares}"
        return Step(name, head, product, shares)

    shape_of = {e.position: tr.tensor(e.source).shape for e in op.inputs}
    up = shape_text(np.shape(upstream))
    if op.name == "MatMul" and len(op.inputs) == 2 and all(len(shape_of[i]) == 2 for i in (0, 1)):
        a, b = (operand(tr, e.source, names) for e in op.inputs)
        (n, k), (_, m) = shape_of[0], shape_of[1]
        if edge.position == 0:
            rule = f"upstream @ {bracket(b)}^T: {up} @ {shape_text((m, k))} = {shape_text((n, k))}"
        else:
            rule = f"{bracket(a)}^T @ upstream: {shape_text((k, n))} @ {up} = {shape_text((k, m))}"
        return Step(name, f"{rule}{reduced} = {shares}", "", shares)
    if op.name in ("Sum", "Mean"):
        how = "copied" if op.name == "Sum" else f"divided by {_count(target.shape, upstream)} and copied"
        rule = f"every element gets the upstream {s(upstream)}" if _small(upstream) else f"upstream {up}"
        return Step(name, f"{rule}, {how} to {shape_text(target.shape)} = {shares}", "", shares)
    rule = docstring_rule(op, edge)
    return Step(name, f"{rule}: upstream {up} -> {shape_text(target.shape)}{reduced} = {shares}", "", shares)


def _count(shape: tuple[int, ...], upstream: np.ndarray) -> str:
    """How many elements of the input each upstream element averages: n of Mean."""
    n = int(np.prod(shape, dtype=np.int64)) // max(int(np.size(upstream)), 1)
    return str(n)
