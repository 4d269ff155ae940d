"""Change points for publish, re-analysing only what changed (part of the publish use case).

Per series, the cache (:mod:`perfwatch.adapters.detection_cache`, one ``.npz`` file in
``<results_dir>/.perfwatch/``) keeps the detector's incremental state
(:class:`perfwatch.stats.incremental.DetectionState`) under a digest of the detector's
identity, the series key and its first ``n`` measured commits (shas and every sample).
On a republish each series is, in this order:

1. **unchanged** (a state for all its measured commits): its change points are reused;
2. **grown** by at most :data:`MAX_APPEND` new commits after data the cache knows: the new
   commits are added with :func:`perfwatch.stats.incremental.append_commit` (the
   detector's incremental mode: the change points stay unless a screen over the recent
   commits sees a possible shift, then the series is detected again in full);
3. otherwise **analysed** in full, batched as ``perfwatch detect`` batches (same change
   points as ``perfwatch detect``).

The suite-level rules (Benjamini-Hochberg across the suite, suite-wide shifts) are
:func:`perfwatch.analysis.changes_from`, redone each time. So a cold publish reports what
``perfwatch detect`` reports; after appends a series' change points are those of the
incremental detector, which may differ from a full re-detection of the grown history
(alerts are not moved or retracted by later commits). Delete the cache for a full run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perfwatch import analysis
from perfwatch.adapters.detection_cache import load_cache, save_cache
from perfwatch.detect_candidates import candidates_of, find_candidates
from perfwatch.errors import ResultsFormatError
from perfwatch.model import Change, FloatArray, Series, SeriesKey
from perfwatch.stats.batch import levels_matrix
from perfwatch.stats.changepoint import ChangePoint
from perfwatch.stats.incremental import DetectionState, append_commit
from perfwatch.stats.levels import commit_levels, robust_scale

__all__ = ["MAX_APPEND", "DetectOutcome", "cache_path", "detect_incremental", "extend_state"]

MAX_APPEND = 3  # more new commits than this in one series: analysed in full

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DetectOutcome:
    changes: list[Change]
    analysed: int  # series detected in full
    appended: int  # series extended with the incremental detector
    unchanged: int  # series whose state was reused as it is
    digests: dict[SeriesKey, str]  # per series: a digest of all its data (for page caching)
    states: list[DetectionState | None]  # per series (history order): its detection state


def cache_path(results_dir: Path) -> Path:
    return results_dir / ".perfwatch" / "detect-states.v1.npz"


class _Digests:
    """Digests of a series' first ``n`` measured commits (shas and every sample), with the
    detector's identity and the series' key: the samples are concatenated once."""

    def __init__(self, detector: str, series: Series) -> None:
        self.series = series
        self.measured = [i for i, a in enumerate(series.samples) if a.size]
        arrays = [series.samples[i] for i in self.measured]
        self.sizes = np.array([a.size for a in arrays], dtype="<i8")
        self.flat = (np.concatenate(arrays).astype("<f8", copy=False) if arrays
                     else np.empty(0, dtype="<f8"))
        self.ends = np.cumsum(self.sizes)
        self.shas = [series.commits[i].sha for i in self.measured]
        self.head = (f"{detector}\0{series.key!r}\0{series.unit}\0"
                     f"{series.direction.value}").encode()

    def of(self, n: int) -> str:
        h = hashlib.sha256(self.head)
        h.update(" ".join(self.shas[:n]).encode())
        h.update(self.sizes[:n].tobytes())
        h.update(self.flat[:int(self.ends[n - 1]) if n else 0].tobytes())
        return h.hexdigest()

    def page(self) -> str:
        """The digest of everything a series page shows of the series' data."""
        h = hashlib.sha256(self.of(len(self.measured)).encode())
        h.update(" ".join(c.sha for c in self.series.commits).encode())
        return h.hexdigest()


def _initial_state(series: Series, measured: list[int], points: list[ChangePoint]
                   ) -> DetectionState | None:
    """The incremental state a full detection leaves (None: the series cannot have one)."""
    arrays = [series.samples[i] for i in measured]
    if len(arrays) < 2:
        return None
    try:
        if len({a.size for a in arrays}) == 1:
            cube = np.stack(arrays)
            if ((cube > 0) & (cube < np.inf)).all():  # as detect batches it
                values, within = levels_matrix(cube[None])
                lv, wse, log_scale = values[0], within[0], True
                return DetectionState(lv, wse, log_scale, tuple(points), robust_scale(lv))
        levels = commit_levels(arrays)
    except ValueError:
        return None
    return DetectionState(levels.values, levels.within_se, levels.log_scale, tuple(points),
                          robust_scale(levels.values))


def extend_state(state: DetectionState, new: Iterable[FloatArray]) -> DetectionState | None:
    """``state`` extended by the samples of new commits, oldest first, with the incremental
    detector; None when it cannot be (then the series is analysed in full)."""
    try:
        for samples in new:
            state, _ = append_commit(state, np.asarray(samples, np.float64))
    except ValueError:  # e.g. a non-positive median in a log-scale history
        return None
    return state


def _load(path: Path) -> dict[str, DetectionState]:
    try:
        return load_cache(path)
    except ResultsFormatError:
        return {}  # unusable: rebuilt


@dataclass
class _Run:
    detector: str
    old: dict[str, DetectionState]
    new: dict[str, DetectionState]
    appended: int = 0
    unchanged: int = 0

    def reuse(self, d: _Digests) -> tuple[list[ChangePoint] | None, DetectionState | None]:
        """The series' change points and state from the cache (None: analyse it in full)."""
        m = len(d.measured)
        if m < 2:
            return [], None
        for back in range(MAX_APPEND + 1):
            if m - back < 2:
                break
            state = self.old.get(d.of(m - back))
            if state is None or state.levels.size != m - back:
                continue
            if back:
                state = extend_state(state, (d.series.samples[i] for i in d.measured[m - back:]))
                if state is None:
                    return None, None
                self.appended += 1
            else:
                self.unchanged += 1
            self.new[d.of(m)] = state
            return list(state.changes), state
        return None, None


def detect_incremental(history: analysis.History, path: Path, detector: str, *,
                       rng: np.random.Generator, progress: Progress) -> DetectOutcome:
    """Change points of ``history`` as :func:`perfwatch.analysis.detect_history` finds them,
    re-analysing only the series the cache at ``path`` cannot extend (module docstring)."""
    run = _Run(detector, _load(path), {})
    total = len(history.series)
    digests = [_Digests(detector, s) for s in history.series]
    reused = [run.reuse(d) for d in digests]
    points: list[list[ChangePoint] | None] = [p for p, _s in reused]
    states: list[DetectionState | None] = [s for _p, s in reused]
    missing = [n for n, p in enumerate(points) if p is None]
    progress("analyse", total - len(missing), total)
    found = find_candidates([history.series[i] for i in missing], rng)
    for n, cands in zip(missing, found, strict=True):
        d = digests[n]
        pts = [c.point for c in cands]
        points[n] = pts
        state = states[n] = _initial_state(d.series, d.measured, pts)
        if state is not None:
            run.new[d.of(len(d.measured))] = state
    progress("analyse", total, total)
    if run.new.keys() != run.old.keys():
        try:
            save_cache(path, run.new)
        except OSError:
            pass  # a read-only results directory: no cache, same results
    changes = analysis.changes_from(
        (candidates_of(s, p or ()) for s, p in zip(history.series, points, strict=True)),
        history)
    return DetectOutcome(changes, len(missing), run.appended, run.unchanged,
                         {d.series.key: d.page() for d in digests}, states)

