"""Integration harness fixtures: the recorder and mock cameras as real processes.

- ``clip_cache`` (session): where the cameras' pre-encoded clips live (encoded once per run,
  or ``$RECORDER_CLIP_CACHE``).
- ``rig``: a :class:`sut.Rig` for the test; everything it started is stopped at teardown,
  also when the test failed. When a test fails, the tail of every process log is attached
  to the report (terminal sections and JUnit ``<properties>``).

tests/load and tests/failure reuse these fixtures by importing this module's ``harness_fixtures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness_fixtures import clip_cache, pytest_runtest_makereport, rig  # noqa: F401
