"""plotly figures for the dashboard. Pure: values in, :class:`plotly.graph_objects.Figure` out.

- :func:`series_figure`: one series over commits: every raw sample, the median per commit,
  the level of each segment between change points with its confidence band, and a
  marker per change point that links to the commit.
- :func:`profiles_figure`: one benchmark on several hardware profiles, side by side.
- :func:`effect_figure` / :func:`distribution_figure`: a PR comparison: the effect with
  its interval per series, and base against head samples of one series.

Each figure also exists as a ``*_spec`` function returning the plain plotly JSON
structure (``{"data": [...], "layout": {...}}``): the pages embed that directly, which is
an order of magnitude faster than building and serialising a validated ``Figure`` for
hundreds of series. The ``*_figure`` functions wrap the same spec in a validated Figure.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from perfwatch.model import Change, Commit, Comparison, FloatArray, Series, Verdict
from perfwatch.report.levels import Segment, commit_medians
from perfwatch.report.units import Scale, scale_for

__all__ = ["ChangeMark", "FigureSpec", "distribution_figure", "distribution_spec",
           "effect_figure", "effect_spec", "profiles_figure", "profiles_spec", "series_figure",
           "series_spec"]

FigureSpec = dict[str, Any]  # plotly's JSON structure: {"data": [...], "layout": {...}}

REGRESSION_COLOR = "#c0392b"
IMPROVEMENT_COLOR = "#1e8449"
LEVEL_COLOR = "#1f4e79"
SAMPLE_COLOR = "rgba(90, 90, 90, 0.45)"
# plotly.js knows no template names: the spec carries the template itself.
_TEMPLATE: dict[str, Any] = pio.templates["plotly_white"].to_plotly_json()
_VERDICT_COLORS = {Verdict.REGRESSION: REGRESSION_COLOR, Verdict.IMPROVEMENT: IMPROVEMENT_COLOR,
                   Verdict.UNSURE: "#d68910", Verdict.NO_CHANGE: "#7f8c8d"}


@dataclass(frozen=True)
class ChangeMark:
    """A change point as drawn: the change and the URL of its commit."""

    change: Change
    url: str


def _spec(data: list[dict[str, Any]], layout: dict[str, Any]) -> FigureSpec:
    return {"data": data, "layout": layout}


# The series of one history share one commits tuple: labels and hover text are made once
# per tuple (keyed by identity; hashing 300 Commit values per call costs more than that).
_PER_COMMITS: dict[int, tuple[tuple[Commit, ...], list[str], list[str]]] = {}


def _per_commits(commits: tuple[Commit, ...]) -> tuple[list[str], list[str]]:
    hit = _PER_COMMITS.get(id(commits))
    if hit is None or hit[0] is not commits:
        if len(_PER_COMMITS) >= 64:
            _PER_COMMITS.clear()
        hit = (commits, [c.short for c in commits], [_commit_hover(c) for c in commits])
        _PER_COMMITS[id(commits)] = hit
    return hit[1], hit[2]


def _commit_labels(series: Series) -> list[str]:
    return list(_per_commits(series.commits)[0])


@functools.lru_cache(maxsize=4096)
def _commit_hover(commit: Commit) -> str:  # the series of one suite share their commits
    summary = f"<br>{commit.summary[:60]}" if commit.summary else ""
    return f"commit {commit.short} · {commit.date:%Y-%m-%d %H:%M}{summary}"


def _hover(series: Series) -> list[str]:
    return list(_per_commits(series.commits)[1])


def _sample_trace(series: Series, scale: Scale) -> dict[str, Any]:
    sizes = [int(s.size) for s in series.samples]
    values = [s for s in series.samples if s.size]
    ys = (np.concatenate(values) / scale.factor).tolist() if values else []
    return {"type": "scatter", "x": np.repeat(_commit_labels(series), sizes).tolist(), "y": ys,
            "mode": "markers", "name": "samples", "marker": {"color": SAMPLE_COLOR, "size": 4},
            # no per-sample text (it would triple the page): date and message are on the median
            "hovertemplate": f"commit %{{x}}<br>sample: %{{y:.4g}} {scale.label}<extra></extra>"}


def _median_trace(series: Series, scale: Scale) -> dict[str, Any]:
    med = commit_medians(series)
    keep = np.isfinite(med)
    labels = np.array(_commit_labels(series), dtype=object)[keep]
    hover = np.array(_hover(series), dtype=object)[keep]
    vals = med[keep] / scale.factor
    return {"type": "scatter", "x": list(labels), "y": vals.tolist(), "mode": "lines+markers",
                "name": "median per commit", "line": {"color": "rgba(31,78,121,0.35)", "width": 1},
                "marker": {"size": 3, "color": "rgba(31,78,121,0.6)"},
                "hovertext": [f"{h}<br>median: {v:.4g} {scale.label}" for h, v in zip(hover, vals)],
                "hoverinfo": "text"}


def _last_measured(series: Series, seg: Segment) -> int:
    return max(i for i in range(seg.start, seg.stop) if series.samples[i].size)


def _first_measured(series: Series, seg: Segment) -> int:
    return min(i for i in range(seg.start, seg.stop) if series.samples[i].size)


def _segment_traces(series: Series, segs: Sequence[Segment], scale: Scale) -> list[dict[str, Any]]:
    labels = _commit_labels(series)
    out: list[dict[str, Any]] = []
    for k, seg in enumerate(segs):
        a, b = labels[_first_measured(series, seg)], labels[_last_measured(series, seg)]
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


def _mark_trace(series: Series, marks: Sequence[ChangeMark], segs: Sequence[Segment],
                scale: Scale) -> dict[str, Any]:
    labels = _commit_labels(series)
    level_at = {seg.start: seg.level for seg in segs}
    xs, ys, texts, urls, colors = [], [], [], [], []
    for m in marks:
        c = m.change
        xs.append(labels[c.index])
        ys.append(scale(level_at.get(c.index, float(np.nanmedian(commit_medians(series))))))
        texts.append(f"<b>{c.direction} {_pct(c.rel_change)}</b> (95% CI {_pct(c.ci[0])} … "
                     f"{_pct(c.ci[1])})<br>at commit {c.commit[:8]} (after {c.previous_commit[:8]})"
                     "<br>click to open the commit")
        urls.append(m.url)
        colors.append(REGRESSION_COLOR if c.direction == "regression" else IMPROVEMENT_COLOR)
    return {"type": "scatter", "x": xs, "y": ys, "mode": "markers", "name": "change point",
                "marker": {"symbol": "diamond", "size": 14, "color": colors,
                            "line": {"color": "white", "width": 1}},
                "hovertext": texts, "hoverinfo": "text", "customdata": urls}


def _annotations(series: Series, marks: Sequence[ChangeMark]) -> list[dict[str, Any]]:
    labels = _commit_labels(series)
    return [{"x": labels[m.change.index], "y": 1.0, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                 "text": f'<a href="{m.url}">{_pct(m.change.rel_change)} at {m.change.commit[:8]}</a>',
                 "font": {"color": REGRESSION_COLOR if m.change.direction == "regression"
                           else IMPROVEMENT_COLOR, "size": 13}}
            for m in marks]


def _shapes(series: Series, marks: Sequence[ChangeMark]) -> list[dict[str, Any]]:
    labels = _commit_labels(series)
    return [{"type": "line", "x0": labels[m.change.index], "x1": labels[m.change.index], "y0": 0, "y1": 1,
                 "yref": "paper", "line": {"dash": "dot", "width": 1.5, "color": REGRESSION_COLOR
                                         if m.change.direction == "regression"
                                         else IMPROVEMENT_COLOR}}
            for m in marks]


def _typical(series: Series) -> float:
    med = commit_medians(series)
    med = med[np.isfinite(med)]
    return float(np.median(med)) if med.size else float("nan")


def series_spec(series: Series, marks: Sequence[ChangeMark], segs: Sequence[Segment], *,
                title: str) -> FigureSpec:
    """The history of one series: samples, medians, levels with bands, change points."""
    scale = scale_for(series.unit, _typical(series))
    data = [_sample_trace(series, scale), _median_trace(series, scale),
            *_segment_traces(series, segs, scale)]
    if marks:
        data.append(_mark_trace(series, marks, segs, scale))
    layout = {
        "title": {"text": title, "x": 0.01, "xanchor": "left"},
        "xaxis": {"title": {"text": "commit (oldest → newest)"}, "type": "category",
                  "categoryorder": "array", "categoryarray": _commit_labels(series), "nticks": 20,
                  "automargin": True},
        "yaxis": {"title": {"text": f"{series.unit} ({scale.label})"}, "rangemode": "tozero"},
        "shapes": _shapes(series, marks), "annotations": _annotations(series, marks),
        "hovermode": "closest", "template": _TEMPLATE, "height": 520,
        "legend": {"orientation": "h", "y": -0.3}, "margin": {"t": 90, "l": 70, "r": 20, "b": 120},
    }
    return _spec(data, layout)


def series_figure(series: Series, marks: Sequence[ChangeMark], segs: Sequence[Segment], *,
                  title: str) -> go.Figure:
    return go.Figure(series_spec(series, marks, segs, title=title))


def _axis_suffix(col: int) -> str:
    return "" if col == 1 else str(col)


def profiles_spec(by_machine: Mapping[str, Series], segs: Mapping[str, Sequence[Segment]],
                  subtitles: Mapping[str, str], *, title: str) -> FigureSpec:
    """One benchmark on each hardware profile, in columns, each with its own axes."""
    names = sorted(by_machine)
    n, gap = max(1, len(names)), 0.06
    width = (1.0 - gap * (n - 1)) / n
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"title": {"text": title, "x": 0.01}, "template": _TEMPLATE,
                              "height": 440, "showlegend": False, "annotations": [],
                              "margin": {"t": 100, "l": 60, "r": 20, "b": 60}}
    for col, name in enumerate(names, start=1):
        s, k = by_machine[name], _axis_suffix(col)
        scale = scale_for(s.unit, _typical(s))
        for trace in (_median_trace(s, scale), *_segment_traces(s, segs.get(name, ()), scale)):
            data.append({**trace, "xaxis": f"x{k}", "yaxis": f"y{k}", "showlegend": False})
        x0 = (col - 1) * (width + gap)
        layout[f"xaxis{k}"] = {"domain": [x0, x0 + width], "anchor": f"y{k}", "type": "category",
                               "nticks": 8}
        layout[f"yaxis{k}"] = {"anchor": f"x{k}", "rangemode": "tozero",
                               "title": {"text": f"{s.unit} ({scale.label})"}}
        layout["annotations"].append({
            "text": f"<b>{name}</b>: {subtitles.get(name, 'no change point')}", "x": x0 + width / 2,
            "y": 1.02, "xref": "paper", "yref": "paper", "showarrow": False,
            "xanchor": "center", "yanchor": "bottom"})
    return _spec(data, layout)


def profiles_figure(by_machine: Mapping[str, Series], segs: Mapping[str, Sequence[Segment]],
                    subtitles: Mapping[str, str], *, title: str) -> go.Figure:
    return go.Figure(profiles_spec(by_machine, segs, subtitles, title=title))


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
    layout = {"title": {"text": title, "x": 0.01}, "template": _TEMPLATE,
              "xaxis": {"title": {"text": "head vs base (%)"}, "zeroline": True},
              "shapes": [{"type": "line", "x0": 0, "x1": 0, "y0": 0, "y1": 1, "yref": "paper",
                          "line": {"color": "#555", "width": 1}}],
              "height": max(260, 40 + 28 * len(rows)),
              "margin": {"l": 320, "t": 60, "r": 20, "b": 50}}
    return _spec(data, layout)


def effect_figure(comparisons: Sequence[Comparison], *, title: str) -> go.Figure:
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
              "template": _TEMPLATE, "height": 360, "showlegend": False,
              "margin": {"t": 60, "l": 70, "r": 20, "b": 40}}
    return _spec(data, layout)


def distribution_figure(comparison: Comparison, base: FloatArray, head: FloatArray) -> go.Figure:
    return go.Figure(distribution_spec(comparison, base, head))
