"""The batched detection path gives exactly the per-series results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from perfwatch import detect_candidates
from perfwatch.analysis import History, detect_history
from perfwatch.detect_candidates import find_candidates
from perfwatch.model import Commit, Direction, Series, SeriesKey

_N_COMMITS = 60


def _suite(rng: np.random.Generator) -> History:
    """40 gap-free series (7 samples, a third with a planted step), plus series that
    cannot be batched: other gaps, a varying sample count, zeros."""
    commits = tuple(Commit(f"{i:040x}", datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i))
                    for i in range(_N_COMMITS))
    series = []
    for s in range(40):
        step = 1.0 + (0.05 + 0.02 * s if s % 3 == 0 else 0.0)
        at = 15 + s % 30
        level = [1e-3 * (1 + s) * (step if i >= at else 1.0) for i in range(_N_COMMITS)]
        samples = tuple(lv * np.exp(rng.normal(0, 0.02, 7)) for lv in level)
        series.append(Series(SeriesKey(f"b{s:02d}.time_x", None, "box"), "seconds",
                             Direction.LOWER_IS_BETTER, commits, samples))
    odd = [rng.normal(1.0, 0.02, 7) for _ in range(_N_COMMITS)]
    odd[10] = np.empty(0)  # a gap the others do not have
    varying = [rng.normal(1.0, 0.02, 3 + i % 4) for i in range(_N_COMMITS)]
    zeros = [np.zeros(7) for _ in range(_N_COMMITS)]
    for name, data in (("odd", odd), ("varying", varying), ("zeros", zeros)):
        series.append(Series(SeriesKey(f"z.{name}", None, "box"), "count",
                             Direction.LOWER_IS_BETTER, commits, tuple(data)))
    return History(series=tuple(series), commits=commits, missing_commits=(),
                   machines=("box",), branch="main")


def test_batch_equals_per_series(rng: np.random.Generator,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    history = _suite(rng)
    batched: list[int] = []
    real = detect_candidates.detect_batch

    def counting(cube: np.ndarray, **kw: np.random.Generator) -> object:
        batched.append(cube.shape[0])
        return real(cube, **kw)

    monkeypatch.setattr(detect_candidates, "detect_batch", counting)
    fast = find_candidates(history.series, np.random.default_rng(1))
    slow = find_candidates(history.series, np.random.default_rng(1), batch=False)
    assert batched == [40]  # only the 40 gap-free, equal-sized, positive series
    assert fast == slow
    assert sum(map(len, fast)) >= 10  # the planted steps were found: a real comparison
    changes = detect_history(history, rng=np.random.default_rng(1))
    assert {c.key.benchmark for c in changes} <= {f"b{s:02d}.time_x" for s in range(0, 40, 3)}
