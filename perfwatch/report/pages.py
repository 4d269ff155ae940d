"""perfwatch's dashboard pages as HTML strings. Pure: values and figures in, text out.

Every page is a static file that works from ``file://``: figures are inlined as JSON and
drawn by the local ``static/plotly.min.js``; nothing is fetched from another host.
``root`` is the relative path from a page to ``html_dir/perfwatch/``.

Series and hardware pages are shells: their per-commit points live in the series' data
files (:mod:`perfwatch.report.series_data`), loaded with ``<script src>`` (no fetch, so
``file://`` works) before the figure is drawn. Each ``src`` carries the number of commits
(``?n=300``), so a reloaded page does not take a stale data file from the browser's cache.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from perfwatch.model import Change, Comparison
from perfwatch.report.plots import FigureSpec, ShellFigure, template_json

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["DataFile", "Finding", "Headline", "Link", "comparison_page", "figure_html",
           "overview_page", "profiles_page", "series_page", "shell_figure_html"]

PLOTLY_JS = "static/plotly.min.js"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222}
header{background:#1f4e79;color:#fff;padding:10px 20px}
header a{color:#dde8f3;margin-right:16px} main{padding:16px 20px;max-width:1400px}
h1{font-size:1.4em;margin:0} h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border-bottom:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7} tr:hover td{background:#fafbfc}
.regression{color:#c0392b;font-weight:600} .improvement{color:#1e8449;font-weight:600}
.unsure{color:#d68910;font-weight:600} .muted{color:#777}
.headline{font-size:1.25em;margin:10px 0;padding:10px 14px;border-left:6px solid #888;
background:#f7f7f7} .headline.regression{border-color:#c0392b}
.headline.improvement{border-color:#1e8449} .filters{margin:10px 0} .filters *{margin-right:10px}
code{font-size:.95em} .plot{width:100%}
"""

_FILTER_JS = """
function pwFilter(){var q=document.getElementById('q').value.toLowerCase(),
m=document.getElementById('machine').value,d=document.getElementById('direction').value,n=0;
document.querySelectorAll('#findings tbody tr').forEach(function(r){
var ok=(!q||r.dataset.text.indexOf(q)>=0)&&(!m||r.dataset.machine===m)&&(!d||r.dataset.direction===d);
r.style.display=ok?'':'none';if(ok){n++;}});
document.getElementById('shown').textContent=n;}
"""


# Draws figure f into element gd; a click on a point with a URL (a change marker) opens it.
_DRAW_JS = ("Plotly.newPlot(gd,f.data,f.layout,{responsive:true,displaylogo:false});"
            "gd.on('plotly_click',function(e){var u=e.points[0].customdata;"
            "if(typeof u==='string'&&u){window.open(u,'_blank');}});")

# Data files call pwc(row) once per commit (row: label, date, summary, median, samples);
# pwDraw puts the rows into the figure's traces and axes (see plots.Fill), then draws it.
_SHELL_JS = """
var PWD=PWD||{};
function pwc(r){var k=document.currentScript.getAttribute('data-pw');(PWD[k]=PWD[k]||[]).push(r);}
function pwFill(f,g){var rows=PWD[g.d]||[],t=f.data[g.t],x=[],y=[],s=[];
rows.forEach(function(r){if(g.k==='samples'){r[4].forEach(function(v){x.push(r[0]);
y.push(v===null?null:v/g.f);});}else if(r[3]!==null){x.push(r[0]);y.push(r[3]/g.f);
s.push('commit '+r[0]+' \u00b7 '+r[1]+(r[2]?'<br>'+r[2]:''));}});
t.x=x;t.y=y;if(g.k==='medians'){t.text=s;}
f.layout[g.a].categoryarray=rows.map(function(r){return r[0];});}
function pwDraw(id,f,fills){fills.forEach(function(g){pwFill(f,g);});
var gd=document.getElementById(id);""" + _DRAW_JS + "}\n"


@dataclass(frozen=True)
class DataFile:
    """A data file a page loads: its key (``plots.Fill.data``) and its URL."""

    key: str
    src: str


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True)
class Finding:
    """One change point as the overview lists it."""

    change: Change
    date: datetime  # date of the first commit at the new level
    summary: str  # its commit message
    series_href: str  # relative to html_dir/perfwatch/
    commit_url: str


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def _q(q: float) -> str:
    return "< 0.0001" if q < 1e-4 else f"{q:.2g}"


