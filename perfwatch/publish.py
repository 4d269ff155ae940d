"""Use case: publish the asv dashboard with perfwatch's findings in it.

1. The result files are read through perfwatch's caches (only new files are parsed).
2. The history is analysed series by series (:mod:`perfwatch.publish_detect`): a series
   the cache knows is reused or extended by its new commits with the incremental
   detector; the others are analysed in full. False discoveries are then controlled
   suite-wide, exactly as ``perfwatch detect`` does.
3. asv's site is written by perfwatch (:mod:`perfwatch.adapters.asv_site`: the files
   ``asv publish`` writes, only those that changed) or, with ``site="asv"``, by the real
   ``asv publish``; asv's page is pointed at local copies of the libraries it would load
   from CDNs.
4. asv's ``regressions.json`` is replaced by perfwatch's regressions (asv's format).
5. perfwatch's pages are written under ``html_dir/perfwatch/``; a page whose inputs did
   not change is not rewritten.
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np

from perfwatch import analysis, stats
from perfwatch.adapters import asv_publish, asv_site, results_cache
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_results import ResultsDir, scan_results_dir
from perfwatch.adapters.asv_site_cache import input_stamps
from perfwatch.adapters.asv_site_files import LOCALISED_MARK
from perfwatch.adapters.publish_cache import PageManifest, sources_hash
from perfwatch.model import Change, SeriesKey
from perfwatch.publish_append import Appended, try_append
from perfwatch.publish_detect import cache_path, detect_incremental
from perfwatch.publish_findings import Findings, levels_for, write_regressions
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
from perfwatch.publish_snapshot import capture_state, state_stamp
from perfwatch.report.levels import Segment, commit_medians, segments
from perfwatch.stats.incremental import DetectionState

__all__ = ["CompareRequest", "PartTimes", "Progress", "PublishOptions", "PublishReport", "SiteMode",
           "detector_id", "publish", "renderer_id", "series_slug"]

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class CompareRequest:
    base: str
    head: str


SiteMode = Literal["perfwatch", "asv", "none"]


@dataclass(frozen=True)
class PublishOptions:
    """``site``: who writes asv's site: perfwatch's incremental writer
    (:mod:`perfwatch.adapters.asv_site`), the real ``asv publish`` (``"asv"``), or nobody
    (``"none"``: perfwatch's pages and asv's regressions only)."""

    site: SiteMode = "perfwatch"
    machine: str | None = None
    compares: tuple[CompareRequest, ...] = ()
    seed: int = 0
    full: bool = False  # never append new commits to the last publish (publish_append)


@dataclass(frozen=True)
class PartTimes:
    """Seconds spent by ``asv publish`` (a child process, with ``--asv-publish``) and by
    perfwatch's own part (which includes writing asv's site when perfwatch writes it).

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
    analysed: int  # series detected in full
    from_cache: int  # series whose detection came from the cache (as it was, or extended)
    pages_written: int
    pages_kept: int
    regressions_listed: int  # entries in asv's regressions.json
    site: asv_site.SiteReport | None = None  # what perfwatch's asv site writer did
    appended: int = 0  # of from_cache: series extended by new commits (incremental detector)
    new_commits: int | None = None  # set when only new commits were appended (no full run)
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


# ------------------------------------------------------------------ the use case


def _asv(config: AsvConfig, options: PublishOptions, progress: Progress) -> Path:
    if options.site == "asv":
        progress("asv publish", 0, 1)
        asv_publish.run_asv_publish(config)
        progress("asv publish", 1, 1)
    index = config.html_dir / "index.html"
    if options.site != "perfwatch" and index.is_file() \
            and LOCALISED_MARK not in index.read_text(encoding="utf-8"):
        asv_publish.localize_index(config.html_dir)  # (perfwatch's writer does it itself)
    root = config.html_dir / asv_publish.PERFWATCH_DIR
    root.mkdir(parents=True, exist_ok=True)
    copy_plotly(root)
    return root


def _site(config: AsvConfig, options: PublishOptions, result: _Analysis,
          segs: Mapping[SeriesKey, list[Segment]], progress: Progress) -> asv_site.SiteReport:
    progress("asv site", 0, 1)
    positions = {c.sha: i for i, c in enumerate(result.history.commits)}
    results = result.results
    if options.machine is not None:  # asv's site shows every machine
        with results_cache.persistent():
            results = scan_results_dir(config.results_dir)
    report = asv_site.write_site(config, results, levels_for=levels_for(segs),
                                 positions=positions, localize=asv_publish.localize_index,
                                 analysed_machines=set(result.results.machines))
    progress("asv site", 1, 1)
    return report


@dataclass(frozen=True)
class _Analysis:
    results: ResultsDir
    history: analysis.History
    changes: list[Change]
    hashes: Mapping[SeriesKey, str]  # a digest of each series' data
    analysed: int
    from_cache: int
    appended: int
    states: list[DetectionState | None]  # per series of the history


