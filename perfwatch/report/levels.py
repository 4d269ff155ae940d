"""Segment levels between change points, with distribution-free confidence bands.

Pure: numpy/scipy over a :class:`~perfwatch.model.Series`. A segment's level is the
median of its per-commit medians, so the band reflects the noise *between* runs (the
one that decides whether a level moved), not the spread of samples within one run.
The band is the order-statistic confidence interval of that median (binomial), which
needs no distribution and no randomness.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from perfwatch.model import FloatArray, Series
from perfwatch.stats import dist

__all__ = ["Segment", "commit_medians", "median_interval", "medians_of", "segments",
           "segments_of"]


@dataclass(frozen=True)
class Segment:
    """Commits ``start`` .. ``stop - 1`` of a series share one level."""

    start: int
    stop: int  # exclusive
    level: float
    low: float
    high: float
    n_commits: int  # measured commits in the segment


def median_interval(values: FloatArray, confidence: float = 0.95) -> tuple[float, float]:
    """Order-statistic confidence interval of the median of ``values``.

    With fewer than 6 values no interval reaches 95 %: the range is returned.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = x.size
    if n == 0:
        return (float("nan"), float("nan"))
    # largest k with P(Bin(n, 1/2) <= k - 1) <= alpha / 2: interval [x_(k), x_(n-k+1)]
    k = dist.binom_half_ppf((1.0 - confidence) / 2.0, n)
    if k < 1:
        return (float(x[0]), float(x[-1]))
    return (float(x[k - 1]), float(x[n - k]))


def medians_of(samples: Sequence[FloatArray]) -> FloatArray:
    """The median of each array (NaN for an empty one), as ``np.median`` gives it.

    Vectorised: arrays of one size are stacked and reduced at once.
    """
    out = np.full(len(samples), np.nan, dtype=np.float64)
    by_size: dict[int, list[int]] = {}
    for i, s in enumerate(samples):
        if s.size:
            by_size.setdefault(int(s.size), []).append(i)
    for size, rows in by_size.items():  # concatenate + reshape: much faster than stack
        block = np.concatenate([samples[i] for i in rows]).reshape(len(rows), size)
        out[rows] = np.median(block.astype(np.float64, copy=False), axis=1)
    return out


@functools.lru_cache(maxsize=4096)  # a publish asks for each series' medians 3 times, apart
def _medians(series: Series) -> FloatArray:
    out = medians_of(series.samples)
    out.setflags(write=False)
    return out


def commit_medians(series: Series) -> FloatArray:
    """Median per commit; NaN for commits without a result (a read-only array).

    Vectorised: commits with the same number of samples are stacked and reduced at once.
    The last few series' medians are kept (a series is hashed by identity), since the
    levels, the figure and the regressions entry of one series all need them.
    """
    return _medians(series)


def segments(series: Series, change_indices: Sequence[int],
             confidence: float = 0.95) -> list[Segment]:
    """Levels between the given change points (positions in ``series.commits``)."""
    return segments_of(commit_medians(series), change_indices,
                       lambda i: series.samples[i], confidence)


def segments_of(medians: FloatArray, change_indices: Sequence[int],
                samples_at: Callable[[int], FloatArray],
                confidence: float = 0.95) -> list[Segment]:
    """:func:`segments` from the per-commit medians (NaN: no result); ``samples_at(i)``
    gives commit i's samples, asked only for a segment of one measured commit."""
    cuts = sorted({i for i in change_indices if 0 < i < medians.size})
    bounds = [0, *cuts, medians.size]
    out: list[Segment] = []
    for start, stop in itertools.pairwise(bounds):
        part = medians[start:stop]
        part = part[np.isfinite(part)]
        if part.size == 0:
            continue
        if part.size == 1:  # one run: its own samples say how sure the level is
            only = start + int(np.flatnonzero(np.isfinite(medians[start:stop]))[0])
            low, high = median_interval(samples_at(only), confidence)
        else:
            low, high = median_interval(part, confidence)
        out.append(Segment(start, stop, float(np.median(part)), low, high, int(part.size)))
    return out
