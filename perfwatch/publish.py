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
import resource
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perfwatch import analysis, stats
from perfwatch.adapters import asv_publish, results_cache
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.publish_cache import DetectionCache, PageManifest, series_hash, sources_hash
from perfwatch.detect_candidates import candidates_of, find_candidates
from perfwatch.model import Change, SeriesKey
from perfwatch.publish_pages import (
    PageWriter,
    commit_url,
    copy_plotly,
    renderer_id,
    series_slug,
    write_compare_page,
    write_hardware_pages,
    write_overview,
    write_series_pages,
)
from perfwatch.report.levels import Segment, commit_medians, segments
from perfwatch.report.units import format_value

__all__ = ["CompareRequest", "PartTimes", "Progress", "PublishOptions", "PublishReport", "detect_cached",
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
class PartTimes:
    """Seconds spent by ``asv publish`` (a child process) and by perfwatch's own part.

    ``asv_cpu`` is the child's user+system time; ``perfwatch_cpu`` this process' CPU time
    from the end of asv publish to the end of the run (start-up and imports not included).
    """

    asv_wall: float = 0.0
    asv_cpu: float = 0.0
    perfwatch_wall: float = 0.0
    perfwatch_cpu: float = 0.0


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
    times: PartTimes = field(default=PartTimes())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _noop(stage: str, done: int, total: int) -> None:
    del stage, done, total


def detector_id() -> str:
    """Identity of the change-point detector: a hash of perfwatch.stats' source files.

    Cached detections are reused only while it is the same, so an edited detector
    never serves results of its previous version.
    """
    return f"stats-{sources_hash(Path(stats.__file__).parent.glob('*.py'))}"


# ------------------------------------------------------------------ detection


def _from_cache(history: analysis.History, cache: DetectionCache,
                hashes: Mapping[SeriesKey, str] | None
                ) -> tuple[list[list[stats.ChangePoint] | None], list[str]]:
    """Cached change points of each series (None: not cached) and each series' digest."""
    points: list[list[stats.ChangePoint] | None] = []
    digests = []
    for s in history.series:
        content = hashes[s.key] if hashes is not None else series_hash(s)
        digest = hashlib.sha256(f"{cache.detector}:{content}".encode()).hexdigest()
        digests.append(digest)
        points.append(cache.get(digest) if len(s.measured) >= 2 else [])
    return points, digests


def detect_cached(history: analysis.History, cache: DetectionCache, *,
                  rng: np.random.Generator, progress: Progress = _noop,
                  hashes: Mapping[SeriesKey, str] | None = None) -> list[Change]:
    """:func:`perfwatch.analysis.detect_history` with per-series candidates from ``cache``.

    The suite-level rules are the same function (:func:`perfwatch.analysis.changes_from`).
    The series not in the cache are analysed together, batched as ``perfwatch detect``
    batches them. ``hashes``: :func:`series_hash` of each series, when the caller has them.
    """
    points, digests = _from_cache(history, cache, hashes)
    missing = [n for n, cached in enumerate(points) if cached is None]
    total = len(history.series)
    progress("analyse", total - len(missing), total)
    for n, new in enumerate(find_candidates([history.series[i] for i in missing], rng)):
        points[missing[n]] = found_points = [c.point for c in new]
        cache.put(digests[missing[n]], found_points)
    progress("analyse", total, total)
    return analysis.changes_from(
        (candidates_of(s, pts or ()) for s, pts in zip(history.series, points, strict=True)),
        history)


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
                       f' in commit <a href="{commit_url(config, c.commit)}">{c.commit[:8]}</a> '
                       f"(on {key.machine}).<br>New value: {new}, old value: {old}.")
            items.append(asv_publish.FeedItem(
                title=f"{pct} {key.label} on {key.machine}", updated=dates[c.commit], link=link,
                summary=summary, id_context=(key.label, key.machine, c.previous_commit, c.commit)))
    return items


# ------------------------------------------------------------------ the use case


def _asv(config: AsvConfig, options: PublishOptions, progress: Progress) -> Path:
    if options.run_asv:
        progress("asv publish", 0, 1)
        asv_publish.run_asv_publish(config)
        progress("asv publish", 1, 1)
    root = config.html_dir / asv_publish.PERFWATCH_DIR
    root.mkdir(parents=True, exist_ok=True)
    if (config.html_dir / "index.html").is_file():
        asv_publish.localize_index(config.html_dir)
    copy_plotly(root)
    return root


@dataclass(frozen=True)
class _Analysis:
    history: analysis.History
    changes: list[Change]
    hashes: Mapping[SeriesKey, str]  # series_hash of each series
    analysed: int
    from_cache: int


def _analyse(config: AsvConfig, options: PublishOptions, progress: Progress) -> _Analysis:
    progress("load results", 0, 1)
    with results_cache.persistent():
        history = analysis.load_history(config.results_dir, config.local_repo(),
                                        branch=config.branch, machine=options.machine)
    progress("load results", 1, 1)
    hashes = {s.key: series_hash(s) for s in history.series}
    cache = DetectionCache.under(config.results_dir, detector_id())
    changes = detect_cached(history, cache, rng=np.random.default_rng(options.seed),
                            progress=progress, hashes=hashes)
    cache.save()
    return _Analysis(history, changes, hashes, cache.misses, cache.hits)


def publish(config: AsvConfig, *, options: PublishOptions = PublishOptions(),
            progress: Progress = _noop) -> PublishReport:
    """asv publish, then perfwatch's findings and pages (see the module docstring)."""
    wall0, cpu0 = time.perf_counter(), _children_cpu()
    root = _asv(config, options, progress)
    wall1, cpu1, own1 = time.perf_counter(), _children_cpu(), time.process_time()
    result = _analyse(config, options, progress)
    history, changes, hashes = result.history, result.changes, result.hashes
    by_key: dict[SeriesKey, list[Change]] = defaultdict(list)
    for c in changes:
        by_key[c.key].append(c)
    segs = {s.key: segments(s, [c.index for c in by_key.get(s.key, [])]) for s in history.series}
    listed = _write_regressions(config, history, by_key, segs)
    writer = PageWriter(root, PageManifest(root / ".manifest"), renderer_id())
    write_series_pages(config, history, writer, by_key, segs, hashes, progress)
    write_hardware_pages(history, writer, by_key, segs, hashes)
    for rel in writer.manifest.stale():
        (root / rel).unlink(missing_ok=True)
    writer.manifest.save()
    compare_pages = tuple(write_compare_page(config, r.base, r.head, machine=options.machine,
                                             seed=options.seed, root=root)
                          for r in options.compares)
    overview = write_overview(config, history, changes, compare_pages, root)
    return PublishReport(html_dir=config.html_dir, overview=overview, changes=tuple(changes),
                         n_series=len(history.series), analysed=result.analysed,
                         from_cache=result.from_cache, pages_written=writer.written,
                         pages_kept=writer.kept, regressions_listed=listed,
                         compare_pages=compare_pages,
                         times=PartTimes(asv_wall=wall1 - wall0 if options.run_asv else 0.0,
                                         asv_cpu=cpu1 - cpu0,
                                         perfwatch_wall=time.perf_counter() - wall1,
                                         perfwatch_cpu=time.process_time() - own1))
