"""Remux packets, without transcoding, into segment files in the cache directory.

A segment starts on a keyframe and is cut at the first keyframe at least ``segment_seconds`` after its
start, so every segment is decodable on its own. Segments are fragmented MP4 by default (a moof per
GOP): a file cut short by a crash or a full disk is still readable up to its last complete fragment,
and the files play directly in browsers. MPEG-TS (``container="ts"``) is the alternative.

The writer never touches storage: a closed segment is handed on as a :class:`CachedSegment`, and the
mover validates it and makes it durable.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np

__all__ = ["CachedSegment", "SegmentWriter", "VideoParams", "WriteFailed", "open_segment_container"]

_T = TypeVar("_T")
log = logging.getLogger(__name__)
_MP4_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
_seq = itertools.count()


class WriteFailed(Exception):
    """Writing or closing the cache file failed (e.g. ENOSPC, or EINVAL from the muxer's close)."""

    def __init__(self, message: str, errno: int | None) -> None:
        super().__init__(message)
        self.errno = errno


@dataclass(frozen=True)
class CachedSegment:
    stream: str
    cache_path: Path
    ext: str
    start: float  # wall clock (unix s) of the first packet's arrival
    end: float  # start + media duration
    packets: int
    keyframes: int
    arrivals: np.ndarray  # arrival wall clock of every packet (for the ingest-to-durable latency)
    deep_check: bool = True  # validate by demuxing with FFmpeg too (first segment of a session, etc.)


def open_segment_container(path: Path, container: str) -> Any:
    fmt = "mp4" if container == "mp4" else "mpegts"
    options = _MP4_OPTIONS if container == "mp4" else {}
    return av.open(str(path), "w", format=fmt, options=dict(options))


@dataclass(frozen=True)
class VideoParams:
    """Parameters that replace the template's when the camera changes them in band (new SPS)."""

    width: int
    height: int
    extradata: bytes  # Annex-B SPS + PPS


class _Open:
    """One open cache file."""

    def __init__(self, path: Path, container: str, template: Any, first_dts: int, start: float,
                 params: VideoParams | None) -> None:
        self.path = path
        self.out = open_segment_container(path, container)
        self.ostream = self.out.add_stream_from_template(template)
        if params is not None:
            cc = self.ostream.codec_context
            cc.width, cc.height, cc.extradata = params.width, params.height, params.extradata
        self.first_dts = first_dts
        self.last_dts = -1
        self.last_pts = 0
        self.start = start
        self.packets = 0
        self.keyframes = 0
        self.arrivals: list[float] = []


class SegmentWriter:
    """Cuts one connection's packets into cache files. Not thread-safe: one per ingest thread."""

    def __init__(self, stream: str, template: Any, cache_dir: Path, *, segment_seconds: float,
                 container: str = "mp4") -> None:
        self.stream = stream
        self._template = template
        self._cache_dir = cache_dir
        self._seconds = segment_seconds
        self._container = container
        self._ext = "mp4" if container == "mp4" else "ts"
        self._tb: Fraction = template.time_base or Fraction(1, 90000)
        rate = template.average_rate or template.guessed_rate or 30
        self._frame = round(1 / (float(rate) * float(self._tb)))
        self._cur: _Open | None = None
        self._params: VideoParams | None = None
        self._deep = True  # the first segment with these parameters gets the FFmpeg check
        self.skipped = 0  # packets before the first keyframe, or with unusable timestamps

    @property
    def open(self) -> bool:
        return self._cur is not None

    def write(self, packet: Any, arrival: float) -> CachedSegment | None:
        """Add a packet; returns the segment this packet closed, if any. Raises WriteFailed."""
        dts = packet.dts if packet.dts is not None else packet.pts
        if dts is None:
            self.skipped += 1
            return None
        pts = packet.pts if packet.pts is not None else dts
        closed = None
        cur = self._cur
        if packet.is_keyframe and cur is not None and (dts - cur.first_dts) * self._tb >= self._seconds:
            closed = self.close()
            cur = None
        if cur is None:
            if not packet.is_keyframe:
                self.skipped += 1
                return closed
            cur = self._start(dts, arrival)
        if dts - cur.first_dts <= cur.last_dts:
            self.skipped += 1  # non-monotonic timestamps would make the muxer fail
            return closed
        rel_dts = dts - cur.first_dts
        rel_pts = max(pts - cur.first_dts, rel_dts)
        packet.dts, packet.pts = rel_dts, rel_pts
        packet.stream = cur.ostream
        packet.time_base = self._tb
        self._guard(lambda: cur.out.mux(packet))  # note: mux rescales the packet in place
        cur.last_dts, cur.last_pts = rel_dts, max(cur.last_pts, rel_pts)
        cur.packets += 1
        cur.keyframes += int(packet.is_keyframe)
        cur.arrivals.append(arrival)
        return closed

    def _start(self, first_dts: int, arrival: float) -> _Open:
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        name = f"{self.stream}@{arrival:.3f}-{os.getpid()}-{next(_seq)}.{self._ext}"
        path = self._cache_dir / name
        self._cur = self._guard(lambda: _Open(path, self._container, self._template, first_dts, arrival,
                                              self._params), path)
        return self._cur

    def reparam(self, params: VideoParams) -> CachedSegment | None:
        """New in-band parameters: close the open segment; the next one starts with ``params``."""
        self._params = params
        closed = self.close()
        self._deep = True
        return closed

    def close(self) -> CachedSegment | None:
        """Finish the open segment (if any) and describe it. Raises WriteFailed (file removed)."""
        cur, self._cur = self._cur, None
        if cur is None:
            return None
        try:
            cur.out.close()
        except (OSError, av.error.FFmpegError, ValueError) as err:
            _unlink(cur.path)
            raise WriteFailed(f"closing {cur.path.name}: {err}", getattr(err, "errno", None)) from err
        if cur.packets == 0:
            _unlink(cur.path)
            return None
        duration = float((cur.last_pts + self._frame) * self._tb)
        deep, self._deep = self._deep, False
        return CachedSegment(self.stream, cur.path, self._ext, cur.start, cur.start + duration,
                             cur.packets, cur.keyframes, np.asarray(cur.arrivals), deep)

    def abort(self) -> None:
        """Drop the open segment after a failure; never raises."""
        cur, self._cur = self._cur, None
        if cur is None:
            return
        try:
            cur.out.close()
        except Exception as err:  # noqa: BLE001 - the file is discarded anyway
            log.debug("closing aborted segment %s: %s", cur.path.name, err)
        _unlink(cur.path)

    def _guard(self, op: Callable[[], _T], path: Path | None = None) -> _T:
        try:
            return op()
        except (OSError, av.error.FFmpegError, ValueError) as err:
            self.abort()
            if path is not None:
                _unlink(path)
            raise WriteFailed(f"writing segment of {self.stream}: {err}", getattr(err, "errno", None)) \
                from err


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
