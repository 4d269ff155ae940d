"""perfwatch's detector speed, small enough for every pull request (pytest-benchmark).

Run by ``scripts/self_bench.py`` once per side and round, with the tree under test (main's
worktree or this checkout) first on ``sys.path``; the same module measures both sides, so
only perfwatch's code differs. Each benchmark records which perfwatch it imported.

Not collected by ``make test`` (it lives outside ``tests/``); run it alone with
``pytest scripts/self_bench/bench_detector.py --benchmark-only``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import perfwatch
from perfwatch import stats

N_COMMITS = 150
N_SAMPLES = 10
STEP_AT = 100


def _history(seed: int, n_series: int) -> np.ndarray:
    """Seeded histories (series x commits x samples), a +10% step at commit 100 in each."""
    rng = np.random.default_rng(seed)
    logs = rng.normal(0.0, 0.02, (n_series, N_COMMITS, N_SAMPLES))
    logs += rng.normal(0.0, 0.01, (n_series, N_COMMITS, 1))
    logs[:, STEP_AT:, :] += np.log(1.10)
    return np.exp(logs)


@pytest.fixture(autouse=True)
def _which_perfwatch(benchmark: Any) -> None:
    benchmark.extra_info["perfwatch_file"] = perfwatch.__file__


def test_detect_change_points_per_series(benchmark: Any) -> None:
    """The per-series detector `perfwatch detect` runs: 8 histories of 150 commits."""
    suite = _history(1, 8)
    series = [[np.asarray(c) for c in s] for s in suite]

    def run() -> int:
        rng = np.random.default_rng(2)
        return sum(len(stats.detect_change_points(s, rng=rng)) for s in series)

    found = benchmark.pedantic(run, rounds=7, iterations=1, warmup_rounds=1)
    assert found >= len(series)  # the planted steps are found


def test_compare_suite_of_samples(benchmark: Any) -> None:
    """The PR comparison path: 200 base/head pairs, then suite-wide FDR."""
    rng0 = np.random.default_rng(3)
    pairs = [(np.exp(rng0.normal(0, 0.02, 20)), np.exp(rng0.normal(0.05 * (i < 20), 0.02, 20)))
             for i in range(200)]

    def run() -> int:
        rng = np.random.default_rng(4)
        results = [stats.compare_samples(b, h, rng=rng) for b, h in pairs]
        q = stats.benjamini_hochberg(np.array([r.pvalue for r in results]))
        return int(np.sum(q < 0.05))

    significant = benchmark.pedantic(run, rounds=7, iterations=1, warmup_rounds=1)
    assert significant >= 15
