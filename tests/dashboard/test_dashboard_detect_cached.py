"""publish's cached detection equals `perfwatch detect`'s, also for a suite-wide shift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from dashboard_asvproject import PlantedBenchmark, Shift, make_asv_project

from perfwatch import analysis
from perfwatch.adapters.publish_cache import DetectionCache
from perfwatch.publish import detect_cached, detector_id

SHIFT_AT = 20


def test_suite_wide_shift_marked_as_detect_marks_it(tmp_path: Path) -> None:
    benches = [PlantedBenchmark(f"bench_all.time_b{i}", base=1e-3 * (1 + i),
                                shifts=(Shift(SHIFT_AT, 1.25),)) for i in range(10)]
    project = make_asv_project(tmp_path / "p", benches, n_commits=40,
                               rng=np.random.default_rng(3))
    history = analysis.load_history(project.results_dir, project.repo, branch="main",
                                    machine=None)
    plain = analysis.detect_history(history, rng=np.random.default_rng(1))
    cache = DetectionCache(tmp_path / "cache", detector_id())
    cold = detect_cached(history, cache, rng=np.random.default_rng(1))
    cache.save()
    warm_cache = DetectionCache(tmp_path / "cache", detector_id())
    warm = detect_cached(history, warm_cache, rng=np.random.default_rng(1))
    assert warm_cache.misses == 0
    assert cold == warm == plain
    assert sum(c.suite_shift == project.shas[SHIFT_AT] for c in plain) >= 5
