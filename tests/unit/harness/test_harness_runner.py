"""Runner with an injected clock and real fresh processes; the pure asv plan."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from perfwatch.errors import HarnessError
from perfwatch.harness.asv_plan import RunRequest, plan
from perfwatch.harness.runner import run, run_once


class FakeClock:
    """Each call advances by the next step: run durations are exactly the steps."""

    def __init__(self, steps: list[float]) -> None:
        self.now, self.steps = 0.0, list(steps)

    def __call__(self) -> float:
        value = self.now
        if self.steps:
            self.now += self.steps.pop(0)
        return value


def test_repeats_and_warmups_in_fresh_processes() -> None:
    cmd = [sys.executable, "-c", "import os; print(os.getpid())"]
    pids: list[str] = []
    result = run(cmd, repeats=3, warmups=1, clock=FakeClock([1.0, 0.0, 2.0, 0.0, 2.1, 0.0, 1.9]),
                 on_line=pids.append)
    assert [r.warmup for r in result.runs] == [True, False, False, False]
    assert result.seconds == pytest.approx((2.0, 2.1, 1.9))
    assert len(set(pids)) == 4 and str(os.getpid()) not in pids
    assert all(r.returncode == 0 and r.metadata["python_version"] for r in result.runs)
    assert result.noise_warning() is None


def test_noise_warning_like_pyperf() -> None:
    cmd = [sys.executable, "-c", "pass"]
    result = run(cmd, repeats=3, clock=FakeClock([1.0, 0.0, 2.0, 0.0, 3.0]))
    warning = result.noise_warning()
    assert warning is not None and "50% of the mean" in warning


def test_pinning_reaches_the_child() -> None:
    lines: list[str] = []
    cpu = max(os.sched_getaffinity(0))
    r = run_once([sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
                 cpus=[cpu], on_line=lines.append)
    assert lines == [f"[{cpu}]"] and r.metadata["cpu_affinity"] == str(cpu)


def test_timeout_and_missing_program_are_harness_errors(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="ran over"):
        run_once([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    with pytest.raises(HarnessError, match="cannot start"):
        run_once([str(tmp_path / "no-such-program")])
    with pytest.raises(HarnessError, match="repeats"):
        run([sys.executable], repeats=0)


def _req(**kw: object) -> RunRequest:
    base: dict[str, object] = {"asv": ("asv",), "config": Path("asv.conf.json"),
                               "machine": "ci-2cpu", "commits": ("a" * 40,)}
    base.update(kw)
    return RunRequest(**base)  # type: ignore[arg-type]


def test_plan_virtualenv_one_commit_records_samples() -> None:
    (inv,) = plan(_req(bench="load_test"))
    assert inv.argv[:2] == ("asv", "run")
    assert "--record-samples" in inv.argv and inv.argv[-1] == "a" * 40 + "^!"
    assert inv.argv[inv.argv.index("--machine") + 1] == "ci-2cpu"
    assert inv.argv[inv.argv.index("--bench") + 1] == "load_test"


def test_plan_virtualenv_interleaved_runs_one_round_per_invocation() -> None:
    """One asv run per round over all commits (A/B, A/B, ...), later rounds appended, so
    the samples of each round are known (asv's --interleave-rounds keeps no boundary)."""
    invs = plan(_req(commits=("a" * 40, "b" * 40), rounds=3, hashfile=Path("/t/h")))
    assert len(invs) == 3 and all(i.argv[-1] == "HASHFILE:/t/h" for i in invs)
    assert all("rounds=1" in i.argv and "--interleave-rounds" not in i.argv for i in invs)
    assert ["--append-samples" in i.argv for i in invs] == [False, True, True]
    with pytest.raises(ValueError, match="hashfile"):
        plan(_req(commits=("a" * 40, "b" * 40)))


def test_plan_same_alternates_commits_and_appends() -> None:
    invs = plan(_req(commits=("a" * 40, "b" * 40), rounds=2, python_same=True))
    assert [i.source_commit for i in invs] == ["a" * 40, "b" * 40] * 2
    assert ["--append-samples" in i.argv for i in invs] == [False, False, True, True]
    assert all("--python=same" in i.argv and "--set-commit-hash" in i.argv for i in invs)
    with pytest.raises(ValueError):
        plan(_req(commits=()))
