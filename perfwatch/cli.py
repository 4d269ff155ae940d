"""Composition root: ``perfwatch`` subcommands.

``main(argv) -> int`` is the only place that catches :class:`PerfwatchError` and the
only module (with the ``perfwatch.commands`` modules it dispatches to) that prints.
Each subcommand lives in ``perfwatch/commands/<name>.py`` and exposes
``add_parser(subparsers) -> None`` (which sets ``func``) and a ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from perfwatch import __version__
from perfwatch.errors import PerfwatchError

# Subcommand modules under perfwatch/commands/, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "detect",
    "compare",
    "comment",
    "gate",
    "hardware",
    "run",
    "profile",
    "publish",
    "serve",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or only ``only`` (then only its module is imported:
    the others' imports, scipy among them, cost a second at start-up)."""
    parser = argparse.ArgumentParser(
        prog="perfwatch",
        description="Benchmark and performance-regression service for a multi-stream recorder.",
    )
    parser.add_argument("--version", action="version", version=f"perfwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS if only not in SUBCOMMANDS else (only,):
        module = importlib.import_module(f"perfwatch.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(argv) if argv is not None else sys.argv[1:]
    chosen = next((w for w in words if not w.startswith("-")), None)
    parser = build_parser(chosen)
    args = parser.parse_args(words)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except PerfwatchError as err:
        print(f"perfwatch {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"perfwatch {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
