#!/usr/bin/env python3
"""perfwatch on itself: is this checkout's detector slower than main's?

    scripts/self_bench.py [--base REF] [--rounds N] [--out DIR] [--bench FILE]

1. checks out BASE (default: origin/main, else main) in a git worktree in a temp dir;
2. runs the detector benchmarks (``scripts/self_bench/bench_detector.py``, pytest-benchmark,
   timed in process CPU time, one thread) for BASE and for this checkout in interleaved
   rounds, A/B then B/A, so that drift of the machine (other jobs, thermal state) falls on
   both sides alike. Each run is a fresh process with its tree first on ``sys.path``; the
   benchmark module is this checkout's, so only perfwatch's code differs;
3. merges each side's rounds into one pytest-benchmark JSON file with one sample per round
   (the round's median: times inside one process are not independent samples);
4. runs ``perfwatch compare --pytest-benchmark BASE.json HEAD.json`` and exits with its
   status: 1 when a slowdown is confirmed, 0 otherwise, 2 on unusable input.

``--env-head K=V`` / ``--env-base K=V`` add environment variables to one side (the tests plant
a slowdown that way). The worktree is removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BENCH = ROOT / "scripts" / "self_bench" / "bench_detector.py"
SINGLE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                        "MKL_NUM_THREADS")}


def _git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"self-bench: git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def default_base() -> str:
    for ref in ("origin/main", "main"):
        ok = subprocess.run(["git", "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
                            cwd=ROOT, capture_output=True, check=False).returncode == 0
        if ok:
            return ref
    raise SystemExit("self-bench: neither origin/main nor main exists; pass --base REF")


def _env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"self-bench: expected K=V, got {pair!r}")
        out[key] = value
    return out


def run_side(tree: Path, bench: Path, out: Path, extra_env: dict[str, str]) -> None:
    """One pytest-benchmark run of ``bench`` with ``tree``'s perfwatch first on the path."""
    # Only pytest-benchmark is loaded: other installed plugins cost seconds per process.
    # One thread, timed in CPU time: on a shared CI runner, time spent waiting for a CPU
    # would otherwise dominate the differences.
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           **SINGLE_THREAD, **extra_env}
    cmd = [sys.executable, "-m", "pytest", "-p", "pytest_benchmark.plugin", str(bench),
           "--benchmark-only", "-q",
           "-p", "no:cacheprovider", "--rootdir", str(bench.parent), "-c", os.devnull,
           f"--benchmark-json={out}", "--benchmark-save-data", "--benchmark-disable-gc",
           "--benchmark-timer=time.process_time"]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"self-bench: the benchmarks failed in {tree} (exit {done.returncode})")
    imported = {str(b.get("extra_info", {}).get("perfwatch_file", ""))
                for b in json.loads(out.read_text())["benchmarks"]}
    wrong = [f for f in imported if f and not Path(f).resolve().is_relative_to(tree.resolve())]
    if wrong:
        raise SystemExit(f"self-bench: the run for {tree} imported perfwatch from {wrong[0]}")


def merge_rounds(files: Sequence[Path]) -> dict[str, Any]:
    """One pytest-benchmark document with ONE sample per round: that round's median.

    The times inside one process share its state (memory layout, the machine's load at
    that moment), so they are not independent; pooled, they would make a between-run
    difference look certain. One median per fresh process is an honest sample, and the
    verdict needs enough rounds (docs/concepts.md, "Two kinds of noise").
    """
    docs = [json.loads(f.read_text()) for f in files]
    merged = copy.deepcopy(docs[0])
    per_round: dict[str, list[float]] = {}
    for doc in docs:
        for bench in doc["benchmarks"]:
            data = sorted(bench["stats"]["data"]) or [bench["stats"]["median"]]
            median = (data[(len(data) - 1) // 2] + data[len(data) // 2]) / 2
            per_round.setdefault(bench["fullname"], []).append(median)
    merged["benchmarks"] = [b for b in merged["benchmarks"] if b["fullname"] in per_round]
    for bench in merged["benchmarks"]:
        data = per_round[bench["fullname"]]
        ordered = sorted(data)
        bench["stats"].update(data=data, rounds=len(data), min=ordered[0], max=ordered[-1],
                              median=ordered[len(ordered) // 2])
        bench["extra_info"]["samples"] = "median of each round (fresh process)"
    return merged


def compare(base_json: Path, head_json: Path, *, as_json: Path | None = None) -> int:
    """``perfwatch compare --pytest-benchmark`` with this checkout's perfwatch (in process)."""
    sys.path.insert(0, str(ROOT))
    from perfwatch.cli import main as perfwatch

    argv = ["compare", "--pytest-benchmark", str(base_json), str(head_json)]
    if as_json is not None:
        with as_json.open("w") as fh, contextlib.redirect_stdout(fh):
            perfwatch([*argv, "--json"])
    return perfwatch(argv)


def _rounds(args: argparse.Namespace, trees: dict[str, Path]) -> dict[str, list[Path]]:
    envs = {"base": _env_pairs(args.env_base), "head": _env_pairs(args.env_head)}
    files: dict[str, list[Path]] = {"base": [], "head": []}
    for r in range(args.rounds):
        order = ("base", "head") if r % 2 == 0 else ("head", "base")
        for side in order:
            out = args.out / f"{side}-round{r + 1}.json"
            t0 = time.monotonic()
            run_side(trees[side], args.bench, out, envs[side])
            print(f"self-bench: round {r + 1}/{args.rounds} {side:<4} "
                  f"{time.monotonic() - t0:5.1f} s", flush=True)
            files[side].append(out)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="self_bench.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="ref to compare against (default: main)")
    parser.add_argument("--rounds", type=int, default=8,
                        help="A/B rounds, one fresh process per side each (default: 8)")
    parser.add_argument("--out", type=Path, default=ROOT / ".artifacts" / "self-bench")
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH, help=argparse.SUPPRESS)
    parser.add_argument("--env-base", action="append", default=[], metavar="K=V")
    parser.add_argument("--env-head", action="append", default=[], metavar="K=V")
    args = parser.parse_args(argv)
    if args.rounds < 4:
        parser.error("--rounds must be at least 4: fewer rounds can never confirm a change")
    args.out = args.out.resolve()
    args.bench = args.bench.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.base or default_base()
    sha = _git("rev-parse", "--verify", f"{base}^{{commit}}")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perfwatch-self-bench-") as tmp:
        worktree = Path(tmp) / "base"
        _git("worktree", "add", "--detach", "-q", str(worktree), sha)
        try:
            print(f"self-bench: base {base} ({sha[:10]}) in a worktree; head is this checkout; "
                  f"{args.rounds} interleaved rounds", flush=True)
            files = _rounds(args, {"base": worktree, "head": ROOT})
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT,
                           capture_output=True, check=False)
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True,
                           check=False)
    for side in ("base", "head"):
        (args.out / f"{side}.json").write_text(json.dumps(merge_rounds(files[side]), indent=1))
    print(f"self-bench: benchmarks took {time.monotonic() - t0:.0f} s; comparing "
          f"{args.out / 'base.json'} with {args.out / 'head.json'}", flush=True)
    code = compare(args.out / "base.json", args.out / "head.json",
                   as_json=args.out / "compare.json")
    outcome = {0: "no confirmed slowdown", 1: "SLOWDOWN CONFIRMED"}.get(code, "unusable input")
    print(f"self-bench: {outcome} (exit {code}); files in {args.out}", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
