"""Republish after new commits, in time proportional to the new data (publish use case).

A full publish (:mod:`perfwatch.publish`) ends by saving a :class:`PublishState`: the
analysed commits, every series' samples and per-commit medians, its detection state and
the result files it read. The next ``perfwatch publish`` first tries :func:`try_append`:
when the only change is new result files for commits that extend the analysed branch, it

1. reads only the new files and asks git only for the commits after the last one;
2. extends each series' detection state with the incremental detector
   (:func:`perfwatch.stats.incremental.append_commit`, as the full publish does for a
   series grown by a few commits), then applies the suite-level rules
   (:func:`perfwatch.analysis.suite_changes`);
3. appends the new points to asv's site (:func:`perfwatch.adapters.asv_site_append.append_site`)
   and to each series page's data file, and rewrites the small files that summarise
   (page shells, regressions.json, the overview).

Anything else (a changed or removed result file, a new benchmark, parameter, machine or
environment, a rewritten branch, another perfwatch, asv configuration or benchmarks.json,
output files changed behind perfwatch's back, a series without a state) makes it return
None before it writes anything, and the full publish runs. The outputs equal those of the
full publish on the same results with the same detection states (tested file by file).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from perfwatch.adapters import asv_publish
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_results import ResultsFile, load_results_file
from perfwatch.adapters.asv_site import SiteReport
from perfwatch.adapters.asv_site_append import append_site
from perfwatch.adapters.asv_site_cache import input_stamps
from perfwatch.adapters.git_log import commits_after
from perfwatch.adapters.publish_cache import PageManifest, write_in_place
from perfwatch.adapters.publish_state import (
    PublishState,
    SeriesMeta,
    load_state,
    save_state,
    state_path,
)
from perfwatch.analysis import suite_changes
from perfwatch.detect_candidates import Candidate, placed
from perfwatch.errors import PerfwatchError
from perfwatch.model import Change, Commit, FloatArray, SeriesKey
from perfwatch.publish_detect import extend_state
from perfwatch.publish_findings import Findings, levels_for, write_regressions
from perfwatch.publish_pages import (
    HardwareMember,
    commit_url,
    hardware_shell,
    hardware_slug,
    profile_groups,
    series_data_lines,
    series_links,
    series_shell,
    series_slug,
    write_overview,
)
from perfwatch.publish_snapshot import data_file_paths
from perfwatch.report.levels import Segment, medians_of, segments_of
from perfwatch.stats.incremental import DetectionState

__all__ = ["Appended", "try_append"]

_EMPTY: FloatArray = np.empty(0, dtype=np.float64)


@dataclass(frozen=True)
class Appended:
    """What :func:`try_append` did (the command reports it like a full publish)."""

    changes: tuple[Change, ...]
    n_series: int
    appended: int  # series extended by new samples
    pages_written: int
    regressions_listed: int
    overview: Path
    site: SiteReport
    new_commits: int


@dataclass
class _Growth:
    """The new commits and, per series, their samples (by position in the grown span)."""

    commits: tuple[Commit, ...]  # the grown span
    samples: dict[int, dict[int, FloatArray]]  # series index -> position -> samples


def _new_files(state: PublishState, listing: Mapping[str, str]
               ) -> list[tuple[str, str]] | None:
    """(relative path, machine) of the new result files; None if anything else changed."""
    for rel, stamp in state.files.items():
        if listing.get(rel) != stamp:
            return None
    new = []
    for rel in sorted(set(listing) - set(state.files)):
        folder, _, name = rel.partition("/")
        machine = state.machine_dirs.get(folder)
        if machine is None or name in ("machine.json", "benchmarks.json") \
                or "/" in name or not name.endswith(".json"):
            return None
        new.append((rel, machine))
    return new


def _grow(config: AsvConfig, state: PublishState, files: Sequence[ResultsFile]
          ) -> _Growth | None:
    after = commits_after(config.local_repo(), state.commits[-1].sha, state.branch)
    if not after:
        return None
    base = len(state.commits)
    position = {c.sha: base + i for i, c in enumerate(after)}
    index = {(m.key.benchmark, m.key.params, m.key.machine): i
             for i, m in enumerate(state.series)}
    samples: dict[int, dict[int, FloatArray]] = defaultdict(dict)
    last = base - 1
    for f in files:
        pos = position.get(f.commit_hash)
        label = state.labels.get((f.machine, f.env_name))
        if pos is None or label is None:
            return None  # a backfilled or off-branch commit; a new environment
        last = max(last, pos)
        for name, row in f.results.items():
            if name not in state.versions:
                return None  # a new benchmark
            want = state.versions[name]
            if want and row.version and row.version != want:
                continue  # another version: a gap, as in the full publish
            for combo, values in zip(row.combos, row.samples, strict=True):
                if not values.size:
                    continue
                i = index.get((name, combo, label))
                if i is None or pos in samples[i]:
                    return None  # a new series, or two files for one cell
                samples[i][pos] = values
    if last < base:
        return None
    return _Growth(state.commits + tuple(after[:last - base + 1]), dict(samples))


def _extend_states(state: PublishState, growth: _Growth, measured: Sequence[Sequence[int]]
                   ) -> list[DetectionState | None] | None:
    out = list(state.states)
    for i, by_pos in growth.samples.items():
        s = out[i]
        if s is None or s.levels.size != len(measured[i]) - len(by_pos):
            return None
        s = extend_state(s, (by_pos[pos] for pos in sorted(by_pos)))
        if s is None:
            return None
        out[i] = s
    return out


@dataclass(frozen=True)
class _Grown:
    """The state's arrays with the new commits added."""

    measured: NDArray[np.bool_]  # (commits, series)
    medians: FloatArray  # (series, commits)
    positions: list[list[int]]  # per series: the commits it has samples at


