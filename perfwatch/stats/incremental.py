"""Incremental detection: one new commit at a time, with a small per-series state.

The state keeps the per-commit levels already computed and the change points found so
far. Appending a commit costs one median and one CUSUM scan over the recent history
(the commits since the last change, at most ``2 * WINDOW``): only when that screen
sees a possible shift is the full detection re-run. Change points already reported
stay as they are between re-runs (alerts are not retracted by unrelated new commits).

Pure: state in, state out; the on-disk cache is
:mod:`perfwatch.adapters.detection_cache`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats.candidates import WINDOW
from perfwatch.stats.changepoint import MAX_PVALUE, MIN_SIZE, ChangePoint, detect_levels
from perfwatch.stats.levels import commit_levels, fast_median, robust_scale
from perfwatch.stats.scan import scan, scan_pvalue

__all__ = [
    "STATE_VERSION",
    "DetectionState",
    "append_commit",
    "start_detection",
    "start_from_levels",
]

FloatArray = NDArray[np.float64]

STATE_VERSION = 1
# The screen is looser than the final test (10x), so it never hides what a full
# detection would report.
_SCREEN_FACTOR = 10.0


@dataclass(frozen=True)
class DetectionState:
    """What incremental detection remembers about one series."""

    levels: FloatArray  # log median of each measured commit, oldest first
    within_se: FloatArray  # within-run standard error of each commit's median
    log_scale: bool
    changes: tuple[ChangePoint, ...]
    noise: float  # robust per-commit noise sd at the last full detection
    version: int = STATE_VERSION


def _full(levels: FloatArray, within: FloatArray, log_scale: bool) -> DetectionState:
    changes = detect_levels(levels, within, log_scale=log_scale, min_size=MIN_SIZE,
                            max_pvalue=MAX_PVALUE)
    return DetectionState(levels, within, log_scale, tuple(changes), robust_scale(levels))


def start_from_levels(levels: FloatArray, within_se: FloatArray, *,
                      log_scale: bool = True) -> DetectionState:
    """Full detection from per-commit levels (as :func:`levels_matrix` makes them)."""
    return _full(np.asarray(levels, np.float64), np.asarray(within_se, np.float64), log_scale)


def start_detection(samples: Sequence[FloatArray]) -> DetectionState:
    """Full detection over a history; the state to pass to :func:`append_commit`."""
    if not samples:
        empty = np.zeros(0)
        return DetectionState(empty, empty, True, (), 0.0)
    lv = commit_levels(samples)
    return _full(lv.values, lv.within_se, lv.log_scale)


def _level(new: FloatArray, log_scale: bool) -> tuple[float, float]:
    a = np.asarray(new, dtype=np.float64).ravel()
    med = fast_median(a)
    if log_scale and med <= 0.0:
        raise ValueError("a non-positive median in a log-scale history: start_detection again")
    if a.size >= 3 and med != 0.0:
        mad = fast_median(np.abs(a - med))
        se = 1.2533141373155003 * 1.482602218505602 * mad / abs(med) / np.sqrt(a.size)
    else:
        se = 0.0
    return (float(np.log(med)) if log_scale else med), float(se)


def _screen(state: DetectionState, levels: FloatArray) -> bool:
    """True when the recent history may hold a shift the last detection has not seen."""
    start = state.changes[-1].index if state.changes else 0
    start = max(start, levels.size - 2 * WINDOW)
    tail = levels[start:]
    res = scan(tail, max(state.noise, 1e-12), MIN_SIZE)
    if res is None:
        return False
    return scan_pvalue(res.z, tail.size, MIN_SIZE) <= MAX_PVALUE * _SCREEN_FACTOR


def _censored(new: DetectionState, before: Sequence[ChangePoint]) -> bool:
    """True when the newest change point is new and sits where the minimum segment length
    forced it: at the last allowed place, while the data put the shift later (a change in
    the last ``MIN_SIZE - 1`` commits). Its place is not known yet; since appended change
    points keep their first estimate, it is reported when a later commit can place it."""
    if not new.changes or new.changes[-1] in before:
        return False
    last, n = new.changes[-1], new.levels.size
    if last.index != n - MIN_SIZE:
        return False
    start = new.changes[-2].index if len(new.changes) > 1 else 0
    start = max(start, n - 2 * WINDOW)
    free = scan(new.levels[start:], max(new.noise, 1e-12), 1)
    return free is not None and start + free.split > last.index


def append_commit(
    state: DetectionState, samples: FloatArray
) -> tuple[DetectionState, list[ChangePoint]]:
    """Add one measured commit (its raw samples) to a series; returns the new state and
    the series' change points (indices count measured commits, as in the state)."""
    level, se = _level(samples, state.log_scale)
    levels = np.concatenate((state.levels, (level,)))
    within = np.concatenate((state.within_se, (se,)))
    if state.levels.size < 2 * MIN_SIZE or _screen(state, levels):
        new = _full(levels, within, state.log_scale)
        if _censored(new, state.changes):
            new = replace(new, changes=new.changes[:-1])
    else:
        new = DetectionState(levels, within, state.log_scale, state.changes, state.noise)
    return new, list(new.changes)
