"""The PR comment as GitHub-flavoured markdown: pure rendering, no I/O.

``render_comment(comparisons, context=...)`` returns the whole body: a hidden marker
(how the bot finds its own comment), a one-line verdict, then regressions (largest
first), improvements, "unsure: rerun" items, unstable benchmarks, and a collapsed
table of the rest. Every piece of text that comes from results (benchmark names,
parameters, units, machine names, notes, fingerprints) goes through :func:`escape`,
so it renders as plain text: no markdown, no HTML, no @mention, no autolink.

The body always stays under :data:`BODY_LIMIT`; every regression is listed, and the
less urgent sections are cut with a "... and N more" line when space runs out.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from perfwatch.model import Comparison, Verdict

__all__ = [
    "BODY_LIMIT",
    "MARKER_PREFIX",
    "CommentContext",
    "escape",
    "marker_for",
    "relabel_verdict",
    "render_comment",
]

BODY_LIMIT = 65_536  # GitHub's limit on an issue comment, in characters
_BUDGET = BODY_LIMIT - 2_000  # room for the footer and the acceptance line
_ZWJ = "\u200d"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]")
_SHA = re.compile(r"^[0-9a-f]{4,64}$")


@dataclass(frozen=True)
class CommentContext:
    """What the comment says besides the comparisons.

    ``graph_links`` and ``flamegraph_links`` map a :attr:`SeriesKey.label` to a URL;
    with ``dashboard_url`` set, a graph link is made for every regression without one.
    """

    base_sha: str
    head_sha: str
    machine: str
    base_fingerprint: str | None = None
    head_fingerprint: str | None = None
    dashboard_url: str | None = None
    graph_links: Mapping[str, str] = field(default_factory=dict)
    flamegraph_links: Mapping[str, str] = field(default_factory=dict)
    accepted_by: str | None = None  # who accepted the regressions by label, if anyone
    accept_label: str = "perf-regression-accepted"


def escape(text: str) -> str:
    """Text from results as inert markdown: one line, no markup, mentions or autolinks."""
    text = _CONTROL.sub(" ", text)
    # Break mentions, issue refs and autolinks first, on the raw text: done after HTML
    # escaping, the "#" of an entity such as "&#x27;" would be split and shown as garbage.
    text = text.replace("@", "@" + _ZWJ).replace("#", "#" + _ZWJ)
    text = text.replace("://", ":" + _ZWJ + "//")
    text = re.sub(r"(?i)www\.", lambda m: m.group(0)[:3] + _ZWJ + ".", text)
    # Quotes are inert in markdown text; escaping only <, > and & keeps entities "#"-free.
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


MARKER_PREFIX = "<!-- perfwatch:pr-comment machine="


def marker_for(machine: str) -> str:
    """The hidden first line that identifies perfwatch's comment for one machine."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", machine)[:100]
    return f"{MARKER_PREFIX}{safe} -->"


def render_comment(comparisons: Sequence[Comparison], *, context: CommentContext) -> str:
    groups = _Groups.of(comparisons)
    parts = [marker_for(context.machine), _verdict_line(groups, context), "", _header(context)]
    parts.extend(_fingerprint_warning(context))
    parts.extend(_regressions(groups.regressions, context, _BUDGET - _size(parts)))
    parts.extend(_improvements(groups.improvements, _BUDGET - _size(parts)))
    parts.extend(_unsure(groups.unsure, _BUDGET - _size(parts)))
    parts.extend(_unstable(groups.unstable, _BUDGET - _size(parts)))
    parts.extend(_rest(groups.rest, _BUDGET - _size(parts)))
    parts.append("")
    parts.append(f"<sub>perfwatch · {len(comparisons)} comparisons · q-values are"
                 " Benjamini-Hochberg across the whole suite</sub>")
    return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class _Groups:
    regressions: list[Comparison]
    improvements: list[Comparison]
    unsure: list[Comparison]
    unstable: list[Comparison]
    rest: list[Comparison]

    @classmethod
    def of(cls, comparisons: Sequence[Comparison]) -> _Groups:
        def pick(verdict: Verdict) -> list[Comparison]:
            chosen = [c for c in comparisons if c.verdict is verdict and not c.unstable]
            return sorted(chosen, key=lambda c: (-_size_of(c), c.key))

        unstable = sorted((c for c in comparisons if c.unstable), key=lambda c: c.key)
        return cls(pick(Verdict.REGRESSION), pick(Verdict.IMPROVEMENT), pick(Verdict.UNSURE),
                   unstable, sorted(pick(Verdict.NO_CHANGE), key=lambda c: c.key))