def _analyse(config: AsvConfig, options: PublishOptions, progress: Progress) -> _Analysis:
    progress("load results", 0, 1)
    with results_cache.persistent():
        rd = scan_results_dir(config.results_dir, machine=options.machine)
        history = analysis.load_history(config.results_dir, config.local_repo(),
                                        branch=config.branch, machine=options.machine)
    progress("load results", 1, 1)
    outcome = detect_incremental(history, cache_path(config.results_dir), detector_id(),
                                 rng=np.random.default_rng(options.seed), progress=progress)
    return _Analysis(rd, history, outcome.changes, outcome.digests, outcome.analysed,
                     outcome.appended + outcome.unchanged, outcome.appended, outcome.states)


def _append_stamp(config: AsvConfig, options: PublishOptions) -> dict[str, str] | None:
    """The identity of a republish state (None: these options never append: another
    machine selection or asv's own site writer)."""
    if options.site != "perfwatch" or options.machine is not None:
        return None
    return state_stamp(config, detector=detector_id(), renderer=renderer_id())


def _listing(config: AsvConfig) -> dict[str, str] | None:
    try:
        return input_stamps(config.results_dir)
    except OSError:
        return None  # the full publish says what is wrong with the results directory


def _appended_report(config: AsvConfig, done: Appended, wall0: float, cpu0: float
                     ) -> PublishReport:
    wall = time.perf_counter() - wall0
    return PublishReport(html_dir=config.html_dir, overview=done.overview, changes=done.changes,
                         n_series=done.n_series, analysed=0, from_cache=done.n_series,
                         appended=done.appended, pages_written=done.pages_written,
                         pages_kept=0, regressions_listed=done.regressions_listed,
                         site=done.site, new_commits=done.new_commits,
                         times=PartTimes(perfwatch_wall=wall,
                                         perfwatch_cpu=time.process_time() - cpu0))


def publish(config: AsvConfig, *, options: PublishOptions = PublishOptions(),
            progress: Progress = _noop) -> PublishReport:
    """asv's site, perfwatch's findings and pages (see the module docstring)."""
    wall0, cpu0, own0 = time.perf_counter(), _children_cpu(), time.process_time()
    stamp = _append_stamp(config, options)
    if stamp is not None and not options.compares and not options.full:
        done = try_append(config, stamp=stamp)
        if done is not None:
            return _appended_report(config, done, wall0, own0)
    listing = _listing(config) if stamp is not None else None
    root = _asv(config, options, progress)
    wall1, cpu1, own1 = time.perf_counter(), _children_cpu(), time.process_time()
    result = _analyse(config, options, progress)
    history, changes, hashes = result.history, result.changes, result.hashes
    by_key: dict[SeriesKey, list[Change]] = defaultdict(list)
    for c in changes:
        by_key[c.key].append(c)
    segs = {s.key: segments(s, [c.index for c in by_key.get(s.key, [])]) for s in history.series}
    site = _site(config, options, result, segs, progress) if options.site == "perfwatch" \
        else None
    by_series = {s.key: s for s in history.series}
    found = Findings(history.commits, {s.key: s.direction for s in history.series},
                     lambda key: commit_medians(by_series[key]), by_key, segs)
    listed = write_regressions(config, found, series_slug, partial(commit_url, config))
    writer = PageWriter(root, PageManifest(root / ".manifest"), renderer_id())
    write_series_pages(config, history, writer, by_key, segs, hashes, progress)
    write_hardware_pages(history, writer, by_key, segs, hashes)
    for rel in writer.manifest.stale():
        (root / rel).unlink(missing_ok=True)
    writer.manifest.save()
    with results_cache.persistent():  # each page scans the results three times: one parse
        compare_pages = tuple(write_compare_page(config, r.base, r.head, machine=options.machine,
                                                 seed=options.seed, root=root)
                              for r in options.compares)
    overview = write_overview(config, history.commits, [s.key for s in history.series], changes,
                              compare_pages, root)
    if stamp is not None and listing is not None:
        capture_state(config, stamp=stamp, listing=listing, rd=result.results, history=history,
                      states=result.states)
    return PublishReport(html_dir=config.html_dir, overview=overview, changes=tuple(changes),
                         n_series=len(history.series), analysed=result.analysed,
                         from_cache=result.from_cache, appended=result.appended,
                         pages_written=writer.written,
                         pages_kept=writer.kept, regressions_listed=listed,
                         compare_pages=compare_pages, site=site,
                         times=PartTimes(asv_wall=wall1 - wall0 if options.site == "asv" else 0.0,
                                         asv_cpu=cpu1 - cpu0,
                                         perfwatch_wall=time.perf_counter() - wall1,
                                         perfwatch_cpu=time.process_time() - own1))
