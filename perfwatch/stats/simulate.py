"""Seeded synthetic benchmark histories with planted level shifts (for tests and checks).

Pure: an ``rng`` in, arrays out. Each history has a per-commit between-run offset
(as real runs on shared machines do) and one of several within-run noise models;
only shifts of the median level are planted changes. Drift, variance changes, mode
switching and outliers are nuisances a detector must not report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["EXTRA_MODELS", "NOISE_MODELS", "PlantedChange", "SimulatedHistory", "simulate_history"]

FloatArray = NDArray[np.float64]

NOISE_MODELS = (
    "gaussian",
    "lognormal",
    "student_t",
    "outliers",
    "bimodal",
    "drift",
    "heteroscedastic",
)
# Not drawn by default (the default stream of histories stays as it was): two run modes
# that persist for a few runs (a Markov chain), and a level that wanders as a random walk.
EXTRA_MODELS = ("mode_runs", "random_walk")


@dataclass(frozen=True)
class PlantedChange:
    index: int  # first commit at the new level
    rel: float  # new/old - 1 of the median level


@dataclass(frozen=True)
class SimulatedHistory:
    noise_model: str
    samples: tuple[FloatArray, ...]
    changes: tuple[PlantedChange, ...]


def _plant(rng: np.random.Generator, length: int, n_changes: int) -> tuple[PlantedChange, ...]:
    gap = 10
    if n_changes == 0 or length < 2 * gap + 1:
        return ()
    for _ in range(100):
        idx = np.sort(rng.choice(np.arange(gap, length - gap), size=n_changes, replace=False))
        if np.all(np.diff(idx) >= gap):
            mags = np.exp(rng.uniform(np.log(0.01), np.log(0.6), size=n_changes))
            signs = rng.choice([-1.0, 1.0], size=n_changes)
            return tuple(PlantedChange(int(i), float(s * m)) for i, s, m in zip(idx, signs, mags, strict=True))
    return ()


def _noise(rng: np.random.Generator, model: str, size: int, sigma: float) -> FloatArray:
    if model == "student_t":
        return np.asarray(sigma * rng.standard_t(3, size) / np.sqrt(3.0), dtype=np.float64)
    if model == "lognormal":
        return np.asarray(np.abs(rng.lognormal(0.0, 1.0, size) - 1.0) * sigma, dtype=np.float64)
    base = rng.normal(0.0, sigma, size)
    if model == "outliers":
        hit = rng.random(size) < 0.05
        base[hit] += rng.uniform(0.2, 1.5, int(hit.sum()))
    return np.asarray(base, dtype=np.float64)


def _mode_runs(rng: np.random.Generator, length: int) -> FloatArray:
    """Offsets of a second run mode (3-20% slower) that persists: each run switches
    mode with probability 0.1-0.4."""
    gap = np.log1p(rng.uniform(0.03, 0.2))
    switch = rng.random(length) < rng.uniform(0.1, 0.4)
    upper = (np.cumsum(switch) + int(rng.integers(2))) % 2 == 1
    return np.asarray(np.where(upper, gap, 0.0), dtype=np.float64)


def simulate_history(
    rng: np.random.Generator, *, noise_model: str | None = None, n_changes: int | None = None
) -> SimulatedHistory:
    """One history: 30-600 commits, 1-20 samples per commit, 0-3 planted shifts
    (``noise_model`` one of NOISE_MODELS or EXTRA_MODELS; by default one of NOISE_MODELS)."""
    model = noise_model or str(rng.choice(NOISE_MODELS))
    length = int(rng.integers(30, 601))
    per_commit = int(rng.choice([1, 3, 5, 10, 20]))
    k = int(rng.choice([0, 0, 1, 2, 3])) if n_changes is None else n_changes
    changes = _plant(rng, length, k)
    level = np.zeros(length)
    for ch in changes:
        level[ch.index :] += np.log1p(ch.rel)
    sigma_w = float(np.exp(rng.uniform(np.log(0.003), np.log(0.05))))
    sigma_b = float(np.exp(rng.uniform(np.log(0.001), np.log(0.02))))
    level += rng.normal(0.0, sigma_b, length)
    scale = np.ones(length)
    if model == "drift":
        level += np.linspace(0.0, rng.uniform(-0.15, 0.15), length)
    if model == "heteroscedastic":
        scale = np.exp(np.cumsum(rng.normal(0.0, 0.08, length)))
        scale = np.clip(scale / np.median(scale), 0.3, 4.0)
    if model == "bimodal":
        second = np.log1p(rng.uniform(0.03, 0.2))
        mode = rng.random(length) < rng.uniform(0.1, 0.5)
        level += np.where(mode, second, 0.0)
    if model == "mode_runs":
        level += _mode_runs(rng, length)
    if model == "random_walk":
        total = rng.uniform(0.02, 0.1)  # sd of the walk's end point
        level += np.cumsum(rng.normal(0.0, total / np.sqrt(length), length))
    base = float(np.exp(rng.uniform(np.log(1e-6), np.log(10.0))))
    samples = tuple(
        np.asarray(base * np.exp(level[i] + _noise(rng, model, per_commit, sigma_w * scale[i])))
        for i in range(length)
    )
    return SimulatedHistory(model, samples, changes)