def _size_of(c: Comparison) -> float:
    return abs(c.rel_change) if math.isfinite(c.rel_change) else 0.0


def _size(parts: Sequence[str]) -> int:
    return sum(len(p) + 1 for p in parts)


def _verdict_line(groups: _Groups, context: CommentContext) -> str:
    n = len(groups.regressions)
    tail = (f"{len(groups.improvements)} improved, {len(groups.unsure)} unsure,"
            f" {len(groups.unstable)} unstable, {len(groups.rest)} unchanged")
    machine = escape(context.machine)
    if n:
        line = f"{_FAILED} {_plural(n, 'confirmed regression')} on {machine} ({tail})"
        return relabel_verdict(line, context.accepted_by)
    if groups.unsure:
        return f"### 🔁 perfwatch: no confirmed regression on {machine}, rerun to settle ({tail})"
    return f"### ✅ perfwatch: no regression on {machine} ({tail})"


_FAILED = "### ❌ perfwatch:"
_ACCEPTED = "### ⚠️ perfwatch:"
_COUNTS = re.compile(r"\(\d+ improved, \d+ unsure, \d+ unstable, \d+ unchanged\)")


def relabel_verdict(line: str, accepted_by: str | None) -> str:
    """A regression verdict line marked accepted by ``accepted_by`` (or not, for None).

    Other verdict lines come back unchanged, so a label change can update a posted comment
    without its comparisons.
    """
    if not line.startswith((_FAILED, _ACCEPTED)):
        return line
    counts = list(_COUNTS.finditer(line))
    if not counts:
        return line
    core = line[: counts[-1].end()].split(":", 1)[1]  # drops an earlier ", accepted by ..."
    if accepted_by is None:
        return f"{_FAILED}{core}"
    return f"{_ACCEPTED}{core}, accepted by {escape(accepted_by)}"


def _header(context: CommentContext) -> str:
    return (f"Base {_sha(context.base_sha)} → head {_sha(context.head_sha)}"
            f" · hardware profile **{escape(context.machine)}**")


def _fingerprint_warning(context: CommentContext) -> list[str]:
    base, head = context.base_fingerprint, context.head_fingerprint
    if not base or not head or base == head:
        return []
    return ["", "> [!WARNING]",
            (f"> The hardware fingerprints differ: base ran on {escape(base)}, head on"
             f" {escape(head)}. Differences may come from the machine, not the code.")]


def _regressions(items: list[Comparison], context: CommentContext, budget: int) -> list[str]:
    """Every regression: full rows for the largest ones that fit, compact rows after them."""
    if not items:
        return []
    head = ["", f"#### Regressions ({len(items)})", "",
            "| benchmark | change | CI | q-value | base → head | links |",
            "| --- | ---: | --- | ---: | --- | --- |"]
    full = [_full_row(c, context) for c in items]
    compact = [f"| {_label(c)} | {_pct(c.rel_change)} | {_q(c.qvalue)} |" for c in items]
    room = budget - _size(head) - _size(compact) - 200
    n_full = 0
    while n_full < len(items) and len(full[n_full]) - len(compact[n_full]) <= room:
        room -= len(full[n_full]) - len(compact[n_full])
        n_full += 1
    rows = full[:n_full]
    if n_full < len(items):
        rows += ["", f"Smaller regressions ({len(items) - n_full}), in short form to fit:", "",
                 "| benchmark | change | q-value |", "| --- | ---: | ---: |", *compact[n_full:]]
    return head + rows if n_full else head[:3] + rows[3:]


def _full_row(c: Comparison, context: CommentContext) -> str:
    return (f"| {_label(c)} | {_pct(c.rel_change)} | {_ci(c)} | {_q(c.qvalue)} |"
            f" {_value(c.base_median, c.unit)} → {_value(c.head_median, c.unit)} |"
            f" {_links(c, context)} |")


def _links(c: Comparison, context: CommentContext) -> str:
    links = []
    graph = context.graph_links.get(c.key.label) or _dashboard_link(c, context)
    if graph:
        links.append(f"[graph]({_url(graph)})")
    flame = context.flamegraph_links.get(c.key.label)
    if flame:
        links.append(f"[flamegraph diff]({_url(flame)})")
    return " · ".join(x for x in links if not x.endswith("()")) or "–"


