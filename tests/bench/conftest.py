"""Speed benchmarks of perfwatch itself: they run only with ``make bench``
(``pytest tests/bench --benchmark-only``); a normal test run skips them."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("benchmark_only", default=False):
        return
    skip = pytest.mark.skip(reason="speed benchmark: run with `make bench`")
    for item in items:
        if _HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)
