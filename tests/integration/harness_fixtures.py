"""Fixtures and a report hook shared by the integration, load and failure tiers."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from sut import Rig, clip_cache_dir

RIG_KEY = pytest.StashKey[Rig]()


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clip_cache_dir(tmp_path_factory.mktemp("clips"))


@pytest.fixture
def rig(request: pytest.FixtureRequest, tmp_path: Path, clip_cache: Path) -> Iterator[Rig]:
    the_rig = Rig(tmp_path, clip_cache)
    request.node.stash[RIG_KEY] = the_rig
    try:
        yield the_rig
    finally:
        the_rig.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    the_rig = item.stash.get(RIG_KEY, None)
    if the_rig is None or not report.failed or report.when != "call":
        return
    for name, tail in the_rig.log_tails().items():
        report.sections.append((f"Captured stderr log {name}", tail))
        report.user_properties.append((f"log {name}", tail))
