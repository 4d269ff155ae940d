"""A small psutil sampler for the benchmarks (perfwatch's monitor is not importable here).

Samples one process at ``SAMPLE_HZ`` in a thread: CPU seconds, RSS, I/O counters and
open fds; plus the storage disk's counters from ``/proc/diskstats`` (write operations
and flushes: each ``fsync`` on ext4/xfs ends in a flush, so flushes/s is the fsync rate
as the disk sees it). ``Usage`` holds the raw series; the helpers turn them into
per-interval samples.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Self

import psutil

from benchmarks.common import SAMPLE_HZ


def _device_of(path: Path) -> str | None:
    """The /proc/diskstats name of the whole disk holding ``path`` (None on tmpfs etc.)."""
    dev = os.stat(path).st_dev
    sys_dev = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if not sys_dev.exists():
        return None
    real = sys_dev.resolve()
    parent = real.parent
    return parent.name if (parent / "dev").exists() and parent.name != "block" else real.name


def read_diskstats(device: str | None) -> tuple[int, int, int]:
    """(sectors written, write ops, flushes) of ``device``; zeros when unknown."""
    if device is None:
        return (0, 0, 0)
    for line in Path("/proc/diskstats").read_text().splitlines():
        f = line.split()
        if f[2] == device:
            flushes = int(f[18]) if len(f) >= 20 else 0
            return (int(f[9]), int(f[7]), flushes)
    return (0, 0, 0)


@dataclass
class Usage:
    t: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user+system seconds, cumulative
    rss: list[int] = field(default_factory=list)
    write_bytes: list[int] = field(default_factory=list)
    write_ops: list[int] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    disk: list[tuple[int, int, int]] = field(default_factory=list)

    def rates(self, series: list[float] | list[int]) -> list[float]:
        """Per-interval rate of a cumulative series (units per second)."""
        return [(b - a) / (t1 - t0) for (a, b), (t0, t1)
                in zip(pairwise(series), pairwise(self.t)) if t1 > t0]

    def per_window(self, series: list[float] | list[int], seconds: float) -> list[float]:
        """Rates over windows of ``seconds`` (a segment's length evens out bursty writes)."""
        step = max(1, round(SAMPLE_HZ * seconds))
        idx = list(range(0, len(self.t), step))
        return [(series[j] - series[i]) / (self.t[j] - self.t[i])
                for i, j in pairwise(idx) if self.t[j] > self.t[i]]

    def slope(self, series: list[float] | list[int]) -> float:
        n = len(series)
        if n < 2:
            return float("nan")
        mt, my = sum(self.t) / n, sum(series) / n
        var = sum((t - mt) ** 2 for t in self.t)
        return sum((t - mt) * (y - my) for t, y in zip(self.t, series)) / var if var else 0.0


class Sampler:
    def __init__(self, pid: int, storage: Path) -> None:
        self._proc = psutil.Process(pid)
        self._device = _device_of(storage)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.usage = Usage()

    def _sample(self) -> None:
        with self._proc.oneshot():
            cpu = self._proc.cpu_times()
            io = self._proc.io_counters()
            u = self.usage
            u.t.append(time.monotonic())
            u.cpu.append(cpu.user + cpu.system)
            u.rss.append(self._proc.memory_info().rss)
            u.write_bytes.append(io.write_bytes)
            u.write_ops.append(io.write_count)
            u.fds.append(self._proc.num_fds())
        u.disk.append(read_diskstats(self._device))

    def _loop(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                self._sample()
            except psutil.Error:
                return
            next_t += 1.0 / SAMPLE_HZ
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def fsync_rates(trace: Path, start: float, end: float, window: float) -> list[float]:
    """fsync/fdatasync calls per second in consecutive ``window``-long slices of
    [start, end] (wall-clock seconds), counted from an ``strace -ttt -f`` log."""
    slices = max(1, int((end - start) // window))
    counts = [0] * slices
    text = trace.read_text(errors="replace") if trace.exists() else ""
    for line in text.splitlines():
        fields = line.split(None, 2)
        if len(fields) < 3 or fields[2].startswith("<..."):
            continue  # a "resumed" half of a call already counted at its start
        t = float(fields[1])
        i = int((t - start) // window)
        if 0 <= i < slices:
            counts[i] += 1
    return [c / window for c in counts]
