"""``make demo`` (``python -m perfwatch.demo``): perfwatch on a synthetic history.

Builds a seeded synthetic benchmark history with planted changes under ``.demo/`` (a
scratch git repository and asv results, made by :mod:`perfwatch.synthetic`), runs
``perfwatch detect`` and ``perfwatch compare`` through the real CLI, and prints what
was found next to what was planted, and where the files are. This module is an entry
point like :mod:`perfwatch.cli`, so it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from perfwatch import cli
from perfwatch.synthetic import PlantedChange, SyntheticSuite, build_suite

__all__ = ["demo_root", "main", "score"]


def demo_root() -> Path:
    """``.demo/`` in the repository root (the current directory when installed)."""
    here = Path(__file__).resolve().parents[1]
    return (here if (here / "pyproject.toml").exists() else Path.cwd()) / ".demo"


def _planted_key(p: PlantedChange) -> tuple[str, tuple[str, ...] | None, str]:
    return p.benchmark, p.params, p.machine


def _found_key(c: dict[str, Any]) -> tuple[str, tuple[str, ...] | None, str]:
    params = tuple(c["params"]) if c["params"] is not None else None
    return c["benchmark"], params, c["machine"]


def _verdict(p: PlantedChange, c: dict[str, Any] | None, off: int) -> str:
    if p.kind == "spike":
        return "not reported (right)" if c is None else "reported a spike as a change (WRONG)"
    if c is None:
        return "MISSED"
    where = "exact commit" if off == 0 else f"{off:+d} benchmarked commit(s) off"
    wrong = "" if c["direction"] == p.kind else " (WRONG direction)"
    return f"found {c['direction']} {c['rel_change']:+.1%} ({where}){wrong}"


def score(suite: SyntheticSuite, changes: Sequence[dict[str, Any]]) -> list[str]:
    """One line per planted change and per unexpected finding."""
    pos = {suite.commits[i]: k for k, i in enumerate(suite.measured)}  # measured positions
    lines, used = [], set()
    for p in suite.planted:
        hits = [i for i, c in enumerate(changes)
                if _found_key(c) == _planted_key(p) and i not in used]
        best = min(hits, key=lambda i: abs(pos[changes[i]["commit"]] - pos[p.commit]),
                   default=None)
        found = changes[best] if best is not None else None
        if best is not None:
            used.add(best)
        off = pos[found["commit"]] - pos[p.commit] if found else 0
        label = p.benchmark + (f"({', '.join(p.params)})" if p.params else "")
        want = f"{p.kind} x{p.factor:g} at {p.previous_commit[:8]}..{p.commit[:8]}"
        lines.append(f"  planted {label}: {want} -> {_verdict(p, found, off)}")
    lines.extend(f"  unexpected: {c['benchmark']} {c['direction']} {c['rel_change']:+.1%} "
                 f"at {c['commit'][:8]} (false alarm)"
                 for i, c in enumerate(changes) if i not in used)
    return lines


def _run(argv: list[str], stdout: Path | None = None) -> int:
    print(f"\n$ perfwatch {' '.join(argv)}", flush=True)
    if stdout is None:
        return cli.main(argv)
    with stdout.open("w", encoding="utf-8") as out, contextlib.redirect_stdout(out):
        return cli.main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m perfwatch.demo [--root DIR]`` (default DIR: ``.demo/`` of the checkout)."""
    parser = argparse.ArgumentParser(prog="python -m perfwatch.demo")
    parser.add_argument("--root", type=Path, default=None, help="where to write (default .demo/)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    start = time.perf_counter()
    root = (args.root or demo_root()) / "synthetic"
    if root.exists():
        shutil.rmtree(root)
    suite = build_suite(root)
    print(f"Synthetic history: {len(suite.commits)} commits, {len(suite.measured)} benchmarked, "
          f"{len(suite.planted)} planted steps (one a spike that reverts)")
    common = ["--results-dir", str(suite.results_dir), "--repo", str(suite.repo)]
    detect_json = root / "detect.json"
    _run(["detect", *common, "--json", str(detect_json)])
    changes = json.loads(detect_json.read_text(encoding="utf-8"))["changes"]
    print("\nPlanted against found:")
    print("\n".join(score(suite, changes)))
    pr = next(p for p in suite.planted if p.kind == "regression")
    pair = [pr.previous_commit[:10], pr.commit[:10]]
    code = _run(["compare", *pair, *common])
    print(f"(exit status {code}: 1 means a regression is confirmed)")
    comment = root / "pr-comment.md"
    _run(["compare", *pair, *common, "--markdown"], stdout=comment)
    print(f"\nFiles:\n  git repository   {suite.repo}\n  asv results      {suite.results_dir}"
          f"\n  detect JSON      {detect_json}\n  PR comment       {comment}")
    print(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
