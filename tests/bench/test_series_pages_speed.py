"""Series page speed (``make bench`` only) on 500 series x 300 commits x 5 samples, in this
process: what a republish after one new commit renders (500 shells and the new commit's
data lines) and what a first publish renders (500 whole data files and shells)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.model import Change, Commit, Direction, FloatArray, Series, SeriesKey
from perfwatch.publish_pages import series_data_lines, series_data_text, series_shell
from perfwatch.report.levels import Segment, commit_medians, segments

N_SERIES, N_COMMITS = 500, 300
URL = "https://github.com/example/nvr/commit/"


@dataclass(frozen=True)
class Case:
    series: Series
    medians: FloatArray
    changes: list[Change]
    segs: list[Segment]


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    rng = np.random.default_rng(1)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    commits = tuple(Commit(f"{i:08x}" + "b" * 32, t0 + timedelta(hours=i), f"commit {i}")
                    for i in range(N_COMMITS))
    out = []
    for k in range(N_SERIES):
        at = N_COMMITS // 2
        samples = tuple(1e-3 * (1.3 if k % 25 == 0 and i >= at else 1.0)
                        * (1 + 0.01 * rng.standard_normal(5)) for i in range(N_COMMITS))
        s = Series(SeriesKey(f"bench_m{k % 10}.time_b{k}", None, "ci-box"), "seconds",
                   Direction.LOWER_IS_BETTER, commits, samples)
        changes = [Change(s.key, "seconds", commits[at].sha, commits[at - 1].sha, "regression",
                          0.3, (0.28, 0.32), 1e-9, 1e-8, at)] if k % 25 == 0 else []
        out.append(Case(s, commit_medians(s), changes, segments(s, [c.index for c in changes])))
    return out


def _config() -> AsvConfig:
    here = Path(".")
    return AsvConfig(path=here / "asv.conf.json", root=here, project="nvr", project_url="",
                     repo=".", repo_path=here, results_dir=here / "r", html_dir=here / "h",
                     branches=(None,), show_commit_url=URL, hash_length=8)


def _shells(config: AsvConfig, cases: list[Case]) -> int:
    return sum(len(series_shell(config, c.series.key, c.series.unit, c.series.direction,
                                c.series.commits, c.medians, c.changes, c.segs, []))
               for c in cases)


def test_republish_pages_after_one_commit(benchmark: Any, cases: list[Case]) -> None:
    config = _config()

    def run() -> int:
        new = sum(len(series_data_lines(c.series.commits, c.series.samples, N_COMMITS - 1))
                  for c in cases)
        return new + _shells(config, cases)

    assert benchmark(run) > 0


def test_first_publish_pages(benchmark: Any, cases: list[Case]) -> None:
    config = _config()

    def run() -> int:
        data = sum(len(series_data_text(c.series.commits, c.series.samples)) for c in cases)
        return data + _shells(config, cases)

    assert benchmark(run) > 0
