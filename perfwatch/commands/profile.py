"""``perfwatch profile``: py-spy record of a benchmark scenario, or the diff of two profiles."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from perfwatch.adapters.asv_config import find_config, load_asv_config
from perfwatch.commands.run import _asv
from perfwatch.errors import ConfigError
from perfwatch.harness.asv_plan import RunRequest
from perfwatch.harness.profile_diff import (
    FunctionShare,
    SelfTimeProfile,
    diff_profiles,
    load_speedscope,
)
from perfwatch.harness.profiles import default_hardware_dir
from perfwatch.harness.profiling import PySpy
from perfwatch.harness.session import execute, prepare, prepare_local, resolve_commits

__all__ = ["add_parser", "format_diff", "run"]


def add_parser(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "profile",
        help="py-spy profile of a benchmark, or which functions changed between two profiles",
        description="`perfwatch profile BENCHMARK [--commit C]` runs the matching asv benchmarks "
        "once (this interpreter, the commit's recorder sources, no results saved) under py-spy "
        "and writes a speedscope JSON and an SVG flamegraph. `perfwatch profile --diff A B` "
        "lists the functions whose share of self time changed most from A to B.",
    )
    p.add_argument("benchmark", nargs="?", default=None, metavar="BENCHMARK",
                   help="benchmark regex, as asv --bench takes it")
    p.add_argument("--commit", default="HEAD", help="commit whose recorder to profile")
    p.add_argument("--out", type=Path, default=Path(".asv/profiles"), metavar="DIR")
    p.add_argument("--profile", dest="hw_profile", default=None, metavar="NAME",
                   help="check and pin to this hardware profile (default: no check)")
    p.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    p.add_argument("--config", type=Path, default=None, help="asv.conf.json (default: ./)")
    p.add_argument("--diff", nargs=2, type=Path, default=None, metavar=("A", "B"),
                   help="two speedscope JSON files to compare")
    p.add_argument("--top", type=int, default=10, help="rows to show")
    p.add_argument("--include", default=None, metavar="REGEX",
                   help="only functions whose 'name (module)' matches, e.g. recorder/")
    p.add_argument("--process", default=None, metavar="REGEX",
                   help="only samples of processes whose command line matches, e.g. "
                   "'recorder serve' (shares of that process's time)")
    p.add_argument("--slower", action="store_true",
                   help="with --diff: only functions whose share grew (largest first)")
    p.add_argument("--idle", action="store_true",
                   help="also sample threads blocked in system calls (I/O-bound regressions)")
    p.set_defaults(func=run)


def format_diff(rows: list[FunctionShare]) -> list[str]:
    """The diff as text lines: share of self time in A and B, change in points."""
    width = max([len(r.function) for r in rows] + [8])
    lines = [f"{'function':<{width}}  {'A':>7}  {'B':>7}  {'change':>8}"]
    for r in rows:
        lines.append(f"{r.function:<{width}}  {r.share_a:>7.1%}  {r.share_b:>7.1%}  "
                     f"{100 * r.delta:>+7.1f}pp")
    return lines


def _diff(args: argparse.Namespace) -> int:
    a, b = (load_speedscope(p, process=args.process) for p in args.diff)
    rows = diff_profiles(a, b, top=args.top, include=args.include, slower_only=args.slower)
    for line in format_diff(rows):
        print(line)
    return 0


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:80] or "benchmark"


def _record(args: argparse.Namespace) -> int:
    conf = load_asv_config(find_config(args.config, cwd=Path.cwd()))
    repo = conf.repo_path or conf.root
    prepared = (prepare(args.hw_profile, hardware_dir=default_hardware_dir(),
                        results_dir=conf.results_dir) if args.hw_profile
                else prepare_local("perfwatch-profile"))
    (sha,) = resolve_commits(repo, [args.commit])
    name = f"{_safe(args.benchmark)}-{sha[:8]}"
    request = RunRequest(asv=_asv(), config=conf.path, machine=prepared.profile.name,
                         commits=(sha,), bench=args.benchmark, python_same=True, dry_run=True)
    spies: list[PySpy] = []

    def hook(pid: int) -> PySpy:
        spies.append(PySpy(pid, args.out, name=name, rate=args.rate, idle=args.idle))
        return spies[-1]

    runs = execute(request, prepared, repo=repo, cwd=conf.root,
                   on_line=lambda line: print(line, flush=True), hook=hook)
    artifacts = spies[-1].artifacts if spies else {}
    for fmt, path in artifacts.items():
        print(f"perfwatch profile: {fmt}: {path}")
    if "speedscope" in artifacts:
        recorded = load_speedscope(artifacts["speedscope"], process=args.process)
        hottest = diff_profiles(SelfTimeProfile((), 0.0), recorded, top=args.top,
                                include=args.include or r"\(recorder/")
        print("perfwatch profile: most self time (recorder functions):")
        for row in hottest:
            print(f"  {row.share_b:>6.1%}  {row.function}")
    return 0 if all(r.returncode == 0 for r in runs) else 1


def run(args: argparse.Namespace) -> int:
    if args.diff is not None:
        return _diff(args)
    if not args.benchmark:
        raise ConfigError("name a BENCHMARK to profile, or pass --diff A B",
                          hint="e.g. perfwatch profile MultiStreamRecording --commit HEAD~1")
    return _record(args)
