"""The library-wide random generator: one ``np.random.Generator`` that ``manual_seed`` seeds.

Every random function (``rand``, ``randn``, ``randint``, ``normal``, ``multinomial``), the
layers' default initialisation (``nn.Linear`` ...), ``nn.data.DataLoader``'s shuffling and
``random_split`` draw from it unless given their own ``rng`` / ``generator``. So

    autograd.manual_seed(0)
    ... build a model, draw data, train ...

gives the same numbers on every run. The generator object never changes (``manual_seed``
reseeds it in place), so code that kept a reference to ``default_generator()`` sees the new
seed too. Pass ``rng=np.random.default_rng(seed)`` to a function to keep it apart from the
shared stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_GENERATOR = np.random.Generator(np.random.PCG64())  # seeded from the OS until manual_seed


def default_generator() -> np.random.Generator:
    """The generator every random function uses when it is given no ``rng``."""
    return _GENERATOR


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library-wide generator (in place) with ``seed``, a non-negative integer; returns it.

    After ``manual_seed(s)`` the generator draws what ``np.random.default_rng(s)`` draws.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: the seed must be a non-negative integer, got {seed!r}")
    _GENERATOR.bit_generator.state = np.random.PCG64(int(seed)).state
    return _GENERATOR


def resolve(rng: Any, op: str = "random") -> np.random.Generator:
    """``rng`` if it is a Generator, the library-wide one if it is None; anything else is refused."""
    if rng is None:
        return _GENERATOR
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(
        f"{op}: rng must be an np.random.Generator (np.random.default_rng(seed)) or None for the "
        f"library-wide generator (autograd.manual_seed seeds it), got {type(rng).__name__}"
    )
