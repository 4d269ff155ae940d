"""Append new commits to the site :func:`perfwatch.adapters.asv_site.write_site` wrote, in
time proportional to the new results (plus a small constant per graph).

:func:`write_site` records what the site was made from (:func:`record`, in
:mod:`perfwatch.adapters.asv_site_record`: the inputs' sizes and mtimes, the configuration, git's tags and branches, the graphs' parameter sets, each graph's
values as arrays and its revisions without data after its last point).
:func:`append_site` then checks that the only change is new result files of commits
numbered after every commit on the site, and writes exactly what ``write_site`` would write
on the grown results: each graph file gets its new points written after its last byte (the
JSON of one point is the same bytes inside the whole list), summary graphs likewise when
their old points cannot change (``asv_graph.summary_tail``), every summary list takes its
steps from perfwatch's segments on the graphs' arrays, ``index.json`` gets the new
revisions. It imports neither asv nor plotly, scipy or gitpython.

It returns None (and writes nothing) when appending is not possible; the caller then runs
``write_site``, which records the state anew. Cases (:func:`append_or_refuse` says which):

- no record (first publish, another html_dir, another analysed branch), or the asv.conf.json,
  asv's installation or the localised ``index.html`` changed;
- any output of the last run changed on disk (size or mtime), or a result file was added
  (other than ``new``), changed or removed, or machine.json / benchmarks.json changed in
  content;
- git: a tag added/moved/removed; a configured branch's first-parent history rewritten or
  holding commits already on the site; an old commit's revision number changed; a new commit
  numbered at or before a commit on the site;
- a new file brings a new graph parameter set, a parameter value or key not on the site, or a
  benchmark's first graph on a parameter set (a new graph file);
- a graph needs asv's own step detection on changed data (it got new points and is on
  another branch than the analysed one or ``levels_for`` has no segments for it), or had
  perfwatch's segments at the last write and has none now. Graphs without new points whose
  steps were asv's keep their summary-list rows.

The parts: :mod:`~perfwatch.adapters.asv_site_record` (the record and the checks of the
inputs and of git), :mod:`~perfwatch.adapters.asv_site_plan` (which graphs the new points go
to), :mod:`~perfwatch.adapters.asv_site_grow` (the texts they make); this module writes them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_results import ResultsFile
from perfwatch.adapters.asv_site import IntArray, LevelsFor, SiteReport
from perfwatch.adapters.asv_site_cache import (
    FileHeader,
    GraphValues,
    HeaderCache,
    OutputManifest,
    file_stamp,
    input_stamps,
)
from perfwatch.adapters.asv_site_files import info_text
from perfwatch.adapters.asv_site_grow import graph_steps, grown_graph, summary_graph, summary_rows
from perfwatch.adapters.asv_site_plan import Plan, plan_points
from perfwatch.adapters.asv_site_record import (
    NotAppendable,
    load_state,
    record,
    same_sources,
    save_state,
)

__all__ = ["NotAppendable", "append_or_refuse", "append_site", "record"]


@dataclass
class _Outputs:
    texts: dict[str, tuple[str, bool] | None] = field(default_factory=dict)  # asv_site_grow's


def _read(html_dir: Path, rel: str) -> str:
    with open(os.path.join(html_dir, rel), encoding="utf-8") as f:
        return f.read()


def _graph_outputs(config: AsvConfig, state: Mapping[str, Any], plan: Plan,
                   values: GraphValues, benchmarks: Mapping[str, Any], levels_for: LevelsFor,
                   where: IntArray, out: _Outputs) -> None:
    """Graphs, summary lists and summary graphs into ``out``."""
    grown = {rel: grown_graph(rel, t, values) for rel, t in plan.touched.items()}
    for rel, g in grown.items():
        out.texts[f"{rel}.json"] = g.change
    graphs: dict[str, dict[str, Any]] = state["graphs"]
    lists: dict[str, list[dict[str, Any]]] = {}
    old_rows: dict[str, dict[str, list[Any]]] = {}
    for rel, row in graphs.items():
        prefix = rel.rsplit("/", 1)[0]
        rows = lists.setdefault(prefix, [])
        bench = benchmarks[row["b"]]
        steps = graph_steps(row, values.revs[rel], values.vals[rel], bench, config,
                            levels_for, where)
        if steps is not None:
            rows += summary_rows(row, steps, bench)
            row["a"] = False
            continue
        if rel in grown or not row["a"]:  # asv's step detection on new data: asv's
            raise NotAppendable(f"{rel} needs asv's step detection")
        if prefix not in old_rows:  # same data, same asv steps: the rows of the last write
            old_rows[prefix] = {}
            for old in json.loads(_read(config.html_dir, f"{prefix}/summary.json")):
                old_rows[prefix].setdefault(old["name"], []).append(old)
        rows += old_rows[prefix][row["b"]]
    for prefix, rows in lists.items():
        rows.sort(key=lambda x: (x["name"], x["idx"]))
        out.texts[f"{prefix}/summary.json"] = (json.dumps(rows), True)
    for name in sorted({graphs[rel]["b"] for rel in grown}):
        paths = state["groups"][name]
        target = f"graphs/summary/{state['names'][name]}.json"
        out.texts[target] = summary_graph(paths, [graphs[p] for p in paths], values, grown)


def _index_text(index: dict[str, Any], plan: Plan) -> str:
    new = sorted((plan.git.revisions[sha], sha) for sha in plan.dates)
    for rev, sha in new:
        index["revision_to_hash"][str(rev)] = sha
        index["revision_to_date"][str(rev)] = plan.dates[sha]
    return json.dumps(index)


def append_site(config: AsvConfig, new: Sequence[ResultsFile], *, levels_for: LevelsFor,
                positions: Mapping[str, int], localize: Callable[[Path], None],
                analysed_machines: Collection[str] | None = None,
                inputs: Mapping[str, str] | None = None) -> SiteReport | None:
    """Add the result files ``new`` to the site ``write_site`` (or this function) wrote last,
    as ``write_site`` would on all the results; None (nothing written) when that cannot be
    done by appending (see the module docstring): then call ``write_site``.

    Same arguments as ``write_site``; ``localize`` and ``analysed_machines`` are not needed
    here (the template is in place; weights only serve asv's step detection, never used on
    this path). ``inputs``: :func:`input_stamps` of the results directory, when the caller
    has just taken them.
    """
    del localize, analysed_machines
    try:
        return append_or_refuse(config, new, levels_for=levels_for, positions=positions,
                                inputs=inputs)
    except NotAppendable:
        return None


def append_or_refuse(config: AsvConfig, new: Sequence[ResultsFile], *, levels_for: LevelsFor,
                     positions: Mapping[str, int],
                     inputs: Mapping[str, str] | None = None) -> SiteReport:
    """:func:`append_site`, raising :class:`NotAppendable` (with the reason) instead of
    returning None."""
    state = load_state(config)
    if not new or not state:
        raise NotAppendable("no new result files" if state else "no record of the last write")
    now = input_stamps(config.results_dir) if inputs is None else inputs
    same_sources(config, state, new, now)
    manifest = OutputManifest(config.results_dir, config.html_dir)
    if not manifest.known("index.json") or not manifest.on_disk():
        raise NotAppendable("an output file changed since it was written")
    index = json.loads(_read(config.html_dir, "index.json"))
    headers = HeaderCache(config.results_dir)
    plan = plan_points(config, state, index, _ordered(config, new, now, headers))
    where = _where(index, plan, positions)
    values = GraphValues(config.results_dir)
    if file_stamp(values.path) != state.get("values") or not values.load(list(state["graphs"])):
        raise NotAppendable("the graphs' values were not saved")
    out = _Outputs()
    _graph_outputs(config, state, plan, values, index["benchmarks"], levels_for, where, out)
    out.texts["index.json"] = (_index_text(index, plan), True)
    out.texts["info.json"] = (info_text(state["asv_version"]), True)
    _write(manifest, out)
    headers.keep_rest()
    headers.save()
    save_state(config, {**state, "inputs": dict(now), "branches": plan.git.branches,
                        "values": values.save(list(state["graphs"]))})
    return SiteReport(graphs=len(state["graphs"]), written=manifest.written, kept=manifest.kept,
                      removed=0, asv_steps=0)


def _ordered(config: AsvConfig, new: Sequence[ResultsFile], now: Mapping[str, str],
             headers: HeaderCache) -> list[tuple[ResultsFile, FileHeader]]:
    """``new`` with their headers, in the order asv reads them (that of ``now``)."""
    order = {rel: i for i, rel in enumerate(now)}
    return sorted(((f, headers.get(f.path)) for f in new),
                  key=lambda fh: order[os.path.relpath(fh[0].path, config.results_dir)])


def _where(index: Mapping[str, Any], plan: Plan, positions: Mapping[str, int]) -> IntArray:
    """Revision (old and new) -> position in the analysed history (-1: none)."""
    hashes = {**index["revision_to_hash"],
              **{str(plan.git.revisions[sha]): sha for sha in plan.dates}}
    where = np.full(max(int(r) for r in hashes) + 1, -1, dtype=np.int64)
    for rev, sha in hashes.items():
        where[int(rev)] = positions.get(sha, -1)
    return where


def _write(manifest: OutputManifest, out: _Outputs) -> None:
    """The new texts (whole, or added after a file's last byte); the other outputs stay."""
    for rel, change in out.texts.items():
        if change is not None and change[1]:
            manifest.write(rel, change[0])
        elif change is not None:
            manifest.append(rel, change[0])
    manifest.keep_rest()
    manifest.save()