def _page(title: str, body: str, *, root: str, plotly: bool) -> str:
    script = f'<script src="{root}{PLOTLY_JS}"></script>' if plotly else ""
    nav = (f'<a href="{root}../index.html">asv dashboard</a>'
           f'<a href="{root}../index.html#/regressions">asv regressions</a>'
           f'<a href="{root}index.html">perfwatch overview</a>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_CSS}</style>{script}</head>"
            f"<body><header><h1>{escape(title)}</h1><nav>{nav}</nav></header>"
            f"<main>{body}</main></body></html>\n")


_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)  # specs are trees


def _json(value: object) -> str:
    return _ENCODER.encode(value).replace("</", "<\\/")


def figure_html(fig: go.Figure | FigureSpec, div_id: str) -> str:
    """A div and the script that draws ``fig`` into it; change markers open their commit."""
    if isinstance(fig, dict):  # a plain spec: plotly's own JSON structure, dumped as is
        spec = _json(fig)
    else:
        import plotly.io as pio

        spec = pio.to_json(fig, validate=False).replace("</", "<\\/")
    return (f'<div id="{div_id}" class="plot"></div><script>(function(){{'
            f"var f={spec};var gd=document.getElementById('{div_id}');"
            f"{_DRAW_JS}}})();</script>")


def shell_figure_html(fig: ShellFigure, div_id: str, data: Sequence[DataFile]) -> str:
    """The data files' scripts, a div, and the script that fills ``fig`` from them and
    draws it (with the template); change markers open their commit."""
    scripts = "".join(f'<script data-pw="{escape(d.key)}" src="{escape(d.src)}"></script>'
                      for d in data)
    fills = _json([{"t": g.trace, "d": g.data, "k": g.kind, "f": g.factor, "a": g.axis}
                   for g in fig.fills])
    return (f"<script>{_SHELL_JS}</script>{scripts}"
            f'<div id="{div_id}" class="plot"></div><script>(function(){{'
            f"var f={_json(fig.spec)};f.layout.template={template_json()};"
            f"pwDraw('{div_id}',f,{fills});}})();</script>")


def _link(link: Link) -> str:
    return f'<a href="{escape(link.href)}">{escape(link.text)}</a>'


def _finding_row(f: Finding) -> str:
    c = f.change
    text = f"{c.key.label} {c.key.machine} {c.commit} {f.summary}".lower()
    return (f'<tr data-machine="{escape(c.key.machine)}" data-direction="{c.direction}" '
            f'data-text="{escape(text)}">'
            f"<td>{f.date:%Y-%m-%d %H:%M}</td><td class=\"{c.direction}\">{c.direction}</td>"
            f'<td><a href="{escape(f.series_href)}">{escape(c.key.label)}</a></td>'
            f"<td>{escape(c.key.machine)}</td>"
            f'<td class="{c.direction}">{_pct(c.rel_change)}</td>'
            f'<td class="muted">{_pct(c.ci[0])} … {_pct(c.ci[1])}</td>'
            f'<td><a href="{escape(f.commit_url)}"><code>{c.commit[:8]}</code></a> '
            f'<span class="muted">{escape(f.summary[:60])}</span></td>'
            f"<td>{_q(c.qvalue if c.qvalue is not None else c.pvalue)}</td></tr>")


def _machine_summary(findings: Sequence[Finding], machines: Sequence[str]) -> str:
    rows = []
    for m in machines:
        mine = [f for f in findings if f.change.key.machine == m]
        reg = sum(f.change.direction == "regression" for f in mine)
        rows.append(f"<tr><td>{escape(m)}</td><td class=\"regression\">{reg}</td>"
                    f'<td class="improvement">{len(mine) - reg}</td></tr>')
    return ("<h2>Per hardware profile</h2><table><thead><tr><th>profile</th><th>regressions"
            "</th><th>improvements</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def overview_page(findings: Sequence[Finding], *, project: str, machines: Sequence[str],
                  n_series: int, n_commits: int, extra_links: Sequence[Link] = ()) -> str:
    """Regressions and improvements, newest first, filterable by text, profile, direction."""
    ordered = sorted(findings, key=lambda f: (f.date, f.change.key), reverse=True)
    options = "".join(f'<option value="{escape(m)}">{escape(m)}</option>' for m in machines)
    filters = (
        '<div class="filters"><input id="q" type="search" placeholder="filter: benchmark, '
        'commit, message" oninput="pwFilter()" size="40"><select id="machine" '
        f'onchange="pwFilter()"><option value="">all profiles</option>{options}</select>'
        '<select id="direction" onchange="pwFilter()"><option value="">regressions and '
        'improvements</option><option value="regression">regressions</option>'
        '<option value="improvement">improvements</option></select>'
        f'<span><b id="shown">{len(ordered)}</b> shown</span></div>')
    head = ("<table id=\"findings\"><thead><tr><th>date</th><th>finding</th><th>benchmark</th>"
            "<th>profile</th><th>change</th><th>95% CI</th><th>commit</th><th>q</th></tr>"
            "</thead><tbody>")
    summary = (f"<p>{sum(f.change.direction == 'regression' for f in ordered)} regressions and "
               f"{sum(f.change.direction == 'improvement' for f in ordered)} improvements in "
               f"{n_series} series over {n_commits} commits.</p>")
    links = "".join(f"<li>{_link(x)}</li>" for x in extra_links)
    body = (summary + filters + head + "".join(_finding_row(f) for f in ordered)
            + "</tbody></table>" + _machine_summary(ordered, machines)
            + (f"<h2>More</h2><ul>{links}</ul>" if links else "")
            + f"<script>{_FILTER_JS}</script>")
    return _page(f"{project}: perfwatch findings", body, root="", plotly=False)


