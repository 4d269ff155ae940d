"""Optional transcode path: decode the camera stream and re-encode it (libx264 presets or NVENC).

:func:`check_encoder` fails at once with :class:`TranscodeUnavailable` when an encoder is missing or
cannot be opened (NVENC on a host without an NVIDIA GPU), so a request never hangs.
:func:`encode_clip` is the pure-ish measuring function the encode benchmarks call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from recorder.config import TranscodeConfig
from recorder.errors import TranscodeUnavailable
from recorder.segmenter import CachedSegment, WriteFailed, open_segment_container

__all__ = ["EncodeStats", "TranscodeWriter", "check_encoder", "encode_clip"]

_TB = Fraction(1, 90000)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodeStats:
    codec: str
    preset: str
    frames: int
    packets: int
    bytes: int
    seconds: float  # wall time spent encoding
    fps: float  # frames encoded per second of wall time
    keyframes: int


def _context(codec: str, width: int, height: int, fps: int, preset: str, bitrate: int) -> Any:
    ctx: Any = av.CodecContext.create(codec, "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps, 1)
    if bitrate:
        ctx.bit_rate = bitrate
    opts = {"preset": preset} if preset else {}
    if codec == "libx264":
        opts.update({"tune": "zerolatency"})
    ctx.options = opts
    return ctx


def check_encoder(codec: str, preset: str = "", *, width: int = 320, height: int = 240) -> None:
    """Raise TranscodeUnavailable unless ``codec`` exists and opens here (fast, never hangs)."""
    try:
        av.codec.Codec(codec, "w")
    except (av.error.FFmpegError, ValueError) as err:
        raise TranscodeUnavailable(f"encoder {codec} is not available: {err}",
                                   hint="use libx264, or a build/host with this encoder") from err
    try:
        ctx = _context(codec, width, height, 30, preset, 0)
        ctx.open()
    except (av.error.FFmpegError, OSError, ValueError) as err:
        hint = "this host has no usable NVIDIA GPU; use libx264" if "nvenc" in codec else \
            "check the preset name and encoder options"
        raise TranscodeUnavailable(f"encoder {codec} cannot be opened: {err}", hint=hint) from err


def encode_clip(frames: Iterable[np.ndarray | Any], codec: str = "libx264", preset: str = "veryfast",
                *, fps: int = 30, bitrate: int = 0) -> EncodeStats:
    """Encode frames (HxWx3 uint8 RGB arrays or av.VideoFrame) in memory; stats of the run."""
    items = list(frames)
    if not items:
        raise ValueError("encode_clip needs at least one frame")
    first = items[0]
    height, width = (first.height, first.width) if isinstance(first, av.VideoFrame) else first.shape[:2]
    check_encoder(codec, preset, width=width, height=height)
    ctx = _context(codec, width, height, fps, preset, bitrate)
    vframes = [f if isinstance(f, av.VideoFrame) else av.VideoFrame.from_ndarray(f, format="rgb24")
               for f in items]
    packets = size = keys = 0
    t0 = time.perf_counter()
    for i, frame in enumerate(vframes):
        frame = frame.reformat(format="yuv420p") if frame.format.name != "yuv420p" else frame
        frame.pts = i
        for p in ctx.encode(frame):
            packets, size, keys = packets + 1, size + p.size, keys + int(p.is_keyframe)
    for p in ctx.encode(None):
        packets, size, keys = packets + 1, size + p.size, keys + int(p.is_keyframe)
    seconds = time.perf_counter() - t0
    return EncodeStats(codec, preset, len(vframes), packets, size, seconds,
                       len(vframes) / seconds if seconds > 0 else 0.0, keys)


class TranscodeWriter:
    """Decodes a stream's packets and encodes them into time-cut segments (a fresh encoder each)."""

    def __init__(self, stream: str, template: Any, cache_dir: Path, *, segment_seconds: float,
                 container: str, cfg: TranscodeConfig) -> None:
        self.stream = stream
        self.skipped = 0
        self._dec = template.codec_context
        self._tb = template.time_base or _TB
        self._fps = round(float(template.average_rate or template.guessed_rate or 30))
        self._cache = cache_dir
        self._seconds = segment_seconds
        self._container = container
        self._cfg = cfg
        self._ext = "mp4" if container == "mp4" else "ts"
        self._out: Any = None
        self._ostream: Any = None
        self._path: Path | None = None
        self._start = 0.0
        self._first_pts = 0
        self._frames = 0
        self._packets = 0
        self._keys = 0
        self._arrivals: list[float] = []

    def write(self, packet: Any, arrival: float) -> CachedSegment | None:
        try:
            frames = self._dec.decode(packet)
        except av.error.FFmpegError:
            self.skipped += 1
            return None
        closed = None
        for frame in frames:
            pts = frame.pts if frame.pts is not None else 0
            if self._out is not None and (pts - self._first_pts) * self._tb >= self._seconds:
                closed = self.close()
            if self._out is None:
                self._open(frame, pts, arrival)
            self._encode(frame)
            self._arrivals.append(arrival)
        return closed

    def _open(self, frame: Any, pts: int, arrival: float) -> None:
        self._cache.mkdir(parents=True, exist_ok=True)
        self._path = self._cache / f"{self.stream}@{arrival:.3f}-tx.{self._ext}"
        try:
            self._out = open_segment_container(self._path, self._container)
            self._ostream = self._out.add_stream(self._cfg.codec, rate=self._fps)
            self._ostream.width, self._ostream.height = frame.width, frame.height
            self._ostream.pix_fmt = "yuv420p"
            if self._cfg.bitrate:
                self._ostream.bit_rate = self._cfg.bitrate
            self._ostream.codec_context.options = {"preset": self._cfg.preset}
        except (OSError, av.error.FFmpegError, ValueError) as err:
            self.abort()
            raise WriteFailed(f"opening transcoded segment: {err}", getattr(err, "errno", None)) from err
        self._start, self._first_pts, self._frames, self._packets, self._keys = arrival, pts, 0, 0, 0
        self._arrivals = []

    def _encode(self, frame: Any) -> None:
        frame = frame.reformat(format="yuv420p") if frame.format.name != "yuv420p" else frame
        frame.pts = self._frames
        frame.time_base = Fraction(1, self._fps)
        self._frames += 1
        self._mux(self._ostream.encode(frame))

    def _mux(self, packets: list[Any]) -> None:
        try:
            for p in packets:
                self._out.mux(p)
                self._packets += 1
                self._keys += int(p.is_keyframe)
        except (OSError, av.error.FFmpegError, ValueError) as err:
            self.abort()
            raise WriteFailed(f"writing transcoded segment: {err}", getattr(err, "errno", None)) from err

    def close(self) -> CachedSegment | None:
        if self._out is None or self._path is None:
            return None
        self._mux(self._ostream.encode(None))
        out, path, self._out = self._out, self._path, None
        try:
            out.close()
        except (OSError, av.error.FFmpegError, ValueError) as err:
            path.unlink(missing_ok=True)
            raise WriteFailed(f"closing transcoded segment: {err}", getattr(err, "errno", None)) from err
        if self._packets == 0:
            path.unlink(missing_ok=True)
            return None
        end = self._start + self._frames / self._fps
        return CachedSegment(self.stream, path, self._ext, self._start, end, self._packets, self._keys,
                             np.asarray(self._arrivals))

    def abort(self) -> None:
        out, path, self._out = self._out, self._path, None
        if out is not None:
            try:
                out.close()
            except Exception as err:  # noqa: BLE001 - discarded anyway
                log.debug("closing aborted transcoded segment: %s", err)
        if path is not None:
            path.unlink(missing_ok=True)
