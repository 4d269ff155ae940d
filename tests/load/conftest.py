"""Load tier (``pytest -m load``): reuses the integration harness fixtures (tests/integration)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from conftest_plugins.tiers import load_duration as _load_duration
from harness_fixtures import clip_cache, pytest_runtest_makereport, rig  # noqa: F401


@pytest.fixture
def load_duration(request: pytest.FixtureRequest) -> float:
    """Seconds of each sustained phase: ``--load-duration`` / ``$LOAD_DURATION`` (default 20)."""
    return _load_duration(request.config)
