from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from perfwatch import analysis
from perfwatch.analysis import compare_commits, compare_report, detect_history, load_history
from perfwatch.errors import MissingCommitError, ResultsError
from perfwatch.model import Direction, SeriesKey, Verdict
from perfwatch.stats import ChangePoint
from perfwatch.synthetic import (
    DEFAULT_BENCHMARKS,
    DEFAULT_GAPS,
    ENV_NAME,
    Plant,
    SyntheticSuite,
    build_suite,
    make_git_history,
)

ASV_RESULTS = Path(__file__).resolve().parents[1] / "data" / "asv-example" / "results"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSuite:
    return build_suite(tmp_path_factory.mktemp("suite"))


@pytest.fixture
def own_suite(tmp_path: Path) -> SyntheticSuite:
    return build_suite(tmp_path / "s", n_commits=20, plants=(), gaps=frozenset({4, 9}))


def _history(s: SyntheticSuite, **kw: object) -> analysis.History:
    return load_history(s.results_dir, s.repo, branch=kw.get("branch"),  # type: ignore[arg-type]
                        machine=kw.get("machine"))  # type: ignore[arg-type]


def test_load_history_keeps_gaps_and_metadata(suite: SyntheticSuite) -> None:
    h = _history(suite)
    assert [c.sha for c in h.commits] == list(suite.commits)
    assert h.missing_commits == () and h.machines == ("synthetic-box",) and h.branch == "main"
    assert len(h.series) == 6  # 4 plain benchmarks + 2 params of time_remux
    for s in h.series:
        assert [i for i, a in enumerate(s.samples) if a.size == 0] == sorted(DEFAULT_GAPS)
        assert all(a.size == 10 for a in s.samples if a.size)
    by = {s.key.label: s for s in h.series}
    assert by["ingest.track_throughput"].direction is Direction.HIGHER_IS_BETTER
    assert by["ingest.track_throughput"].unit == "frames/s"
    assert by["segments.peakmem_mover"].direction is Direction.LOWER_IS_BETTER
    assert by["segments.TimeRemux.time_remux(4)"].key == SeriesKey(
        "segments.TimeRemux.time_remux", ("4",), "synthetic-box")


def test_detect_finds_planted_steps_as_ranges(suite: SyntheticSuite, rng: np.random.Generator
                                              ) -> None:
    changes = detect_history(_history(suite), rng=rng)
    measured_pos = {suite.commits[i]: k for k, i in enumerate(suite.measured)}
    steps = [p for p in suite.planted if p.kind != "spike"]
    assert len(changes) == len(steps)  # no false alarm, the spike is not a change
    for p in steps:
        (c,) = [c for c in changes if (c.key.benchmark, c.key.params) == (p.benchmark, p.params)]
        assert c.direction == p.kind
        assert abs(measured_pos[c.commit] - measured_pos[p.commit]) <= 1
        # previous_commit is the last MEASURED commit before the new level
        assert measured_pos[c.previous_commit] == measured_pos[c.commit] - 1
        assert c.qvalue is not None and c.qvalue <= analysis.MAX_QVALUE
        assert np.sign(c.rel_change) == np.sign(p.factor - 1)
    order = [(c.key.benchmark, c.index) for c in changes]
    assert order == sorted(order)


def test_range_spans_unbenchmarked_commits(tmp_path: Path, rng: np.random.Generator) -> None:
    s = build_suite(tmp_path / "r", n_commits=20, gaps=frozenset({8, 9}),
                    plants=(Plant("index.time_query_range", None, 10, 1.5),))
    (c,) = detect_history(_history(s), rng=rng)
    assert (c.commit, c.previous_commit) == (s.commits[10], s.commits[7])
    assert c.direction == "regression" and c.index == 10


def test_pure_noise_suite_has_no_changes(own_suite: SyntheticSuite, rng: np.random.Generator
                                         ) -> None:
    assert detect_history(_history(own_suite), rng=rng) == []


def test_missing_commits_are_reported_and_rest_analysed(own_suite: SyntheticSuite) -> None:
    src = next((own_suite.results_dir / "synthetic-box").glob(f"{own_suite.commits[3][:8]}*"))
    data = json.loads(src.read_text())
    data["commit_hash"] = "f" * 40
    (src.parent / f"ffffffff-{ENV_NAME}.json").write_text(json.dumps(data))
    h = _history(own_suite)
    assert h.missing_commits == ("f" * 40,)
    assert sum(1 for a in h.series[0].samples if a.size) == 18


def test_no_result_commit_on_branch_is_an_error(own_suite: SyntheticSuite, tmp_path: Path
                                                ) -> None:
    other = tmp_path / "other"
    other.mkdir()
    make_git_history(other, 3, start=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ResultsError, match="none of the 18 commits with results"):
        load_history(own_suite.results_dir, other, branch=None, machine=None)
    with pytest.raises(MissingCommitError):
        load_history(own_suite.results_dir, own_suite.repo, branch="nope", machine=None)


def test_version_change_starts_a_new_series(own_suite: SyntheticSuite) -> None:
    name = "index.time_query_range"
    bj = own_suite.results_dir / "benchmarks.json"
    meta = json.loads(bj.read_text())
    meta[name]["version"] = "2"
    bj.write_text(json.dumps(meta))
    for i in range(12, 20):
        path = next((own_suite.results_dir / "synthetic-box").glob(f"{own_suite.commits[i][:8]}*"))
        data = json.loads(path.read_text())
        data["results"][name][2] = "2"
        path.write_text(json.dumps(data))
    (s,) = [s for s in _history(own_suite).series if s.key.benchmark == name]
    assert s.measured == list(range(12, 20))


