"""Mode-aware levels: a history that switches between two run modes, seen without the switches.

Some benchmarks run in one of two modes per run (two kinds of CI runner, a cache or
allocator path taken or not, turbo on or off): the per-commit level then jumps by
the same gap ``g`` up and down again and again. Every switch is a step to a
segmentation; a real change of a few percent hides among them.

When the large first differences of the levels (beyond ``JUMP_SDS`` noise sds of a
difference) are mostly of one size and alternate in sign at least
``MIN_SWITCHES`` times, the history is taken as mode switching with gap ``g``
(the median size of those jumps). Walking along the history, each large jump whose
sign fits a switch from the current mode (up from the lower, down from the upper)
and whose size is ``g`` within ``SWITCH_TOLERANCE`` sds of a difference flips the
mode; any other jump is left in the series as a change. The mode-aware level is the
level minus ``g`` while in the upper mode: a change of the benchmark shifts both
modes and so stays in it in full; a switch disappears.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from perfwatch.stats.levels import MAD_TO_SD, running_median5

__all__ = ["JUMP_SDS", "MIN_SWITCHES", "SWITCH_TOLERANCE", "demode"]

FloatArray = NDArray[np.float64]

JUMP_SDS = 5.0  # a first difference beyond 5 sds of a difference of noise is a jump
SWITCH_TOLERANCE = 3.0  # a switch's size is the gap within 3 sds of a difference
SIZE_SPREAD = 2.0  # sd of the switches' sizes at most 2 sds of a difference (MAD of few)
MIN_SWITCHES = 4  # two round trips: one trip out and back is an excursion, not a mode
VALLEY_SDS = 4.0  # levels further than 4 noise sds from both modes are between them
SETTLE_SPAN = 5  # agreed commits either side a disagreeing stretch is settled against
MAX_BETWEEN = 1  # ... and at most one may be (a change caught mid-way, an outlier run)


def _switch_gap(d: FloatArray, jumps: NDArray[np.intp], sd_diff: float) -> float | None:
    """The gap of a mode switching history, or None when the jumps do not show one."""
    size = np.abs(d[jumps])
    gap = float(np.median(size))
    # switches have one size: their spread is that of a difference of noise; spikes
    # and outliers of a heavy-tailed noise have sizes spread far wider
    if MAD_TO_SD * float(np.median(np.abs(size - gap))) > SIZE_SPREAD * sd_diff:
        return None
    tol = SWITCH_TOLERANCE * sd_diff
    if gap < JUMP_SDS * sd_diff + tol:  # a switch smaller by the tolerance would go unseen
        return None
    fits = jumps[np.abs(size - gap) <= tol]
    if fits.size < MIN_SWITCHES:
        return None
    signs = np.sign(d[fits])
    alternations = int(np.count_nonzero(signs[1:] != signs[:-1]))
    # switches alternate: at least MIN_SWITCHES - 1 sign changes, and most of the
    # jumps are switches (a few real changes may be among them)
    if alternations < MIN_SWITCHES - 1 or 2 * fits.size < size.size:
        return None
    return gap


def demode(y: FloatArray, robust: float) -> FloatArray | None:
    """Mode-aware levels of ``y`` (``robust``: per-commit noise sd), or None when the
    history does not switch between two modes."""
    if y.size < 2 * MIN_SWITCHES:
        return None
    d = np.diff(y)
    sd_diff = robust * math.sqrt(2.0)
    jumps = np.flatnonzero(np.abs(d) > JUMP_SDS * sd_diff)
    if jumps.size < MIN_SWITCHES:
        return None
    tol = SWITCH_TOLERANCE * sd_diff
    gap = _switch_gap(d, jumps, sd_diff)
    if gap is None:
        return None
    upper = _walk(y, gap, tol, jumps)
    # the walk backwards must find the same modes: a switch missed (its size off by an
    # outlier run) leaves a walk in the wrong mode until the next switch, and the two
    # walks then disagree over that stretch
    backwards = _walk(y[::-1].copy(), gap, tol, (y.size - 2 - jumps)[::-1].copy())[::-1]
    _settle(y, gap, upper, backwards)
    modal = np.asarray(y - gap * upper, dtype=np.float64)
    return modal if _has_valley(y, modal, gap, robust) else None


def _settle(y: FloatArray, gap: float, upper: NDArray[np.bool_],
            backwards: NDArray[np.bool_]) -> None:
    """Where the two walks disagree, each commit takes the mode that puts its
    mode-aware level nearer that of the agreed commits around the stretch (up to
    ``SETTLE_SPAN`` on either side): in the upper mode when it lies more than half a
    gap above them."""
    differ = np.flatnonzero(upper != backwards)
    if differ.size == 0:
        return
    agreed = upper == backwards
    modal = y - gap * upper
    breaks = np.flatnonzero(np.diff(differ) > 1)
    for a, b in zip(differ[np.concatenate([[0], breaks + 1])].tolist(),
                    (differ[np.concatenate([breaks, [differ.size - 1]])] + 1).tolist(), strict=True):
        left = np.arange(max(0, a - SETTLE_SPAN), a)
        right = np.arange(b, min(y.size, b + SETTLE_SPAN))
        around = np.concatenate([left, right])
        around = around[agreed[around]]
        if around.size == 0:
            continue
        ref = float(np.median(modal[around]))
        upper[a:b] = y[a:b] - ref > gap / 2.0


def _walk(y: FloatArray, gap: float, tol: float, jumps: NDArray[np.intp]) -> NDArray[np.bool_]:
    """The mode of each commit: the walk along ``y`` flipping at the switches."""
    d = np.diff(y)
    upper = np.zeros(y.size, dtype=bool)
    first = next(j for j in jumps.tolist() if abs(abs(float(d[j])) - gap) <= tol)
    state = bool(d[first] < 0)  # in the upper mode before a first switch down
    pos = 0
    for j in jumps.tolist():
        upper[pos : j + 1] = state
        pos = j + 1
        if abs(abs(float(d[j])) - gap) <= tol and (d[j] > 0) != state:
            state = not state
    upper[pos:] = state
    return upper


def _has_valley(y: FloatArray, modal: FloatArray, gap: float, robust: float) -> bool:
    """Two modes leave the levels between them (and beyond them) empty: at most
    ``MAX_BETWEEN`` levels lie more than ``VALLEY_SDS`` noise sds from both modes. A
    heavy-tailed noise, whose large jumps can look like switches, puts many levels
    there, and so do medians of samples mixed from both modes (half-way values)."""
    offset = y - running_median5(modal)  # ~0 in the lower mode, ~gap in the upper
    margin = max(VALLEY_SDS * robust, 0.3 * gap)
    misfit = (np.abs(offset) > margin) & (np.abs(offset - gap) > margin)
    return int(np.count_nonzero(misfit)) <= MAX_BETWEEN
