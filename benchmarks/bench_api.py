"""The HTTP API under a burst: latency percentiles per endpoint and the error rate.

Two cameras are recorded while each endpoint gets ``BURSTS`` bursts of ``REQUESTS``
requests, ``CONCURRENCY`` in flight. Samples are one value per burst.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.burst import burst, error_percent, percentile
from benchmarks.common import CACHE_TIMEOUT, ROUNDS, WARMUP_SECONDS, samples
from benchmarks.procs import cameras, recorder, wait_streams

ENDPOINTS = {
    "health": "/health",
    "streams": "/api/streams",
    "recordings": "/api/recordings?stream=cam0",
    "storage": "/api/storage",
    "metrics": "/metrics",
}
BURSTS, REQUESTS, CONCURRENCY = 5, 60, 16

Cache = dict[str, dict[str, list[float]]]


def run_api_bursts() -> Cache:
    out: Cache = {}
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp, \
            cameras(2, "320x240") as rig, recorder(Path(tmp), rig.urls) as rec:
        wait_streams(rec, 2)
        time.sleep(WARMUP_SECONDS)
        for name, path in ENDPOINTS.items():
            metrics: dict[str, list[float]] = {"p50": [], "p95": [], "p99": [], "max": [],
                                               "errors": [], "rps": []}
            for _ in range(BURSTS):
                t0 = time.perf_counter()
                replies = burst([rec.base + path] * REQUESTS, concurrency=CONCURRENCY)
                wall = time.perf_counter() - t0
                lat = [r.seconds for r in replies]
                for q in (50, 95, 99):
                    metrics[f"p{q}"].append(percentile(lat, q))
                metrics["max"].append(max(lat))
                metrics["errors"].append(error_percent(replies))
                metrics["rps"].append(len(replies) / wall)
            out[name] = metrics
    return out


class ApiBurst:
    params = (list(ENDPOINTS),)
    param_names = ("endpoint",)
    rounds = ROUNDS
    timeout = CACHE_TIMEOUT
    version = "1"

    def setup_cache(self) -> Cache:
        return run_api_bursts()

    setup_cache.timeout = CACHE_TIMEOUT  # type: ignore[attr-defined]

    def track_latency_p50(self, cache: Cache, endpoint: str) -> object:
        return samples(cache[endpoint]["p50"])

    track_latency_p50.unit = "seconds"  # type: ignore[attr-defined]

    def track_latency_p95(self, cache: Cache, endpoint: str) -> object:
        return samples(cache[endpoint]["p95"])

    track_latency_p95.unit = "seconds"  # type: ignore[attr-defined]

    def track_latency_p99(self, cache: Cache, endpoint: str) -> object:
        return samples(cache[endpoint]["p99"])

    track_latency_p99.unit = "seconds"  # type: ignore[attr-defined]

    def track_error_rate(self, cache: Cache, endpoint: str) -> object:
        """Share of requests answered 5xx or not at all, in %."""
        return samples(cache[endpoint]["errors"])

    track_error_rate.unit = "%"  # type: ignore[attr-defined]

    def track_requests_per_second(self, cache: Cache, endpoint: str) -> object:
        return samples(cache[endpoint]["rps"])

    track_requests_per_second.unit = "requests/s"  # type: ignore[attr-defined]
