"""Writing perfwatch's pages under ``html_dir/perfwatch/`` (part of the publish use case).

Rendering is pure (:mod:`perfwatch.report.pages`, :mod:`perfwatch.report.plots`); this
module decides which pages exist, where they go, what links they carry, and skips pages
whose inputs (and renderer) did not change.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import plotly

from perfwatch import analysis
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_results import scan_results_dir
from perfwatch.adapters.publish_cache import PageManifest, sources_hash, write_in_place
from perfwatch.model import Change, Comparison, FloatArray, Series, SeriesKey
from perfwatch.report import pages, plots
from perfwatch.report.levels import Segment
from perfwatch.report.units import format_value

__all__ = ["PageWriter", "commit_url", "copy_plotly", "renderer_id", "series_slug",
           "write_compare_page", "write_hardware_pages", "write_overview", "write_series_pages"]

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def series_slug(key: SeriesKey) -> str:
    """A file name for a series: readable, and unique by a short hash of the key."""
    text = f"{key.label}@{key.machine}"
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', text)[:120]}-{digest}"


def renderer_id() -> str:
    """Identity of the page renderer (this module and perfwatch.report's page code)."""
    report = Path(pages.__file__).parent
    return sources_hash([Path(__file__), *(report / f"{m}.py" for m in
                                            ("pages", "plots", "levels", "units"))])


@dataclass
class PageWriter:
    """Writes pages under html_dir/perfwatch, skipping those whose inputs are unchanged."""

    root: Path
    manifest: PageManifest
    renderer: str  # pages made by another version of the renderer are made again
    written: int = 0
    kept: int = 0

    def page(self, rel: str, digest: str, render: Callable[[], str]) -> None:
        if self.manifest.fresh(rel, digest, self.root):
            self.kept += 1
            return
        write_in_place(self.root / rel, render())
        self.manifest.record(rel, digest)
        self.written += 1


def copy_plotly(root: Path) -> None:
    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    dest = root / pages.PLOTLY_JS
    if dest.is_file() and dest.stat().st_size == src.stat().st_size:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def _profile_links(root: Path, key: SeriesKey) -> list[pages.Link]:
    """Flamegraphs and profile diffs under html_dir/perfwatch/profiles/ for this series."""
    folder = root / "profiles"
    if not folder.is_dir():
        return []
    prefixes = (series_slug(key), f"{key.benchmark}.", f"{key.benchmark}-")
    out = []
    for path in sorted(folder.rglob("*")):
        name = path.name
        if path.is_file() and name.startswith(prefixes):
            kind = "profile diff" if "diff" in name else "flamegraph / profile"
            out.append(pages.Link(f"{kind}: {name}", "../" + path.relative_to(root).as_posix()))
    return out


def commit_url(config: AsvConfig, sha: str) -> str:
    return config.show_commit_url + sha


def _series_page(config: AsvConfig, s: Series, changes: list[Change], segs: list[Segment],
                 links: list[pages.Link]) -> str:
    marks = [plots.ChangeMark(c, commit_url(config, c.commit)) for c in changes]
    by_stop = {g.stop: g for g in segs}
    by_start = {g.start: g for g in segs}
    dates = {c.sha: c.date for c in s.commits}
    heads = [pages.Headline(
        change=c,
        before=format_value(by_stop[c.index].level, s.unit) if c.index in by_stop else "?",
        after=format_value(by_start[c.index].level, s.unit) if c.index in by_start else "?",
        date=dates[c.commit], url=commit_url(config, c.commit)) for c in changes]
    title = f"{s.key.label} on {s.key.machine}"
    fig = plots.series_spec(s, marks, segs, title=f"{title}: {_latest(changes)}")
    for trace in fig["data"]:
        _round_y(trace)
    return pages.series_page(fig, title=title, headlines=heads, n_commits=len(s.measured),
                             links=links)


SIGNIFICANT = 7  # digits of a plotted value written to a page (hover text shows 4)


def _round_y(trace: dict[str, Any]) -> None:
    """Write long ``y`` lists with :data:`SIGNIFICANT` digits: JSON-encoding a float's
    17-digit repr is most of a page's rendering time, and no plot shows more than 4."""
    y = trace.get("y")
    if not isinstance(y, list) or len(y) < 50:
        return
    arr = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        return
    top = float(np.abs(arr[finite]).max())
    if top == 0.0:
        return
    decimals = max(0, SIGNIFICANT - 1 - int(np.floor(np.log10(top))))
    trace["y"] = np.round(arr, decimals).tolist()


def _digest(renderer: str, *parts: object) -> str:
    return hashlib.sha256(repr((renderer, *parts)).encode()).hexdigest()


def write_series_pages(config: AsvConfig, history: analysis.History, writer: PageWriter,
                       by_key: Mapping[SeriesKey, list[Change]],
                       segs: Mapping[SeriesKey, list[Segment]], hashes: Mapping[SeriesKey, str],
                       progress: Progress) -> None:
    """``series/<slug>.html`` for every series."""
    groups = _profile_groups(history)
    total = len(history.series)
    for n, s in enumerate(history.series, start=1):
        changes = by_key.get(s.key, [])
        links = _profile_links(writer.root, s.key)
        group = groups.get((s.key.benchmark, s.key.params), [])
        if len(group) > 1:
            links.insert(0, pages.Link("all hardware profiles side by side",
                                       f"../hardware/{_group_slug(s.key)}.html"))
        digest = _digest(writer.renderer, hashes[s.key], changes, links, config.show_commit_url)
        writer.page(f"series/{series_slug(s.key)}.html", digest,
                    partial(_series_page, config, s, changes, segs[s.key], links))
        if n % 25 == 0 or n == total:
            progress("pages", n, total)


def _group_slug(key: SeriesKey) -> str:
    return series_slug(SeriesKey(key.benchmark, key.params, "all"))


def _profile_groups(history: analysis.History) -> dict[tuple[str, tuple[str, ...] | None],
                                                       list[Series]]:
    groups: dict[tuple[str, tuple[str, ...] | None], list[Series]] = defaultdict(list)
    for s in history.series:
        groups[(s.key.benchmark, s.key.params)].append(s)
    return groups


def _latest(changes: Sequence[Change]) -> str:
    if not changes:
        return "no change point"
    c = changes[-1]
    return f"{c.direction} {100 * c.rel_change:+.1f}% at {c.commit[:8]}"


def _hardware_page(by_machine: Mapping[str, Series], segs: Mapping[str, Sequence[Segment]],
                   subtitles: Mapping[str, str], title: str, links: list[pages.Link]) -> str:
    fig = plots.profiles_spec(by_machine, segs, subtitles, title=title)
    return pages.profiles_page(fig, title=title, links=links)


def write_hardware_pages(history: analysis.History, writer: PageWriter,
                         by_key: Mapping[SeriesKey, list[Change]],
                         segs: Mapping[SeriesKey, list[Segment]],
                         hashes: Mapping[SeriesKey, str]) -> None:
    """``hardware/<slug>.html`` for every benchmark measured on more than one profile."""
    for group in _profile_groups(history).values():
        if len(group) < 2:
            continue
        key = group[0].key
        by_machine = {s.key.machine: s for s in group}
        links = [pages.Link(f"{s.key.machine}", f"../series/{series_slug(s.key)}.html")
                 for s in group]
        subtitles = {s.key.machine: _latest(by_key.get(s.key, [])) for s in group}
        digest = _digest(writer.renderer, sorted(hashes[s.key] for s in group),
                         sorted(subtitles.items()))
        title = f"{key.label} on {len(group)} hardware profiles"
        writer.page(f"hardware/{_group_slug(key)}.html", digest,
                    partial(_hardware_page, by_machine, {s.key.machine: segs[s.key] for s in group},
                            subtitles, title, links))


def _samples_at(config: AsvConfig, sha: str, machine: str | None) -> dict[SeriesKey, FloatArray]:
    out: dict[SeriesKey, FloatArray] = {}
    for f in scan_results_dir(config.results_dir, machine=machine).files:
        if f.commit_hash != sha:
            continue
        for name, row in f.results.items():
            for combo, samples in zip(row.combos, row.samples, strict=True):
                for label in (f.machine, f"{f.machine}/{f.env_name}"):
                    out[SeriesKey(name, combo, label)] = samples
    return out


def write_compare_page(config: AsvConfig, base_ref: str, head_ref: str, *, machine: str | None,
                       seed: int, root: Path) -> Path:
    """``compare/<base>-<head>.html``: a PR comparison (see :func:`pages.comparison_page`)."""
    report = analysis.compare_report(config.results_dir, base_ref, head_ref, machine=machine,
                                     rng=np.random.default_rng(seed), repo=config.local_repo())
    base = _samples_at(config, report.base, machine)
    head = _samples_at(config, report.head, machine)
    shown: list[Comparison] = [c for c in report.comparisons
                               if c.verdict.value != "no change"][:24]
    dists = [plots.distribution_spec(c, base.get(c.key, np.empty(0)), head.get(c.key, np.empty(0)))
             for c in shown]
    effect = plots.effect_spec(report.comparisons, title="effect of the head, with 95% CI")
    path = root / "compare" / f"{report.base[:12]}-{report.head[:12]}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pages.comparison_page(effect, dists, report.comparisons, base=report.base,
                                          head=report.head, project=config.project),
                    encoding="utf-8")
    return path


def write_overview(config: AsvConfig, history: analysis.History, changes: Sequence[Change],
                   compare_pages: Sequence[Path], root: Path) -> Path:
    """``index.html``: every finding, newest first, and links to comparison pages."""
    commits = {c.sha: c for c in history.commits}
    findings = [pages.Finding(change=c, date=commits[c.commit].date,
                              summary=commits[c.commit].summary,
                              series_href=f"series/{series_slug(c.key)}.html",
                              commit_url=commit_url(config, c.commit)) for c in changes]
    others = sorted({p.name for p in (root / "compare").glob("*.html")} |
                    {p.name for p in compare_pages})
    links = [pages.Link(f"PR comparison {name.removesuffix('.html')}", f"compare/{name}")
             for name in others]
    machines = sorted({s.key.machine for s in history.series})
    path = root / "index.html"
    write_in_place(path, pages.overview_page(findings, project=config.project, machines=machines,
                                        n_series=len(history.series),
                                        n_commits=len(history.commits), extra_links=links))
    return path
