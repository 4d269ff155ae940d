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
