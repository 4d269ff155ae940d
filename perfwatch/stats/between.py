"""Between-run noise of a series, and how it widens a base-against-head comparison.

The raw samples of one commit only show *within-run* noise. Whole runs differ too
(machine load, address layout, thermal state): the per-commit medians of a history
scatter more than their within-run standard errors say. Two single runs of the same
code differ by that *between-run* noise, which no number of samples inside a run
averages away, so a comparison judged by the within-run scatter alone (a rank test on
the pooled samples) calls run-to-run variation a regression.

:func:`between_run_noise` estimates the between-run sd of a series' log-medians from its
history (first differences: a level shift touches one difference only, large jumps are
clipped, drift cancels); :func:`runs_noise` estimates it from the spread of the run
medians within each side when base and head were measured in several runs each (pooled
with the history estimate when there is one), and :func:`widen` turns a within-run comparison into one against
the total standard error ``sqrt(se_within^2 + sd_between^2 (1/runs_base + 1/runs_head))``.
Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats import dist
from perfwatch.stats.levels import robust_scale

__all__ = [
    "MIN_HISTORY",
    "MIN_RUNS",
    "BetweenRunNoise",
    "WidenedShift",
    "between_run_noise",
    "between_run_sd",
    "runs_noise",
    "widen",
]

FloatArray = NDArray[np.float64]

# History commits (levels) needed to estimate between-run noise: 3 first differences.
MIN_HISTORY = 4
# Runs of one commit (a side of a comparison) needed for their spread to count.
MIN_RUNS = 2
# First differences beyond this many robust sds are clipped: a level shift then costs one
# clipped difference. (3 keeps 99.7% of normal differences whole: the estimate is ~3% low
# at 20 commits, and two steps of 3-8 sds raise it by ~35% instead of ~45% at 5 sds.)
_CLIP = 3.0
# The sum of squared first differences of n iid levels has 2 (n - 1) / 3 degrees of
# freedom (adjacent differences share a level: correlation -1/2); clipping costs a little
# (0.64 per difference in simulation at n = 10..100): 0.6 is used.
_DF_PER_DIFFERENCE = 0.6


@dataclass(frozen=True)
class BetweenRunNoise:
    """Between-run sd of a commit's log-median, and how well it is known."""

    sd: float  # sd of a run's level beyond its within-run error (log scale)
    df: float  # effective degrees of freedom of the estimate
    commits: int  # history commits it was estimated from (0: none)
    runs: int = 0  # runs of the compared commits it was estimated from (0: none)
    # within-run error of a run's level that was subtracted (the estimate's random part
    # is the whole run-to-run variance sd^2 + within^2)
    within: float = 0.0


@dataclass(frozen=True)
class WidenedShift:
    """A log-scale shift judged against within-run plus between-run noise."""

    pvalue: float  # two-sided, Student t with Satterthwaite degrees of freedom
    low: float  # confidence interval of the log shift
    high: float
    se: float  # total standard error of the log shift


def between_run_noise(levels: FloatArray, within_se: FloatArray | None = None,
                      runs: FloatArray | None = None) -> BetweenRunNoise | None:
    """Between-run noise of a history's per-commit log-medians (oldest first).

    The total per-commit noise is the root-mean-square of the first differences / sqrt 2,
    each difference clipped at 3 robust sds (MAD of the differences), so a change point
    costs one clipped difference; the within-run part (median of ``within_se``, the
    standard errors of the commits' medians) is subtracted in quadrature. None when
    fewer than :data:`MIN_HISTORY` finite levels are given.

    ``runs``: how many whole runs each commit's samples pool (default 1). A level of
    ``k`` runs scatters by ``sd^2 / k`` only, so each difference is scaled by
    ``1 / sqrt((1/k_i + 1/k_(i-1)) / 2)`` and each ``within_se`` by ``sqrt(k)``: the
    estimate is then that of one run, whatever the runs of the history commits.
    """
    y = np.asarray(levels, dtype=np.float64).ravel()
    keep = np.isfinite(y)
    y = y[keep]
    if y.size < MIN_HISTORY:
        return None
    k = (np.ones(y.size) if runs is None
         else np.maximum(np.asarray(runs, dtype=np.float64).ravel()[keep], 1.0))
    d = np.diff(y) / np.sqrt((1.0 / k[1:] + 1.0 / k[:-1]) / 2.0)
    bound = _CLIP * robust_scale(np.concatenate([[0.0], np.cumsum(d)])) * math.sqrt(2.0)
    clipped = np.clip(d, -bound, bound)
    total = math.sqrt(float(clipped @ clipped) / d.size / 2.0)
    within = 0.0
    if within_se is not None:
        w = np.asarray(within_se, dtype=np.float64).ravel()[keep] * np.sqrt(k)
        w = w[np.isfinite(w)]
        within = float(np.median(w)) if w.size else 0.0
    sd = math.sqrt(max(total * total - within * within, 0.0))
    return BetweenRunNoise(sd=sd, df=_DF_PER_DIFFERENCE * (y.size - 1), commits=int(y.size),
                           within=within)


