"""perfwatch.stats.dist equals the scipy.stats functions it stands in for."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from perfwatch.stats import dist

XS = [-40.0, -8.5, -3.0, -1.0, -1e-3, 0.0, 0.5, 1.96, 3.09, 7.0, 38.0]
QS = [1e-12, 1e-6, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999, 1.0 - 1e-9]


@pytest.mark.parametrize("x", XS)
def test_normal_tail(x: float) -> None:
    assert dist.norm_sf(x) == pytest.approx(sps.norm.sf(x), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("q", QS)
def test_normal_quantiles(q: float) -> None:
    assert dist.norm_ppf(q) == pytest.approx(sps.norm.ppf(q), rel=1e-12)
    assert dist.norm_isf(q) == pytest.approx(sps.norm.isf(q), rel=1e-12)


@pytest.mark.parametrize("df", [1.0, 2.0, 2.7, 5.0, 30.0, 400.0])
def test_student_t(df: float) -> None:
    for x in XS:
        assert dist.t_sf(x, df) == pytest.approx(sps.t.sf(x, df), rel=1e-10, abs=1e-300)
    for q in QS[1:-1]:
        assert dist.t_ppf(q, df) == pytest.approx(sps.t.ppf(q, df), rel=1e-9)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 33, 200])
@pytest.mark.parametrize("p", [0.01, 0.3, 0.5, 0.97])
def test_binomial(n: int, p: float, rng: np.random.Generator) -> None:
    for k in [-3, -1, -0.5, 0, 0.4, 1, n // 2, n - 1, n, n + 2, *rng.uniform(-1, n + 1, 5)]:
        assert dist.binom_sf(k, n, p) == pytest.approx(sps.binom.sf(k, n, p), rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("q", [0.0005, 0.005, 0.025, 0.05, 0.1])
def test_binomial_half_quantile_is_exact_and_equals_scipy(q: float) -> None:
    # the order-statistic bands of segment levels use q = (1 - confidence) / 2
    got = [dist.binom_half_ppf(q, n) for n in range(1, 1001)]
    want = [int(sps.binom.ppf(q, n, 0.5)) for n in range(1, 1001)]
    assert got == want


def test_binomial_half_quantile_at_an_exact_tie_takes_the_exact_answer() -> None:
    # P(X <= 17) = 1/2 exactly for n = 35: the smallest k with P(X <= k) >= 1/2 is 17
    # (scipy's floating-point cdf says 18 here; only ties at q = 1/2 differ)
    assert dist.binom_half_ppf(0.5, 35) == 17
    assert dist.binom_half_ppf(0.0, 10) == -1
    assert dist.binom_half_ppf(1.0, 10) == 10
