"""plotly figures for the dashboard. Pure: values in, plotly's JSON structure out.

- :func:`series_spec`: one series over commits: every raw sample, the median per commit,
  the level of each segment between change points with its confidence band, and a
  marker per change point that links to the commit.
- :func:`profiles_spec`: one benchmark on several hardware profiles, side by side.
- :func:`effect_spec` / :func:`distribution_spec`: a PR comparison: the effect with
  its interval per series, and base against head samples of one series.

The specs are plain plotly JSON (``{"data": [...], "layout": {...}}``), which the pages
embed directly: an order of magnitude faster than building and serialising a validated
``Figure`` for hundreds of series. The series and hardware figures leave out their
per-commit points: the page takes them from the series' data file when it loads
(:class:`ShellFigure`, :mod:`perfwatch.report.series_data`), so a page does not grow with
the history. The ``*_figure`` functions wrap a spec in a validated ``Figure`` (plotly is
imported only there: publishing does not need it).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from perfwatch.model import Change, Commit, Comparison, FloatArray, Verdict
from perfwatch.report.levels import Segment
from perfwatch.report.units import Scale, scale_for
from perfwatch.stats.levels import fast_median

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["ChangeMark", "FigureSpec", "Fill", "Outline", "ShellFigure", "distribution_figure",
           "distribution_spec", "effect_figure", "effect_spec", "profiles_figure",
           "profiles_spec", "series_figure", "series_spec", "template", "template_json"]

FigureSpec = dict[str, Any]  # plotly's JSON structure: {"data": [...], "layout": {...}}

REGRESSION_COLOR = "#c0392b"
IMPROVEMENT_COLOR = "#1e8449"
LEVEL_COLOR = "#1f4e79"
SAMPLE_COLOR = "rgba(90, 90, 90, 0.45)"
# plotly.js knows no template names: a page carries the template itself. A copy of
# plotly's "plotly_white" (a test compares it with the installed plotly's).
_TEMPLATE_FILE = Path(__file__).parent / "assets" / "plotly_white.json"
_VERDICT_COLORS = {Verdict.REGRESSION: REGRESSION_COLOR, Verdict.IMPROVEMENT: IMPROVEMENT_COLOR,
                   Verdict.UNSURE: "#d68910", Verdict.NO_CHANGE: "#7f8c8d"}


@dataclass(frozen=True)
class ChangeMark:
    """A change point as drawn: the change and the URL of its commit."""

    change: Change
    url: str


@functools.cache
def template_json() -> str:
    """plotly's "plotly_white" template as JSON."""
    return _TEMPLATE_FILE.read_text(encoding="utf-8").strip()


def template() -> dict[str, Any]:
    return dict(json.loads(template_json()))


def _spec(data: list[dict[str, Any]], layout: dict[str, Any]) -> FigureSpec:
    return {"data": data, "layout": layout}


@dataclass(frozen=True)
class Outline:
    """A series as its figure needs it, without the per-commit points (those are in its
    data file, :mod:`perfwatch.report.series_data`, which the page loads)."""

    unit: str
    commits: Sequence[Commit]  # oldest first
    medians: FloatArray  # per commit; NaN: no result
    segs: Sequence[Segment]
    data: str  # key of the data file


@dataclass(frozen=True)
class Fill:
    """A trace whose points the page takes from a data file when it loads."""

    trace: int  # index in the figure's data
    data: str  # key of the data file
    kind: str  # "samples" (every raw sample) | "medians" (median per commit, with hover text)
    factor: float  # values are divided by it (the figure's scale)
    axis: str  # the x axis (layout key) whose categories are the data file's commits


@dataclass(frozen=True)
class ShellFigure:
    """A figure without its per-commit points, and where the page finds them."""

    spec: FigureSpec  # plotly's JSON structure, without the template
    fills: tuple[Fill, ...]


def _typical(medians: FloatArray) -> float:
    """The median of the finite per-commit medians (NaN when there are none)."""
    finite = medians[np.isfinite(medians)]
    return fast_median(finite) if finite.size else float("nan")


