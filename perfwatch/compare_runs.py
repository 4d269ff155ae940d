"""The runs behind a base-against-head comparison, and the between-run noise they give.

``perfwatch run`` records which samples of a commit's result file each asv invocation
added (:mod:`perfwatch.harness.run_record`). With interleaved rounds each side of a
comparison then holds several whole runs, and the spread of their medians measures the
between-run noise directly, even in a results directory without history; it is pooled
with the history estimate when there is one (:func:`perfwatch.stats.between.runs_noise`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from perfwatch.adapters.asv_results import ResultsFile
from perfwatch.harness.run_record import run_bounds
from perfwatch.model import FloatArray, SeriesKey
from perfwatch.stats.between import MIN_RUNS, BetweenRunNoise, runs_noise
from perfwatch.stats.levels import commit_levels

__all__ = ["NO_HISTORY_NOTE", "SeriesNoise", "runs_at", "series_noise"]

NO_HISTORY_NOTE = "between-run noise unknown (no history): within-run noise only, one run per side"

Runs = tuple[FloatArray, ...]


@dataclass(frozen=True)
class SeriesNoise:
    """What a comparison of one series is widened by: between-run noise (None: within-run
    noise only) and the whole runs per side it is judged with."""

    noise: BetweenRunNoise | None
    runs_base: int = 1
    runs_head: int = 1
    # mean head run log-median minus mean base run log-median (None: runs not known)
    run_shift: float | None = None

    @property
    def note(self) -> str:
        """"" when judged with history alone (as before runs were known)."""
        if self.noise is None:
            return NO_HISTORY_NOTE
        if self.noise.runs == 0:
            return ""
        runs = (f"{self.runs_base} runs per side" if self.runs_base == self.runs_head
                else f"{self.runs_base} base and {self.runs_head} head runs")
        history = (f" and {self.noise.commits} history commits" if self.noise.commits
                   else ", no history")
        return f"between-run noise from {runs}{history}"


def runs_at(files: Sequence[ResultsFile], labels: Mapping[tuple[str, str], str],
            versions: Mapping[str, str | None]) -> dict[SeriesKey, Runs]:
    """The recorded runs of each series in one commit's result files (series whose
    samples match a run record with >= 2 runs; results of other versions are left out)."""
    out: dict[SeriesKey, Runs] = {}
    for f in files:
        label = labels[(f.machine, f.env_name)]
        for (name, i), cuts in run_bounds(f).items():
            row = f.results.get(name)
            want = versions.get(name)
            if row is None or (want and row.version and row.version != want):
                continue
            samples = row.samples[i]
            out[SeriesKey(name, row.combos[i], label)] = tuple(
                samples[a:b] for a, b in zip((0, *cuts[:-1]), cuts, strict=True))
    return out


def _levels(runs: Runs) -> tuple[FloatArray, FloatArray] | None:
    """Log-medians of the runs and their within-run errors (None: some value <= 0)."""
    arrays = [r[np.isfinite(r)] for r in runs]
    if any(a.size == 0 or np.any(a <= 0) for a in arrays):
        return None
    levels = commit_levels(arrays)
    return levels.values, levels.within_se


def series_noise(base_runs: Runs | None, head_runs: Runs | None,
                 history: BetweenRunNoise | None) -> SeriesNoise:
    """Between-run noise of one series for a comparison: when both sides have >= MIN_RUNS
    recorded runs (all values > 0), from the spread of the run log-medians within each
    side, pooled with ``history``; otherwise ``history`` alone."""
    if base_runs is None or head_runs is None or min(len(base_runs), len(head_runs)) < MIN_RUNS:
        return SeriesNoise(history)
    base, head = _levels(base_runs), _levels(head_runs)
    if base is None or head is None:
        return SeriesNoise(history)
    within = float(np.median(np.concatenate([base[1], head[1]])))
    noise = runs_noise([base[0], head[0]], within, history)
    if noise is None:
        return SeriesNoise(history)
    return SeriesNoise(noise, len(base_runs), len(head_runs),
                       float(head[0].mean() - base[0].mean()))
