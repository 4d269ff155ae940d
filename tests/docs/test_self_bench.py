"""perfwatch on itself (scripts/self_bench.py): the comparison step flags a planted
slowdown, passes equal sides, and the whole script (worktree, interleaved rounds, merge,
compare) fails on a slowdown planted in one side."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "self_bench.py"
ROUNDS = 8  # the script's default


@pytest.fixture(scope="module")
def self_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("self_bench", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _round_file(path: Path, rng: np.random.Generator, factor: float, n: int = 7) -> Path:
    """One process's pytest-benchmark 5 file: two benchmarks, ``n`` timings each; the
    process as a whole is off by 4% (between-run noise), each timing by 5% (within)."""
    benches = []
    shift = rng.normal(0.0, 0.04)
    for name, base in (("test_detect", 0.015), ("test_compare", 0.022)):
        slow = factor if name == "test_detect" else 1.0
        data = (base * slow * np.exp(shift + rng.normal(0.0, 0.05, n))).tolist()
        benches.append({"group": None, "name": name, "fullname": f"bench_detector.py::{name}",
                        "params": None, "param": None, "extra_info": {}, "options": {},
                        "stats": {"min": min(data), "max": max(data), "median": sorted(data)[n // 2],
                                  "rounds": n, "data": data}})
    path.write_text(json.dumps({"machine_info": {"node": "runner"}, "commit_info": {},
                                "benchmarks": benches, "datetime": "2026-11-26T12:00:00",
                                "version": "5.1.0"}))
    return path


def _sides(tmp_path: Path, rng: np.random.Generator, head_factor: float) -> tuple[Path, Path]:
    files: dict[str, list[Path]] = {"base": [], "head": []}
    for r in range(ROUNDS):
        for side, factor in (("base", 1.0), ("head", head_factor)):
            files[side].append(_round_file(tmp_path / f"{side}-{r}.json", rng, factor))
    return files["base"], files["head"]


def _compare(self_bench: ModuleType, tmp_path: Path, base: list[Path], head: list[Path]
             ) -> tuple[int, dict[str, str]]:
    for side, files in (("base", base), ("head", head)):
        (tmp_path / f"{side}.json").write_text(json.dumps(self_bench.merge_rounds(files)))
    code = self_bench.compare(tmp_path / "base.json", tmp_path / "head.json",
                              as_json=tmp_path / "compare.json")
    doc = json.loads((tmp_path / "compare.json").read_text())
    return code, {c["benchmark"]: c["verdict"] for c in doc["comparisons"]}


def test_merge_keeps_one_median_per_round(self_bench: ModuleType, tmp_path: Path,
                                          rng: np.random.Generator) -> None:
    base, _ = _sides(tmp_path, rng, 1.0)
    merged = self_bench.merge_rounds(base)
    first = json.loads(base[0].read_text())["benchmarks"][0]["stats"]["data"]
    for bench in merged["benchmarks"]:
        assert len(bench["stats"]["data"]) == ROUNDS and bench["stats"]["rounds"] == ROUNDS
        assert bench["stats"]["min"] == min(bench["stats"]["data"])
    assert merged["benchmarks"][0]["stats"]["data"][0] == float(np.median(first))


def test_compare_step_flags_a_planted_20_percent_slowdown(
        self_bench: ModuleType, tmp_path: Path, rng: np.random.Generator,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, verdicts = _compare(self_bench, tmp_path, *_sides(tmp_path, rng, 1.20))
    assert code == 1
    assert verdicts["bench_detector.py::test_detect"] == "regression"  # n = 8 per side
    assert verdicts["bench_detector.py::test_compare"] != "regression"
    assert "regression" in capsys.readouterr().out.lower()


def test_compare_step_passes_equal_sides(self_bench: ModuleType, tmp_path: Path,
                                         rng: np.random.Generator) -> None:
    code, verdicts = _compare(self_bench, tmp_path, *_sides(tmp_path, rng, 1.0))
    assert code == 0
    assert "regression" not in verdicts.values()


TINY_BENCH = '''
import os

def busy(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def test_busy(benchmark):
    n = int(100_000 * float(os.environ.get("SELF_BENCH_TEST_SLOWDOWN", "1")))
    benchmark.pedantic(busy, args=(n,), rounds=9, iterations=1)
'''


def test_script_end_to_end_fails_on_a_planted_slowdown(tmp_path: Path) -> None:
    """Worktree of HEAD as base, 5 interleaved rounds of a tiny benchmark whose head side does
    twice the work: exit 1, and no worktree left behind. (5 rounds still confirm when one
    base round is slower than one head round; 4 would not.)
    (Twice, because on a loaded 2-CPU machine one process can run 30% slower than the next;
    the 20% case is tested on fabricated files above.)"""
    if subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=ROOT,
                      capture_output=True, check=False).returncode != 0:
        pytest.skip("not a git checkout with commits: nothing to put in a worktree")
    bench = tmp_path / "bench_tiny.py"
    bench.write_text(TINY_BENCH)
    out = tmp_path / "out"
    scratch = tmp_path / "scratch"  # the script's temp dir (the worktree) goes here
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--base", "HEAD", "--rounds", "5", "--bench", str(bench),
         "--out", str(out), "--env-head", "SELF_BENCH_TEST_SLOWDOWN=2"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert {p.name for p in out.iterdir()} >= {"base.json", "head.json", "compare.json",
                                               "base-round1.json", "head-round5.json"}
    [row] = json.loads((out / "compare.json").read_text())["comparisons"]
    # planted: +100%. One process on a loaded 2-CPU machine can run 30% slower than the next,
    # and 5 rounds' medians can carry that either way (+153% seen once in CI): the size is
    # checked for a slowdown of the planted order, the verdict for the rest.
    assert row["verdict"] == "regression" and 0.5 < row["rel_change"] < 2.0
    assert row["n_base"] == row["n_head"] == 5
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    assert str(scratch) not in worktrees and list(scratch.iterdir()) == []


def test_pull_requests_run_it_read_only() -> None:
    """The workflow runs `make self-bench` on pull requests with a read-only token, and the
    Makefile target runs this script."""
    import yaml

    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "self-bench.yml").read_text())
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "pull_request" in triggers and "pull_request_target" not in triggers
    assert flow["permissions"] == {"contents": "read"}
    [job] = flow["jobs"].values()
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base commit must be there
    assert any("make self-bench" in s.get("run", "") for s in job["steps"])
    makefile = (ROOT / "Makefile").read_text()
    target = makefile.split("\nself-bench:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/self_bench.py" in target
