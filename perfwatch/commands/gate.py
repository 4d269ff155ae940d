"""``perfwatch gate``: exit status for CI from a results artifact.

    perfwatch gate --artifact DIR [--accept-label perf-regression-accepted] [--event EVENT.json]

Exit 1 when a regression is confirmed and not accepted, 0 otherwise (2 on unusable input).
Labels come from the artifact's pr.json, or from a pull_request event payload.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from perfwatch import prbot
from perfwatch.errors import ConfigError


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "gate", help="exit 1 when a regression is confirmed and not accepted by label",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--artifact", type=Path, required=True,
                   help="directory with compare.json (and pr.json)")
    p.add_argument("--accept-label", default=prbot.ACCEPT_LABEL,
                   help="label that accepts the regressions (default: %(default)s)")
    p.add_argument("--event", type=Path, help="pull_request event payload for labels")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    comparisons = prbot.read_comparisons(args.artifact)
    labels: tuple[str, ...] = ()
    accepted_by: str | None = None
    if (args.artifact / "pr.json").exists():
        meta = prbot.read_metadata(args.artifact)
        labels, accepted_by = meta.labels, meta.accepted_by
    if args.event is not None:
        meta = prbot.metadata_from_event(_load(args.event), machine="",
                                         accept_label=args.accept_label)
        labels, accepted_by = meta.labels, meta.accepted_by or accepted_by
    decision = prbot.decide_gate(comparisons, labels=labels, accept_label=args.accept_label,
                                 accepted_by=accepted_by)
    print(f"perfwatch gate: {decision.conclusion}: {decision.title}")
    return decision.exit_code


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read the event payload {path}: {err}",
                          hint="pass $GITHUB_EVENT_PATH") from err
