"""Build a real asv project on disk: a git history, asv.conf.json, benchmarks.json and
asv 0.6 results (format version 2, raw samples), with planted level shifts.

Used by the dashboard tests and by the opt-in publish benchmark. The git history is
made with ``git fast-import`` (fixed dates, so the same seed gives the same SHAs).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ENV_NAME = "virtualenv-py3.11"
COMMIT_URL = "https://github.com/example/nvr/commit/"
T0 = 1_790_000_000  # commit dates: one hour apart from here (seconds)


@dataclass(frozen=True)
class Shift:
    """A planted level change: from commit index ``at`` on, values are x ``factor``."""

    at: int
    factor: float


@dataclass(frozen=True)
class PlantedBenchmark:
    name: str  # e.g. "bench_ingest.time_remux"
    base: float = 1e-3
    unit: str = "seconds"
    bench_type: str = "time"
    params: tuple[str, ...] = ()  # values of one parameter "n", or () for none
    shifts: tuple[Shift, ...] = ()
    noise: float = 0.01  # relative sd of a sample


@dataclass(frozen=True)
class Machine:
    name: str
    speed: float = 1.0  # multiplies every value on this machine


@dataclass(frozen=True)
class AsvProject:
    root: Path
    config: Path
    repo: Path
    results_dir: Path
    html_dir: Path
    shas: tuple[str, ...]
    benchmarks: tuple[PlantedBenchmark, ...]
    machines: tuple[Machine, ...] = field(default=(Machine("ci-box"),))


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    env = {
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    out = subprocess.run(
        ["git", *args], cwd=repo, input=stdin, env=env, check=True, capture_output=True
    )
    return out.stdout.decode()


def make_git_history(repo: Path, n_commits: int, *, start: int = 0) -> list[str]:
    """Append ``n_commits`` commits to branch main (creating the repo if needed)."""
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "-q", "-b", "main")
    stream: list[str] = []
    for i in range(start, start + n_commits):
        body = f"version = {i}\n"
        msg = f"change {i}\n"
        when = T0 + 3600 * i
        stream += [
            "commit refs/heads/main",
            f"mark :{i + 1}",
            f"committer Dev <dev@example.invalid> {when} +0000",
            f"data {len(msg)}",
            msg.rstrip("\n"),
        ]
        if i > 0:
            stream.append(f"from {'refs/heads/main^0' if i == start else f':{i}'}")
        stream += ["M 644 inline src/version.py", f"data {len(body)}", body.rstrip("\n"), ""]
    _git(repo, "fast-import", "--quiet", stdin=("\n".join(stream) + "\n").encode())
    _git(repo, "reset", "-q", "--hard", "main")
    shas = _git(repo, "rev-list", "--reverse", "--first-parent", "main").split()
    return shas[start:]


def _benchmarks_json(benches: Sequence[PlantedBenchmark]) -> dict[str, object]:
    out: dict[str, object] = {"version": 2}
    for b in benches:
        out[b.name] = {
            "code": f"def {b.name.rsplit('.', 1)[-1]}(): pass",
            "name": b.name,
            "param_names": ["n"] if b.params else [],
            "params": [list(b.params)] if b.params else [],
            "type": {"time": "time", "track": "track", "mem": "memory"}[b.bench_type],
            "unit": b.unit,
            "version": "1" * 64,
            "number": 0,
            "rounds": 1,
            "repeat": 0,
            "min_run_count": 2,
            "sample_time": 0.01,
            "warmup_time": 0.0,
            "timeout": 60.0,
        }
    return out


def _machine_json(m: Machine) -> dict[str, object]:
    return {
        "arch": "x86_64",
        "cpu": "Test CPU",
        "machine": m.name,
        "num_cpu": "2",
        "os": "Linux",
        "ram": "8000000000",
        "version": 1,
    }


def _level(b: PlantedBenchmark, i: int, combo: int, m: Machine) -> float:
    value = b.base * (1.0 + combo) * m.speed
    for s in b.shifts:
        if i >= s.at:
            value *= s.factor
    return value


def _row(
    b: PlantedBenchmark, i: int, m: Machine, rng: np.random.Generator, n_samples: int
) -> list[object]:
    combos = max(1, len(b.params))
    medians: list[float] = []
    samples: list[list[float]] = []
    ci_a: list[float] = []
    ci_b: list[float] = []
    for c in range(combos):
        level = _level(b, i, c, m)
        s = level * (1.0 + b.noise * rng.standard_normal(n_samples))
        samples.append([float(v) for v in s])
        medians.append(float(np.median(s)))
        ci_a.append(float(np.min(s)))
        ci_b.append(float(np.max(s)))
    started = (T0 + 3600 * i + 60) * 1000
    return [
        medians,
        [list(b.params)] if b.params else [],
        "1" * 64,
        started,
        0.5,
        ci_a,
        ci_b,
        ci_a,
        ci_b,
        [1] * combos,
        [n_samples] * combos,
        samples,
    ]


_COLUMNS = [
    "result",
    "params",
    "version",
    "started_at",
    "duration",
    "stats_ci_99_a",
    "stats_ci_99_b",
    "stats_q_25",
    "stats_q_75",
    "stats_number",
    "stats_repeat",
    "samples",
]


def write_results(
    project: AsvProject,
    indices: Sequence[int],
    rng: np.random.Generator,
    *,
    n_samples: int = 5,
) -> None:
    """Write one results file per (commit index, machine)."""
    for m in project.machines:
        mdir = project.results_dir / m.name
        mdir.mkdir(parents=True, exist_ok=True)
        (mdir / "machine.json").write_text(json.dumps(_machine_json(m), indent=4))
        params = {k: v for k, v in _machine_json(m).items() if k != "version"}
        for i in indices:
            sha = project.shas[i]
            doc = {
                "commit_hash": sha,
                "env_name": ENV_NAME,
                "date": (T0 + 3600 * i) * 1000,
                "params": {**params, "python": "3.11"},
                "python": "3.11",
                "requirements": {},
                "env_vars": {},
                "result_columns": _COLUMNS,
                "results": {b.name: _row(b, i, m, rng, n_samples) for b in project.benchmarks},
                "durations": {},
                "version": 2,
            }
            (mdir / f"{sha[:8]}-{ENV_NAME}.json").write_text(json.dumps(doc))


def make_asv_project(
    root: Path,
    benchmarks: Sequence[PlantedBenchmark],
    *,
    n_commits: int,
    rng: np.random.Generator,
    machines: Sequence[Machine] = (Machine("ci-box"),),
    n_samples: int = 5,
    measured: Sequence[int] | None = None,
) -> AsvProject:
    """A complete asv project under ``root`` with results for ``measured`` commits."""
    repo = root / "repo"
    shas = make_git_history(repo, n_commits)
    conf = {
        "version": 1,
        "project": "nvr",
        "project_url": "https://github.com/example/nvr",
        "repo": "repo",
        "branches": ["main"],
        "environment_type": "virtualenv",
        "show_commit_url": COMMIT_URL,
        "results_dir": "results",
        "html_dir": "html",
        "env_dir": "env",
    }
    config = root / "asv.conf.json"
    config.write_text(json.dumps(conf, indent=2))
    project = AsvProject(
        root=root,
        config=config,
        repo=repo,
        results_dir=root / "results",
        html_dir=root / "html",
        shas=tuple(shas),
        benchmarks=tuple(benchmarks),
        machines=tuple(machines),
    )
    project.results_dir.mkdir(parents=True, exist_ok=True)
    (project.results_dir / "benchmarks.json").write_text(
        json.dumps(_benchmarks_json(benchmarks), indent=2)
    )
    write_results(project, measured if measured is not None else range(n_commits), rng,
                  n_samples=n_samples)
    return project


def add_commit(project: AsvProject, rng: np.random.Generator, *, n_samples: int = 5) -> AsvProject:
    """Append one commit to the history and write its results."""
    new = make_git_history(project.repo, 1, start=len(project.shas))
    grown = AsvProject(
        root=project.root,
        config=project.config,
        repo=project.repo,
        results_dir=project.results_dir,
        html_dir=project.html_dir,
        shas=project.shas + tuple(new),
        benchmarks=project.benchmarks,
        machines=project.machines,
    )
    write_results(grown, [len(grown.shas) - 1], rng, n_samples=n_samples)
    return grown
