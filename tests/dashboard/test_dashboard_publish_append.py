"""Republish after new commits (perfwatch.publish_append): the files it writes equal those
of a full publish of the same results, file by file; anything but new commits at the tip
makes publish run in full."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from dashboard_asvproject import (
    AsvProject,
    Machine,
    PlantedBenchmark,
    Shift,
    add_commit,
    make_asv_project,
)

from perfwatch.adapters.asv_config import load_asv_config
from perfwatch.publish import PublishOptions, PublishReport, publish

N_COMMITS = 30


def _benches() -> list[PlantedBenchmark]:
    return [
        PlantedBenchmark("bench_a.time_flat", base=2e-3),
        PlantedBenchmark("bench_a.time_step", base=1e-3, shifts=(Shift(12, 1.4),)),
        PlantedBenchmark("bench_a.time_late", base=5e-3, shifts=(Shift(N_COMMITS + 1, 1.6),)),
        PlantedBenchmark("bench_b.time_params", base=1e-3, params=("1", "4"),
                         shifts=(Shift(20, 0.7),)),
        PlantedBenchmark("bench_b.track_fps", base=30.0, unit="fps", bench_type="track"),
    ]


def _project(root: Path, machines: Sequence[Machine] = (Machine("ci-box"),)) -> AsvProject:
    return make_asv_project(root, _benches(), n_commits=N_COMMITS,
                            rng=np.random.default_rng(11), machines=machines)


def _publish(project: AsvProject, **options: object) -> PublishReport:
    return publish(load_asv_config(project.config),
                   options=PublishOptions(seed=1, **options))  # type: ignore[arg-type]


def _files(html: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _dirs, names in os.walk(html):
        for name in names:
            path = Path(dirpath, name)
            rel = path.relative_to(html).as_posix()
            # info.json: the time of the run; .manifest: the full publish's record of what
            # each page was made from (an append drops the records of the pages it wrote)
            if rel not in ("info.json", "perfwatch/.manifest"):
                out[rel] = path.read_bytes()
    return out


def _assert_same_site(a: AsvProject, b: AsvProject) -> None:
    fa, fb = _files(a.html_dir), _files(b.html_dir)
    assert sorted(fa) == sorted(fb)
    differ = [rel for rel in fa if fa[rel] != fb[rel]]
    assert differ == []


def _grow(project: AsvProject, seed: int) -> AsvProject:
    return add_commit(project, np.random.default_rng(seed))


@pytest.mark.parametrize("machines", [(Machine("ci-box"),),
                                      (Machine("ci-box"), Machine("gpu-box", speed=0.5))],
                         ids=["one-machine", "two-machines"])
def test_appended_commits_write_what_a_full_publish_writes(
        tmp_path: Path, machines: Sequence[Machine]) -> None:
    a, b = _project(tmp_path / "a", machines), _project(tmp_path / "b", machines)
    first = _publish(a)
    _publish(b)
    assert first.new_commits is None  # no state yet: a full publish
    for step in range(3):  # three republishes in a row, the last one sees bench_a.time_late
        a, b = _grow(a, 100 + step), _grow(b, 100 + step)
        appended = _publish(a)
        full = _publish(b, full=True)
        assert appended.new_commits == 1 and full.new_commits is None
        assert appended.changes == full.changes
        _assert_same_site(a, b)
    assert any(c.key.benchmark == "bench_b.time_params" for c in appended.changes)


def test_a_late_change_appears_after_appends(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    _publish(a)
    for step in range(8):
        a = _grow(a, 200 + step)
        report = _publish(a)
        assert report.new_commits == 1
    late = [c for c in report.changes if c.key.benchmark == "bench_a.time_late"]
    assert [c.commit for c in late] == [a.shas[N_COMMITS + 1]]
    page = (a.html_dir / "perfwatch" / "index.html").read_text(encoding="utf-8")
    assert "bench_a.time_late" in page


def _rewrite_old_result(project: AsvProject) -> None:
    path = next((project.results_dir / "ci-box").glob(f"{project.shas[3][:8]}-*.json"))
    doc = json.loads(path.read_text())
    doc["results"]["bench_a.time_flat"][0] = [v * 2 for v in doc["results"]["bench_a.time_flat"][0]]
    path.write_text(json.dumps(doc))


def _new_benchmark(project: AsvProject) -> None:
    path = next((project.results_dir / "ci-box").glob(f"{project.shas[-1][:8]}-*.json"))
    doc = json.loads(path.read_text())
    doc["results"]["bench_c.time_new"] = doc["results"]["bench_a.time_flat"]
    path.write_text(json.dumps(doc))


def _edit_output(project: AsvProject) -> None:
    data = next((project.html_dir / "perfwatch" / "series" / "data").glob("*.js"))
    data.write_text(data.read_text() + "// edited\n")


@pytest.mark.parametrize("change", [_rewrite_old_result, _new_benchmark, _edit_output],
                         ids=["old-result-rewritten", "new-benchmark", "output-edited"])
def test_anything_but_new_commits_publishes_in_full(tmp_path: Path, change: object) -> None:
    a, b = _project(tmp_path / "a"), _project(tmp_path / "b")
    _publish(a)
    _publish(b)
    a, b = _grow(a, 7), _grow(b, 7)
    for project in (a, b):
        change(project)  # type: ignore[operator]
    report = _publish(a)
    assert report.new_commits is None  # not appended
    _publish(b, full=True)
    _assert_same_site(a, b)
    again = _publish(_grow(a, 8))  # the full publish left a state: the next one appends
    assert again.new_commits == 1


def test_changed_code_or_config_is_a_full_publish(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    _publish(a)
    a = _grow(a, 9)
    config = a.config.read_text()
    a.config.write_text(config.replace("{", '{"project_url": "https://example.org/",', 1)
                        if '"project_url"' not in config else config + "\n")
    assert _publish(a).new_commits is None


def test_no_new_commit_is_a_full_publish_that_rewrites_nothing(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    _publish(a)
    again = _publish(a)
    assert again.new_commits is None
    assert again.pages_written == 0


def test_removing_an_appended_result_restores_the_earlier_site(tmp_path: Path) -> None:
    # After an append, the full publish's records of what each output was made from are
    # out of date: a publish of the earlier results must not keep the appended outputs.
    a, b = _project(tmp_path / "a"), _project(tmp_path / "b")
    _publish(a)
    _publish(b)
    grown = _grow(a, 5)
    assert _publish(grown).new_commits == 1
    for path in (a.results_dir / "ci-box").glob(f"{grown.shas[-1][:8]}-*.json"):
        path.unlink()
    _grow(b, 5)  # the same commit in b's repository, without its results
    for path in (b.results_dir / "ci-box").glob(f"{grown.shas[-1][:8]}-*.json"):
        path.unlink()
    assert _publish(a).new_commits is None
    _publish(b, full=True)
    _assert_same_site(a, b)


def test_unreadable_state_is_a_full_publish(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    _publish(a)
    for state in (a.results_dir / ".perfwatch").glob("publish-state*"):
        state.write_bytes(b"not an npz")
    a = _grow(a, 6)
    assert _publish(a).new_commits is None
    assert _publish(_grow(a, 7)).new_commits == 1  # rewritten by the full publish


def test_cli_says_when_it_appended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from perfwatch.cli import main

    a = _project(tmp_path / "a")
    assert main(["publish", "--config", str(a.config), "--quiet"]) == 0
    assert "to the last publish" not in capsys.readouterr().out
    a = _grow(a, 3)
    assert main(["publish", "--config", str(a.config), "--quiet"]) == 0
    assert "appended 1 new commit to the last publish" in capsys.readouterr().out
    a = _grow(a, 4)
    assert main(["publish", "--config", str(a.config), "--quiet", "--full"]) == 0
    assert "to the last publish" not in capsys.readouterr().out


def _benchmark_run_once(project: AsvProject) -> None:
    """A benchmark with a result at one old commit only (its level band comes from that
    commit's samples, which the republish state keeps)."""
    path = next((project.results_dir / "ci-box").glob(f"{project.shas[10][:8]}-*.json"))
    doc = json.loads(path.read_text())
    doc["results"]["bench_a.time_once"] = doc["results"]["bench_a.time_flat"]
    path.write_text(json.dumps(doc))


def test_a_series_measured_once_is_appended_like_the_others(tmp_path: Path) -> None:
    a, b = _project(tmp_path / "a"), _project(tmp_path / "b")
    for project in (a, b):
        _benchmark_run_once(project)
        _publish(project)
    a, b = _grow(a, 12), _grow(b, 12)
    assert _publish(a).new_commits == 1
    _publish(b, full=True)
    _assert_same_site(a, b)
    assert any("time_once" in name for name in _files(a.html_dir))
