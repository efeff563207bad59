"""autograd.creation and autograd.random: tensor factories, random draws and the library-wide seed.

Factories are compared with the numpy functions they are named after (shape, dtype, values);
random functions with the generator stream they must draw from (``manual_seed(s)`` makes
the library-wide generator draw what ``np.random.default_rng(s)`` draws) and, for
``multinomial``, with the probabilities it must realise.

Tolerance for frequencies: a category of probability p drawn n times independently has a
count with standard deviation sqrt(n p (1 - p)); the checks allow 5 of them (Z = 5). The
draws are seeded, so the tests are deterministic; with a fresh seed, a correct sampler would
fail one of the ~40 checks with probability below 40 * 6e-7. A wrong rule (weights not
renormalised after a draw, zero weights drawn, rows mixed up) moves some frequency by more
than 0.01, above 8 standard deviations at these sample sizes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd import Tensor
from autograd.random import default_generator, manual_seed

Z = 5.0


def assert_tensor(t, expected, dtype=None, requires_grad=False) -> None:
    expected = np.asarray(expected)
    assert isinstance(t, Tensor) and t.is_leaf
    assert t.shape == expected.shape
    assert t.dtype == (expected.dtype if dtype is None else np.dtype(dtype))
    assert t.requires_grad is requires_grad
    np.testing.assert_array_equal(t.data, expected)


# ----------------------------------------------------------------------------- factories

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


@settings(max_examples=20)
@given(shape=shapes)
def test_zeros_ones_empty_take_the_shape_as_arguments_or_one_sequence(shape):
    for fn, ref in ((ag.zeros, np.zeros), (ag.ones, np.ones)):
        assert_tensor(fn(*shape), ref(shape))
        assert_tensor(fn(shape), ref(shape))
        assert_tensor(fn(list(shape)), ref(shape))
    assert ag.empty(*shape).shape == shape and ag.empty(shape).dtype == np.float64


def test_factories_default_to_float64_and_take_dtype():
    assert_tensor(ag.zeros(2, 3), np.zeros((2, 3)))
    assert_tensor(ag.ones(2, dtype=np.float32), np.ones(2, dtype=np.float32))
    assert_tensor(ag.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64))
    assert_tensor(ag.eye(3), np.eye(3))
    assert_tensor(ag.eye(2, 4, dtype=np.float32), np.eye(2, 4, dtype=np.float32))
    assert_tensor(ag.linspace(0, 1, 5), np.linspace(0, 1, 5))
    assert_tensor(ag.linspace(0, 1, 4, endpoint=False, dtype=np.float32), np.linspace(0, 1, 4, False, dtype=np.float32))
    assert ag.linspace(-1, 1).shape == (50,)  # numpy's default num
    assert_tensor(ag.zeros(), np.zeros(()))


def test_full_and_arange_take_numpys_dtype_from_their_values():
    assert_tensor(ag.full((2, 2), 3), np.full((2, 2), 3))  # int64
    assert_tensor(ag.full(3, 1.5), np.full(3, 1.5))
    assert_tensor(ag.full((2,), True), np.full(2, True))
    assert_tensor(ag.full((2,), 7, dtype=np.float32), np.full(2, 7, dtype=np.float32))
    assert_tensor(ag.arange(5), np.arange(5))
    assert_tensor(ag.arange(2, 8, 3), np.arange(2, 8, 3))
    assert_tensor(ag.arange(0, 1, 0.25), np.arange(0, 1, 0.25))
    assert_tensor(ag.arange(3, dtype=np.float32), np.arange(3, dtype=np.float32))


def test_like_factories_copy_shape_and_dtype_unless_told():
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert_tensor(ag.zeros_like(x), np.zeros((2, 3), np.float32))
    assert_tensor(ag.ones_like(x, dtype=np.float64), np.ones((2, 3)))
    assert_tensor(ag.full_like(x, 2.5), np.full((2, 3), 2.5, np.float32))
    assert_tensor(ag.full_like(ag.arange(3), 2.7), np.full(3, 2))  # numpy's full_like casts to the int dtype
    assert_tensor(ag.zeros_like(np.ones((1, 2), dtype=np.int32)), np.zeros((1, 2), np.int32))


def test_tensor_copies_and_detaches():
    data = [[1.0, 2.0]]
    t = ag.tensor(data, requires_grad=True)
    assert_tensor(t, np.array(data), requires_grad=True)
    assert_tensor(ag.tensor([1, 2]), np.array([1, 2]))
    y = t * 2
    c = ag.tensor(y, dtype=np.float32)
    assert c.is_leaf and not c.requires_grad and c.dtype == np.float32
    c.data[0, 0] = 100.0
    assert y.data[0, 0] == 2.0  # a copy


@pytest.mark.parametrize(
    "make",
    [
        lambda: ag.zeros(2, requires_grad=True),
        lambda: ag.ones(2, 2, requires_grad=True, dtype=np.float32),
        lambda: ag.full((2,), 1.0, requires_grad=True),
        lambda: ag.arange(0.0, 3.0, requires_grad=True),
        lambda: ag.linspace(0, 1, 3, requires_grad=True),
        lambda: ag.eye(2, requires_grad=True),
        lambda: ag.zeros_like(np.ones(2), requires_grad=True),
        lambda: ag.rand(2, requires_grad=True),
        lambda: ag.randn(2, requires_grad=True),
        lambda: ag.normal(size=2, requires_grad=True),
    ],
)
def test_requires_grad_gives_a_leaf_that_backpropagates(make):
    t = make()
    assert t.requires_grad and t.is_leaf
    (t * t).sum().backward()
    np.testing.assert_allclose(t.grad.data, 2 * t.data)


@pytest.mark.parametrize(
    ("op", "make"),
    [
        ("zeros", lambda: ag.zeros(2, dtype=np.int64, requires_grad=True)),
        ("full", lambda: ag.full((2,), 3, requires_grad=True)),
        ("arange", lambda: ag.arange(3, requires_grad=True)),
        ("randint", lambda: ag.randint(3, size=2, requires_grad=True)),
        ("tensor", lambda: ag.tensor([1, 2], requires_grad=True)),
        ("ones_like", lambda: ag.ones_like(np.arange(2), requires_grad=True)),
    ],
)
def test_requires_grad_on_an_integer_dtype_is_refused(op, make):
    with pytest.raises(TypeError, match=f"{op}: requires_grad=True needs a floating-point dtype"):
        make()


@pytest.mark.parametrize(
    ("error", "match", "make"),
    [
        (TypeError, "zeros: a shape is made of integers", lambda: ag.zeros(2.5)),
        (TypeError, "ones: a shape is made of integers", lambda: ag.ones((2, "3"))),
        (ValueError, "zeros: a shape cannot hold negative sizes", lambda: ag.zeros(2, -1)),
        (TypeError, "zeros: .* is not a numpy dtype", lambda: ag.zeros(2, dtype="no such type")),
        (TypeError, "ones: dtype complex128 is not a real number type", lambda: ag.ones(2, dtype=np.complex128)),
        (ValueError, "full: fill_value must be a single number", lambda: ag.full(2, [1.0, 2.0])),
        (ValueError, "arange: step must not be zero", lambda: ag.arange(0, 3, 0)),
        (TypeError, "linspace: steps= is PyTorch's spelling; write num=", lambda: ag.linspace(0, 1, steps=3)),
        (ValueError, "eye: a shape cannot hold negative sizes", lambda: ag.eye(-2)),
        (TypeError, "rand: draws real numbers, so dtype must be floating-point", lambda: ag.rand(2, dtype=np.int64)),
        (TypeError, "randn: rng must be an np.random.Generator", lambda: ag.randn(2, rng=0)),
        (ValueError, r"randint: needs low < high", lambda: ag.randint(5, 5)),
        (TypeError, "randint: low and high must be integers", lambda: ag.randint(0.5, 3)),
        (ValueError, "normal: std must be finite and >= 0", lambda: ag.normal(0.0, -1.0)),
        (ValueError, "normal: .* do not broadcast", lambda: ag.normal(np.zeros(3), 1.0, size=(2,))),
    ],
)
def test_bad_arguments_are_refused_by_name(error, match, make):
    with pytest.raises(error, match=match):
        make()


# ----------------------------------------------------------------------------- random draws


def test_rand_randn_randint_normal_shapes_ranges_and_dtypes():
    rng = np.random.default_rng(0)
    u = ag.rand(2, 3, rng=rng)
    assert u.shape == (2, 3) and u.dtype == np.float64 and np.all((u.data >= 0) & (u.data < 1))
    assert ag.rand((4,), dtype=np.float32, rng=rng).dtype == np.float32
    h = ag.rand(1000, dtype=np.float16, rng=rng)
    assert h.dtype == np.float16 and np.all(h.data < 1)
    assert ag.randn(3, rng=rng).shape == (3,) and ag.randn(2, dtype=np.float32, rng=rng).dtype == np.float32
    k = ag.randint(3, 7, size=(500,), rng=rng)
    assert k.dtype == np.int64 and set(np.unique(k.data)) == {3, 4, 5, 6}
    assert ag.randint(4, size=(2, 2), rng=rng).shape == (2, 2)
    assert ag.randint(4, rng=rng).shape == ()
    assert ag.randint(0, 4, size=3, dtype=np.float32, rng=rng).dtype == np.float32
    n = ag.normal(np.array([0.0, 100.0]), np.array([1.0, 0.0]), size=(5, 2), rng=rng)
    assert n.shape == (5, 2) and np.all(n.data[:, 1] == 100.0)
    assert ag.normal(rng=rng).shape == ()


def test_random_functions_draw_numpys_stream_from_the_given_generator():
    seed = 11
    np.testing.assert_array_equal(ag.rand(2, 3, rng=np.random.default_rng(seed)).data,
                                  np.random.default_rng(seed).random((2, 3)))  # fmt: skip
    np.testing.assert_array_equal(ag.randn(4, rng=np.random.default_rng(seed)).data,
                                  np.random.default_rng(seed).standard_normal(4))  # fmt: skip
    np.testing.assert_array_equal(ag.randint(2, 9, (5,), rng=np.random.default_rng(seed)).data,
                                  np.random.default_rng(seed).integers(2, 9, (5,)))  # fmt: skip
    np.testing.assert_array_equal(ag.normal(1.0, 2.0, (3,), rng=np.random.default_rng(seed)).data,
                                  np.random.default_rng(seed).normal(1.0, 2.0, (3,)))  # fmt: skip


def draws():
    return [
        ag.rand(3).data,
        ag.randn(2, 2).data,
        ag.randint(10, size=5).data,
        ag.normal(1.0, 2.0, size=3).data,
        ag.multinomial([1.0, 2.0, 3.0, 4.0], 3).data,
        ag.multinomial([[1.0, 1.0], [0.0, 2.0]], 4, replacement=True).data,
    ]


def test_manual_seed_makes_every_random_function_reproducible():
    manual_seed(1234)
    first = draws()
    manual_seed(1234)
    again = draws()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    manual_seed(4321)
    other = draws()
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    # the seed gives numpy's own stream
    manual_seed(5)
    np.testing.assert_array_equal(ag.rand(4).data, np.random.default_rng(5).random(4))


def test_manual_seed_reseeds_the_same_generator_and_rng_leaves_it_alone():
    g = default_generator()
    assert manual_seed(3) is g and default_generator() is g and ag.manual_seed is manual_seed
    expected = ag.rand(3).data
    manual_seed(3)
    ag.rand(3, rng=np.random.default_rng(99))  # its own generator: the shared stream does not move
    ag.multinomial([1.0, 1.0], 1, rng=np.random.default_rng(99))
    np.testing.assert_array_equal(ag.rand(3).data, expected)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_manual_seed_refuses_what_is_not_a_seed(seed):
    with pytest.raises(ValueError, match="manual_seed: the seed must be a non-negative integer"):
        manual_seed(seed)


def test_manual_seed_makes_linear_init_reproducible():
    manual_seed(0)
    a = nn.Linear(3, 4)
    manual_seed(0)
    b = nn.Linear(3, 4)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)


def test_linear_with_its_own_rng_is_reproducible():
    a = nn.Linear(3, 4, rng=np.random.default_rng(2))
    b = nn.Linear(3, 4, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


# ----------------------------------------------------------------------------- multinomial


def assert_frequencies(counts, p, n) -> None:
    """Each count within Z binomial standard deviations of n * p (see the module docstring)."""
    counts, p = np.asarray(counts, dtype=np.float64), np.asarray(p, dtype=np.float64)
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) <= Z * sd + 1e-9), (counts / n, p)


def test_multinomial_with_replacement_matches_the_normalised_weights():
    weights = np.array([1.0, 2.0, 3.0, 0.0, 4.0])  # not normalised, with a zero
    n = 200_000
    s = ag.multinomial(weights, n, replacement=True, rng=np.random.default_rng(0))
    assert s.shape == (n,) and s.dtype == np.int64 and not s.requires_grad
    counts = np.bincount(s.data, minlength=5)
    assert counts[3] == 0
    assert_frequencies(counts, weights / weights.sum(), n)


def test_multinomial_rows_are_separate_distributions():
    rows = np.array([[0.0, 1.0, 1.0], [5.0, 0.0, 0.0], [1.0, 2.0, 7.0]])
    n = 50_000
    s = ag.multinomial(rows, n, replacement=True, rng=np.random.default_rng(1))
    assert s.shape == (3, n)
    for row, samples in zip(rows, s.data):
        assert_frequencies(np.bincount(samples, minlength=3), row / row.sum(), n)


def test_multinomial_without_replacement_draws_distinct_categories_in_sequence():
    """First draw ~ p; the second, having removed the first: P(j) = sum_{i != j} p_i p_j / (1 - p_i)."""
    w = np.array([1.0, 2.0, 3.0, 0.0, 4.0])
    p = w / w.sum()
    n = 40_000
    s = ag.multinomial(np.tile(w, (n, 1)), 3, rng=np.random.default_rng(2)).data
    assert s.shape == (n, 3)
    assert np.all(s != 3)  # a zero weight is never drawn
    assert np.all((s[:, 0] != s[:, 1]) & (s[:, 0] != s[:, 2]) & (s[:, 1] != s[:, 2]))
    assert_frequencies(np.bincount(s[:, 0], minlength=5), p, n)
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(5) if i != j) for j in range(5)])
    assert abs(second.sum() - 1) < 1e-12
    assert_frequencies(np.bincount(s[:, 1], minlength=5), second, n)


def test_multinomial_without_replacement_of_every_nonzero_category_is_a_permutation():
    s = ag.multinomial([0.0, 3.0, 1.0, 0.0, 2.0], 3, rng=np.random.default_rng(3))
    assert s.shape == (3,) and sorted(s.data.tolist()) == [1, 2, 4]


@pytest.mark.parametrize(
    ("error", "match", "args", "kwargs"),
    [
        (ValueError, "probs must be finite and non-negative", ([1.0, -0.5], 1), {}),
        (ValueError, "probs must be finite and non-negative", ([1.0, np.nan], 1), {}),
        (ValueError, "probs must be finite and non-negative", ([1.0, np.inf], 1), {}),
        (ValueError, "the weights of row 1 sum to 0", ([[1.0, 1.0], [0.0, 0.0]], 1), {}),
        (ValueError, "probs must be 1-D or 2-D", (np.ones((2, 2, 2)), 1), {}),
        (ValueError, "probs must be 1-D or 2-D", (1.0, 1), {}),
        (ValueError, "num_samples must be positive", ([1.0, 1.0], 0), {}),
        (TypeError, "num_samples must be an integer", ([1.0, 1.0], 1.5), {}),
        (ValueError, "cannot draw 3 samples without replacement from a row with only 2", ([1.0, 0.0, 1.0], 3), {}),
        (ValueError, r"probs of shape \(2, 0\) has no categories", (np.ones((2, 0)), 1), {}),
    ],
)
def test_multinomial_errors(error, match, args, kwargs):
    with pytest.raises(error, match=f"multinomial: {match}"):
        ag.multinomial(*args, **kwargs)


def test_multinomial_with_replacement_may_draw_more_than_the_categories():
    s = ag.multinomial([0.0, 1.0], 5, replacement=True, rng=np.random.default_rng(0))
    assert s.data.tolist() == [1] * 5


def test_multinomial_follows_torch_semantics_where_torch_is_available():
    torch = pytest.importorskip("torch")
    probs = [[0.2, 0.0, 0.8], [1.0, 1.0, 1.0]]
    ours = ag.multinomial(probs, 2, rng=np.random.default_rng(0))
    theirs = torch.multinomial(torch.tensor(probs), 2)
    assert ours.shape == tuple(theirs.shape) and str(theirs.dtype) == "torch.int64" and ours.dtype == np.int64
    refused = [([1.0, 1.0], 3), ([0.0, 0.0], 1), ([1.0, 1.0], 0), ([-1.0, 1.0], 1), ([np.nan, 1.0], 1)]
    for weights, k in refused:  # what torch refuses, this refuses too
        with pytest.raises(RuntimeError):
            torch.multinomial(torch.tensor(weights), k)
        with pytest.raises(ValueError, match="multinomial"):
            ag.multinomial(weights, k)
    # torch (on CPU) then draws a zero-weight category; this refuses, as a sample of probability 0 is a bug
    assert sorted(torch.multinomial(torch.tensor([1.0, 0.0, 1.0]), 3).tolist()) == [0, 1, 2]
    with pytest.raises(ValueError, match="only 2 non-zero weights"):
        ag.multinomial([1.0, 0.0, 1.0], 3)
