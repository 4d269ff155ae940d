"""Backoff, latency histogram, free-space floor, parameter sets, Prometheus rendering."""

from __future__ import annotations

import random

import numpy as np
from recorder.backoff import Backoff
from recorder.config import RetentionConfig
from recorder.ingest import parameter_sets
from recorder.latency import BUCKETS, LatencyRecorder
from recorder.retention import free_space_floor


def test_backoff_grows_caps_and_is_seeded() -> None:
    a = Backoff(0.25, 2.0, random.Random(7))
    b = Backoff(0.25, 2.0, random.Random(7))
    delays = [a.next() for _ in range(10)]
    assert delays == [b.next() for _ in range(10)]
    assert all(0.125 <= d <= 2.0 for d in delays)
    assert delays[0] <= 0.25 and max(delays[6:]) > 1.0  # grew to the cap region
    a.reset()
    assert a.next() <= 0.25


def test_latency_percentiles_and_buckets(rng: np.random.Generator) -> None:
    lat = LatencyRecorder(window=1000)
    samples = rng.uniform(0, 10, 5000)
    lat.add(samples[:2500])
    lat.add(samples[2500:])
    s = lat.summary()
    assert s.count == 5000 and abs(s.total - samples.sum()) < 1e-6
    assert s.p99 is not None and abs(s.p99 - np.percentile(samples[-1000:], 99)) < 1e-9
    cumulative = dict(s.buckets)
    assert cumulative[float("inf")] == 5000
    assert cumulative[5.0] == int((samples <= 5.0).sum())
    assert [b for b, _ in s.buckets][:-1] == list(BUCKETS)


def test_free_space_floor_defaults_to_an_hour_capped() -> None:
    cfg = RetentionConfig()
    assert free_space_floor(cfg, 1000.0, 10**12) == 3_600_000
    assert free_space_floor(cfg, 1e6, 64 * 2**20) == int(0.25 * 64 * 2**20)
    assert free_space_floor(RetentionConfig(min_free_bytes=5), 1e6, 10**12) == 5


def test_parameter_sets_from_annexb_and_avcc() -> None:
    sps, pps = b"\x67\x42\xc0\x1e\xaa", b"\x68\xce\x3c\x80"
    assert parameter_sets(b"\x00\x00\x00\x01" + sps + b"\x00\x00\x01" + pps) == (sps, pps)
    avcc = bytes([1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1]) + len(sps).to_bytes(2, "big") + sps + \
        bytes([1]) + len(pps).to_bytes(2, "big") + pps
    assert parameter_sets(avcc) == (sps, pps)
    assert parameter_sets(None) == (b"", b"")
