"""Run ``asv publish`` and write perfwatch's findings into asv's dashboard.

- :func:`run_asv_publish` runs ``python -m asv publish --config FILE`` in the config's
  directory. asv deletes ``html_dir`` first, so perfwatch's own folder
  (``html_dir/perfwatch``) is moved aside for the run and put back after it.
- :func:`localize_index` points asv's ``index.html`` at local copies of the libraries it
  loads from CDNs (asv 0.6 loads jQuery, flot and bootstrap from the internet) and adds a
  "perfwatch" tab.
- :func:`read_index` reads asv's ``index.json`` (revision numbers, graph parameters).
- :func:`regression_entries` / :func:`write_regressions` write ``regressions.json`` in
  asv's own format (asv/plugins/regressions.py)::

      {"regressions": [[name, graph_path, graph_params, param_idx, last_v, best_v,
                        [[rev_a | null, rev_b, before, after], ...]], ...]}

  ``rev_a`` is null when the jump is a single commit, as asv writes it.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from perfwatch.adapters import atom_feed
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_paths import graph_file_path
from perfwatch.errors import ConfigError, ResultsError

__all__ = [
    "PERFWATCH_DIR",
    "AsvIndex",
    "FeedItem",
    "Jump",
    "RegressionRow",
    "localize_index",
    "read_index",
    "regression_entries",
    "run_asv_publish",
    "write_feed",
    "write_regressions",
]

PERFWATCH_DIR = "perfwatch"  # perfwatch's folder inside html_dir
VENDOR_DIR = "perfwatch/asv-vendor"
_VENDOR_SRC = Path(__file__).resolve().parent.parent / "report" / "assets" / "asv-vendor"
# CDN file name (last path part) -> local file in asv-vendor/.
_CDN_FILES = {
    "jquery-3.3.1.min.js": "jquery-3.3.1.min.js",
    "jquery.flot.min.js": "jquery.flot.js",
    "jquery.flot.time.min.js": "jquery.flot.time.js",
    "jquery.flot.selection.min.js": "jquery.flot.selection.js",
    "jquery.flot.categories.min.js": "jquery.flot.categories.js",
    "jquery.flot.orderBars.js": "jquery.flot.orderBars.js",
    "stupidtable.min.js": "stupidtable.min.js",
    "md5.min.js": "md5.min.js",
    "bootstrap.min.js": "bootstrap.min.js",
    "bootstrap.min.css": "css/bootstrap.min.css",
}
_REMOTE_TAG = re.compile(r'<(script|link)\b[^>]*?(?:src|href)="(https?://[^"]+)"[^>]*>')


def run_asv_publish(config: AsvConfig, *, timeout: float = 3600.0) -> str:
    """Run ``asv publish`` for ``config``; returns asv's output. Keeps html_dir/perfwatch."""
    keep = config.html_dir / PERFWATCH_DIR
    aside = config.html_dir.parent / f".{config.html_dir.name}.perfwatch-aside"
    if aside.exists():  # left over from an interrupted run: it is the newest copy
        if keep.exists():
            shutil.rmtree(keep)
        keep.parent.mkdir(parents=True, exist_ok=True)
        aside.rename(keep)
    moved = False
    if keep.is_dir():
        keep.rename(aside)
        moved = True
    cmd = [sys.executable, "-m", "asv", "publish", "--config", str(config.path)]
    try:
        proc = subprocess.run(cmd, cwd=config.root, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ResultsError(f"asv publish took longer than {timeout:.0f} s",
                           hint=f"run `asv publish --config {config.path}` by hand to see "
                           "where it spends its time") from None
    finally:
        if moved:
            config.html_dir.mkdir(parents=True, exist_ok=True)
            if keep.exists():
                shutil.rmtree(keep)
            aside.rename(keep)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise ResultsError(f"asv publish failed (exit {proc.returncode}): {tail}",
                           hint=f"run `asv publish --config {config.path}` to see the full error",
                           path=config.path)
    return proc.stdout


def localize_index(html_dir: Path) -> None:
    """Serve asv's CDN libraries from html_dir and add a link to perfwatch's pages."""
    index = html_dir / "index.html"
    text = index.read_text(encoding="utf-8")
    vendor = html_dir / VENDOR_DIR
    if vendor.exists():
        shutil.rmtree(vendor)
    shutil.copytree(_VENDOR_SRC, vendor)

    def local(match: re.Match[str]) -> str:
        tag, url = match.group(1), match.group(2)
        name = url.rsplit("/", 1)[-1]
        if name not in _CDN_FILES:
            raise ConfigError(f"asv's index.html loads {url}, which perfwatch has no copy of",
                              hint="use asv 0.6 (perfwatch pins asv>=0.6.4,<0.7)")
        ref = f"{VENDOR_DIR}/{_CDN_FILES[name]}"
        if tag == "script":
            return f'<script src="{ref}" onerror="js_load_failure()">'
        return f'<link rel="stylesheet" href="{ref}">'

    text = _REMOTE_TAG.sub(local, text)
    tab = '<li id="nav-li-perfwatch"><a href="perfwatch/index.html">perfwatch</a></li>'
    if tab not in text:
        text = text.replace('<li id="nav-li-regressions">', tab + '\n\t<li id="nav-li-regressions">')
    index.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class AsvIndex:
    """What perfwatch needs from asv's ``index.json``."""

    revision_of: Mapping[str, int]  # commit sha -> asv revision number
    graph_params: tuple[Mapping[str, str | None], ...]  # asv's graph_param_list
    benchmark_params: Mapping[str, tuple[tuple[str, ...], ...]]
    show_commit_url: str


def read_index(html_dir: Path) -> AsvIndex:
    """Parse ``html_dir/index.json`` as ``asv publish`` wrote it."""
    path = html_dir / "index.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ResultsError(f"cannot read asv's {path}: {err}",
                           hint="run `asv publish` (or perfwatch publish) first", path=path) from None
    revisions = {str(sha): int(rev) for rev, sha in data["revision_to_hash"].items()}
    params = {name: tuple(tuple(str(v) for v in p) for p in b.get("params", []))
              for name, b in data["benchmarks"].items()}
    return AsvIndex(revision_of=revisions, graph_params=tuple(data["graph_param_list"]),
                    benchmark_params=params, show_commit_url=str(data["show_commit_url"]))


