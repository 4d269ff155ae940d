"""Ingest-to-durable latency: a fixed-bucket histogram plus a bounded window of exact samples."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BUCKETS", "LatencyRecorder", "LatencySummary"]

BUCKETS: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 12.5, 15.0, 20.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True)
class LatencySummary:
    count: int
    total: float  # sum of seconds
    buckets: tuple[tuple[float, int], ...]  # (upper bound, cumulative count), +Inf last
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None


class LatencyRecorder:
    """Thread-safe. Exact percentiles are over the last ``window`` samples; the histogram is over all."""

    def __init__(self, window: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._counts = np.zeros(len(BUCKETS) + 1, dtype=np.int64)
        self._bounds = np.asarray(BUCKETS)
        self._total = 0.0
        self._n = 0
        self._window = np.empty(window, dtype=np.float64)
        self._pos = 0
        self._filled = 0

    def add(self, samples: Sequence[float] | np.ndarray) -> None:
        arr = np.asarray(samples, dtype=np.float64)
        if arr.size == 0:
            return
        idx = np.searchsorted(self._bounds, arr, side="left")
        with self._lock:
            self._counts += np.bincount(idx, minlength=len(self._counts))
            self._total += float(arr.sum())
            self._n += int(arr.size)
            self._store(arr[-len(self._window):])

    def _store(self, arr: np.ndarray) -> None:
        cap = len(self._window)
        end = self._pos + arr.size
        if end <= cap:
            self._window[self._pos:end] = arr
        else:
            first = cap - self._pos
            self._window[self._pos:] = arr[:first]
            self._window[: arr.size - first] = arr[first:]
        self._pos = end % cap
        self._filled = min(cap, self._filled + arr.size)

    def summary(self) -> LatencySummary:
        with self._lock:
            counts = np.cumsum(self._counts)
            data = self._window[: self._filled].copy()
            total, n = self._total, self._n
        bounds = [*BUCKETS, float("inf")]
        buckets = tuple((b, int(c)) for b, c in zip(bounds, counts, strict=True))
        if data.size == 0:
            return LatencySummary(n, total, buckets, None, None, None, None, None)
        p50, p90, p95, p99 = (float(v) for v in np.percentile(data, [50, 90, 95, 99]))
        return LatencySummary(n, total, buckets, p50, p90, p95, p99, float(data.max()))
