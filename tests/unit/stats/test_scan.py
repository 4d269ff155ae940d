"""The CUSUM scan against a slow loop, and the calibration of its p-value."""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import median_filter

from perfwatch.stats.levels import fast_median, running_median5
from perfwatch.stats.scan import binary_segmentation, local_candidates, scan, scan_pvalue


def _slow_scan(x: np.ndarray, sd: float, min_size: int) -> tuple[int, float]:
    best, best_z = -1, 0.0
    for t in range(min_size, x.size - min_size + 1):
        left, right = x[:t], x[t:]
        z = (right.mean() - left.mean()) / (sd * math.sqrt(1 / t + 1 / (x.size - t)))
        if abs(z) > abs(best_z):
            best, best_z = t, z
    return best, best_z


def test_fast_scan_matches_slow_loop(rng: np.random.Generator) -> None:
    for n in (10, 37, 200):
        x = rng.normal(size=n) + np.r_[np.zeros(n // 3), np.ones(n - n // 3)] * rng.random()
        res = scan(x, 1.3, 5)
        assert res is not None
        split, z = _slow_scan(x, 1.3, 5)
        assert res.split == split
        assert math.isclose(res.z, z, rel_tol=1e-9)
    assert scan(rng.normal(size=9), 1.0, 5) is None


def test_scan_pvalue_is_valid_under_the_null(rng: np.random.Generator) -> None:
    """Pure noise: P(p <= a) <= a (with Monte-Carlo slack) at a = 0.01, 0.05, 0.2."""
    for n in (20, 100, 400):
        p = []
        for _ in range(600):
            res = scan(rng.normal(size=n), 1.0, 5)
            assert res is not None
            p.append(scan_pvalue(res.z, n, 5))
        p_arr = np.array(p)
        for a in (0.01, 0.05, 0.2):
            assert (p_arr <= a).mean() <= a + 3 * math.sqrt(a / 600)


def test_scan_pvalue_is_not_hopelessly_conservative(rng: np.random.Generator) -> None:
    p = []
    for _ in range(600):
        res = scan(rng.normal(size=200), 1.0, 5)
        assert res is not None
        p.append(scan_pvalue(res.z, 200, 5))
    assert (np.array(p) <= 0.2).mean() >= 0.05


def test_binary_segmentation_finds_both_steps(rng: np.random.Generator) -> None:
    x = rng.normal(size=300) + np.r_[np.zeros(100), np.full(100, 2.0), np.full(100, 0.5)]
    found = binary_segmentation(x, 1.0, 5, 0.001)
    assert len(found) == 2
    assert abs(found[0] - 100) <= 2 and abs(found[1] - 200) <= 2


def test_local_candidates_see_a_short_raised_stretch(rng: np.random.Generator) -> None:
    x = rng.normal(size=400) * 0.5
    x[200:212] += 3.0
    found = local_candidates(x, 0.5, 5, 0.001)
    assert any(abs(c - 200) <= 1 for c in found) and any(abs(c - 212) <= 1 for c in found)


def test_running_median_and_fast_median(rng: np.random.Generator) -> None:
    for n in (5, 6, 101):
        y = rng.normal(size=n)
        assert np.array_equal(running_median5(y), median_filter(y, size=5, mode="nearest"))
        assert fast_median(y) == np.median(y)
