"""perfwatch publish on a real asv project: real git history, real `asv publish`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from dashboard_asvproject import AsvProject, add_commit
from dashboard_planted import AFTER_GAP_AT, IMPROVEMENT_AT, MACHINES, REGRESSION_AT, Published

from perfwatch.adapters.asv_config import load_asv_config
from perfwatch.cli import main
from perfwatch.model import SeriesKey
from perfwatch.publish import PublishOptions, publish, series_slug


def _regressions(html: Path) -> list[list[object]]:
    return list(json.loads((html / "regressions.json").read_text())["regressions"])


def test_planted_changes_found_and_nothing_else(published: Published) -> None:
    shas = published.project.shas
    found = {(c.key.benchmark, c.key.params, c.key.machine, c.commit, c.direction)
             for c in published.report.changes}
    want = {("bench_ingest.time_remux", None, m.name, shas[REGRESSION_AT], "regression")
            for m in MACHINES}
    want |= {("bench_ingest.time_index", (p,), m.name, shas[IMPROVEMENT_AT], "improvement")
             for m in MACHINES for p in ("10", "100")}
    want |= {("bench_api.time_list", None, m.name, shas[AFTER_GAP_AT], "regression")
             for m in MACHINES}
    assert found == want


def test_asv_regressions_json_lists_perfwatch_regressions(published: Published) -> None:
    html = published.project.html_dir
    index = json.loads((html / "index.json").read_text())
    rev = {sha: int(r) for r, sha in index["revision_to_hash"].items()}
    entries = _regressions(html)
    assert len(entries) == 4 == published.report.regressions_listed
    shas = published.project.shas
    after_gap = [e for e in entries if e[0] == "bench_api.time_list"]
    assert len(after_gap) == 2
    for entry in after_gap:  # commit 10 was not benchmarked: a range from 9 to 11, as asv writes
        assert entry[6] == [[rev[shas[AFTER_GAP_AT - 2]], rev[shas[AFTER_GAP_AT]],  # type: ignore[index]
                             entry[6][0][2], entry[6][0][3]]]  # type: ignore[index]
    for name, graph, params, idx, last, best, jumps in entries:  # type: ignore[misc]
        if name == "bench_api.time_list":
            continue
        assert name == "bench_ingest.time_remux" and idx is None
        assert (html / str(graph)).is_file()
        assert params in ({"machine": "ci-box"}, {"machine": "gpu-box"})
        assert f"machine-{params['machine']}/" in str(graph)  # type: ignore[index]
        # commit 19 was benchmarked, so the jump is the single commit 20 (asv: rev_a null)
        assert jumps == [[None, rev[shas[REGRESSION_AT]], jumps[0][2], jumps[0][3]]]  # type: ignore[index]
        before, after = jumps[0][2], jumps[0][3]  # type: ignore[index]
        assert 1.35 < after / before < 1.45
        assert abs(float(last) / float(after) - 1) < 0.05  # type: ignore[arg-type]
        assert abs(float(best) / float(before) - 1) < 0.05  # type: ignore[arg-type]


def test_asv_feed_lists_perfwatch_regressions(published: Published) -> None:
    import xml.etree.ElementTree as ET

    ns = {"a": "http://www.w3.org/2005/Atom"}
    tree = ET.parse(published.project.html_dir / "regressions.xml")
    titles = sorted(e.findtext("a:title", namespaces=ns) or ""
                    for e in tree.getroot().findall("a:entry", ns))
    pct = {t: float(t.split("%")[0]) for t in titles}
    remux = [p for t, p in pct.items() if "bench_ingest.time_remux on" in t]
    listing = [p for t, p in pct.items() if "bench_api.time_list on" in t]
    assert len(titles) == 4 and len(remux) == len(listing) == 2
    assert all(35 < p < 45 for p in remux) and all(45 < p < 55 for p in listing)


def test_perfwatch_pages_written_and_local_only(published: Published) -> None:
    root = published.project.html_dir / "perfwatch"
    assert (root / "static" / "plotly.min.js").stat().st_size > 1_000_000
    key = SeriesKey("bench_ingest.time_remux", None, "ci-box")
    page = (root / "series" / f"{series_slug(key)}.html").read_text()
    assert "Regression +4" in page and published.project.shas[REGRESSION_AT][:8] in page
    assert "bench_ingest.time_remux-flamegraph.svg" in page  # flamegraph link
    assert "all hardware profiles side by side" in page
    for html in root.rglob("*.html"):
        text = html.read_text()
        remote = re.findall(r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="(https?:)', text)
        assert not remote, html
    asv_index = (published.project.html_dir / "index.html").read_text()
    assert not re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="https?:', asv_index)
    assert 'href="perfwatch/index.html"' in asv_index
    overview = (root / "index.html").read_text()
    assert overview.count("<tr data-machine=") == len(published.report.changes) == 8


def test_changed_renderer_rewrites_pages(fresh_project: AsvProject,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import perfwatch.publish as use_case

    config = load_asv_config(fresh_project.config)
    publish(config, options=PublishOptions(seed=1, site="none"))
    monkeypatch.setattr(use_case, "renderer_id", lambda: "another renderer")
    again = publish(config, options=PublishOptions(seed=1, site="none"))
    assert again.analysed == 0 and again.pages_written == again.n_series + 4


def test_republish_unchanged_reanalyses_nothing(fresh_project: AsvProject) -> None:
    config = load_asv_config(fresh_project.config)
    # once more first: in a shared working tree the detector's sources may have changed since
    # the session's publish (a changed detector or renderer must re-analyse and re-render)
    publish(config, options=PublishOptions(seed=1, site="none"))
    again = publish(config, options=PublishOptions(seed=1, site="none"))
    assert again.analysed == 0 and again.pages_written == 0
    assert again.pages_kept == again.n_series + 4  # series pages + 4 hardware pages
    flame = fresh_project.html_dir / "perfwatch" / "profiles"
    assert (flame / "bench_ingest.time_remux-flamegraph.svg").is_file()


def test_republish_after_new_commit(fresh_project: AsvProject) -> None:
    grown = add_commit(fresh_project, np.random.default_rng(99))
    seen: dict[str, tuple[int, int]] = {}
    report = publish(load_asv_config(grown.config), options=PublishOptions(seed=1, site="asv"),
                     progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)))
    assert seen == {"asv publish": (1, 1), "load results": (1, 1), "analyse": (8, 8),
                    "pages": (8, 8)}
    # every series got a new point: extended from the cache (or analysed, when the detector
    # changed since the session's publish in a shared working tree)
    assert report.analysed + report.appended == report.n_series
    assert report.pages_written == report.n_series + 4
    index = json.loads((grown.html_dir / "index.json").read_text())
    assert grown.shas[-1] in index["revision_to_hash"].values()  # asv re-published
    # asv deleted html_dir, perfwatch's profiles folder survived
    assert (grown.html_dir / "perfwatch" / "profiles").is_dir()
    assert len(_regressions(grown.html_dir)) == 4


def test_cli_publish_and_compare_page(fresh_project: AsvProject, capsys: object) -> None:
    base, head = fresh_project.shas[REGRESSION_AT - 1], fresh_project.shas[REGRESSION_AT]
    code = main(["publish", "--config", str(fresh_project.config), "--no-asv", "--quiet",
                 "--compare", base, head])
    assert code == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "4 regressions, 4 improvements in 8 series" in out
    page = fresh_project.html_dir / "perfwatch" / "compare" / f"{base[:12]}-{head[:12]}.html"
    assert str(page) in out
    text = page.read_text()
    assert "regression" in text and "bench_ingest.time_remux" in text
    assert f'compare/{page.name}' in (fresh_project.html_dir / "perfwatch" / "index.html").read_text()


def test_cli_publish_writes_asv_site_by_default(fresh_project: AsvProject,
                                                capsys: object) -> None:
    (fresh_project.html_dir / "index.json").unlink()
    assert main(["publish", "--config", str(fresh_project.config), "--quiet"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "asv site: 6 graphs;" in out and "asv publish not run" in out
    assert (fresh_project.html_dir / "index.json").is_file()


def test_cli_publish_modes_exclusive(fresh_project: AsvProject) -> None:
    with pytest.raises(SystemExit):
        main(["publish", "--config", str(fresh_project.config), "--no-asv", "--asv-publish"])


def test_cli_publish_bad_config(tmp_path: Path, capsys: object) -> None:
    bad = tmp_path / "asv.conf.json"
    bad.write_text('{"version": 1, "results_dir": "r"}')
    assert main(["publish", "--config", str(bad)]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "no 'repo' given" in err and "add \"repo\"" in err


def test_asv_failure_keeps_perfwatch_pages(fresh_project: AsvProject) -> None:
    from perfwatch.adapters.asv_publish import run_asv_publish
    from perfwatch.errors import ResultsError

    benchmarks = fresh_project.results_dir / "benchmarks.json"
    benchmarks.write_text("{not json")  # asv publish cannot load it
    config = load_asv_config(fresh_project.config)
    with pytest.raises(ResultsError, match="asv publish failed") as err:
        run_asv_publish(config)
    assert "asv publish --config" in err.value.hint
    kept = fresh_project.html_dir / "perfwatch"
    assert (kept / "index.html").is_file() and (kept / "profiles").is_dir()
    assert not (fresh_project.root / ".html.perfwatch-aside").exists()


def test_interrupted_run_recovers_the_set_aside_pages(fresh_project: AsvProject) -> None:
    from perfwatch.adapters.asv_publish import run_asv_publish

    aside = fresh_project.root / ".html.perfwatch-aside"
    (fresh_project.html_dir / "perfwatch").rename(aside)  # as a killed run leaves it
    run_asv_publish(load_asv_config(fresh_project.config))
    assert not aside.exists()
    assert (fresh_project.html_dir / "perfwatch" / "profiles").is_dir()


def test_no_asv_after_hand_run_asv_publish_localises_asv_page(fresh_project: AsvProject) -> None:
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "asv", "publish", "--config",
                    str(fresh_project.config)], cwd=fresh_project.root, check=True,
                   capture_output=True)
    index = fresh_project.html_dir / "index.html"
    assert re.findall(r'<script\b[^>]*src="https?:', index.read_text())  # asv's CDN links
    publish(load_asv_config(fresh_project.config), options=PublishOptions(seed=1, site="none"))
    assert not re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="https?:', index.read_text())
