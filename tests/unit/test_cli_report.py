"""Pure renderers behind the CLI: value formatting, tables, the detect JSON document."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from perfwatch.model import Change, Commit, Comparison, Direction, SeriesKey, Verdict
from perfwatch.report.detect_json import detect_document, dumps_detect
from perfwatch.report.table import (
    changes_table,
    comparisons_table,
    format_value,
    render_text,
)

A, B, C = "a" * 40, "b" * 40, "c" * 40
COMMITS = [Commit(sha, datetime(2026, 1, i + 1, tzinfo=UTC)) for i, sha in enumerate((A, B, C))]


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (2.36e-4, "seconds", "236μs"),
        (0.0125, "seconds", "12.5ms"),
        (3.0, "seconds", "3s"),
        (28110848.0, "bytes", "28.1M"),
        (2104.0, "bytes", "2.1k"),
        (100.0, "items", "100 items"),
        (float("nan"), "seconds", "n/a"),
    ],
)
def test_format_value(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def _change(commit: str, previous: str, index: int, rel: float, name: str = "b.time_x"
            ) -> Change:
    return Change(SeriesKey(name, ("4",), "box"), "seconds", commit, previous,
                  "regression" if rel > 0 else "improvement", rel, (rel / 2, rel * 2), 1e-6,
                  1e-5, index)


def test_changes_table_marks_gaps_and_puts_regressions_first() -> None:
    changes = [_change(C, A, 2, -0.1, "a.time_y"), _change(B, A, 1, 0.08)]
    text = render_text(changes_table(changes, COMMITS, n_series=3))
    lines = text.splitlines()
    assert lines[0] == "2 changes (1 regression, 1 improvement) in 3 series over 3 commits"
    assert "REGRESSION" in lines[4] and "b.time_x(4)" in lines[4] and "aaaaaaaa..bbbbbbbb " in lines[4]
    assert "improvement" in lines[5] and "aaaaaaaa..cccccccc (gap)" in lines[5]


def test_detect_document_is_the_contract() -> None:
    doc = detect_document([_change(B, A, 1, 0.08)])
    assert doc == {"version": 1, "changes": [{
        "benchmark": "b.time_x", "params": ["4"], "machine": "box", "metric_unit": "seconds",
        "commit": B, "previous_commit": A, "direction": "regression", "rel_change": 0.08,
        "ci": [0.04, 0.16], "pvalue": 1e-6}]}
    assert json.loads(dumps_detect([])) == {"version": 1, "changes": []}


def _comparison(verdict: Verdict, extra: int | None = None) -> Comparison:
    return Comparison(SeriesKey("s.time|x", None, "box"), "seconds", Direction.LOWER_IS_BETTER,
                      verdict, 0.05, (0.01, 0.09), 0.001, 0.004, 10, 10, 1e-3, 1.05e-3,
                      extra_runs=extra)


def test_comparison_renderings() -> None:
    comps = [_comparison(Verdict.REGRESSION), _comparison(Verdict.UNSURE, 12)]
    text = render_text(comparisons_table(comps, base=A, head=B))
    assert text.splitlines()[0] == (
        "bbbbbbbbbbbb against aaaaaaaaaaaa: 1 regression, 0 improvements, 1 unsure, 0 no change")
    assert "unsure: rerun (+12)" in text and "+1.0%..+9.0%" in text


def test_an_unstable_unsure_says_too_noisy_instead_of_a_run_count() -> None:
    unstable = dataclasses.replace(_comparison(Verdict.UNSURE, 29148), unstable=True)
    text = render_text(comparisons_table([unstable], base=A, head=B))
    assert "unsure: too noisy here" in text and "29148" not in text
