"""py-spy as an optional hook around a measurement (in the spirit of pyperf's hooks).

``PySpy(pid, out_dir, name=...)`` is a context manager: on entry it attaches
``py-spy record`` to ``pid`` and its subprocesses (one recorder per output format:
speedscope JSON and an SVG flamegraph), on exit it stops them with SIGINT so they
write their files, and ``artifacts`` / ``metadata()`` name the files. Attaching needs
ptrace rights (root, or ``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from perfwatch.errors import ProfilingError

__all__ = ["FORMATS", "PySpy", "find_py_spy"]

FORMATS = {"speedscope": "speedscope.json", "flamegraph": "svg"}


def find_py_spy() -> str:
    sibling = Path(sys.executable).with_name("py-spy")
    found = str(sibling) if sibling.exists() else shutil.which("py-spy")
    if not found:
        raise ProfilingError("py-spy is not installed", hint="pip install py-spy")
    return found


@dataclass
class _Recorder:
    fmt: str
    path: Path
    proc: subprocess.Popen[bytes]


class PySpy:
    """Record ``pid`` (and its subprocesses) while the ``with`` block runs."""

    def __init__(self, pid: int, out_dir: Path, *, name: str, rate: int = 100,
                 formats: tuple[str, ...] = ("speedscope", "flamegraph"),
                 subprocesses: bool = True, idle: bool = False,
                 py_spy: str | None = None) -> None:
        unknown = set(formats) - set(FORMATS)
        if unknown:
            raise ProfilingError(f"unknown py-spy format(s) {sorted(unknown)}",
                                 hint=f"use {', '.join(FORMATS)}")
        self.pid, self.out_dir, self.name, self.rate = pid, out_dir, name, rate
        self.formats, self.subprocesses, self.idle = formats, subprocesses, idle
        self._py_spy = py_spy
        self._recorders: list[_Recorder] = []
        self.artifacts: dict[str, Path] = {}

    def _command(self, fmt: str, path: Path) -> list[str]:
        cmd = [self._py_spy or find_py_spy(), "record", "--pid", str(self.pid), "--format", fmt,
               "--output", str(path), "--rate", str(self.rate), "--function", "--nonblocking"]
        # --idle keeps threads blocked in syscalls (fsync, write) in the profile: I/O-bound
        # regressions are invisible without it.
        return (cmd + (["--subprocesses"] if self.subprocesses else [])
                + (["--idle"] if self.idle else []))

    def __enter__(self) -> Self:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for fmt in self.formats:
            path = self.out_dir / f"{self.name}.{FORMATS[fmt]}"
            proc = subprocess.Popen(self._command(fmt, path), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            self._recorders.append(_Recorder(fmt, path, proc))
        deadline = time.monotonic() + 0.5  # a py-spy that cannot attach exits at once
        while time.monotonic() < deadline and all(r.proc.poll() is None for r in self._recorders):
            time.sleep(0.05)
        for rec in self._recorders:
            if rec.proc.poll() is not None:
                self._stop_all()
                raise ProfilingError(f"py-spy could not attach to pid {self.pid}: "
                                     f"{self._stderr(rec)}",
                                     hint="run as root or allow ptrace (ptrace_scope=0)")
        return self

    @staticmethod
    def _stderr(rec: _Recorder) -> str:
        err = rec.proc.stderr.read() if rec.proc.stderr else b""
        return err.decode(errors="replace").strip().splitlines()[-1:][0] if err.strip() else ""

    def _stop_all(self) -> None:
        for rec in self._recorders:
            if rec.proc.poll() is None:
                rec.proc.send_signal(signal.SIGINT)
        for rec in self._recorders:
            try:
                rec.proc.wait(60)
            except subprocess.TimeoutExpired:
                rec.proc.kill()
                rec.proc.wait()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop_all()
        for rec in self._recorders:
            if rec.path.is_file() and rec.path.stat().st_size > 0:
                self.artifacts[rec.fmt] = rec.path
        if exc is None and len(self.artifacts) < len(self._recorders):
            missing = [r for r in self._recorders if r.fmt not in self.artifacts]
            raise ProfilingError(
                f"py-spy wrote no {', '.join(r.fmt for r in missing)} profile of pid {self.pid}: "
                f"{self._stderr(missing[0]) or 'no samples'}",
                hint="did the process run long enough to be sampled?")

    def metadata(self) -> dict[str, str]:
        """Run metadata naming the artifacts, e.g. ``{"profile_speedscope": PATH}``."""
        return {f"profile_{fmt}": str(path) for fmt, path in self.artifacts.items()}
