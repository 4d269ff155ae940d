"""Which asv commands a ``perfwatch run`` makes: a pure plan over a frozen request.

Two modes:

- **virtualenv** (asv's own environments, one build per commit): one ``asv run`` over
  all commits (``SHA^!`` or ``HASHFILE:``); N interleaved rounds are N such runs with
  ``-a rounds=1``, the later ones with ``--append-samples``: round 1 of every commit,
  then round 2, and so on (A/B/A/B), cancelling slow drift of the machine. (asv's own
  ``--interleave-rounds -a rounds=N`` does the same inside one invocation, but its
  result files keep no boundary between the rounds; one invocation per round lets
  ``perfwatch run`` record which samples each round added, so ``compare`` knows the
  runs of each commit.)
- **same** (``--python=same``: the current interpreter, no environment builds): one
  ``asv run -E existing:same --set-commit-hash SHA`` per commit and round, the
  commit's recorder sources put first on the path with ``ASV_PYTHONPATH``; rounds
  after the first add ``--append-samples``. Fast, for local A/B checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["AsvInvocation", "RunRequest", "plan"]


@dataclass(frozen=True)
class RunRequest:
    asv: tuple[str, ...]  # how to start asv, e.g. ("/venv/bin/asv",)
    config: Path
    machine: str
    commits: tuple[str, ...]  # full SHAs, in the order to run them (base first)
    bench: str | None = None
    rounds: int = 1  # > 1: interleaved rounds
    python_same: bool = False
    hashfile: Path | None = None  # virtualenv mode with several commits
    quick: bool = False
    show_stderr: bool = True
    dry_run: bool = False  # asv --dry-run: measure but save no results (profiling runs)


@dataclass(frozen=True)
class AsvInvocation:
    label: str
    argv: tuple[str, ...]
    source_commit: str | None = None  # same mode: export this commit's recorder first


def _common(req: RunRequest) -> list[str]:
    args = ["--config", str(req.config), "--machine", req.machine, "--record-samples"]
    if req.bench:
        args += ["--bench", req.bench]
    if req.quick:
        args.append("--quick")
    if req.show_stderr:
        args.append("--show-stderr")
    if req.dry_run:
        args.append("--dry-run")
    return args


def _virtualenv(req: RunRequest) -> list[AsvInvocation]:
    if len(req.commits) == 1:
        spec = f"{req.commits[0]}^!"
    elif req.hashfile is not None:
        spec = f"HASHFILE:{req.hashfile}"
    else:
        raise ValueError("several commits in virtualenv mode need a hashfile")
    args = [*req.asv, "run", *_common(req)]
    if req.rounds == 1:
        return [AsvInvocation(f"{len(req.commits)} commit(s)", (*args, spec))]
    out = []
    for r in range(1, req.rounds + 1):
        extra = ["-a", "rounds=1"] + (["--append-samples"] if r > 1 else [])
        label = f"round {r}/{req.rounds}: {len(req.commits)} commit(s)"
        out.append(AsvInvocation(label, (*args, *extra, spec)))
    return out


def _same(req: RunRequest) -> list[AsvInvocation]:
    out = []
    for r in range(1, max(1, req.rounds) + 1):
        for sha in req.commits:
            args = [*req.asv, "run", *_common(req), "--python=same", "--set-commit-hash", sha]
            if r > 1:
                args.append("--append-samples")
            label = f"round {r}/{max(1, req.rounds)}: commit {sha[:8]}"
            out.append(AsvInvocation(label, tuple(args), source_commit=sha))
    return out


def plan(req: RunRequest) -> list[AsvInvocation]:
    """The asv invocations, in order, that carry out ``req``."""
    if not req.commits:
        raise ValueError("no commits to run")
    if req.rounds < 1:
        raise ValueError("rounds must be >= 1")
    return _same(req) if req.python_same else _virtualenv(req)
