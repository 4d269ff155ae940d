"""Between-run noise in compare: estimated from a history, it widens the comparison.

Simulation: every run (commit) of a series has its own level, sd 10% on the log scale
(between-run), and 10 samples around it with 1% within-run noise. Base and head are one
run each of the same code (A/A). Judged by the raw samples alone (``between_sd = 0``, the
behaviour before), 500 such series give about 220 false regressions after FDR (measured
213-233 per suite); with the between-run sd estimated from a 20-commit history, 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfwatch.model import Direction, Verdict
from perfwatch.stats import benjamini_hochberg, compare_samples, decide
from perfwatch.stats.between import between_run_noise, between_run_sd

LOWER = Direction.LOWER_IS_BETTER
BETWEEN, WITHIN, HISTORY = 0.10, 0.01, 20


def _run(rng: np.random.Generator, level: float = 0.0) -> np.ndarray:
    return np.exp(level + rng.normal(0.0, BETWEEN) + rng.normal(0.0, WITHIN, 10))


def _history_levels(rng: np.random.Generator, n: int = HISTORY) -> np.ndarray:
    return np.log([float(np.median(_run(rng))) for _ in range(n)])


def _compare(rng: np.random.Generator, shift: float, *, history: bool, runs: int = 1
             ) -> tuple[float, float, Verdict]:
    noise = between_run_noise(_history_levels(rng))
    assert noise is not None
    base = np.concatenate([_run(rng) for _ in range(runs)])
    head = np.concatenate([_run(rng, math.log1p(shift)) for _ in range(runs)])
    kw = ({"between_sd": noise.sd, "between_df": noise.df, "runs_base": runs,
           "runs_head": runs} if history else {})
    r = compare_samples(base, head, rng=rng, **kw)  # type: ignore[arg-type]
    return r.pvalue, r.rel_change, decide(r, r.pvalue, direction=LOWER).verdict


def _false_regressions(rng: np.random.Generator, *, history: bool) -> int:
    results = []
    for _ in range(500):
        noise = between_run_noise(_history_levels(rng))
        assert noise is not None
        kw = {"between_sd": noise.sd, "between_df": noise.df} if history else {}
        results.append(compare_samples(_run(rng), _run(rng), rng=rng, **kw))  # type: ignore[arg-type]
    q = benjamini_hochberg(np.array([r.pvalue for r in results]))
    return sum(decide(r, float(qi), direction=LOWER).verdict is Verdict.REGRESSION
               for r, qi in zip(results, q, strict=True))


def test_estimate_recovers_between_sd_and_survives_a_step(rng: np.random.Generator) -> None:
    est = [between_run_sd(_history_levels(rng, 60)) for _ in range(50)]
    assert 0.085 < float(np.mean(est)) < 0.11  # within-run part (0.01 * 1.25 / sqrt 10) is tiny
    stepped = [between_run_sd(_history_levels(rng, 60) + np.r_[np.zeros(30), np.full(30, 0.7)])
               for _ in range(50)]
    assert float(np.mean(stepped)) < 1.25 * float(np.mean(est))  # a 70% step is one clipped diff


def test_within_run_part_is_subtracted(rng: np.random.Generator) -> None:
    levels = rng.normal(0.0, 0.05, 200)
    assert between_run_sd(levels, np.full(200, 0.03)) == pytest.approx(0.04, rel=0.15)
    assert between_run_sd(levels[:3]) == 0.0 and between_run_noise(levels[:3]) is None


def test_aa_suite_of_500_is_quiet_with_history(rng: np.random.Generator) -> None:
    assert _false_regressions(rng, history=False) > 100  # the defect: within-run noise only
    assert np.mean([_false_regressions(rng, history=True) for _ in range(2)]) <= 1.0


def test_pvalue_is_calibrated_under_aa(rng: np.random.Generator) -> None:
    p = np.array([_compare(rng, 0.0, history=True)[0] for _ in range(400)])
    assert np.mean(p <= 0.05) <= 0.07
    assert np.mean(p <= 0.5) > 0.35  # not useless: p is not stuck at 1


def test_thirty_percent_shift_is_confirmed_with_runs_and_never_missed(
        rng: np.random.Generator) -> None:
    """With one run per side a 30% shift is 1.85 sds of the difference of two runs (sd
    10% each): no test can confirm it reliably; it must never be "no change" and is
    "unsure" with rerun advice otherwise. With 8 runs per side (5.2 sds) it is confirmed."""
    one = [_compare(rng, 0.30, history=True)[2] for _ in range(200)]
    assert Verdict.NO_CHANGE not in one and Verdict.IMPROVEMENT not in one
    assert 0.25 <= one.count(Verdict.REGRESSION) / 200 <= 0.65  # t-test power at 1.85 sd
    five = [_compare(rng, 0.30, history=True, runs=8)[2] for _ in range(200)]
    assert five.count(Verdict.REGRESSION) >= 0.95 * 200


def test_unsure_with_between_noise_advises_whole_runs(rng: np.random.Generator) -> None:
    base, head = _run(rng), _run(rng, math.log(1.05))
    r = compare_samples(base, head, rng=rng, between_sd=0.10, between_df=12.0)
    d = decide(r, r.pvalue, direction=LOWER)
    assert d.verdict is Verdict.UNSURE and d.extra_runs is not None
    # per-run sd ~10%: 2 (2.8 * 0.1 / log(1 + effect))^2 whole runs per side, minus the one
    effect = math.log1p(max(abs(r.rel_change), 0.02))
    assert d.extra_runs == pytest.approx(2 * (2.802 * 0.1 / effect) ** 2 - 1, rel=0.05, abs=2)
    assert d.unstable


def test_zero_between_sd_is_todays_comparison(rng: np.random.Generator) -> None:
    base, head = np.exp(rng.normal(0, 0.02, 10)), np.exp(rng.normal(0.03, 0.02, 10))
    a = compare_samples(base, head, rng=rng)
    b = compare_samples(base, head, rng=rng, between_sd=0.0, between_df=5.0)
    assert (a.pvalue, a.ci_low, a.ci_high) == (b.pvalue, b.ci_low, b.ci_high)
    wide = compare_samples(base, head, rng=rng, between_sd=0.02, between_df=20.0)
    assert wide.pvalue >= a.pvalue and wide.ci_low <= a.ci_low and wide.ci_high >= a.ci_high