def _sample_trace(scale: Scale) -> dict[str, Any]:
    return {"type": "scatter", "x": [], "y": [], "mode": "markers", "name": "samples",
            "marker": {"color": SAMPLE_COLOR, "size": 4},
            # no per-sample text (it would triple the page): date and message are on the median
            "hovertemplate": f"commit %{{x}}<br>sample: %{{y:.4g}} {scale.label}<extra></extra>"}


def _median_trace(scale: Scale) -> dict[str, Any]:
    return {"type": "scatter", "x": [], "y": [], "text": [], "mode": "lines+markers",
            "name": "median per commit", "line": {"color": "rgba(31,78,121,0.35)", "width": 1},
            "marker": {"size": 3, "color": "rgba(31,78,121,0.6)"},
            "hovertemplate": f"%{{text}}<br>median: %{{y:.4g}} {scale.label}<extra></extra>"}


def _measured_ends(finite: npt.NDArray[np.bool_], seg: Segment) -> tuple[int, int]:
    """First and last commit of ``seg`` with a result (its ends when it has none)."""
    inside = np.flatnonzero(finite[seg.start:seg.stop])
    if not inside.size:
        return seg.start, seg.stop - 1
    return seg.start + int(inside[0]), seg.start + int(inside[-1])


def _segment_traces(o: Outline, scale: Scale) -> list[dict[str, Any]]:
    finite = np.isfinite(o.medians)
    out: list[dict[str, Any]] = []
    for k, seg in enumerate(o.segs):
        first, last = _measured_ends(finite, seg)
        a, b = o.commits[first].short, o.commits[last].short
        lo, hi, lvl = scale(seg.low), scale(seg.high), scale(seg.level)
        text = (f"level {lvl:.4g} {scale.label} (95% CI {lo:.4g} – {hi:.4g})"
                f"<br>commits {a} … {b}, {seg.n_commits} measured")
        out.append({"type": "scatter", "x": [a, b, b, a, a], "y": [lo, lo, hi, hi, lo],
                    "fill": "toself", "mode": "lines", "line": {"width": 0},
                    "fillcolor": "rgba(31,78,121,0.15)", "hoverinfo": "skip",
                    "legendgroup": "levels", "showlegend": False, "name": "level band"})
        out.append({"type": "scatter", "x": [a, b], "y": [lvl, lvl], "mode": "lines",
                    "line": {"color": LEVEL_COLOR, "width": 3}, "legendgroup": "levels",
                    "name": "level (95% CI band)", "showlegend": k == 0,
                    "hovertext": [text, text], "hoverinfo": "text"})
    return out


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def _color(change: Change) -> str:
    return REGRESSION_COLOR if change.direction == "regression" else IMPROVEMENT_COLOR


def _mark_trace(o: Outline, marks: Sequence[ChangeMark], scale: Scale,
                typical: float) -> dict[str, Any]:
    level_at = {seg.start: seg.level for seg in o.segs}
    xs, ys, texts = [], [], []
    for m in marks:
        c = m.change
        xs.append(o.commits[c.index].short)
        ys.append(scale(level_at.get(c.index, typical)))
        texts.append(f"<b>{c.direction} {_pct(c.rel_change)}</b> (95% CI {_pct(c.ci[0])} … "
                     f"{_pct(c.ci[1])})<br>at commit {c.commit[:8]} (after {c.previous_commit[:8]})"
                     "<br>click to open the commit")
    return {"type": "scatter", "x": xs, "y": ys, "mode": "markers", "name": "change point",
            "marker": {"symbol": "diamond", "size": 14, "color": [_color(m.change) for m in marks],
                       "line": {"color": "white", "width": 1}},
            "hovertext": texts, "hoverinfo": "text", "customdata": [m.url for m in marks]}


