"""SQLite (WAL) index of the segments that are durable in storage.

A row is written only after its file has been moved into storage and fsynced, so every row names a
complete file; the sweep deletes the row first and the file second, so a crash in between leaves at
worst an orphan file, which :meth:`SegmentIndex.orphans` finds.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Segment", "SegmentIndex", "StreamUsage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    start REAL NOT NULL,
    end REAL NOT NULL,
    bytes INTEGER NOT NULL,
    packets INTEGER NOT NULL,
    keyframes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_stream_start ON segments(stream, start);
CREATE INDEX IF NOT EXISTS segments_start ON segments(start);
"""


@dataclass(frozen=True)
class Segment:
    stream: str
    path: str  # relative to the storage root
    start: float  # unix seconds, wall clock of the first packet
    end: float  # unix seconds, wall clock after the last packet
    bytes: int
    packets: int
    keyframes: int

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class StreamUsage:
    stream: str
    segments: int
    bytes: int
    first: float | None
    last: float | None


class SegmentIndex:
    """Thread-safe index over one SQLite file (one connection guarded by a lock)."""

    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, seg: Segment) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO segments(stream, path, start, end, bytes, packets, keyframes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (seg.stream, seg.path, seg.start, seg.end, seg.bytes, seg.packets, seg.keyframes),
            )

    def query(self, stream: str | None = None, start: float | None = None,
              end: float | None = None, limit: int = 100_000) -> list[Segment]:
        """Segments overlapping [start, end], oldest first."""
        sql = "SELECT stream, path, start, end, bytes, packets, keyframes FROM segments WHERE 1=1"
        args: list[object] = []
        if stream is not None:
            sql += " AND stream = ?"
            args.append(stream)
        if start is not None:
            sql += " AND end > ?"
            args.append(start)
        if end is not None:
            sql += " AND start < ?"
            args.append(end)
        sql += " ORDER BY start LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [Segment(*row) for row in rows]

    def oldest(self, n: int) -> list[Segment]:
        """The n oldest segments over all streams."""
        with self._lock:
            rows = self._db.execute(
                "SELECT stream, path, start, end, bytes, packets, keyframes FROM segments"
                " ORDER BY start LIMIT ?", (n,)).fetchall()
        return [Segment(*row) for row in rows]

    def older_than(self, cutoff: float, limit: int = 1000) -> list[Segment]:
        with self._lock:
            rows = self._db.execute(
                "SELECT stream, path, start, end, bytes, packets, keyframes FROM segments"
                " WHERE end < ? ORDER BY start LIMIT ?", (cutoff, limit)).fetchall()
        return [Segment(*row) for row in rows]

    def remove(self, path: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM segments WHERE path = ?", (path,))

    def total_bytes(self) -> int:
        with self._lock:
            (total,) = self._db.execute("SELECT COALESCE(SUM(bytes), 0) FROM segments").fetchone()
        return int(total)

    def usage(self) -> list[StreamUsage]:
        with self._lock:
            rows = self._db.execute(
                "SELECT stream, COUNT(*), COALESCE(SUM(bytes), 0), MIN(start), MAX(end)"
                " FROM segments GROUP BY stream ORDER BY stream").fetchall()
        return [StreamUsage(stream=r[0], segments=r[1], bytes=r[2], first=r[3], last=r[4]) for r in rows]

    def paths(self) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT path FROM segments").fetchall()
        return {r[0] for r in rows}

    def orphans(self, root: Path, suffixes: tuple[str, ...] = (".mp4", ".ts")) -> list[Path]:
        """Segment files under root that the index does not know (e.g. after a crash mid-sweep)."""
        known = self.paths()
        found = [p for p in root.rglob("*") if p.suffix in suffixes and p.is_file()
                 and not any(part.startswith(".") for part in p.relative_to(root).parts)]
        return [p for p in found if str(p.relative_to(root)) not in known]
