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
from scipy import stats as sps

from perfwatch.model import Direction, Verdict
from perfwatch.stats import benjamini_hochberg, compare_samples, decide
from perfwatch.stats.between import (
    BetweenRunNoise,
    between_run_noise,
    between_run_sd,
    runs_noise,
    widen,
)
from perfwatch.stats.levels import commit_levels
from perfwatch.stats.two_sample import TwoSampleResult

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
    b = compare_samples(base, head, rng=rng, between_sd=0.0)  # no estimate at all
    assert (a.pvalue, a.ci_low, a.ci_high) == (b.pvalue, b.ci_low, b.ci_high)
    wide = compare_samples(base, head, rng=rng, between_sd=0.02, between_df=20.0)
    assert wide.pvalue >= a.pvalue and wide.ci_low <= a.ci_low and wide.ci_high >= a.ci_high


def test_an_estimate_clipped_to_zero_keeps_its_degrees_of_freedom(
        rng: np.random.Generator) -> None:
    """sd = 0 estimated from 2 degrees of freedom is not sd = 0 known: the shift is still
    t-tested, with the 2 degrees of freedom of the run-to-run variance."""
    base, head = np.exp(rng.normal(0, 0.02, 10)), np.exp(rng.normal(0.03, 0.02, 10))
    a = compare_samples(base, head, rng=rng)
    b = compare_samples(base, head, rng=rng, between_sd=0.0, between_df=2.0,
                        between_within=0.008)
    assert b.pvalue > a.pvalue and b.ci_low < a.ci_low
    wide = widen(0.03, 0.01, BetweenRunNoise(sd=0.0, df=2.0, commits=0, within=0.01 / 2**0.5))
    assert wide.pvalue == pytest.approx(2 * sps.t.sf(3.0, 2.0), rel=1e-6)


# ------------------------------------------------ between-run noise from the runs themselves
#
# Base and head measured in 2-4 whole runs each (interleaved rounds), no history: the
# spread of the run medians within each side estimates the between-run noise.


def _runs(rng: np.random.Generator, k: int, level: float = 0.0) -> list[np.ndarray]:
    return [_run(rng, level) for _ in range(k)]


def _run_levels(runs: list[np.ndarray]) -> tuple[np.ndarray, float]:
    levels = commit_levels(runs)
    return levels.values, float(np.median(levels.within_se))


def _compare_runs(rng: np.random.Generator, shift: float, k_base: int, k_head: int,
                  history: BetweenRunNoise | None = None) -> TwoSampleResult:
    base, head = _runs(rng, k_base), _runs(rng, k_head, math.log1p(shift))
    (lb, wb), (lh, wh) = _run_levels(base), _run_levels(head)
    noise = runs_noise([lb, lh], float(np.median([wb, wh])), history)
    assert noise is not None and noise.runs == k_base + k_head
    return compare_samples(np.concatenate(base), np.concatenate(head), rng=rng,
                           between_sd=noise.sd, between_df=noise.df,
                           between_within=noise.within, runs_base=k_base, runs_head=k_head,
                           run_shift=float(lh.mean() - lb.mean()))


def test_run_spread_recovers_between_sd(rng: np.random.Generator) -> None:
    est = []
    for _ in range(300):
        (lb, wb), (lh, wh) = _run_levels(_runs(rng, 3)), _run_levels(_runs(rng, 3))
        noise = runs_noise([lb, lh], (wb + wh) / 2)
        assert noise is not None and noise.df == 4.0 and noise.commits == 0
        est.append(noise.sd ** 2)
    assert float(np.mean(est)) == pytest.approx(BETWEEN ** 2, rel=0.15)  # unbiased variance
    assert runs_noise([np.array([0.1]), np.array([0.2])], 0.0) is None  # one run per side


def test_run_spread_is_pooled_with_history_by_degrees_of_freedom() -> None:
    history = BetweenRunNoise(sd=0.2, df=6.0, commits=11)
    noise = runs_noise([np.array([0.0, 0.1]), np.array([0.0, 0.1])], 0.0, history)
    assert noise is not None
    # run part: pooled variance 0.005 on 2 df; history: 0.04 on 6 df
    assert noise.sd ** 2 == pytest.approx((2 * 0.005 + 6 * 0.04) / 8)
    assert (noise.df, noise.commits, noise.runs) == (8.0, 11, 4)


