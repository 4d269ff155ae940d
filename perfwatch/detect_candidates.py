"""Change-point candidates of every series of a history, batched where the data allow.

:func:`perfwatch.stats.detect_change_points` costs ~2 ms per series, most of it per-commit
medians. Series measured at the same commits with the same number of samples everywhere
(the usual asv suite: one run per commit, same ``repeat``) and strictly positive finite
values are stacked into one (series, commits, samples) array and go through
:func:`perfwatch.stats.batch.detect_batch`, which gives the same change points; the rest
(gaps that differ, varying sample counts, values <= 0) go one by one. Pure: no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from perfwatch import stats
from perfwatch.model import Commit, Direction, FloatArray, Series, SeriesKey
from perfwatch.stats.batch import detect_batch

__all__ = ["MIN_BATCH", "Candidate", "SeriesInfo", "candidates_of", "find_candidates", "placed"]

MIN_BATCH = 8  # fewer series than this sharing a layout: the per-series path is as fast
_CHUNK = 1000  # series stacked at once (bounds the extra memory of the stacked copy)


class SeriesInfo(Protocol):
    """What a change needs of its series besides the samples (a :class:`Series` is one)."""

    @property
    def key(self) -> SeriesKey: ...
    @property
    def unit(self) -> str: ...
    @property
    def direction(self) -> Direction: ...
    @property
    def commits(self) -> tuple[Commit, ...]: ...


@dataclass(frozen=True)
class Candidate:
    """A change point of one series, with its positions in ``series.commits``."""

    series: SeriesInfo
    point: stats.ChangePoint
    index: int  # position in series.commits of the first commit at the new level
    previous: int  # position of the last measured commit at the old level


def candidates_of(series: Series, points: Sequence[stats.ChangePoint]) -> list[Candidate]:
    """``points`` (indices among the measured commits) placed in ``series.commits``."""
    return placed(series, series.measured, points)


def placed(series: SeriesInfo, measured: Sequence[int],
           points: Sequence[stats.ChangePoint]) -> list[Candidate]:
    """``points`` (indices among the measured commits) at the positions ``measured``."""
    return [Candidate(series, p, measured[p.index], measured[p.index - 1])
            for p in points if 0 < p.index < len(measured)]


def _one(series: Series, measured: Sequence[int], rng: np.random.Generator) -> list[Candidate]:
    if len(measured) < 2:
        return []
    points = stats.detect_change_points([series.samples[i] for i in measured], rng=rng)
    return placed(series, measured, points)


def _stacked(series: Series, measured: Sequence[int]) -> FloatArray | None:
    """The series as a (commits, samples) array when it can join a batch, else None."""
    arrays = [series.samples[i] for i in measured]
    if len(arrays) < 2 or len({a.size for a in arrays}) != 1:
        return None
    flat = np.concatenate(arrays)  # much cheaper than np.stack for many small arrays
    if not ((flat > 0) & (flat < np.inf)).all():  # NaN fails both
        return None
    return flat.reshape(len(arrays), -1)


class _Batches:
    """Series waiting for a batch, per layout; a layout's batch runs when it is full."""

    def __init__(self, series: Sequence[Series], out: list[list[Candidate]],
                 rng: np.random.Generator) -> None:
        self.series, self.out, self.rng = series, out, rng
        self.pending: dict[tuple[tuple[int, ...], int], list[tuple[int, FloatArray]]] = (
            defaultdict(list))
        self.done: set[tuple[tuple[int, ...], int]] = set()

    def add(self, i: int, positions: tuple[int, ...], cube: FloatArray) -> None:
        key = (positions, cube.shape[1])
        self.pending[key].append((i, cube))
        if len(self.pending[key]) >= _CHUNK:
            self._run(positions, self.pending.pop(key))
            self.done.add(key)

    def finish(self) -> None:
        for key, members in self.pending.items():
            if len(members) < MIN_BATCH and key not in self.done:
                for i, _ in members:
                    self.out[i] = _one(self.series[i], key[0], self.rng)
            else:
                self._run(key[0], members)
        self.pending.clear()

    def _run(self, positions: tuple[int, ...], members: list[tuple[int, FloatArray]]) -> None:
        points = detect_batch(np.stack([c for _, c in members]), rng=self.rng)
        for (i, _), pts in zip(members, points, strict=True):
            self.out[i] = placed(self.series[i], positions, pts)


def find_candidates(series: Sequence[Series], rng: np.random.Generator,
                    *, batch: bool = True) -> list[list[Candidate]]:
    """Candidates of each series (same order); ``batch=False`` forces the per-series path."""
    out: list[list[Candidate]] = [[] for _ in series]
    batches = _Batches(series, out, rng)
    for i, s in enumerate(series):
        measured = s.measured
        cube = _stacked(s, measured) if batch else None
        if cube is None:
            out[i] = _one(s, measured, rng)
        else:
            batches.add(i, tuple(measured), cube)
    batches.finish()
    return out