def _annotations(o: Outline, marks: Sequence[ChangeMark]) -> list[dict[str, Any]]:
    return [{"x": o.commits[m.change.index].short, "y": 1.0, "yref": "paper",
             "yanchor": "bottom", "showarrow": False,
             "text": f'<a href="{m.url}">{_pct(m.change.rel_change)} at {m.change.commit[:8]}</a>',
             "font": {"color": _color(m.change), "size": 13}}
            for m in marks]


def _shapes(o: Outline, marks: Sequence[ChangeMark]) -> list[dict[str, Any]]:
    return [{"type": "line", "x0": o.commits[m.change.index].short,
             "x1": o.commits[m.change.index].short, "y0": 0, "y1": 1, "yref": "paper",
             "line": {"dash": "dot", "width": 1.5, "color": _color(m.change)}}
            for m in marks]


def series_spec(outline: Outline, marks: Sequence[ChangeMark], *, title: str) -> ShellFigure:
    """The history of one series: samples and medians (from the data file), levels with
    bands, change points. Axis categories (commits) come from the data file too."""
    o = outline
    typical = _typical(o.medians)
    scale = scale_for(o.unit, typical)
    data = [_sample_trace(scale), _median_trace(scale), *_segment_traces(o, scale)]
    if marks:
        data.append(_mark_trace(o, marks, scale, typical))
    layout = {
        "title": {"text": title, "x": 0.01, "xanchor": "left"},
        "xaxis": {"title": {"text": "commit (oldest → newest)"}, "type": "category",
                  "categoryorder": "array", "categoryarray": [], "nticks": 20,
                  "automargin": True},
        "yaxis": {"title": {"text": f"{o.unit} ({scale.label})"}, "rangemode": "tozero"},
        "shapes": _shapes(o, marks), "annotations": _annotations(o, marks),
        "hovermode": "closest", "height": 520,
        "legend": {"orientation": "h", "y": -0.3}, "margin": {"t": 90, "l": 70, "r": 20, "b": 120},
    }
    fills = (Fill(0, o.data, "samples", scale.factor, "xaxis"),
             Fill(1, o.data, "medians", scale.factor, "xaxis"))
    return ShellFigure(_spec(data, layout), fills)


def _figure(shell: ShellFigure) -> go.Figure:
    import plotly.graph_objects as go  # (publishing needs no validation)

    return go.Figure({**shell.spec, "layout": {**shell.spec["layout"], "template": template()}})


def series_figure(outline: Outline, marks: Sequence[ChangeMark], *, title: str) -> go.Figure:
    """:func:`series_spec` as a validated Figure (without the data file's points)."""
    return _figure(series_spec(outline, marks, title=title))


def _axis_suffix(col: int) -> str:
    return "" if col == 1 else str(col)


def profiles_spec(by_machine: Mapping[str, Outline], subtitles: Mapping[str, str], *,
                  title: str) -> ShellFigure:
    """One benchmark on each hardware profile, in columns, each with its own axes."""
    names = sorted(by_machine)
    n, gap = max(1, len(names)), 0.06
    width = (1.0 - gap * (n - 1)) / n
    data: list[dict[str, Any]] = []
    fills: list[Fill] = []
    layout: dict[str, Any] = {"title": {"text": title, "x": 0.01},
                              "height": 440, "showlegend": False, "annotations": [],
                              "margin": {"t": 100, "l": 60, "r": 20, "b": 60}}
    for col, name in enumerate(names, start=1):
        o, k = by_machine[name], _axis_suffix(col)
        scale = scale_for(o.unit, _typical(o.medians))
        fills.append(Fill(len(data), o.data, "medians", scale.factor, f"xaxis{k}"))
        for trace in (_median_trace(scale), *_segment_traces(o, scale)):
            data.append({**trace, "xaxis": f"x{k}", "yaxis": f"y{k}", "showlegend": False})
        x0 = (col - 1) * (width + gap)
        layout[f"xaxis{k}"] = {"domain": [x0, x0 + width], "anchor": f"y{k}", "type": "category",
                               "categoryorder": "array", "categoryarray": [], "nticks": 8}
        layout[f"yaxis{k}"] = {"anchor": f"x{k}", "rangemode": "tozero",
                               "title": {"text": f"{o.unit} ({scale.label})"}}
        layout["annotations"].append({
            "text": f"<b>{name}</b>: {subtitles.get(name, 'no change point')}", "x": x0 + width / 2,
            "y": 1.02, "xref": "paper", "yref": "paper", "showarrow": False,
            "xanchor": "center", "yanchor": "bottom"})
    return ShellFigure(_spec(data, layout), tuple(fills))


