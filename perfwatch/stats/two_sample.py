"""Two-sample comparison of raw benchmark samples (base against head).

A rank test (Mann-Whitney U) says *whether* head differs from base; the
Hodges-Lehmann shift of the log samples says *by how much*, as a relative change
``head/base - 1`` with a distribution-free confidence interval (Moses' interval,
read off the sorted pairwise differences at the Mann-Whitney critical value).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats import dist
from perfwatch.stats.between import BetweenRunNoise, widen

__all__ = ["TwoSampleResult", "compare_samples", "hodges_lehmann", "mwu_null_cdf"]

FloatArray = NDArray[np.float64]

# Exact null distribution of U is used while both samples are at most this large
# (the counting polynomial has n_base * n_head + 1 terms).
_EXACT_MAX_N = 60


@dataclass(frozen=True)
class TwoSampleResult:
    """The outcome of :func:`compare_samples` (names follow SciPy's results)."""

    statistic: float  # Mann-Whitney U of head vs base
    pvalue: float  # two-sided
    rel_change: float  # head/base - 1, Hodges-Lehmann estimate on the log scale
    ci_low: float  # confidence interval of rel_change
    ci_high: float
    n_base: int
    n_head: int
    confidence: float = 0.95  # level of [ci_low, ci_high]
    # Between-run sd of a run's log-median the comparison was widened by (0: within-run
    # noise only) and the within-run standard error of the log shift (from Moses' CI).
    between_sd: float = 0.0
    within_se: float = 0.0
    # Whole runs per side the between-run part was judged with (1: one run, or unknown).
    runs_base: int = 1
    runs_head: int = 1


@functools.lru_cache(maxsize=256)
def _null_cdf_cached(m: int, n: int) -> FloatArray:
    cdf = _null_cdf(m, n)
    cdf.flags.writeable = False
    return cdf


def mwu_null_cdf(m: int, n: int) -> FloatArray:
    """``P(U <= u)`` for u = 0..m*n under H0 without ties (exact; cached, read-only)."""
    return _null_cdf_cached(min(m, n), max(m, n))


def _null_cdf(m: int, n: int) -> FloatArray:
    """``P(U <= u)`` for u = 0..m*n under H0 without ties (exact, by counting).

    The counts are the coefficients of the Gaussian binomial ``[m+n choose m]_q``:
    ``prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)``.
    """
    size = m * n + 1
    poly = np.zeros(size + n + m + 1, dtype=np.float64)
    poly[0] = 1.0
    for i in range(1, m + 1):
        shifted = np.zeros_like(poly)
        shifted[n + i :] = poly[: poly.size - (n + i)]
        poly = poly - shifted  # multiply by (1 - q^(n+i))
        poly = _divide_one_minus_q_power(poly, i)
    counts = poly[:size]
    cdf = np.cumsum(counts)
    return np.asarray(cdf / cdf[-1], dtype=np.float64)


def _divide_one_minus_q_power(poly: FloatArray, i: int) -> FloatArray:
    """Divide a polynomial by ``(1 - q^i)``: a running sum with lag ``i``."""
    size = poly.size
    padded = np.zeros(-(-size // i) * i, dtype=np.float64)
    padded[:size] = poly
    return np.asarray(np.cumsum(padded.reshape(-1, i), axis=0).ravel()[:size], dtype=np.float64)


def _critical_rank(m: int, n: int, confidence: float) -> int:
    """0-based index j of the CI's lower end among the sorted m*n pairwise differences.

    ``[D[j], D[mn-1-j]]`` covers the shift with probability ``1 - 2 P(U <= j)``; j is the
    largest index keeping that at least ``confidence`` (0 when the samples are too small).
    """
    tail = (1.0 - confidence) / 2.0
    if max(m, n) <= _EXACT_MAX_N:
        cdf = mwu_null_cdf(m, n)
        count = int(np.searchsorted(cdf, tail + 1e-12, side="right"))  # #u with P(U<=u)<=tail
        j = count - 1
    else:
        z = float(dist.norm_ppf(1.0 - tail))
        j = math.floor(m * n / 2.0 - z * math.sqrt(m * n * (m + n + 1) / 12.0)) - 1
    return max(0, min(j, (m * n - 1) // 2))


def hodges_lehmann(
    log_base: FloatArray, log_head: FloatArray, confidence: float
) -> tuple[float, float, float]:
    """Shift estimate and Moses CI of ``log_head - log_base`` (all pairwise differences)."""
    diffs = np.sort((log_head[:, None] - log_base[None, :]).ravel())
    k = _critical_rank(log_base.size, log_head.size, confidence)
    return float(np.median(diffs)), float(diffs[k]), float(diffs[diffs.size - 1 - k])


def _pvalue(base: FloatArray, head: FloatArray) -> tuple[float, float]:
    """U of head against base and its two-sided p: exact (counting) without ties and for
    samples of at most 60, else the normal approximation with tie correction."""
    has_ties = np.unique(np.concatenate([base, head])).size < base.size + head.size
    if max(base.size, head.size) <= _EXACT_MAX_N and not has_ties:
        u = int(np.count_nonzero(head[:, None] > base[None, :]))
        cdf = mwu_null_cdf(base.size, head.size)
        lower = float(cdf[u])
        upper = float(cdf[base.size * head.size - u])  # P(U >= u) by symmetry
        return float(u), min(1.0, 2.0 * min(lower, upper))
    from scipy import stats as sps  # lazily: 0.6 s to import, detection never needs it

    res = sps.mannwhitneyu(head, base, alternative="two-sided", method="asymptotic")
    return float(res.statistic), float(min(1.0, res.pvalue))


def compare_samples(
    base: FloatArray,
    head: FloatArray,
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    between_sd: float = 0.0,
    between_df: float = math.inf,
    runs_base: int = 1,
    runs_head: int = 1,
    between_within: float = 0.0,
    run_shift: float | None = None,
) -> TwoSampleResult:
    """Compare head against base: Mann-Whitney U (exact p for small samples without
    ties) and the Hodges-Lehmann relative change with its confidence interval.

    With ``between_sd > 0`` (the between-run sd of a run's log-median, estimated from
    the series' history with ``between_df`` degrees of freedom, see
    :mod:`perfwatch.stats.between`) the shift is also judged against the total standard
    error ``sqrt(se_within^2 + between_sd^2 (1/runs_base + 1/runs_head))``: the p-value
    is the larger of the rank test's and that t-test's, and the interval is the hull of
    Moses' and the total-se one. With ``between_sd = 0`` only within-run noise counts,
    unless ``between_df`` is finite: then the estimate was clipped to 0 and the t-test
    still runs, with the degrees of freedom of the run-to-run variance
    ``between_sd^2 + between_within^2`` (``between_within``: the within-run error of one
    run's level that the estimate subtracted).

    ``run_shift``, when base and head were measured in several whole runs each: the mean
    head run log-median minus the mean base run log-median. The t-test then judges it
    against ``sqrt((between_sd^2 + between_within^2) (1/runs_base + 1/runs_head))`` (a
    two-sample t-test on the run medians) instead of judging the Hodges-Lehmann shift of
    the pooled samples, whose spread is not that of a mean of runs.

    Values must be positive (times, sizes, rates). ``rng`` is accepted for callers
    that pass one everywhere; this comparison is deterministic.
    """
    del rng
    b = np.asarray(base, dtype=np.float64).ravel()
    h = np.asarray(head, dtype=np.float64).ravel()
    b = b[np.isfinite(b)]
    h = h[np.isfinite(h)]
    if b.size == 0 or h.size == 0:
        raise ValueError("compare_samples needs at least one finite value on each side")
    if np.any(b <= 0) or np.any(h <= 0):
        raise ValueError("compare_samples needs positive values (relative change on log scale)")
    statistic, pvalue = _pvalue(b, h)
    shift, low, high = hodges_lehmann(np.log(b), np.log(h), confidence)
    within_se = (high - low) / (2.0 * float(dist.norm_ppf(0.5 + confidence / 2.0)))
    if between_sd > 0.0 or math.isfinite(between_df):
        noise = BetweenRunNoise(sd=max(between_sd, 0.0), df=between_df, commits=0,
                                within=between_within)
        scale = 1.0 / runs_base + 1.0 / runs_head
        judged, se = ((shift, within_se) if run_shift is None
                      else (run_shift, between_within * math.sqrt(scale)))
        wide = widen(judged, se, noise, runs_base=runs_base, runs_head=runs_head,
                     confidence=confidence)
        pvalue, low, high = max(pvalue, wide.pvalue), min(low, wide.low), max(high, wide.high)
    return TwoSampleResult(
        statistic=statistic,
        pvalue=pvalue,
        rel_change=math.expm1(shift),
        ci_low=math.expm1(low),
        ci_high=math.expm1(high),
        n_base=int(b.size),
        n_head=int(h.size),
        confidence=confidence,
        between_sd=max(between_sd, 0.0),
        within_se=within_se,
        runs_base=runs_base,
        runs_head=runs_head,
    )
