"""Validate cached segments and make them durable in storage, then index them.

Like Frigate's recording maintainer, segments are written to a cache first and only complete, valid
files reach storage: a file is fsynced, renamed into ``<stream>/<YYYY-MM-DD>/<HH>/<HHMMSS-mmm>.<ext>``
(same filesystem: one atomic rename; otherwise copied to a hidden ``.partial`` name, fsynced, then
renamed), the directory is fsynced, and only then is the row added to the index.

Running out of file descriptors or memory (EMFILE, ENFILE, ENOMEM, EAGAIN) says nothing about the
segment: each step is then retried with backoff (about 30 s in all), and a segment that still cannot
be moved stays in the cache, where the next start salvages it, instead of being dropped as invalid.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import shutil
import sqlite3
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import av

from recorder.index import Segment, SegmentIndex
from recorder.latency import LatencyRecorder
from recorder.mp4check import fragmented_mp4_samples
from recorder.segmenter import CachedSegment

__all__ = ["MoverStats", "SegmentMover", "storage_relpath", "validate_segment"]

log = logging.getLogger(__name__)
_NO_PROBE = {"probesize": "32", "analyzeduration": "0", "fpsprobesize": "0"}
_TRANSIENT = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN, errno.EINTR})
RETRY_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0, 2.0, 4.0, 4.0, 8.0, 8.0)  # seconds, ~30 in all
T = TypeVar("T")


def is_transient(err: BaseException) -> bool:
    """An OS error about this process' resources (descriptors, memory), not about the data."""
    return isinstance(err, OSError) and err.errno in _TRANSIENT


@dataclass
class MoverStats:
    moved: int = 0
    invalid: int = 0
    failed: int = 0
    retries: int = 0  # steps retried after a transient error (EMFILE, ENOMEM, ...)
    deferred: int = 0  # segments left in the cache for the next start to salvage
    bytes: int = 0


def storage_relpath(stream: str, start: float, ext: str) -> Path:
    t = datetime.fromtimestamp(start, UTC)
    return Path(stream, t.strftime("%Y-%m-%d"), t.strftime("%H"),
                f"{t:%H%M%S}-{t.microsecond // 1000:03d}.{ext}")


def validate_segment(path: Path, expected_packets: int, *, deep: bool = True) -> str | None:
    """None when the file is complete and holds all its packets; else the reason it is invalid.

    Transient OS errors (see ``is_transient``) are raised, not reported as invalid. A fragmented MP4 is always checked by its box structure (cheap); ``deep`` also demuxes it with
    FFmpeg, as every MPEG-TS segment is.
    """
    if path.suffix == ".mp4":
        try:
            n = fragmented_mp4_samples(path)
        except (ValueError, OSError, struct.error) as err:
            if is_transient(err):
                raise
            return f"broken MP4 structure: {err}"
        if n != expected_packets:
            return f"{n} samples, expected {expected_packets}"
        if not deep:
            return None
    try:
        # No stream probing: the codec parameters are in the header, and probing decodes frames
        # (it was ~80% of the cost of validating a 720p segment).
        with av.open(str(path), options=dict(_NO_PROBE)) as c:
            if not c.streams.video:
                return "no video stream"
            video = c.streams.video[0]
            n = sum(1 for p in c.demux(video) if p.size)
    except (OSError, av.error.FFmpegError, ValueError) as err:
        if is_transient(err):
            raise
        return f"unreadable: {err}"
    if n != expected_packets:
        return f"{n} packets, expected {expected_packets}"
    return None


