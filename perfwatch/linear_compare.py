"""Base against head for samples that are not all positive (zeros, negative values).

The ratio-based comparison (:func:`perfwatch.stats.compare_samples`) works on the log
scale and needs positive values. ``track_`` benchmarks also record counts that are often
0 (dropped packets, errors) and slopes that can be negative (RSS growth per minute). For
those, the comparison is made on the linear scale:

- the Mann-Whitney test is the same (ranks do not care about the scale);
- the effect is the Hodges-Lehmann shift ``median_{i,j}(head_j - base_i)`` in the metric's
  own unit, with Moses' confidence interval;
- the relative change is that shift divided by ``|median(base)|`` when it is non-zero;
  with a base median of 0 a relative change means nothing, and the caller reports the
  absolute shift instead (see docs/statistics.md, "Values that are not all positive");
- when both sides consist of several recorded runs, :func:`widen_runs` also judges the
  shift of the mean run medians against their spread within each side (a two-sample
  t-test on the run medians), as the log-scale comparison does.

Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from perfwatch import stats
from perfwatch.model import Direction, FloatArray
from perfwatch.stats import dist
from perfwatch.stats.between import MIN_RUNS, runs_noise, widen
from perfwatch.stats.decision import settled, unsure_in_samples
from perfwatch.stats.levels import MAD_TO_SD, MEDIAN_SE
from perfwatch.stats.two_sample import hodges_lehmann

__all__ = ["LinearResult", "all_positive", "compare_linear", "decide_linear", "finite",
           "widen_runs"]


@dataclass(frozen=True)
class LinearResult:
    """Head against base on the linear scale; ``shift`` etc. are in the metric's unit."""

    statistic: float
    pvalue: float
    shift: float  # Hodges-Lehmann estimate of head - base
    shift_low: float
    shift_high: float
    base_median: float
    head_median: float
    n_base: int
    n_head: int
    confidence: float = 0.95
    runs_base: int = 1  # whole runs per side the shift was also judged with (1: not)
    runs_head: int = 1

    @property
    def scale(self) -> float:
        """What a relative change is relative to: ``|median(base)|`` (0: undefined)."""
        return abs(self.base_median)

    def relative(self) -> stats.TwoSampleResult:
        """The result as a relative change (``shift / |base median|``); needs scale > 0."""
        s = self.scale
        return stats.TwoSampleResult(
            statistic=self.statistic, pvalue=self.pvalue, rel_change=self.shift / s,
            ci_low=self.shift_low / s, ci_high=self.shift_high / s, n_base=self.n_base,
            n_head=self.n_head, confidence=self.confidence)


def finite(samples: FloatArray) -> FloatArray:
    a = np.asarray(samples, dtype=np.float64).ravel()
    return a[np.isfinite(a)]


def all_positive(base: FloatArray, head: FloatArray) -> bool:
    """True when the ratio-based (log-scale) comparison applies."""
    return bool(np.all(finite(base) > 0) and np.all(finite(head) > 0))


def compare_linear(base: FloatArray, head: FloatArray, *, confidence: float = 0.95
                   ) -> LinearResult:
    """Mann-Whitney test and Hodges-Lehmann shift of head against base, any sign.

    The p-value is the one :func:`perfwatch.stats.compare_samples` gives (exact without
    ties): it is computed on the pooled ranks, which are positive and keep the ties.
    """
    b, h = finite(base), finite(head)
    if b.size == 0 or h.size == 0:
        raise ValueError("compare_linear needs at least one finite value on each side")
    from scipy import stats as sps  # lazily: 0.6 s to import, detection never needs it

    ranks = sps.rankdata(np.concatenate([b, h]))
    rank_test = stats.compare_samples(ranks[: b.size], ranks[b.size:],
                                      rng=np.random.default_rng(0), confidence=confidence)
    shift, low, high = hodges_lehmann(b, h, confidence)
    return LinearResult(statistic=rank_test.statistic, pvalue=rank_test.pvalue, shift=shift,
                        shift_low=low, shift_high=high, base_median=float(np.median(b)),
                        head_median=float(np.median(h)), n_base=int(b.size),
                        n_head=int(h.size), confidence=confidence)


def _run_medians(runs: Sequence[FloatArray]) -> tuple[FloatArray, float]:
    """Median of each run and the typical within-run error of one (MAD-based)."""
    arrays = [finite(r) for r in runs]
    medians = np.array([float(np.median(a)) for a in arrays])
    errors = [MEDIAN_SE * MAD_TO_SD * float(np.median(np.abs(a - m))) / math.sqrt(a.size)
              for a, m in zip(arrays, medians, strict=True) if a.size >= 3]
    return medians, float(np.median(errors)) if errors else 0.0


def widen_runs(result: LinearResult, base_runs: Sequence[FloatArray],
               head_runs: Sequence[FloatArray]) -> LinearResult:
    """Also judge the shift of the mean run median against the run medians' spread within
    each side (between-run plus within-run noise, ``sum (k - 1)`` degrees of freedom):
    the p-value is the larger of the rank test's and this t-test's, the interval the hull.
    Unchanged when a side has fewer than MIN_RUNS runs or a run has no finite value."""
    if min(len(base_runs), len(head_runs)) < MIN_RUNS \
            or any(finite(r).size == 0 for r in (*base_runs, *head_runs)):
        return result
    (mb, wb), (mh, wh) = _run_medians(base_runs), _run_medians(head_runs)
    within = float(np.median([wb, wh]))
    noise = runs_noise([mb, mh], within)
    if noise is None:
        return result
    kb, kh = len(base_runs), len(head_runs)
    scale = 1.0 / kb + 1.0 / kh
    wide = widen(float(mh.mean() - mb.mean()), within * math.sqrt(scale), noise,
                 runs_base=kb, runs_head=kh, confidence=result.confidence)
    return replace(result, pvalue=max(result.pvalue, wide.pvalue),
                   shift_low=min(result.shift_low, wide.low),
                   shift_high=max(result.shift_high, wide.high), runs_base=kb, runs_head=kh)


def decide_linear(result: stats.TwoSampleResult, qvalue: float, *, direction: Direction,
                  min_effect: float = 0.02) -> stats.Decision:
    """:func:`perfwatch.stats.decide` for a relative change made on the linear scale.

    Same rules (confirmed: q <= 0.05 and |change| >= min_effect; no change: the whole CI
    inside +-min_effect; else unsure); the rerun advice uses the linear-scale noise
    recovered from the CI width instead of the log-scale one.
    """
    done = settled(result, qvalue, direction=direction, min_effect=min_effect)
    if done is not None:
        return done
    z = float(dist.norm_ppf(0.5 + result.confidence / 2.0))
    se = (result.ci_high - result.ci_low) / (2.0 * z)
    sigma = se / math.sqrt(1.0 / result.n_base + 1.0 / result.n_head)
    # runs_needed works on log1p(effect): pass expm1 so that it sees the linear effect.
    return unsure_in_samples(sigma, math.expm1(max(abs(result.rel_change), min_effect)),
                             min(result.n_base, result.n_head))
