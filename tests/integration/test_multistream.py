"""Multi-stream recording: N cameras recorded at once, every segment decodable, index == files."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sut import CAMERA_360P, Rig, stream_spec
from sut_checks import decoded_frames, index_vs_files, max_gap, recordings, status, wait_segments

N_CAMERAS = 3
SEGMENTS = 4


@pytest.mark.timeout(180)
def test_records_every_camera(rig: Rig) -> None:
    cams = rig.cameras(replace(CAMERA_360P, count=N_CAMERAS))
    rec = rig.recorder([stream_spec(cams, i) for i in range(N_CAMERAS)], segment_seconds=1.0)
    started = time.time()
    for i in range(N_CAMERAS):
        wait_segments(rec, f"cam{i}", SEGMENTS + 1, timeout=60, after=started)

    missing, unindexed = index_vs_files(rec)
    assert not missing and not unindexed, (missing, unindexed)
    for i in range(N_CAMERAS):
        segs = recordings(rec, f"cam{i}")
        # the first segment may start mid-GOP; after that every segment holds ~1 s
        for seg in segs:
            assert decoded_frames(rec.storage / seg.path) > 0, seg.path
            assert seg.bytes == (rec.storage / seg.path).stat().st_size
        assert max_gap(segs) <= 1.0, f"cam{i}: gap {max_gap(segs):.2f} s"
        st = status(rec, f"cam{i}")
        assert st["connected"] and st["reconnects"] == 0 and st["dropped"] == 0, st
