"""Change-point detection: planted steps, pure noise, spikes, outliers, nuisances.

All histories are seeded; each test plants what it checks (tolerance: 2 commits).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfwatch.stats import ChangePoint, detect_change_points
from perfwatch.stats.candidates import CandidateTest
from perfwatch.stats.changepoint import MIN_SIZE
from perfwatch.stats.excursions import noise_could_make, visited_elsewhere


def _history(rng: np.random.Generator, n: int, *, steps: dict[int, float] | None = None,
             within: float = 0.02, between: float = 0.005, k: int = 10,
             base: float = 1e-3) -> list[np.ndarray]:
    level = np.zeros(n)
    for at, rel in (steps or {}).items():
        level[at:] += math.log1p(rel)
    level += rng.normal(0.0, between, n)
    return [base * np.exp(level[i] + rng.normal(0.0, within, k)) for i in range(n)]


def _near(cps: list[ChangePoint], index: int) -> ChangePoint | None:
    hits = [c for c in cps if abs(c.index - index) <= 2]
    return hits[0] if hits else None


def test_planted_steps_found_with_size_ci_and_p(rng: np.random.Generator) -> None:
    samples = _history(rng, 300, steps={100: 0.10, 200: -0.05})
    cps = detect_change_points(samples, rng=rng)
    assert len(cps) == 2
    up, down = _near(cps, 100), _near(cps, 200)
    assert up is not None and down is not None
    assert up.rel_change == pytest.approx(0.10, abs=0.015)
    assert up.ci_low < 0.10 < up.ci_high
    assert down.rel_change == pytest.approx(-0.05, abs=0.015)
    assert up.pvalue < 1e-6 and down.pvalue < 1e-6


def test_single_values_per_commit(rng: np.random.Generator) -> None:
    samples = _history(rng, 120, steps={60: 0.08}, k=1, within=0.01)
    cps = detect_change_points(samples, rng=rng)
    assert [c.index for c in cps] == [pytest.approx(60, abs=2)]


def test_mixed_sample_counts_and_short_history(rng: np.random.Generator) -> None:
    samples = [s[: 1 + i % 7] for i, s in enumerate(_history(rng, 40, steps={20: 0.2}))]
    cps = detect_change_points(samples, rng=rng)
    assert len(cps) == 1 and _near(cps, 20) is not None
    assert detect_change_points(samples[: 2 * MIN_SIZE - 1], rng=rng) == []


def test_pure_noise_false_alarm_rate(rng: np.random.Generator) -> None:
    """200 step-free histories of 200 commits: at most 2 with any alarm."""
    alarmed = sum(bool(detect_change_points(_history(rng, 200), rng=rng)) for _ in range(200))
    assert alarmed <= 2


def test_heavy_tailed_and_outlier_noise_is_not_a_change(rng: np.random.Generator) -> None:
    alarmed = 0
    for _ in range(60):
        level = rng.normal(0.0, 0.005, 200)
        samples = [np.exp(level[i] + 0.02 * rng.standard_t(3, 10)) for i in range(200)]
        for i in rng.choice(200, 10, replace=False):  # whole commits way off
            samples[i] = samples[i] * 1.5
        alarmed += bool(detect_change_points(samples, rng=rng))
    assert alarmed <= 1


@pytest.mark.parametrize("width", [1, 2, 3])
def test_spike_that_reverts_is_not_two_changes(rng: np.random.Generator, width: int) -> None:
    samples = _history(rng, 150)
    for i in range(80, 80 + width):
        samples[i] = samples[i] * 1.4
    assert detect_change_points(samples, rng=rng) == []


def test_short_excursion_to_a_new_level_is_a_change_and_its_revert(
        rng: np.random.Generator) -> None:
    """Eight commits 30% slower, then back, at a level seen nowhere else: a regression
    that was reverted, two changes."""
    samples = _history(rng, 200)
    for i in range(100, 108):
        samples[i] = samples[i] * 1.3
    cps = detect_change_points(samples, rng=rng)
    assert [c.index for c in cps] == [100, 108]
    assert cps[0].rel_change > 0.2 and cps[1].rel_change < -0.2


def test_short_excursion_to_a_visited_level_is_not_reported(rng: np.random.Generator) -> None:
    """A slower runner that single commits land on now and then (one in eight), and once
    eight commits in a row: an excursion to a mode, not two changes."""
    for _ in range(5):
        samples = _history(rng, 200)
        slow = rng.random(200) < 0.125
        slow[100:108] = True
        slow[92:100] = slow[108:116] = False
        samples = [s * (1.3 if slow[i] else 1.0) for i, s in enumerate(samples)]
        assert detect_change_points(samples, rng=rng) == []


def test_mode_switching_is_not_reported(rng: np.random.Generator) -> None:
    """Runs of commits alternate between two machine modes 12% apart."""
    samples = _history(rng, 240)
    slow = np.zeros(240, dtype=bool)
    for start in (30, 70, 110, 160, 200):
        slow[start : start + 20] = True
    samples = [s * (1.12 if slow[i] else 1.0) for i, s in enumerate(samples)]
    assert detect_change_points(samples, rng=rng) == []


def test_slow_linear_drift_is_not_reported(rng: np.random.Generator) -> None:
    n = 300
    samples = _history(rng, n)
    samples = [s * math.exp(0.10 * i / n) for i, s in enumerate(samples)]  # +10% overall
    assert detect_change_points(samples, rng=rng) == []


def test_variance_change_is_not_reported(rng: np.random.Generator) -> None:
    samples = _history(rng, 100, within=0.01) + _history(rng, 100, within=0.05)
    assert detect_change_points(samples, rng=rng) == []


def test_between_run_noise_sets_the_bar(rng: np.random.Generator) -> None:
    """A 2% step is clear when runs agree (0.2% between-run noise) and not reported
    when whole runs scatter by 3%, however precise each run's own samples are."""
    quiet = _history(rng, 200, steps={100: 0.02}, within=0.005, between=0.002)
    noisy = _history(rng, 200, steps={100: 0.02}, within=0.005, between=0.03)
    assert _near(detect_change_points(quiet, rng=rng), 100) is not None
    assert detect_change_points(noisy, rng=rng) == []


