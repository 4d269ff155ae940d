"""The recorder process against real mock cameras over RTSP/TCP on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
from recorder.index import Segment, SegmentIndex
from recorder_fixtures import (  # noqa: F401
    CameraRigProc,
    RecorderProc,
    mock_cameras,
    recorder_proc,
    tmpfs,
)

SEG = 1.0


def _config(storage: Path, rig: CameraRigProc, **extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "storage": {"path": str(storage)}, "segment_seconds": SEG,
        "watchdog": {"stall_seconds": 1.5, "open_timeout": 2.0, "backoff_base": 0.2, "backoff_cap": 1.0},
        "streams": [{"name": f"cam{i}", "url": url} for i, url in enumerate(rig.urls)],
    }
    cfg.update(extra)
    return cfg


def _segments(rec: RecorderProc, stream: str) -> list[Segment]:
    return [Segment(**s) for s in rec.get("/api/recordings", stream=stream)]


def _final_status(rec: RecorderProc) -> dict[str, dict[str, Any]]:
    out = {}
    for line in rec.logs().splitlines():
        if "final status " in line:
            body = json.loads(line.split("final status ", 1)[1])
            out[body["name"]] = body
    return out


def _check_storage(storage: Path) -> list[Segment]:
    """Index == files on disk, nothing half-written, every segment decodes to its packet count."""
    index = SegmentIndex(storage / ".index" / "segments.db")
    try:
        segs = index.query()
        files = {str(p.relative_to(storage)) for p in storage.rglob("*")
                 if p.is_file() and not str(p.relative_to(storage)).startswith(".")}
        assert files == {s.path for s in segs}
        assert not list(storage.rglob("*.partial"))
        for s in segs:
            with av.open(str(storage / s.path)) as c:
                assert sum(1 for _ in c.decode(video=0)) == s.packets, s.path
        return segs
    finally:
        index.close()


def test_records_cameras_end_to_end(mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
                                    recorder_proc: Callable[..., RecorderProc],  # noqa: F811
                                    tmp_path: Path) -> None:
    rig = mock_cameras(count=2)
    rec = recorder_proc(_config(tmp_path / "storage", rig))
    rec.wait_for(lambda: all(len(_segments(rec, f"cam{i}")) >= 5 for i in range(2)), 40, "5 segments each")
    segs = _segments(rec, "cam0")
    span = {"stream": "cam0", "start": segs[1].start + 0.1, "end": segs[3].end - 0.1}
    in_span = [Segment(**s) for s in rec.get("/api/recordings", **span)]
    assert len(in_span) >= 3
    body = rec.client.get("/api/clip", params=span)
    assert body.status_code == 200 and body.headers["Content-Type"] == "video/mp4"
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(body.content)
    with av.open(str(clip)) as c:
        assert sum(1 for _ in c.decode(video=0)) == sum(s.packets for s in in_span)
    for st in rec.get("/api/streams"):
        assert st["connected"] and st["dropped"] == 0 and st["width"] == 320 and st["fps"] > 10
        assert st["latency"]["p99"] <= SEG + 2.0
    metrics = rec.client.get("/metrics").text
    assert 'recorder_packets_total{stream="cam1"}' in metrics
    assert rec.stop() == 0
    final = _final_status(rec)
    recorded = _check_storage(rec.storage)
    for name in ("cam0", "cam1"):
        mine = sorted((s for s in recorded if s.stream == name), key=lambda s: s.start)
        assert sum(s.packets for s in mine) == final[name]["packets"] - final[name]["skipped"]
        assert final[name]["dropped"] == 0 and final[name]["reconnects"] == 0
        gaps = [b.start - a.end for a, b in itertools.pairwise(mine)]
        assert max(abs(g) for g in gaps) < 0.5  # segments follow each other without holes


def test_camera_outage_resumes_quickly(mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
                                       recorder_proc: Callable[..., RecorderProc],  # noqa: F811
                                       tmp_path: Path) -> None:
    rig = mock_cameras(count=1)
    rec = recorder_proc(_config(tmp_path / "storage", rig))
    rec.wait_for(lambda: len(_segments(rec, "cam0")) >= 3, 30, "3 segments")
    t_down = time.time()
    rig.fault("cam0", "down")
    time.sleep(5.0)
    rig.fault("cam0", "up")
    t_up = time.time()
    rec.wait_for(lambda: any(s.start > t_up for s in _segments(rec, "cam0")), 20, "recording again")
    segs = _segments(rec, "cam0")
    before = max((s for s in segs if s.start < t_down + 0.5), key=lambda s: s.end)
    after = min((s for s in segs if s.start > t_up), key=lambda s: s.start)
    print(json.dumps({"outage_s": t_up - t_down, "resume_after_return_s": after.start - t_up,
                      "gap_s": after.start - before.end}))
    assert after.start - t_up <= 3.0, f"resumed {after.start - t_up:.2f} s after the camera came back"
    assert after.start - before.end <= (t_up - t_down) + SEG
    st = rec.get("/api/streams/cam0")
    assert st["reconnects"] >= 1 and st["connected"]


def test_camera_process_killed_and_restarted(mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
                                             recorder_proc: Callable[..., RecorderProc],  # noqa: F811
                                             tmp_path: Path) -> None:
    """The issue's bar literally: the camera process is SIGKILLed, and 5 s later a new one listens."""
    rig = mock_cameras(count=1)
    rec = recorder_proc(_config(tmp_path / "storage", rig))
    rec.wait_for(lambda: len(_segments(rec, "cam0")) >= 3, 30, "3 segments")
    rig.proc.kill()
    t_down = time.time()
    rig.proc.wait()
    time.sleep(5.0)
    mock_cameras(count=1, port=rig.rtsp_port)  # returns once the new process serves
    t_up = time.time()
    rec.wait_for(lambda: any(s.start > t_up for s in _segments(rec, "cam0")), 20, "recording again")
    segs = _segments(rec, "cam0")
    before = max((s for s in segs if s.start < t_down), key=lambda s: s.end)
    after = min((s for s in segs if s.start > t_up), key=lambda s: s.start)
    print(json.dumps({"killed_s": t_up - t_down, "resume_after_return_s": after.start - t_up,
                      "gap_s": after.start - before.end}))
    assert after.start - t_up <= 3.0
    assert after.start - before.end <= (t_up - t_down) + SEG