def _headline(change: Change, before: str, after: str, date: datetime, url: str) -> str:
    return (f'<div class="headline {change.direction}"><b>{change.direction.capitalize()} '
            f"{_pct(change.rel_change)}</b> (95% CI {_pct(change.ci[0])} … {_pct(change.ci[1])})"
            f' at commit <a href="{escape(url)}"><code>{change.commit[:8]}</code></a> '
            f"({date:%Y-%m-%d}): {escape(before)} → {escape(after)}</div>")


@dataclass(frozen=True)
class Headline:
    change: Change
    before: str  # formatted level before
    after: str
    date: datetime
    url: str


def series_page(fig: ShellFigure, *, data: Sequence[DataFile], title: str,
                headlines: Sequence[Headline], n_commits: int, links: Sequence[Link]) -> str:
    """One series: what changed where (headline), the figure, links (profiles, asv, flamegraphs)."""
    if headlines:
        top = "".join(_headline(h.change, h.before, h.after, h.date, h.url) for h in headlines)
    else:
        top = (f'<div class="headline">No change point found in {n_commits} measured '
               f'commit{"" if n_commits == 1 else "s"}.</div>')
    items = "".join(f"<li>{_link(x)}</li>" for x in links)
    body = (top + shell_figure_html(fig, "series", data)
            + (f"<h2>Links</h2><ul>{items}</ul>" if items else ""))
    return _page(title, body, root="../", plotly=True)


def profiles_page(fig: ShellFigure, *, data: Sequence[DataFile], title: str,
                  links: Sequence[Link]) -> str:
    """One benchmark on every hardware profile, side by side."""
    items = "".join(f"<li>{_link(x)}</li>" for x in links)
    return _page(title, shell_figure_html(fig, "profiles", data)
                 + f"<h2>Series</h2><ul>{items}</ul>", root="../", plotly=True)


def _comparison_row(c: Comparison) -> str:
    cls = c.verdict.name.lower().replace("_", "-")
    extra = (" (too noisy to settle here)" if c.unstable
             else f" (≈{c.extra_runs} more runs)" if c.extra_runs else "")
    return (f"<tr><td>{escape(c.key.label)}</td><td>{escape(c.key.machine)}</td>"
            f'<td class="{cls}">{c.verdict.value}{extra}</td><td>{_pct(c.rel_change)}</td>'
            f'<td class="muted">{_pct(c.ci[0])} … {_pct(c.ci[1])}</td>'
            f"<td>{c.n_base} / {c.n_head}</td><td>{_q(c.qvalue)}</td></tr>")


def comparison_page(effect: go.Figure | FigureSpec,
                    distributions: Sequence[go.Figure | FigureSpec],
                    comparisons: Sequence[Comparison], *, base: str, head: str,
                    project: str) -> str:
    """A PR comparison: effects with intervals, then base vs head samples per series."""
    table = ("<table><thead><tr><th>benchmark</th><th>profile</th><th>verdict</th>"
             "<th>change</th><th>95% CI</th><th>runs base / head</th><th>q</th></tr></thead>"
             "<tbody>" + "".join(_comparison_row(c) for c in comparisons) + "</tbody></table>")
    dists = "".join(figure_html(f, f"dist{i}") for i, f in enumerate(distributions))
    body = (f"<p>base <code>{escape(base[:12])}</code> → head <code>{escape(head[:12])}</code></p>"
            + figure_html(effect, "effect") + table
            + ("<h2>Samples, base against head</h2>" + dists if dists else ""))
    return _page(f"{project}: {base[:8]} → {head[:8]}", body, root="../", plotly=True)

