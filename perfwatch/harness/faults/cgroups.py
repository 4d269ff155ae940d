"""cgroup v1 CPU quota and memory limit for processes under test.

``CgroupLimits`` makes a ``cpu`` and/or ``memory`` cgroup named ``pwfault<token>``, sets
the CFS quota (in cores) and the memory limit, and puts processes in it: an existing pid
with :meth:`add`, or a process being started with ``preexec_fn=limits.preexec``. Leaving
the context moves any process still inside back to the root cgroup and removes the
cgroups. Root only.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from perfwatch.harness.faults._system import owned_prefix, require_root
from perfwatch.harness.faults.errors import FaultToolError

__all__ = ["CgroupLimits", "CgroupStats", "list_cgroups"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
_PERIOD_US = 100_000


@dataclass(frozen=True)
class CgroupStats:
    nr_throttled: int  # CFS periods in which the group hit its quota
    throttled_s: float
    memory_failcnt: int  # times the memory limit was hit
    memory_max_usage_bytes: int
    oom_kills: int


def list_cgroups(prefix: str | None = None) -> list[Path]:
    """cgroups this process created (or those named with ``prefix``)."""
    prefix = owned_prefix() if prefix is None else prefix
    found: list[Path] = []
    for controller in ("cpu", "memory"):
        base = CGROUP_ROOT / controller
        if base.is_dir():
            found += [p for p in base.iterdir() if p.is_dir() and p.name.startswith(prefix)]
    return sorted(found)


class CgroupLimits:
    def __init__(self, *, cpu_cores: float | None = None, memory_bytes: int | None = None) -> None:
        """Memory already in use by a process added later stays charged where it was (recent
        kernels refuse ``memory.move_charge_at_immigrate``): start the process inside the group
        (:meth:`wrap`) for the limit to count its whole footprint."""
        if cpu_cores is None and memory_bytes is None:
            raise FaultToolError("no limit asked for", hint="pass cpu_cores or memory_bytes")
        self.name = f"{owned_prefix()}{secrets.token_hex(3)}"
        self.cpu_cores = cpu_cores
        self.memory_bytes = memory_bytes
        self._dirs: list[Path] = []

    def __enter__(self) -> Self:
        require_root("creating cgroups")
        try:
            if self.cpu_cores is not None:
                cpu = self._make("cpu")
                _write(cpu / "cpu.cfs_period_us", str(_PERIOD_US))
                _write(cpu / "cpu.cfs_quota_us", str(int(self.cpu_cores * _PERIOD_US)))
            if self.memory_bytes is not None:
                mem = self._make("memory")
                _write(mem / "memory.limit_in_bytes", str(self.memory_bytes))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _make(self, controller: str) -> Path:
        path = CGROUP_ROOT / controller / self.name
        if not (CGROUP_ROOT / controller).is_dir():
            raise FaultToolError(f"no cgroup v1 {controller} hierarchy at {CGROUP_ROOT}",
                                 hint="this host must mount cgroup v1 controllers")
        path.mkdir()
        self._dirs.append(path)
        return path

    def add(self, pid: int) -> None:
        for d in self._dirs:
            _write(d / "cgroup.procs", str(pid))

    def preexec(self) -> None:
        """For ``subprocess.Popen(preexec_fn=...)``: the child joins the cgroups before exec."""
        self.add(os.getpid())

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run through ``sh`` that joins the cgroups, then execs (no preexec_fn,
        so it is safe from a threaded parent)."""
        joins = "; ".join(f"echo $$ > {d / 'cgroup.procs'}" for d in self._dirs)
        return ["sh", "-c", f'{joins}; exec "$@"', "sh", *argv]

    def pids(self) -> list[int]:
        pids: set[int] = set()
        for d in self._dirs:
            pids.update(int(x) for x in (d / "cgroup.procs").read_text().split())
        return sorted(pids)

    def set_memory_limit(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        _write(self._dir("memory") / "memory.limit_in_bytes", str(memory_bytes))

    def memory_usage(self) -> int:
        return int(_read(self._dir("memory") / "memory.usage_in_bytes"))

    def set_cpu_cores(self, cores: float | None) -> None:
        quota = -1 if cores is None else int(cores * _PERIOD_US)
        _write(self._dir("cpu") / "cpu.cfs_quota_us", str(quota))

    def stats(self) -> CgroupStats:
        cpu = _keyvals(self._dir("cpu") / "cpu.stat") if self.cpu_cores is not None else {}
        mem_dir = self._dir("memory") if self.memory_bytes is not None else None
        oom = _keyvals(mem_dir / "memory.oom_control") if mem_dir else {}
        return CgroupStats(
            nr_throttled=cpu.get("nr_throttled", 0),
            throttled_s=cpu.get("throttled_time", 0) / 1e9,
            memory_failcnt=int(_read(mem_dir / "memory.failcnt")) if mem_dir else 0,
            memory_max_usage_bytes=int(_read(mem_dir / "memory.max_usage_in_bytes")) if mem_dir else 0,
            oom_kills=oom.get("oom_kill", 0),
        )

    def _dir(self, controller: str) -> Path:
        for d in self._dirs:
            if d.parent.name == controller:
                return d
        raise FaultToolError(f"this group has no {controller} limit", hint="pass it at creation")

    def close(self) -> None:
        for d in reversed(self._dirs):
            parent_procs = d.parent / "cgroup.procs"
            for pid in (d / "cgroup.procs").read_text().split():
                try:
                    _write(parent_procs, pid)
                except FaultToolError:
                    pass  # the process exited meanwhile
            d.rmdir()
        self._dirs.clear()


def _read(path: Path) -> str:
    return path.read_text().strip()


def _keyvals(path: Path) -> dict[str, int]:
    pairs = (line.split() for line in path.read_text().splitlines())
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].lstrip("-").isdigit()}


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as err:
        raise FaultToolError(f"cannot write {value!r} to {path}: {err}",
                             hint="check that cgroup v1 is mounted read-write") from err
