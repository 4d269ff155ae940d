"""Verdicts for a base/head comparison: regression, improvement, no change or unsure.

A change is *confirmed* when it is statistically significant after false-discovery
control (``qvalue <= ALPHA``) and its estimate is at least ``min_effect``. *No change*
needs positive evidence: the whole confidence interval lies inside
``(-min_effect, +min_effect)``. Everything else is *unsure*, with a power calculation
of how many runs per side would settle it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perfwatch.model import Direction, Verdict
from perfwatch.stats import dist
from perfwatch.stats.two_sample import TwoSampleResult

__all__ = ["ALPHA", "POWER", "Decision", "decide", "runs_needed", "settled", "unsure_in_samples"]

ALPHA = 0.05  # false-discovery level a q-value is compared with
POWER = 0.8  # target power of the rerun advice
# Asymptotic relative efficiency of Mann-Whitney against the t-test under normal noise
# is 3/pi; the runs a t-test would need are divided by it.
_MWU_ARE = 3.0 / math.pi
# Beyond this many runs per side (and 5x the current size) a series is called unstable.
_PRACTICAL_RUNS = 50


@dataclass(frozen=True)
class Decision:
    """What to tell the user about one comparison."""

    verdict: Verdict
    extra_runs: int | None  # for UNSURE: extra runs per side that would settle it
    unstable: bool  # too noisy to judge at this sample size


def _log_sigma(result: TwoSampleResult) -> float:
    """Per-sample noise on the log scale, recovered from the CI width."""
    z = float(dist.norm_ppf(0.5 + result.confidence / 2.0))
    width = math.log1p(result.ci_high) - math.log1p(result.ci_low)
    se = width / (2.0 * z)
    return se / math.sqrt(1.0 / result.n_base + 1.0 / result.n_head)


def runs_needed(sigma: float, effect: float, *, alpha: float = ALPHA, power: float = POWER) -> int:
    """Runs per side for a two-sided rank test at ``alpha`` to detect a relative
    ``effect`` with the given ``power`` when the log-scale noise is ``sigma``."""
    delta = abs(math.log1p(effect))
    if delta <= 0.0:
        raise ValueError("effect must be non-zero")
    z = float(dist.norm_ppf(1.0 - alpha / 2.0) + dist.norm_ppf(power))
    return max(2, math.ceil(2.0 * (z * sigma / delta) ** 2 / _MWU_ARE))


def _unsure_in_runs(result: TwoSampleResult, effect: float) -> Decision:
    """Rerun advice when between-run noise counts: more samples inside a run do not
    average it away, so the advice is whole runs per side (each as large as the current
    ones), from the per-run sd of a run's log-median ``sqrt(between^2 + within^2)``. The
    within-run error of one run comes from the shift's: ``within_se^2 / (1/r_b + 1/r_h)``
    with ``r`` runs per side; the runs already made count."""
    scale = 1.0 / result.runs_base + 1.0 / result.runs_head
    per_run = math.sqrt(result.between_sd ** 2 + result.within_se ** 2 / scale)
    z = float(dist.norm_ppf(1.0 - ALPHA / 2.0) + dist.norm_ppf(POWER))
    needed = max(2, math.ceil(2.0 * (z * per_run / abs(math.log1p(effect))) ** 2))
    current = min(result.runs_base, result.runs_head)
    return Decision(Verdict.UNSURE, max(1, needed - current), needed > _PRACTICAL_RUNS)


def settled(result: TwoSampleResult, qvalue: float, *, direction: Direction,
            min_effect: float) -> Decision | None:
    """Confirmed (q <= ALPHA and |change| >= min_effect) or no change (the whole CI inside
    +-min_effect) by the rules above; None when the comparison is unsure."""
    rel = result.rel_change
    if qvalue <= ALPHA and abs(rel) >= min_effect:
        worse = direction.is_worse(rel)
        return Decision(Verdict.REGRESSION if worse else Verdict.IMPROVEMENT, None, False)
    if -min_effect < result.ci_low and result.ci_high < min_effect:
        return Decision(Verdict.NO_CHANGE, None, False)
    return None


def unsure_in_samples(sigma: float, effect: float, current: int) -> Decision:
    """Unsure, advising samples per side: ``sigma`` the per-sample noise (log scale),
    ``effect`` the relative change to detect, ``current`` the samples per side now."""
    if sigma <= 0.0:
        return Decision(Verdict.UNSURE, 1, False)
    needed = runs_needed(sigma, effect)
    return Decision(Verdict.UNSURE, max(1, needed - current),
                    needed > max(_PRACTICAL_RUNS, 5 * current))


def decide(
    result: TwoSampleResult,
    qvalue: float,
    *,
    direction: Direction,
    min_effect: float = 0.02,
) -> Decision:
    """Verdict for ``result`` given its suite-wide q-value (see :func:`benjamini_hochberg`)."""
    done = settled(result, qvalue, direction=direction, min_effect=min_effect)
    if done is not None:
        return done
    effect = max(abs(result.rel_change), min_effect)
    if result.between_sd > 0.0 or min(result.runs_base, result.runs_head) > 1:
        return _unsure_in_runs(result, effect)
    return unsure_in_samples(_log_sigma(result), effect, min(result.n_base, result.n_head))
