"""compare_samples: exact null distribution, p-values, Hodges-Lehmann CI coverage."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from perfwatch.stats import compare_samples
from perfwatch.stats.two_sample import mwu_null_cdf


def _slow_null_cdf(m: int, n: int) -> np.ndarray:
    """Enumerate every placement of the m base ranks among m + n: the U distribution."""
    counts = np.zeros(m * n + 1)
    for base in itertools.combinations(range(m + n), m):
        head = [r for r in range(m + n) if r not in base]
        counts[sum(h > b for h in head for b in base)] += 1
    return np.cumsum(counts) / counts.sum()


@pytest.mark.parametrize(("m", "n"), [(1, 1), (2, 3), (4, 4), (3, 6), (5, 5)])
def test_null_cdf_matches_enumeration(m: int, n: int) -> None:
    assert np.allclose(mwu_null_cdf(m, n), _slow_null_cdf(m, n))


def test_pvalue_matches_scipy_exact(rng: np.random.Generator) -> None:
    for m, n in [(10, 10), (5, 12), (20, 15)]:
        for _ in range(20):
            base = np.exp(rng.normal(0, 0.02, m))
            head = np.exp(rng.normal(0.01, 0.02, n))
            res = compare_samples(base, head, rng=rng)
            ref = sps.mannwhitneyu(head, base, method="exact")
            assert res.statistic == ref.statistic
            assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)


def test_ties_use_the_normal_approximation(rng: np.random.Generator) -> None:
    base = np.array([1.0, 1.0, 1.1, 1.2, 1.2])
    head = np.array([1.2, 1.3, 1.3, 1.4, 1.0])
    res = compare_samples(base, head, rng=rng)
    ref = sps.mannwhitneyu(head, base, method="asymptotic")
    assert res.pvalue == pytest.approx(ref.pvalue)


def test_relative_change_and_ci_cover_the_truth(rng: np.random.Generator) -> None:
    """A planted 5% shift: the 95% CI covers it in about 95% of 400 trials."""
    true = 0.05
    covered = 0
    estimates = []
    for _ in range(400):
        base = np.exp(rng.normal(0.0, 0.02, 10))
        head = np.exp(rng.normal(math.log1p(true), 0.02, 10))
        res = compare_samples(base, head, rng=rng)
        covered += res.ci_low <= true <= res.ci_high
        estimates.append(res.rel_change)
        assert res.ci_low <= res.rel_change <= res.ci_high
    assert 0.92 <= covered / 400 <= 0.99
    assert np.median(estimates) == pytest.approx(true, abs=0.003)


def test_rejects_non_positive_and_empty(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="positive"):
        compare_samples(np.array([1.0, -1.0]), np.array([1.0, 2.0]), rng=rng)
    with pytest.raises(ValueError, match="at least one"):
        compare_samples(np.array([]), np.array([1.0]), rng=rng)
