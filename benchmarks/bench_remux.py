"""Remux throughput of the segmenter alone: a pre-encoded clip cut into cache segments.

No cameras, no network: the clip (seeded test pattern, encoded once with libx264 in
``setup_cache``) is demuxed and written through ``recorder.segmenter.SegmentWriter`` into a
temporary cache directory on the real disk, so per-packet costs in the write path (copies,
flushes, fsyncs) show directly in the time.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from benchmarks.common import SEED

CLIP_SECONDS = 8
CLIP_FPS = 15
CLIP_GOP = 15
SIZES = {"320x180": (320, 180)}


def encode_clip(width: int, height: int, seconds: int = CLIP_SECONDS, fps: int = CLIP_FPS) -> bytes:
    """A seeded moving test pattern as an H.264 elementary stream in an MP4, in memory."""
    rng = np.random.default_rng(SEED)
    base = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(CLIP_GOP),
                          "keyint_min": str(CLIP_GOP), "sc_threshold": "0"}
        for i in range(seconds * fps):
            img = np.roll(base, shift=4 * i, axis=1)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def remux(clip: bytes, cache_dir: Path, segment_seconds: float = 2.0) -> int:
    """Write every packet of ``clip`` through the segmenter; returns the segments closed."""
    from recorder.segmenter import SegmentWriter

    closed = 0
    with av.open(io.BytesIO(clip)) as src:
        video = src.streams.video[0]
        writer = SegmentWriter("bench", video, cache_dir, segment_seconds=segment_seconds)
        arrival = 1_700_000_000.0
        for packet in src.demux(video):
            if packet.size == 0:
                continue
            arrival += 1.0 / CLIP_FPS
            if writer.write(packet, arrival) is not None:
                closed += 1
        if writer.close() is not None:
            closed += 1
    return closed


class Remux:
    """Time to remux one clip into 2 s segments (lower is better)."""

    params = (list(SIZES),)
    param_names = ("resolution",)
    number = 1
    repeat = (6, 12, 10.0)
    warmup_time = 0.0
    timeout = 300
    version = "2"  # 2: 320x180 clip (was 640x360)

    def setup_cache(self) -> dict[str, bytes]:
        return {name: encode_clip(w, h) for name, (w, h) in SIZES.items()}

    def setup(self, clips: dict[str, bytes], resolution: str) -> None:
        self.clip = clips[resolution]
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-remux-"))

    def teardown(self, clips: dict[str, bytes], resolution: str) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def time_remux_clip(self, clips: dict[str, bytes], resolution: str) -> None:
        remux(self.clip, self.tmp / f"c{time.monotonic_ns()}")

    def track_segments(self, clips: dict[str, bytes], resolution: str) -> int:
        with tempfile.TemporaryDirectory(prefix="bench-remux-") as tmp:
            return remux(clips[resolution], Path(tmp))

    track_segments.unit = "segments"  # type: ignore[attr-defined]