def test_non_positive_values_fall_back_to_a_linear_scale(rng: np.random.Generator) -> None:
    level = np.r_[np.zeros(60), np.full(60, 5.0)]
    samples = [level[i] + rng.normal(0.0, 1.0, 5) for i in range(120)]
    cps = detect_change_points(samples, rng=rng)
    assert len(cps) == 1 and _near(cps, 60) is not None


def test_identical_values_do_not_divide_by_zero(rng: np.random.Generator) -> None:
    samples = [np.full(5, 2.0)] * 30 + [np.full(5, 3.0)] * 30
    cps = detect_change_points(samples, rng=rng)
    assert len(cps) == 1 and cps[0].index == 30
    assert cps[0].rel_change == pytest.approx(0.5)


def test_non_finite_samples_are_ignored(rng: np.random.Generator) -> None:
    samples = _history(rng, 80, steps={40: 0.2})
    samples[10] = np.append(samples[10], np.nan)
    samples[50] = np.append(samples[50], np.inf)
    cps = detect_change_points(samples, rng=rng)
    assert len(cps) == 1 and _near(cps, 40) is not None
    with pytest.raises(ValueError, match="finite"):
        detect_change_points(samples[:20] + [np.array([np.nan])], rng=rng)


def test_an_excursion_level_visited_elsewhere_is_a_mode(rng: np.random.Generator) -> None:
    y = rng.normal(0.0, 0.01, 200)
    y[100:108] += 0.26
    into = CandidateTest(100, 50, 108, 0.26, 0.01, 20.0, 0.0, 20.0, True)
    back = CandidateTest(108, 100, 158, -0.26, 0.01, -20.0, 0.0, -20.0, True)
    assert not visited_elsewhere(y, into, back, 0.01)
    visits = np.flatnonzero(rng.random(200) < 0.125)
    y[visits[(visits < 100) | (visits >= 108)]] += 0.26
    assert visited_elsewhere(y, into, back, 0.01)


def test_an_excursion_heavy_tailed_noise_could_make_is_not_a_change(
        rng: np.random.Generator) -> None:
    into = CandidateTest(100, 50, 107, 0.02, 0.01, 5.0, 0.0, 5.0, True)
    back = CandidateTest(107, 100, 157, -0.02, 0.01, -5.0, 0.0, -5.0, True)
    heavy = 0.01 * np.abs(rng.standard_t(2, 300))  # one-sided heavy tail, as timings have
    heavy[100:107] = 0.03 + 0.01 * np.abs(rng.standard_t(2, 7))
    assert noise_could_make(heavy, into, back)
    clean = rng.normal(0.0, 0.005, 300)
    clean[100:107] += 0.04
    assert not noise_could_make(clean, into, back)
