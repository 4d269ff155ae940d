"""Writing perfwatch's pages under ``html_dir/perfwatch/`` (part of the publish use case).

Rendering is pure (:mod:`perfwatch.report.pages`, :mod:`perfwatch.report.plots`); this
module decides which pages exist, where they go, what links they carry, and skips pages
whose inputs (and renderer) did not change.

A series page is two files: ``series/<slug>.html``, a shell (:func:`series_shell`: headlines,
links, levels, change points; its size does not depend on the history's length) and
``series/data/<slug>.js``, the per-commit points, one line per commit
(:func:`series_data_text`), to which a new commit only appends
(:func:`series_data_lines`). Hardware pages load their series' data files too. Importing
this module does not import plotly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_results import scan_results_dir
from perfwatch.adapters.publish_cache import PageManifest, sources_hash, write_in_place
from perfwatch.errors import PerfwatchError
from perfwatch.model import Change, Commit, Comparison, Direction, FloatArray, Series, SeriesKey
from perfwatch.report import pages, plots, series_data
from perfwatch.report.levels import Segment, commit_medians
from perfwatch.report.units import format_value

__all__ = ["SERIES_DATA_DIR", "HardwareMember", "PageWriter", "commit_url", "copy_plotly",
           "hardware_shell", "hardware_slug", "page_digest", "renderer_id", "series_data_lines",
           "series_data_text", "series_links", "series_shell", "series_slug",
           "write_compare_page", "write_hardware_pages", "write_overview", "write_series_pages"]

if TYPE_CHECKING:  # analysis imports gitpython: only the compare page needs it at run time
    from perfwatch import analysis

SERIES_DATA_DIR = "series/data"  # under html_dir/perfwatch/

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
                                            ("pages", "plots", "levels", "units",
                                             "series_data"))])


@dataclass
class PageWriter:
    """Writes pages under html_dir/perfwatch, skipping those whose inputs are unchanged."""

    root: Path
    manifest: PageManifest
    renderer: str  # pages made by another version of the renderer are made again
    written: int = 0  # pages (data files are not counted)
    kept: int = 0
    data_written: int = 0  # series data files
    data_kept: int = 0

    def page(self, rel: str, digest: str, render: Callable[[], str]) -> None:
        if self._write(rel, digest, render):
            self.written += 1
        else:
            self.kept += 1

    def data(self, rel: str, digest: str, render: Callable[[], str]) -> None:
        if self._write(rel, digest, render):
            self.data_written += 1
        else:
            self.data_kept += 1

    def _write(self, rel: str, digest: str, render: Callable[[], str]) -> bool:
        if self.manifest.fresh(rel, digest, self.root):
            return False
        write_in_place(self.root / rel, render())
        self.manifest.record(rel, digest)
        return True


def _plotly_js() -> Path:
    """The installed plotly package's plotly.min.js (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise PerfwatchError("the plotly package is not installed",
                             hint="install perfwatch's dependencies: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


def copy_plotly(root: Path) -> None:
    src = _plotly_js()
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


def series_data_text(commits: Sequence[Commit], samples: Sequence[FloatArray]) -> str:
    """The whole data file of a series: everything the page plots per commit (commit label,
    date, summary, the median, every raw sample), one line per commit."""
    return series_data.data_lines(commits, samples)


def series_data_lines(commits: Sequence[Commit], samples: Sequence[FloatArray],
                      start: int) -> str:
    """The lines of ``commits[start:]``:
    ``series_data_text(c[:n], s[:n]) + series_data_lines(c, s, n) == series_data_text(c, s)``."""
    return series_data.data_lines(commits, samples, start)


def _data_src(slug: str, n_commits: int, root: str = "") -> pages.DataFile:
    # ?n=: a page of a grown history never takes a cached, shorter data file
    return pages.DataFile(slug, f"{root}data/{slug}.js?n={n_commits}")


