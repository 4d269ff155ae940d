"""Session-end check: no child process, mount, network namespace or cgroup left behind.

Runs after every test of the session; reports what it finds in the terminal and the job
summary, fails the session (unless ``PERFWATCH_LEFTOVERS=warn``), then removes the leftovers so
the machine stays clean.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from perfwatch.harness.faults import Leftovers, find_leftovers

LEFTOVERS_KEY = pytest.StashKey[Leftovers]()
COMMANDS_KEY = pytest.StashKey[list[str]]()


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:200]


BASETEMP_KEY = pytest.StashKey[Path]()


@pytest.fixture(scope="session", autouse=True)
def _remember_basetemp(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> None:
    """Mounts are looked for under this session's own temp root only."""
    request.config.stash[BASETEMP_KEY] = tmp_path_factory.getbasetemp()


def _scan(config: pytest.Config) -> Leftovers:
    base = config.stash.get(BASETEMP_KEY, None)
    found = find_leftovers(base if base is not None else Path("/nonexistent"))
    return Leftovers(found.child_pids, tuple(m for m in found.mounts if m != base),
                     found.namespaces, found.cgroups)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    gc.collect()  # unreferenced owners of child processes (GitPython's cat-file) end them now
    found = _scan(session.config)
    deadline = time.monotonic() + 5
    while found.child_pids and time.monotonic() < deadline:  # processes still shutting down
        time.sleep(0.2)
        found = _scan(session.config)
    session.config.stash[LEFTOVERS_KEY] = found
    if found.empty:
        return
    session.config.stash[COMMANDS_KEY] = [f"{pid}: {_cmdline(pid)}" for pid in found.child_pids]
    _remove(found)
    if os.environ.get("PERFWATCH_LEFTOVERS", "").lower() != "warn":
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found = terminalreporter.config.stash.get(LEFTOVERS_KEY, None)
    if found is None:
        return
    if found.empty:
        terminalreporter.write_line("leftover check: no process, mount, namespace or cgroup left")
    else:
        terminalreporter.section("leftovers", sep="!", red=True)
        terminalreporter.write_line(f"left behind (now removed): {found.describe()}")
        for line in terminalreporter.config.stash.get(COMMANDS_KEY, []):
            terminalreporter.write_line(f"  {line}")


def _remove(found: Leftovers) -> None:
    for pid in found.child_pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for mount in sorted(found.mounts, key=lambda p: len(p.parts), reverse=True):
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
    for ns in found.namespaces:
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
    for cg in found.cgroups:
        try:
            cg.rmdir()
        except OSError:
            pass
