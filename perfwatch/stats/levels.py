"""Per-commit levels and the noise model of one history.

A commit's *level* is the log of the median of its samples (the median commutes with
the log, so odd-sized samples give exactly the median of the log samples). Noise is
split into two parts:

- **within-run**: the spread of the samples of one commit, which sets how precisely
  a commit's median is known (``1.2533 * MAD / sqrt(n)``);
- **between-run**: the commit-to-commit scatter of the medians that the within-run
  spread does not explain (machine state, address layout, CI runner), estimated
  from the history itself.

Shifts are judged against the *total* per-commit noise of the medians, which is
estimated from first differences of the levels (level shifts touch only one
difference each, slow drift cancels) and is never taken below what the within-run
spread alone implies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MAD_TO_SD",
    "MEDIAN_SE",
    "WITHIN_SUBSAMPLE",
    "Levels",
    "NoiseEstimate",
    "clipped_diff_scale",
    "commit_levels",
    "estimate_noise",
    "fast_median",
    "huberize",
    "robust_scale",
]

FloatArray = NDArray[np.float64]

MAD_TO_SD = 1.482602218505602
MEDIAN_SE = math.sqrt(math.pi / 2.0)  # sd(median of n) ~ 1.2533 sd / sqrt(n)
# Within-run noise is summarised by its median over commits; that median is computed
# from at most this many evenly spaced commits.
WITHIN_SUBSAMPLE = 64
# Smallest noise allowed on the log scale (1e-6 relative): exact ties in a history
# must not make every tiny difference infinitely significant.
_NOISE_FLOOR = 1e-6
SPIKE_WIDTH = 5  # running-median width: runs of up to 2 deviating commits are spikes
CLIP = 2.0  # huberisation: deviations from the running median beyond 2 sd are clipped
_DIFF_CLIP = 5.0  # first differences beyond 5 sd are level shifts, not noise


@dataclass(frozen=True)
class Levels:
    """Per-commit levels of a history and how they were made."""

    values: FloatArray  # log of the per-commit medians (or median-relative values)
    within_se: FloatArray  # standard error of each commit's median (0 for one sample)
    log_scale: bool  # False when some medians are <= 0: values are then relative


@dataclass(frozen=True)
class NoiseEstimate:
    """Noise of the per-commit medians on the working (log) scale."""

    total: float  # sd of a commit's median around its level
    within: float  # typical within-run standard error of a commit's median
    between: float  # sqrt(total^2 - within^2): commit-to-commit noise beyond within-run
    robust: float  # MAD-based scale of first differences / sqrt(2), used for clipping


def _within_se_stacked(stacked: FloatArray, medians: FloatArray) -> FloatArray:
    n = stacked.shape[1]
    if n < 3:
        return np.zeros(stacked.shape[0])
    mad = np.median(np.abs(stacked - medians[:, None]), axis=1)
    scale = np.where(medians != 0.0, np.abs(medians), np.inf)
    return np.asarray(MEDIAN_SE * MAD_TO_SD * mad / scale / math.sqrt(n), dtype=np.float64)


def _within_se(arrays: Sequence[FloatArray], medians: FloatArray) -> FloatArray:
    se = np.zeros(len(arrays))
    for i, a in enumerate(arrays):
        if a.size >= 3 and medians[i] != 0.0:
            mad = float(np.median(np.abs(a - medians[i])))
            se[i] = MEDIAN_SE * MAD_TO_SD * mad / abs(medians[i]) / math.sqrt(a.size)
    return se


def commit_levels(samples: Sequence[FloatArray]) -> Levels:
    """Levels of a history given one non-empty sample array per measured commit
    (non-finite values are ignored)."""
    arrays = [np.asarray(s, dtype=np.float64).ravel() for s in samples]
    sizes = {a.size for a in arrays}
    stacked = np.stack(arrays) if len(sizes) == 1 and arrays else None
    if stacked is None or not np.isfinite(stacked).all():
        arrays = [a[np.isfinite(a)] for a in arrays]
        if any(a.size == 0 for a in arrays):
            raise ValueError("every commit needs at least one finite sample")
        stacked = None
    if stacked is not None:
        medians = np.median(stacked, axis=1)
        pick = np.unique(np.linspace(0, len(arrays) - 1, min(len(arrays), WITHIN_SUBSAMPLE)).astype(int))
        within = np.full(len(arrays), float(np.median(_within_se_stacked(stacked[pick], medians[pick]))))
    else:
        medians = np.array([float(np.median(a)) for a in arrays])
        within = _within_se(arrays, medians)
    if medians.size and np.all(medians > 0):
        return Levels(np.log(medians), within, True)
    center = float(np.median(np.abs(medians))) or 1.0
    return Levels(medians / center, within, False)


def fast_median(a: FloatArray) -> float:
    """Median of a 1-d array (np.partition; np.median's overhead dominates short arrays)."""
    n = a.size
    part = np.partition(a, (n - 1) // 2 if n % 2 else (n // 2 - 1, n // 2))
    if n % 2:
        return float(part[n // 2])
    return 0.5 * float(part[n // 2 - 1] + part[n // 2])


def running_median5(y: FloatArray) -> FloatArray:
    """Running median of width 5 with the ends repeated (a sorting of 5 shifted copies)."""
    padded = np.concatenate([[y[0], y[0]], y, [y[-1], y[-1]]])
    n = y.size
    shifted = np.stack([padded[k : k + n] for k in range(SPIKE_WIDTH)])
    shifted.sort(axis=0)
    return np.asarray(shifted[SPIKE_WIDTH // 2], dtype=np.float64)


def _robust_diff_scale(y: FloatArray) -> float:
    d = np.diff(y)
    if d.size == 0:
        return _NOISE_FLOOR
    mad = fast_median(np.abs(d - fast_median(d)))
    return max(MAD_TO_SD * mad / math.sqrt(2.0), _NOISE_FLOOR)


def huberize(y: FloatArray, robust: float) -> FloatArray:
    """Pull each level to within ``CLIP`` robust sd of a running median of width 5.

    A running median keeps step edges and drops runs of up to two deviating commits,
    so single-commit spikes and outliers lose their leverage but steps survive.
    """
    if y.size < SPIKE_WIDTH:
        return y.copy()
    smooth = running_median5(y)
    bound = CLIP * robust
    return np.asarray(smooth + np.clip(y - smooth, -bound, bound), dtype=np.float64)


def clipped_diff_scale(x: FloatArray, robust: float) -> float:
    """sd of huberised levels from their first differences (large jumps clipped)."""
    d = np.diff(x)
    if d.size == 0:
        return robust
    bound = _DIFF_CLIP * robust * math.sqrt(2.0)
    clipped = np.clip(d, -bound, bound)
    return max(math.sqrt(float(clipped @ clipped) / d.size / 2.0), _NOISE_FLOOR)


def estimate_noise(levels: Levels, x: FloatArray, robust: float) -> NoiseEstimate:
    """Total, within-run and between-run noise of a history's per-commit medians."""
    within = float(np.median(levels.within_se)) if levels.within_se.size else 0.0
    total = max(clipped_diff_scale(x, robust), within)
    between = math.sqrt(max(total * total - within * within, 0.0))
    return NoiseEstimate(total=total, within=within, between=between, robust=robust)


def robust_scale(y: FloatArray) -> float:
    """MAD-based sd of first differences / sqrt(2): per-commit noise, robust to shifts."""
    return _robust_diff_scale(y)
