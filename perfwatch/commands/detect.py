"""``perfwatch detect``: change points over a branch's history of asv results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console, RenderableType

from perfwatch.analysis import History, detect_history, load_history, measured_positions
from perfwatch.errors import ConfigError
from perfwatch.report.detect_json import dumps_detect
from perfwatch.report.table import changes_table, render_text
from perfwatch.suite_shifts import suite_shifts

__all__ = ["DEFAULT_SEED", "add_parser", "emit", "missing_warning", "run"]

# Fixed, so that the same input always gives the same output.
DEFAULT_SEED = 20261126
_LISTED = 10


def add_parser(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "detect",
        help="find performance changes along a branch's history",
        description="Find change points in asv results along the first-parent history of a "
        "branch. Exit status 0 whatever it finds, 2 on unusable input.",
    )
    p.add_argument("--results-dir", type=Path, required=True, metavar="DIR",
                   help="asv results directory (holds benchmarks.json and <machine>/)")
    p.add_argument("--repo", type=Path, required=True, metavar="PATH",
                   help="git repository the results were made from")
    p.add_argument("--branch", default=None, metavar="B",
                   help="branch to follow (default: the checked-out branch)")
    p.add_argument("--machine", default=None, metavar="NAME", help="only this machine")
    p.add_argument("--json", default=None, metavar="OUT",
                   help="also write the changes as JSON (version 1) to OUT ('-': stdout only)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def missing_warning(history: History, repo: Path) -> str:
    """One stderr line naming the result commits that are not on the branch."""
    shas = history.missing_commits
    listed = ", ".join(s[:12] for s in shas[:_LISTED])
    more = f" and {len(shas) - _LISTED} more" if len(shas) > _LISTED else ""
    return (f"perfwatch detect: warning: {len(shas)} commit(s) with results are not on branch "
            f"{history.branch!r} of {repo}, skipped: {listed}{more}")


def _write_json(out: str, text: str) -> None:
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot write {out}: {err.strerror}",
                          hint="pass a writable --json path", path=out) from None


def run(args: argparse.Namespace) -> int:
    history = load_history(args.results_dir, args.repo, branch=args.branch,
                           machine=args.machine)
    if history.missing_commits:
        print(missing_warning(history, args.repo), file=sys.stderr)
    changes = detect_history(history, rng=np.random.default_rng(args.seed))
    shifts = suite_shifts(changes, measured_positions(history))
    if args.json == "-":
        sys.stdout.write(dumps_detect(changes, shifts))
        return 0
    if args.json:
        _write_json(args.json, dumps_detect(changes, shifts))
    emit(changes_table(changes, history.commits, len(history.series), shifts))
    return 0


def emit(renderable: RenderableType) -> None:
    """Print a table: in colour at the terminal's width on a tty, else as plain full text."""
    if sys.stdout.isatty():
        Console().print(renderable)
    else:
        sys.stdout.write(render_text(renderable))