def _grow_arrays(state: PublishState, growth: _Growth) -> _Grown:
    n_series, old = len(state.series), len(state.commits)
    added = len(growth.commits) - old
    measured = np.zeros((added, n_series), dtype=np.bool_)
    medians = np.full((n_series, added), np.nan)
    cells = [(i, pos - old, values) for i, by_pos in growth.samples.items()
             for pos, values in by_pos.items()]
    if cells:  # the full publish's commit_medians does the same arithmetic
        rows, cols, values = zip(*cells, strict=True)
        measured[cols, rows] = True
        medians[rows, cols] = medians_of(values)
    has = np.concatenate([state.measured, measured])
    return _Grown(has, np.concatenate([state.medians, medians], axis=1),
                  [np.flatnonzero(row).tolist() for row in np.ascontiguousarray(has.T)])


class _NoSamples(Exception):
    """A level band needs samples the state does not keep (then publish in full)."""


def _samples_at(state: PublishState, growth: _Growth, series: int, commit: int) -> FloatArray:
    """The samples of a segment of one measured commit: a new commit's, or those of a
    series measured at one commit only (the state keeps those)."""
    new = growth.samples.get(series, {}).get(commit)
    if new is not None:
        return new
    lone = state.lone.get(series)
    if lone is None or not state.measured[commit, series]:
        raise _NoSamples
    return lone


def _data_files_intact(paths: Sequence[Path], sizes: np.ndarray) -> bool:
    try:
        return all(p.stat().st_size == int(n) for p, n in zip(paths, sizes.tolist(), strict=True))
    except OSError:
        return False


@dataclass(frozen=True)
class _Detected:
    states: list[DetectionState | None]
    changes: list[Change]
    by_key: dict[SeriesKey, list[Change]]
    segs: dict[SeriesKey, list[Segment]]


def _detect(state: PublishState, growth: _Growth, grown: _Grown,
            metas: Sequence[SeriesMeta]) -> _Detected | None:
    states = _extend_states(state, growth, grown.positions)
    if states is None:
        return None
    per_series: list[list[Candidate]] = [
        placed(m, grown.positions[i], s.changes) if s is not None else []
        for i, (m, s) in enumerate(zip(metas, states, strict=True))]
    changes = suite_changes(per_series, {m.key: grown.positions[i] for i, m in enumerate(metas)})
    by_key: dict[SeriesKey, list[Change]] = defaultdict(list)
    for c in changes:
        by_key[c.key].append(c)
    try:
        segs = {m.key: segments_of(grown.medians[i], [c.index for c in by_key.get(m.key, [])],
                                   partial(_samples_at, state, growth, i))
                for i, m in enumerate(metas)}
    except _NoSamples:
        return None
    return _Detected(states, changes, by_key, segs)