def test_full_disk_rotates_and_keeps_recording(mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
                                               recorder_proc: Callable[..., RecorderProc],  # noqa: F811
                                               tmp_path: Path) -> None:
    """A 3 MiB disk filled by a 2 Mbit/s camera: ENOSPC in the cache, sweep, recording goes on."""
    rig = mock_cameras(count=1, resolution="640x480", bitrate="2M")
    with tmpfs(tmp_path / "disk", "3m") as disk:
        # a tiny floor and a slow periodic pass: only the emergency path (ENOSPC) frees space
        cfg = _config(disk / "storage", rig, retention={"min_free_bytes": 1, "check_seconds": 120.0})
        rec = recorder_proc(cfg)

        rec.wait_for(lambda: rec.get("/api/streams/cam0")["write_errors"] >= 1, 40, "ENOSPC")
        moved = rec.get("/api/streams/cam0")["segments"]
        rec.wait_for(lambda: rec.get("/api/streams/cam0")["segments"] >= moved + 5, 30,
                     "recording after ENOSPC")
        metrics = rec.client.get("/metrics").text
        assert "recorder_sweep_emergency_total 0" not in metrics
        assert rec.stop() == 0
        segs = _check_storage(disk / "storage")
        assert len(segs) >= 3 and segs[-1].end > segs[0].start + 5  # rotated: old ones deleted
        assert shutil.disk_usage(disk).used > 0


