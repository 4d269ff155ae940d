from __future__ import annotations

import numpy as np
import pytest

# Tier selection (load / failure opt-in), leftover check, per-tier JUnit XML + job summary.
pytest_plugins = ["conftest_plugins.tiers", "conftest_plugins.leftovers", "conftest_plugins.summary"]


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded randomness for tests: never the global numpy state."""
    return np.random.default_rng(20261126)
