"""Every Function subclass in autograd and nn has a gradient test.

The gradient tests (tests/test_ops_*.py and tests/test_nn_*.py) keep their cases in a
module-level ``CASES`` list of ``op_checks.Case`` (files of other tests have none). Here every case is run on a couple of
drawn inputs, with its gradient formed under ``create_graph=True``, and the classes of every
node in both graphs are collected: the ops a case reaches, including the ones only its
backward uses (IndexAdd under GetItem, SumTo under broadcasting). A Function subclass that
no case reaches fails the test: write a Case for it (or, for the few that cannot have one,
add it to ``NOT_DIFFERENTIABLE`` with the reason).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_checks import Case

import autograd
import nn
from autograd import Function, Tensor, grad
from autograd.engine import topological_order

HERE = Path(__file__).resolve().parent
CASE_FILES = sorted(p.stem for p in [*HERE.glob("test_ops_*.py"), *HERE.glob("test_nn_*.py")])

# Functions that no gradient case can reach, and why.
NOT_DIFFERENTIABLE = {
    "ValueOp": "comparisons, masks, sign, floor...: computed on values, never recorded",
    "OnceDifferentiated": "the engine's stand-in for a @once_differentiable backward's result (tests/test_engine.py)",
    "CompiledOutput": "autograd.compile's node for a whole compiled function (tests/test_compile.py)",
    "ClassLabels": "integer class labels as a graph constant (no gradient; tests/test_nn.py)",
}


def all_functions() -> dict[str, type]:
    """Every Function subclass defined in the autograd and nn packages."""
    for package in (autograd, nn):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)
    found: dict[str, type] = {}
    todo = list(Function.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        module = cls.__module__
        if (module.startswith("autograd.") or module.startswith("nn.")) and not inspect.isabstract(cls):
            if cls.__name__.startswith("_") and cls.__subclasses__():
                continue  # a shared base such as _Extreme: its subclasses are what ops use
            found[f"{module}.{cls.__qualname__}"] = cls
    return found


def all_cases() -> list[Case]:
    cases = []
    for name in CASE_FILES:
        module = importlib.import_module(name)
        cases.extend(getattr(module, "CASES", []))
    return cases


def classes_in(tensors: list[Tensor]) -> set[type]:
    roots = [t.grad_fn for t in tensors if t is not None and t.grad_fn is not None]
    return {node.fn for node in topological_order(roots)} if roots else set()


def reached_by(case: Case) -> set[type]:
    seen: set[type] = set()

    @settings(max_examples=3, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        arrays, tensor_fn, _ = case.draw(data)
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        out = tensor_fn(*tensors)
        seen.update(classes_in([out]))
        if out.requires_grad:
            w = np.linspace(0.5, 1.5, out.size).reshape(out.shape) if out.size else np.ones(out.shape)
            firsts = grad((out * out * w).sum(), tensors, create_graph=True, allow_unused=True)
            seen.update(classes_in([g for g in firsts if g is not None]))

    run()
    return seen


def test_the_case_files_are_found():
    with_cases = [name for name in CASE_FILES if getattr(importlib.import_module(name), "CASES", None)]
    assert "test_ops_gradients" in with_cases and len(with_cases) >= 5, with_cases


def test_every_function_subclass_has_a_gradient_case():
    cases = all_cases()
    reached: set[type] = set()
    for case in cases:
        reached |= reached_by(case)
    missing = sorted(
        name for name, cls in all_functions().items() if cls not in reached and cls.__name__ not in NOT_DIFFERENTIABLE
    )
    assert not missing, (
        f"{len(missing)} Function subclasses are reached by no gradient case (add a Case to a tests/test_ops_*.py "
        f"or tests/test_nn_*.py CASES list): {missing}"
    )


def test_the_exemptions_are_real_functions():
    names = {cls.__name__ for cls in all_functions().values()}
    assert set(NOT_DIFFERENTIABLE) <= names, set(NOT_DIFFERENTIABLE) - names
