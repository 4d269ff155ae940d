"""Which tiers run: load tests only with ``-m load``; failure injection only with
``INJECT_FAILURES=true`` (skipped with the reason otherwise); ``--load-duration`` sets how long
the sustained load phases run (default 20 s, or ``$LOAD_DURATION``)."""

from __future__ import annotations

import os

import pytest

DEFAULT_LOAD_DURATION_S = 20.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perfwatch tiers")
    group.addoption("--load-duration", type=float, default=None, metavar="SECONDS",
                    help="seconds of each sustained load phase (default 20; env LOAD_DURATION)")


def load_duration(config: pytest.Config) -> float:
    value = config.getoption("--load-duration")
    if value is None:
        value = float(os.environ.get("LOAD_DURATION", DEFAULT_LOAD_DURATION_S))
    return float(value)


def inject_failures() -> bool:
    return os.environ.get("INJECT_FAILURES", "").strip().lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    markexpr = config.getoption("markexpr") or ""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    skip_failure = pytest.mark.skip(
        reason="failure injection is opt-in: set INJECT_FAILURES=true (as root for mounts, "
        "namespaces and cgroups)")
    for item in items:
        if item.get_closest_marker("load") is not None and "load" not in markexpr:
            dropped.append(item)
            continue
        if item.get_closest_marker("failure") is not None and not inject_failures():
            item.add_marker(skip_failure)
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
