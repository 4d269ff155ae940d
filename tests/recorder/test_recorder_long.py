"""The issue's long bars, opt-in: ``RECORDER_LONG=1 pytest tests/recorder/test_recorder_long.py``.

- a 64 MiB tmpfs recorded for 5 minutes (rotation, no crash, no half-written file);
- 16 cameras at 1280x720, 30 fps, 2 Mbit/s for 60 s, side by side with ffmpeg (recorder/bench).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from recorder_fixtures import CameraRigProc, RecorderProc, mock_cameras, recorder_proc, tmpfs  # noqa: F401
from test_recorder_service import _check_storage, _config

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("RECORDER_LONG") != "1", reason="long bar: set RECORDER_LONG=1"),
]

ROOT = Path(__file__).resolve().parents[2]


def test_64m_tmpfs_rotates_for_five_minutes(mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
                                            recorder_proc: Callable[..., RecorderProc],  # noqa: F811
                                            tmp_path: Path) -> None:
    minutes = float(os.environ.get("RECORDER_LONG_MINUTES", "5"))
    rig = mock_cameras(count=2, resolution="640x480", bitrate="2M")
    with tmpfs(tmp_path / "disk", "64m") as disk:
        rec = recorder_proc(_config(disk / "storage", rig, segment_seconds=2.0))
        storage = disk / "storage"
        t_end = time.time() + 60 * minutes
        while time.time() < t_end:
            time.sleep(5)
            assert rec.proc.poll() is None, rec.logs()[-3000:]
            stray = [p for p in storage.rglob("*") if p.is_file() and p.name.endswith(".partial")]
            assert not stray
        streams = rec.get("/api/streams")
        metrics = rec.client.get("/metrics").text
        assert rec.stop() == 0
        segs = _check_storage(storage)
        deleted = [line for line in metrics.splitlines()
                   if line.startswith("recorder_sweep_deleted_segments_total{")]
        assert deleted, "never rotated: the disk did not fill?"
        assert max(s.end for s in segs) > t_end - 10  # still recording at the end
        assert all(s["packets"] > 0 for s in streams)
        print(json.dumps({"segments_left": len(segs), "deleted": deleted,
                          "write_errors": [s["write_errors"] for s in streams]}))


def test_sixteen_cameras_720p_against_ffmpeg(tmp_path: Path) -> None:
    out = tmp_path / "bar16.json"
    cmd = [sys.executable, str(ROOT / "recorder" / "bench" / "compare_ffmpeg.py"), "--cameras", "16",
           "--seconds", "60", "--resolution", "1280x720", "--fps", "30", "--bitrate", "2M",
           "--segment", "10", "--rounds", "2", "--json", str(out)]
    subprocess.run(cmd, check=True, timeout=1200, stdout=subprocess.DEVNULL)
    result = json.loads(out.read_text())
    check = result["check"]
    assert check["index_matches_files"] and not check["undecodable"]
    assert all(v == 0 for v in check["lost_packets"].values())
    assert all(v == 0 for v in check["dropped"].values())
    assert result["latency_p99_max_over_streams"] <= 10 + 2
    assert result["cpu_ratio_recorder_over_ffmpeg"] <= 1.5, result
