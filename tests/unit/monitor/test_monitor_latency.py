from __future__ import annotations

import math

import numpy as np

from perfwatch.monitor.latency import LatencyHistogram, summarize_latencies


def test_exact_percentiles_are_observations() -> None:
    values = np.arange(1, 101, dtype=np.float64) / 1000  # 1..100 ms
    s = summarize_latencies(values)
    assert (s.count, s.p50, s.p95, s.p99, s.max) == (100, 0.05, 0.095, 0.099, 0.1)


def test_tail_is_not_smoothed_away(rng: np.random.Generator) -> None:
    base = rng.normal(0.01, 0.001, 990)
    tail = np.full(10, 0.5)
    s = summarize_latencies(np.concatenate([base, tail]))
    assert s.max == 0.5
    assert s.p99 < 0.5 and s.p99 > 0.01
    s2 = summarize_latencies(np.concatenate([base, np.full(11, 0.5)]))
    assert s2.p99 == 0.5


def test_histogram_accumulates_and_buckets() -> None:
    h = LatencyHistogram()
    h.extend([0.001, 0.002, 0.02])
    h.record(float("nan"))
    h.record(0.2)
    assert h.summary().count == 4
    assert h.buckets([0.0, 0.01, 0.1, 1.0]) == (2, 1, 1)


def test_empty_is_nan() -> None:
    s = summarize_latencies([])
    assert s.count == 0 and math.isnan(s.p99)