def _headlines(config: AsvConfig, unit: str, commits: Sequence[Commit],
               changes: Sequence[Change], segs: Sequence[Segment]) -> list[pages.Headline]:
    by_stop = {g.stop: g for g in segs}
    by_start = {g.start: g for g in segs}
    return [pages.Headline(
        change=c,
        before=format_value(by_stop[c.index].level, unit) if c.index in by_stop else "?",
        after=format_value(by_start[c.index].level, unit) if c.index in by_start else "?",
        date=commits[c.index].date, url=commit_url(config, c.commit)) for c in changes]


def series_shell(config: AsvConfig, key: SeriesKey, unit: str, direction: Direction,
                 commits: Sequence[Commit], medians: FloatArray, changes: Sequence[Change],
                 segs: Sequence[Segment], links: Sequence[pages.Link]) -> str:
    """The series page's HTML without the per-commit data: headlines, links, the figure's
    segments, bands, change markers and layout; loads ``data/<slug>.js`` and draws the
    samples and medians from it. ``medians``: per commit, NaN = no result (they give the
    scale and the measured-commit count). ``direction`` is not drawn (a change's own
    direction colours it); it is part of the contract for the append path."""
    del direction
    slug = series_slug(key)
    marks = [plots.ChangeMark(c, commit_url(config, c.commit)) for c in changes]
    title = f"{key.label} on {key.machine}"
    fig = plots.series_spec(plots.Outline(unit, commits, medians, segs, slug), marks,
                            title=f"{title}: {_latest(changes)}")
    return pages.series_page(fig, data=[_data_src(slug, len(commits))], title=title,
                             headlines=_headlines(config, unit, commits, changes, segs),
                             n_commits=int(np.isfinite(medians).sum()), links=links)


def page_digest(renderer: str, *parts: object) -> str:
    """What the manifest records for a page or data file made from ``parts``."""
    return hashlib.sha256(repr((renderer, *parts)).encode()).hexdigest()


def series_links(root: Path, key: SeriesKey, n_profiles: int) -> list[pages.Link]:
    """A series page's links: hardware profiles side by side (when the benchmark ran on
    ``n_profiles`` > 1 profiles), then flamegraphs and profile diffs."""
    links = _profile_links(root, key)
    if n_profiles > 1:
        links.insert(0, pages.Link("all hardware profiles side by side",
                                   f"../hardware/{hardware_slug(key)}.html"))
    return links


def write_series_pages(config: AsvConfig, history: analysis.History, writer: PageWriter,
                       by_key: Mapping[SeriesKey, list[Change]],
                       segs: Mapping[SeriesKey, list[Segment]], hashes: Mapping[SeriesKey, str],
                       progress: Progress) -> None:
    """``series/<slug>.html`` and ``series/data/<slug>.js`` for every series."""
    groups = _profile_groups(history)
    total = len(history.series)
    for n, s in enumerate(history.series, start=1):
        changes = by_key.get(s.key, [])
        links = series_links(writer.root, s.key, len(groups.get((s.key.benchmark, s.key.params),
                                                                [])))
        slug = series_slug(s.key)
        writer.data(f"{SERIES_DATA_DIR}/{slug}.js", page_digest(writer.renderer, hashes[s.key]),
                    partial(series_data_text, s.commits, s.samples))
        digest = page_digest(writer.renderer, hashes[s.key], changes, links,
                             config.show_commit_url)
        writer.page(f"series/{slug}.html", digest,
                    partial(series_shell, config, s.key, s.unit, s.direction, s.commits,
                            commit_medians(s), changes, segs[s.key], links))
        if n % 25 == 0 or n == total:
            progress("pages", n, total)


def hardware_slug(key: SeriesKey) -> str:
    """The file name (without .html) of the hardware page of ``key``'s benchmark x params."""
    return series_slug(SeriesKey(key.benchmark, key.params, "all"))


