"""Frozen records of raw counters, as the sampler reads them.

Everything here is a plain value: cumulative counters exactly as the kernel reports
them (seconds of CPU, bytes, operations), never rates. Rates and peaks are computed
by :mod:`perfwatch.monitor.metrics` from sequences of :class:`Snapshot`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DiskCounters", "GpuCounters", "ProcessCounters", "Snapshot"]


@dataclass(frozen=True)
class ProcessCounters:
    """Cumulative counters of one process at one instant.

    CPU, RSS and I/O come from ``/proc/PID/{stat,statm,io}`` on every sample. The
    fields typed ``| None`` cost more to read (``status``, ``smaps``, the ``fd``
    directory), so the sampler reads them only on every n-th ("detailed") sample and
    leaves them ``None`` otherwise. ``create_time`` tells a reused pid from the
    process that had it before.
    """

    pid: int
    create_time: float
    name: str
    cpu_user: float  # seconds
    cpu_system: float  # seconds
    rss: int  # bytes
    uss: int | None  # bytes
    read_bytes: int
    write_bytes: int
    read_count: int  # read syscalls (operations)
    write_count: int  # write syscalls (operations)
    ctx_voluntary: int | None
    ctx_involuntary: int | None
    num_fds: int | None
    open_files: int | None  # regular files open
    threads: int | None

    @property
    def key(self) -> tuple[int, float]:
        """Identity of the process across snapshots (pid plus start time)."""
        return (self.pid, self.create_time)


@dataclass(frozen=True)
class DiskCounters:
    """System-wide block device counters (``psutil.disk_io_counters``)."""

    read_bytes: int
    write_bytes: int
    read_count: int
    write_count: int
    read_time_ms: int
    write_time_ms: int


@dataclass(frozen=True)
class GpuCounters:
    """One GPU as NVML reports it; utilisations are percentages over NVML's last window."""

    index: int
    name: str
    gpu_util: float
    memory_used: int  # bytes
    encoder_util: float
    encoder_sessions: int
    encoder_fps: float


@dataclass(frozen=True)
class Snapshot:
    """Everything read at instant ``t`` (seconds, from the sampler's clock)."""

    t: float
    processes: tuple[ProcessCounters, ...]
    disk: DiskCounters | None = None
    gpus: tuple[GpuCounters, ...] = ()
