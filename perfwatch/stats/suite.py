"""Suite-wide view of detected changes: shifts that hit most benchmarks at one commit.

When most series of a suite shift the same way at the same commit, the cause is almost
always the environment (a new CI machine type, a compiler or interpreter upgrade), not
the code of each benchmark: it is one finding to report for the suite, not one alert per
benchmark. :func:`common_shifts` finds such commits; the caller reports them once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["COMMON_SHARE", "CommonShift", "SeriesChange", "common_shifts"]

COMMON_SHARE = 0.5  # at least half of the series measured around the commit
_MIN_SERIES = 5  # and at least five series: two or three coincidences are not a pattern


@dataclass(frozen=True)
class SeriesChange:
    series: int  # which series (an index chosen by the caller)
    position: int  # commit position in the suite's history (first commit at the new level)
    up: bool  # the value went up


@dataclass(frozen=True)
class CommonShift:
    position: int
    up: bool
    series: tuple[int, ...]  # the series that shifted there


def common_shifts(
    changes: Sequence[SeriesChange],
    measured: Sequence[Sequence[int]],
    *,
    tolerance: int = 1,
    share: float = COMMON_SHARE,
) -> list[CommonShift]:
    """Commits where at least ``share`` of the series measured there (and at least 5)
    changed in the same direction within ``tolerance`` commits.

    ``measured[s]`` lists the commit positions series ``s`` has results for (sorted).
    """
    out: list[CommonShift] = []
    taken: set[tuple[int, int]] = set()
    positions = sorted({(c.position, c.up) for c in changes})
    for pos, up in positions:
        group = [c for c in changes if c.up == up and abs(c.position - pos) <= tolerance
                 and (c.series, c.position) not in taken]
        members = sorted({c.series for c in group})
        around = sum(1 for m in measured if _has_both_sides(m, pos))
        if len(members) >= max(_MIN_SERIES, share * around):
            out.append(CommonShift(pos, up, tuple(members)))
            taken.update((c.series, c.position) for c in group)
    return out


def _has_both_sides(positions: Sequence[int], pos: int) -> bool:
    return bool(positions) and positions[0] < pos <= positions[-1]
