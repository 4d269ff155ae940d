"""Pure rendering: segment levels, units, plotly figures and HTML pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from perfwatch.model import Change, Commit, Comparison, Direction, Series, SeriesKey, Verdict
from perfwatch.report import pages, plots
from perfwatch.report.levels import commit_medians, median_interval, segments
from perfwatch.report.units import format_value, scale_for

T0 = datetime(2026, 1, 5, tzinfo=UTC)
URL = "https://github.com/example/nvr/commit/"


def _series(rng: np.random.Generator, n: int = 30, at: int = 15, factor: float = 1.3,
            gaps: tuple[int, ...] = (4,)) -> Series:
    commits = tuple(Commit(f"{i:040x}", T0 + timedelta(hours=i), f"change {i}") for i in range(n))
    samples = tuple(np.empty(0) if i in gaps else
                    1e-3 * (factor if i >= at else 1.0) * (1 + 0.01 * rng.standard_normal(5))
                    for i in range(n))
    key = SeriesKey("bench.time_x", ("10",), "ci-box")
    return Series(key, "seconds", Direction.LOWER_IS_BETTER, commits, samples)


def _change(s: Series, at: int = 15) -> Change:
    return Change(key=s.key, unit="seconds", commit=s.commits[at].sha,
                  previous_commit=s.commits[at - 1].sha, direction="regression",
                  rel_change=0.3, ci=(0.28, 0.32), pvalue=1e-9, qvalue=1e-8, index=at)


def test_median_interval_covers_the_median(rng: np.random.Generator) -> None:
    hits = sum(lo <= 0.0 <= hi for lo, hi in
               (median_interval(rng.standard_normal(25)) for _ in range(2000)))
    assert 0.93 < hits / 2000 < 0.99  # order-statistic interval: at least 95 %, not much more
    assert median_interval(np.array([3.0, 1.0, 2.0])) == (1.0, 3.0)  # too few: the range


def test_segments_split_at_changes(rng: np.random.Generator) -> None:
    s = _series(rng)
    first, second = segments(s, [15])
    assert (first.start, first.stop, second.start, second.stop) == (0, 15, 15, 30)
    assert first.n_commits == 14  # commit 4 is a gap
    assert first.low < first.level < first.high and abs(first.level / 1e-3 - 1) < 0.01
    assert abs(second.level / first.level - 1.3) < 0.02
    assert [g.stop for g in segments(s, [])] == [30]


def test_units() -> None:
    assert scale_for("seconds", 0.0021).label == "ms"
    assert scale_for("seconds", 3e-7).label == "ns"
    assert scale_for("bytes", 5 * 2**20).label == "MiB"
    assert scale_for("fps", 30).label == "fps"
    assert format_value(0.0123, "seconds") == "12.3 ms"
    assert format_value(float("nan"), "seconds") == "n/a"


def _outline(s: Series, changes: list[int], data: str = "d") -> plots.Outline:
    return plots.Outline(s.unit, s.commits, commit_medians(s), segments(s, changes), data)


def test_series_figure_draws_samples_levels_and_linked_change(rng: np.random.Generator) -> None:
    s = _series(rng)
    change = _change(s)
    shell = plots.series_spec(_outline(s, [15]), [plots.ChangeMark(change, URL + change.commit)],
                              title="t")
    fig = plots.series_figure(_outline(s, [15]), [plots.ChangeMark(change, URL + change.commit)],
                              title="t")  # the same spec, validated by plotly
    names = [t.name for t in fig.data]
    assert names == [t["name"] for t in shell.spec["data"]]
    assert names[:2] == ["samples", "median per commit"] and names[-1] == "change point"
    assert names.count("level (95% CI band)") == 2 and names.count("level band") == 2
    # samples and medians come from the data file "d" when the page loads, shown in ms
    assert [(f.trace, f.data, f.kind, f.factor, f.axis) for f in shell.fills] == [
        (0, "d", "samples", 1e-3, "xaxis"), (1, "d", "medians", 1e-3, "xaxis")]
    assert len(fig.data[0].y) == 0 and "ms" in fig.data[1].hovertemplate
    level = fig.data[3]
    assert level.x == (s.commits[0].short, s.commits[14].short)
    assert 0.99 < level.y[0] < 1.01  # the level in ms
    mark = fig.data[-1]
    assert list(mark.customdata) == [URL + change.commit]
    assert mark.x[0] == s.commits[15].short and "+30.0%" in mark.hovertext[0]
    assert URL + change.commit in fig.layout.annotations[0].text
    assert fig.layout.yaxis.title.text == "seconds (ms)"


def test_profiles_and_comparison_figures(rng: np.random.Generator) -> None:
    a, b = _series(rng), _series(rng, factor=1.0)
    outlines = {"ci-box": _outline(a, [15], "a"), "gpu-box": _outline(b, [], "b")}
    fig = plots.profiles_figure(outlines, {"ci-box": "regression +30.0% at 0000000f"}, title="t")
    shell = plots.profiles_spec(outlines, {}, title="t")
    assert [(f.data, f.kind, f.axis) for f in shell.fills] == [("a", "medians", "xaxis"),
                                                                ("b", "medians", "xaxis2")]
    assert {t.xaxis for t in fig.data} == {"x", "x2"}
    assert fig.layout.xaxis.domain[1] < fig.layout.xaxis2.domain[0]
    assert [a.text for a in fig.layout.annotations] == [
        "<b>ci-box</b>: regression +30.0% at 0000000f", "<b>gpu-box</b>: no change point"]
    comp = Comparison(key=a.key, unit="seconds", direction=Direction.LOWER_IS_BETTER,
                      verdict=Verdict.REGRESSION, rel_change=0.3, ci=(0.25, 0.35), pvalue=1e-4,
                      qvalue=1e-3, n_base=5, n_head=5, base_median=1e-3, head_median=1.3e-3)
    eff = plots.effect_figure([comp], title="e")
    assert eff.data[0].x[0] == pytest.approx(30.0)
    assert eff.data[0].error_x.array[0] == pytest.approx(5.0)
    dist = plots.distribution_figure(comp, a.samples[0], a.samples[20])
    assert [t.name for t in dist.data] == ["base", "head"]


def test_overview_newest_first_escaped_and_filterable(rng: np.random.Generator) -> None:
    s = _series(rng)
    old, new = _change(s, 10), _change(s, 20)
    bad = SeriesKey("bench.<script>alert(1)</script>", None, "gpu-box")
    findings = [pages.Finding(old, T0, "old", "series/a.html", URL + old.commit),
                pages.Finding(new, T0 + timedelta(days=1), "new", "series/a.html", URL),
                pages.Finding(Change(bad, "s", "a" * 40, "b" * 40, "improvement", -0.2,
                                     (-0.3, -0.1), 0.001), T0, "x", "series/b.html", URL)]
    html = pages.overview_page(findings, project="nvr", machines=["ci-box", "gpu-box"],
                               n_series=3, n_commits=30)
    assert html.index(new.commit) < html.index(old.commit)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert 'id="machine"' in html and 'id="direction"' in html and "pwFilter" in html
    assert "2 regressions and 1 improvements" in html
    assert "http" not in html.replace(URL, "")  # nothing remote but the commit links


def test_series_page_headline_says_where_and_how_much(rng: np.random.Generator) -> None:
    s = _series(rng)
    change = _change(s)
    fig = plots.series_spec(_outline(s, [15]), [plots.ChangeMark(change, URL)], title="t</script>")
    html = pages.series_page(fig, data=[pages.DataFile("d", "data/d.js?n=30")], title="bench",
                             n_commits=29, links=[], headlines=[
                                 pages.Headline(change, "1.000 ms", "1.300 ms", T0,
                                                URL + change.commit)])
    assert "Regression +30.0%" in html and "+28.0% … +32.0%" in html
    assert f'href="{URL + change.commit}"' in html and "1.000 ms → 1.300 ms" in html
    assert '<script src="../static/plotly.min.js">' in html
    assert '<script data-pw="d" src="data/d.js?n=30"></script>' in html
    assert "</script>" not in html.split("var f=")[1].split(";pwDraw(")[0]
