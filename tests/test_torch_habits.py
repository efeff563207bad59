"""PyTorch habits answered (issue 14, item 7): where a PyTorch spelling means nothing here,
the error names this library's spelling; where it has an unambiguous meaning, it works."""

from __future__ import annotations

import re
from pathlib import Path

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


# ----------------------------------------------------------------------------- the table in docs/api.md

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def table_section() -> str:
    """The section "How this library differs from PyTorch and numpy" of docs/api.md."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("## How this library differs from PyTorch and numpy")
    return text[start : text.index("\n## ", start + 1)]


def table_rows(section: str, header: str) -> list[list[str]]:
    """The rows (lists of cells) of the table whose header line is ``header``."""
    lines = section[section.index(header) :].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


# PyTorch spellings whose meaning here differs (or that mean nothing here): each must stay in
# the first table's rows, so that deleting a row fails this test.
DIFFERENCES = [
    "dim=", "keepdim=", "correction=", "unbiased=", "start_dim=", "dims=", "p=", "steps=",
    "concatenate(ts, dim=)", "stack(ts, dim=)", "unsqueeze(dim=)", "transpose(dim0=, dim1=)",
    "x.var()", "x.std()", "x.size()", "x.size(0)", "x.numel()", "x.dim()", "x.max(0)", "x.max(y)",
    "x.norm(1)", "x.cuda()", 'x.to("cuda")', 'x.to("cpu")', 'model.to("cpu")', "x.device", "x.is_cuda",
    "Tensor([1, 2])", "float32", "Tensor(2, 3)", "randint(10, (3,))", "manual_seed(s)", "x.repeat(2, 3)",
    "x.squeeze(0)", "transpose(a, b)", "swapaxes", "split(x, 2)", "x.split(...)", "chunk(k)", "F.pad(x, (1, 1))",
    "nn.Linear(i, o).weight.shape == (i, o)", "nn.functional.linear(x, W)", "nn.Sequential(a, b)",
    "layers.0.weight", "state_dict()", "load_state_dict", "torch.save(obj, f)", "nn.save(model.state_dict(), path)",
    "set_to_none=", "x.grad.zero_()", "x.grad = None", "no_grad()", "enable_grad()", "set_grad_enabled(False)",
    "inference_mode", "gradient=", "inputs=", "retain_graph=None", "x.data", "x.numpy()", "amax",
    "add_", "y += 1", "y[i] = v", "inplace=", "Function", "nn.init", "MultiheadAttention.in_proj_weight",
    "Flatten(start_axis=1, end_axis=-1)", "nn.Conv2d", "max_pool2d", "where(c)",
]  # fmt: skip


def test_the_table_keeps_a_row_for_every_pytorch_habit():
    rows = table_rows(table_section(), "| here | PyTorch | numpy |")
    assert all(len(row) == 3 for row in rows), [row for row in rows if len(row) != 3]
    text = "\n".join(" | ".join(row) for row in rows)
    missing = [spelling for spelling in DIFFERENCES if spelling not in text]
    assert not missing, f"docs/api.md's table lost the rows for {missing}"


# PyTorch names that are not defined here; the second table says what to write instead.
MISSING_ON_TENSOR = [
    "t", "mT", "swapdims", "movedim", "expand", "expand_as", "view_as", "reshape_as", "contiguous", "clone",
    "float", "double", "half", "long", "int", "bool", "type", "type_as", "is_floating_point", "nelement",
    "element_size", "zero_", "fill_", "div_", "clamp_", "masked_fill_", "normal_", "uniform_", "clamp", "add",
    "sub", "mul", "div", "neg", "pow", "mm", "matmul", "dot", "eq", "allclose", "equal", "amax", "amin", "sort",
    "argsort", "topk", "median", "index_select", "narrow", "unbind", "scatter", "scatter_", "where", "new_zeros",
    "new_tensor", "register_hook", "device", "is_cuda",
]  # fmt: skip
MISSING_ON_MODULE = ["cuda", "cpu", "float", "double", "register_parameter", "add_module", "register_forward_hook"]
MISSING_IN_AUTOGRAD = ["cat", "concat", "hstack", "is_tensor", "inference_mode", "backward", "randn_like", "rand_like",
                       "randperm"]  # fmt: skip
MISSING_IN_FUNCTIONAL = ["pad", "one_hot"]


def test_the_second_table_lists_each_pytorch_name_that_is_not_here():
    import nn
    import nn.functional as F

    section = table_section()
    rows = table_rows(section, "| PyTorch | here |")
    assert all(len(row) == 2 for row in rows), [row for row in rows if len(row) != 2]
    pytorch = " ".join(row[0] for row in rows)
    checks = [
        (Tensor([[1.0]]), "x", MISSING_ON_TENSOR),
        (nn.Linear(1, 1), "model", MISSING_ON_MODULE),
        (autograd, "torch", MISSING_IN_AUTOGRAD),
        (F, "F", MISSING_IN_FUNCTIONAL),
    ]
    for owner, prefix, names in checks:
        for name in names:
            assert not hasattr(owner, name), f"{prefix}.{name} exists now: move it out of docs/api.md's second table"
            where = r"torch\.(autograd\.)?" if prefix == "torch" else re.escape(prefix + ".")
            assert re.search(rf"`{where}{re.escape(name)}\b", pytorch), f"{prefix}.{name} is not in the second table"


def test_each_name_of_the_second_table_says_what_to_write():
    """Reading a name of the second table raises AttributeError with its hint: one mapping per
    owner (the one the library reads), and it holds exactly the table's names."""
    import nn
    import nn.functional as F
    import nn.module
    from autograd.tensor import TORCH_NAMES

    checks = [
        (Tensor([[1.0]]), "'Tensor' object", TORCH_NAMES, MISSING_ON_TENSOR),
        (nn.Parameter([1.0]), "'Parameter' object", TORCH_NAMES, MISSING_ON_TENSOR),
        (nn.Linear(1, 1), "'Linear' object", nn.module.TORCH_NAMES, MISSING_ON_MODULE),
        (autograd, "module 'autograd'", autograd._TORCH_NAMES, MISSING_IN_AUTOGRAD),
        (F, "module 'nn.functional'", F._TORCH_NAMES, MISSING_IN_FUNCTIONAL),
    ]
    for owner, what, hints, names in checks:
        assert sorted(hints) == sorted(names), f"{what}: the hints and docs/api.md's second table differ"
        for name in names:
            with pytest.raises(AttributeError) as caught:
                getattr(owner, name)
            assert str(caught.value) == f"{what} has no attribute {name!r}: PyTorch's {hints[name]}"
            assert caught.value.name == name
            assert " here" in hints[name], f"{name}: the hint must say what to write here"
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'no_such_name'$"):
        Tensor(1.0).no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match=r"^module 'autograd' has no attribute 'no_such_name'$"):
        autograd.no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match=r"^type object 'Tensor' has no attribute 't': PyTorch's x.t\(\)"):
        Tensor.t  # noqa: B018


