"""Detection over many series at once, for suites with equal-sized sample arrays.

The per-commit medians are the expensive part of detection over a large suite: they are
computed for all series in one vectorised pass here (sorted in blocks), then each series
runs the same :func:`perfwatch.stats.changepoint.detect_levels` as
:func:`detect_change_points` does.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats.changepoint import MAX_PVALUE, MIN_SIZE, ChangePoint, detect_levels
from perfwatch.stats.levels import MAD_TO_SD, MEDIAN_SE, WITHIN_SUBSAMPLE

__all__ = ["detect_batch", "levels_matrix"]

FloatArray = NDArray[np.float64]

_BLOCK_VALUES = 2_000_000  # values sorted per block (bounded memory)


def _sorted_median(block: FloatArray) -> FloatArray:
    k = block.shape[-1]
    s = np.sort(block, axis=-1)
    if k % 2:
        return np.asarray(s[..., k // 2], dtype=np.float64)
    return np.asarray(0.5 * (s[..., k // 2 - 1] + s[..., k // 2]), dtype=np.float64)


def levels_matrix(samples: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-commit log medians and within-run standard errors of the medians.

    ``samples`` has shape (series, commits, samples) with positive values (float32 is
    fine: it is converted block by block). The
    within-run error is computed on an evenly spaced subsample of commits (it is only
    used through its median); other commits get the subsample's median.
    """
    n_series, n_commits, k = samples.shape
    medians = np.empty((n_series, n_commits))
    rows = max(1, _BLOCK_VALUES // max(1, n_commits * k))
    for a in range(0, n_series, rows):
        medians[a : a + rows] = _sorted_median(np.asarray(samples[a : a + rows], np.float64))
    within = np.zeros((n_series, n_commits))
    if k >= 3:
        pick = np.unique(np.linspace(0, n_commits - 1, min(n_commits, WITHIN_SUBSAMPLE)).astype(int))
        sub = np.asarray(samples[:, pick, :], dtype=np.float64)
        mad = _sorted_median(np.abs(sub - medians[:, pick, None]))
        se = MEDIAN_SE * MAD_TO_SD * mad / medians[:, pick] / math.sqrt(k)
        within[:] = np.median(se, axis=1)[:, None]
    return np.log(medians), within


def detect_batch(
    samples: FloatArray,
    *,
    rng: np.random.Generator,
    min_size: int = MIN_SIZE,
    max_pvalue: float = MAX_PVALUE,
) -> list[list[ChangePoint]]:
    """:func:`detect_change_points` for every series of a (series, commits, samples) array
    of positive values with no gaps."""
    del rng
    values, within = levels_matrix(samples)
    return [
        detect_levels(values[i], within[i], min_size=min_size, max_pvalue=max_pvalue)
        for i in range(values.shape[0])
    ]
