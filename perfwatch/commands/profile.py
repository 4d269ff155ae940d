"""``perfwatch profile``: being built."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser("profile", help="(not ready yet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return 2