def test_stalled_camera_is_reconnected_by_the_watchdog(
        mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
        recorder_proc: Callable[..., RecorderProc],  # noqa: F811
        tmp_path: Path) -> None:
    rig = mock_cameras(count=1)
    rec = recorder_proc(_config(tmp_path / "storage", rig))
    rec.wait_for(lambda: len(_segments(rec, "cam0")) >= 2, 30, "2 segments")
    rig.fault("cam0", "stall", seconds=4)  # socket stays open, no data: only a timeout can tell
    rec.wait_for(lambda: rec.get("/api/streams/cam0")["reconnects"] >= 1, 15, "a watchdog reconnect")
    t_fault_seen = time.time()
    rec.wait_for(lambda: any(s.start > t_fault_seen for s in _segments(rec, "cam0")), 20, "recording again")
    assert rec.get("/api/streams/cam0")["connected"]


def test_transcoded_stream_added_over_the_api(mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
                                              recorder_proc: Callable[..., RecorderProc],  # noqa: F811
                                              tmp_path: Path) -> None:
    rig = mock_cameras(count=1)
    rec = recorder_proc({"storage": {"path": str(tmp_path / "storage")}, "segment_seconds": SEG})
    r = rec.client.post("/api/streams", json={"name": "tx", "url": rig.urls[0], "transcode": {
        "codec": "libx264", "preset": "ultrafast", "bitrate": 200_000}})
    assert r.status_code == 201, r.text
    rec.wait_for(lambda: len(_segments(rec, "tx")) >= 3, 30, "3 transcoded segments")
    assert rec.stop() == 0
    segs = _check_storage(rec.storage)
    assert {s.stream for s in segs} == {"tx"} and all(s.keyframes >= 1 for s in segs)


def test_resolution_change_mid_stream_stays_decodable(
        mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
        recorder_proc: Callable[..., RecorderProc],  # noqa: F811
        tmp_path: Path) -> None:
    rig = mock_cameras(count=1)
    rec = recorder_proc(_config(tmp_path / "storage", rig))
    rec.wait_for(lambda: len(_segments(rec, "cam0")) >= 2, 30, "2 segments")
    rig.fault("cam0", "resolution", width=160, height=120)
    t_switch = time.time()
    rec.wait_for(lambda: sum(s.start > t_switch + 1 for s in _segments(rec, "cam0")) >= 2, 30,
                 "2 segments after the switch")
    st = rec.get("/api/streams/cam0")
    assert (st["width"], st["height"]) == (160, 120) and st["reconnects"] == 0
    assert rec.stop() == 0
    segs = _check_storage(rec.storage)
    late = [s for s in segs if s.start > t_switch + 1]
    with av.open(str(rec.storage / late[-1].path)) as c:
        frame = next(c.decode(video=0))
        header = (c.streams.video[0].width, c.streams.video[0].height)
    assert (frame.width, frame.height) == (160, 120) and header == (160, 120)


def test_corrupt_frames_are_recorded_as_received(mock_cameras: Callable[..., CameraRigProc],  # noqa: F811
                                                 recorder_proc: Callable[..., RecorderProc],  # noqa: F811
                                                 tmp_path: Path) -> None:
    """Remux-only: damaged slices are stored as they came, the stream goes on, nothing is dropped."""
    rig = mock_cameras(count=1)
    rec = recorder_proc(_config(tmp_path / "storage", rig))
    rec.wait_for(lambda: len(_segments(rec, "cam0")) >= 2, 30, "2 segments")
    rig.fault("cam0", "corrupt", frames=10)
    t_fault = time.time()
    rec.wait_for(lambda: sum(s.start > t_fault for s in _segments(rec, "cam0")) >= 2, 30,
                 "2 segments after the damage")
    st = rec.get("/api/streams/cam0")
    assert st["connected"] and st["reconnects"] == 0 and st["dropped"] == 0
    assert rec.stop() == 0
    final = _final_status(rec)["cam0"]
    segs = SegmentIndex(rec.storage / ".index" / "segments.db").query("cam0")
    assert sum(s.packets for s in segs) == final["packets"] - final["skipped"]
