"""CUSUM scan for one level shift and its search-corrected p-value.

For a segment of n huberised levels with known noise sd, the standardised
difference of means left and right of a split at t,

    Z_t = (mean(x[t:]) - mean(x[:t])) / (sd * sqrt(1/t + 1/(n-t))),

is under "no change" a standardised Brownian bridge. Taking the largest |Z_t| over
all allowed splits is a search, so its p-value is that of the maximum, not of one
normal test (see :func:`scan_pvalue`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ScanResult", "binary_segmentation", "local_candidates", "merge_candidates", "scan", "scan_pvalue"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ScanResult:
    split: int  # points left of the best split (index of the first point right of it)
    z: float  # signed standardised difference at the split (right minus left)


@functools.lru_cache(maxsize=1024)
def _scan_weights(n: int, min_size: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Split sizes t, 1/t and 1/(n-t) of a scan (cached: they depend on n only)."""
    left = np.arange(min_size, n - min_size + 1, dtype=np.float64)
    return left, 1.0 / left, 1.0 / (n - left)


def scan(x: FloatArray, sd: float, min_size: int) -> ScanResult | None:
    """Best split of ``x`` with at least ``min_size`` points on each side."""
    n = x.size
    if n < 2 * min_size:
        return None
    csum = np.cumsum(x)
    left, inv_left, inv_right = _scan_weights(n, min_size)
    head = csum[min_size - 1 : n - min_size]
    diff = (csum[-1] - head) * inv_right - head * inv_left
    # |Z_t| = |diff_t| / (sd * sqrt(1/t + 1/(n-t))): compare squares, one sqrt at the end
    score = diff * diff / (inv_left + inv_right)
    best = int(np.argmax(score))
    z = float(diff[best]) / (sd * float(np.sqrt(inv_left[best] + inv_right[best])))
    return ScanResult(split=int(left[best]), z=z)


def scan_pvalue(z: float, n: int, min_size: int) -> float:
    """P(max_t |Z_t| >= |z|) for a scan over splits t in [min_size, n - min_size].

    On the time scale s = log(u / (1 - u)) / 2 (u = t/n) the standardised bridge is a
    stationary Ornstein-Uhlenbeck process with correlation exp(-|ds|); for a level b
    its upcrossings over a span S give ``P(max > b) ~ phi(b) (S b + 1/b)`` per side
    (Pickands' constant 1). The continuous scan bounds the discrete one, so the
    p-value is conservative for short segments.
    """
    b = abs(z)
    if n < 2 * min_size or b == 0.0:
        return 1.0
    u0 = min_size / n
    span = math.log((1.0 - u0) / u0)  # s runs over [-span/2, span/2]
    dens = math.exp(-0.5 * b * b) / math.sqrt(2.0 * math.pi)
    single = math.erfc(b / math.sqrt(2.0))  # two-sided p of one split: never below it
    return float(min(1.0, max(single, 2.0 * dens * (span * b + 1.0 / b))))


def binary_segmentation(
    x: FloatArray, sd: float, min_size: int, max_pvalue: float
) -> list[int]:
    """Candidate change indices: split while the scan's p-value is at most ``max_pvalue``."""
    found: list[int] = []
    stack = [(0, x.size)]
    while stack:
        lo, hi = stack.pop()
        res = scan(x[lo:hi], sd, min_size)
        if res is None or scan_pvalue(res.z, hi - lo, min_size) > max_pvalue:
            continue
        cut = lo + res.split
        found.append(cut)
        stack.append((lo, cut))
        stack.append((cut, hi))
    return sorted(found)


@functools.lru_cache(maxsize=4096)
def _scan_threshold(n: int, min_size: int, max_pvalue: float) -> float:
    """Smallest |Z| whose scan p-value over n points is at most ``max_pvalue`` (bisection)."""
    lo, hi = 0.0, 40.0
    for _ in range(40):
        mid = (lo + hi) / 2.0
        if scan_pvalue(mid, n, min_size) <= max_pvalue:
            hi = mid
        else:
            lo = mid
    return hi


def local_candidates(
    x: FloatArray, sd: float, min_size: int, max_pvalue: float, max_bandwidth: int = 64
) -> list[int]:
    """Candidates from moving two-window scans (MOSUM) at bandwidths min_size, 2x, 4x ...

    Binary segmentation can miss a change hidden by larger ones around it (a short
    raised stretch inside a long history); a scan with a short bandwidth sees it.
    A position is a candidate when its |Z| is the largest within one bandwidth and
    passes the scan p-value for a window of twice the bandwidth.
    """
    found: list[int] = []
    h = min_size
    csum = np.concatenate([[0.0], np.cumsum(x)])
    while 2 * h <= x.size and h <= max_bandwidth:
        mid = csum[h : x.size - h + 1]
        # |mean right - mean left| / (sd sqrt(2/h)) at t = h .. n-h
        z = np.abs(csum[2 * h :] + csum[: x.size - 2 * h + 1] - 2.0 * mid)
        z *= 1.0 / (h * sd * math.sqrt(2.0 / h))
        above = np.flatnonzero(z >= _scan_threshold(2 * h, min_size, max_pvalue))
        for k in above:  # rare: keep only the largest within one bandwidth
            a, b = max(0, int(k) - h), min(z.size, int(k) + h + 1)
            if z[k] >= z[a:b].max():
                found.append(int(k) + h)
        h *= 2
    return sorted(set(found))


def merge_candidates(x: FloatArray, cuts: list[int], min_size: int) -> list[int]:
    """Union of candidate sets with no two closer than ``min_size``: the one with the
    larger local jump (over ``min_size`` commits each side) wins."""
    csum = np.concatenate([[0.0], np.cumsum(x)])

    def jump(c: int) -> float:
        a, b = max(0, c - min_size), min(x.size, c + min_size)
        return abs(float(csum[b] - csum[c]) / (b - c) - float(csum[c] - csum[a]) / (c - a))

    kept: list[int] = []
    for c in sorted(set(cuts), key=jump, reverse=True):
        if 0 < c < x.size and all(abs(c - k) >= min_size for k in kept):
            kept.append(c)
    return sorted(kept)
