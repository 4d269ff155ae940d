"""Disk rotation: record past a storage quota; oldest removed first, newest kept, usage bounded."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sut import CAMERA_360P, Rig, stream_spec
from sut_checks import Seg, index_vs_files, recordings, wait_segments

QUOTA = 400_000  # bytes: a few seconds of two 400 kbit/s cameras


@pytest.mark.timeout(180)
def test_rotation_keeps_newest_under_quota(rig: Rig) -> None:
    cams = rig.cameras(replace(CAMERA_360P, count=2))
    rec = rig.recorder([stream_spec(cams, i) for i in range(2)], segment_seconds=1.0,
                       retention={"max_bytes": QUOTA, "check_seconds": 0.25})
    seen: dict[str, Seg] = {}
    peak = 0
    deadline = time.monotonic() + 14
    while time.monotonic() < deadline:
        segs = recordings(rec)
        seen.update({s.path: s for s in segs})
        peak = max(peak, rec.get("/api/storage")["recordings_bytes"])
        time.sleep(0.2)
    for i in range(2):
        wait_segments(rec, f"cam{i}", 1, timeout=10)
    remaining = recordings(rec)
    seen.update({s.path: s for s in remaining})
    kept = {s.path for s in remaining}
    deleted = [s for s in seen.values() if s.path not in kept]
    largest = max(s.bytes for s in seen.values())

    assert deleted, "the quota was never reached: nothing rotated"
    assert max(d.start for d in deleted) <= min(r.start for r in remaining), "not oldest first"
    for i in range(2):  # the newest segment of every stream is kept
        newest = max((s for s in seen.values() if s.stream == f"cam{i}"), key=lambda s: s.start)
        assert newest.path in kept
    # usage stays under the quota, give or take what arrives between two sweeps
    assert peak <= QUOTA + 4 * largest, (peak, largest)
    missing, unindexed = index_vs_files(rec)
    assert not missing and not unindexed, (missing, unindexed)
    storage = rec.get("/api/storage")
    files_total = sum((rec.storage / s.path).stat().st_size for s in recordings(rec))
    assert storage["recordings_bytes"] == sum(u["bytes"] for u in storage["streams"])
    assert abs(storage["recordings_bytes"] - files_total) <= 2 * largest  # racing new segments
    print(f"rotation: {len(deleted)} deleted, {len(kept)} kept, peak {peak} B (quota {QUOTA} B)")
