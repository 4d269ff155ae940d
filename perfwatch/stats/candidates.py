"""Testing and pruning candidate change points against their neighbours.

Each candidate is judged on the commits between its neighbouring candidates, at most
``WINDOW`` on each side. It is kept when all of these hold:

1. **significant as a shift**: the difference of the mean huberised levels right and
   left, over ``sd * sqrt(1/n_l + 1/n_r) * sqrt((1 + rho) / (1 - rho))`` (``sd`` the
   larger of the history-wide and the window's own noise, ``rho`` the lag-1
   correlation of the residuals: correlated between-run noise), has a search-corrected
   p-value (:func:`scan_pvalue`) of at most ``max_pvalue``;
2. **significant as a step on top of a line**: the t of the step in
   ``x ~ a + b i + c [i >= cut]`` fitted in the window has the same sign and a
   search-corrected p-value of at most ``LINE_FACTOR * max_pvalue`` (slow drift fits
   the line, a step does not);
3. **a jump, not wander**: the difference is at least ``WANDER_RATIO`` times the slow
   wander of the level within either side;
4. **size against noise**: the shift of the medians is at least ``MIN_EFFECT_SD``
   per-commit noise sds (smaller shifts cannot be pinned to a commit);
5. **sharp**, only when the residuals are significantly correlated: a jump at the cut
   fits the window better than a linear ramp over ``min_size`` commits.

The weakest failing candidate is removed and its neighbours re-tested, until every
remaining candidate passes (the merge step of Otava/Hunter, with these tests).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats.levels import clipped_diff_scale, fast_median
from perfwatch.stats.scan import scan_pvalue

__all__ = ["CandidateTest", "History", "prune", "test_candidate"]

FloatArray = NDArray[np.float64]

WINDOW = 50  # commits per side a candidate is judged on
# Windows are at most 1/6 of the history, so that the left+right window fits at least
# twice more beside the candidate and the scale-aware spread can be learnt.
_SCALE_BLOCKS = 1
# The step-on-a-line test guards against drift at the candidates' level (10x the final
# level, as candidates are collected): the shift test keeps the final level.
LINE_FACTOR = 10.0
WANDER_RATIO = 2.0 * math.sqrt(2.0)  # jump >= 2 sd of the difference of two wandering levels
MIN_EFFECT_SD = 1.0  # minimum shift, in per-commit noise sds
_MEDIAN_SE = math.sqrt(math.pi / 2.0)


@dataclass(frozen=True)
class CandidateTest:
    index: int
    lo: int  # first commit of the left window
    hi: int  # end (exclusive) of the right window
    shift: float  # median(right) - median(left) of the levels
    se: float  # standard error of ``shift``
    z: float
    pvalue: float
    step_t: float
    passed: bool


def _step_t(x: FloatArray, cut: int, sd: float) -> float:
    """t of the step c in x ~ a + b * i + c * [i >= cut] (noise sd known)."""
    i = np.arange(x.size, dtype=np.float64)
    design = np.column_stack([np.ones(x.size), i - cut, (i >= cut).astype(np.float64)])
    gram = design.T @ design
    try:
        inv = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        return 0.0
    coef = inv @ (design.T @ x)
    return float(coef[2] / (sd * math.sqrt(max(inv[2, 2], 1e-300))))


_MAD_TO_SD = 1.482602218505602
_MAX_RHO = 0.9


def residual_rho(x: FloatArray, cuts: Sequence[int]) -> float:
    """Lag-1 correlation of the residuals around the current segment means.

    Slow drift and batches of runs on the same machine make neighbouring commits
    alike (rho > 0); independent noise gives rho ~ 0 (after the -1/len bias of
    subtracting each segment's mean is corrected).
    """
    bounds = [0, *cuts, x.size]
    num = den = 0.0
    for a, b in itertools.pairwise(bounds):
        if b - a < 2:
            continue
        r = x[a:b] - float(x[a:b].sum()) / (b - a)
        # a segment mean removes 1/len of the variance and biases rho by -1/len
        num += float(np.dot(r[:-1], r[1:])) + float(np.dot(r, r)) / (b - a)
        den += float(np.dot(r, r))
    return num / den if den > 0.0 else 0.0


@dataclass(frozen=True)
class History:
    """What every candidate test of one history needs."""

    y: FloatArray  # per-commit levels
    x: FloatArray  # huberised levels
    csum: FloatArray  # cumulative sums of x with a leading 0
    sd: float  # per-commit noise sd (history-wide)
    robust: float  # MAD-based noise scale (for clipping)
    min_size: int
    max_pvalue: float
    long_run: float = 1.0  # variance factor of window means for correlated noise
    wandering: bool = False  # residuals significantly correlated: require sharp steps

    @classmethod
    def of(cls, y: FloatArray, x: FloatArray, *, sd: float, robust: float, min_size: int,
           max_pvalue: float) -> History:
        csum = np.concatenate([[0.0], np.cumsum(x)])
        return cls(y, x, csum, sd, robust, min_size, max_pvalue)

    def mean(self, a: int, b: int) -> float:
        return float(self.csum[b] - self.csum[a]) / (b - a)


def test_candidate(h: History, cut: int, lo: int, hi: int) -> CandidateTest:
    """Judge a change at ``cut`` between ``lo`` and ``hi`` (neighbouring candidates)."""
    lo = max(lo, cut - WINDOW)
    hi = min(hi, cut + WINDOW)
    n_left, n_right = cut - lo, hi - cut
    x = h.x
    local_sd = max(h.sd, clipped_diff_scale(x[lo:hi], h.robust))
    root = math.sqrt(1.0 / n_left + 1.0 / n_right)
    diff = h.mean(cut, hi) - h.mean(lo, cut)
    z = diff / (local_sd * root * math.sqrt(h.long_run))
    pvalue = scan_pvalue(z, hi - lo, min(h.min_size, n_left, n_right))
    se = _MEDIAN_SE * local_sd * root
    if pvalue > h.max_pvalue:  # the cheap check first: most candidates stop here
        return CandidateTest(cut, lo, hi, diff, se, z, pvalue, 0.0, False)
    shift = fast_median(h.y[cut:hi]) - fast_median(h.y[lo:cut])
    step_t = _step_t(x[lo:hi], cut - lo, local_sd)
    # the step must also be significant on top of a straight line through the window
    # the step must also stand on top of a straight line through the window
    line_p = scan_pvalue(step_t / math.sqrt(h.long_run), hi - lo,
                         min(h.min_size, n_left, n_right))
    wander = max(_wander(x[lo:cut]), _wander(x[cut:hi]))
    passed = (
        pvalue <= h.max_pvalue
        and line_p <= LINE_FACTOR * h.max_pvalue
        and step_t * z > 0
        and abs(diff) >= WANDER_RATIO * wander
        and abs(shift) >= MIN_EFFECT_SD * local_sd
        and shift * z > 0
        and (not h.wandering or sharper_than_ramp(x[lo:hi], cut - lo, h.min_size))
    )
    return CandidateTest(cut, lo, hi, shift, se, z, pvalue, step_t, passed)


def _rss(x: FloatArray, shape: FloatArray) -> float:
    """Residual sum of squares of x ~ a + b * shape."""
    design = np.column_stack([np.ones(x.size), shape])
    coef, *_ = np.linalg.lstsq(design, x, rcond=None)
    resid = x - design @ coef
    return float(resid @ resid)


def sharper_than_ramp(x: FloatArray, cut: int, width: int) -> bool:
    """True when a jump at ``cut`` fits the window better than a linear ramp of
    ``width`` commits centred on it (slow drift moves the level over several commits)."""
    i = np.arange(x.size, dtype=np.float64)
    step = (i >= cut).astype(np.float64)
    ramp = np.clip((i - (cut - 0.5 - width / 2.0)) / width, 0.0, 1.0)
    return _rss(x, step) <= _rss(x, ramp)


def _wander(side: FloatArray) -> float:
    """sd of the slow wander of the level within one side: the part of its spread
    that its own commit-to-commit differences do not explain (independent noise
    gives Var(x) = E[diff^2] / 2; a wandering level adds to the first only)."""
    if side.size < 3:
        return 0.0
    d = np.diff(side)
    noise = float(d @ d) / d.size / 2.0
    excess = float(np.var(side, ddof=1)) - noise
    return math.sqrt(max(excess, 0.0))


def _weakness(t: CandidateTest) -> tuple[int, float]:
    return (0 if t.passed else 1, t.pvalue)


def prune(h: History, cuts: list[int]) -> list[CandidateTest]:
    """Drop failing candidates one at a time (weakest first) until all pass."""
    cuts = sorted(cuts)
    rho = residual_rho(h.x, cuts)
    clipped = min(max(rho, 0.0), _MAX_RHO)
    # AR(1) long-run variance of a mean; rho is significant beyond 2 / sqrt(n)
    h = replace(h, long_run=(1.0 + clipped) / (1.0 - clipped),
                wandering=rho > 2.0 / math.sqrt(h.x.size))

    def run(k: int) -> CandidateTest:
        lo = cuts[k - 1] if k > 0 else 0
        hi = cuts[k + 1] if k + 1 < len(cuts) else h.y.size
        return test_candidate(h, cuts[k], lo, hi)

    tests = [run(k) for k in range(len(cuts))]
    while tests:
        worst = max(range(len(tests)), key=lambda k: _weakness(tests[k]))
        if tests[worst].passed:
            break
        del cuts[worst]
        del tests[worst]
        for k in (worst - 1, worst):
            if 0 <= k < len(tests):
                tests[k] = run(k)
    return tests
