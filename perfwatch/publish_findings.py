"""perfwatch's findings in asv's files: ``regressions.json``, ``regressions.xml`` and the
steps of asv's summary list (part of the publish use case).

Shared by the full publish (:mod:`perfwatch.publish`) and the republish after new commits
(:mod:`perfwatch.publish_append`): both describe what they found as :class:`Findings`,
which needs per-commit medians, not samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from perfwatch.adapters import asv_publish, asv_site
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.model import Change, Commit, Direction, FloatArray, SeriesKey
from perfwatch.report.levels import Segment
from perfwatch.report.units import format_value

__all__ = ["Findings", "levels_for", "series_href", "write_regressions"]


@dataclass(frozen=True)
class Findings:
    """What publish found: the analysed commits, each series' direction and per-commit
    medians (NaN: no result), its changes and its segments."""

    commits: Sequence[Commit]
    directions: Mapping[SeriesKey, Direction]  # every series, in history order
    medians: Callable[[SeriesKey], FloatArray]
    by_key: Mapping[SeriesKey, list[Change]]
    segs: Mapping[SeriesKey, list[Segment]]


def series_href(slug: str) -> str:
    return f"perfwatch/series/{slug}.html"


def _regression_rows(found: Findings) -> list[asv_publish.RegressionRow]:
    position = {c.sha: i for i, c in enumerate(found.commits)}
    rows = []
    for key, direction in found.directions.items():
        regs = [c for c in found.by_key.get(key, []) if c.direction == "regression"]
        if not regs:
            continue
        level = {g.start: g.level for g in found.segs[key]}
        before = {g.stop: g.level for g in found.segs[key]}
        med = found.medians(key)
        finite = med[np.isfinite(med)]
        best = float(finite.min() if direction.is_worse(1.0) else finite.max())
        jumps = tuple(asv_publish.Jump(
            previous_commit=c.previous_commit, commit=c.commit,
            single_commit=position[c.commit] == position[c.previous_commit] + 1,
            before=before.get(c.index, float("nan")), after=level.get(c.index, float("nan")))
            for c in regs)
        rows.append(asv_publish.RegressionRow(
            benchmark=key.benchmark, params=key.params, machine=key.machine,
            last_value=float(finite[-1]), best_value=best, jumps=jumps))
    return rows


def write_regressions(config: AsvConfig, found: Findings, slug: Callable[[SeriesKey], str],
                      commit_url: Callable[[str], str]) -> int:
    """asv's ``regressions.json`` and ``regressions.xml`` from perfwatch's findings; the
    number of regressions.json entries (0 without asv's ``index.json``)."""
    if not (config.html_dir / "index.json").is_file():
        return 0
    index = asv_publish.read_index(config.html_dir)
    entries = asv_publish.regression_entries(_regression_rows(found), index,
                                             html_dir=config.html_dir, branch=config.branch)
    asv_publish.write_regressions(config.html_dir, entries)
    asv_publish.write_feed(config.html_dir, _feed_items(found, slug, commit_url),
                           project=config.project)
    return len(entries)


def _feed_items(found: Findings, slug: Callable[[SeriesKey], str],
                commit_url: Callable[[str], str]) -> list[asv_publish.FeedItem]:
    dates = {c.sha: c.date for c in found.commits}
    items = []
    for key, changes in found.by_key.items():
        before = {g.stop: g.level for g in found.segs[key]}
        after = {g.start: g.level for g in found.segs[key]}
        for c in changes:
            if c.direction != "regression":
                continue
            pct = f"{100 * c.rel_change:+.2f}%"
            link = series_href(slug(key))
            old = format_value(before.get(c.index, float("nan")), c.unit)
            new = format_value(after.get(c.index, float("nan")), c.unit)
            summary = (f'<a href="{link}">{pct} regression</a> on {dates[c.commit]:%Y-%m-%d %H:%M}'
                       f' in commit <a href="{commit_url(c.commit)}">{c.commit[:8]}</a> '
                       f"(on {key.machine}).<br>New value: {new}, old value: {old}.")
            items.append(asv_publish.FeedItem(
                title=f"{pct} {key.label} on {key.machine}", updated=dates[c.commit], link=link,
                summary=summary, id_context=(key.label, key.machine, c.previous_commit, c.commit)))
    return items


def levels_for(segs: Mapping[SeriesKey, list[Segment]]) -> asv_site.LevelsFor:
    """asv's graphs' steps from perfwatch's segments (see :mod:`perfwatch.adapters.asv_site`)."""
    def find(name: str, combo: tuple[str, ...] | None, machine: str, env: str
             ) -> asv_site.Levels | None:
        for label in (f"{machine}/{env}", machine):
            key = SeriesKey(name, combo, label)
            if key in segs:  # segs has every series of the history
                return asv_site.Levels(tuple(g.start for g in segs[key]),
                                       tuple(g.level for g in segs[key]))
        return None

    return find
