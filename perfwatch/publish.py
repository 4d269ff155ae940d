"""Use case: publish the asv dashboard with perfwatch's findings in it.

1. ``asv publish`` (same configuration), then asv's page is pointed at local copies of
   the libraries it would load from CDNs.
2. The history is analysed series by series; each series' change-point candidates are
   cached by a content hash, so a republish re-analyses only the series that changed.
   False discoveries are then controlled suite-wide, exactly as ``perfwatch detect`` does.
3. asv's ``regressions.json`` is replaced by perfwatch's regressions (asv's format).
4. perfwatch's pages are written under ``html_dir/perfwatch/``; a page whose inputs did
   not change is not rewritten.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import plotly

from perfwatch import analysis, stats
from perfwatch.adapters import asv_publish
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_results import scan_results_dir
from perfwatch.adapters.publish_cache import DetectionCache, PageManifest, series_hash
from perfwatch.errors import ConfigError
from perfwatch.model import Change, Comparison, FloatArray, Series, SeriesKey
from perfwatch.report import pages, plots
from perfwatch.report.levels import Segment, commit_medians, segments
from perfwatch.report.units import format_value

__all__ = ["CompareRequest", "Progress", "PublishOptions", "PublishReport", "detect_cached",
           "detector_id", "publish", "renderer_id", "series_slug"]

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class CompareRequest:
    base: str
    head: str


@dataclass(frozen=True)
class PublishOptions:
    run_asv: bool = True
    machine: str | None = None
    compares: tuple[CompareRequest, ...] = ()
    seed: int = 0


@dataclass(frozen=True)
class PublishReport:
    html_dir: Path
    overview: Path
    changes: tuple[Change, ...]
    n_series: int
    analysed: int  # series whose detection ran (cache misses)
    from_cache: int  # series whose detection came from the cache
    pages_written: int
    pages_kept: int
    regressions_listed: int  # entries in asv's regressions.json
    compare_pages: tuple[Path, ...] = field(default=())


def _noop(stage: str, done: int, total: int) -> None:
    del stage, done, total


def series_slug(key: SeriesKey) -> str:
    """A file name for a series: readable, and unique by a short hash of the key."""
    text = f"{key.label}@{key.machine}"
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', text)[:120]}-{digest}"


def _sources_hash(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def detector_id() -> str:
    """Identity of the change-point detector: a hash of perfwatch.stats' source files.

    Cached detections are reused only while it is the same, so an edited detector
    never serves results of its previous version.
    """
    return f"stats-{_sources_hash(list(Path(stats.__file__).parent.glob('*.py')))}"


def renderer_id() -> str:
    """Identity of the page renderer (this module and perfwatch.report's page code)."""
    report = Path(pages.__file__).parent
    return _sources_hash([Path(__file__), *(report / f"{m}.py" for m in
                                            ("pages", "plots", "levels", "units"))])


def _repo_path(config: AsvConfig) -> Path:
    if config.repo_path is not None:
        return config.repo_path
    mirror = config.root / config.project  # asv keeps its clone of a URL repo here
    if mirror.is_dir():
        return mirror
    raise ConfigError(f"repo {config.repo!r} is not a local path and asv has no clone at {mirror}",
                      hint="run `asv publish` once, or point 'repo' at a local clone")


# ------------------------------------------------------------------ detection


def _candidates(series: Series, cache: DetectionCache,
                rng: np.random.Generator) -> list[tuple[stats.ChangePoint, int, int]]:
    measured = series.measured
    if len(measured) < 2:
        return []
    digest = series_hash(series, salt=cache.detector)
    points = cache.get(digest)
    if points is None:
        points = stats.detect_change_points([series.samples[i] for i in measured], rng=rng)
        cache.put(digest, points)
    return [(p, measured[p.index], measured[p.index - 1]) for p in points
            if 0 < p.index < len(measured)]


def detect_cached(history: analysis.History, cache: DetectionCache, *,
                  rng: np.random.Generator, progress: Progress = _noop) -> list[Change]:
    """:func:`perfwatch.analysis.detect_history` with per-series candidates from ``cache``.

    Same rules: suite-wide Benjamini-Hochberg over every series (a series without a
    candidate counts as one test with p = 1), kept when q <= ``analysis.MAX_QVALUE``.
    """
    found: list[tuple[Series, stats.ChangePoint, int, int]] = []
    quiet = 0
    total = len(history.series)
    for n, s in enumerate(history.series, start=1):
        cands = _candidates(s, cache, rng)
        found.extend((s, p, i, prev) for p, i, prev in cands)
        quiet += not cands
        if n % 25 == 0 or n == total:
            progress("analyse", n, total)
    if not found:
        return []
    pvalues = np.array([f[1].pvalue for f in found] + [1.0] * quiet, dtype=np.float64)
    qvalues = stats.benjamini_hochberg(pvalues)[: len(found)]
    changes = [
        Change(key=s.key, unit=s.unit, commit=s.commits[i].sha,
               previous_commit=s.commits[prev].sha,
               direction="regression" if s.direction.is_worse(p.rel_change) else "improvement",
               rel_change=p.rel_change, ci=(p.ci_low, p.ci_high), pvalue=p.pvalue,
               qvalue=float(q), index=i)
        for (s, p, i, prev), q in zip(found, qvalues, strict=True) if q <= analysis.MAX_QVALUE
    ]
    changes.sort(key=lambda c: (c.key.benchmark, c.index, c.key.params or (), c.key.machine))
    return changes


# ------------------------------------------------------------------ asv regressions.json


def _regression_rows(history: analysis.History, by_key: Mapping[SeriesKey, list[Change]],
                     segs: Mapping[SeriesKey, list[Segment]]) -> list[asv_publish.RegressionRow]:
    position = {c.sha: i for i, c in enumerate(history.commits)}
    rows = []
    for s in history.series:
        regs = [c for c in by_key.get(s.key, []) if c.direction == "regression"]
        if not regs:
            continue
        level = {g.start: g.level for g in segs[s.key]}
        before = {g.stop: g.level for g in segs[s.key]}
        med = commit_medians(s)
        finite = med[np.isfinite(med)]
        best = float(finite.min() if s.direction.is_worse(1.0) else finite.max())
        jumps = tuple(asv_publish.Jump(
            previous_commit=c.previous_commit, commit=c.commit,
            single_commit=position[c.commit] == position[c.previous_commit] + 1,
            before=before.get(c.index, float("nan")), after=level.get(c.index, float("nan")))
            for c in regs)
        rows.append(asv_publish.RegressionRow(
            benchmark=s.key.benchmark, params=s.key.params, machine=s.key.machine,
            last_value=float(finite[-1]), best_value=best, jumps=jumps))
    return rows


def _write_regressions(config: AsvConfig, history: analysis.History,
                       by_key: Mapping[SeriesKey, list[Change]],
                       segs: Mapping[SeriesKey, list[Segment]]) -> int:
    if not (config.html_dir / "index.json").is_file():
        return 0
    index = asv_publish.read_index(config.html_dir)
    entries = asv_publish.regression_entries(_regression_rows(history, by_key, segs), index,
                                             html_dir=config.html_dir, branch=config.branch)
    asv_publish.write_regressions(config.html_dir, entries)
    asv_publish.write_feed(config.html_dir, _feed_items(config, history, by_key, segs),
                           project=config.project)
    return len(entries)


def _feed_items(config: AsvConfig, history: analysis.History,
                by_key: Mapping[SeriesKey, list[Change]],
                segs: Mapping[SeriesKey, list[Segment]]) -> list[asv_publish.FeedItem]:
    dates = {c.sha: c.date for c in history.commits}
    items = []
    for key, changes in by_key.items():
        before = {g.stop: g.level for g in segs[key]}
        after = {g.start: g.level for g in segs[key]}
        for c in changes:
            if c.direction != "regression":
                continue
            pct = f"{100 * c.rel_change:+.2f}%"
            link = f"perfwatch/series/{series_slug(key)}.html"
            old = format_value(before.get(c.index, float("nan")), c.unit)
            new = format_value(after.get(c.index, float("nan")), c.unit)
            summary = (f'<a href="{link}">{pct} regression</a> on {dates[c.commit]:%Y-%m-%d %H:%M}'
                       f' in commit <a href="{_commit_url(config, c.commit)}">{c.commit[:8]}</a> '
                       f"(on {key.machine}).<br>New value: {new}, old value: {old}.")
            items.append(asv_publish.FeedItem(
                title=f"{pct} {key.label} on {key.machine}", updated=dates[c.commit], link=link,
                summary=summary, id_context=(key.label, key.machine, c.previous_commit, c.commit)))
    return items


# ------------------------------------------------------------------ pages


@dataclass
class _Writer:
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
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        self.manifest.record(rel, digest)
        self.written += 1


def _copy_plotly(root: Path) -> None:
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
    slug = series_slug(key)
    out = []
    for path in sorted(folder.rglob("*")):
        name = path.name
        if path.is_file() and (name.startswith((slug, key.benchmark + ".", key.benchmark + "-", key.benchmark + "_"))):
            kind = "profile diff" if "diff" in name else "flamegraph / profile"
            out.append(pages.Link(f"{kind}: {name}", "../" + path.relative_to(root).as_posix()))
    return out


def _commit_url(config: AsvConfig, sha: str) -> str:
    return config.show_commit_url + sha


def _series_page(config: AsvConfig, s: Series, changes: list[Change], segs: list[Segment],
                 links: list[pages.Link]) -> str:
    marks = [plots.ChangeMark(c, _commit_url(config, c.commit)) for c in changes]
    by_stop = {g.stop: g for g in segs}
    by_start = {g.start: g for g in segs}
    dates = {c.sha: c.date for c in s.commits}
    heads = [pages.Headline(
        change=c,
        before=format_value(by_stop[c.index].level, s.unit) if c.index in by_stop else "?",
        after=format_value(by_start[c.index].level, s.unit) if c.index in by_start else "?",
        date=dates[c.commit], url=_commit_url(config, c.commit)) for c in changes]
    title = f"{s.key.label} on {s.key.machine}"
    fig = plots.series_spec(s, marks, segs, title=f"{title}: {_latest(changes)}")
    return pages.series_page(fig, title=title, headlines=heads, n_commits=len(s.measured),
                             links=links)


def _digest(renderer: str, *parts: object) -> str:
    return hashlib.sha256(repr((renderer, *parts)).encode()).hexdigest()


def _series_pages(config: AsvConfig, history: analysis.History, writer: _Writer,
                  by_key: Mapping[SeriesKey, list[Change]], segs: Mapping[SeriesKey, list[Segment]],
                  hashes: Mapping[SeriesKey, str], options: PublishOptions,
                  progress: Progress) -> None:
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


def _hardware_pages(history: analysis.History, writer: _Writer,
                    by_key: Mapping[SeriesKey, list[Change]],
                    segs: Mapping[SeriesKey, list[Segment]], hashes: Mapping[SeriesKey, str]
                    ) -> None:
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


def _compare_page(config: AsvConfig, req: CompareRequest, options: PublishOptions,
                  root: Path) -> Path:
    report = analysis.compare_report(config.results_dir, req.base, req.head,
                                     machine=options.machine,
                                     rng=np.random.default_rng(options.seed),
                                     repo=_repo_path(config))
    base = _samples_at(config, report.base, options.machine)
    head = _samples_at(config, report.head, options.machine)
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


def _overview(config: AsvConfig, history: analysis.History, changes: Sequence[Change],
              compare_pages: Sequence[Path], root: Path) -> Path:
    commits = {c.sha: c for c in history.commits}
    findings = [pages.Finding(change=c, date=commits[c.commit].date,
                              summary=commits[c.commit].summary,
                              series_href=f"series/{series_slug(c.key)}.html",
                              commit_url=_commit_url(config, c.commit)) for c in changes]
    others = sorted({p.name for p in (root / "compare").glob("*.html")} |
                    {p.name for p in compare_pages})
    links = [pages.Link(f"PR comparison {name.removesuffix('.html')}", f"compare/{name}")
             for name in others]
    machines = sorted({s.key.machine for s in history.series})
    path = root / "index.html"
    path.write_text(pages.overview_page(findings, project=config.project, machines=machines,
                                        n_series=len(history.series),
                                        n_commits=len(history.commits), extra_links=links),
                    encoding="utf-8")
    return path


# ------------------------------------------------------------------ the use case


def publish(config: AsvConfig, *, options: PublishOptions = PublishOptions(),
            progress: Progress = _noop) -> PublishReport:
    """asv publish, then perfwatch's findings and pages (see the module docstring)."""
    if options.run_asv:
        progress("asv publish", 0, 1)
        asv_publish.run_asv_publish(config)
        progress("asv publish", 1, 1)
    root = config.html_dir / asv_publish.PERFWATCH_DIR
    root.mkdir(parents=True, exist_ok=True)
    if (config.html_dir / "index.html").is_file():
        asv_publish.localize_index(config.html_dir)
    _copy_plotly(root)
    progress("load results", 0, 1)
    history = analysis.load_history(config.results_dir, _repo_path(config),
                                    branch=config.branch, machine=options.machine)
    progress("load results", 1, 1)
    cache = DetectionCache.under(config.results_dir, detector_id())
    changes = detect_cached(history, cache, rng=np.random.default_rng(options.seed),
                            progress=progress)
    cache.save()
    by_key: dict[SeriesKey, list[Change]] = defaultdict(list)
    for c in changes:
        by_key[c.key].append(c)
    segs = {s.key: segments(s, [c.index for c in by_key.get(s.key, [])]) for s in history.series}
    listed = _write_regressions(config, history, by_key, segs)
    writer = _Writer(root, PageManifest(root / ".manifest"), renderer_id())
    hashes = {s.key: series_hash(s) for s in history.series}
    _series_pages(config, history, writer, by_key, segs, hashes, options, progress)
    _hardware_pages(history, writer, by_key, segs, hashes)
    for rel in writer.manifest.stale():
        (root / rel).unlink(missing_ok=True)
    writer.manifest.save()
    compare_pages = tuple(_compare_page(config, r, options, root) for r in options.compares)
    overview = _overview(config, history, changes, compare_pages, root)
    return PublishReport(html_dir=config.html_dir, overview=overview, changes=tuple(changes),
                         n_series=len(history.series), analysed=cache.misses,
                         from_cache=cache.hits,
                         pages_written=writer.written, pages_kept=writer.kept,
                         regressions_listed=listed, compare_pages=compare_pages)
