from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded randomness for tests: never the global numpy state."""
    return np.random.default_rng(20261126)
