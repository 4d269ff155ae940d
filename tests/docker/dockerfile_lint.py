"""A small Dockerfile parser and linter (no Docker engine runs in the test environment)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

KNOWN = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
         "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER"}


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Instructions with their first line number; continuations joined, comments dropped."""
    out: list[Instruction] = []
    buf, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # comment lines inside a continuation
        if not buf:
            start = number
        if stripped.endswith("\\"):
            buf += stripped[:-1].rstrip() + " "
            continue
        buf += stripped
        keyword, _, args = buf.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
        buf = ""
    if buf:
        raise ValueError(f"line {start}: continuation never ends")
    return out


def lint(text: str, context: Path) -> list[str]:
    """Problems found; ``context`` is the build context that COPY/ADD sources are relative to."""
    ins = parse(text)
    problems = [f"line {i.line}: unknown instruction {i.keyword}" for i in ins
                if i.keyword not in KNOWN]
    first = next((i for i in ins if i.keyword != "ARG"), None)
    if first is None or first.keyword != "FROM":
        problems.append("the first instruction (after ARGs) must be FROM")
    for i in ins:
        problems += _check(i, context)
    if not any(i.keyword in ("CMD", "ENTRYPOINT") for i in ins):
        problems.append("no CMD or ENTRYPOINT")
    return problems


def _check(i: Instruction, context: Path) -> list[str]:
    where = f"line {i.line}"
    if i.keyword == "FROM":
        image = i.args.split()[0]
        if ":" not in image.split("/")[-1] and "@" not in image or image.endswith(":latest"):
            return [f"{where}: base image {image} is not pinned to a tag or digest"]
    if i.keyword == "RUN" and "apt-get install" in i.args:
        bad = []
        if "--no-install-recommends" not in i.args:
            bad.append(f"{where}: apt-get install without --no-install-recommends")
        if "rm -rf /var/lib/apt/lists" not in i.args:
            bad.append(f"{where}: apt lists not removed in the same layer")
        if "apt-get update" not in i.args:
            bad.append(f"{where}: apt-get install without apt-get update in the same layer")
        return bad
    if i.keyword in ("CMD", "ENTRYPOINT"):
        try:
            value = json.loads(i.args)
        except ValueError:
            return [f"{where}: {i.keyword} not in exec (JSON) form"]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return [f"{where}: {i.keyword} must be a JSON list of strings"]
    if i.keyword in ("COPY", "ADD"):
        return _sources(i, context)
    return []


def _sources(i: Instruction, context: Path) -> list[str]:
    words = [w for w in shlex.split(i.args) if not w.startswith("--")]
    if len(words) < 2:
        return [f"line {i.line}: {i.keyword} needs a source and a destination"]
    missing = [s for s in words[:-1] if not re.search(r"[*?\[]", s) and s != "."
               and not (context / s).exists()]
    return [f"line {i.line}: {i.keyword} source {s} not in the build context" for s in missing]
