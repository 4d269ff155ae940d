"""The recording scenario: N cameras recorded for a while, measured from outside.

One run per parameter set; the result is a plain dict of metric name -> samples, so
that setup_cache can pickle it and several ``track_`` benchmarks read it out.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from benchmarks.common import MEASURE_SECONDS, SEGMENT_SECONDS, WARMUP_SECONDS
from benchmarks.procs import Recorder, cameras, recorder, wait_streams
from benchmarks.sampling import Sampler, Usage, fsync_rates

_QUANTILE = re.compile(r'^recorder_ingest_to_durable_seconds_exact\{quantile="([0-9.]+)"\} (\S+)$',
                       re.MULTILINE)


def latency_quantiles(metrics_text: str) -> dict[str, float]:
    """Exact ingest-to-durable quantiles the recorder exports, keyed "0.5", "0.95", "0.99", "1"."""
    return {q: float(v) for q, v in _QUANTILE.findall(metrics_text)}


def _totals(rec: Recorder) -> dict[str, float]:
    streams = rec.get("/api/streams")
    return {key: float(sum(s[key] for s in streams))
            for key in ("packets", "bytes", "dropped", "segments", "reconnects")}


def _poll(rec: Recorder, seconds: float) -> tuple[list[float], list[dict[str, float]]]:
    """Totals once a second for ``seconds``: the per-second series of the run."""
    times, totals = [time.monotonic()], [_totals(rec)]
    end = times[0] + seconds
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        times.append(time.monotonic())
        totals.append(_totals(rec))
    return times, totals


def _per_second(times: list[float], totals: list[dict[str, float]], key: str) -> list[float]:
    return [(b[key] - a[key]) / (t1 - t0)
            for a, b, t0, t1 in zip(totals, totals[1:], times, times[1:]) if t1 > t0]


def _resources(u: Usage) -> dict[str, list[float]]:
    """Per-window samples; a window is one segment long, so each holds one segment close."""
    flushes = [d[2] for d in u.disk]
    w = SEGMENT_SECONDS
    return {
        "cpu_percent": [100.0 * r for r in u.per_window(u.cpu, w)],
        "peak_rss": [float(max(u.rss))],
        "write_bytes_per_s": u.per_window(u.write_bytes, w),
        "write_ops_per_s": u.per_window(u.write_ops, w),
        "fsyncs_per_s": u.per_window(flushes, w),
        "rss_slope": [u.slope(u.rss)],
        "fd_slope": [u.slope(u.fds)],
        "max_fds": [float(max(u.fds))],
    }


def measure(rec: Recorder, streams: int, seconds: float) -> dict[str, list[float]]:
    """Measure a running recorder for ``seconds`` (after its warm-up).

    fsyncs are the recorder's own fsync/fdatasync calls when it runs under strace
    (``procs.recorder``); without strace, the storage disk's flushes (system-wide, so
    other fsync-heavy work on the host shows up too).
    """
    wall0 = time.time()
    rec.require_alive()
    with Sampler(rec.pid, rec.storage) as sampler:
        times, totals = _poll(rec, seconds)
    out = _resources(sampler.usage)
    if rec.fsync_trace is not None:
        out["fsyncs_per_s"] = fsync_rates(rec.fsync_trace, wall0, time.time(), SEGMENT_SECONDS)
    out["frames_per_s"] = _per_second(times, totals, "packets")
    out["bytes_per_s"] = _per_second(times, totals, "bytes")
    out["dropped"] = [totals[-1]["dropped"] - totals[0]["dropped"]]
    out["reconnects"] = [totals[-1]["reconnects"] - totals[0]["reconnects"]]
    quantiles = latency_quantiles(rec.get("/metrics"))
    for name, q in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"), ("max", "1")):
        out[f"latency_{name}"] = [quantiles[q]] if q in quantiles else []
    per_stream = [s.get("latency") or {} for s in rec.get("/api/streams")]
    out["latency_p99_per_stream"] = [lat["p99"] for lat in per_stream if lat.get("p99")]
    out["streams"] = [float(streams)]
    return out


def run_recording(streams: int, resolution: str) -> dict[str, list[float]]:
    """Start ``streams`` cameras and the recorder, warm up, measure, stop everything."""
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp, \
            cameras(streams, resolution) as rig, \
            recorder(Path(tmp), rig.urls) as rec:
        start = time.monotonic()
        wait_streams(rec, streams, timeout=30 + streams * SEGMENT_SECONDS)
        time.sleep(max(0.0, WARMUP_SECONDS - (time.monotonic() - start)))
        return measure(rec, streams, MEASURE_SECONDS)