def profile_groups(keys: Sequence[SeriesKey]) -> dict[tuple[str, tuple[str, ...] | None],
                                                      list[int]]:
    """The positions in ``keys`` of each benchmark x parameters (one per hardware profile)."""
    groups: dict[tuple[str, tuple[str, ...] | None], list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        groups[(key.benchmark, key.params)].append(i)
    return groups


def _profile_groups(history: analysis.History) -> dict[tuple[str, tuple[str, ...] | None],
                                                       list[Series]]:
    return {g: [history.series[i] for i in members] for g, members
            in profile_groups([s.key for s in history.series]).items()}


def _latest(changes: Sequence[Change]) -> str:
    if not changes:
        return "no change point"
    c = changes[-1]
    return f"{c.direction} {100 * c.rel_change:+.1f}% at {c.commit[:8]}"


@dataclass(frozen=True)
class HardwareMember:
    """One profile's series on a hardware page (what its figure needs, no samples)."""

    key: SeriesKey
    unit: str
    commits: Sequence[Commit]
    medians: FloatArray  # per commit, NaN = no result
    changes: Sequence[Change]
    segs: Sequence[Segment]


def hardware_shell(members: Sequence[HardwareMember]) -> str:
    """``hardware/<slug>.html``: one benchmark on each profile; loads the members' data files."""
    key = members[0].key
    title = f"{key.label} on {len(members)} hardware profiles"
    outlines = {m.key.machine: plots.Outline(m.unit, m.commits, m.medians, m.segs,
                                             series_slug(m.key)) for m in members}
    fig = plots.profiles_spec(outlines, {m.key.machine: _latest(m.changes) for m in members},
                              title=title)
    links = [pages.Link(m.key.machine, f"../series/{series_slug(m.key)}.html") for m in members]
    data = [_data_src(series_slug(m.key), len(m.commits), "../series/") for m in members]
    return pages.profiles_page(fig, data=data, title=title, links=links)


def write_hardware_pages(history: analysis.History, writer: PageWriter,
                         by_key: Mapping[SeriesKey, list[Change]],
                         segs: Mapping[SeriesKey, list[Segment]],
                         hashes: Mapping[SeriesKey, str]) -> None:
    """``hardware/<slug>.html`` for every benchmark measured on more than one profile."""
    for group in _profile_groups(history).values():
        if len(group) < 2:
            continue
        members = [HardwareMember(s.key, s.unit, s.commits, commit_medians(s),
                                  by_key.get(s.key, []), segs[s.key]) for s in group]
        digest = page_digest(writer.renderer, sorted(hashes[s.key] for s in group),
                             sorted((s.key.machine, by_key.get(s.key, [])) for s in group))
        writer.page(f"hardware/{hardware_slug(group[0].key)}.html", digest,
                    partial(hardware_shell, members))


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
    from perfwatch import analysis

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


def write_overview(config: AsvConfig, commits: Sequence[Commit], keys: Sequence[SeriesKey],
                   changes: Sequence[Change], compare_pages: Sequence[Path], root: Path) -> Path:
    """``index.html``: every finding, newest first, and links to comparison pages.
    ``commits``: the analysed history's; ``keys``: its series."""
    by_sha = {c.sha: c for c in commits}
    findings = [pages.Finding(change=c, date=by_sha[c.commit].date,
                              summary=by_sha[c.commit].summary,
                              series_href=f"series/{series_slug(c.key)}.html",
                              commit_url=commit_url(config, c.commit)) for c in changes]
    others = sorted({p.name for p in (root / "compare").glob("*.html")} |
                    {p.name for p in compare_pages})
    links = [pages.Link(f"PR comparison {name.removesuffix('.html')}", f"compare/{name}")
             for name in others]
    machines = sorted({k.machine for k in keys})
    path = root / "index.html"
    write_in_place(path, pages.overview_page(findings, project=config.project, machines=machines,
                                             n_series=len(keys), n_commits=len(commits),
                                             extra_links=links))
    return path
