"""The PR comment: golden files, size with 2,000 benchmarks, inert hostile names."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from github_helpers import BASE, HEAD, comparison, suite

from perfwatch.model import Verdict
from perfwatch.report.markdown import (
    BODY_LIMIT,
    CommentContext,
    escape,
    relabel_verdict,
    render_comment,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "comment"
CONTEXT = CommentContext(base_sha=BASE, head_sha=HEAD, machine="linux-x86-4c",
                         dashboard_url="https://perf.example.org/perfwatch",
                         flamegraph_links={"bench.ingest.time_remux": "https://perf.example.org/"
                                           "flame/remux-diff.svg"})
HOSTILE = ("<img src=x onerror=alert(1)>**bold** _it_ [click](https://evil.example) "
           "@octocat @org/team #1 `code` | cell | ~~strike~~ \\ <!-- --> www.evil.example\nline2")


def _mixed() -> list:
    return [
        comparison("bench.ingest.time_remux", Verdict.REGRESSION, 0.31, q=0.00002),
        comparison("bench.ingest.time_fsync", Verdict.REGRESSION, 0.08, q=0.004,
                   params=("4", "h264")),
        comparison("bench.api.time_list_recordings", Verdict.IMPROVEMENT, -0.12, q=0.01,
                   unit="seconds"),
        comparison("bench.index.time_query", Verdict.UNSURE, 0.035, q=0.09, extra_runs=14),
        comparison("bench.mover.time_move", Verdict.NO_CHANGE, 0.4, q=0.5, unstable=True,
                   note="between-run spread 38%"),
        comparison("bench.retention.time_sweep", Verdict.NO_CHANGE, -0.002, q=0.91),
        comparison("bench.retention.peakmem_sweep", Verdict.NO_CHANGE, 0.001, q=0.97,
                   unit="bytes"),
    ]


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs; UPDATE_GOLDEN=1 rewrites it"


def test_golden_mixed_results() -> None:
    _check_golden("mixed.md", render_comment(_mixed(), context=CONTEXT))


def test_golden_clean_results_with_fingerprint_warning() -> None:
    context = CommentContext(base_sha=BASE, head_sha=HEAD, machine="gpu-nvenc",
                             base_fingerprint="i7-12700/64G/RTX4000", head_fingerprint=
                             "i7-12700/64G/RTX4000 <driver 550>")
    clean = [c for c in _mixed() if c.verdict is Verdict.NO_CHANGE and not c.unstable]
    _check_golden("clean-fingerprint.md", render_comment(clean, context=context))


def test_golden_accepted() -> None:
    context = CommentContext(base_sha=BASE, head_sha=HEAD, machine="linux-x86-4c",
                             accepted_by="Codertocat")
    _check_golden("accepted.md", render_comment(_mixed()[:2], context=context))


def test_the_verdict_comes_first_and_regressions_are_sorted_by_size() -> None:
    body = render_comment(_mixed(), context=CONTEXT)
    lines = body.splitlines()
    assert lines[0].startswith("<!-- perfwatch:pr-comment machine=linux-x86-4c -->")
    assert lines[1].startswith("### ❌ perfwatch: 2 confirmed regressions")
    assert body.index("time\\_remux") < body.index("time\\_fsync")
    assert "+31.0% | [+29.0%, +33.0%] | <0.0001" in body
    assert "about **14 more runs** per side" in body
    assert "[flamegraph diff](https://perf.example.org/flame/remux-diff.svg)" in body
    assert "<details><summary>No significant change (2)</summary>" in body


def test_2000_benchmarks_fit_and_list_every_regression(rng: np.random.Generator) -> None:
    comparisons = suite(rng, 2000, regressions=250, improvements=150, unsure=100, unstable=40)
    body = render_comment(comparisons, context=CONTEXT)
    assert len(body) < BODY_LIMIT
    regressions = [c for c in comparisons if c.verdict is Verdict.REGRESSION]
    for c in regressions:
        assert f"| {escape(c.key.label)} |" in body
    assert "more, left out to fit" in body  # the no-change table was cut, with a note


def test_very_many_regressions_still_all_listed_in_compact_rows(rng: np.random.Generator) -> None:
    comparisons = suite(rng, 2000, regressions=600)
    body = render_comment(comparisons, context=CONTEXT)
    assert len(body) < BODY_LIMIT
    assert all(f"| {escape(c.key.label)} |" in body for c in comparisons[:600])
    assert "in short form to fit" in body
    largest = max(comparisons[:600], key=lambda c: c.rel_change)
    row = next(line for line in body.splitlines() if f"| {escape(largest.key.label)} |" in line)
    assert "[graph](" in row  # the largest ones keep their full row and links


@pytest.mark.parametrize("where", ["name", "param", "note", "machine"])
def test_hostile_text_renders_inert(where: str) -> None:
    c = comparison("bench." + HOSTILE if where == "name" else "bench.ok", Verdict.REGRESSION,
                   0.2, params=(HOSTILE,) if where == "param" else None,
                   note=HOSTILE if where == "note" else "")
    unsure = comparison("bench.u", Verdict.UNSURE, 0.03, note=HOSTILE if where == "note" else "")
    machine = HOSTILE if where == "machine" else "m"
    context = CommentContext(base_sha=BASE, head_sha=HEAD, machine=machine,
                             base_fingerprint=HOSTILE, head_fingerprint="other")
    body = render_comment([c, unsure], context=context)
    _assert_inert(body)


def _assert_inert(body: str) -> None:
    text = body.split("\n", 1)[1]  # after our own marker
    assert "<img" not in text and "<!--" not in text and "onerror=alert(1)>" not in text
    assert re.search(r"(?<![\\])\[click\]", text) is None  # no live link
    assert re.search(r"@(octocat|org)", text) is None  # no mention (ZWJ after @)
    assert re.search(r"(?<!\\)\*\*bold", text) is None
    assert re.search(r"(?<!\\)`code", text) is None
    assert "https://evil" not in text and "www.evil" not in text  # no autolink
    for line in text.splitlines():
        if line.startswith("| "):  # table rows keep their column count
            assert len(re.findall(r"(?<!\\)\|", line)) in (4, 5, 7)
    assert "\nline2" not in text


def test_escape_breaks_every_kind_of_markup() -> None:
    out = escape("a_b*c[d](e)@f#1<g>&`h`|i~j\\k\r\nl\u202em")
    assert out == ("a\\_b\\*c\\[d\\](e)@\u200df#\u200d1&lt;g&gt;&amp;\\`h\\`\\|i\\~j\\\\k"
                   "  l m")


def test_escape_keeps_quotes_and_entities_readable() -> None:
    # asv params are reprs: quotes must show as quotes, not as a split "&#x27;" entity
    assert escape("time_remux('640x360')") == "time\\_remux('640x360')"
    assert escape("<a href='x'>#1</a>") == "&lt;a href='x'&gt;#\u200d1&lt;/a&gt;"


def test_relabel_verdict_toggles_acceptance_only_on_regression_lines() -> None:
    failing = render_comment(_mixed(), context=CONTEXT).splitlines()[1]
    accepted = relabel_verdict(failing, "Codertocat")
    assert accepted.startswith("### ⚠️ perfwatch: 2 confirmed regressions")
    assert accepted.endswith("2 unchanged), accepted by Codertocat")
    assert relabel_verdict(relabel_verdict(accepted, "octo-bot"), None) == failing
    assert relabel_verdict(accepted, "octo-bot").count("accepted by") == 1
    rendered = render_comment(_mixed(), context=CommentContext(
        base_sha=BASE, head_sha=HEAD, machine="linux-x86-4c", accepted_by="Codertocat"))
    assert rendered.splitlines()[1] == relabel_verdict(failing, "Codertocat")
    clean = "### ✅ perfwatch: no regression on m (0 improved, 0 unsure, 0 unstable, 1 unchanged)"
    assert relabel_verdict(clean, "x") == clean
