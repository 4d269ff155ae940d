"""The ``perfwatch detect --json`` document (a contract other tools rely on).

Version 1::

    {"version": 1, "changes": [{"benchmark": NAME, "params": [..] | null, "machine": NAME,
      "metric_unit": UNIT, "commit": SHA, "previous_commit": SHA,
      "direction": "regression" | "improvement", "rel_change": FLOAT, "ci": [LOW, HIGH],
      "pvalue": FLOAT, "suite_shift": SHA (only on members of a suite-wide shift)}],
     "suite_shifts": (only when there is one) [{"commit": SHA, "previous_commit": SHA, "machine": NAME,
      "direction": "regression" | "improvement", "series": N, "measured_series": N,
      "median_rel_change": FLOAT}]}

``commit`` is the first commit at the new level, ``previous_commit`` the last measured
commit at the old level (full 40-hex shas); changes are ordered by benchmark, then by the
commit's position in the history. A suite-wide shift (most series of a machine moving
the same way at one commit: an environment change) is listed once in ``suite_shifts``;
its member changes stay in ``changes`` with ``suite_shift`` set to its commit (so a
consumer that ignores the field sees exactly the version-1 list). Pure: builds values and
text, never writes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from perfwatch.model import Change
from perfwatch.suite_shifts import SuiteShift, suite_shifts

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
    } | ({"suite_shift": c.suite_shift} if c.suite_shift else {})


def _shift(s: SuiteShift) -> dict[str, Any]:
    return {
        "commit": s.commit,
        "previous_commit": s.previous_commit,
        "machine": s.machine,
        "direction": s.direction,
        "series": s.series,
        "measured_series": s.measured_series or None,
        "median_rel_change": _finite(s.median_rel_change),
    }


def detect_document(changes: Sequence[Change],
                    shifts: Sequence[SuiteShift] | None = None) -> dict[str, Any]:
    """The version-1 document for ``changes`` (already in contract order); ``shifts``
    default to those summarised from the changes' ``suite_shift`` marks. Without a
    suite-wide shift the document is exactly the original version 1."""
    if shifts is None:
        shifts = suite_shifts(changes)
    doc: dict[str, Any] = {"version": DETECT_JSON_VERSION, "changes": [_change(c) for c in changes]}
    if shifts:
        doc["suite_shifts"] = [_shift(s) for s in shifts]
    return doc


def dumps_detect(changes: Sequence[Change], shifts: Sequence[SuiteShift] | None = None) -> str:
    """The document as indented JSON text with a final newline."""
    return json.dumps(detect_document(changes, shifts), indent=2, allow_nan=False) + "\n"
