"""Open-file limits (RLIMIT_NOFILE) for processes under test.

``NofileLimit(n)`` is a ``preexec_fn`` for a process being started; ``nofile_limit(pid,
n)`` lowers the soft limit of a running process (``prlimit``) and restores it on exit.
Lowering a soft limit needs no privilege.
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from perfwatch.harness.faults.errors import FaultToolError

__all__ = ["NofileLimit", "chain_preexec", "nofile_limit", "open_fds"]


@dataclass(frozen=True)
class NofileLimit:
    """``preexec_fn``: set the child's soft open-file limit to ``soft`` before exec."""

    soft: int

    def __call__(self) -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.soft, hard))

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run through ``sh -c 'ulimit -Sn N; exec ...'`` (safe from threaded parents)."""
        return ["sh", "-c", f'ulimit -Sn {self.soft} && exec "$@"', "sh", *argv]


def chain_preexec(*steps: Callable[[], None]) -> Callable[[], None]:
    """Run several ``preexec_fn`` steps in order."""

    def run() -> None:
        for step in steps:
            step()

    return run


@contextmanager
def nofile_limit(pid: int, soft: int) -> Iterator[tuple[int, int]]:
    """Lower the running process's soft RLIMIT_NOFILE to ``soft``; restore it afterwards."""
    try:
        old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, old[1]))
    except (ProcessLookupError, PermissionError, ValueError) as err:
        raise FaultToolError(f"cannot limit open files of pid {pid}: {err}",
                             hint="the process must exist and belong to this user") from err
    try:
        yield old
    finally:
        try:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
        except ProcessLookupError:
            pass


def open_fds(pid: int) -> int:
    """How many file descriptors ``pid`` holds (from /proc)."""
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))
