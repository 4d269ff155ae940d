"""Retention by age, a byte quota, and an emergency sweep under disk pressure.

As in Frigate's storage maintainer, the free-space floor defaults to about one hour of the current
recording rate; here it is capped at a share of the filesystem (``free_fraction_cap``) so a small disk
is rotated rather than emptied. The sweep deletes the oldest segments of all streams first: the index
row goes first, then the file, so storage never holds a row without a file.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recorder.config import RetentionConfig
from recorder.index import Segment, SegmentIndex

__all__ = ["StorageMaintainer", "SweepStats", "free_space_floor"]

log = logging.getLogger(__name__)
EMERGENCY_DISK_SHARE = 0.05  # an emergency sweep frees at least this share of the filesystem


@dataclass
class SweepStats:
    runs: int = 0
    emergency_runs: int = 0
    deleted: dict[str, int] | None = None  # reason -> segments
    deleted_bytes: int = 0

    def count(self, reason: str, n: int) -> None:
        if self.deleted is None:
            self.deleted = {}
        self.deleted[reason] = self.deleted.get(reason, 0) + n


def free_space_floor(cfg: RetentionConfig, rate_bytes_per_s: float, disk_total: int) -> int:
    """Bytes that must stay free: the configured value, else one hour of recording (capped)."""
    if cfg.min_free_bytes > 0:
        return cfg.min_free_bytes
    return int(min(rate_bytes_per_s * 3600.0, cfg.free_fraction_cap * disk_total))


class StorageMaintainer:
    """A thread that applies retention every ``check_seconds`` and at once when asked (disk full)."""

    def __init__(self, storage: Path, index: SegmentIndex, cfg: RetentionConfig, *,
                 rate: Callable[[], float], clock: Callable[[], float] = time.time) -> None:
        self._storage = storage
        self._index = index
        self._cfg = cfg
        self._rate = rate
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="storage-maintainer", daemon=True)
        self.stats = SweepStats()
        self._emergency = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(10)

    def request_sweep(self) -> None:
        """Ask for an emergency pass now (thread-safe, returns immediately)."""
        self.stats.emergency_runs += 1
        self._emergency = True
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._cfg.check_seconds)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.run_once()
            except Exception:
                log.exception("retention pass failed")

    def run_once(self) -> int:
        """One pass of all three rules; returns the number of segments deleted."""
        with self._lock:
            self.stats.runs += 1
            deleted = self._by_age() + self._by_quota() + self._by_free_space()
        return deleted

    def _by_age(self) -> int:
        cutoff = self._clock() - self._cfg.max_age_hours * 3600.0
        return self._delete(self._index.older_than(cutoff), "age")

    def _by_quota(self) -> int:
        if self._cfg.max_bytes <= 0:
            return 0
        excess = self._index.total_bytes() - self._cfg.max_bytes
        return self._delete_oldest_bytes(excess, "quota")

    def _by_free_space(self) -> int:
        usage = shutil.disk_usage(self._storage)
        rate = self._rate()
        floor = free_space_floor(self._cfg, rate, usage.total)
        reason = "free_space"
        if self._emergency:  # a write failed: free room for ~20 s of recording whatever the floor
            self._emergency = False
            room = max(EMERGENCY_DISK_SHARE * usage.total, rate * 20.0)
            floor = max(floor, int(min(room, 0.5 * usage.total)))  # a tiny disk is rotated, not emptied
            reason = "disk_full"
        return self._delete_oldest_bytes(floor - usage.free, reason)

    def _delete_oldest_bytes(self, excess: int, reason: str) -> int:
        deleted = 0
        while excess > 0:
            batch = self._index.oldest(16)
            if not batch:
                break
            chosen: list[Segment] = []
            for seg in batch:
                if excess <= 0:
                    break
                chosen.append(seg)
                excess -= seg.bytes
            deleted += self._delete(chosen, reason)
        return deleted

    def _delete(self, segments: list[Segment], reason: str) -> int:
        for seg in segments:
            try:
                self._index.remove(seg.path)
            except sqlite3.OperationalError:  # disk too full even for the journal: free space first
                (self._storage / seg.path).unlink(missing_ok=True)
                self._index.remove(seg.path)
            (self._storage / seg.path).unlink(missing_ok=True)
            self.stats.deleted_bytes += seg.bytes
        if segments:
            self.stats.count(reason, len(segments))
            log.info("retention (%s) deleted %d segments", reason, len(segments))
        return len(segments)