@dataclass(frozen=True)
class Jump:
    previous_commit: str  # last commit at the old level
    commit: str  # first commit at the new level
    single_commit: bool  # the two are neighbours: the jump is one commit
    before: float  # level before
    after: float  # level after


@dataclass(frozen=True)
class RegressionRow:
    """One series with regressions, as the asv regressions page lists it."""

    benchmark: str
    params: tuple[str, ...] | None
    machine: str  # "name" or "name/env" (one environment of several)
    last_value: float
    best_value: float
    jumps: tuple[Jump, ...]


def _unique_graph_params(graphs: Sequence[Mapping[str, str | None]]) -> set[str]:
    values: dict[str, set[str]] = {}
    for g in graphs:
        for k, v in g.items():
            values.setdefault(k, set())
            if v:
                values[k].add(v)
    return {k for k, v in values.items() if len(v) > 1}


def _graphs_for(row: RegressionRow, graphs: Sequence[Mapping[str, str | None]],
                branch: str | None) -> list[Mapping[str, str | None]]:
    machine, _, env = row.machine.partition("/")
    out = [g for g in graphs if g.get("machine") == machine
           and (branch is None or g.get("branch") in (branch, None))]
    if env:
        out = [g for g in out if f"py{g.get('python', '')}" in env] or out[:1]
    return out


def _param_index(index: AsvIndex, row: RegressionRow) -> int | None:
    if row.params is None:
        return None
    space = index.benchmark_params.get(row.benchmark, ())
    for j, combo in enumerate(itertools.product(*space)):
        if tuple(combo) == row.params:
            return j
    return None


def _entry_name(row: RegressionRow) -> str:
    return row.benchmark if row.params is None else f"{row.benchmark}({', '.join(row.params)})"


def regression_entries(rows: Sequence[RegressionRow], index: AsvIndex, *, html_dir: Path,
                       branch: str | None) -> list[list[Any]]:
    """asv ``regressions.json`` entries for ``rows`` (only graphs asv wrote are named)."""
    unique = _unique_graph_params(index.graph_params)
    entries: list[list[Any]] = []
    for row in rows:
        jumps = [[None if j.single_commit else index.revision_of[j.previous_commit],
                  index.revision_of[j.commit], j.before, j.after]
                 for j in row.jumps
                 if j.commit in index.revision_of and j.previous_commit in index.revision_of]
        if not jumps:
            continue
        for graph in _graphs_for(row, index.graph_params, branch):
            path = graph_file_path(graph, row.benchmark).replace(os.sep, "/")
            if not (html_dir / f"{path}.json").is_file():
                continue
            shown = {k: v for k, v in graph.items() if k in unique}
            entries.append([_entry_name(row), f"{path}.json", shown, _param_index(index, row),
                            row.last_value, row.best_value, jumps])
    return entries


def write_regressions(html_dir: Path, entries: Sequence[Sequence[Any]]) -> Path:
    """Replace asv's ``regressions.json``, as asv's ``util.write_json(compact=True)`` does."""
    path = html_dir / "regressions.json"
    path.write_text(json.dumps({"regressions": list(entries)}),
                    encoding="utf-8")
    return path


@dataclass(frozen=True)
class FeedItem:
    """One regression in the Atom feed asv links from its regressions page."""

    title: str
    updated: datetime
    link: str
    summary: str  # HTML
    id_context: tuple[str, ...]  # what identifies the regression across republishes


def write_feed(html_dir: Path, items: Sequence[FeedItem], *, project: str) -> Path:
    """Replace asv's ``regressions.xml`` (asv's own Atom writer), newest first."""
    path = html_dir / "regressions.xml"
    entries = [atom_feed.FeedEntry(i.title, i.updated, i.link, i.summary, list(i.id_context))
               for i in sorted(items, key=lambda i: i.updated, reverse=True)]
    atom_feed.write_atom(path, entries, title=f"{project} performance regressions",
                         author="perfwatch", address=f"{project}.asv")
    return path
