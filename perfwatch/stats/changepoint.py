"""Change-point detection over a commit history (first version: rank binary segmentation).

Each commit is reduced to the median of its log samples. Binary segmentation
splits at the maximum of the standardised rank-sum (Mann-Whitney) statistic; a split
is kept when the p-value of that maximum, corrected for the search over positions,
is small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

__all__ = ["ChangePoint", "detect_change_points"]

FloatArray = NDArray[np.float64]

MIN_SIZE = 5
MAX_PVALUE = 0.01


@dataclass(frozen=True)
class ChangePoint:
    """A level shift: ``index`` is the first measured point at the new level."""

    index: int
    pvalue: float
    rel_change: float  # after/before - 1 of segment medians
    ci_low: float
    ci_high: float


def _commit_levels(samples: Sequence[FloatArray]) -> FloatArray:
    return np.array([float(np.median(np.log(np.asarray(s, dtype=np.float64)))) for s in samples])


def max_scan_pvalue(zmax: float, n: int, min_size: int) -> float:
    """P(max_t |Z_t| >= zmax) for the standardised rank-sum scan over a segment of n.

    Asymptotically the scan is a standardised Brownian bridge, an Ornstein-Uhlenbeck
    process on the time scale s = log(t / (1 - t)) / 2; its tail over a length T is
    ``T b phi(b) + phi(b) / b`` per side (Pickands' constant 1).
    """
    t0 = min_size / n
    span = 0.5 * math.log((1 - t0) ** 2 / t0**2)
    dens = float(sps.norm.pdf(zmax))
    return min(1.0, 2.0 * (span * zmax * dens + dens / max(zmax, 1e-9)))


def _rank_scan(y: FloatArray, min_size: int) -> tuple[int, float]:
    """Best split (number of points on the left) and its |Z| for a segment."""
    n = y.size
    ranks = sps.rankdata(y)
    left = np.arange(1, n)
    sums = np.cumsum(ranks)[:-1]
    expected = left * (n + 1) / 2.0
    sd = np.sqrt(left * (n - left) * (n + 1) / 12.0)
    z = np.abs(sums - expected) / sd
    z[: min_size - 1] = 0.0
    z[n - min_size :] = 0.0
    best = int(np.argmax(z))
    return best + 1, float(z[best])


def _segment(y: FloatArray, start: int, stop: int, min_size: int, found: list[int]) -> None:
    if stop - start < 2 * min_size:
        return
    split, zmax = _rank_scan(y[start:stop], min_size)
    if max_scan_pvalue(zmax, stop - start, min_size) > MAX_PVALUE:
        return
    found.append(start + split)
    _segment(y, start, start + split, min_size, found)
    _segment(y, start + split, stop, min_size, found)


def _describe(y: FloatArray, lo: int, cut: int, hi: int, min_size: int) -> ChangePoint:
    before, after = y[lo:cut], y[cut:hi]
    res = sps.mannwhitneyu(after, before, alternative="two-sided")
    shift = float(np.median(after) - np.median(before))
    diffs = np.sort((after[:, None] - before[None, :]).ravel())
    k = max(0, int(diffs.size * 0.025))
    return ChangePoint(
        index=cut,
        pvalue=float(res.pvalue),
        rel_change=math.expm1(shift),
        ci_low=math.expm1(float(diffs[k])),
        ci_high=math.expm1(float(diffs[diffs.size - 1 - k])),
    )


def detect_change_points(
    samples: Sequence[FloatArray], *, rng: np.random.Generator
) -> list[ChangePoint]:
    """Level shifts in a history of measured commits (oldest first)."""
    del rng
    y = _commit_levels(samples)
    found: list[int] = []
    _segment(y, 0, y.size, MIN_SIZE, found)
    cuts = sorted(found)
    bounds = [0, *cuts, y.size]
    return [_describe(y, bounds[i], bounds[i + 1], bounds[i + 2], MIN_SIZE) for i in range(len(cuts))]
