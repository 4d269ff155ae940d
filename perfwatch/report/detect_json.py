"""The ``perfwatch detect --json`` document (a contract other tools rely on).

Version 1::

    {"version": 1, "changes": [{"benchmark": NAME, "params": [..] | null, "machine": NAME,
      "metric_unit": UNIT, "commit": SHA, "previous_commit": SHA,
      "direction": "regression" | "improvement", "rel_change": FLOAT, "ci": [LOW, HIGH],
      "pvalue": FLOAT}]}

``commit`` is the first commit at the new level, ``previous_commit`` the last measured
commit at the old level (full 40-hex shas); changes are ordered by benchmark, then by the
commit's position in the history. Pure: builds values and text, never writes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from perfwatch.model import Change

__all__ = ["DETECT_JSON_VERSION", "detect_document", "dumps_detect"]

DETECT_JSON_VERSION = 1


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _change(c: Change) -> dict[str, Any]:
    return {
        "benchmark": c.key.benchmark,
        "params": list(c.key.params) if c.key.params is not None else None,
        "machine": c.key.machine,
        "metric_unit": c.unit,
        "commit": c.commit,
        "previous_commit": c.previous_commit,
        "direction": c.direction,
        "rel_change": _finite(c.rel_change),
        "ci": [_finite(c.ci[0]), _finite(c.ci[1])],
        "pvalue": _finite(c.pvalue),
    }


def detect_document(changes: Sequence[Change]) -> dict[str, Any]:
    """The version-1 document for ``changes`` (already in contract order)."""
    return {"version": DETECT_JSON_VERSION, "changes": [_change(c) for c in changes]}


def dumps_detect(changes: Sequence[Change]) -> str:
    """The document as indented JSON text with a final newline."""
    return json.dumps(detect_document(changes), indent=2, allow_nan=False) + "\n"
