"""A step or a random walk: the last check of a change in a wandering history.

Some benchmark levels wander: each run inherits part of the previous one's state
(a slowly filling disk, a CI image that changes a little every day), so the level is
a random walk plus the run-to-run noise (the *local level* model). Over a few commits
such a level moves little; over fifty it moves a lot, and a window test sees steps
everywhere. The model is read off the history's variogram:

    v(h) = Var(x[i+h] - x[i]) = 2 s^2 + q h

(``s`` the per-commit noise, ``q`` the variance of the walk's step per commit), from
the differences at lags 1..``LAGS`` that do not straddle a reported change, each
variance estimated robustly (MAD). A history wanders when the fitted rise over the
lags is significant at the detector's level (``MAX_PVALUE``, one-sided, against the
sampling error of the lag-1 variance); only then are its changes re-tested.

A change at ``c`` is then judged by the mean of ``n`` commits after it minus the mean
of ``n`` before it (``n`` = 5, 10, 20 ... within its neighbours), whose variance
under the local level model is ``2 s^2 / n + q V(n)`` with
``V(n) = ((n - 1)(2n - 1) + (n + 1)(2n + 1)) / (6 n)`` (the variance of the mean of
a walk's path on either side of ``c``). Short windows keep the walk's share small, so
a real step still shows; a wander of the walk does not. The best window's z, with
the search correction of the position and a Bonferroni factor for the windows, must
reach the level at which candidates are collected (as the step-on-a-line test).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats import dist
from perfwatch.stats.candidates import LINE_FACTOR, WINDOW, CandidateTest
from perfwatch.stats.levels import MAD_TO_SD
from perfwatch.stats.scan import scan_pvalue

__all__ = ["LAGS", "LocalLevel", "drop_walks", "local_level"]

FloatArray = NDArray[np.float64]

LAGS = WINDOW  # variogram lags: as far as a candidate's test window reaches
# sd of the log of a MAD-based variance of m normal values is about 2.33 / sqrt(m)
_LOG_VAR_SD = 2.33


@dataclass(frozen=True)
class LocalLevel:
    """Noise of a wandering history: per-commit noise variance and walk step variance."""

    noise_var: float  # s^2
    walk_var: float  # q


def _lag_variance(x: FloatArray, segment: NDArray[np.intp], h: int) -> tuple[float, int]:
    keep = segment[h:] == segment[:-h]
    d = (x[h:] - x[:-h])[keep]
    if d.size < 2:
        return math.nan, 0
    mad = float(np.median(np.abs(d - np.median(d))))
    return (MAD_TO_SD * mad) ** 2, int(d.size)


def local_level(x: FloatArray, cuts: Sequence[int], max_pvalue: float) -> LocalLevel | None:
    """The local level model of ``x`` (changes at ``cuts`` left out), or None when the
    history does not wander significantly (one-sided, at the level ``max_pvalue``)."""
    top = min(LAGS, x.size // 4)
    if top < 2:
        return None
    segment = np.searchsorted(np.asarray(sorted(cuts), dtype=np.intp), np.arange(x.size),
                              side="right")
    lags = np.arange(1, top + 1, dtype=np.float64)
    est = [_lag_variance(x, segment, int(h)) for h in lags]
    v = np.array([e[0] for e in est])
    m = min(e[1] for e in est)
    if m < 2 * top or not np.all(np.isfinite(v)) or v[0] <= 0.0:
        return None
    slope, intercept = np.polyfit(lags, v, 1)
    rise = float(slope) * (top - 1)
    if rise <= float(dist.norm_isf(max_pvalue)) * v[0] * _LOG_VAR_SD * math.sqrt(2.0 / m):
        return None
    return LocalLevel(noise_var=max(float(intercept) / 2.0, 0.0), walk_var=float(slope))


def _walk_share(n: int) -> float:
    return ((n - 1) * (2 * n - 1) + (n + 1) * (2 * n + 1)) / (6.0 * n)


def _walk_z(x: FloatArray, cut: int, room: int, model: LocalLevel, min_size: int,
            sign: float) -> tuple[float, int]:
    best, windows, n = 0.0, 0, min_size
    while n <= room:
        diff = float(x[cut : cut + n].mean() - x[cut - n : cut].mean())
        var = 2.0 * model.noise_var / n + model.walk_var * _walk_share(n)
        if var > 0.0:
            best = max(best, sign * diff / math.sqrt(var))
        windows += 1
        n *= 2
    return best, windows


def _steps(x: FloatArray, tests: Sequence[CandidateTest], model: LocalLevel, min_size: int,
           max_pvalue: float) -> list[CandidateTest]:
    kept = []
    for k, t in enumerate(tests):
        lo = tests[k - 1].index if k > 0 else 0
        hi = tests[k + 1].index if k + 1 < len(tests) else x.size
        room = min(t.index - lo, hi - t.index)
        z, windows = _walk_z(x, t.index, room, model, min_size, 1.0 if t.shift > 0 else -1.0)
        p = min(1.0, windows * scan_pvalue(z, t.hi - t.lo, min_size)) if z > 0 else 1.0
        if p <= LINE_FACTOR * max_pvalue:
            kept.append(t)
    return kept


def drop_walks(x: FloatArray, tests: Sequence[CandidateTest], min_size: int,
               max_pvalue: float) -> list[CandidateTest]:
    """The changes that stand as steps against the history's random walk (all of them
    when the history does not wander).

    The walk is read off the history without the pairs that straddle any change
    (real steps must not pass for wander). Changes cut a wandering history where it
    moved most, so that first reading understates the walk: it is read once more,
    now leaving out only the changes that stood out as steps of the first, and every
    change is judged against the second reading.
    """
    if not tests:
        return []
    model = local_level(x, [t.index for t in tests], max_pvalue)
    if model is None:
        return list(tests)
    steps = _steps(x, tests, model, min_size, max_pvalue)
    again = local_level(x, [t.index for t in steps], max_pvalue)
    return _steps(x, tests, again or model, min_size, max_pvalue)
