"""A seeded synthetic benchmark history with planted changes, written as real asv output.

:func:`build_suite` makes a scratch git repository (gitpython, fixed author and dates, so
the shas are the same on every run) and asv results format version 2 with raw samples for
most of its commits; the rest are gaps (not benchmarked). The planted changes are known,
so the demo and the tests can check what ``perfwatch detect`` and ``compare`` find.
"""

from __future__ import annotations

import itertools
import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import git
import numpy as np

__all__ = [
    "DEFAULT_BENCHMARKS",
    "DEFAULT_PLANTED",
    "ENV_NAME",
    "BenchSpec",
    "Plant",
    "PlantedChange",
    "SyntheticSuite",
    "build_suite",
    "make_git_history",
]

ENV_NAME = "virtualenv-py3.11"
START_DATE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_ACTOR = git.Actor("perfwatch synthetic", "synthetic@perfwatch.invalid")
_COLUMNS = ["result", "params", "version", "started_at", "duration", "stats_ci_99_a",
            "stats_ci_99_b", "stats_q_25", "stats_q_75", "stats_number", "stats_repeat",
            "samples", "profile"]


@dataclass(frozen=True)
class BenchSpec:
    """One synthetic benchmark: asv metadata and its base level."""

    name: str
    type: str  # asv type: "time" | "memory" | "peakmemory" | "track"
    unit: str
    base: float
    noise: float = 0.02  # within-run relative noise of one sample
    param_names: tuple[str, ...] = ()
    params: tuple[tuple[str, ...], ...] = ()
    version: str = "1"


@dataclass(frozen=True)
class Plant:
    """A planted step: from commit ``index`` on, ``benchmark(params)`` is ``factor`` times slower.

    ``revert_after`` > 0 makes it a spike that lasts that many commits (not a change).
    """

    benchmark: str
    params: tuple[str, ...] | None
    index: int
    factor: float
    revert_after: int = 0


@dataclass(frozen=True)
class PlantedChange:
    """A planted step as a detector should report it."""

    benchmark: str
    params: tuple[str, ...] | None
    machine: str
    commit: str
    previous_commit: str
    factor: float
    kind: str  # "regression" | "improvement" | "spike"


@dataclass(frozen=True)
class SyntheticSuite:
    """Where the synthetic history was written and what was planted in it."""

    repo: Path
    results_dir: Path
    machines: tuple[str, ...]
    commits: tuple[str, ...]  # full shas, oldest first
    measured: tuple[int, ...]  # indices of benchmarked commits
    planted: tuple[PlantedChange, ...] = field(default=())


DEFAULT_BENCHMARKS: tuple[BenchSpec, ...] = (
    BenchSpec("segments.TimeRemux.time_remux", "time", "seconds", 0.0125,
              param_names=("streams",), params=(("1", "4"),)),
    BenchSpec("index.time_query_range", "time", "seconds", 0.0031),
    BenchSpec("ingest.track_throughput", "track", "frames/s", 2400.0),
    BenchSpec("segments.peakmem_mover", "peakmemory", "bytes", 48e6, noise=0.005),
    BenchSpec("storage.time_fsync_segment", "time", "seconds", 0.0042),
)

DEFAULT_PLANTED: tuple[Plant, ...] = (
    Plant("segments.TimeRemux.time_remux", ("4",), 14, 1.08),
    Plant("index.time_query_range", None, 25, 1.15),
    Plant("ingest.track_throughput", None, 19, 0.93),
    Plant("segments.TimeRemux.time_remux", ("1",), 32, 0.88),
    Plant("storage.time_fsync_segment", None, 10, 1.30, revert_after=1),
)
DEFAULT_GAPS: frozenset[int] = frozenset({3, 7, 11, 17, 23, 24, 29, 36})


def make_git_history(path: Path, n_commits: int, *, start: datetime = START_DATE) -> list[str]:
    """A fresh repository at ``path`` with ``n_commits`` commits on ``main`` one hour apart.

    The commits go in with one ``git fast-import`` (thousands per second) with a fixed
    author, committer and dates, so the same call always makes the same shas.
    """
    repo = git.Repo.init(path, initial_branch="main")
    who = f"{_ACTOR.name} <{_ACTOR.email}>"
    with tempfile.TemporaryFile() as stream:
        for i in range(n_commits):
            when = int((start + timedelta(hours=i)).timestamp())
            message = f"Change {i}: tune the recorder\n".encode()
            content = f"{i}\n".encode()
            stream.write(f"commit refs/heads/main\nauthor {who} {when} +0000\n"
                         f"committer {who} {when} +0000\ndata {len(message)}\n".encode())
            stream.write(message + f"M 100644 inline VERSION\ndata {len(content)}\n".encode())
            stream.write(content + b"\n")
        stream.seek(0)
        repo.git.execute(["git", "fast-import", "--quiet"], istream=stream)
    shas = str(repo.git.rev_list("--reverse", "main")).split() if n_commits else []
    if n_commits:
        repo.git.reset("--hard", "--quiet")
    repo.close()
    return shas


