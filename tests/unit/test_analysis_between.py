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
from perfwatch.harness.run_record import note_invocation, snapshot
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


def _write_rounds(s: SyntheticSuite, rng: np.random.Generator, rounds: int,
                  factor: dict[tuple[str, int], float], *, signed: bool = False) -> None:
    """Rewrite each commit's results as ``perfwatch run`` leaves them after ``rounds``
    interleaved rounds: every round appends 10 samples per series at the run's own level
    (between-run sd 10%) and the run record notes each round. ``signed``: values around
    0.001 of both signs instead (run levels sd 0.003, within-run sd 0.001)."""
    machine = s.machines[0]
    for path in sorted((s.results_dir / machine).glob("*-*.json")):
        doc = json.loads(path.read_text())
        cols = doc["result_columns"]
        row = doc["results"][SPEC.name]
        n = len(row[0])
        samples: list[list[float]] = [[] for _ in range(n)]
        for r in range(rounds):
            before = snapshot(path, machine)
            for i in range(n):
                level = factor.get((doc["commit_hash"], i), 1.0) * np.exp(rng.normal(0, 0.10))
                samples[i] += (list(0.001 + rng.normal(0, 0.003) + rng.normal(0, 0.001, 10))
                               if signed else
                               list(0.01 * level * np.exp(rng.normal(0.0, 0.01, 10))))
            row[cols.index("samples")] = samples
            row[0] = [float(np.median(x)) for x in samples]
            row[cols.index("started_at")] = 1_800_000_000_000 + r
            path.write_text(json.dumps(doc))
            note_invocation(path, machine, doc["commit_hash"], before, append=r > 0)


def test_aa_with_recorded_runs_is_quiet_without_history(
        tmp_path: Path, rng: np.random.Generator) -> None:
    """Two commits only, 3 recorded runs each: the spread of the run medians gives the
    between-run noise; the same files without their run records flag most series."""
    s = build_suite(tmp_path / "s", n_commits=2, specs=(SPEC,), plants=(), gaps=frozenset())
    _write_rounds(s, rng, 3, {})
    report = compare_report(s.results_dir, s.commits[0], s.commits[1], machine=None, rng=rng)
    verdicts = [c.verdict for c in report.comparisons]
    assert len(verdicts) == 50
    assert verdicts.count(Verdict.REGRESSION) + verdicts.count(Verdict.IMPROVEMENT) == 0
    assert {c.note for c in report.comparisons} == {
        "between-run noise from 3 runs per side, no history"}
    unsure = [c for c in report.comparisons if c.verdict is Verdict.UNSURE]
    assert unsure and all(c.extra_runs is not None for c in unsure)
    for record in (s.results_dir / ".perfwatch").rglob("*.runs"):
        record.unlink()
    blind = compare_report(s.results_dir, s.commits[0], s.commits[1], machine=None, rng=rng)
    assert sum(c.verdict in (Verdict.REGRESSION, Verdict.IMPROVEMENT)
               for c in blind.comparisons) >= 10  # 19 with this seed
    assert {c.note for c in blind.comparisons} == {NO_HISTORY_NOTE}


def test_planted_shift_with_four_recorded_runs_is_confirmed(
        tmp_path: Path, rng: np.random.Generator) -> None:
    """Series 0-9 are 50% slower at head: most are confirmed, none of the other 40 is."""
    s = build_suite(tmp_path / "s", n_commits=2, specs=(SPEC,), plants=(), gaps=frozenset())
    _write_rounds(s, rng, 4, {(s.commits[1], i): 1.5 for i in range(10)})
    report = compare_report(s.results_dir, s.commits[0], s.commits[1], machine=None, rng=rng)
    by_param = {int(c.key.params[0]): c for c in report.comparisons}  # type: ignore[index]
    regressed = {i for i, c in by_param.items() if c.verdict is Verdict.REGRESSION}
    assert len(regressed & set(range(10))) >= 6
    assert not regressed - set(range(10))
    assert not any(c.verdict is Verdict.IMPROVEMENT for c in report.comparisons)


def test_signed_values_with_recorded_runs_are_widened_too(
        tmp_path: Path, rng: np.random.Generator) -> None:
    s = build_suite(tmp_path / "s", n_commits=2, specs=(SPEC,), plants=(), gaps=frozenset())
    _write_rounds(s, rng, 3, {}, signed=True)
    report = compare_report(s.results_dir, s.commits[0], s.commits[1], machine=None, rng=rng)
    flagged = [c for c in report.comparisons
               if c.verdict in (Verdict.REGRESSION, Verdict.IMPROVEMENT)]
    flagged += [n for n in report.not_compared if n.flagged]
    assert len(report.comparisons) + len(report.not_compared) == 50 and not flagged
    assert {c.note for c in report.comparisons} == {
        "values <= 0: compared on the linear scale, between-run noise from 3 runs per side"}
    for record in (s.results_dir / ".perfwatch").rglob("*.runs"):
        record.unlink()
    blind = compare_report(s.results_dir, s.commits[0], s.commits[1], machine=None, rng=rng)
    assert sum(c.verdict in (Verdict.REGRESSION, Verdict.IMPROVEMENT)
               for c in blind.comparisons) >= 10


def test_history_commits_with_recorded_runs_give_the_noise_of_one_run(
        tmp_path: Path, rng: np.random.Generator) -> None:
    """12 commits of 3 recorded runs each: the history estimate is the sd of one run (10%),
    not of a 3-run commit; pooled with the runs of base and head in compare."""
    s = build_suite(tmp_path / "s", n_commits=12, specs=(SPEC,), plants=(), gaps=frozenset())
    _write_rounds(s, rng, 3, {})
    rd = scan_results_dir(s.results_dir, machine=None)
    labels = {(s.machines[0], ENV_NAME): s.machines[0]}
    told = history_noise(rd, labels, {}, s.commits[-1])
    assert 0.085 < float(np.mean([n.sd for n in told.values()])) < 0.115
    report = compare_report(s.results_dir, s.commits[-2], s.commits[-1], machine=None, rng=rng)
    assert {c.note for c in report.comparisons} == {
        "between-run noise from 3 runs per side and 11 history commits"}
    assert not [c for c in report.comparisons
                if c.verdict in (Verdict.REGRESSION, Verdict.IMPROVEMENT)]
    for record in (s.results_dir / ".perfwatch").rglob("*.runs"):
        record.unlink()
    blind = history_noise(scan_results_dir(s.results_dir, machine=None), labels, {},
                          s.commits[-1])
    assert float(np.mean([n.sd for n in blind.values()])) < 0.08  # pooled medians of 3 runs
