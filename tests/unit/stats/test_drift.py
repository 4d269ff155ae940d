"""Random-walk drift: the local level model and the step-or-walk check."""

from __future__ import annotations

import math

import numpy as np

from perfwatch.stats import detect_change_points
from perfwatch.stats.changepoint import MAX_PVALUE
from perfwatch.stats.drift import local_level


def _walk(rng: np.random.Generator, n: int, *, walk_sd: float, step_at: int | None = None,
          step: float = 0.0) -> list[np.ndarray]:
    """A level that is a random walk plus 1% run-to-run noise, 7 samples of 1% each."""
    level = np.cumsum(rng.normal(0.0, walk_sd, n)) + rng.normal(0.0, 0.01, n)
    if step_at is not None:
        level[step_at:] += math.log1p(step)
    return [0.5 * np.exp(level[i] + rng.normal(0.0, 0.01, 7)) for i in range(n)]


def test_wandering_levels_raise_fewer_alarms(rng: np.random.Generator) -> None:
    # a strong walk (0.5% per commit against 1% noise): judged as independent noise
    # around steps, such histories raise about 1.2 alarms each; as a walk, about 0.35
    alarms = sum(len(detect_change_points(_walk(rng, 350, walk_sd=0.005), rng=rng))
                 for _ in range(40))
    assert alarms <= 24


def test_a_step_stands_out_of_the_walk(rng: np.random.Generator) -> None:
    found = 0
    for _ in range(10):
        cps = detect_change_points(_walk(rng, 300, walk_sd=0.003, step_at=150, step=0.08), rng=rng)
        found += any(abs(c.index - 150) <= 2 and c.rel_change > 0 for c in cps)
    assert found >= 8


def test_local_level_only_for_wandering_histories(rng: np.random.Generator) -> None:
    noise = rng.normal(0.0, 0.01, 400)
    walk = np.cumsum(rng.normal(0.0, 0.005, 400)) + rng.normal(0.0, 0.01, 400)
    steps = noise + np.repeat([0.0, 0.05, 0.0, 0.05], 100)
    assert local_level(noise, [], MAX_PVALUE) is None
    assert local_level(steps, [100, 200, 300], MAX_PVALUE) is None
    model = local_level(walk, [], MAX_PVALUE)
    assert model is not None
    assert 0.5 * 0.005**2 < model.walk_var < 2.0 * 0.005**2
