"""Detection speed at suite scale (pytest-benchmark; `make bench`).

Bars (issue 2): 10,000 series x 1,000 commits x 10 samples in at most 20 s, and one
commit appended to every series in at most 1 s with the per-series incremental state.
The numbers are wall-clock on the machine that runs the benchmark; the tests assert
only that detection found the planted steps, never a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from perfwatch.stats import detect_change_points
from perfwatch.stats.batch import detect_batch, levels_matrix
from perfwatch.stats.incremental import DetectionState, append_commit, start_from_levels

N_SERIES = 10_000
N_COMMITS = 1_000
N_SAMPLES = 10
STEP_AT = 700
PLANTED = 100  # the first 100 series get a +10% step at commit 700


def _timed(benchmark: Any, fn: Callable[[], Any]) -> Any:
    """One round under pytest-benchmark (wall clock), plus the CPU seconds of this
    process in ``extra_info`` (the machine may be shared while the benchmark runs)."""
    cpu0 = time.process_time()
    out = benchmark.pedantic(fn, rounds=1, iterations=1)
    benchmark.extra_info["cpu_s"] = round(time.process_time() - cpu0, 3)
    return out


def _suite(rng: np.random.Generator, n_series: int) -> np.ndarray:
    within = rng.normal(0.0, 0.02, (n_series, N_COMMITS, N_SAMPLES)).astype(np.float32)
    between = rng.normal(0.0, 0.01, (n_series, N_COMMITS, 1)).astype(np.float32)
    logs = within + between
    logs[:PLANTED, STEP_AT:, :] += np.float32(np.log(1.10))
    return np.exp(logs, dtype=np.float32)


@pytest.fixture(scope="module")
def suite() -> np.ndarray:
    return _suite(np.random.default_rng(20261126), N_SERIES)


def test_detect_10k_series(benchmark: Any, suite: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    found = _timed(benchmark, lambda: detect_batch(suite, rng=rng))
    hits = sum(any(abs(c.index - STEP_AT) <= 2 for c in f) for f in found[:PLANTED])
    assert hits >= 0.95 * PLANTED
    assert sum(len(f) for f in found[PLANTED:]) <= 0.01 * N_SERIES


def test_detect_one_series_list_path(benchmark: Any, suite: np.ndarray) -> None:
    """The per-series path analysis uses (a list of sample arrays): 200 series."""
    series = [[np.asarray(c, np.float64) for c in suite[i]] for i in range(200)]
    rng = np.random.default_rng(2)

    def run() -> list[int]:
        return [len(detect_change_points(s, rng=rng)) for s in series]

    counts = _timed(benchmark, run)
    assert sum(counts[:PLANTED]) >= 0.95 * PLANTED


def test_append_one_commit_to_10k_series(benchmark: Any, suite: np.ndarray) -> None:
    values, within = levels_matrix(suite[:, :-1, :])
    states = [start_from_levels(values[i], within[i]) for i in range(N_SERIES)]
    new = np.asarray(suite[:, -1, :], dtype=np.float64)

    def append_all() -> list[DetectionState]:
        return [append_commit(s, new[i])[0] for i, s in enumerate(states)]

    after = _timed(benchmark, append_all)
    assert all(a.levels.size == N_COMMITS for a in after)
    assert sum(any(abs(c.index - STEP_AT) <= 2 for c in a.changes) for a in after[:PLANTED]) \
        >= 0.95 * PLANTED