def _dashboard_link(c: Comparison, context: CommentContext) -> str:
    if not context.dashboard_url:
        return ""
    base = context.dashboard_url.rstrip("/")
    return f"{base}/#{quote(c.key.benchmark, safe='.')}?machine={quote(c.key.machine, safe='')}"


def _url(url: str) -> str:
    """Only http(s) URLs, percent-encoded so they cannot close the link or add markup."""
    if not re.match(r"^https?://", url):
        return ""
    return quote(url, safe=":/?#&=%-._~+,;")


def _improvements(items: list[Comparison], budget: int) -> list[str]:
    if not items:
        return []
    head = ["", f"#### Improvements ({len(items)})", "",
            "| benchmark | change | CI | q-value |", "| --- | ---: | --- | ---: |"]
    rows = [f"| {_label(c)} | {_pct(c.rel_change)} | {_ci(c)} | {_q(c.qvalue)} |" for c in items]
    return _fit(head, rows, budget)


def _unsure(items: list[Comparison], budget: int) -> list[str]:
    if not items:
        return []
    head = ["", f"#### Unsure: rerun ({len(items)})", ""]
    rows = [f"- {_label(c)}: {_pct(c.rel_change)} {_ci(c)}, q = {_q(c.qvalue)};"
            f" {_extra(c.extra_runs)}{_note(c)}" for c in items]
    return _fit(head, rows, budget)


def _extra(runs: int | None) -> str:
    if runs is None:
        return "more runs needed"
    return f"about **{runs} more {'run' if runs == 1 else 'runs'}** per side would settle it"


def _unstable(items: list[Comparison], budget: int) -> list[str]:
    if not items:
        return []
    head = ["", f"#### Unstable ({len(items)})", "",
            "Too noisy to judge at this sample size; not counted as regressions.", ""]
    rows = [f"- {_label(c)}: {_pct(c.rel_change)} {_ci(c)}"
            f" (n = {c.n_base} / {c.n_head}){_note(c)}" for c in items]
    return _fit(head, rows, budget)


def _rest(items: list[Comparison], budget: int) -> list[str]:
    if not items:
        return []
    head = ["", f"<details><summary>No significant change ({len(items)})</summary>", "",
            "| benchmark | change | CI | q-value |", "| --- | ---: | --- | ---: |"]
    rows = [f"| {_label(c)} | {_pct(c.rel_change)} | {_ci(c)} | {_q(c.qvalue)} |" for c in items]
    tail = ["", "</details>"]
    return _fit(head, rows, budget - _size(tail)) + tail


def _fit(head: list[str], rows: list[str], budget: int) -> list[str]:
    """``head`` and as many rows as fit in ``budget`` characters, then a count of the rest."""
    out, used = list(head), _size(head) + 80
    for i, row in enumerate(rows):
        if used + len(row) + 1 > budget:
            more = len(rows) - i
            out.append("")
            out.append(f"... and {more} more, left out to fit GitHub's comment size"
                       " (see `perfwatch compare` or the dashboard).")
            return out
        out.append(row)
        used += len(row) + 1
    return out


def _label(c: Comparison) -> str:
    return escape(c.key.label)


def _note(c: Comparison) -> str:
    return f" ({escape(c.note)})" if c.note else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _sha(sha: str) -> str:
    return f"`{sha[:10]}`" if _SHA.match(sha) else escape(sha)


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if math.isfinite(x) else "n/a"


def _ci(c: Comparison) -> str:
    return f"[{_pct(c.ci[0])}, {_pct(c.ci[1])}]"


def _q(q: float) -> str:
    if not math.isfinite(q):
        return "n/a"
    return "<0.0001" if q < 1e-4 else f"{q:.4f}"


_TIME_STEPS = ((1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms"), (1.0, "s"))


def _value(v: float, unit: str) -> str:
    if not math.isfinite(v):
        return "n/a"
    if unit == "seconds":
        for scale, name in reversed(_TIME_STEPS):
            if abs(v) >= scale or scale == 1e-9:
                return f"{v / scale:.3g} {name}"
    return f"{v:.4g} {escape(unit)}".rstrip()