def _write_pages(config: AsvConfig, root: Path, metas: Sequence[SeriesMeta], old: int,
                 growth: _Growth, grown: _Grown, found: _Detected, paths: Sequence[Path]
                 ) -> list[str]:
    """Append each series' new commits to its data file; rewrite the page shells and the
    hardware pages. The files written (relative to ``root``)."""
    commits = growth.commits
    groups = profile_groups([m.key for m in metas])
    head = [_EMPTY] * old
    written = []
    for i, m in enumerate(metas):
        new = growth.samples.get(i, {})
        lines = series_data_lines(commits, head + [new.get(p, _EMPTY)
                                                  for p in range(old, len(commits))], old)
        with open(paths[i], "a", encoding="utf-8") as f:
            f.write(lines)
        links = series_links(root, m.key, len(groups[(m.key.benchmark, m.key.params)]))
        shell = f"series/{series_slug(m.key)}.html"
        write_in_place(root / shell, series_shell(
            config, m.key, m.unit, m.direction, commits, grown.medians[i],
            found.by_key.get(m.key, []), found.segs[m.key], links))
        written += [paths[i].relative_to(root).as_posix(), shell]
    for members in groups.values():
        if len(members) < 2:
            continue
        page = f"hardware/{hardware_slug(metas[members[0]].key)}.html"
        write_in_place(root / page, hardware_shell([HardwareMember(
            metas[i].key, metas[i].unit, commits, grown.medians[i],
            found.by_key.get(metas[i].key, []), found.segs[metas[i].key]) for i in members]))
        written.append(page)
    return written


def _new_state(state: PublishState, listing: Mapping[str, str], growth: _Growth,
               grown: _Grown, metas: Sequence[SeriesMeta], states: Sequence[DetectionState | None],
               paths: Sequence[Path]) -> PublishState:
    sizes = np.array([p.stat().st_size for p in paths], dtype=np.int64)
    return PublishState(
        stamp=state.stamp, branch=state.branch, files=dict(listing),
        machine_dirs=state.machine_dirs, commits=growth.commits, series=tuple(metas),
        labels=state.labels, versions=state.versions, measured=grown.measured,
        medians=grown.medians, lone=state.lone, data_sizes=sizes, states=tuple(states))


def try_append(config: AsvConfig, *, stamp: Mapping[str, str]) -> Appended | None:
    """Republish by appending the new commits (module docstring); None, having written
    nothing, when the results changed in any other way: then publish in full."""
    state = load_state(state_path(config.results_dir))
    if state is None or dict(state.stamp) != dict(stamp):
        return None
    listing = input_stamps(config.results_dir)
    new = _new_files(state, listing)
    if not new:
        return None
    try:
        files = [load_results_file(config.results_dir / rel, machine) for rel, machine in new]
    except PerfwatchError:
        return None  # the full publish reports it
    growth = _grow(config, state, files)
    if growth is None:
        return None
    metas = [replace(m, commits=growth.commits) for m in state.series]
    grown = _grow_arrays(state, growth)
    if any(s is None and len(grown.positions[i]) >= 2 for i, s in enumerate(state.states)):
        return None  # a series the full publish analyses in full every time
    found = _detect(state, growth, grown, metas)
    root = config.html_dir / asv_publish.PERFWATCH_DIR
    paths = data_file_paths(root, metas)
    if found is None or not _data_files_intact(paths, state.data_sizes):
        return None
    site = append_site(config, files, levels_for=levels_for(found.segs),
                       positions={c.sha: i for i, c in enumerate(growth.commits)},
                       localize=asv_publish.localize_index,
                       analysed_machines=set(state.machine_dirs.values()), inputs=listing)
    if site is None:
        return None
    # -- from here on, files are written
    return _finish(config, state, listing, growth, grown, metas, found, paths, site)


def _finish(config: AsvConfig, state: PublishState, listing: Mapping[str, str],
            growth: _Growth, grown: _Grown, metas: Sequence[SeriesMeta], found: _Detected,
            paths: Sequence[Path], site: SiteReport) -> Appended:
    old = len(state.commits)
    index = {m.key: i for i, m in enumerate(metas)}
    findings = Findings(growth.commits, {m.key: m.direction for m in metas},
                        lambda key: grown.medians[index[key]], found.by_key, found.segs)
    listed = write_regressions(config, findings, series_slug,
                               lambda sha: commit_url(config, sha))
    root = config.html_dir / asv_publish.PERFWATCH_DIR
    written = _write_pages(config, root, metas, old, growth, grown, found, paths)
    PageManifest.forget(root / ".manifest", written)  # the full publish renders them again
    overview = write_overview(config, growth.commits, [m.key for m in metas], found.changes,
                              (), root)
    save_state(state_path(config.results_dir),
               _new_state(state, listing, growth, grown, metas, found.states, paths))
    return Appended(changes=tuple(found.changes), n_series=len(metas),
                    appended=len(growth.samples), pages_written=len(written) + 1,
                    regressions_listed=listed, overview=overview, site=site,
                    new_commits=len(growth.commits) - old)
