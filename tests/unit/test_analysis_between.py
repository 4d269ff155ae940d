"""compare_report through asv files and a git repository: between-run noise from history.

50 series (one benchmark x 50 params), 20 benchmarked commits of the same code; every run
of every series gets its own level (sd 10% on the log scale) around 1% within-run noise.
Comparing the last two commits (A/A) by their raw samples alone flags most series; with
the between-run noise estimated from the other 18 commits, none.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from perfwatch.adapters.asv_results import scan_results_dir
from perfwatch.analysis import NO_HISTORY_NOTE, compare_report, history_noise
from perfwatch.model import Verdict
from perfwatch.synthetic import ENV_NAME, BenchSpec, SyntheticSuite, build_suite

SPEC = BenchSpec("ops.time_op", "time", "seconds", 0.01, noise=0.01, param_names=("n",),
                 params=(tuple(str(i) for i in range(50)),))


def _noisy_runs(s: SyntheticSuite, rng: np.random.Generator, sd: float) -> None:
    """Multiply each run's samples of each series by its own factor exp(N(0, sd))."""
    for path in sorted((s.results_dir / s.machines[0]).glob("*-*.json")):
        doc = json.loads(path.read_text())
        row = doc["results"][SPEC.name]
        cols = doc["result_columns"]
        factors = np.exp(rng.normal(0.0, sd, len(row[0])))
        row[cols.index("samples")] = [[x * f for x in xs] for xs, f in
                                      zip(row[cols.index("samples")], factors, strict=True)]
        row[0] = [x * f for x, f in zip(row[0], factors, strict=True)]
        path.write_text(json.dumps(doc))


def test_aa_with_history_is_quiet(tmp_path: Path, rng: np.random.Generator) -> None:
    s = build_suite(tmp_path / "s", n_commits=20, specs=(SPEC,), plants=(), gaps=frozenset())
    _noisy_runs(s, rng, 0.10)
    report = compare_report(s.results_dir, s.commits[-2], s.commits[-1], machine=None,
                            rng=rng, repo=s.repo)
    verdicts = [c.verdict for c in report.comparisons]
    assert len(verdicts) == 50
    assert verdicts.count(Verdict.REGRESSION) + verdicts.count(Verdict.IMPROVEMENT) == 0
    assert all(c.note == "" for c in report.comparisons)
    # without --repo the commit order comes from the dates in the result files: same answer
    by_date = compare_report(s.results_dir, s.commits[-2][:8], s.commits[-1][:8],
                             machine=None, rng=rng)
    assert [c.verdict for c in by_date.comparisons] == verdicts


def test_without_history_within_run_noise_only(tmp_path: Path, rng: np.random.Generator
                                               ) -> None:
    """Two commits only: today's comparison (it flags the run-to-run noise), noted."""
    s = build_suite(tmp_path / "s", n_commits=2, specs=(SPEC,), plants=(), gaps=frozenset())
    _noisy_runs(s, rng, 0.10)
    report = compare_report(s.results_dir, s.commits[0], s.commits[1], machine=None, rng=rng)
    flagged = sum(c.verdict in (Verdict.REGRESSION, Verdict.IMPROVEMENT)
                  for c in report.comparisons)
    assert flagged >= 30
    assert all(c.note == NO_HISTORY_NOTE for c in report.comparisons)


def test_history_order_falls_back_to_dates(tmp_path: Path, rng: np.random.Generator) -> None:
    """An order that holds too few of the commits (another branch checked out) falls back
    to the commit dates of the result files; the head commit is never part of the history."""
    s = build_suite(tmp_path / "s", n_commits=8, specs=(SPEC,), plants=(), gaps=frozenset())
    _noisy_runs(s, rng, 0.10)
    rd = scan_results_dir(s.results_dir, machine=None)
    labels = {(s.machines[0], ENV_NAME): s.machines[0]}
    by_dates = history_noise(rd, labels, {}, s.commits[-1])
    assert len(by_dates) == 50 and {n.commits for n in by_dates.values()} == {7}
    assert history_noise(rd, labels, {}, s.commits[-1], order={s.commits[0]: 0}) == by_dates
    positions = {sha: i for i, sha in enumerate(s.commits)}
    assert history_noise(rd, labels, {}, s.commits[-1], order=positions) == by_dates