def test_machines_and_envs_are_separate_series(tmp_path: Path) -> None:
    s = build_suite(tmp_path / "m", n_commits=6, plants=(), gaps=frozenset(),
                    machines=("box-a", "box-b"))
    h = _history(s)
    assert h.machines == ("box-a", "box-b")
    assert {x.key.machine for x in h.series} == {"box-a", "box-b"}
    assert {x.key.machine for x in _history(s, machine="box-b").series} == {"box-b"}
    with pytest.raises(ResultsError, match="box-a, box-b"):
        _history(s, machine="box-c")
    for path in list((s.results_dir / "box-a").glob(f"*-{ENV_NAME}.json")):
        data = json.loads(path.read_text())
        data["env_name"] = "conda-py3.12"
        path.with_name(path.name.replace(ENV_NAME, "conda-py3.12")).write_text(json.dumps(data))
    labels = {x.key.machine for x in _history(s).series}
    assert labels == {"box-a/conda-py3.12", f"box-a/{ENV_NAME}", "box-b"}


def test_fdr_burden_counts_every_series(own_suite: SyntheticSuite, rng: np.random.Generator,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    h = _history(own_suite)
    calls: list[int] = []

    def one_candidate(samples: list[object], *, rng: np.random.Generator) -> list[ChangePoint]:
        calls.append(len(samples))
        return [ChangePoint(5, 0.01, 0.1, 0.05, 0.15)] if len(calls) == 1 else []

    monkeypatch.setattr(analysis.stats, "detect_change_points", one_candidate)
    # p = 0.01 alone would pass; among 6 series BH gives q = 0.06 > 0.05.
    assert detect_history(h, rng=rng) == []
    assert calls == [18] * len(h.series)


def test_compare_real_asv_regression_at_85a7431b(rng: np.random.Generator) -> None:
    comps = compare_commits(ASV_RESULTS, "841eeac7", "85a7431b", machine=None, rng=rng)
    verdicts = {c.key.label: c.verdict for c in comps}
    assert verdicts["bench_demo.TimeSuite.time_work(1000)"] is Verdict.REGRESSION
    assert verdicts["bench_demo.TimeSuite.time_work(5000)"] is Verdict.REGRESSION
    assert verdicts["bench_demo.time_fixed"] is Verdict.REGRESSION
    assert verdicts["bench_demo.mem_list"] is not Verdict.REGRESSION
    assert comps[0].verdict is Verdict.REGRESSION  # regressions first
    work = next(c for c in comps if c.key.label == "bench_demo.TimeSuite.time_work(1000)")
    assert work.ci[0] > 0.5 and work.n_base == work.n_head == 10


def test_compare_reports_skipped_and_failed(rng: np.random.Generator) -> None:
    report = compare_report(ASV_RESULTS, "85a7431b", "dbd25c3b", machine="ci-box", rng=rng)
    assert [(n.key.label, n.reason) for n in report.not_compared] == [
        ("bench_demo.TimeSuite.time_work(5000)", "skipped at head"),
        ("bench_demo.time_fail", "failed at base and head"),
    ]
    assert report.base.startswith("85a7431b") and len(report.head) == 40


def test_compare_commit_errors(rng: np.random.Generator) -> None:
    with pytest.raises(ResultsError, match="no results for commit 'abc'"):
        compare_commits(ASV_RESULTS, "abc", "85a7431b", machine=None, rng=rng)
    with pytest.raises(ResultsError, match="several commits"):
        compare_commits(ASV_RESULTS, "8", "dbd25c3b", machine=None, rng=rng)


def test_compare_resolves_refs_with_repo(suite: SyntheticSuite, rng: np.random.Generator
                                         ) -> None:
    report = compare_report(suite.results_dir, "HEAD~1", "main", machine=None, rng=rng,
                            repo=suite.repo)
    assert (report.base, report.head) == suite.commits[-2:]
    assert len(report.comparisons) == sum(max(1, len(b.params and b.params[0]))
                                          for b in DEFAULT_BENCHMARKS)


def test_compare_unbenchmarked_commit(suite: SyntheticSuite, rng: np.random.Generator) -> None:
    gap = suite.commits[min(DEFAULT_GAPS)]
    with pytest.raises(ResultsError, match=f"no results for commit {gap}"):
        compare_commits(suite.results_dir, gap[:7], "main", machine=None, rng=rng,
                        repo=suite.repo)


def test_real_asv_results_on_a_history(tmp_path: Path) -> None:
    """The real asv files, their commits renamed onto a scratch repository's commits."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shas = make_git_history(repo, 3)
    results = tmp_path / "results"
    shutil.copytree(ASV_RESULTS, results)
    for prefix, sha in zip(("841eeac7", "85a7431b", "dbd25c3b"), shas, strict=True):
        path = next((results / "ci-box").glob(f"{prefix}-*.json"))
        data = json.loads(path.read_text())
        data["commit_hash"] = sha
        path.write_text(json.dumps(data))  # keeps the NaN token of the skipped parameter
    h = load_history(results, repo, branch=None, machine=None)
    by = {s.key.label: s for s in h.series}
    assert by["bench_demo.TimeSuite.time_work(5000)"].measured == [0, 1]  # skipped at commit 3
    assert by["bench_demo.TimeSuite.time_work(1000)"].measured == [0, 1, 2]
    assert by["bench_demo.time_fixed"].samples[0].size == 5
    assert "bench_demo.time_fail" not in by  # failed everywhere: no series
    assert by["bench_demo.Cached.track_len"].unit == "items"