class SegmentMover:
    """One thread draining a queue of cached segments into storage."""

    def __init__(self, storage: Path, index: SegmentIndex, *, latency: LatencyRecorder,
                 stream_latency: Callable[[str], LatencyRecorder | None],
                 on_disk_full: Callable[[], None], clock: Callable[[], float] = time.time,
                 threads: int = 4) -> None:
        self._storage = storage
        self._index = index
        self._latency = latency
        self._stream_latency = stream_latency
        self._on_disk_full = on_disk_full
        self._clock = clock
        self._queue: queue.Queue[CachedSegment | None] = queue.Queue()
        # Several movers: segments of many cameras close at about the same time, and one thread
        # validating and fsyncing them in turn would add its queue to every segment's latency.
        self._threads = [threading.Thread(target=self._run, name=f"segment-mover-{i}", daemon=True)
                         for i in range(max(1, threads))]
        self._stats_lock = threading.Lock()
        self._stopping = threading.Event()  # cuts retry waits short
        self.stats = MoverStats()
        self.per_stream: dict[str, int] = {}

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def submit(self, seg: CachedSegment) -> None:
        self._queue.put(seg)

    def pending(self) -> int:
        return self._queue.qsize()

    def stop(self, timeout: float = 30.0) -> None:
        """Drain what is queued, then stop (segments still failing transiently stay cached)."""
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)

    def _run(self) -> None:
        while (seg := self._queue.get()) is not None:
            try:
                self.process(seg)
            except OSError as err:
                if not is_transient(err):
                    self._failed(seg)
                    continue
                log.error("keeping %s in the cache after repeated %s; it is salvaged at the next "
                          "start (raise the open-file limit or free memory)", seg.cache_path.name, err)
                with self._stats_lock:
                    self.stats.deferred += 1
            except Exception:  # noqa: BLE001 - any other failure: count it, log it, go on
                self._failed(seg)

    def _failed(self, seg: CachedSegment) -> None:
        log.exception("moving %s failed", seg.cache_path)
        with self._stats_lock:
            self.stats.failed += 1
        _discard(seg.cache_path)

    def _patiently(self, what: str, step: Callable[[], T]) -> T:
        """``step()``, retried with backoff while it fails with a transient OS error."""
        for delay in RETRY_DELAYS:
            try:
                return step()
            except OSError as err:
                if not is_transient(err):
                    raise
                log.warning("%s: %s; retrying in %.1f s", what, err, delay)
                with self._stats_lock:
                    self.stats.retries += 1
                if self._stopping.wait(delay):
                    break
        return step()

    def process(self, seg: CachedSegment) -> Segment | None:
        reason = self._patiently(f"validating {seg.cache_path.name}", lambda: validate_segment(
            seg.cache_path, seg.packets, deep=seg.deep_check))
        if reason is not None:
            log.warning("dropping invalid segment %s: %s", seg.cache_path.name, reason)
            with self._stats_lock:
                self.stats.invalid += 1
            _discard(seg.cache_path)
            return None
        rel = self._free_name(storage_relpath(seg.stream, seg.start, seg.ext))
        size = seg.cache_path.stat().st_size
        for attempt in range(3):
            try:
                self._make_durable(seg.cache_path, self._storage / rel)
                break
            except OSError as err:
                if err.errno != errno.ENOSPC or attempt == 2:
                    raise
                self._on_disk_full()
        row = Segment(seg.stream, str(rel), seg.start, seg.end, size, seg.packets, seg.keyframes)
        self._index_or_unlink(row)
        now = self._clock()
        samples = now - seg.arrivals
        self._latency.add(samples)
        per = self._stream_latency(seg.stream)
        if per is not None:
            per.add(samples)
        with self._stats_lock:
            self.stats.moved += 1
            self.stats.bytes += size
            self.per_stream[seg.stream] = self.per_stream.get(seg.stream, 0) + 1
        return row

    def _index_or_unlink(self, row: Segment) -> None:
        """Index a durable file; if the index cannot be written (disk full), the file goes too."""
        for attempt in range(3):
            try:
                self._index.add(row)
                return
            except sqlite3.OperationalError:
                self._on_disk_full()
                if attempt == 2:
                    _discard(self._storage / row.path)
                    raise
                time.sleep(0.2)

    def _free_name(self, rel: Path) -> Path:
        candidate, n = rel, 1
        while (self._storage / candidate).exists():
            candidate = rel.with_name(f"{rel.stem}_{n}{rel.suffix}")
            n += 1
        return candidate

    def _make_durable(self, src: Path, dest: Path) -> None:
        """Each step retried alone on transient errors, so a retry never repeats a done rename."""
        what = f"moving {src.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._patiently(what, lambda: _fsync_file(src))
        try:
            os.rename(src, dest)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            self._patiently(what, lambda: _copy_durably(src, dest))
            _discard(src)
        self._patiently(what, lambda: _fsync_dir(dest.parent))


def _copy_durably(src: Path, dest: Path) -> None:
    """Copy to a hidden ``.partial`` name, fsync it, rename it into place."""
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        shutil.copyfile(src, tmp)
        _fsync_file(tmp)
        os.rename(tmp, dest)
    except OSError:
        _discard(tmp)
        raise


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
