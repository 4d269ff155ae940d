"""Benjamini-Hochberg q-values against a slow reference."""

from __future__ import annotations

import numpy as np

from perfwatch.stats import benjamini_hochberg


def _slow_bh(p: list[float]) -> list[float]:
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    q = [0.0] * m
    for rank, i in enumerate(order, start=1):
        q[i] = min(1.0, min(p[order[j - 1]] * m / j for j in range(rank, m + 1)))
    return q


def test_matches_slow_reference(rng: np.random.Generator) -> None:
    for size in (1, 2, 7, 50):
        p = rng.random(size) ** 3
        assert np.allclose(benjamini_hochberg(p), _slow_bh(list(p)))


def test_nan_is_untested_and_kept() -> None:
    q = benjamini_hochberg(np.array([0.01, np.nan, 0.04]))
    assert np.isnan(q[1])
    assert np.allclose(q[[0, 2]], [0.02, 0.04])


def test_null_suite_rarely_rejects(rng: np.random.Generator) -> None:
    """500 uniform p-values per suite, 200 suites: P(any q <= 0.05) is about 5%."""
    any_hit = sum(bool((benjamini_hochberg(rng.random(500)) <= 0.05).any()) for _ in range(200))
    assert any_hit <= 20
