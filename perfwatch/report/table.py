"""Terminal tables (rich) for ``perfwatch detect`` and ``perfwatch compare``, and a plain
markdown table. Pure: builds renderables and strings; the commands print them.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from perfwatch.model import Change, Commit, Comparison, Verdict
from perfwatch.suite_shifts import SuiteShift, suite_shifts

__all__ = [
    "changes_table",
    "comparisons_table",
    "format_value",
    "render_text",
]

_VERDICT_STYLE = {
    Verdict.REGRESSION: "bold red",
    Verdict.IMPROVEMENT: "green",
    Verdict.UNSURE: "yellow",
    Verdict.NO_CHANGE: "dim",
}
_SHA = re.compile(r"[0-9a-f]{40}")
_TIME_STEPS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "μs"), (1e-9, "ns"))
_SIZE_STEPS = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def format_value(value: float, unit: str) -> str:
    """A value with its unit, scaled for reading: ``236μs``, ``28.1M``, ``2400 frames/s``."""
    if not math.isfinite(value):
        return "n/a"
    if unit == "seconds":
        for scale, suffix in _TIME_STEPS:
            if abs(value) >= scale or scale == 1e-9:
                return f"{value / scale:.3g}{suffix}"
    if unit == "bytes":
        for scale, suffix in _SIZE_STEPS:
            if abs(value) >= scale:
                return f"{value / scale:.3g}{suffix}"
        return f"{value:.0f}"
    return f"{value:.4g} {unit}".rstrip()


def _short(ref: str, n: int) -> str:
    """A sha cut to ``n`` characters; other labels (file names) whole."""
    return ref[:n] if _SHA.fullmatch(ref) else ref


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if math.isfinite(x) else "n/a"


def _ci(ci: tuple[float, float]) -> str:
    return f"{_pct(ci[0])}..{_pct(ci[1])}"


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def _columns(table: Table, spec: Sequence[tuple[str, str]], labels: Sequence[str]) -> None:
    longest = max((len(label) for label in labels), default=10)
    for col, justify in spec:
        if col == "benchmark":
            table.add_column(col, justify="left", overflow="fold", min_width=min(longest, 60))
        else:
            table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]


def changes_table(changes: Sequence[Change], commits: Sequence[Commit], n_series: int,
                  shifts: Sequence[SuiteShift] | None = None) -> RenderableType:
    """Change points, regressions first, each with its commit range.

    Members of a suite-wide shift (``Change.suite_shift``) are not listed one by one:
    each shift is one line under the table (``shifts``, default: summarised from the
    changes without the count of measured series).
    """
    if shifts is None:
        shifts = suite_shifts(changes)
    alone = [c for c in changes if c.suite_shift is None]
    table = _changes_rows(alone, commits, n_series, len(shifts))
    if not shifts:
        return table
    by_sha = {c.sha: c for c in commits}
    return Group(table, *(Text(_shift_line(s, by_sha.get(s.commit))) for s in shifts))


def _shift_line(s: SuiteShift, commit: Commit | None) -> str:
    when = f" ({commit.date.strftime('%Y-%m-%d %H:%M')})" if commit else ""
    of = f" of {s.measured_series}" if s.measured_series else ""
    return (f"suite-wide shift at {s.previous_commit[:8]}..{s.commit[:8]}{when} on {s.machine}: "
            f"{s.series}{of} series, median {_pct(s.median_rel_change)} ({s.direction}), "
            "likely an environment change")


def _changes_rows(changes: Sequence[Change], commits: Sequence[Commit], n_series: int,
                  n_shifts: int) -> Table:
    ordered = sorted(changes, key=lambda c: (c.direction != "regression", c.key.benchmark,
                                             c.index))
    by_sha = {c.sha: c for c in commits}
    n_reg = sum(c.direction == "regression" for c in changes)
    many = len({c.key.machine for c in changes}) > 1
    shifted = f" and {_n(n_shifts, 'suite-wide shift')}" if n_shifts else ""
    table = Table(
        title=f"{_n(len(changes), 'change')} ({_n(n_reg, 'regression')}, "
        f"{_n(len(changes) - n_reg, 'improvement')}){shifted} in {n_series} series over "
        f"{len(commits)} commits",
        box=box.SIMPLE_HEAD, title_justify="left", expand=False,
    )
    _columns(table, [("", "left"), ("benchmark", "left")] + ([("machine", "left")] * many)
             + [("change", "right"), ("95% CI", "right"), ("p", "right"),
                ("commits", "left"), ("date", "left")], [c.key.label for c in changes])
    for c in ordered:
        worse = c.direction == "regression"
        commit = by_sha.get(c.commit)
        gap = "" if _adjacent(commits, c) else " (gap)"
        table.add_row(
            Text("REGRESSION" if worse else "improvement",
                 style="bold red" if worse else "green"),
            c.key.label, *([c.key.machine] * many), _pct(c.rel_change), _ci(c.ci),
            _p(c.pvalue), f"{c.previous_commit[:8]}..{c.commit[:8]}{gap}",
            commit.date.strftime("%Y-%m-%d %H:%M") if commit else "",
        )
    return table


def _adjacent(commits: Sequence[Commit], c: Change) -> bool:
    return 0 < c.index < len(commits) and commits[c.index - 1].sha == c.previous_commit


def comparisons_table(comparisons: Sequence[Comparison], *, base: str, head: str) -> Table:
    """Verdict per benchmark x params x machine, in the given order (regressions first)."""
    counts = {v: sum(c.verdict is v for c in comparisons) for v in Verdict}
    many = len({c.key.machine for c in comparisons}) > 1
    table = Table(
        title=f"{_short(head, 12)} against {_short(base, 12)}: {_n(counts[Verdict.REGRESSION], 'regression')}, "
        f"{_n(counts[Verdict.IMPROVEMENT], 'improvement')}, {counts[Verdict.UNSURE]} unsure, "
        f"{counts[Verdict.NO_CHANGE]} no change",
        box=box.SIMPLE_HEAD, title_justify="left",
    )
    _columns(table, [("verdict", "left"), ("benchmark", "left")] + ([("machine", "left")] * many)
             + [("base", "right"), ("head", "right"), ("change", "right"), ("95% CI", "right"),
                ("p", "right"), ("q", "right"), ("n", "right")],
             [c.key.label for c in comparisons])
    for c in comparisons:
        table.add_row(
            Text(_verdict(c), style=_VERDICT_STYLE[c.verdict]), c.key.label,
            *([c.key.machine] * many), format_value(c.base_median, c.unit),
            format_value(c.head_median, c.unit), _pct(c.rel_change), _ci(c.ci), _p(c.pvalue),
            _p(c.qvalue), f"{c.n_base}/{c.n_head}",
        )
    return table


def _verdict(c: Comparison) -> str:
    if c.verdict is Verdict.UNSURE:
        if c.unstable:  # more runs than a runner would spend: say so instead of a count
            return "unsure: too noisy here"
        text = "unsure: rerun"
        return f"{text} (+{c.extra_runs})" if c.extra_runs else text
    text = c.verdict.value
    return f"{text}, unstable" if c.unstable else text



def _console(out: io.StringIO, width: int) -> Console:
    return Console(file=out, width=width, color_system=None, force_terminal=False,
                   no_color=True, highlight=False, emoji=False, legacy_windows=False)


def render_text(renderable: RenderableType, *, width: int | None = None) -> str:
    """Plain text (no colour codes) of a rich renderable.

    Without ``width`` the table gets the width it needs (up to 240 columns), so that
    piped output and golden files never crop a benchmark name.
    """
    out = io.StringIO()
    if width is None:
        width = min(_console(out, 240).measure(renderable).maximum, 240)
    _console(out, width).print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"