def _combos(spec: BenchSpec) -> list[tuple[str, ...] | None]:
    if not spec.params:
        return [None]
    return [tuple(c) for c in itertools.product(*spec.params)]


def _level(plants: Sequence[Plant], name: str, combo: tuple[str, ...] | None, i: int) -> float:
    level = 1.0
    for p in plants:
        if p.benchmark != name or (p.params is not None and p.params != combo):
            continue
        end = p.index + p.revert_after if p.revert_after else math.inf
        if p.index <= i < end:
            level *= p.factor
    return level


def _row(spec: BenchSpec, levels: list[float], rng: np.random.Generator, n_samples: int,
         started_at: int) -> list[Any]:
    drift = float(np.exp(rng.normal(0.0, 0.003)))  # between-run noise of this commit
    raw = np.array([spec.base * lv * drift * np.exp(rng.normal(0, spec.noise, n_samples))
                    for lv in levels])
    samples = [[float(f"{x:.6g}") for x in row] for row in raw.tolist()]
    arr = np.array(samples)
    q25, median, q75 = np.quantile(arr, [0.25, 0.5, 0.75], axis=1).tolist()
    n = [1] * len(levels)
    return [median, [list(p) for p in spec.params], spec.version, started_at, 0.5,
            arr.min(axis=1).tolist(), arr.max(axis=1).tolist(), q25, q75, n,
            [n_samples] * len(n), samples]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")), encoding="utf-8")


def _write_metadata(results_dir: Path, specs: Sequence[BenchSpec], machines: Sequence[str]) -> None:
    benchmarks: dict[str, Any] = {"version": 2}
    for s in specs:
        benchmarks[s.name] = {"name": s.name, "type": s.type, "unit": s.unit, "version": s.version,
                              "param_names": list(s.param_names),
                              "params": [list(p) for p in s.params]}
    _write_json(results_dir / "benchmarks.json", benchmarks)
    for m in machines:
        _write_json(results_dir / m / "machine.json",
                    {"machine": m, "arch": "x86_64", "cpu": "synthetic", "num_cpu": "2",
                     "os": "Linux", "ram": "8000000000", "version": 1})


def write_results(results_dir: Path, shas: Sequence[str], measured: Sequence[int], *,
                  specs: Sequence[BenchSpec], plants: Sequence[Plant], machines: Sequence[str],
                  rng: np.random.Generator, n_samples: int = 10) -> None:
    """asv result files (format 2, raw samples) for the ``measured`` commits."""
    _write_metadata(results_dir, specs, machines)
    for machine in machines:
        for i in measured:
            when = int((START_DATE + timedelta(hours=i)).timestamp() * 1000)
            rows = {
                s.name: _row(s, [_level(plants, s.name, c, i) for c in _combos(s)], rng,
                             n_samples, when + 60_000)
                for s in specs
            }
            _write_json(results_dir / machine / f"{shas[i][:8]}-{ENV_NAME}.json", {
                "commit_hash": shas[i], "env_name": ENV_NAME, "date": when,
                "params": {"machine": machine, "python": "3.11"}, "python": "3.11",
                "requirements": {}, "env_vars": {}, "result_columns": _COLUMNS,
                "results": rows, "durations": {}, "version": 2,
            })


def _expected(plants: Sequence[Plant], specs: Sequence[BenchSpec], shas: Sequence[str],
              measured: Sequence[int], machines: Sequence[str]) -> list[PlantedChange]:
    higher = {s.name for s in specs if s.type == "track"}
    out: list[PlantedChange] = []
    for p in plants:
        first = min(i for i in measured if i >= p.index)
        prev = max(i for i in measured if i < p.index)
        worse = (p.factor < 1) if p.benchmark in higher else (p.factor > 1)
        kind = "spike" if p.revert_after else ("regression" if worse else "improvement")
        out.extend(PlantedChange(p.benchmark, p.params, m, shas[first], shas[prev], p.factor, kind)
                   for m in machines)
    return out


def build_suite(root: Path, *, seed: int = 20260105, n_commits: int = 40,
                specs: Sequence[BenchSpec] = DEFAULT_BENCHMARKS,
                plants: Sequence[Plant] = DEFAULT_PLANTED,
                gaps: frozenset[int] = DEFAULT_GAPS, machines: Sequence[str] = ("synthetic-box",),
                n_samples: int = 10) -> SyntheticSuite:
    """Write ``root/repo`` (git) and ``root/results`` (asv) with the planted changes."""
    repo_dir, results_dir = root / "repo", root / "results"
    repo_dir.mkdir(parents=True, exist_ok=False)
    shas = make_git_history(repo_dir, n_commits)
    measured = [i for i in range(n_commits) if i not in gaps]
    write_results(results_dir, shas, measured, specs=specs, plants=plants, machines=machines,
                  rng=np.random.default_rng(seed), n_samples=n_samples)
    return SyntheticSuite(
        repo=repo_dir, results_dir=results_dir, machines=tuple(machines), commits=tuple(shas),
        measured=tuple(measured),
        planted=tuple(_expected(plants, specs, shas, measured, machines)),
    )
