"""Failure-injection tier: reuses the integration harness fixtures (tests/integration).

Gated by ``INJECT_FAILURES=true`` (see tests/conftest_plugins/tiers.py); scenarios that need
root skip with a clear reason when not root.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from harness_fixtures import clip_cache, pytest_runtest_makereport, rig  # noqa: F401
