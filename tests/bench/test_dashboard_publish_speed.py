"""publish speed (``make bench`` only): asv publish alone, perfwatch's part (without asv's
site) and the whole perfwatch publish (perfwatch writes asv's site), cold and after one new
commit, on 100 benchmarks x 100 commits, in this process (start-up and imports not
counted). The full-size comparison (500 x 300, separate processes) is
``scripts/bench_publish.py``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
from dashboard_asvproject import (
    AsvProject,
    PlantedBenchmark,
    Shift,
    add_commit,
    make_asv_project,
)

from perfwatch.adapters import asv_results, results_cache
from perfwatch.adapters.asv_config import load_asv_config
from perfwatch.publish import PublishOptions, publish

N_BENCH, N_COMMITS = 100, 100


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> AsvProject:
    benches = [PlantedBenchmark(f"bench_m{i % 10}.time_b{i}", base=1e-3 * (1 + i % 7),
                                shifts=(Shift(N_COMMITS // 2, 1.3),) if i % 25 == 0 else ())
               for i in range(N_BENCH)]
    return make_asv_project(tmp_path_factory.mktemp("speed"), benches, n_commits=N_COMMITS,
                            rng=np.random.default_rng(1))


def _forget() -> None:
    """Drop this process' memo of parsed result files: each run reads them as a new
    ``perfwatch publish`` process would (from the files, or from the on-disk cache)."""
    asv_results._cached_results.cache_clear()
    results_cache.forget()


def _once(benchmark: Any, run: Callable[[], object], setup: Callable[[], None]) -> None:
    benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)


def test_asv_publish_alone(benchmark: Any, project: AsvProject) -> None:
    cmd = [sys.executable, "-m", "asv", "publish", "--config", str(project.config)]
    _once(benchmark, lambda: subprocess.run(cmd, cwd=project.root, check=True,
                                            capture_output=True), lambda: None)


def test_perfwatch_part_cold(benchmark: Any, project: AsvProject) -> None:
    config = load_asv_config(project.config)

    def cold() -> None:
        shutil.rmtree(project.results_dir / ".perfwatch", ignore_errors=True)
        shutil.rmtree(project.html_dir / "perfwatch", ignore_errors=True)
        _forget()

    _once(benchmark, lambda: publish(config, options=PublishOptions(site="none")), cold)


def test_perfwatch_part_after_one_new_commit(benchmark: Any, project: AsvProject) -> None:
    config = load_asv_config(project.config)
    state = [project]

    def grow() -> None:
        publish(config, options=PublishOptions(site="none"))  # warm caches
        state[0] = add_commit(state[0], np.random.default_rng(len(state[0].shas)))
        _forget()

    _once(benchmark, lambda: publish(config, options=PublishOptions(site="none")), grow)


def test_perfwatch_publish_with_site_cold(benchmark: Any, project: AsvProject) -> None:
    config = load_asv_config(project.config)

    def cold() -> None:
        shutil.rmtree(project.results_dir / ".perfwatch", ignore_errors=True)
        shutil.rmtree(project.html_dir, ignore_errors=True)
        _forget()

    _once(benchmark, lambda: publish(config), cold)


def test_perfwatch_publish_with_site_after_one_new_commit(benchmark: Any,
                                                          project: AsvProject) -> None:
    config = load_asv_config(project.config)
    state = [project]

    def grow() -> None:
        publish(config)  # warm caches
        state[0] = add_commit(state[0], np.random.default_rng(len(state[0].shas)))
        _forget()

    _once(benchmark, lambda: publish(config), grow)
