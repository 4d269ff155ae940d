"""``perfwatch publish``: asv's dashboard with perfwatch's findings and pages in it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from perfwatch.adapters.asv_config import AsvConfig, find_config, load_asv_config
from perfwatch.publish import CompareRequest, PublishOptions, PublishReport, SiteMode, publish

__all__ = ["DEFAULT_SEED", "add_parser", "run"]

DEFAULT_SEED = 20261126


def add_parser(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "publish",
        help="asv's dashboard, plus perfwatch's findings and pages",
        description="Write asv's dashboard (the files `asv publish` writes, by perfwatch's "
        "own incremental writer; --asv-publish runs the real `asv publish` instead), list "
        "perfwatch's regressions on asv's regressions page, and write perfwatch's pages to "
        "<html_dir>/perfwatch/. Republishing re-reads only new result files, re-analyses "
        "only the series that changed and rewrites only the files that changed.",
    )
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="asv.conf.json (default: the one in the current directory)")
    p.add_argument("--machine", default=None, metavar="NAME", help="only this machine")
    p.add_argument("--compare", nargs=2, action="append", default=[], metavar=("BASE", "HEAD"),
                   help="also write a comparison page of HEAD against BASE (repeatable)")
    site = p.add_mutually_exclusive_group()
    site.add_argument("--asv-publish", action="store_true",
                      help="run the real `asv publish` (slow: it rewrites everything) instead "
                      "of perfwatch's writer of asv's site")
    site.add_argument("--no-asv", action="store_true",
                      help="do not write asv's site: refresh perfwatch's pages and asv's "
                      "regressions only")
    p.add_argument("--full", action="store_true",
                   help="read and analyse the whole history, even when the results only "
                   "grew by new commits (which are otherwise appended to the last publish)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _summary(report: PublishReport, seconds: float) -> list[str]:
    regressions = sum(c.direction == "regression" for c in report.changes)
    lines = [
        (f"perfwatch publish: {regressions} regressions, "
        f"{len(report.changes) - regressions} improvements in {report.n_series} series "
        f"({report.analysed} analysed, {report.appended} extended by new commits, "
        f"{report.from_cache - report.appended} unchanged); "
        f"{report.pages_written} pages written, {report.pages_kept} unchanged; {seconds:.1f} s"),
        (f"asv regressions page lists {report.regressions_listed} series: "
        f"{report.html_dir / 'index.html'}#/regressions"),
        f"perfwatch overview: {report.overview}",
    ]
    if report.new_commits is not None:
        lines.insert(1, f"appended {report.new_commits} new commit"
                        f"{'' if report.new_commits == 1 else 's'} to the last publish "
                        "(only new result files read; --full for a full run)")
    lines += [f"comparison page: {p}" for p in report.compare_pages]
    if report.site is not None:
        s = report.site
        lines.append(f"asv site: {s.graphs} graphs; {s.written} files written, {s.kept} "
                     f"unchanged, {s.removed} removed")
    t = report.times
    asv = (f"asv publish {t.asv_wall:.1f} s ({t.asv_cpu:.1f} s CPU)" if t.asv_wall
           else "asv publish not run")
    lines.append(f"time: {asv}; perfwatch's part {t.perfwatch_wall:.1f} s "
                 f"({t.perfwatch_cpu:.1f} s CPU, start-up not included)")
    return lines


def _with_progress_bars(config: AsvConfig, options: PublishOptions) -> PublishReport:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return publish(config, options=options, progress=progress)


def run(args: argparse.Namespace) -> int:
    config = load_asv_config(find_config(args.config, cwd=Path.cwd()))
    mode: SiteMode = "asv" if args.asv_publish else "none" if args.no_asv else "perfwatch"
    options = PublishOptions(site=mode, machine=args.machine, seed=args.seed, full=args.full,
                             compares=tuple(CompareRequest(b, h) for b, h in args.compare))
    start = time.perf_counter()
    if not args.quiet and sys.stderr.isatty():
        report = _with_progress_bars(config, options)
    else:  # rich is not even imported (a republish is short: its start-up counts)
        report = publish(config, options=options)
    for line in _summary(report, time.perf_counter() - start):
        print(line)
    return 0
