"""Change-point detection over a commit history.

Pipeline (see docs/statistics.md for the reasoning):

1. per-commit levels: log of the median of each commit's samples; a history that
   switches between two run modes is seen mode-aware (the upper mode's gap taken off);
2. noise: robust commit-to-commit scale from first differences; levels are huberised
   around a running median so spikes and outliers lose their leverage;
3. candidates: binary segmentation on the CUSUM scan at a relaxed level, plus moving
   two-window scans at bandwidths 5-40;
4. pruning: each candidate is tested on its neighbouring segments (window-limited):
   significant as a shift and as a step on top of a local line, a jump rather than
   wander, at least one noise sd in size;
5. in a history whose level wanders as a random walk (its variogram rises with the
   lag), each change must also stand out of the walk over short windows;
   excursions (a level that returns within 10 commits) and mode switching (alternating
   between two levels) are dropped;
6. each surviving change gets a search-corrected p-value, the relative change of the
   medians and a confidence interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats import dist
from perfwatch.stats.candidates import CandidateTest, History, prune
from perfwatch.stats.drift import drop_walks
from perfwatch.stats.excursions import drop_excursions
from perfwatch.stats.levels import (
    Levels,
    commit_levels,
    estimate_noise,
    huberize,
    robust_scale,
)
from perfwatch.stats.modes import demode
from perfwatch.stats.scan import binary_segmentation, local_candidates, merge_candidates

__all__ = ["MAX_PVALUE", "MIN_SIZE", "ChangePoint", "detect_change_points", "detect_levels"]

FloatArray = NDArray[np.float64]

MIN_SIZE = 5  # a new level must hold for 5 measured commits (median of 5 survives 2 spikes)
MAX_PVALUE = 0.001  # per-candidate level: a suite of 500 series expects < 1 false alarm
_CANDIDATE_FACTOR = 10.0  # candidates are collected at a 10x relaxed level, then pruned


@dataclass(frozen=True)
class ChangePoint:
    """A level shift: ``index`` is the first measured point at the new level."""

    index: int
    pvalue: float
    rel_change: float  # after/before - 1 of segment medians
    ci_low: float
    ci_high: float


def _to_change(t: CandidateTest, log_scale: bool, confidence: float) -> ChangePoint:
    z = float(dist.norm_ppf(0.5 + confidence / 2.0))
    low, high = t.shift - z * t.se, t.shift + z * t.se
    if log_scale:
        return ChangePoint(t.index, t.pvalue, math.expm1(t.shift), math.expm1(low), math.expm1(high))
    return ChangePoint(t.index, t.pvalue, t.shift, low, high)


def detect_levels(
    y: FloatArray, within_se: FloatArray, *, log_scale: bool = True,
    min_size: int = MIN_SIZE, max_pvalue: float = MAX_PVALUE, confidence: float = 0.95,
) -> list[ChangePoint]:
    """Change points of a series of per-commit levels (see :func:`detect_change_points`)."""
    if y.size < 2 * min_size:
        return []
    robust = robust_scale(y)
    modal = demode(y, robust)
    if modal is not None:
        y = modal
        robust = robust_scale(y)
    x = huberize(y, robust)
    noise = estimate_noise(Levels(y, within_se, log_scale), x, robust)
    relaxed = min(1.0, max_pvalue * _CANDIDATE_FACTOR)
    cuts = merge_candidates(x, binary_segmentation(x, noise.total, min_size, relaxed)
                            + local_candidates(x, noise.total, min_size, max_pvalue), min_size)
    history = History.of(y, x, sd=noise.total, robust=robust, min_size=min_size,
                         max_pvalue=max_pvalue)
    tests = prune(history, cuts)
    tests = drop_walks(x, tests, min_size, max_pvalue)
    tests = drop_excursions(y, tests, noise.total)
    return [_to_change(t, log_scale, confidence) for t in tests]


def detect_change_points(
    samples: Sequence[FloatArray],
    *,
    rng: np.random.Generator,
    min_size: int = MIN_SIZE,
    max_pvalue: float = MAX_PVALUE,
) -> list[ChangePoint]:
    """Level shifts in a history: one non-empty sample array per measured commit,
    oldest first (one value or many). Deterministic; ``rng`` is accepted for the
    contract's uniformity."""
    del rng
    if len(samples) < 2 * min_size:
        return []
    levels = commit_levels(samples)
    return detect_levels(levels.values, levels.within_se, log_scale=levels.log_scale,
                         min_size=min_size, max_pvalue=max_pvalue)
