"""load_test: the concurrent stream limit, sustained load (leaks), burst traffic.

- ``LoadStreamLimit`` ramps the number of recorded cameras (added through the API)
  and reports the largest count that still records every frame on time: no dropped
  packets, at least 95% of the cameras' frame rate, and at most 1% of packets slower
  than ``LATENCY_BOUND`` from ingest to durable storage. When the largest step passes,
  the limit reported is that step (a floor, not the true limit).
- ``LoadSustained`` records for a while and fits RSS and open-fd slopes (leak checks).
- ``LoadBurst`` fires mixed API traffic at a recording recorder: p99 latency, 5xx.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.burst import burst, error_percent, percentile
from benchmarks.common import CACHE_TIMEOUT, FPS, FULL, ROUNDS, SEGMENT_SECONDS, samples
from benchmarks.procs import Recorder, cameras, recorder, wait_streams
from benchmarks.scenarios import measure

RAMP = (8, 16, 32, 48, 64, 96, 128) if FULL else (8, 16, 32, 48, 64)
STEP_SECONDS = 3 * SEGMENT_SECONDS
LATENCY_BOUND = "5.0"  # a bucket bound of the recorder's histogram, seconds
SUSTAIN_SECONDS = 300.0 if FULL else 30.0

Cache = dict[str, list[float]]
_BUCKET = re.compile(r'^recorder_ingest_to_durable_seconds_bucket\{le="([^"]+)"\} (\d+)$',
                     re.MULTILINE)


def _add_stream(rec: Recorder, name: str, url: str) -> None:
    body = json.dumps({"name": name, "url": url}).encode()
    req = urllib.request.Request(rec.base + "/api/streams", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30):
        pass


def _counters(rec: Recorder) -> dict[str, float]:
    streams = rec.get("/api/streams")
    buckets = dict(_BUCKET.findall(rec.get("/metrics")))
    return {"packets": sum(s["packets"] for s in streams),
            "dropped": sum(s["dropped"] for s in streams),
            "connected": sum(1 for s in streams if s["connected"]),
            "slow": float(buckets.get("+Inf", 0)) - float(buckets.get(LATENCY_BOUND, 0)),
            "durable": float(buckets.get("+Inf", 0)), "t": time.monotonic()}


def _step_ok(a: dict[str, float], b: dict[str, float], n: int) -> tuple[bool, float]:
    fps = (b["packets"] - a["packets"]) / (b["t"] - a["t"])
    durable = b["durable"] - a["durable"]
    slow_share = (b["slow"] - a["slow"]) / durable if durable else 1.0
    ok = (b["dropped"] == a["dropped"] and b["connected"] == n and fps >= 0.95 * n * FPS
          and slow_share <= 0.01)
    return ok, fps


def run_ramp() -> Cache:
    limit, cpu_per_stream = 0.0, []
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp, \
            cameras(RAMP[-1], "320x240") as rig, recorder(Path(tmp), []) as rec:
        added = 0
        for n in RAMP:
            for i in range(added, n):
                _add_stream(rec, f"cam{i}", rig.urls[i])
            added = n
            try:
                wait_streams(rec, n, timeout=20 + n * 0.5)
            except RuntimeError:
                break
            time.sleep(SEGMENT_SECONDS)  # let the first segments of new streams close
            before = _counters(rec)
            step = measure(rec, n, STEP_SECONDS)
            ok, _ = _step_ok(before, _counters(rec), n)
            cpu_per_stream.append(sum(step["cpu_percent"]) / len(step["cpu_percent"]) / n)
            if not ok:
                break
            limit = float(n)
    return {"limit": [limit], "cpu_per_stream": cpu_per_stream}


def run_sustained() -> Cache:
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp, \
            cameras(4, "320x240") as rig, recorder(Path(tmp), rig.urls) as rec:
        wait_streams(rec, 4)
        time.sleep(2 * SEGMENT_SECONDS)
        out = measure(rec, 4, SUSTAIN_SECONDS)
    return {"rss_slope": out["rss_slope"], "fd_slope": out["fd_slope"],
            "peak_rss": out["peak_rss"]}


def run_burst() -> Cache:
    paths = ["/api/streams", "/health", "/api/recordings", "/api/storage", "/metrics"]
    p99, errors = [], []
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp, \
            cameras(4, "320x240") as rig, recorder(Path(tmp), rig.urls) as rec:
        wait_streams(rec, 4)
        for _ in range(4):
            replies = burst([rec.base + p for p in paths] * 40, concurrency=64)
            p99.append(percentile([r.seconds for r in replies], 99))
            errors.append(error_percent(replies))
    return {"p99": p99, "errors": errors}


class LoadStreamLimit:
    rounds = ROUNDS
    timeout = CACHE_TIMEOUT
    version = "1"

    def setup_cache(self) -> Cache:
        return run_ramp()

    setup_cache.timeout = CACHE_TIMEOUT  # type: ignore[attr-defined]

    def track_stream_limit(self, cache: Cache) -> object:
        """Most 320x240 cameras recorded with no drops and on time (ramp 8 ... 64)."""
        return samples(cache["limit"])

    track_stream_limit.unit = "streams"  # type: ignore[attr-defined]

    def track_cpu_percent_per_stream(self, cache: Cache) -> object:
        """Recorder CPU (% of a core) per recorded stream, one sample per ramp step."""
        return samples(cache["cpu_per_stream"])

    track_cpu_percent_per_stream.unit = "%"  # type: ignore[attr-defined]


class LoadSustained:
    rounds = ROUNDS
    timeout = CACHE_TIMEOUT
    version = "1"

    def setup_cache(self) -> Cache:
        return run_sustained()

    setup_cache.timeout = CACHE_TIMEOUT  # type: ignore[attr-defined]

    def track_rss_slope(self, cache: Cache) -> object:
        """Least-squares RSS growth while recording 4 streams (a leak shows as > 0)."""
        return samples(cache["rss_slope"])

    track_rss_slope.unit = "bytes per second"  # type: ignore[attr-defined]

    def track_fd_slope(self, cache: Cache) -> object:
        return samples(cache["fd_slope"])

    track_fd_slope.unit = "fds per second"  # type: ignore[attr-defined]


class LoadBurst:
    rounds = ROUNDS
    timeout = CACHE_TIMEOUT
    version = "1"

    def setup_cache(self) -> Cache:
        return run_burst()

    setup_cache.timeout = CACHE_TIMEOUT  # type: ignore[attr-defined]

    def track_api_latency_p99(self, cache: Cache) -> object:
        """p99 of 200 mixed API calls, 64 in flight, while recording 4 streams (per burst)."""
        return samples(cache["p99"])

    track_api_latency_p99.unit = "seconds"  # type: ignore[attr-defined]

    def track_api_error_rate(self, cache: Cache) -> object:
        return samples(cache["errors"])

    track_api_error_rate.unit = "%"  # type: ignore[attr-defined]
