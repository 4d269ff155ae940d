"""Run commands in fresh processes, with metadata on every run and an injected clock.

Follows pyperf's manager/worker split: each repeat is a new process, and each run
carries the metadata that explains its number (``collect_metadata``, in the spirit of
pyperf's ``_collect_metadata``). ``clock`` is passed in, so tests give a fake one
instead of patching ``time``. Output lines are handed to ``on_line`` as they arrive
(asv's progress), and CPU pinning is applied in the child before it execs.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from perfwatch import __version__
from perfwatch.errors import HarnessError

__all__ = ["Run", "RunSet", "collect_metadata", "run", "run_once"]

Clock = Callable[[], float]
LineSink = Callable[[str], None]
# A hook wraps the wait for a started process: hook(pid) is entered after the start and
# exited when the process has ended (e.g. perfwatch.harness.profiling.PySpy).
Hook = Callable[[int], AbstractContextManager[object]]
NOISY = 0.10  # std dev above this share of the mean gets a warning


@dataclass(frozen=True)
class Run:
    """One fresh-process execution of a command."""

    command: tuple[str, ...]
    returncode: int
    seconds: float  # by the injected clock
    warmup: bool
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSet:
    runs: tuple[Run, ...]

    @property
    def measured(self) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if not r.warmup)

    @property
    def seconds(self) -> tuple[float, ...]:
        return tuple(r.seconds for r in self.measured)

    def noise_warning(self) -> str | None:
        """pyperf-style: a warning when the std dev is a large share of the mean."""
        values = self.seconds
        if len(values) < 2:
            return None
        mean = statistics.fmean(values)
        share = statistics.stdev(values) / mean if mean else 0.0
        if share <= NOISY:
            return None
        return (f"std dev is {share:.0%} of the mean over {len(values)} runs: results are "
                "unstable; pin CPUs, stop other load, or rerun with more repeats")


def _read_first(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def collect_metadata(*, cpus: Sequence[int] | None = None) -> dict[str, str]:
    """Facts that explain a run's number: interpreter, host, CPU state, load, time."""
    meta = {
        "perfwatch_version": __version__,
        "python_version": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "hostname": platform.node(),
        "cpu_count": str(os.cpu_count() or 0),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_avg_1min": f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "",
        "boot_time": _read_first("/proc/stat").split("btime", 1)[-1].split()[0]
        if "btime" in _read_first("/proc/stat") else "",
        "cpu_governor": _read_first("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
    }
    if cpus is not None:
        meta["cpu_affinity"] = ",".join(str(c) for c in cpus)
    return {k: v for k, v in meta.items() if v}


def _pin(cpus: Sequence[int] | None) -> Callable[[], None] | None:
    if not cpus:
        return None
    chosen = set(cpus)

    def apply() -> None:  # runs in the child, before exec
        os.sched_setaffinity(0, chosen)

    return apply


def _pump(stream: object, sink: LineSink) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink(line.rstrip("\n"))


def run_once(
    command: Sequence[str],
    *,
    timeout: float | None = None,
    clock: Clock = time.perf_counter,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    cpus: Sequence[int] | None = None,
    on_line: LineSink | None = None,
    warmup: bool = False,
    hook: Hook | None = None,
) -> Run:
    """Run ``command`` once in a fresh process; stdout+stderr go line by line to ``on_line``.

    ``hook(pid)``, when given, is entered once the process started and exited after it
    ended (or was killed), so a profiler can attach for exactly the run.
    """
    meta = collect_metadata(cpus=cpus)
    start = clock()
    try:
        proc = subprocess.Popen(
            list(command), cwd=cwd, env=dict(env) if env is not None else None, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=_pin(cpus),  # noqa: PLW1509
        )
    except OSError as err:
        raise HarnessError(f"cannot start {command[0]}: {err.strerror}",
                           hint="is it installed in this environment?") from err
    pump = threading.Thread(target=_pump, args=(proc.stdout, on_line or (lambda _l: None)),
                            daemon=True)
    pump.start()
    try:
        with hook(proc.pid) if hook is not None else nullcontext():
            code = proc.wait(timeout)
    except subprocess.TimeoutExpired as err:
        proc.kill()
        proc.wait()
        raise HarnessError(f"{' '.join(command[:3])} ... ran over {timeout:.0f} s and was killed",
                           hint="raise the timeout or run fewer benchmarks") from err
    finally:
        pump.join(5)
    return Run(tuple(command), code, clock() - start, warmup, meta)


def run(
    command: Sequence[str],
    *,
    repeats: int,
    warmups: int = 0,
    timeout: float | None = None,
    clock: Clock = time.perf_counter,
    **kwargs: object,
) -> RunSet:
    """``warmups`` then ``repeats`` fresh-process runs of ``command``."""
    if repeats < 1 or warmups < 0:
        raise HarnessError(f"need repeats >= 1 and warmups >= 0, got {repeats}, {warmups}")
    runs = [run_once(command, timeout=timeout, clock=clock, warmup=i < warmups,
                     **kwargs)  # type: ignore[arg-type]
            for i in range(warmups + repeats)]
    return RunSet(tuple(runs))
