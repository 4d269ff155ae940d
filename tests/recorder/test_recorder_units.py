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
    assert s.p95 is not None and abs(s.p95 - np.percentile(samples[-1000:], 95)) < 1e-9
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


def test_metrics_text_is_well_formed_prometheus() -> None:
    import re

    from recorder.ingest import StreamStatus
    from recorder.metrics import render_metrics
    from recorder.mover import MoverStats
    from recorder.retention import SweepStats

    lat = LatencyRecorder()
    lat.add([0.2, 1.5, 9.0, 11.0])
    sweep = SweepStats(runs=3, emergency_runs=1, deleted_bytes=500)
    sweep.count("disk_full", 2)
    st = StreamStatus(name='we"ird', url="rtsp://x", connected=True, fps=30.0, bitrate=2e6, packets=42,
                      bytes=1000, dropped=1, skipped=0, reconnects=2, write_errors=1, segments=4,
                      last_error=None, last_packet_age=0.1, width=320, height=240, codec="h264")
    text = render_metrics([st], lat.summary(), MoverStats(moved=4), sweep, 123, 456)
    sample = re.compile(r'^[a-z_:][a-z0-9_:]*(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? [-+0-9.eEInf]+$')
    typed = set()
    for line in text.splitlines():
        if line.startswith("# TYPE"):
            typed.add(line.split()[2])
        elif not line.startswith("# HELP"):
            assert sample.match(line), line
            base = re.sub(r"(_bucket|_sum|_count)$", "", line.split("{")[0].split(" ")[0])
            assert base in typed, line
    quantiles = re.findall(r'^recorder_ingest_to_durable_seconds_exact\{quantile="([0-9.]+)"\}', text,
                           re.MULTILINE)
    assert quantiles == ["0.5", "0.9", "0.95", "0.99", "1"]  # the suite reads p50/p95/p99/max
    buckets = [int(v) for v in re.findall(r'_seconds_bucket\{le="[^"]+"\} (\d+)', text)]
    assert buckets == sorted(buckets) and buckets[-1] == 4
    assert "recorder_ingest_to_durable_seconds_count 4" in text
    assert 'recorder_packets_total{stream="we\\"ird"} 42' in text
    assert 'recorder_sweep_deleted_segments_total{reason="disk_full"} 2' in text
