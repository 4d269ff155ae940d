"""``perfwatch compare BASE HEAD``: verdicts of one commit (or file) against another."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from perfwatch.adapters.pytest_benchmark import load_pytest_benchmark, machine_of
from perfwatch.analysis import CompareReport, NotCompared, compare_report, compare_series
from perfwatch.commands.detect import DEFAULT_SEED, emit
from perfwatch.errors import ConfigError
from perfwatch.model import Comparison, Verdict
from perfwatch.report.markdown import CommentContext, render_comment
from perfwatch.report.table import comparisons_table

__all__ = ["COMPARE_JSON_VERSION", "add_parser", "compare_document", "run"]

COMPARE_JSON_VERSION = 1


def add_parser(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "compare",
        help="compare two commits' results (or two pytest-benchmark files)",
        description="Verdict per benchmark x params x machine of HEAD against BASE, "
        "regressions first. Exit status 1 when a regression is confirmed, 0 otherwise, "
        "2 on unusable input. With --pytest-benchmark, BASE and HEAD are pytest-benchmark "
        "JSON files (pytest --benchmark-json, ideally with --benchmark-save-data).",
    )
    p.add_argument("base", metavar="BASE", help="base commit (sha, short sha or ref) or file")
    p.add_argument("head", metavar="HEAD", help="head commit (sha, short sha or ref) or file")
    p.add_argument("--results-dir", type=Path, default=None, metavar="DIR",
                   help="asv results directory (required unless --pytest-benchmark)")
    p.add_argument("--repo", type=Path, default=None, metavar="PATH",
                   help="git repository, to resolve refs and short shas")
    p.add_argument("--merge-base", action="store_true",
                   help="compare HEAD against the merge-base of BASE and HEAD (needs --repo)")
    p.add_argument("--machine", default=None, metavar="NAME", help="only this machine")
    p.add_argument("--pytest-benchmark", action="store_true",
                   help="BASE and HEAD are pytest-benchmark JSON files")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON (version 1)")
    fmt.add_argument("--markdown", action="store_true", help="print the PR comment markdown")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _comparison(c: Comparison) -> dict[str, Any]:
    return {
        "benchmark": c.key.benchmark,
        "params": list(c.key.params) if c.key.params is not None else None,
        "machine": c.key.machine,
        "metric_unit": c.unit,
        "direction": c.direction.value,
        "verdict": c.verdict.value,
        "rel_change": _finite(c.rel_change),
        "ci": [_finite(c.ci[0]), _finite(c.ci[1])],
        "pvalue": _finite(c.pvalue),
        "qvalue": _finite(c.qvalue),
        "base_median": _finite(c.base_median),
        "head_median": _finite(c.head_median),
        "n_base": c.n_base,
        "n_head": c.n_head,
        "extra_runs": c.extra_runs,
        "unstable": c.unstable,
        "note": c.note,  # what noise the verdict was judged against (shown in the PR comment)
    }


def _not_compared(n: NotCompared) -> dict[str, Any]:
    """One not-compared entry; ``absolute_change``/``flagged`` only when the base median
    is 0 (relative change undefined)."""
    out: dict[str, Any] = {
        "benchmark": n.key.benchmark,
        "params": list(n.key.params) if n.key.params is not None else None,
        "machine": n.key.machine, "reason": n.reason,
    }
    if n.absolute_change is not None:
        out["absolute_change"] = _finite(n.absolute_change)
        out["flagged"] = n.flagged
        out["regression"] = n.worse
    return out


def compare_document(report: CompareReport) -> dict[str, Any]:
    """The ``--json`` document: version, base, head, comparisons, and what was not compared."""
    return {
        "version": COMPARE_JSON_VERSION,
        "base": report.base,
        "head": report.head,
        "comparisons": [_comparison(c) for c in report.comparisons],
        "not_compared": [_not_compared(n) for n in report.not_compared],
    }


def _report(args: argparse.Namespace) -> CompareReport:
    rng = np.random.default_rng(args.seed)
    if args.pytest_benchmark:
        base, head = Path(args.base), Path(args.head)
        machine = args.machine or machine_of(base)
        if machine_of(head) != machine:
            print(f"perfwatch compare: warning: {head} was written on {machine_of(head)!r}, "
                  f"{base} on {machine!r}; compared as one machine", file=sys.stderr)
        return compare_series(load_pytest_benchmark(base, machine=machine),
                              load_pytest_benchmark(head, machine=machine),
                              rng=rng, base_label=base.name, head_label=head.name)
    if args.results_dir is None:
        raise ConfigError("--results-dir is required",
                          hint="pass the asv results directory, or --pytest-benchmark FILES")
    return compare_report(args.results_dir, args.base, args.head, machine=args.machine,
                          rng=rng, repo=args.repo, merge_base=args.merge_base)


def _markdown(report: CompareReport, machine: str | None) -> str:
    """The PR comment (perfwatch.report.markdown) for this comparison."""
    machines = sorted({c.key.machine for c in report.comparisons})
    context = CommentContext(base_sha=report.base, head_sha=report.head,
                             machine=machine or ", ".join(machines) or "unknown")
    return render_comment(report.comparisons, context=context)


def _print_text(report: CompareReport) -> None:
    emit(comparisons_table(report.comparisons, base=report.base, head=report.head))
    for n in report.not_compared:
        print(f"not compared: {n.key.label} on {n.key.machine}: {n.reason}")
    notes = Counter(c.note for c in report.comparisons if c.note)
    for note, count in sorted(notes.items()):
        print(f"{note}: {count} series")


def run(args: argparse.Namespace) -> int:
    report = _report(args)
    if args.json:
        sys.stdout.write(json.dumps(compare_document(report), indent=2, allow_nan=False) + "\n")
    elif args.markdown:
        sys.stdout.write(_markdown(report, args.machine))
    else:
        _print_text(report)
    regressed = any(c.verdict is Verdict.REGRESSION for c in report.comparisons)
    return 1 if regressed or any(n.worse for n in report.not_compared) else 0
