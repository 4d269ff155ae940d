"""Time of append_site for one new commit, in a warm process (a script; the test runs it
on a small project, without any timing assertion).

    .venv/bin/python tests/dashboard/test_dashboard_asv_append_speed.py \\
        [--benchmarks 500] [--commits 300] [--machines 1] [--appends 5]

Builds scripts/bench_publish.py's project (one machine; ``--machines 2`` adds a second,
2x slower one), writes the site with ``write_site``, then adds one commit at a time and
prints the wall time of each ``append_site`` (git, results scan and segments are the
caller's and not timed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard_asvproject import (
    AsvProject,
    Machine,
    PlantedBenchmark,
    Shift,
    add_commit,
    make_asv_project,
)

from perfwatch.adapters.asv_config import load_asv_config
from perfwatch.adapters.asv_publish import localize_index
from perfwatch.adapters.asv_results import scan_results_dir
from perfwatch.adapters.asv_site import Levels, LevelsFor, write_site
from perfwatch.adapters.asv_site_append import append_or_refuse


def build(root: Path, n_bench: int, n_commits: int, n_machines: int) -> AsvProject:
    """scripts/bench_publish.py's project (same benchmarks, seed and machine)."""
    benches = [PlantedBenchmark(f"bench_m{i % 10}.time_b{i}", base=1e-3 * (1 + i % 7),
                                shifts=(Shift(n_commits // 2, 1.3),) if i % 25 == 0 else ())
               for i in range(n_bench)]
    machines = (Machine("ci-box"), Machine("gpu-box", speed=2.0))[:n_machines]
    return make_asv_project(root, benches, n_commits=n_commits,
                            rng=np.random.default_rng(20261126), machines=machines)


def levels(n_commits: int) -> LevelsFor:
    def levels_for(name: str, combo: tuple[str, ...] | None, machine: str, env: str
                   ) -> Levels:
        return Levels((0, n_commits // 2), (1e-3, 1.3e-3))
    return levels_for


def run(root: Path, n_bench: int, n_commits: int, n_machines: int, appends: int
        ) -> list[float]:
    project = build(root, n_bench, n_commits, n_machines)
    config = load_asv_config(project.config)
    write_site(config, scan_results_dir(config.results_dir), levels_for=levels(n_commits),
               positions={s: i for i, s in enumerate(project.shas)}, localize=localize_index)
    times = []
    for _ in range(appends):
        project = add_commit(project, np.random.default_rng(len(project.shas)))
        new = [f for f in scan_results_dir(config.results_dir).files
               if f.commit_hash == project.shas[-1]]
        positions = {s: i for i, s in enumerate(project.shas)}
        t0 = time.perf_counter()
        append_or_refuse(config, new, levels_for=levels(len(project.shas)), positions=positions)
        times.append(time.perf_counter() - t0)
    return times


def test_the_script_runs(tmp_path: Path) -> None:
    assert len(run(tmp_path, 6, 12, 2, 2)) == 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--benchmarks", type=int, default=500)
    ap.add_argument("--commits", type=int, default=300)
    ap.add_argument("--machines", type=int, default=1, choices=(1, 2))
    ap.add_argument("--appends", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="append-speed-") as tmp:
        times = run(Path(tmp), args.benchmarks, args.commits, args.machines, args.appends)
    print(f"{args.benchmarks} benchmarks x {args.commits} commits x {args.machines} machine(s): "
          "append_site " + " ".join(f"{t:.3f}" for t in times) + f" s (median "
          f"{sorted(times)[len(times) // 2]:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