def runs_noise(sides: Sequence[FloatArray], within_se: float,
               history: BetweenRunNoise | None = None) -> BetweenRunNoise | None:
    """Between-run noise from the run log-medians of each side (``sides``: one array of
    run levels per commit compared), pooled with a ``history`` estimate.

    The spread of the run levels around their side's mean (pooled variance, ``sum (k - 1)``
    degrees of freedom over the sides with >= :data:`MIN_RUNS` runs) is the run-to-run
    variance; ``within_se``, the within-run error of one run's level, is subtracted. The
    difference is pooled with ``history.sd^2`` weighted by degrees of freedom before it
    is clipped at 0, so a small spread by chance is not rounded up before pooling. None
    when no side has :data:`MIN_RUNS` finite levels.
    """
    ss, df, runs = 0.0, 0, 0
    for side in sides:
        y = np.asarray(side, dtype=np.float64).ravel()
        y = y[np.isfinite(y)]
        if y.size >= MIN_RUNS:
            ss += float(np.sum((y - y.mean()) ** 2))
            df += y.size - 1
            runs += y.size
    if df == 0:
        return None
    excess = ss / df - within_se * within_se
    if history is not None:
        excess = (df * excess + history.df * history.sd ** 2) / (df + history.df)
        return BetweenRunNoise(sd=math.sqrt(max(excess, 0.0)), df=df + history.df,
                               commits=history.commits, runs=runs, within=within_se)
    return BetweenRunNoise(sd=math.sqrt(max(excess, 0.0)), df=float(df), commits=0, runs=runs,
                           within=within_se)


def between_run_sd(levels: FloatArray, within_se: FloatArray | None = None,
                   runs: FloatArray | None = None) -> float:
    """Between-run sd of the log-medians ``levels`` (0.0 when the history is too short)."""
    noise = between_run_noise(levels, within_se, runs)
    return 0.0 if noise is None else noise.sd


def widen(shift: float, se_within: float, between: BetweenRunNoise, *, runs_base: int = 1,
          runs_head: int = 1, confidence: float = 0.95) -> WidenedShift:
    """Test the log shift against ``sqrt(se_within^2 + sd^2 (1/runs_base + 1/runs_head))``.

    The degrees of freedom are Satterthwaite's: the estimated part is the run-to-run
    variance ``sd^2 + between.within^2`` (``between.df`` degrees of freedom; the within-run
    error was subtracted from it, so it is as uncertain as the whole); ``se_within`` is
    taken as known. When the estimate was clipped to ``sd = 0`` the degrees of freedom
    stay those of the run-to-run variance, not infinite.
    """
    scale = 1.0 / runs_base + 1.0 / runs_head
    var = se_within ** 2 + between.sd ** 2 * scale
    if var <= 0.0:
        exact = 1.0 if shift == 0.0 else 0.0
        return WidenedShift(pvalue=exact, low=shift, high=shift, se=0.0)
    estimated = (between.sd ** 2 + between.within ** 2) * scale
    df = var ** 2 / (estimated ** 2 / max(between.df, 1.0)) if estimated > 0 else math.inf
    se = math.sqrt(var)
    pvalue = float(2.0 * dist.t_sf(abs(shift) / se, df))
    q = float(dist.t_ppf(0.5 + confidence / 2.0, df))
    return WidenedShift(pvalue=min(1.0, pvalue), low=shift - q * se, high=shift + q * se, se=se)
