"""Each doc page's examples start from numpy's default print options (a page may set its own)."""

import numpy as np
import pytest

DEFAULTS = np.get_printoptions()


@pytest.fixture(autouse=True)
def _numpy_print_options():
    np.set_printoptions(**DEFAULTS)
    yield
    np.set_printoptions(**DEFAULTS)
