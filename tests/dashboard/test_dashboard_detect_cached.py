"""publish's cached, incremental detection: a cold run equals `perfwatch detect` (also for a
suite-wide shift); a grown history is extended, not re-analysed; a changed detector or
changed old data are analysed again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from dashboard_asvproject import PlantedBenchmark, Shift, add_commit, make_asv_project

from perfwatch import analysis
from perfwatch.publish import detector_id
from perfwatch.publish_detect import detect_incremental

SHIFT_AT = 20


def _noop(stage: str, done: int, total: int) -> None:
    del stage, done, total


def _history(project: object) -> analysis.History:
    return analysis.load_history(project.results_dir, project.repo,  # type: ignore[attr-defined]
                                 branch="main", machine=None)


def test_suite_wide_shift_marked_as_detect_marks_it(tmp_path: Path) -> None:
    benches = [PlantedBenchmark(f"bench_all.time_b{i}", base=1e-3 * (1 + i),
                                shifts=(Shift(SHIFT_AT, 1.25),)) for i in range(10)]
    project = make_asv_project(tmp_path / "p", benches, n_commits=40,
                               rng=np.random.default_rng(3))
    history = _history(project)
    plain = analysis.detect_history(history, rng=np.random.default_rng(1))
    cache = tmp_path / "states.npz"
    cold = detect_incremental(history, cache, detector_id(), rng=np.random.default_rng(1),
                              progress=_noop)
    warm = detect_incremental(history, cache, detector_id(), rng=np.random.default_rng(1),
                              progress=_noop)
    assert (cold.analysed, warm.analysed, warm.unchanged) == (10, 0, 10)
    assert cold.changes == warm.changes == plain
    assert sum(c.suite_shift == project.shas[SHIFT_AT] for c in plain) >= 5


def test_new_commit_extends_the_cached_states(tmp_path: Path) -> None:
    benches = [PlantedBenchmark(f"bench_a.time_b{i}", base=1e-3 * (1 + i),
                                shifts=(Shift(SHIFT_AT, 1.5),) if i < 2 else ())
               for i in range(6)]
    project = make_asv_project(tmp_path / "p", benches, n_commits=40,
                               rng=np.random.default_rng(5))
    cache = tmp_path / "states.npz"
    cold = detect_incremental(_history(project), cache, "d1", rng=np.random.default_rng(1),
                              progress=_noop)
    grown = add_commit(project, np.random.default_rng(8))
    history = _history(grown)
    warm = detect_incremental(history, cache, "d1", rng=np.random.default_rng(1),
                              progress=_noop)
    assert (warm.analysed, warm.appended, warm.unchanged) == (0, 6, 0)
    planted = {(c.key.benchmark, c.commit) for c in cold.changes}
    assert planted == {(f"bench_a.time_b{i}", project.shas[SHIFT_AT]) for i in range(2)}
    assert {(c.key.benchmark, c.commit) for c in warm.changes} == planted
    # the grown history analysed in full finds the same change points here (the incremental
    # detector keeps each point's estimate from when it was found: numbers may differ)
    full = analysis.detect_history(history, rng=np.random.default_rng(1))
    assert [(c.key, c.commit, c.direction) for c in warm.changes] == \
        [(c.key, c.commit, c.direction) for c in full]
    other = detect_incremental(history, cache, "d2", rng=np.random.default_rng(1),
                               progress=_noop)
    assert other.analysed == 6  # another detector never reuses old states


def test_changed_old_results_are_analysed_again(tmp_path: Path) -> None:
    benches = [PlantedBenchmark(f"bench_a.time_b{i}") for i in range(3)]
    project = make_asv_project(tmp_path / "p", benches, n_commits=30,
                               rng=np.random.default_rng(5))
    cache = tmp_path / "states.npz"
    detect_incremental(_history(project), cache, "d", rng=np.random.default_rng(1),
                       progress=_noop)
    old = next((project.results_dir / "ci-box").glob(f"{project.shas[3][:8]}-*.json"))
    doc = json.loads(old.read_text())
    row = doc["results"]["bench_a.time_b0"]
    row[-1] = [[x * 3 for x in row[-1][0]]]  # the samples of commit 3 changed
    old.write_text(json.dumps(doc))
    again = detect_incremental(_history(project), cache, "d", rng=np.random.default_rng(1),
                               progress=_noop)
    assert (again.analysed, again.unchanged) == (1, 2)
