"""Use cases: asv results + git history -> change points; base vs head -> verdicts.

The adapters read files and git, :mod:`perfwatch.stats` does the statistics; this module
joins them. False discoveries are controlled across the whole suite (every benchmark x
parameter combination x machine) with Benjamini-Hochberg.

Series identity: one series per benchmark x parameter combination x machine. When one
machine holds results of several asv environments, each environment is its own series
(machine shown as ``machine/env``). Like ``asv publish``, only results whose benchmark
``version`` equals the one in ``benchmarks.json`` count: a version change starts a new
series and the older results become gaps.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from perfwatch import stats
from perfwatch.adapters.asv_results import ResultsDir, ResultsFile, guess_benchmark
from perfwatch.adapters.asv_results import scan_results_dir as _scan
from perfwatch.adapters.git_history import open_history
from perfwatch.compare_runs import NO_HISTORY_NOTE, Runs, SeriesNoise, runs_at, series_noise
from perfwatch.detect_candidates import Candidate, find_candidates
from perfwatch.errors import ConfigError, ResultsError
from perfwatch.linear_compare import (
    LinearResult,
    all_positive,
    compare_linear,
    decide_linear,
    finite,
    widen_runs,
)
from perfwatch.model import (
    Benchmark,
    Change,
    Commit,
    Comparison,
    FloatArray,
    Series,
    SeriesKey,
    Verdict,
)
from perfwatch.stats.between import MIN_HISTORY, BetweenRunNoise, between_run_noise
from perfwatch.stats.levels import commit_levels
from perfwatch.suite_shifts import mark_suite_shifts

__all__ = [
    "HISTORY_COMMITS",
    "MAX_QVALUE",
    "NO_HISTORY_NOTE",
    "CompareReport",
    "History",
    "NotCompared",
    "compare_commits",
    "compare_report",
    "compare_series",
    "detect_history",
    "history_noise",
    "load_history",
    "measured_positions",
    "series_layout",
    "suite_changes",
]

# A change point is reported when its suite-wide Benjamini-Hochberg q-value is at most this.
MAX_QVALUE = 0.05
# Between-run noise for compare is estimated from at most this many other commits of the
# results directory (the latest in commit order), so a large directory stays cheap.
HISTORY_COMMITS = 100

_EMPTY: FloatArray = np.empty(0, dtype=np.float64)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class History:
    """Every series of a results directory along one branch of the repository."""

    series: tuple[Series, ...]
    commits: tuple[Commit, ...]  # first-parent order, oldest first (trimmed to measured span)
    missing_commits: tuple[str, ...]  # in the results, not on the branch
    machines: tuple[str, ...]
    branch: str


def _machine_labels(files: Iterable[ResultsFile]) -> dict[tuple[str, str], str]:
    envs: dict[str, set[str]] = defaultdict(set)
    for f in files:
        envs[f.machine].add(f.env_name)
    return {
        (m, e): (m if len(names) == 1 else f"{m}/{e}") for m, names in envs.items() for e in names
    }


def _benchmark(rd: ResultsDir, name: str, version: str | None) -> Benchmark:
    return rd.benchmarks.get(name) or guess_benchmark(name, version)


def _versions(rd: ResultsDir, files: Sequence[ResultsFile]) -> dict[str, str | None]:
    """Benchmark versions that count: benchmarks.json's, else the newest result's."""
    out: dict[str, str | None] = {n: b.version or None for n, b in rd.benchmarks.items()}
    for f in files:  # files are sorted oldest first, so the newest wins
        for name, row in f.results.items():
            if name not in rd.benchmarks:
                out[name] = row.version
    return out


def _collect_files(files: Sequence[ResultsFile], labels: Mapping[tuple[str, str], str],
                   versions: Mapping[str, str | None], position: Callable[[str], int]
                   ) -> dict[SeriesKey, dict[int, FloatArray]]:
    """Samples per series key and commit position; results of other versions are dropped."""
    # Plain tuples as keys while collecting: hashing them is much cheaper than SeriesKey.
    data: dict[tuple[str, tuple[str, ...] | None, str], dict[int, FloatArray]] = {}
    for f in files:
        pos = position(f.commit_hash)
        label = labels[(f.machine, f.env_name)]
        for name, row in f.results.items():
            want = versions.get(name)
            if want and row.version and row.version != want:
                continue
            for combo, samples in zip(row.combos, row.samples, strict=True):
                if samples.size:
                    slot = data.setdefault((name, combo, label), {})
                    prev = slot.get(pos)
                    slot[pos] = samples if prev is None else np.concatenate([prev, samples])
    return {SeriesKey(*k): v for k, v in data.items()}


def load_history(results_dir: Path, repo: Path, *, branch: str | None,
                 machine: str | None) -> History:
    """Read the results and the first-parent history of ``branch`` (default: current)."""
    rd = _scan(results_dir, machine=machine)
    with open_history(repo) as git:
        branch = branch or git.current_branch()
        commits = git.first_parent(branch)
    index = {c.sha: i for i, c in enumerate(commits)}
    known = sorted((f for f in rd.files if f.commit_hash in index),
                   key=lambda f: (index[f.commit_hash], f.machine, f.env_name))
    missing = sorted({f.commit_hash for f in rd.files if f.commit_hash not in index})
    if not known:
        raise ResultsError(
            f"none of the {len(missing)} commits with results in {results_dir} is on "
            f"branch {branch!r} of {repo}",
            hint="pass the repository the results were made from, and --branch if not the "
            "checked-out one",
            path=results_dir,
        )
    lo = index[known[0].commit_hash]
    hi = index[known[-1].commit_hash]
    span = tuple(commits[lo:hi + 1])
    series = []
    data = _collect_files(known, _machine_labels(known), _versions(rd, known), index.__getitem__)
    for key, slots in sorted(data.items()):
        bench = _benchmark(rd, key.benchmark, None)
        samples = tuple(slots.get(lo + i, _EMPTY) for i in range(len(span)))
        series.append(Series(key, bench.unit, bench.direction, span, samples))
    return History(series=tuple(series), commits=span, missing_commits=tuple(missing),
                   machines=tuple(rd.machines), branch=branch)


def series_layout(rd: ResultsDir, history: History
                  ) -> tuple[dict[tuple[str, str], str], dict[str, str | None]]:
    """The machine label of each (machine, environment) and the benchmark versions that
    count, as :func:`load_history` chose them for ``history`` (read from ``rd``)."""
    index = {c.sha: i for i, c in enumerate(history.commits)}
    known = sorted((f for f in rd.files if f.commit_hash in index),
                   key=lambda f: (index[f.commit_hash], f.machine, f.env_name))
    return _machine_labels(known), _versions(rd, known)


def detect_history(history: History, *, rng: np.random.Generator) -> list[Change]:
    """Change points of every series, kept when their suite-wide q-value <= MAX_QVALUE.

    Changes that belong to a suite-wide shift (most series of a machine shifting the same
    way at one commit, :mod:`perfwatch.suite_shifts`) stay in the list, with
    ``suite_shift`` set to that commit; :func:`perfwatch.suite_shifts.suite_shifts`
    summarises them.

    Each series is one family of hypotheses: a series without a candidate counts as one
    test with p = 1, so the number of series (not only the candidates) sets the burden.
    """
    return changes_from(find_candidates(history.series, rng), history)


def changes_from(per_series: Iterable[Sequence[Candidate]], history: History) -> list[Change]:
    """The suite-level rules of :func:`detect_history` over each series' candidates (in
    ``history.series`` order, wherever they were computed): Benjamini-Hochberg across the
    suite, kept when q <= MAX_QVALUE, sorted, suite-wide shifts marked."""
    return suite_changes(per_series, measured_positions(history))


def suite_changes(per_series: Iterable[Sequence[Candidate]],
                  measured: Mapping[SeriesKey, Sequence[int]]) -> list[Change]:
    """:func:`changes_from` given every series' measured positions (one entry per series,
    with or without candidates) instead of the history."""
    found: list[Candidate] = []
    quiet = 0
    for cands in per_series:
        found.extend(cands)
        quiet += not cands
    if not found:
        return []
    pvalues = np.array([c.point.pvalue for c in found] + [1.0] * quiet, dtype=np.float64)
    qvalues = stats.benjamini_hochberg(pvalues)[: len(found)]
    changes = [_change(c, float(q)) for c, q in zip(found, qvalues, strict=True)
               if q <= MAX_QVALUE]
    changes.sort(key=lambda c: (c.key.benchmark, c.index, c.key.params or (), c.key.machine))
    return mark_suite_shifts(changes, measured)


def measured_positions(history: History) -> dict[SeriesKey, list[int]]:
    """Positions in ``history.commits`` each series has results at."""
    return {s.key: s.measured for s in history.series}


def _change(c: Candidate, qvalue: float) -> Change:
    s, p = c.series, c.point
    return Change(
        key=s.key,
        unit=s.unit,
        commit=s.commits[c.index].sha,
        previous_commit=s.commits[c.previous].sha,
        direction="regression" if s.direction.is_worse(p.rel_change) else "improvement",
        rel_change=p.rel_change,
        ci=(p.ci_low, p.ci_high),
        pvalue=p.pvalue,
        qvalue=qvalue,
        index=c.index,
    )


# ---------------------------------------------------------------- base against head


@dataclass(frozen=True)
class NotCompared:
    """A series present on one side only, failed/skipped on one side, or one whose
    relative change is undefined (base median 0, head median not 0).

    For the last kind ``absolute_change`` is the Hodges-Lehmann shift head - base in the
    metric's unit and ``flagged`` says whether it is significant (suite-wide q <= 0.05);
    ``worse`` says a flagged change went the bad way (0 dropped packets became 5): a
    regression that has no relative size, which ``compare`` treats as confirmed.
    """

    key: SeriesKey
    reason: str
    absolute_change: float | None = None
    flagged: bool = False
    worse: bool = False


@dataclass(frozen=True)
class CompareReport:
    """All verdicts of one base-against-head comparison, regressions first."""

    base: str
    head: str
    comparisons: tuple[Comparison, ...]
    not_compared: tuple[NotCompared, ...]


_VERDICT_ORDER = {
    Verdict.REGRESSION: 0, Verdict.UNSURE: 1, Verdict.IMPROVEMENT: 2, Verdict.NO_CHANGE: 3,
}


def _last_samples(series: Series) -> FloatArray:
    measured = series.measured
    return series.samples[measured[-1]] if measured else _EMPTY


def _side(key: SeriesKey, series: Mapping[SeriesKey, Series], status: Mapping[SeriesKey, str]
          ) -> str | None:
    if key in series and _last_samples(series[key]).size:
        return None
    return status.get(key, "missing")


def _not_compared(base: Mapping[SeriesKey, Series], head: Mapping[SeriesKey, Series],
                  base_status: Mapping[SeriesKey, str], head_status: Mapping[SeriesKey, str]
                  ) -> list[NotCompared]:
    out = []
    for key in sorted(set(base) | set(head) | set(base_status) | set(head_status)):
        b, h = _side(key, base, base_status), _side(key, head, head_status)
        if b and h:
            out.append(NotCompared(key, f"{b} at base and head" if b == h
                                   else f"{b} at base, {h} at head"))
        elif b or h:
            out.append(NotCompared(key, f"{b} at base" if b else f"{h} at head"))
    return out


def compare_series(base: Sequence[Series], head: Sequence[Series], *, rng: np.random.Generator,
                   base_label: str, head_label: str,
                   base_status: Mapping[SeriesKey, str] | None = None,
                   head_status: Mapping[SeriesKey, str] | None = None,
                   between: Mapping[SeriesKey, BetweenRunNoise] | None = None,
                   base_runs: Mapping[SeriesKey, Runs] | None = None,
                   head_runs: Mapping[SeriesKey, Runs] | None = None) -> CompareReport:
    """Compare the last measured samples of each series key present on both sides.

    ``between`` gives the between-run noise of series estimated from their history
    (:func:`history_noise`); ``*_runs`` the recorded runs a side's samples consist of
    (:func:`perfwatch.compare_runs.runs_at`): with >= 2 runs on both sides, the spread of
    the run medians measures between-run noise too (pooled with the history's), and the
    comparison counts the runs. A ratio comparison of a series with neither is judged by
    within-run noise only and says so in its note.

    ``*_status`` says why a key has no samples on a side ("failed", "skipped"); keys
    without samples on a side are listed in ``not_compared``, and so are series whose
    base median is 0 while the head's is not (no relative change; absolute one given).
    """
    by_base = {s.key: s for s in base}
    by_head = {s.key: s for s in head}
    keys = sorted(k for k in set(by_base) & set(by_head)
                  if _last_samples(by_base[k]).size and _last_samples(by_head[k]).size)
    history = between or {}
    b_runs, h_runs = base_runs or {}, head_runs or {}
    noise = {k: series_noise(b_runs.get(k), h_runs.get(k), history.get(k)) for k in keys}
    results = [compare_samples_of(by_base[k], by_head[k], rng, noise[k],
                                  runs=(b_runs.get(k), h_runs.get(k))) for k in keys]
    qvalues = (stats.benjamini_hochberg(np.array([r.pvalue for r in results], dtype=np.float64))
               if results else np.empty(0))
    comparisons: list[Comparison] = []
    undefined: list[NotCompared] = []
    for k, r, q in zip(keys, results, qvalues, strict=True):
        if isinstance(r, stats.TwoSampleResult):
            comparisons.append(_comparison(by_head[k], by_base[k], r, float(q), noise[k].note))
        elif r.scale > 0 or r.head_median == 0:
            comparisons.append(_linear_comparison(by_head[k], r, float(q)))
        else:
            undefined.append(_undefined(by_head[k], r, float(q)))
    comparisons.sort(key=lambda c: (_VERDICT_ORDER[c.verdict], c.key))
    missing = _not_compared(by_base, by_head, base_status or {}, head_status or {})
    return CompareReport(base_label, head_label, tuple(comparisons),
                         tuple(sorted(undefined + missing, key=lambda n: n.key)))


def compare_samples_of(base: Series, head: Series, rng: np.random.Generator,
                       between: BetweenRunNoise | SeriesNoise | None = None, *,
                       runs: tuple[Runs | None, Runs | None] = (None, None)
                       ) -> stats.TwoSampleResult | LinearResult:
    """The ratio-based comparison when both sides are strictly positive (widened by the
    series' between-run noise when known, with the runs per side it was measured in),
    else the linear-scale one (:mod:`perfwatch.linear_compare`), widened by the spread of
    the run medians when both sides have recorded ``runs``."""
    b, h = _last_samples(base), _last_samples(head)
    if not all_positive(b, h):
        linear = compare_linear(b, h)
        base_runs, head_runs = runs
        if base_runs is None or head_runs is None:
            return linear
        return widen_runs(linear, base_runs, head_runs)
    sn = between if isinstance(between, SeriesNoise) else SeriesNoise(between)
    if sn.noise is None:
        return stats.compare_samples(b, h, rng=rng)
    return stats.compare_samples(b, h, rng=rng, between_sd=sn.noise.sd,
                                 between_df=sn.noise.df, between_within=sn.noise.within,
                                 runs_base=sn.runs_base, runs_head=sn.runs_head,
                                 run_shift=sn.run_shift)


def _comparison(head: Series, base: Series, r: stats.TwoSampleResult, q: float,
                note: str) -> Comparison:
    d = stats.decide(r, q, direction=head.direction)
    return Comparison(
        key=head.key, unit=head.unit, direction=head.direction, verdict=d.verdict,
        rel_change=r.rel_change, ci=(r.ci_low, r.ci_high), pvalue=r.pvalue, qvalue=q,
        n_base=r.n_base, n_head=r.n_head,
        base_median=float(np.median(finite(_last_samples(base)))),
        head_median=float(np.median(finite(_last_samples(head)))),
        extra_runs=d.extra_runs, unstable=d.unstable,
        note=note,
    )


def _linear_comparison(head: Series, r: LinearResult, q: float) -> Comparison:
    """Linear-scale verdict; a base and head median of 0 both is "no change"."""
    zero = Comparison(
        key=head.key, unit=head.unit, direction=head.direction, verdict=Verdict.NO_CHANGE,
        rel_change=0.0, ci=(math.nan, math.nan), pvalue=r.pvalue, qvalue=q, n_base=r.n_base,
        n_head=r.n_head, base_median=r.base_median, head_median=r.head_median,
        note="median 0 at base and head",
    )
    if r.scale == 0:
        return zero
    rel = r.relative()
    d = decide_linear(rel, q, direction=head.direction)
    return replace(zero, verdict=d.verdict, rel_change=rel.rel_change,
                   ci=(rel.ci_low, rel.ci_high), extra_runs=d.extra_runs, unstable=d.unstable,
                   note="values <= 0: compared on the linear scale" + _runs_note(r))


def _runs_note(r: LinearResult) -> str:
    if min(r.runs_base, r.runs_head) < 2:
        return ""
    if r.runs_base == r.runs_head:
        return f", between-run noise from {r.runs_base} runs per side"
    return f", between-run noise from {r.runs_base} base and {r.runs_head} head runs"


def _undefined(head: Series, r: LinearResult, q: float) -> NotCompared:
    flagged = q <= MAX_QVALUE and r.shift != 0
    unit = f" {head.unit}" if head.unit else ""
    reason = (f"base median is 0, no relative change: head median {r.head_median:.4g}{unit}, "
              f"absolute change {r.shift:+.4g}{unit} "
              f"(95% CI {r.shift_low:+.4g}..{r.shift_high:+.4g}), p = {r.pvalue:.2g}"
              + (" [significant]" if flagged else ""))
    return NotCompared(head.key, reason, absolute_change=r.shift, flagged=flagged,
                       worse=flagged and head.direction.is_worse(r.shift))


def _match_prefix(rd: ResultsDir, ref: str) -> str:
    """The full sha of the result files whose commit starts with ``ref`` (like asv)."""
    found = sorted({f.commit_hash for f in rd.files if f.commit_hash.startswith(ref.lower())})
    if len(found) == 1:
        return found[0]
    if found:
        raise ResultsError(f"{ref!r} matches several commits with results: "
                           + ", ".join(s[:12] for s in found),
                           hint="give more characters of the sha", commit=ref)
    raise ResultsError(f"no results for commit {ref!r} in {rd.path}",
                       hint="give a sha that has results, or pass --repo to resolve refs",
                       commit=ref)


def _files_at(rd: ResultsDir, sha: str) -> list[ResultsFile]:
    files = [f for f in rd.files if f.commit_hash == sha]
    if not files:
        raise ResultsError(f"no results for commit {sha} in {rd.path}",
                           hint="run the benchmarks for it first (asv run SHA^!)", commit=sha)
    return files


def _commit_series(rd: ResultsDir, files: Sequence[ResultsFile],
                   labels: Mapping[tuple[str, str], str]) -> list[Series]:
    commit = Commit(sha=files[0].commit_hash,
                    date=min((f.date for f in files if f.date), default=_EPOCH))
    data = _collect_files(files, labels, _versions(rd, files), lambda _: 0)
    out = []
    for key, slots in sorted(data.items()):
        bench = _benchmark(rd, key.benchmark, None)
        out.append(Series(key, bench.unit, bench.direction, (commit,), (slots[0],)))
    return out


def _status_at(files: Sequence[ResultsFile], labels: Mapping[tuple[str, str], str]
               ) -> dict[SeriesKey, str]:
    """Why series have no samples in these files: asv's ``null`` (failed) or ``NaN`` (skipped)."""
    out: dict[SeriesKey, str] = {}
    for f in files:
        for name, row in f.results.items():
            for combo, value in zip(row.combos, row.values, strict=True):
                if value is None or np.isnan(value):
                    key = SeriesKey(name, combo, labels[(f.machine, f.env_name)])
                    out[key] = "failed" if value is None else "skipped"
    return out


def history_noise(rd: ResultsDir, labels: Mapping[tuple[str, str], str],
                  versions: Mapping[str, str | None], exclude: str,
                  order: Mapping[str, int] | None = None) -> dict[SeriesKey, BetweenRunNoise]:
    """Between-run noise of each series from the other commits of ``rd`` (not ``exclude``,
    the head), on the machines/environments of ``labels``: per-commit log-medians in
    commit order (``order``: sha -> position, e.g. first-parent; the commit dates the
    result files carry when it is None or holds fewer than MIN_HISTORY of the commits),
    at most :data:`HISTORY_COMMITS` latest commits.

    Series with fewer than MIN_HISTORY such commits, or with a median <= 0, are left out."""
    files = [f for f in rd.files
             if f.commit_hash != exclude and (f.machine, f.env_name) in labels]
    on_branch = [f for f in files if order is not None and f.commit_hash in order]
    rank: Mapping[str, int]
    if order is not None and len({f.commit_hash for f in on_branch}) >= MIN_HISTORY:
        files, rank = on_branch, order
    else:
        rank = _date_order(files)
    keep = set(sorted({f.commit_hash for f in files}, key=rank.__getitem__)[-HISTORY_COMMITS:])
    kept = [f for f in files if f.commit_hash in keep]
    data = _collect_files(kept, labels, versions, rank.__getitem__)
    runs = _history_runs(kept, labels, versions, rank)
    out: dict[SeriesKey, BetweenRunNoise] = {}
    for key, slots in data.items():
        known = runs.get(key, {})
        noise = _series_noise([slots[p] for p in sorted(slots)],
                              [known.get(p) for p in sorted(slots)] if known else None)
        if noise is not None:
            out[key] = noise
    return out


def _history_runs(files: Sequence[ResultsFile], labels: Mapping[tuple[str, str], str],
                  versions: Mapping[str, str | None], rank: Mapping[str, int]
                  ) -> dict[SeriesKey, dict[int, Runs]]:
    """Recorded runs per series and commit position (>= 2 runs; others are absent)."""
    out: dict[SeriesKey, dict[int, Runs]] = defaultdict(dict)
    for f in files:
        for key, runs in runs_at([f], labels, versions).items():
            out[key][rank[f.commit_hash]] = runs
    return out


def _series_noise(samples: Sequence[FloatArray], runs: Sequence[Runs | None] | None = None
                  ) -> BetweenRunNoise | None:
    """Between-run noise of one series' history (None: too short or medians <= 0).

    ``runs``: the recorded runs of each commit (None: one run). A commit of ``k`` runs
    is levelled at the mean of its run log-medians (within-run error: the runs' median
    error / sqrt k), and the estimate is told ``k`` (see :func:`between_run_noise`)."""
    arrays = [finite(a) for a in samples]
    parts = [(a, r) for a, r in zip(arrays, runs or [None] * len(arrays), strict=True)
             if a.size]
    if len(parts) < MIN_HISTORY or not all(np.all(a > 0) for a, _ in parts):
        return None
    if runs is None:
        levels = commit_levels([a for a, _ in parts])
        return between_run_noise(levels.values, levels.within_se)
    values, within, counts = [], [], []
    for a, r in parts:
        lv = commit_levels([finite(x) for x in r] if r else [a])
        values.append(float(lv.values.mean()))
        within.append(float(np.median(lv.within_se)) / math.sqrt(lv.values.size))
        counts.append(float(lv.values.size))
    return between_run_noise(np.array(values), np.array(within), np.array(counts))


def _date_order(files: Sequence[ResultsFile]) -> dict[str, int]:
    """Commit positions by the commit dates asv records (sha breaks ties)."""
    dates: dict[str, datetime] = {}
    for f in files:
        date = f.date or _EPOCH
        dates[f.commit_hash] = min(dates.get(f.commit_hash, date), date)
    return {sha: i for i, sha in enumerate(sorted(dates, key=lambda c: (dates[c], c)))}


def compare_report(results_dir: Path, base: str, head: str, *, machine: str | None,
                   rng: np.random.Generator, repo: Path | None = None,
                   merge_base: bool = False) -> CompareReport:
    """Verdicts of head against base for every series both have results for.

    With ``repo``, BASE and HEAD may be any git ref; with ``merge_base`` too, the base is
    the merge-base of BASE and HEAD (where a pull request forked from its target branch).
    """
    if merge_base and repo is None:
        raise ConfigError("--merge-base needs --repo", hint="pass --repo PATH of the checkout")
    rd = _scan(results_dir, machine=machine)
    order: dict[str, int] | None = None
    if repo is not None:
        with open_history(repo) as git:
            base_sha, head_sha = git.resolve(base), git.resolve(head)
            if merge_base:
                base_sha = git.merge_base(base_sha, head_sha)
            order = {c.sha: i for i, c in enumerate(git.first_parent())}
    else:
        base_sha, head_sha = _match_prefix(rd, base), _match_prefix(rd, head)
    base_files, head_files = _files_at(rd, base_sha), _files_at(rd, head_sha)
    labels = _machine_labels([*base_files, *head_files])
    versions = _versions(rd, [*base_files, *head_files])
    between = history_noise(rd, labels, versions, head_sha, order)
    return compare_series(_commit_series(rd, base_files, labels),
                          _commit_series(rd, head_files, labels), rng=rng,
                          base_label=base_sha, head_label=head_sha,
                          base_status=_status_at(base_files, labels),
                          head_status=_status_at(head_files, labels), between=between,
                          base_runs=runs_at(base_files, labels, versions),
                          head_runs=runs_at(head_files, labels, versions))


def compare_commits(results_dir: Path, base: str, head: str, *, machine: str | None,
                    rng: np.random.Generator, repo: Path | None = None) -> list[Comparison]:
    """Verdicts per benchmark x params x machine, regressions first (see compare_report)."""
    return list(compare_report(results_dir, base, head, machine=machine, rng=rng,
                               repo=repo).comparisons)
