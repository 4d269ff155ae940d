"""Mode-aware levels: a history switching between two run modes, with and without a change."""

from __future__ import annotations

import math

import numpy as np

from perfwatch.stats import detect_change_points
from perfwatch.stats.levels import robust_scale
from perfwatch.stats.modes import demode


def _switching(rng: np.random.Generator, n: int, *, gap: float = 0.15, p_switch: float = 0.2,
               step_at: int | None = None, step: float = 0.0) -> list[np.ndarray]:
    """Per-run modes that persist (a Markov chain), 1% between-run noise, 10 samples."""
    upper = np.zeros(n, dtype=bool)
    for i in range(1, n):
        upper[i] = upper[i - 1] != (rng.random() < p_switch)
    level = np.where(upper, math.log1p(gap), 0.0) + rng.normal(0.0, 0.004, n)
    if step_at is not None:
        level[step_at:] += math.log1p(step)
    return [1e-3 * np.exp(level[i] + rng.normal(0.0, 0.01, 10)) for i in range(n)]


def test_small_step_between_switching_modes_is_found(rng: np.random.Generator) -> None:
    found = 0
    for _ in range(10):
        cps = detect_change_points(_switching(rng, 200, step_at=120, step=0.03), rng=rng)
        found += sum(1 for c in cps if abs(c.index - 120) <= 2 and c.rel_change > 0)
        assert all(abs(c.index - 120) <= 2 for c in cps)  # the switches are not changes
    assert found >= 9


def test_switching_alone_is_quiet(rng: np.random.Generator) -> None:
    for _ in range(20):
        assert detect_change_points(_switching(rng, 300), rng=rng) == []


def test_demode_removes_the_switches(rng: np.random.Generator) -> None:
    y = np.log([float(np.median(s)) for s in _switching(rng, 200)])
    modal = demode(y, robust_scale(y))
    assert modal is not None
    assert float(np.ptp(modal)) < 0.05 < float(np.ptp(y))


def test_no_modes_in_plain_or_heavy_tailed_noise_or_one_step(rng: np.random.Generator) -> None:
    plain = rng.normal(0.0, 0.01, 500)
    heavy = np.log(np.median(np.exp(0.02 * np.abs(rng.lognormal(0.0, 1.0, (500, 3)) - 1.0)), axis=1))
    step = np.concatenate([np.zeros(100), np.full(100, 0.2)]) + rng.normal(0.0, 0.01, 200)
    spikes = rng.normal(0.0, 0.01, 300)
    spikes[::37] += rng.uniform(0.1, 0.5, spikes[::37].size)  # outlier runs of any size
    for y in (plain, heavy, step, spikes):
        assert demode(y, robust_scale(y)) is None


def test_outlier_runs_of_any_height_leave_no_stuck_mode(rng: np.random.Generator) -> None:
    """Single-commit outliers 75-130% high, one value per commit: whatever demode makes
    of them, no stretch of ordinary commits is shifted by a gap."""
    for _ in range(20):
        y = rng.normal(0.0, 0.025, 200)
        hits = rng.choice(np.arange(5, 195, 8), size=16, replace=False)
        y[hits] += np.log1p(rng.uniform(0.75, 1.3, hits.size))
        modal = demode(y, robust_scale(y))
        if modal is not None:
            ordinary = np.setdiff1d(np.arange(200), hits)
            assert float(np.max(np.abs(modal[ordinary] - y[ordinary]))) < 0.05
