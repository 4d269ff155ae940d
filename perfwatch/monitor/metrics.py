"""Pure metrics over snapshot sequences: CPU %, peaks, I/O rates, slopes.

No I/O, no clocks, no module state (unlike ``psutil.cpu_percent(interval=None)``):
every function takes snapshots in and returns numbers or arrays out, in the spirit of
psutil's ``_cpu_times_deltas``.

Counters of a process tree are not monotonic as a whole: children start and exit.
Deltas are therefore taken per process (pid and start time): a process seen for the
first time contributes its counters since it started, and a process that has gone
contributes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from perfwatch.model import FloatArray
from perfwatch.monitor.records import ProcessCounters, Snapshot

__all__ = [
    "ResourceSummary",
    "cpu_percent",
    "detailed",
    "interval_rates",
    "series",
    "slope",
    "summarize",
]

Getter = Callable[[ProcessCounters], float]

def _CPU(p: ProcessCounters) -> float:
    return p.cpu_user + p.cpu_system


def _tree_delta(prev: Snapshot, cur: Snapshot, get: Getter) -> float:
    before = {p.key: get(p) for p in prev.processes}
    total = 0.0
    for proc in cur.processes:
        value = get(proc)
        total += max(0.0, value - before.get(proc.key, 0.0))
    return total


def _check(snaps: Sequence[Snapshot]) -> None:
    if len(snaps) < 2:
        raise ValueError("at least two snapshots are needed for a rate")
    times = np.array([s.t for s in snaps])
    if np.any(np.diff(times) <= 0):
        raise ValueError("snapshot times must increase strictly")


def interval_rates(snaps: Sequence[Snapshot], get: Getter) -> FloatArray:
    """Per-interval rate (units/s) of a cumulative per-process counter over the tree."""
    _check(snaps)
    deltas = np.array([_tree_delta(a, b, get) for a, b in pairwise(snaps)])
    dts = np.diff(np.array([s.t for s in snaps], dtype=np.float64))
    return np.asarray(deltas / dts, dtype=np.float64)


def cpu_percent(snaps: Sequence[Snapshot]) -> FloatArray:
    """CPU use of the tree per interval, in % of one core (200 = two cores busy)."""
    return interval_rates(snaps, _CPU) * 100.0


def series(snaps: Sequence[Snapshot], get: Getter) -> FloatArray:
    """A gauge summed over the tree at each snapshot (RSS, fds, threads)."""
    return np.array([sum(get(p) for p in s.processes) for s in snaps], dtype=np.float64)


def detailed(snaps: Sequence[Snapshot], attr: str) -> list[Snapshot]:
    """The snapshots in which every process has ``attr`` read (not ``None``)."""
    return [s for s in snaps if s.processes and all(getattr(p, attr) is not None
                                                    for p in s.processes)]


def _sparse_series(snaps: Sequence[Snapshot], attr: str) -> tuple[FloatArray, FloatArray]:
    """Times and tree sums of a gauge read only on detailed snapshots (USS, fds...)."""
    some = detailed(snaps, attr)
    ts = np.array([s.t for s in some], dtype=np.float64)
    ys = np.array([sum(getattr(p, attr) for p in s.processes) for s in some], dtype=np.float64)
    return ts, ys


def _sparse_rate(snaps: Sequence[Snapshot], attr: str, get: Getter) -> float:
    some = detailed(snaps, attr)
    return _total_rate(some, get) if len(some) >= 2 else float("nan")


def _peak(values: FloatArray) -> float:
    return float(values.max()) if values.size else float("nan")


def slope(t: FloatArray, y: FloatArray) -> float:
    """Least-squares slope of ``y`` over ``t`` (units per second); NaN under 2 points."""
    if t.size < 2 or np.ptp(t) == 0:
        return float("nan")
    return float(np.polyfit(t - t[0], y, 1)[0])


def _total_rate(snaps: Sequence[Snapshot], get: Getter) -> float:
    rates = interval_rates(snaps, get)
    dts = np.diff(np.array([s.t for s in snaps], dtype=np.float64))
    return float(np.sum(rates * dts) / np.sum(dts))


def _disk_rate(snaps: Sequence[Snapshot], attr: str) -> float:
    read = [s for s in snaps if s.disk is not None]
    if len(read) < 2 or read[-1].t == read[0].t:
        return float("nan")
    first, last = read[0].disk, read[-1].disk
    return float(getattr(last, attr) - getattr(first, attr)) / (read[-1].t - read[0].t)


@dataclass(frozen=True)
class ResourceSummary:
    """What a run of the tree cost, from its snapshots. Rates are per second."""

    duration: float
    cpu_percent: float  # mean, % of one core
    cpu_user_seconds: float
    cpu_system_seconds: float
    peak_rss: float
    peak_uss: float  # NaN when USS was never read
    read_bytes_per_s: float
    write_bytes_per_s: float
    read_ops_per_s: float
    write_ops_per_s: float
    ctx_switches_per_s: float
    max_fds: float
    max_open_files: float
    max_threads: float
    rss_slope: float  # bytes/s, for leak checks
    fd_slope: float  # fds/s
    disk_read_bytes_per_s: float  # system-wide
    disk_write_bytes_per_s: float
    disk_write_ops_per_s: float
    gpu_encoder_util: float  # mean %, NaN without a GPU
    gpu_encoder_sessions: float  # max


def _gpu(snaps: Sequence[Snapshot]) -> tuple[float, float]:
    util = [g.encoder_util for s in snaps for g in s.gpus]
    sessions = [g.encoder_sessions for s in snaps for g in s.gpus]
    if not util:
        return float("nan"), float("nan")
    return float(np.mean(util)), float(max(sessions))


def summarize(snaps: Sequence[Snapshot]) -> ResourceSummary:
    """Reduce a run's snapshots (at least two, times increasing) to one summary."""
    _check(snaps)
    t = np.array([s.t for s in snaps], dtype=np.float64)
    rss = series(snaps, lambda p: p.rss)
    t_fds, fds = _sparse_series(snaps, "num_fds")
    _, uss = _sparse_series(snaps, "uss")
    _, files = _sparse_series(snaps, "open_files")
    _, threads = _sparse_series(snaps, "threads")
    enc_util, enc_sessions = _gpu(snaps)
    return ResourceSummary(
        duration=float(t[-1] - t[0]),
        cpu_percent=_total_rate(snaps, _CPU) * 100.0,
        cpu_user_seconds=float(np.sum(interval_rates(snaps, lambda p: p.cpu_user) * np.diff(t))),
        cpu_system_seconds=float(
            np.sum(interval_rates(snaps, lambda p: p.cpu_system) * np.diff(t))
        ),
        peak_rss=float(rss.max()),
        peak_uss=_peak(uss),
        read_bytes_per_s=_total_rate(snaps, lambda p: p.read_bytes),
        write_bytes_per_s=_total_rate(snaps, lambda p: p.write_bytes),
        read_ops_per_s=_total_rate(snaps, lambda p: p.read_count),
        write_ops_per_s=_total_rate(snaps, lambda p: p.write_count),
        ctx_switches_per_s=_sparse_rate(
            snaps, "ctx_voluntary", lambda p: float(p.ctx_voluntary or 0) + (p.ctx_involuntary or 0)
        ),
        max_fds=_peak(fds),
        max_open_files=_peak(files),
        max_threads=_peak(threads),
        rss_slope=slope(t, rss),
        fd_slope=slope(t_fds, fds),
        disk_read_bytes_per_s=_disk_rate(snaps, "read_bytes"),
        disk_write_bytes_per_s=_disk_rate(snaps, "write_bytes"),
        disk_write_ops_per_s=_disk_rate(snaps, "write_count"),
        gpu_encoder_util=enc_util,
        gpu_encoder_sessions=enc_sessions,
    )
