"""Common-cause shifts across a suite."""

from __future__ import annotations

from perfwatch.stats.suite import SeriesChange, common_shifts


def test_most_series_shifting_together_is_one_common_shift() -> None:
    measured = [list(range(100))] * 10
    changes = [SeriesChange(s, 50 + (s % 2), up=False) for s in range(7)]
    changes.append(SeriesChange(8, 20, up=True))
    found = common_shifts(changes, measured)
    assert len(found) == 1
    assert found[0].series == tuple(range(7)) and not found[0].up


def test_a_few_coincidences_are_not_common() -> None:
    measured = [list(range(100))] * 40
    changes = [SeriesChange(s, 50, up=True) for s in range(6)]  # 6 of 40: not half
    assert common_shifts(changes, measured) == []


def test_opposite_directions_do_not_add_up() -> None:
    measured = [list(range(100))] * 8
    changes = [SeriesChange(s, 50, up=s % 2 == 0) for s in range(8)]
    assert common_shifts(changes, measured) == []
