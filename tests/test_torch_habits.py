"""PyTorch habits answered (issue 14, item 7): where a PyTorch spelling means nothing here,
the error names this library's spelling; where it has an unambiguous meaning, it works."""

from __future__ import annotations

import numpy as np
import pytest

import autograd
from autograd import Tensor


def x() -> Tensor:
    return Tensor(np.ones((2, 3)), requires_grad=True)


def test_size_is_numpys_count_and_calling_it_names_shape():
    t = x()
    assert t.size == 6 and isinstance(t.size, int) and t.size + 1 == 7 and np.zeros(t.size).shape == (6,)
    with pytest.raises(TypeError, match=r"PyTorch's x.size\(\) is x.shape"):
        t.size()
    with pytest.raises(TypeError, match=r"x.size\(1\) is x.shape\[1\]"):
        t.size(1)


def test_numel_dim_cpu():
    t = x()
    assert t.numel() == 6 and t.dim() == 2 and t.cpu() is t and t.to("cpu") is t


@pytest.mark.parametrize(
    "call", [lambda t: t.cuda(), lambda t: t.to("cuda"), lambda t: t.to("cuda:0"), lambda t: t.to("mps")]
)
def test_devices_are_refused_with_what_to_do(call):
    with pytest.raises(RuntimeError, match="numpy on the CPU.*Drop"):
        call(x())


def test_to_a_dtype_is_astype_and_keeps_the_graph():
    t = x()
    y = t.to(np.float32)
    assert y.dtype == np.float32
    y.sum().backward()
    assert t.grad.dtype == np.float64 and np.all(t.grad.data == 1.0)
    with pytest.raises(TypeError, match="to: expected a numpy dtype"):
        t.to(object())


@pytest.mark.parametrize(
    ("call", "spelling"),
    [
        (lambda t: t.sum(dim=1), "axis="),
        (lambda t: t.mean(keepdim=True), "keepdims="),
        (lambda t: t.var(correction=1), "ddof="),
        (lambda t: t.std(unbiased=False), "ddof=1 for unbiased=True, ddof=0"),
        (lambda t: t.max(dim=0), "axis="),
        (lambda t: t.flatten(start_dim=1), "start_axis="),
        (lambda t: autograd.ops.logsumexp(t, dim=1), "axis="),
        (lambda t: t.softmax(dim=1), "axis="),
        (lambda t: t.log_softmax(dim=-1), "axis="),
    ],
)
def test_pytorch_keywords_name_numpys_spelling(call, spelling):
    with pytest.raises(TypeError, match=f"PyTorch's spelling; write {spelling}"):
        call(x())


def test_version_is_one_string():
    assert isinstance(autograd.__version__, str) and autograd.__version__.count(".") == 2


def test_a_0d_integer_tensor_is_an_index_and_a_1_element_one_is_not():
    names = ["a", "b", "c"]
    assert names[Tensor([1.0, 5.0, 2.0]).argmax()] == "b"
    a = np.arange(5.0)
    assert a[Tensor([1])].shape == a[np.array([1])].shape == (1,)  # an array index, as in numpy
    with pytest.raises(TypeError, match="only a 0-d integer tensor"):
        names[Tensor([1])]
    with pytest.raises(TypeError, match="only a 0-d integer tensor"):
        names[Tensor(1.0)]
