"""The planted history the dashboard tests publish: known changes at known commits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dashboard_asvproject import AsvProject, Machine, PlantedBenchmark, Shift, make_asv_project

from perfwatch.publish import PublishReport

N_COMMITS = 40
REGRESSION_AT = 20  # time_remux is 1.4x slower from this commit on
IMPROVEMENT_AT = 30  # time_index is 0.7x from here
AFTER_GAP_AT = 11  # time_list is 1.5x slower from here; commit 10 was not benchmarked
PLANTED = (
    PlantedBenchmark("bench_ingest.time_remux", base=2e-3, shifts=(Shift(REGRESSION_AT, 1.4),)),
    PlantedBenchmark("bench_ingest.time_index", base=5e-4, params=("10", "100"),
                     shifts=(Shift(IMPROVEMENT_AT, 0.7),)),
    PlantedBenchmark("bench_api.time_list", base=1e-3, shifts=(Shift(AFTER_GAP_AT, 1.5),)),
)
MACHINES = (Machine("ci-box"), Machine("gpu-box", speed=0.5))
# a gap: commits 3, 10, 17, ... were not benchmarked
MEASURED = tuple(i for i in range(N_COMMITS) if i % 7 != 3)


@dataclass(frozen=True)
class Published:
    project: AsvProject
    report: PublishReport


def build_planted(root: Path, seed: int = 7) -> AsvProject:
    return make_asv_project(root, PLANTED, n_commits=N_COMMITS, rng=np.random.default_rng(seed),
                            machines=MACHINES, measured=MEASURED)
