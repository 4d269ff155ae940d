"""Excursions and mode switching: level changes that are not changes.

Two nuisances look like pairs of steps to any segmentation:

- an **excursion**: the level leaves and comes back to where it was within a few
  commits (a spike several commits wide: a batch of runs on another machine). It is
  dropped when its level is one the history visits around it as well (a second mode
  that single commits land on now and then: :func:`visited_elsewhere`); an excursion
  to a level seen nowhere else is a change and its revert, and both are reported;
- **mode switching**: the history alternates between the same two levels again and
  again (bimodal benchmarks, two kinds of CI runners). Every switch is a step, but
  the benchmark did not change.

Both are recognised from the level sequence of the detected segments: a level
*returns* when the level after a segment equals the level before it, within one
noise sd or a quarter of the smaller of the two steps.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats import dist
from perfwatch.stats.candidates import CandidateTest
from perfwatch.stats.levels import fast_median, running_median5

__all__ = ["EXCURSION_MAX", "VISIT_PVALUE", "drop_excursions", "noise_could_make",
           "visited_elsewhere"]

FloatArray = NDArray[np.float64]

EXCURSION_MAX = 10  # a level that holds for fewer commits (two minimum segments) and returns
_RETURN_FRACTION = 0.25
VISIT_PVALUE = 0.01  # as the step-on-a-line guard: 10x the detector's level


def _returns(before: float, after: float, step_in: float, step_out: float, sd: float) -> bool:
    if step_in * step_out >= 0:
        return False
    tolerance = max(sd, _RETURN_FRACTION * min(abs(step_in), abs(step_out)))
    return abs(after - before) <= tolerance


def _return_flags(y: FloatArray, tests: Sequence[CandidateTest], sd: float) -> list[bool]:
    """flags[i]: the segment between changes i and i+1 returns to the level before i."""
    flags = []
    for a, b in itertools.pairwise(tests):
        before = fast_median(y[a.lo : a.index])
        after = fast_median(y[b.index : b.hi])
        flags.append(_returns(before, after, a.shift, b.shift, sd))
    return flags


def visited_elsewhere(y: FloatArray, into: CandidateTest, back: CandidateTest, sd: float) -> bool:
    """Whether the level of a short excursion is one the history visits around it too.

    A second mode (another kind of runner, a slow path taken now and then) shows as
    commits near the excursion's level among the commits before and after it; with
    one level and noise of sd ``sd``, a commit is nearer the excursion's level than
    its own with probability ``p0 = Phi(-delta / (2 sd))``. Visited elsewhere: the
    count of such commits is improbable under ``p0`` (binomial, at the level of the
    nuisance guards, ``VISIT_PVALUE``).
    """
    level = fast_median(y[into.index : back.index])
    others = np.concatenate([y[into.lo : into.index], y[back.index : back.hi]])
    base = fast_median(others)
    delta = abs(level - base)
    nearer = int(np.count_nonzero(np.abs(others - level) < np.abs(others - base)))
    p0 = float(dist.norm_sf(delta / (2.0 * sd)))
    return float(dist.binom_sf(nearer - 1, others.size, p0)) <= VISIT_PVALUE


def noise_could_make(y: FloatArray, into: CandidateTest, back: CandidateTest) -> bool:
    """Whether the history's own noise could make a stretch like the excursion.

    ``q``: the share of the other commits that lie beyond half the excursion's step
    from their running median (width 5), on its side (counted, so heavy tails and
    variance changes count as they are; one added to count and total). A stretch of
    ``L`` commits has a median beyond that half-way line by chance with probability
    ``P(Binomial(L, q) >= L / 2)``, at any of the history's positions: when that is
    above ``VISIT_PVALUE``, noise could have made it.
    """
    length = back.index - into.index
    level = fast_median(y[into.index : back.index])
    base = fast_median(np.concatenate([y[into.lo : into.index], y[back.index : back.hi]]))
    dev = (y - running_median5(y)) * (1.0 if level > base else -1.0)
    outside = np.ones(y.size, dtype=bool)
    outside[into.index : back.index] = False
    beyond = int(np.count_nonzero(dev[outside] > abs(level - base) / 2.0))
    q = (beyond + 1) / (int(outside.sum()) + 1)
    p_run = float(dist.binom_sf(math.ceil(length / 2) - 1, length, q))
    return y.size * p_run > VISIT_PVALUE


def drop_excursions(
    y: FloatArray, tests: Sequence[CandidateTest], sd: float
) -> list[CandidateTest]:
    """Remove excursion pairs and every change of an alternating (mode-switching) run."""
    kept = list(tests)
    if len(kept) < 2:
        return kept
    flags = _return_flags(y, kept, sd)
    drop: set[int] = set()
    i = 0
    while i < len(flags):
        if not flags[i]:
            i += 1
            continue
        j = i
        while j < len(flags) and flags[j]:
            j += 1
        # flags[i:j] all return: changes i .. j alternate between two levels
        if j - i >= 2:
            drop.update(range(i, j + 1))
        elif (kept[i + 1].index - kept[i].index < EXCURSION_MAX
              and (visited_elsewhere(y, kept[i], kept[i + 1], sd)
                   or noise_could_make(y, kept[i], kept[i + 1]))):
            drop.update((i, i + 1))
        i = j
    return [t for k, t in enumerate(kept) if k not in drop]
