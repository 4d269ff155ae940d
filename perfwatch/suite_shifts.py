"""Suite-wide shifts: most series of one machine changing the same way at one commit.

Such a shift is almost always the environment (a new CI runner type, an interpreter or
compiler upgrade), so it is one finding, not one alert per benchmark.
:func:`mark_suite_shifts` finds them with :func:`perfwatch.stats.suite.common_shifts`
(per machine: at least half of the series measured around the commit, and at least 5,
shifting the same way within +-1 commit) and sets ``Change.suite_shift`` on each member;
:func:`suite_shifts` summarises the marked changes, one :class:`SuiteShift` per shift.
A change at the same commit that goes the other way, or on another machine, is not a
member and stays an individual finding. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from perfwatch.model import Change, SeriesKey
from perfwatch.stats.suite import SeriesChange, common_shifts

__all__ = ["SuiteShift", "mark_suite_shifts", "suite_shifts"]


@dataclass(frozen=True)
class SuiteShift:
    """One suite-wide shift, summarised from its member changes."""

    commit: str  # the commit most members start their new level at
    previous_commit: str
    machine: str
    direction: str  # "regression" | "improvement": what most members call it
    series: int  # number of member series
    median_rel_change: float
    index: int  # position of ``commit`` in the history
    measured_series: int = 0  # series of the machine measured before and after (0: unknown)


def _by_machine(measured: Mapping[SeriesKey, Sequence[int]]) -> dict[str, list[SeriesKey]]:
    out: dict[str, list[SeriesKey]] = defaultdict(list)
    for key in sorted(measured):
        out[key.machine].append(key)
    return out


def _mode(values: Sequence[str]) -> str:
    """The most frequent value; ties go to the earliest seen."""
    return Counter(values).most_common(1)[0][0]


def _mark_machine(changes: list[Change], keys: Sequence[SeriesKey],
                  measured: Mapping[SeriesKey, Sequence[int]]) -> None:
    """Mark, in place, the members of this machine's suite-wide shifts."""
    slot = {k: i for i, k in enumerate(keys)}
    mine = [i for i, c in enumerate(changes) if c.key in slot and c.suite_shift is None]
    found = common_shifts(
        [SeriesChange(slot[changes[i].key], changes[i].index, changes[i].rel_change > 0)
         for i in mine],
        [list(measured[k]) for k in keys])
    for shift in found:
        series = {keys[s] for s in shift.series}
        members = [i for i in mine if changes[i].key in series and changes[i].suite_shift is None
                   and (changes[i].rel_change > 0) == shift.up
                   and abs(changes[i].index - shift.position) <= 1]
        sha = _mode([changes[i].commit for i in members])
        for i in members:
            changes[i] = replace(changes[i], suite_shift=sha)


def mark_suite_shifts(changes: Sequence[Change],
                      measured: Mapping[SeriesKey, Sequence[int]]) -> list[Change]:
    """``changes`` (same order) with ``suite_shift`` set on the members of suite-wide
    shifts. ``measured[key]`` lists the history positions that series has results at."""
    out = list(changes)
    for keys in _by_machine(measured).values():
        _mark_machine(out, keys, measured)
    return out


def suite_shifts(changes: Sequence[Change],
                 measured: Mapping[SeriesKey, Sequence[int]] | None = None) -> list[SuiteShift]:
    """One summary per suite-wide shift among marked ``changes``, in history order.

    With ``measured`` (as for :func:`mark_suite_shifts`), ``measured_series`` counts the
    machine's series that have results before and at or after the shift.
    """
    groups: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for c in changes:
        if c.suite_shift is not None:
            groups[(c.key.machine, c.suite_shift)].append(c)
    out = []
    for (machine, sha), members in groups.items():
        at = [c for c in members if c.commit == sha] or members
        index = at[0].index
        around = sum(1 for k, pos in (measured or {}).items() if k.machine == machine
                     and pos and pos[0] < index <= pos[-1])
        out.append(SuiteShift(
            commit=sha, previous_commit=_mode([c.previous_commit for c in at]), machine=machine,
            direction=_mode([c.direction for c in members]), series=len(members),
            median_rel_change=float(np.median([c.rel_change for c in members])),
            index=index, measured_series=around))
    out.sort(key=lambda s: (s.index, s.machine))
    return out