def test_the_hints_cost_nothing_and_break_no_protocol():
    """The hints are class attributes, not __getattr__: a class with __getattr__ makes every attribute
    read slower (Python 3.11 then does not specialise x.data, x.grad), and numpy's probes of
    __array_interface__ and the like would each run it. Copying, pickling and numpy still work."""
    import copy
    import pickle

    import nn

    assert not hasattr(Tensor, "__getattr__") and not hasattr(nn.Module, "__getattr__")
    t = Tensor([[1.0, 2.0]], requires_grad=True, name="t")
    for clone in (copy.copy(t), copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert clone.tolist() == t.tolist() and clone.requires_grad and clone.name == "t"
    model = pickle.loads(pickle.dumps(nn.Linear(2, 1)))
    assert copy.deepcopy(model).weight.shape == (2, 1)
    assert np.asarray(t).shape == (1, 2) and (np.ones(2) + t).grad_fn is not None and np.sum(t).item() == 3.0
    assert not hasattr(t, "__array_interface__") and not hasattr(autograd, "__wrapped__")


def test_what_the_second_table_says_to_write_works():
    import nn

    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.T.shape == (3, 2) and Tensor(np.ones((2, 3, 4))).swapaxes(-1, -2).shape == (2, 4, 3)
    assert x.broadcast_to((4, 2, 3)).shape == (4, 2, 3) and x.reshape(np.ones((3, 2)).shape).shape == (3, 2)
    copy = x + 0
    assert copy.grad_fn is not None and not np.shares_memory(copy.data, x.data)
    cut = Tensor(x)
    assert not cut.requires_grad and not np.shares_memory(cut.data, x.data)
    assert x.astype(np.float32).dtype == np.float32 and x.astype(bool).dtype == np.bool_
    assert x.dtype.kind == "f" and x.numel() == 6 and x.dtype.itemsize == 8
    with autograd.no_grad():
        x[...] = 0.0
        x.mul_(1 / 2)
    assert np.all(x.data == 0.0) and x._version == 2
    assert nn.init.normal_(Tensor(np.zeros(3))).shape == (3,)
    y = Tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    assert y.clip(min=2.0).tolist() == [[3.0, 2.0, 2.0], [2.0, 5.0, 4.0]]
    assert np.allclose(y, y) and bool((y == y).all())
    i = np.argsort(y.numpy(), axis=1)
    assert autograd.take_along_axis(y, i, 1).tolist() == [[1.0, 2.0, 3.0], [0.0, 4.0, 5.0]]
    assert autograd.take_along_axis(y, i[:, ::-1][:, :2], 1).tolist() == [[3.0, 2.0], [5.0, 4.0]]
    assert y[:, np.array([0, 2])].shape == (2, 2) and y[:, 1:3].shape == (2, 2) and len(list(y)) == 2
    assert autograd.where(y > 2, y, 0.0).tolist() == [[3.0, 0.0, 0.0], [0.0, 5.0, 4.0]]
    assert autograd.zeros(y.shape, dtype=y.dtype).shape == (2, 3) and autograd.randn(y.shape).shape == (2, 3)
    assert sorted(autograd.random.default_generator().permutation(4)) == [0, 1, 2, 3]
    assert autograd.concatenate([y, y], 1).shape == (2, 6) and isinstance(nn.Parameter([1.0]), Tensor)
    model = nn.Linear(2, 3)
    assert model.to(np.float32) is model and model.weight.dtype == np.float32
    model.extra = nn.Parameter([1.0])
    assert "extra" in dict(model.named_parameters())


# ----------------------------------------------------------------------------- the first table's rows


def test_max_and_min_along_an_axis_give_the_values_only():
    y = Tensor([[1.0, 5.0], [4.0, 2.0], [3.0, 0.0]])
    assert y.max(0).tolist() == [4.0, 5.0] and y.argmax(0).tolist() == [1, 0] and y.min(0).tolist() == [1.0, 0.0]
    values, idx = y.max(0)  # unpacks the two values: the trap the table warns about
    assert (values.item(), idx.item()) == (4.0, 5.0)


def test_max_of_a_tensor_is_not_elementwise():
    a, b = Tensor([1.0, 4.0]), Tensor([3.0, 2.0])
    with pytest.raises(TypeError, match=r"reads y as the axis.*write autograd\.maximum\(x, y\)"):
        a.max(b)
    with pytest.raises(TypeError, match=r"write autograd\.minimum\(x, y\)"):
        a.min(b.data)
    with pytest.raises(TypeError, match=r"autograd\.maximum"):
        Tensor(1.0).max(Tensor(2.0))
    assert autograd.maximum(a, b).tolist() == [3.0, 4.0]
    assert a.max(Tensor(0)).item() == 4.0  # a 0-d integer tensor is an axis, as in numpy
    with pytest.raises(TypeError, match="integer"):
        a.max(0.5)  # numpy's own error for an axis that is not an int


def test_norm_of_a_matrix_is_a_matrix_norm():
    m = Tensor([[1.0, -2.0], [3.0, 4.0]])
    assert m.norm(1).item() == 6.0  # largest column sum of |m|
    assert m.norm(np.inf).item() == 7.0  # largest row sum
    assert m.ravel().norm(1).item() == 10.0  # PyTorch's m.norm(1)
    with pytest.raises(ValueError, match="ord=2 over two axes"):
        m.norm(2)
    with pytest.raises(TypeError, match="p= is PyTorch's spelling; write ord="):
        m.norm(p=1)


def test_variance_divides_by_n_also_with_a_positional_axis():
    y = Tensor([[1.0, 3.0], [5.0, 7.0]])
    assert y.var(0).tolist() == [4.0, 4.0] and y.var(0, 1).tolist() == [8.0, 8.0]
    assert y.var().item() == 5.0 and y.std().item() == np.sqrt(5.0) and y.var(ddof=1).item() == 20.0 / 3


@pytest.mark.parametrize(
    ("call", "spelling"),
    [
        (lambda t: autograd.concatenate([t, t], dim=0), "concatenate: dim= is PyTorch's spelling; write axis="),
        (lambda t: autograd.stack([t, t], dim=0), "stack: dim= is PyTorch's spelling; write axis="),
        (lambda t: t.unsqueeze(dim=0), "unsqueeze: dim= is PyTorch's spelling; write axis="),
        (lambda t: t.expand_dims(dim=0), "expand_dims: dim= is PyTorch's spelling; write axis="),
        (lambda t: autograd.ops.unsqueeze(t, dim=0), "unsqueeze: dim= is PyTorch's spelling; write axis="),
        (lambda t: t.tile(dims=(2, 1)), "tile: dims= is PyTorch's spelling; write reps="),
        (lambda t: t.transpose(dim0=0, dim1=1), r"write swapaxes\(0, 1\) here"),
        (
            lambda t: t.swapaxes(dim0=0, dim1=1),
            r"swapaxes: dim0= and dim1= are PyTorch's keywords; write swapaxes\(a, b\)",
        ),
        (lambda t: autograd.full(size=(2, 3), fill_value=1.0), r"full: size= is PyTorch's keyword; write full\(shape"),
        (
            lambda t: __import__("nn").Linear(2, 2).to(device="cpu"),
            "to: device= is PyTorch's; there are no devices here",
        ),
        (lambda t: __import__("nn").Linear(2, 2).to("cpu", np.float32), r"to\(device, dtype\) write x\.to\(dtype\)"),
        (lambda t: autograd.arange(end=5), "arange: end= is PyTorch's spelling; write stop="),
        (lambda t: autograd.zeros(size=(2, 3)), r"zeros: the shape is positional here, not size=: write zeros\(2, 3\)"),
        (lambda t: autograd.ones(2, shape=(2, 3)), r"not shape=: write ones\(2, 3\)"),
        (lambda t: t.to(np.float32, dtyp=np.float16), "to\\(\\) got an unexpected keyword argument 'dtyp'"),
        (lambda t: __import__("nn").Linear(2, 2).to("cpu", copy=True), "unexpected keyword argument 'copy'"),
        (lambda t: autograd.randn(size=(2, 3)), r"write randn\(2, 3\)"),
        (lambda t: autograd.rand(size=(2, 3)), r"write rand\(2, 3\)"),
        (lambda t: autograd.empty(size=(2, 3)), r"write empty\(2, 3\)"),
        (lambda t: autograd.randint(10, (3,)), r"randint\(10, size=\(3,\)\)"),
        (lambda t: t.backward(gradient=np.ones((2, 3))), "backward: gradient= is PyTorch's; write grad="),
        (lambda t: t.sum().backward(inputs=[t]), r"inputs= is PyTorch's.*autograd\.grad\(loss, inputs\)"),
        (lambda t: t.to(dtype=np.float32), r"write x\.to\(np\.float32\)"),
        (lambda t: t.to(device="cpu"), "to: device= is PyTorch's; there are no devices here"),
        (lambda t: t.to("cpu", np.float32), r"to\(device, dtype\) write x\.to\(dtype\)"),
        (lambda t: autograd.where(t > 0), r"write np\.nonzero\(cond\.data\)"),
        (lambda t: autograd.where(t > 0, t), "takes both a and b"),
    ],
)
def test_these_pytorch_spellings_name_what_to_write(call, spelling):
    with pytest.raises(TypeError, match=spelling):
        call(x())


def test_the_calls_around_those_spellings_still_work():
    t = x()
    assert autograd.arange(stop=5).tolist() == autograd.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert autograd.arange(1, 7, 2).tolist() == [1, 3, 5] and t.to("cpu", non_blocking=True) is t
    assert t.unsqueeze(0).shape == t.expand_dims(0).shape == (1, 2, 3) and t.tile((2, 1)).shape == (4, 3)
    assert autograd.concatenate([t, t], axis=1).shape == (2, 6) and autograd.stack([t, t], 1).shape == (2, 2, 3)
    missing = [
        (t.unsqueeze, "axis"),
        (t.expand_dims, "axis"),
        (t.tile, "reps"),
        (t.roll, "shift"),
        (autograd.arange, "start"),
    ]
    for call, name in missing:
        with pytest.raises(TypeError, match=f"missing 1 required argument: '{name}'"):
            call()
    with pytest.raises(TypeError, match="pad.. missing 1 required argument: 'pad_width'"):
        autograd.pad(t)


def test_these_pytorch_keywords_name_numpys_spelling():
    with pytest.raises(TypeError, match="dims= is PyTorch's spelling; write axis="):
        x().flip(dims=(0,))
    with pytest.raises(TypeError, match="dims= is PyTorch's spelling"):
        x().permute(dims=(1, 0))
    with pytest.raises(TypeError, match="steps= is PyTorch's spelling; write num="):
        autograd.linspace(0.0, 1.0, steps=5)


def test_modules_take_a_dtype_or_cpu_and_have_no_other_devices():
    import nn

    model = nn.Linear(2, 3)
    assert model.to("cpu") is model and model.to("cpu:0") is model and model.weight.dtype == np.float64
    for device in ("cuda", "cuda:1", "mps"):
        with pytest.raises(RuntimeError) as from_module:
            model.to(device)
        with pytest.raises(RuntimeError) as from_tensor:
            x().to(device)
        assert str(from_module.value) == str(from_tensor.value)
        assert "numpy on the CPU" in str(from_module.value)
    with pytest.raises(TypeError, match="no device to move to"):
        model.to(np.int64)


def test_floats_factories_and_layers_are_float64():
    import nn

    assert Tensor([1, 2]).dtype == np.int64 and Tensor([1.0, 2.0]).dtype == np.float64
    assert autograd.zeros(2).dtype == autograd.randn(2).dtype == autograd.arange(0, 1, 0.25).dtype == np.float64
    assert autograd.arange(5).dtype == np.int64 and nn.Linear(2, 3).weight.dtype == np.float64


def test_tensor_takes_data_then_requires_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        Tensor(2, 3)
    assert autograd.zeros(2, 3).shape == (2, 3)


def test_randint_takes_numpys_order_and_manual_seed_gives_numpys_numbers():
    assert autograd.randint(10, size=(3,)).shape == (3,)
    autograd.manual_seed(7)
    assert np.array_equal(autograd.randn(4).data, np.random.default_rng(7).standard_normal(4))


def test_split_is_numpys_and_pad_pads_every_axis():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert [p.shape for p in autograd.split(t, [1, 2], axis=1)] == [(2, 1), (2, 1), (2, 1)]
    assert [p.shape for p in autograd.split(Tensor(np.arange(6.0)), 2)] == [(3,), (3,)]
    assert autograd.pad(t, (1, 1)).shape == (4, 5)
    assert autograd.pad(t, ((0, 0), (1, 1))).shape == (2, 5)


def test_linear_takes_in_out_weights_and_sequential_names_layers():
    import nn
    import nn.functional as F

    assert nn.Linear(2, 3).weight.shape == (2, 3)
    assert F.linear(Tensor(np.ones((1, 2))), Tensor(np.ones((2, 3)))).shape == (1, 3)
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    assert list(net.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


def test_state_dict_copies_and_load_returns_none(tmp_path):
    import nn

    model = nn.Linear(2, 3)
    state = model.state_dict()
    assert isinstance(state["weight"], np.ndarray) and not np.shares_memory(state["weight"], model.weight.data)
    state["weight"][...] = 7.0
    assert not np.any(model.weight.data == 7.0)
    assert model.load_state_dict(state) is None and np.all(model.weight.data == 7.0)
    path = tmp_path / "model.npz"
    nn.save(model.state_dict(), path)
    assert isinstance(nn.load(path)["weight"], np.ndarray)
    with pytest.raises(TypeError, match="not numeric"):
        nn.save({"note": "text"}, path)
    with pytest.raises(TypeError, match=r"got a Linear.*write nn\.save\(model\.state_dict\(\), path\)"):
        nn.save(model, path)  # a Module is not a state dict


def test_zero_grad_sets_none_or_with_set_to_none_false_zeros():
    import nn

    model = nn.Linear(2, 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    model(Tensor(np.ones((1, 2)))).sum().backward()
    assert model.weight.grad is not None
    optimizer.zero_grad()
    assert model.weight.grad is None
    for zero_grad in (optimizer.zero_grad, model.zero_grad):
        model(Tensor(np.ones((1, 2)))).sum().backward()
        model.bias.grad = None
        zero_grad(set_to_none=False)  # PyTorch's: the grads that exist become zeros
        assert model.weight.grad.tolist() == [[0.0], [0.0]] and model.weight.grad.dtype == np.float64
        assert model.bias.grad is None
        model(Tensor(np.ones((1, 2)))).sum().backward()  # and accumulate from there
        assert model.weight.grad.tolist() == [[1.0], [1.0]]
        zero_grad(set_to_none=True)
        assert model.weight.grad is None
    w = Tensor([1.0], requires_grad=True)
    (w * 2).sum().backward()
    w.grad = None
    assert w.grad is None


def test_set_grad_enabled_is_a_call_and_a_block_as_in_pytorch():
    assert autograd.is_grad_enabled()
    try:
        autograd.set_grad_enabled(False)
        assert not autograd.is_grad_enabled()
    finally:
        autograd.set_grad_enabled(True)
    with autograd.set_grad_enabled(False):  # (tests/test_warnings_and_modes.py has the rest)
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    with autograd.no_grad():
        assert not autograd.is_grad_enabled()
        with autograd.enable_grad():
            assert autograd.is_grad_enabled()


def test_backward_takes_grad_and_data_is_the_array():
    t = x()
    (t * 2).backward(np.ones((2, 3)))
    assert np.all(t.grad.data == 2.0)
    (t * 2).backward(grad=np.ones((2, 3)))
    assert np.all(t.grad.data == 4.0)
    assert type(t.data) is np.ndarray and not hasattr(t.data, "numpy")
    assert np.shares_memory(t.numpy(), t.data)  # also while it requires grad


def test_inplace_keywords_are_refused():
    import nn
    import nn.functional as F

    refused = "inplace= is PyTorch's; in-place is not supported here .*drop inplace=, the result is the same"
    for call in [
        lambda: nn.ReLU(inplace=True),
        lambda: nn.ReLU(True),
        lambda: F.relu(x(), inplace=True),
        lambda: nn.Dropout(0.5, inplace=True),
        lambda: nn.Dropout(0.5, True),
        lambda: F.dropout(x(), 0.5, inplace=False),
        lambda: nn.SiLU(inplace=True),
        lambda: nn.LeakyReLU(0.2, inplace=True),
        lambda: nn.LeakyReLU(0.2, True),
        lambda: nn.ELU(1.0, True),
        lambda: nn.ELU(inplace=True),
        lambda: F.silu(x(), inplace=True),
        lambda: F.leaky_relu(x(), inplace=True),
        lambda: F.elu(x(), inplace=True),
        lambda: F.hardtanh(x(), inplace=True),
        lambda: F.hardsigmoid(x(), inplace=True),
        lambda: F.mish(x(), inplace=True),
    ]:
        with pytest.raises(TypeError, match=refused):
            call()
    assert nn.ReLU()(Tensor([-1.0, 2.0])).tolist() == [0.0, 2.0] and nn.Dropout(0.5).p == 0.5


def test_the_pytorch_column_is_what_torch_does():
    torch = pytest.importorskip("torch")
    m = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert m.norm(1).item() == 10.0 and m.norm(float("inf")).item() == 4.0  # vector norms of all elements
    values, idx = torch.tensor([[1.0, 5.0], [4.0, 2.0]]).max(0)
    assert values.tolist() == [4.0, 5.0] and idx.tolist() == [1, 0]
    assert torch.max(torch.tensor([1.0, 4.0]), torch.tensor([3.0, 2.0])).tolist() == [3.0, 4.0]
    assert [tuple(p.shape) for p in torch.split(torch.ones(2, 3), [1, 2], dim=1)] == [(2, 1), (2, 2)]
    assert tuple(torch.nn.functional.pad(torch.ones(2, 3), (1, 1)).shape) == (2, 5)
    assert torch.tensor([1.0]).dtype == torch.float32 and tuple(torch.nn.Linear(2, 3).weight.shape) == (3, 2)
    assert list(torch.nn.Sequential(torch.nn.Linear(2, 2)).state_dict()) == ["0.weight", "0.bias"]
    assert torch.ones(2, 3).var().item() == 0.0 and torch.tensor([1.0, 3.0]).var().item() == 2.0  # n - 1
    (where,) = torch.where(torch.tensor([0.0, 1.0, 2.0]) > 0)  # one argument: nonzero
    assert where.tolist() == [1, 2]
    with torch.set_grad_enabled(False):
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


def test_the_remaining_rows_of_the_first_table():
    import nn
    import nn.functional as F

    v = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"tile\(2\)"):
        v.repeat(2)
    with pytest.raises(ValueError, match=r"tile\(\(2, 3\)\)"):
        Tensor(np.ones((2, 2))).repeat(2, 3)
    assert v.repeat(2, axis=0).tolist() == [1.0, 1.0, 2.0, 2.0] and v.tile(2).tolist() == [1.0, 2.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="cannot be squeezed out"):
        Tensor(np.ones((2, 3))).squeeze(0)
    cube = Tensor(np.ones((2, 3, 4)))
    assert cube.transpose(1, 0, 2).shape == (3, 2, 4)
    with pytest.raises(ValueError, match=r"swapaxes\(1, 2\)"):
        cube.transpose(1, 2)
    ties = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    ties.max().backward()
    assert ties.grad.tolist() == [0.0, 0.5, 0.5]
    y = ties * 2
    with pytest.raises(RuntimeError, match="part of the graph"):
        y.add_(1.0)
    z = y
    z += 1
    assert z is not y and z.grad_fn is not None
    with autograd.no_grad():
        w = y.detach()
        w += 1
    assert w.tolist() == [3.0, 7.0, 7.0]
    src = Tensor([5.0, 6.0], requires_grad=True)
    target = autograd.zeros(3)
    target[np.array([0, 0])] = src
    assert target.tolist()[0] == 6.0
    target.sum().backward()
    assert src.grad.tolist() == [0.0, 1.0]  # the overwritten copy gets 0

    seen = []

    class Double(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.data * 2

        @staticmethod
        def backward(ctx, grad):
            seen.append(type(grad))
            return grad * 2

    Double.apply(Tensor([1.0], requires_grad=True)).sum().backward()
    assert seen == [np.ndarray]
    assert nn.init.calculate_fan_in_and_fan_out(Tensor(np.zeros((5, 3)))) == (5, 3)
    attention = nn.MultiheadAttention(4, 2)
    assert attention.in_proj_weight.shape == (12, 4) and attention.out_proj.weight.shape == (4, 4)
    assert nn.Flatten(start_axis=1, end_axis=-1)(cube).shape == (2, 12) and nn.Softmax(axis=-1)(v).shape == (2,)
    assert nn.Conv2d(3, 4, 2, groups=1).weight.shape == (4, 3, 2, 2)
    image = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(image, 2).sum().backward()
    assert image.grad.data.ravel().tolist() == [1.0, 0.0, 0.0, 0.0]


def test_numpy_shape_keyword_of_zeros_ones_empty_works():
    assert autograd.zeros(shape=(2, 3)).shape == autograd.ones(shape=(2, 3)).shape == (2, 3)
    assert autograd.empty(shape=4).shape == (4,)


def test_dir_and_tab_completion_leave_out_the_pytorch_names_that_only_raise():
    import nn

    t, model = x(), nn.Linear(2, 2)
    names = dir(t)
    assert "sum" in names and "swapaxes" in names and "grad" in names
    assert not {"t", "clone", "clamp", "expand", "device"} & set(names)
    assert "weight" in dir(model) and "forward" in dir(model) and "cuda" not in dir(model)


def test_zero_grad_set_to_none_false_zeroes_the_same_grad_tensors_as_pytorch():
    import nn

    model = nn.Linear(2, 2)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    for zero_grad in (optimizer.zero_grad, model.zero_grad):
        model(Tensor(np.ones((1, 2)))).sum().backward()
        held = model.weight.grad
        zero_grad(set_to_none=False)
        assert model.weight.grad is held and not held.data.any()
        zero_grad()
        assert model.weight.grad is None
