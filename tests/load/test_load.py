"""Load: the concurrent-stream limit found by ramping, sustained load with RSS and fd slopes,
and bursts of API traffic (p99 latency, no 5xx). Short by default; ``--load-duration`` longer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import numpy as np
import pytest
from sut import CAMERA_360P, CameraProcess, RecorderProc, Rig, stream_spec
from sut_checks import status, wait_segments

from perfwatch.monitor import Sampler, TreeReader, summarize, summarize_latencies

pytestmark = [pytest.mark.load]
Record = Callable[[str, object], None]
NOMINAL_FPS = CAMERA_360P.fps


def _healthy(rec: RecorderProc, names: list[str]) -> tuple[bool, str]:
    bad = []
    for name in names:
        st = status(rec, name)
        if not st["connected"] or st["fps"] < 0.85 * NOMINAL_FPS or st["dropped"] > 0:
            bad.append(f"{name}: connected={st['connected']} fps={st['fps']:.1f} "
                       f"dropped={st['dropped']}")
    return not bad, "; ".join(bad)


def _add(rec: RecorderProc, cams: CameraProcess, index: int) -> str:
    resp = rec.client.post("/api/streams", json=stream_spec(cams, index))
    assert resp.status_code == 201, resp.text
    return f"cam{index}"


@pytest.mark.timeout(900)
def test_stream_limit_by_ramping(rig: Rig, load_duration: float, record_property: Record) -> None:
    top = int(os.environ.get("LOAD_MAX_STREAMS", "16"))
    steps = [n for n in (2, 4, 8, 12, 16, 24, 32) if n <= top]
    hold = max(4.0, load_duration / len(steps))
    cams = rig.cameras(replace(CAMERA_360P, count=top))
    rec = rig.recorder([])
    names: list[str] = []
    limit, rows = 0, []
    for step in steps:
        names += [_add(rec, cams, i) for i in range(len(names), step)]
        with Sampler(TreeReader(rec.proc.pid, detail_every=5), rate_hz=4) as sampler:
            time.sleep(hold)
        cpu = summarize(sampler.snapshots).cpu_percent
        ok, why = _healthy(rec, names)
        rows.append(f"{step} streams: cpu {cpu:.0f}% {'ok' if ok else 'UNHEALTHY ' + why}")
        if not ok:
            break
        limit = step
    reached = limit < steps[-1]
    print("ramp: " + " | ".join(rows) + ("" if reached else f" (limit not reached: >= {limit})"))
    record_property("stream_limit", limit)
    record_property("stream_limit_reached", reached)
    assert limit >= 2, rows


@pytest.mark.timeout(900)
def test_sustained_load_no_leak(rig: Rig, load_duration: float, record_property: Record) -> None:
    n = 4
    cams = rig.cameras(replace(CAMERA_360P, count=n))
    rec = rig.recorder([stream_spec(cams, i) for i in range(n)])
    for i in range(n):
        wait_segments(rec, f"cam{i}", 2, timeout=60)  # warm-up: files, index, caches in place
    with Sampler(TreeReader(rec.proc.pid, detail_every=1), rate_hz=2) as sampler:
        time.sleep(load_duration)
    s = summarize(sampler.snapshots)
    record_property("rss_slope_kib_per_s", round(s.rss_slope / 1024, 2))
    record_property("fd_slope_per_s", round(s.fd_slope, 4))
    print(f"sustained {n} streams for {load_duration:.0f} s: cpu {s.cpu_percent:.0f}%, "
          f"peak RSS {s.peak_rss / 2**20:.0f} MiB, RSS slope {s.rss_slope / 1024:.1f} KiB/s, "
          f"fd slope {s.fd_slope:.3f}/s, max fds {s.max_fds:.0f}")
    ok, why = _healthy(rec, [f"cam{i}" for i in range(n)])
    assert ok, why
    assert s.fd_slope < 0.05, "file descriptors keep growing"
    assert s.rss_slope < 256 * 1024, "RSS grows faster than 256 KiB/s"


ENDPOINTS = ["/health", "/api/streams", "/api/streams/cam0", "/api/recordings?stream=cam0",
             "/api/storage", "/metrics"]


@pytest.mark.timeout(600)
def test_burst_api_traffic(rig: Rig, load_duration: float, record_property: Record,
                           rng: np.random.Generator) -> None:
    cams = rig.cameras(replace(CAMERA_360P, count=2))
    rec = rig.recorder([stream_spec(cams, i) for i in range(2)])
    wait_segments(rec, "cam0", 3, timeout=60)
    total = int(40 * max(10.0, load_duration))
    paths = [ENDPOINTS[i] for i in rng.integers(0, len(ENDPOINTS), total)]
    local = httpx.Limits(max_connections=32)

    with httpx.Client(base_url=rec.base_url, timeout=30, limits=local) as client:
        def call(path: str) -> tuple[str, int, float]:
            t0 = time.perf_counter()
            code = client.get(path).status_code
            return path, code, time.perf_counter() - t0

        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(call, paths))
    codes = [c for _, c, _ in results]
    overall = summarize_latencies([d for _, _, d in results])
    per = {p: summarize_latencies([d for q, _, d in results if q == p]).p99 for p in ENDPOINTS}
    record_property("api_p99_s", round(overall.p99, 4))
    print(f"burst: {total} requests, 32 concurrent: p50 {overall.p50 * 1000:.0f} ms, "
          f"p99 {overall.p99 * 1000:.0f} ms; p99 per endpoint (ms): "
          + ", ".join(f"{p} {v * 1000:.0f}" for p, v in per.items()))
    assert not [c for c in codes if c >= 500], "5xx under burst"
    assert set(codes) == {200}
    assert rec.proc.poll() is None
    assert overall.p99 < 2.0, f"p99 {overall.p99:.2f} s"