def profiles_figure(by_machine: Mapping[str, Outline], subtitles: Mapping[str, str], *,
                    title: str) -> go.Figure:
    return _figure(profiles_spec(by_machine, subtitles, title=title))


def effect_spec(comparisons: Sequence[Comparison], *, title: str) -> FigureSpec:
    """Relative change head/base - 1 with its interval, one row per series."""
    rows = list(reversed(comparisons))
    labels = [f"{c.key.label} @ {c.key.machine}" for c in rows]
    mid = [100 * c.rel_change for c in rows]
    data = [{"type": "scatter", "x": mid, "y": labels, "mode": "markers", "name": "effect",
             "marker": {"size": 10, "color": [_VERDICT_COLORS[c.verdict] for c in rows]},
             "error_x": {"type": "data", "symmetric": False,
                         "array": [100 * c.ci[1] - m for c, m in zip(rows, mid, strict=True)],
                         "arrayminus": [m - 100 * c.ci[0] for c, m in zip(rows, mid, strict=True)]},
             "hovertext": [f"{lab}<br>{c.verdict.value}: {_pct(c.rel_change)} (95% CI "
                           f"{_pct(c.ci[0])} … {_pct(c.ci[1])}), q = {c.qvalue:.2g}"
                           for lab, c in zip(labels, rows, strict=True)], "hoverinfo": "text"}]
    layout = {"title": {"text": title, "x": 0.01}, "template": template(),
              "xaxis": {"title": {"text": "head vs base (%)"}, "zeroline": True},
              "shapes": [{"type": "line", "x0": 0, "x1": 0, "y0": 0, "y1": 1, "yref": "paper",
                          "line": {"color": "#555", "width": 1}}],
              "height": max(260, 40 + 28 * len(rows)),
              "margin": {"l": 320, "t": 60, "r": 20, "b": 50}}
    return _spec(data, layout)


def effect_figure(comparisons: Sequence[Comparison], *, title: str) -> go.Figure:
    import plotly.graph_objects as go

    return go.Figure(effect_spec(comparisons, title=title))


def distribution_spec(comparison: Comparison, base: FloatArray, head: FloatArray) -> FigureSpec:
    """Base against head samples of one series (box with every sample shown)."""
    scale = scale_for(comparison.unit, float(np.median(base)) if base.size else float("nan"))
    data = [{"type": "box", "y": (np.asarray(v) / scale.factor).tolist(), "name": name,
             "boxpoints": "all", "jitter": 0.4, "pointpos": 0,
             "marker": {"size": 5, "color": color}, "line": {"color": color}}
            for name, v, color in (("base", base, "#7f8c8d"),
                                   ("head", head, _VERDICT_COLORS[comparison.verdict]))]
    layout = {"title": {"text": f"{comparison.key.label} @ {comparison.key.machine}: "
                        f"{comparison.verdict.value} {_pct(comparison.rel_change)}", "x": 0.01},
              "yaxis": {"title": {"text": f"{comparison.unit} ({scale.label})"}},
              "template": template(), "height": 360, "showlegend": False,
              "margin": {"t": 60, "l": 70, "r": 20, "b": 40}}
    return _spec(data, layout)


def distribution_figure(comparison: Comparison, base: FloatArray, head: FloatArray) -> go.Figure:
    import plotly.graph_objects as go

    return go.Figure(distribution_spec(comparison, base, head))
