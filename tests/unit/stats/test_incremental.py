"""Incremental detection, the batch path and the on-disk cache."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from perfwatch.adapters.detection_cache import load_cache, save_cache
from perfwatch.errors import ResultsFormatError
from perfwatch.stats import detect_change_points
from perfwatch.stats.batch import detect_batch
from perfwatch.stats.incremental import append_commit, start_detection


def _samples(rng: np.random.Generator, n: int, step_at: int | None, rel: float = 0.08) -> list[np.ndarray]:
    level = rng.normal(0.0, 0.004, n)
    if step_at is not None:
        level[step_at:] += math.log1p(rel)
    return [np.exp(level[i] + rng.normal(0.0, 0.02, 10)) for i in range(n)]


def test_appending_finds_a_new_step_like_full_detection(rng: np.random.Generator) -> None:
    history = _samples(rng, 160, step_at=140)
    state = start_detection(history[:120])
    assert state.changes == ()
    for s in history[120:]:
        state, changes = append_commit(state, s)
    full = detect_change_points(history, rng=rng)
    assert [c.index for c in changes] == [c.index for c in full]
    assert len(changes) == 1 and abs(changes[0].index - 140) <= 2


def test_appending_noise_keeps_the_old_changes(rng: np.random.Generator) -> None:
    history = _samples(rng, 200, step_at=60)
    state = start_detection(history[:150])
    before = state.changes
    for s in history[150:]:
        state, changes = append_commit(state, s)
    assert [c.index for c in changes] == [c.index for c in before] and len(before) == 1
    assert state.levels.size == 200


def test_batch_equals_one_by_one(rng: np.random.Generator) -> None:
    cube = np.stack([np.stack(_samples(rng, 120, step_at=s)) for s in (None, 50, 90)])
    batch = detect_batch(cube, rng=rng)
    single = [detect_change_points(list(cube[i]), rng=rng) for i in range(3)]
    assert [[c.index for c in b] for b in batch] == [[c.index for c in s] for s in single]
    assert [len(b) for b in batch] == [0, 1, 1]


def test_cache_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    states = {"a": start_detection(_samples(rng, 80, step_at=40)),
              "b": start_detection(_samples(rng, 30, step_at=None))}
    path = tmp_path / "cache" / "detect.npz"
    save_cache(path, states)
    back = load_cache(path)
    assert set(back) == {"a", "b"}
    for k, s in states.items():
        assert np.array_equal(back[k].levels, s.levels)
        assert back[k].changes == s.changes
        assert back[k].noise == s.noise
    assert load_cache(tmp_path / "missing.npz") == {}


def test_cache_of_another_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "detect.npz"
    np.savez(path, header=np.array('{"format": "perfwatch-detection-cache", "version": 99, '
                                   '"keys": []}'))
    with pytest.raises(ResultsFormatError, match="delete the file"):
        load_cache(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(ResultsFormatError, match=str(path)):
        load_cache(path)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_change_is_first_reported_where_it_is(seed: int) -> None:
    # A clear shift appended commit by commit: with fewer than MIN_SIZE commits after it,
    # the full re-detection can only place it at the last allowed index (too early); the
    # append waits for the commit that places it, then keeps that estimate.
    gen = np.random.default_rng(seed)
    history = _samples(gen, 60, step_at=48, rel=0.5)
    state = start_detection(history[:40])
    first = None
    for k in range(40, 60):
        state, changes = append_commit(state, history[k])
        if changes and first is None:
            first = (k, [c.index for c in changes])
    assert first is not None
    assert first[1] == [48]
    assert first[0] <= 48 + 5  # reported once MIN_SIZE commits hold the new level
