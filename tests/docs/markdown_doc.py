"""Reading the repository's markdown the way GitHub renders it: headings, anchors, links,
and the message templates of docs/troubleshooting.md."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (github-slugger): lower case, punctuation dropped,
    spaces to hyphens. Inline code, emphasis and link targets are rendered first."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](url) -> text
    text = text.replace("`", "").replace("*", "")
    text = text.lower()
    kept = [c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM"]
    return "".join(kept).replace(" ", "-")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    out, fenced = [], False
    for n, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append((n, line))
    return out


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub makes for the headings of ``path`` (duplicates get -1, -2...)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


@dataclass(frozen=True)
class Entry:
    """One troubleshooting entry: its heading's anchor and its message templates."""

    anchor: str
    heading: str
    templates: tuple[str, ...]
    body: str


def entries(path: Path, section: str = "Messages") -> list[Entry]:
    """The ``###`` entries under ``## {section}``; an entry's templates are the lines of its
    first ```text block."""
    out: list[Entry] = []
    heading = ""
    body: list[str] = []
    block: list[str] = []
    in_section, fence, capturing = False, "", False

    def close() -> None:
        if heading:
            out.append(Entry(slug(heading), heading, tuple(block), "\n".join(body)))

    for line in path.read_text(encoding="utf-8").splitlines():
        if fence:  # inside a code block
            if line.strip() == fence:
                fence, capturing = "", False
            elif capturing:
                block.append(line)
            continue
        if line.startswith("## ") or (in_section and line.startswith("### ")):
            close()
            heading, body, block = "", [], []
            if line.startswith("## "):
                in_section = line[3:].strip() == section
            else:
                heading = line[4:].strip()
            continue
        if FENCE.match(line.strip()):
            fence = line.strip()[:3]
            capturing = bool(heading) and line.strip() == "```text" and not block
            continue
        if heading:
            body.append(line)
    close()
    return out


def template_regex(template: str) -> re.Pattern[str]:
    """``<placeholder>`` stands for any text; everything else must appear verbatim."""
    parts = PLACEHOLDER.split(template)
    return re.compile(".+?".join(re.escape(p) for p in parts))


INLINE_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+)>")
BARE_URL = re.compile(r"(?<![(<\"'])\bhttps?://[^\s)>\]\"'`]+")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost)(:\d+)?(/|$)")


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every link, image, reference definition and URL outside code."""
    out: list[tuple[int, str]] = []
    for n, line in prose_lines(path.read_text(encoding="utf-8")):
        text = CODE_SPAN.sub("", line)
        ref = REF_DEF.match(text)
        if ref:
            out.append((n, ref.group(1)))
            continue
        found = [m.group(1) for m in INLINE_LINK.finditer(text)]
        found += [m.group(1) for m in AUTOLINK.finditer(text)]
        rest = AUTOLINK.sub("", INLINE_LINK.sub("", text))
        found += [m.group(0).rstrip(".,;:") for m in BARE_URL.finditer(rest)]
        out.extend((n, target) for target in found)
    return out


def link_problems(path: Path, *, root: Path, allowed_urls: tuple[str, ...]) -> list[str]:
    """Why each broken link of ``path`` is broken: a missing file or heading, a link out of
    the repository, or a URL of a host not on the allowlist."""
    problems = []
    for n, target in links(path):
        where = f"{path.relative_to(root)}:{n}: {target}"
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            if target.startswith("mailto:") or LOOPBACK.match(target):
                continue
            if not target.startswith(allowed_urls):
                problems.append(f"{where}: external URL not on the allowlist")
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.is_relative_to(root):
            problems.append(f"{where}: points outside the repository")
        elif not dest.exists():
            problems.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where}: no heading #{anchor} in {dest.relative_to(root)}")
    return problems