def _aa_suite_false_regressions(rng: np.random.Generator, *, use_runs: bool) -> int:
    results = []
    for _ in range(500):
        kb, kh = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        if use_runs:
            results.append(_compare_runs(rng, 0.0, kb, kh))
        else:
            results.append(compare_samples(np.concatenate(_runs(rng, kb)),
                                           np.concatenate(_runs(rng, kh)), rng=rng))
    q = benjamini_hochberg(np.array([r.pvalue for r in results]))
    return sum(decide(r, float(qi), direction=LOWER).verdict is Verdict.REGRESSION
               for r, qi in zip(results, q, strict=True))


def test_aa_suite_with_2_to_4_runs_per_side_is_quiet_without_history(
        rng: np.random.Generator) -> None:
    assert _aa_suite_false_regressions(rng, use_runs=False) > 100  # pooled samples alone
    assert np.mean([_aa_suite_false_regressions(rng, use_runs=True) for _ in range(2)]) <= 1.0


@pytest.mark.parametrize("runs", [2, 3])
def test_run_based_pvalue_is_calibrated_under_aa(rng: np.random.Generator, runs: int) -> None:
    p = np.array([_compare_runs(rng, 0.0, runs, runs).pvalue for _ in range(1000)])
    assert np.mean(p <= 0.05) <= 0.07
    assert np.mean(p <= 0.01) <= 0.02
    assert np.mean(p <= 0.5) > 0.35  # not useless: p is not stuck at 1


def test_thirty_percent_shift_with_four_runs_per_side_is_confirmed(
        rng: np.random.Generator) -> None:
    """4 runs per side, no history: the shift is 3.7 sds of the difference of the side
    means, judged with 6 degrees of freedom (t-test power about 0.85)."""
    verdicts = []
    for _ in range(200):
        r = _compare_runs(rng, 0.30, 4, 4)
        verdicts.append(decide(r, r.pvalue, direction=LOWER).verdict)
    assert Verdict.NO_CHANGE not in verdicts and Verdict.IMPROVEMENT not in verdicts
    assert verdicts.count(Verdict.REGRESSION) >= 0.7 * 200
    with_history = []
    for _ in range(200):
        history = between_run_noise(_history_levels(rng))
        r = _compare_runs(rng, 0.30, 4, 4, history)
        with_history.append(decide(r, r.pvalue, direction=LOWER).verdict)
    assert with_history.count(Verdict.REGRESSION) > verdicts.count(Verdict.REGRESSION)


def test_unsure_advice_counts_the_runs_already_made(rng: np.random.Generator) -> None:
    r = _compare_runs(rng, 0.05, 3, 3)
    d = decide(r, 1.0, direction=LOWER)
    assert d.verdict is Verdict.UNSURE and d.extra_runs is not None
    per_run = math.sqrt(r.between_sd ** 2 + r.within_se ** 2 / (2 / 3))
    needed = 2 * (2.802 * per_run / math.log1p(max(abs(r.rel_change), 0.02))) ** 2
    assert d.extra_runs == pytest.approx(needed - 3, rel=0.05, abs=2)


def test_history_of_commits_with_several_runs_gives_the_sd_of_one_run(
        rng: np.random.Generator) -> None:
    """History commits levelled at the mean log-median of their 3 runs scatter by
    sd / sqrt 3; told their runs, the estimate is that of one run again (also with 1 and
    3 runs alternating)."""
    def levels(ks: np.ndarray) -> np.ndarray:
        return np.array([float(np.mean(np.log(np.median(_runs(rng, int(k)), axis=1))))
                         for k in ks])

    three = np.full(40, 3.0)
    told = [between_run_sd(levels(three), runs=three) for _ in range(40)]
    blind = [between_run_sd(levels(three)) for _ in range(40)]
    assert 0.085 < float(np.mean(told)) < 0.11
    assert float(np.mean(blind)) < 0.07  # ~ 0.1 / sqrt 3
    mixed = np.tile([1.0, 3.0], 20)
    assert 0.085 < float(np.mean([between_run_sd(levels(mixed), runs=mixed)
                                  for _ in range(40)])) < 0.11
