"""Linear-scale comparisons (values <= 0) with recorded runs: the run medians' spread.

Every run of a slope-like metric (any sign) gets its own level, sd 3 units, around
within-run noise of sd 1 (10 samples). Judged by the pooled samples (rank test) alone,
base and head of the same code differ "significantly" in most series; judged also by the
spread of the run medians (3 runs per side), they do not, and the p-value is calibrated.
"""

from __future__ import annotations

import numpy as np

from perfwatch.linear_compare import compare_linear, widen_runs
from perfwatch.stats import benjamini_hochberg


def _runs(rng: np.random.Generator, k: int, shift: float = 0.0) -> list[np.ndarray]:
    return [shift + rng.normal(0.0, 3.0) + rng.normal(0.0, 1.0, 10) for _ in range(k)]


def _pvalues(rng: np.random.Generator, n: int, *, widened: bool, shift: float = 0.0,
             k: int = 3) -> np.ndarray:
    out = []
    for _ in range(n):
        base, head = _runs(rng, k), _runs(rng, k, shift)
        r = compare_linear(np.concatenate(base), np.concatenate(head))
        if widened:
            r = widen_runs(r, base, head)
            assert (r.runs_base, r.runs_head) == (k, k)
        out.append(r.pvalue)
    return np.array(out)


def test_aa_with_runs_is_quiet_and_calibrated(rng: np.random.Generator) -> None:
    pooled = _pvalues(rng, 300, widened=False)
    assert np.sum(benjamini_hochberg(pooled) <= 0.05) > 100  # within-run noise only
    p = _pvalues(rng, 1000, widened=True)
    assert np.sum(benjamini_hochberg(p[:300]) <= 0.05) <= 1
    assert np.mean(p <= 0.05) <= 0.07 and np.mean(p <= 0.5) > 0.35


def test_a_large_shift_is_still_found(rng: np.random.Generator) -> None:
    p = _pvalues(rng, 200, widened=True, shift=15.0, k=4)  # 5 run sds
    assert np.mean(p <= 0.01) >= 0.8


def test_one_run_per_side_is_unchanged(rng: np.random.Generator) -> None:
    base, head = _runs(rng, 1), _runs(rng, 1)
    r = compare_linear(base[0], head[0])
    assert widen_runs(r, base, head) == r
