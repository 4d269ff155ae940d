#!/usr/bin/env python3
"""Opt-in benchmark: `perfwatch publish` against `asv publish` alone, and incremental republish.

    .venv/bin/python scripts/bench_publish.py [--benchmarks 500] [--commits 300] [--root DIR]
                                              [--repeat 2] [--json FILE]

Builds a real asv project (git history, asv 0.6 results with 5 raw samples per commit)
with planted steps, then times, each as a fresh process, wall clock and CPU (user+sys of
the process and its children, so asv's worker pool counts):

1. `asv publish` alone;
2. `perfwatch publish` (perfwatch writes asv's site itself), cold: no caches, no html_dir;
3. `perfwatch publish --asv-publish` (runs the real asv publish, then perfwatch's part), cold;
4. after one new commit (caches warm from a run of the same command just before):
   `perfwatch publish` (appends the commit to the last publish), `perfwatch publish --full`
   (reads and analyses the whole history, with the caches) and
   `perfwatch publish --asv-publish`.

Bars (issue 6): perfwatch publish (first) takes at most twice as long as asv publish alone;
the republish after one new commit is at least 10x faster than the first publish.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "dashboard"))

from dashboard_asvproject import (
    AsvProject,
    PlantedBenchmark,
    Shift,
    add_commit,
    make_asv_project,
)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed_once(cmd: list[str], cwd: Path) -> Timing:
    cpu0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return Timing(time.perf_counter() - t0, _children_cpu() - cpu0)


REPEAT = 1


def timed(cmd: list[str], cwd: Path, before: Callable[[], None] = lambda: None) -> Timing:
    """The fastest of REPEAT runs (wall and CPU each), ``before`` run ahead of each."""
    runs = []
    for _ in range(REPEAT):
        before()
        runs.append(timed_once(cmd, cwd))
    return Timing(min(r.wall for r in runs), min(r.cpu for r in runs))


def cold(project: AsvProject) -> None:
    shutil.rmtree(project.results_dir / ".perfwatch", ignore_errors=True)
    shutil.rmtree(project.html_dir, ignore_errors=True)


def build(root: Path, n_bench: int, n_commits: int) -> AsvProject:
    rng = np.random.default_rng(20261126)
    benches = [PlantedBenchmark(f"bench_m{i % 10}.time_b{i}", base=1e-3 * (1 + i % 7),
                                shifts=(Shift(n_commits // 2, 1.3),) if i % 25 == 0 else ())
               for i in range(n_bench)]
    return make_asv_project(root, benches, n_commits=n_commits, rng=rng)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--benchmarks", type=int, default=500)
    ap.add_argument("--commits", type=int, default=300)
    ap.add_argument("--root", type=Path, default=None, help="keep the project here")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--repeat", type=int, default=1, help="take the fastest of N runs of each")
    args = ap.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="bench-publish-"))
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    project = build(root, args.benchmarks, args.commits)
    py = sys.executable
    pw = [py, "-m", "perfwatch", "publish", "--quiet", "--config", str(project.config)]
    res: dict[str, Timing] = {}
    global REPEAT
    REPEAT = args.repeat
    res["asv publish"] = timed([py, "-m", "asv", "publish", "--config", str(project.config)], root)
    res["perfwatch publish (first)"] = timed(pw, root, lambda: cold(project))
    res["perfwatch publish --asv-publish (first)"] = timed([*pw, "--asv-publish"], root,
                                                         lambda: cold(project))
    grown = [project]

    def grow(cmd: list[str]) -> Callable[[], None]:
        def before() -> None:  # caches warm from the same command, then one new commit
            subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.DEVNULL)
            grown[0] = add_commit(grown[0], np.random.default_rng(len(grown[0].shas)))
        return before

    res["perfwatch publish (after 1 new commit)"] = timed(pw, root, grow(pw))
    res["perfwatch publish --full (after 1 new commit)"] = timed([*pw, "--full"], root,
                                                               grow([*pw, "--full"]))
    res["perfwatch publish --asv-publish (after 1 new commit)"] = timed(
        [*pw, "--asv-publish"], root, grow([*pw, "--asv-publish"]))
    _report(args, res)
    return 0


def _report(args: argparse.Namespace, res: dict[str, Timing]) -> None:
    print(f"{args.benchmarks} benchmarks x {args.commits} commits (+ new ones), "
          f"fastest of {args.repeat}")
    for name, t in res.items():
        print(f"  {name:<54} wall {t.wall:7.2f} s   cpu {t.cpu:7.2f} s")
    asv = res["asv publish"]
    for mode in ("perfwatch publish", "perfwatch publish --asv-publish"):
        first, inc = res[f"{mode} (first)"], res[f"{mode} (after 1 new commit)"]
        print(f"{mode}: first / asv publish alone: wall {first.wall / asv.wall:.2f}, "
              f"cpu {first.cpu / asv.cpu:.2f} (bar <= 2); first / after 1 new commit: "
              f"wall {first.wall / inc.wall:.1f}x, cpu {first.cpu / inc.cpu:.1f}x (bar >= 10)")
    if args.json:
        args.json.write_text(json.dumps({k: vars(v) for k, v in res.items()}, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
