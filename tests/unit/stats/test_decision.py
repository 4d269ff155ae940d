"""PR comparison bars (issue 2), by seeded simulation: 10 raw samples per side, 2% noise.

- a 5% slowdown is confirmed as a regression in >= 95% of trials;
- a 3% slowdown is a regression or "unsure" (never "no change") in >= 95%;
- with no shift, a suite of 500 benchmarks averages <= 1 false regression after FDR.
"""

from __future__ import annotations

import math

import numpy as np

from perfwatch.model import Direction, Verdict
from perfwatch.stats import benjamini_hochberg, compare_samples, decide
from perfwatch.stats.decision import runs_needed

LOWER = Direction.LOWER_IS_BETTER


def _trial(rng: np.random.Generator, shift: float) -> Verdict:
    base = np.exp(rng.normal(0.0, 0.02, 10))
    head = np.exp(rng.normal(math.log1p(shift), 0.02, 10))
    res = compare_samples(base, head, rng=rng)
    return decide(res, res.pvalue, direction=LOWER).verdict


def test_five_percent_is_confirmed(rng: np.random.Generator) -> None:
    verdicts = [_trial(rng, 0.05) for _ in range(400)]
    assert verdicts.count(Verdict.REGRESSION) >= 0.95 * 400


def test_three_percent_is_never_no_change(rng: np.random.Generator) -> None:
    verdicts = [_trial(rng, 0.03) for _ in range(400)]
    ok = sum(v in (Verdict.REGRESSION, Verdict.UNSURE) for v in verdicts)
    assert ok >= 0.95 * 400
    assert verdicts.count(Verdict.NO_CHANGE) <= 0.01 * 400


def test_null_suite_of_500_averages_at_most_one_false_regression(
    rng: np.random.Generator,
) -> None:
    false = []
    for _ in range(12):
        results = [compare_samples(np.exp(rng.normal(0, 0.02, 10)),
                                   np.exp(rng.normal(0, 0.02, 10)), rng=rng) for _ in range(500)]
        q = benjamini_hochberg(np.array([r.pvalue for r in results]))
        verdicts = [decide(r, float(qi), direction=LOWER).verdict for r, qi in zip(results, q)]
        false.append(verdicts.count(Verdict.REGRESSION))
    assert np.mean(false) <= 1.0


def test_improvement_for_higher_is_better(rng: np.random.Generator) -> None:
    base = np.exp(rng.normal(0.0, 0.01, 10))
    head = np.exp(rng.normal(math.log(1.2), 0.01, 10))
    res = compare_samples(base, head, rng=rng)
    assert decide(res, res.pvalue, direction=Direction.HIGHER_IS_BETTER).verdict \
        is Verdict.IMPROVEMENT
    assert decide(res, res.pvalue, direction=LOWER).verdict is Verdict.REGRESSION


def test_unsure_carries_a_power_calculation(rng: np.random.Generator) -> None:
    """A 3% shift in 4% noise with 5 runs: unsure; rerunning with the advised number of
    extra runs settles it as a regression in most trials."""
    settled = 0
    for _ in range(40):
        base = np.exp(rng.normal(0.0, 0.04, 5))
        head = np.exp(rng.normal(math.log(1.03), 0.04, 5))
        res = compare_samples(base, head, rng=rng)
        d = decide(res, res.pvalue, direction=LOWER)
        if d.verdict is not Verdict.UNSURE:
            continue
        assert d.extra_runs is not None and d.extra_runs >= 1
        n = 5 + d.extra_runs
        more = compare_samples(np.exp(rng.normal(0.0, 0.04, n)),
                               np.exp(rng.normal(math.log(1.03), 0.04, n)), rng=rng)
        settled += decide(more, more.pvalue, direction=LOWER).verdict is not Verdict.UNSURE
    assert settled >= 20


def test_no_change_needs_a_tight_interval(rng: np.random.Generator) -> None:
    base = np.exp(rng.normal(0.0, 0.002, 20))
    head = np.exp(rng.normal(0.0, 0.002, 20))
    res = compare_samples(base, head, rng=rng)
    assert decide(res, res.pvalue, direction=LOWER).verdict is Verdict.NO_CHANGE


def test_runs_needed_grows_with_noise() -> None:
    assert runs_needed(0.01, 0.02) < runs_needed(0.02, 0.02) < runs_needed(0.04, 0.02)
    assert runs_needed(0.02, 0.05) < runs_needed(0.02, 0.02)
