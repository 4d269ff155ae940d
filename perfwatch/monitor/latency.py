"""Latency histograms with exact percentiles.

Every observation is kept (a latency run holds thousands, not billions), so
percentiles are exact order statistics (``inverted_cdf``: the smallest observation
with at least p% of the data at or below it), not bucket interpolations. Buckets are
derived for display only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from perfwatch.model import FloatArray

__all__ = ["LatencyHistogram", "LatencySummary", "summarize_latencies"]


@dataclass(frozen=True)
class LatencySummary:
    """Exact percentiles of a set of latencies (seconds); NaN when empty."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float


def summarize_latencies(values: Sequence[float] | FloatArray) -> LatencySummary:
    """Exact p50/p95/p99/max of ``values`` (non-finite values are dropped)."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        nan = float("nan")
        return LatencySummary(count=0, p50=nan, p95=nan, p99=nan, max=nan, mean=nan)
    p50, p95, p99 = np.percentile(arr, [50, 95, 99], method="inverted_cdf")
    return LatencySummary(
        count=int(arr.size),
        p50=float(p50),
        p95=float(p95),
        p99=float(p99),
        max=float(arr.max()),
        mean=float(arr.mean()),
    )


class LatencyHistogram:
    """Accumulates latencies; :meth:`summary` gives exact percentiles."""

    def __init__(self) -> None:
        self._values: list[float] = []

    def record(self, seconds: float) -> None:
        self._values.append(float(seconds))

    def extend(self, values: Iterable[float]) -> None:
        self._values.extend(float(v) for v in values)

    @property
    def values(self) -> FloatArray:
        return np.array(self._values, dtype=np.float64)

    def summary(self) -> LatencySummary:
        return summarize_latencies(self._values)

    def buckets(self, edges: Sequence[float]) -> tuple[int, ...]:
        """Counts per bucket ``[edges[i], edges[i+1])`` (the last bucket closed), for display."""
        counts, _ = np.histogram(self.values, bins=np.asarray(edges, dtype=np.float64))
        return tuple(int(c) for c in counts)
