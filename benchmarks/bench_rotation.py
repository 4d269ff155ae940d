"""Disk rotation: the time and I/O to reclaim space, and recording continuity meanwhile.

``RotationSweep`` drives the recorder's retention code directly on a storage tree of
``SEGMENTS`` real files and an index, with a quota that forces half of it out; it
measures one sweep (repeated on fresh trees: one sample each). ``RotationLive`` records
two cameras under a quota of a few segments, so the maintainer sweeps continuously,
and checks that the recordings stay continuous.
"""

from __future__ import annotations

import os
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import CACHE_TIMEOUT, MEASURE_SECONDS, ROUNDS, SEGMENT_SECONDS, samples
from benchmarks.procs import cameras, recorder, wait_streams

SEGMENTS, SEGMENT_BYTES, REPEATS, STREAMS = 800, 32 * 1024, 3, 4

Cache = dict[str, list[float]]


def _populate(root: Path) -> tuple[Any, Any]:
    from recorder.index import Segment, SegmentIndex

    index = SegmentIndex(root / ".index" / "segments.db")
    payload = os.urandom(SEGMENT_BYTES)
    t0 = 1_790_000_000.0
    for i in range(SEGMENTS):
        stream = f"cam{i % STREAMS}"
        rel = Path(stream, f"{i:06d}.mp4")
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(payload)
        start = t0 + (i // STREAMS) * SEGMENT_SECONDS
        index.add(Segment(stream, str(rel), start, start + SEGMENT_SECONDS, SEGMENT_BYTES, 30, 2))
    return index, Segment


def sweep_once() -> dict[str, float]:
    from recorder.config import RetentionConfig
    from recorder.retention import StorageMaintainer

    with tempfile.TemporaryDirectory(prefix="pw-rot-") as tmp:
        root = Path(tmp)
        index, _ = _populate(root)
        cfg = RetentionConfig(max_age_hours=1e9, min_free_bytes=1,
                              max_bytes=SEGMENTS * SEGMENT_BYTES // 2)
        maintainer = StorageMaintainer(root, index, cfg, rate=lambda: 0.0, clock=time.time)
        os.sync()
        me = psutil.Process()
        io0, t0 = me.io_counters(), time.perf_counter()
        deleted = maintainer.run_once()
        seconds = time.perf_counter() - t0
        io1 = me.io_counters()
        index.close()
    return {"seconds": seconds, "deleted": float(deleted),
            "bytes_per_s": maintainer.stats.deleted_bytes / seconds,
            "write_ops": float(io1.write_count - io0.write_count)}


class RotationSweep:
    rounds = ROUNDS
    timeout = CACHE_TIMEOUT
    version = "1"

    def setup_cache(self) -> Cache:
        runs = [sweep_once() for _ in range(REPEATS)]
        return {key: [r[key] for r in runs] for key in runs[0]}

    setup_cache.timeout = CACHE_TIMEOUT  # type: ignore[attr-defined]

    def track_sweep_seconds(self, cache: Cache) -> object:
        """Wall time of one retention pass that removes half of 800 segments."""
        return samples(cache["seconds"])

    track_sweep_seconds.unit = "seconds"  # type: ignore[attr-defined]

    def track_reclaim_throughput(self, cache: Cache) -> object:
        return samples(cache["bytes_per_s"])

    track_reclaim_throughput.unit = "bytes/s"  # type: ignore[attr-defined]

    def track_sweep_write_ops(self, cache: Cache) -> object:
        """write(2) calls the pass made (index updates), per pass."""
        return samples(cache["write_ops"])

    track_sweep_write_ops.unit = "ops"  # type: ignore[attr-defined]


def _max_gap(segments: list[dict[str, Any]]) -> float:
    ordered = sorted(segments, key=lambda s: s["start"])
    gaps = [b["start"] - a["end"] for a, b in pairwise(ordered)]
    return max(gaps, default=0.0)


def run_live_rotation() -> Cache:
    quota = 6 * 40_000  # a few 2-s segments at 320x240 / 300 kbit/s
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp, \
            cameras(2, "320x240") as rig, \
            recorder(Path(tmp), rig.urls,
                     retention={"max_bytes": quota, "min_free_bytes": 1,
                                "check_seconds": 0.5}) as rec:
        wait_streams(rec, 2)
        time.sleep(MEASURE_SECONDS + 4 * SEGMENT_SECONDS)
        streams = rec.get("/api/streams")
        metrics = rec.get("/metrics")
        recs = rec.get("/api/recordings")
        usage = rec.get("/api/storage")
    deleted = sum(float(line.split()[-1]) for line in metrics.splitlines()
                  if line.startswith("recorder_sweep_deleted_segments_total{"))
    gaps = [_max_gap([r for r in recs if r["stream"] == s["name"]]) for s in streams]
    return {"max_gap": gaps, "deleted": [deleted],
            "over_quota": [max(0.0, float(usage["recordings_bytes"]) - quota)]}


class RotationLive:
    rounds = ROUNDS
    timeout = CACHE_TIMEOUT
    version = "1"

    def setup_cache(self) -> Cache:
        return run_live_rotation()

    setup_cache.timeout = CACHE_TIMEOUT  # type: ignore[attr-defined]

    def track_max_gap(self, cache: Cache) -> object:
        """Longest hole between consecutive kept segments of a stream (one sample per stream)."""
        return samples(cache["max_gap"])

    track_max_gap.unit = "seconds"  # type: ignore[attr-defined]

    def track_segments_rotated(self, cache: Cache) -> object:
        return samples(cache["deleted"])

    track_segments_rotated.unit = "segments"  # type: ignore[attr-defined]

    def track_bytes_over_quota(self, cache: Cache) -> object:
        return samples(cache["over_quota"])

    track_bytes_over_quota.unit = "bytes"  # type: ignore[attr-defined]
