"""StreamWorker in-process on a file source (no network): sessions, reconnects, fan-out, segments."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import numpy as np
from recorder.config import StreamConfig, WatchdogConfig
from recorder.hub import PacketHub
from recorder.ingest import StreamWorker, segment_writer_factory
from recorder.segmenter import CachedSegment
from recorder_fixtures import encode_test_clip


def test_worker_records_each_session_and_reconnects(tmp_path: Path, rng: np.random.Generator) -> None:
    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=2.0, fps=15, gop=15, rng=rng)
    hub = PacketHub()
    sub = hub.subscribe("f")
    got: list[CachedSegment] = []
    done = threading.Event()
    sweeps: list[int] = []

    def submit(seg: CachedSegment) -> None:
        got.append(seg)
        if len(got) >= 6:
            done.set()

    wd = WatchdogConfig(backoff_base=0.01, backoff_cap=0.02)
    worker = StreamWorker(StreamConfig("f", str(clip)), watchdog=wd, hub=hub,
                          writer_factory=segment_writer_factory(tmp_path / "cache", segment_seconds=1.0,
                                                                container="mp4"),
                          submit=submit, on_disk_full=lambda: sweeps.append(1), rng=random.Random(3))
    worker.start()
    assert done.wait(30)
    worker.stop()
    st = worker.status()
    assert not worker.alive and st.reconnects >= 2 and st.dropped == 0 and not sweeps
    assert (st.width, st.height, st.codec) == (160, 120, "h264") and st.last_error is None
    # every session: the 30 packets of the file in two 1-s segments of 15 packets each
    assert all(seg.packets == 15 and seg.keyframes == 1 for seg in got[:6])
    assert st.packets >= 90 and st.segments >= 6
    info = hub.info("f")
    assert info is not None and info.width == 160 and info.sps[:1] == b"\x67"
    first = sub.get(0)
    assert first is not None and first.keyframe and first.pts_90k == 0
    assert sub.get(0) is not None


def test_worker_counts_failed_connects_with_paced_backoff(tmp_path: Path) -> None:
    wd = WatchdogConfig(backoff_base=0.05, backoff_cap=0.2, open_timeout=1.0)
    worker = StreamWorker(StreamConfig("gone", str(tmp_path / "missing.mp4")), watchdog=wd, hub=PacketHub(),
                          writer_factory=segment_writer_factory(tmp_path, segment_seconds=1.0, container="mp4"),
                          submit=lambda seg: None, on_disk_full=lambda: None, rng=random.Random(1))
    worker.start()
    deadline = time.monotonic() + 10
    while worker.status().reconnects < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    st = worker.status()
    assert st.reconnects >= 4 and not st.connected and st.packets == 0
    assert st.last_error is not None and "FileNotFoundError" in st.last_error
