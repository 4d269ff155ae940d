"""perfwatch's writer of asv's site against the real `asv publish` on the same results.

Two copies of one planted project (with skipped, failed, wrong-version and trailing
missing results, parameterised benchmarks, two machines and a tag): one published by
`asv publish`, one by perfwatch. Every file must be the same, except the documented,
deliberate differences: the values of asv's summary list (steps from perfwatch's segments,
not asv's step detection), regressions.json/.xml (perfwatch's), info.json's timestamp.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dashboard_asvproject import AsvProject, add_commit
from dashboard_planted import REGRESSION_AT, build_planted

from perfwatch.adapters.asv_config import load_asv_config
from perfwatch.adapters.asv_publish import localize_index, run_asv_publish
from perfwatch.publish import PublishOptions, publish

OURS = ("regressions.json", "regressions.xml", "info.json")


def _edit(project: AsvProject, machine: str, commit: int, change: Any) -> None:
    path = next((project.results_dir / machine).glob(f"{project.shas[commit][:8]}-*.json"))
    doc = json.loads(path.read_text())
    change(doc["results"])
    path.write_text(json.dumps(doc))


def _edge_cases(project: AsvProject) -> None:
    nan = float("nan")

    def skipped(rows: Any) -> None:
        rows["bench_api.time_list"][0] = [nan]

    def failed(rows: Any) -> None:
        rows["bench_ingest.time_remux"][0] = None

    def other_version(rows: Any) -> None:
        rows["bench_ingest.time_remux"][2] = "0" * 64

    def last_param_skipped(rows: Any) -> None:
        rows["bench_ingest.time_index"][0][1] = nan
        rows["bench_api.time_list"][0] = [nan]

    _edit(project, "ci-box", 5, skipped)
    _edit(project, "ci-box", 6, failed)
    _edit(project, "ci-box", 8, other_version)
    _edit(project, "gpu-box", len(project.shas) - 1, last_param_skipped)
    subprocess.run(["git", "tag", "v0.1", project.shas[12]], cwd=project.repo, check=True)


def _files(html: Path) -> dict[str, Path]:
    return {p.relative_to(html).as_posix(): p for p in html.rglob("*")
            if p.is_file() and not p.relative_to(html).as_posix().startswith("perfwatch/")}


def _close(a: Any, b: Any) -> bool:
    return a is None and b is None or (a is not None and b is not None
                                       and math.isclose(a, b, rel_tol=0.05))


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[AsvProject, AsvProject]:
    root = tmp_path_factory.mktemp("site")
    asv = build_planted(root / "asv")
    _edge_cases(asv)
    shutil.copytree(asv.root, root / "pw", symlinks=True)
    pw = AsvProject(root=root / "pw", config=root / "pw" / "asv.conf.json", repo=root / "pw" / "repo",
                    results_dir=root / "pw" / "results", html_dir=root / "pw" / "html",
                    shas=asv.shas, benchmarks=asv.benchmarks, machines=asv.machines)
    run_asv_publish(load_asv_config(asv.config))
    localize_index(asv.html_dir)  # what perfwatch does to asv's page in both modes
    publish(load_asv_config(pw.config), options=PublishOptions(seed=1))
    return asv, pw


def test_same_files_same_contents(both: tuple[AsvProject, AsvProject]) -> None:
    asv, pw = both
    a, b = _files(asv.html_dir), _files(pw.html_dir)
    assert a.keys() == b.keys()
    graphs = [rel for rel in a if rel.startswith("graphs/")]
    assert len(graphs) == 11  # 3 benchmarks x 2 machines, 3 summaries, 2 summary lists
    for rel, path in a.items():
        if rel in OURS or rel.endswith("/summary.json") and not rel.startswith("graphs/summary/"):
            continue
        assert path.read_bytes() == b[rel].read_bytes(), rel


def test_index_json_equal_and_info_json(both: tuple[AsvProject, AsvProject]) -> None:
    asv, pw = both
    a = json.loads((asv.html_dir / "index.json").read_text())
    b = json.loads((pw.html_dir / "index.json").read_text())
    assert a == b
    assert a["tags"] == {"v0.1": int(next(r for r, h in a["revision_to_hash"].items()
                                          if h == asv.shas[12]))}
    info_a = json.loads((asv.html_dir / "info.json").read_text())
    info_b = json.loads((pw.html_dir / "info.json").read_text())
    assert info_a.keys() == info_b.keys() and info_a["asv-version"] == info_b["asv-version"]


def test_summary_list_differs_only_in_step_values(both: tuple[AsvProject, AsvProject]) -> None:
    """The deliberate difference: asv's "last change" columns come from perfwatch's segments."""
    asv, pw = both
    lists = [rel for rel in _files(asv.html_dir)
             if rel.endswith("/summary.json") and not rel.startswith("graphs/summary/")]
    assert len(lists) == 2  # one per machine
    for rel in lists:
        rows_a = json.loads((asv.html_dir / rel).read_text())
        rows_b = json.loads((pw.html_dir / rel).read_text())
        assert [(r["name"], r["idx"], r["pretty_name"]) for r in rows_a] == \
            [(r["name"], r["idx"], r["pretty_name"]) for r in rows_b]
        for ra, rb in zip(rows_a, rows_b, strict=True):
            assert ra.keys() == rb.keys()
            assert ra["last_rev"] == rb["last_rev"]
            assert _close(ra["last_value"], rb["last_value"]), (rel, ra, rb)
            assert _close(ra["prev_value"], rb["prev_value"]), (rel, ra, rb)
            assert ra["change_rev"] == rb["change_rev"], (rel, ra, rb)


def test_republish_writes_only_what_changed(both: tuple[AsvProject, AsvProject],
                                            tmp_path: Path) -> None:
    _asv, pw = both
    copy = tmp_path / "pw"
    shutil.copytree(pw.root, copy, symlinks=True)
    project = AsvProject(root=copy, config=copy / "asv.conf.json", repo=copy / "repo",
                         results_dir=copy / "results", html_dir=copy / "html", shas=pw.shas,
                         benchmarks=pw.benchmarks, machines=pw.machines)
    mine = project.html_dir / "notes.txt"
    mine.write_text("kept")  # asv publish would delete it with html_dir
    config = load_asv_config(project.config)
    moved = publish(config, options=PublishOptions(seed=1)).site
    assert moved is not None and moved.kept == 0  # outputs of another html_dir: not trusted
    again = publish(config, options=PublishOptions(seed=1)).site
    assert again is not None and again.written == 1  # info.json (its timestamp)
    assert again.kept > 10 and again.removed == 0
    grown = add_commit(project, np.random.default_rng(4))
    after = publish(config, options=PublishOptions(seed=1)).site
    assert after is not None and after.removed == 0
    index = json.loads((grown.html_dir / "index.json").read_text())
    assert grown.shas[-1] in index["revision_to_hash"].values()
    assert mine.read_text() == "kept" and (grown.html_dir / "perfwatch" / "index.html").is_file()
    # a benchmark that disappears from benchmarks.json loses its graphs
    bench = json.loads((project.results_dir / "benchmarks.json").read_text())
    del bench["bench_api.time_list"]
    (project.results_dir / "benchmarks.json").write_text(json.dumps(bench))
    gone = publish(config, options=PublishOptions(seed=1)).site
    assert gone is not None and gone.removed == 3  # two machines' graphs and its summary
    assert not list(grown.html_dir.glob("graphs/**/bench_api.time_list.json"))
    regression = grown.shas[REGRESSION_AT]
    assert regression in (grown.html_dir / "regressions.xml").read_text()


def test_machine_not_analysed_gets_asv_steps(both: tuple[AsvProject, AsvProject],
                                            tmp_path: Path) -> None:
    """With --machine, the other machines' graphs keep asv's own step detection (with asv's
    weights): their summary list is then exactly asv's."""
    asv, pw = both
    copy = tmp_path / "pw"
    shutil.copytree(pw.root, copy, symlinks=True)
    shutil.rmtree(copy / "html")
    site = publish(load_asv_config(copy / "asv.conf.json"),
                   options=PublishOptions(seed=1, machine="ci-box")).site
    assert site is not None and site.graphs == 6 and site.asv_steps == 3
    a, b = _files(asv.html_dir), _files(copy / "html")
    assert a.keys() == b.keys()
    for rel, path in a.items():
        if rel in OURS or "machine-ci-box/" in rel and rel.endswith("/summary.json"):
            continue
        assert path.read_bytes() == b[rel].read_bytes(), rel


def test_asv_publish_by_hand_in_between_is_repaired(both: tuple[AsvProject, AsvProject],
                                                   tmp_path: Path) -> None:
    """`asv publish` run by hand deletes html_dir and writes its own files (CDN links, asv's
    steps, asv's regressions): the next perfwatch publish puts perfwatch's back."""
    _asv, pw = both
    copy = tmp_path / "pw"
    shutil.copytree(pw.root, copy, symlinks=True)
    config = load_asv_config(copy / "asv.conf.json")
    publish(config, options=PublishOptions(seed=1))  # primed for this html_dir
    ours = _files(copy / "html")
    expected = {rel: p.read_bytes() for rel, p in ours.items() if rel != "info.json"}
    subprocess.run([sys.executable, "-m", "asv", "publish", "--config", str(config.path)],
                   check=True, capture_output=True, cwd=copy)
    assert 'id="nav-li-perfwatch"' not in (copy / "html" / "index.html").read_text()
    site = publish(config, options=PublishOptions(seed=1)).site
    assert site is not None and site.written > 3  # asv rewrote every file
    after = _files(copy / "html")
    assert {rel: p.read_bytes() for rel, p in after.items() if rel != "info.json"} == expected
