"""``perfwatch run``: benchmark commits with asv on a checked, pinned hardware profile."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from perfwatch.adapters.asv_config import find_config, load_asv_config
from perfwatch.errors import ConfigError
from perfwatch.harness.asv_plan import RunRequest
from perfwatch.harness.profiles import default_hardware_dir
from perfwatch.harness.session import execute, prepare, resolve_commits, stamp_results_machine

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="run the asv suite on commits, on a checked hardware profile",
        description="Check this host against a hardware profile, pin to its CPUs, set its "
        "environment and run asv with raw samples on the given commits (default HEAD). "
        "Exit 0 when every benchmark ran, 1 when some failed, 2 on unusable input.",
    )
    p.add_argument("commits", nargs="*", metavar="COMMIT|BASE..HEAD",
                   help="commits or a range (default: HEAD)")
    p.add_argument("--commits", dest="more_commits", nargs="+", default=[], metavar="C",
                   help="more commits (same as positional)")
    p.add_argument("--profile", default=None,
                   help="hardware profile name or .toml (default: the one this host matches)")
    p.add_argument("--bench", "-b", default=None, metavar="REGEX", help="only these benchmarks")
    p.add_argument("--interleave", type=int, default=1, metavar="N",
                   help="N interleaved rounds across the commits (A/B/A/B), cancels drift")
    p.add_argument("--python", default=None, choices=("same",),
                   help="same: use this interpreter, no environment builds (fast, local)")
    p.add_argument("--config", type=Path, default=None, help="asv.conf.json (default: ./)")
    p.add_argument("--hardware-dir", type=Path, default=None, metavar="DIR")
    p.add_argument("--quick", action="store_true", help="asv --quick (smoke test)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="kill an asv invocation after S seconds")
    p.add_argument("--machine-file", type=Path, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _asv() -> tuple[str, ...]:
    sibling = Path(sys.executable).with_name("asv")
    if sibling.exists():
        return (str(sibling),)
    found = shutil.which("asv")
    if found is None:
        raise ConfigError("asv is not installed", hint="pip install 'asv>=0.6.4,<0.7'")
    return (found,)


def run(args: argparse.Namespace) -> int:
    config_path = find_config(args.config, cwd=Path.cwd())
    conf = load_asv_config(config_path)
    repo = conf.repo_path or conf.root
    if args.interleave < 1:
        raise ConfigError("--interleave must be >= 1", hint="for example --interleave 3")
    prepared = prepare(args.profile, hardware_dir=args.hardware_dir or default_hardware_dir(),
                       results_dir=conf.results_dir, machine_file=args.machine_file)
    commits = resolve_commits(repo, [*args.commits, *args.more_commits])
    print(f"perfwatch run: host matches profile {prepared.profile.name!r} "
          f"(fingerprint {prepared.info['fingerprint']}); pinned to CPUs "
          f"{','.join(map(str, prepared.profile.cpu.pin))}; {len(commits)} commit(s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="perfwatch-run-") as tmp:
        request = RunRequest(
            asv=_asv(), config=config_path, machine=prepared.profile.name, commits=commits,
            bench=args.bench, rounds=args.interleave, python_same=args.python == "same",
            hashfile=Path(tmp) / "commits.txt" if len(commits) > 1 else None, quick=args.quick,
        )
        runs = execute(request, prepared, repo=repo, cwd=conf.root,
                       on_line=lambda line: print(line, flush=True),
                       on_step=lambda label: print(f"perfwatch run: {label}", flush=True),
                       timeout=args.timeout, results_dir=conf.results_dir)
    stamp_results_machine(conf.results_dir, prepared.info)
    failed = [r for r in runs if r.returncode != 0]
    total = sum(r.seconds for r in runs)
    print(f"perfwatch run: {len(runs)} asv invocation(s) in {total:.0f} s; results in "
          f"{conf.results_dir / prepared.profile.name}", flush=True)
    if failed:
        print(f"perfwatch run: {len(failed)} asv invocation(s) reported failed benchmarks "
              f"(exit {failed[0].returncode})", file=sys.stderr)
        return 1
    return 0
