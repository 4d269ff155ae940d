"""Verifying the recorder's results: index vs files, decodability, gaps, data loss, metrics."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from recorder_fixtures import RecorderProc

SEGMENT_SUFFIXES = (".mp4", ".ts")


@dataclass(frozen=True)
class Seg:
    stream: str
    path: str
    start: float
    end: float
    bytes: int


def recordings(rec: RecorderProc, stream: str | None = None, **params: Any) -> list[Seg]:
    query = {k: v for k, v in {"stream": stream, **params}.items() if v is not None}
    rows = rec.get("/api/recordings", **query)
    return [Seg(r["stream"], r["path"], r["start"], r["end"], r["bytes"]) for r in rows]


def status(rec: RecorderProc, stream: str) -> dict[str, Any]:
    body: dict[str, Any] = rec.get(f"/api/streams/{stream}")
    return body


def files_on_disk(storage: Path) -> dict[str, int]:
    """Segment files in storage (relative path -> size), hidden dirs and partial files excluded."""
    found: dict[str, int] = {}
    for p in storage.rglob("*"):
        rel = p.relative_to(storage)
        if p.suffix in SEGMENT_SUFFIXES and p.is_file() and not any(
            part.startswith(".") for part in rel.parts
        ):
            found[str(rel)] = p.stat().st_size
    return found


def decoded_frames(path: Path) -> int:
    """Decode every video frame of a segment with PyAV; raise on a corrupt file."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def max_gap(segs: list[Seg]) -> float:
    """Longest hole between consecutive segments of one stream (0 for fewer than 2)."""
    ordered = sorted(segs, key=lambda s: s.start)
    return max((b.start - a.end for a, b in itertools.pairwise(ordered)), default=0.0)


def metrics(rec: RecorderProc) -> dict[str, float]:
    """Prometheus text -> {"name{labels}": value}."""
    text = rec.client.get("/metrics").text
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def wait_segments(rec: RecorderProc, stream: str, count: int, timeout: float,
                  after: float = 0.0) -> list[Seg]:
    """Wait until ``stream`` has ``count`` segments starting after ``after`` (unix s)."""
    deadline = time.monotonic() + timeout
    while True:
        segs = [s for s in recordings(rec, stream) if s.start >= after]
        if len(segs) >= count:
            return segs
        if rec.proc.poll() is not None:
            raise RuntimeError(f"recorder exited with {rec.proc.returncode}:\n{rec.logs()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{stream}: {len(segs)} of {count} segments after {timeout} s")
        time.sleep(0.2)


@dataclass(frozen=True)
class Audit:
    """What happened to the segments finalised before a fault."""

    checked: int
    lost: tuple[str, ...]  # gone from the index or the disk, and not rotated away oldest-first
    corrupt: tuple[str, ...]  # still there but not decodable
    rotated: int  # removed by retention, oldest first (not a loss)

    @property
    def data_loss(self) -> int:
        return len(self.lost) + len(self.corrupt)


def audit(rec: RecorderProc, before: list[Seg], *, decode: bool = True) -> Audit:
    """Check that every segment of ``before`` is still indexed, on disk and decodable.

    A segment that disappeared counts as rotated (not lost) only when every segment of its
    stream that is still indexed is newer than it: retention deletes oldest first.
    """
    now = {s.path: s for s in recordings(rec)}
    disk = files_on_disk(rec.storage)
    lost: list[str] = []
    corrupt: list[str] = []
    rotated = 0
    for seg in before:
        if seg.path in now and seg.path in disk:
            if decode and not _decodes(rec.storage / seg.path):
                corrupt.append(seg.path)
            continue
        if seg.path not in now and seg.path not in disk:
            survivors = [s for s in now.values() if s.stream == seg.stream]
            if all(s.start >= seg.start for s in survivors):
                rotated += 1
                continue
        lost.append(seg.path)
    return Audit(len(before), tuple(lost), tuple(corrupt), rotated)


def _decodes(path: Path) -> bool:
    try:
        return decoded_frames(path) > 0
    except (OSError, av.error.FFmpegError):
        return False


def index_vs_files(rec: RecorderProc, *, settle: float = 3.0) -> tuple[set[str], set[str]]:
    """(indexed but missing on disk, on disk but not indexed); both empty when they agree.

    A live recorder moves a file before it indexes it, so a difference is looked at again for
    up to ``settle`` seconds; only one that lasts is returned.
    """
    deadline = time.monotonic() + settle
    while True:
        indexed = {s.path for s in recordings(rec)}
        disk = set(files_on_disk(rec.storage))
        if indexed == disk or time.monotonic() > deadline:
            return indexed - disk, disk - indexed
        time.sleep(0.2)
