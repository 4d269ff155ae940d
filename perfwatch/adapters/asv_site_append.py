"""Append new commits to the site :func:`perfwatch.adapters.asv_site.write_site` wrote, in
time proportional to the new results (plus a small constant per graph).

:func:`write_site` records what the site was made from (:func:`record`: the inputs' sizes and
mtimes, the configuration, git's tags and branches, the graphs' parameter sets, each graph's
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
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import itertools
import json
import math
import os
import subprocess
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_graph import (
    RESAMPLED_POINTS,
    Graph,
    GraphSet,
    graph_arrays,
    is_empty_point,
    summary_from_arrays,
    summary_tail,
)
from perfwatch.adapters.asv_results import ResultsFile
from perfwatch.adapters.asv_site import (
    IntArray,
    LevelsFor,
    SiteReport,
    Steps,
    _combos,
    _compatible,
    _graph_params,
    _result_keys,
    steps_from_arrays,
)
from perfwatch.adapters.asv_site_cache import (
    CACHE_VERSION,
    FileHeader,
    GraphValues,
    HeaderCache,
    OutputManifest,
    digest,
    file_stamp,
    first_parents,
    input_stamps,
    revision_numbers,
    tags_digest,
)
from perfwatch.adapters.asv_site_files import summary_row
from perfwatch.adapters.publish_cache import read_entries, write_entries
from perfwatch.errors import PerfwatchError
from perfwatch.model import FloatArray

__all__ = ["NotAppendable", "append_or_refuse", "append_site", "record"]

_KIND = "append"


def _state_path(config: AsvConfig) -> Path:
    return config.results_dir / ".perfwatch" / f"asv-site-append.v{CACHE_VERSION}"


def _asv_stamp() -> str | None:
    spec = importlib.util.find_spec("asv")
    return None if spec is None or spec.origin is None else file_stamp(Path(spec.origin))


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def _git_branches(config: AsvConfig, names: Mapping[str | None, str]
                  ) -> list[tuple[str | None, str, list[str]]]:
    repo = config.local_repo()
    return [(b, names[b], first_parents(repo, names[b])) for b in config.branches]


def record(config: AsvConfig, graphs: GraphSet, params: Mapping[str, set[Any]],
           branch_names: Mapping[str | None, str], asv_version: str) -> None:
    """Save what :func:`append_site` needs (called by ``write_site`` once it wrote the site).
    When git cannot tell, no record is left: the next publish is a full one."""
    try:
        state = _state(config, graphs, params, branch_names, asv_version)
    except (subprocess.CalledProcessError, OSError, PerfwatchError):
        with contextlib.suppress(OSError):
            _state_path(config).unlink(missing_ok=True)
        return
    write_entries(_state_path(config), _KIND, state)


def _state(config: AsvConfig, graphs: GraphSet, params: Mapping[str, set[Any]],
           branch_names: Mapping[str | None, str], asv_version: str) -> dict[str, Any]:
    repo = config.local_repo()
    graph_rows: dict[str, Any] = {}
    groups: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    values = GraphValues(config.results_dir)
    for path, g in graphs:
        rel = Path(path).as_posix()
        graph_rows[rel] = {
            "b": g.benchmark_name, "m": g.machine, "br": g.branch, "envs": sorted(g.envs),
            "n": g.raw_series(), "s": g.scalar_series, "p": g.pending_revisions(),
            "a": g.asv_steps}
        groups.setdefault(g.benchmark_name, []).append(rel)
        names[g.benchmark_name] = os.path.basename(path)
        values.revs[rel], values.vals[rel] = graph_arrays(g)
    return {
        "html_dir": str(config.html_dir), "config": file_stamp(config.path),
        "branch": config.branch, "asv": _asv_stamp(), "asv_version": asv_version,
        "index_html": file_stamp(config.html_dir / "index.html"),
        "tags": tags_digest(repo),
        "branches": [[b, name, len(fp), digest(fp)]
                     for b, name, fp in _git_branches(config, branch_names)],
        "inputs": input_stamps(config.results_dir),
        "param_keys": list(params),
        "param_sets": {_key(p.params): Path(p.prefix).as_posix()
                       for p in graphs.param_sets()},
        "names": names, "graphs": graph_rows, "groups": groups,
        "values": values.save(list(graph_rows)),
    }


# ------------------------------------------------------------------ checks


def _same_sources(config: AsvConfig, state: Mapping[str, Any], new: Sequence[ResultsFile],
                  now: Mapping[str, str]) -> None:
    """The site's inputs are those of the last write plus the files of ``new``."""
    if state.get("html_dir") != str(config.html_dir) or state.get("branch") != config.branch:
        raise NotAppendable("the site was last written for another html_dir or branch")
    if state.get("config") != file_stamp(config.path):
        raise NotAppendable("asv.conf.json changed")
    if state.get("asv") != _asv_stamp():
        raise NotAppendable("asv's installation changed")
    if state.get("index_html") != file_stamp(config.html_dir / "index.html"):
        raise NotAppendable("index.html changed")
    old: Mapping[str, str] = state.get("inputs", {})
    added = {os.path.relpath(f.path, config.results_dir) for f in new}
    if added & set(old):
        raise NotAppendable("a new file was already on the site")
    if set(now) != set(old) | added:
        raise NotAppendable("files other than the new ones were added or removed")
    if any(now[rel] != stamp for rel, stamp in old.items()):
        raise NotAppendable("an input file changed")


@dataclass
class _Git:
    revisions: dict[str, int]
    on: dict[str, list[str | None]]  # new commit -> the configured branches it is on
    branches: list[list[Any]]  # the state's record of the branches, updated


def _git_now(config: AsvConfig, state: Mapping[str, Any], old_hashes: Mapping[str, str]
             ) -> _Git:
    """Revisions and branches now (git's history may only have grown at the branch tips)."""
    repo = config.local_repo()
    if tags_digest(repo) != state.get("tags"):
        raise NotAppendable("a tag was added, moved or removed")
    revisions = revision_numbers(repo)
    if any(revisions.get(sha) != int(rev) for rev, sha in old_hashes.items()):
        raise NotAppendable("the revision number of a commit on the site changed")
    on: dict[str, list[str | None]] = {}
    branches = []
    known = set(old_hashes.values())
    for b, name, n, old_digest in state.get("branches", []):
        fp = first_parents(repo, name)
        grown = len(fp) - n
        if grown < 0 or digest(fp[grown:]) != old_digest or known.intersection(fp[:grown]):
            raise NotAppendable(f"branch {name} was rewritten or took commits on the site")
        for sha in fp:
            on.setdefault(sha, []).append(b)
        branches.append([b, name, len(fp), digest(fp)])
    return _Git(revisions, on, branches)


def _params_known(h: FileHeader, keys: Sequence[str], listed: Mapping[str, list[Any]]) -> bool:
    """The file's graph parameters are all on the site already (else index.json's params
    and graph paths change)."""
    cur = _graph_params(h, {k: set() for k in keys}, "")
    del cur["branch"]
    return set(cur) == set(keys) and all(v in listed.get(k, ()) for k, v in cur.items())


# ------------------------------------------------------------------ new points


@dataclass
class _Touched:
    row: dict[str, Any]  # the graph's record (updated in place)
    graph: Graph  # the new points only
    envs: set[str] = field(default_factory=set)


@dataclass
class _Plan:
    git: _Git
    dates: dict[str, Any]  # new commit -> asv's date
    touched: dict[str, _Touched]  # graph path -> new points


def _add_row(graph: Graph, rev: int, f: ResultsFile, key: str, benchmark: Mapping[str, Any]
             ) -> None:
    """One result as asv_site._load adds it (weights aside: only asv's steps use them)."""
    row = f.results[key]
    if not benchmark["params"] and row.combos == (None,):
        graph.add_scalar(rev, row.values[0])
        return
    value: Any = _compatible(row.values, row.combos, _combos(benchmark))
    graph.add_data_point(rev, value[0] if not benchmark["params"] else value, None)


def _plan(config: AsvConfig, state: Mapping[str, Any], index: Mapping[str, Any],
          ordered: Sequence[tuple[ResultsFile, FileHeader]]) -> _Plan:
    old_hashes: dict[str, str] = index["revision_to_hash"]
    try:
        git = _git_now(config, state, old_hashes)
    except (subprocess.CalledProcessError, OSError, PerfwatchError) as err:
        raise NotAppendable(f"git: {err}") from None
    top = max((int(r) for r in old_hashes), default=-1)
    benchmarks: Mapping[str, Any] = index["benchmarks"]
    graphs: dict[str, dict[str, Any]] = state["graphs"]
    names: dict[str, str] = state["names"]
    branch_names = {b: name for b, name, _n, _d in state["branches"]}
    plan = _Plan(git, {}, {})
    for f, h in ordered:
        rev = git.revisions.get(h.commit_hash)
        if rev is None or rev <= top:
            raise NotAppendable(f"commit {h.commit_hash} is not after every commit on the site")
        if not _params_known(h, state["param_keys"], index["params"]):
            raise NotAppendable(f"{f.path} has graph parameters not on the site")
        plan.dates[h.commit_hash] = h.date
        fake = {k: set[Any]() for k in state["param_keys"]}
        for b in git.on.get(h.commit_hash, []):
            prefix = state["param_sets"].get(_key(_graph_params(h, fake, branch_names[b])))
            if prefix is None:
                raise NotAppendable(f"{f.path} makes a new set of graph parameters")
            for key in _result_keys(f, benchmarks):
                path = f"{prefix}/{names.get(key, '')}"
                if path not in graphs:
                    raise NotAppendable(f"{f.path} makes a new graph ({key})")
                touched = plan.touched.get(path)
                if touched is None:
                    touched = plan.touched[path] = _Touched(graphs[path], _fresh(graphs[path]))
                _add_row(touched.graph, rev, f, key, benchmarks[key])
                touched.envs.add(f.env_name)
    return plan


def _fresh(row: Mapping[str, Any]) -> Graph:
    graph = Graph(row["b"], {}, "")
    graph.n_series, graph.scalar_series = row["n"], row["s"]
    return graph


# ------------------------------------------------------------------ graph texts


def _width(row: Mapping[str, Any]) -> int:
    return 1 if row["s"] else row["n"] or 1


def _matrix(values: Sequence[Any], width: int) -> FloatArray:
    """Graph values (floats, None, or lists of them) as a (points, width) array, NaN for
    None."""
    return np.array(values, dtype=np.float64).reshape(len(values), width)


def _empty(row: Mapping[str, Any]) -> Any:
    return None if row["s"] else [None] * (row["n"] or 1)


def _trim(points: list[list[Any]]) -> tuple[list[list[Any]], list[list[Any]]]:
    """asv's trimming of ``get_data`` on points with no earlier data: (kept, after)."""
    i = next((i for i, (_k, v) in enumerate(points) if not is_empty_point(v)), len(points))
    if i == len(points):
        return [], []
    j = i
    for j in range(len(points) - 1, i, -1):
        if not is_empty_point(points[j][1]):
            break
    return points[i:j + 1], points[j + 1:]


def _grow(old_len: int, have: int, pending: list[list[Any]], new: list[list[Any]]
          ) -> tuple[list[list[Any]], list[list[Any]]]:
    """The points added to a graph of ``old_len`` points, ``have`` of them with data (up to
    2), followed by the revisions without data ``pending``, when ``new`` come after:
    (added, pending after)."""
    if not have:
        return _trim(new)
    tail = pending + new
    last = next((i for i in range(len(tail) - 1, -1, -1) if not is_empty_point(tail[i][1])),
                None)
    if last is not None:
        return tail[:last + 1], tail[last + 1:]
    room = 2 - old_len if have == 1 else 0  # asv keeps one empty after a lone point
    return tail[:room], tail[room:]


def _point_text(rev: int, value: Any) -> str:
    """``json.dumps([rev, value])`` (the same bytes as inside the whole list)."""
    if type(value) is float and math.isfinite(value):
        return f"[{rev}, {value!r}]"
    return json.dumps([rev, value])


def _addition(old_len: int, added: list[list[Any]]) -> tuple[str, bool] | None:
    """What a graph file of ``old_len`` points becomes with ``added``: (the whole text,
    True) when it had none, else (the text replacing its closing bracket, False)."""
    if not added:
        return None
    if not old_len:
        return json.dumps(added), True
    return ", " + ", ".join(_point_text(k, v) for k, v in added) + "]", False


@dataclass
class _GraphOut:
    change: tuple[str, bool] | None  # see _addition
    added: list[list[Any]]
    length: int  # points after the append
    old: tuple[IntArray, FloatArray]  # the points before, as arrays


def _grown_graph(rel: str, touched: _Touched, values: GraphValues) -> _GraphOut:
    row, graph = touched.row, touched.graph
    revs, vals = values.revs[rel], values.vals[rel]
    have = min(2, int(np.count_nonzero(~np.isnan(vals).all(axis=1))))
    row["n"], row["s"] = graph.n_series, graph.scalar_series
    row["envs"] = sorted(set(row["envs"]) | touched.envs)
    empty = _empty(row)
    added, after = _grow(len(revs), have, [[r, empty] for r in row["p"]],
                         [[r, v] for r, v in graph.revision_points()])
    row["p"] = [r for r, _v in after] if have or added else []
    if added:
        width = _width(row)
        old = vals if len(revs) else np.empty((0, width))
        values.revs[rel] = np.concatenate([revs, np.array([k for k, _v in added], np.int64)])
        values.vals[rel] = np.concatenate([old, _matrix([v for _k, v in added], width)])
    return _GraphOut(_addition(len(revs), added), added, len(values.revs[rel]), (revs, vals))


# ------------------------------------------------------------------ summaries


def _steps(row: Mapping[str, Any], revs: IntArray, vals: FloatArray,
           benchmark: Mapping[str, Any], config: AsvConfig, levels_for: LevelsFor,
           where: IntArray) -> list[Steps] | None:
    """A graph's steps per parameter combination, from perfwatch's segments; ``where``:
    revision -> position in the analysed history (-1: none). None: the graph takes asv's
    step detection."""
    if row["br"] != config.branch:
        return None
    env = row["envs"][0] if len(row["envs"]) == 1 else ""
    out = []
    at = where[revs] if revs.size else revs
    for j, combo in enumerate(_combos(benchmark)):
        segs = levels_for(row["b"], combo, row["m"] or "", env)
        if segs is None:
            return None
        out.append(steps_from_arrays(revs, vals[:, j], at, segs) if revs.size else [])
    return out


def _summary_rows(row: Mapping[str, Any], steps: list[Steps], benchmark: Mapping[str, Any]
                  ) -> list[dict[str, Any]]:
    """asv's summary-list rows of one graph (``asv_site_files.summary_list``)."""
    name = row["b"]
    combos = [(None, ())] if not benchmark["params"] else \
        list(enumerate(itertools.product(*benchmark["params"])))
    out = []
    for idx, values in combos:
        pretty = benchmark.get("pretty_name") or name
        if idx is not None:
            pretty = f"{pretty}({', '.join(values)})"
        mine: Any = steps[0] if row["s"] else steps
        if idx is not None and mine:
            mine = mine[idx]
        found = summary_row(mine)
        found.update(name=name, idx=idx, pretty_name=pretty)
        out.append({k: found[k] for k in ("name", "idx", "pretty_name", "last_rev",
                                          "last_value", "last_err", "prev_value",
                                          "change_rev")})
    return out


def _summary_graph(paths: Sequence[str], rows: Sequence[Mapping[str, Any]],
                   values: GraphValues, grown: Mapping[str, _GraphOut]
                   ) -> tuple[str, bool] | None:
    """A benchmark's summary graph (``asv_graph.summary_data``), as :func:`_addition`:
    extended when its old points stay (one scalar graph short of asv's resampling is its own
    points plus 0.0; several graphs, see ``summary_tail``), else the whole text."""
    single = grown.get(paths[0])
    if len(rows) == 1 and rows[0]["s"] and single is not None \
            and single.length < RESAMPLED_POINTS:
        plus = [[k, None if v is None else v + 0.0] for k, v in single.added]
        return _addition(single.length - len(single.added), plus)
    revs, vals = [values.revs[p] for p in paths], [values.vals[p] for p in paths]
    olds = [grown[p].old if p in grown else (values.revs[p], values.vals[p]) for p in paths]
    tail = summary_tail(([r for r, _v in olds], [v for _r, v in olds]), (revs, vals))
    if tail is None:
        return json.dumps(summary_from_arrays(revs, vals)), True
    added, _after = _grow(tail.old_len, tail.have, [[r, None] for r in tail.pending], tail.new)
    return _addition(tail.old_len, added)


# ------------------------------------------------------------------ the append


@dataclass
class _Outputs:
    texts: dict[str, tuple[str, bool] | None] = field(default_factory=dict)  # _addition's


def _read(html_dir: Path, rel: str) -> str:
    with open(os.path.join(html_dir, rel), encoding="utf-8") as f:
        return f.read()


def _graph_outputs(config: AsvConfig, state: Mapping[str, Any], plan: _Plan,
                   values: GraphValues, benchmarks: Mapping[str, Any], levels_for: LevelsFor,
                   where: IntArray, out: _Outputs) -> None:
    """Graphs, summary lists and summary graphs into ``out``."""
    grown = {rel: _grown_graph(rel, t, values) for rel, t in plan.touched.items()}
    for rel, g in grown.items():
        out.texts[f"{rel}.json"] = g.change
    graphs: dict[str, dict[str, Any]] = state["graphs"]
    lists: dict[str, list[dict[str, Any]]] = {}
    old_rows: dict[str, dict[str, list[Any]]] = {}
    for rel, row in graphs.items():
        prefix = rel.rsplit("/", 1)[0]
        rows = lists.setdefault(prefix, [])
        bench = benchmarks[row["b"]]
        steps = _steps(row, values.revs[rel], values.vals[rel], bench, config, levels_for,
                       where)
        if steps is not None:
            rows += _summary_rows(row, steps, bench)
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
        out.texts[target] = _summary_graph(paths, [graphs[p] for p in paths], values, grown)


def _index_text(index: dict[str, Any], plan: _Plan) -> str:
    new = sorted((plan.git.revisions[sha], sha) for sha in plan.dates)
    for rev, sha in new:
        index["revision_to_hash"][str(rev)] = sha
        index["revision_to_date"][str(rev)] = plan.dates[sha]
    return json.dumps(index)


def _info_text(asv_version: str) -> str:
    """asv's info.json (``asv_site_files.info_text``) without importing asv."""
    delta = datetime.datetime.now(datetime.UTC) - datetime.datetime(1970, 1, 1,
                                                                     tzinfo=datetime.UTC)
    micro = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
    stamp, rest = divmod(micro, 1000)
    stamp += rest >= 500  # asv's util.datetime_to_js_timestamp
    return json.dumps({"asv-version": asv_version, "timestamp": stamp}, indent=4,
                      sort_keys=True)


class NotAppendable(Exception):
    """Why the new results cannot be appended (``write_site`` has to run)."""


def append_site(config: AsvConfig, new: Sequence[ResultsFile], *, levels_for: LevelsFor,
                positions: Mapping[str, int], localize: Callable[[Path], None],
                analysed_machines: Collection[str] | None = None) -> SiteReport | None:
    """Add the result files ``new`` to the site ``write_site`` (or this function) wrote last,
    as ``write_site`` would on all the results; None (nothing written) when that cannot be
    done by appending (see the module docstring): then call ``write_site``.

    Same arguments as ``write_site``; ``localize`` and ``analysed_machines`` are not needed
    here (the template is in place; weights only serve asv's step detection, never used on
    this path).
    """
    del localize, analysed_machines
    try:
        return append_or_refuse(config, new, levels_for=levels_for, positions=positions)
    except NotAppendable:
        return None


def append_or_refuse(config: AsvConfig, new: Sequence[ResultsFile], *, levels_for: LevelsFor,
                     positions: Mapping[str, int]) -> SiteReport:
    """:func:`append_site`, raising :class:`NotAppendable` (with the reason) instead of
    returning None."""
    state = read_entries(_state_path(config), _KIND)
    if not new or not state:
        raise NotAppendable("no new result files" if state else "no record of the last write")
    now = input_stamps(config.results_dir)
    _same_sources(config, state, new, now)
    manifest = OutputManifest(config.results_dir, config.html_dir)
    if not manifest.known("index.json") or not manifest.on_disk():
        raise NotAppendable("an output file changed since it was written")
    index = json.loads(_read(config.html_dir, "index.json"))
    headers = HeaderCache(config.results_dir)
    order = {rel: i for i, rel in enumerate(now)}
    ordered = sorted(((f, headers.get(f.path)) for f in new),
                     key=lambda fh: order[os.path.relpath(fh[0].path, config.results_dir)])
    plan = _plan(config, state, index, ordered)
    hashes = {**index["revision_to_hash"],
              **{str(plan.git.revisions[sha]): sha for sha in plan.dates}}
    where = np.full(max(int(r) for r in hashes) + 1, -1, dtype=np.int64)
    for rev, sha in hashes.items():
        where[int(rev)] = positions.get(sha, -1)
    values = GraphValues(config.results_dir)
    if file_stamp(values.path) != state.get("values") or not values.load(list(state["graphs"])):
        raise NotAppendable("the graphs' values were not saved")
    out = _Outputs()
    _graph_outputs(config, state, plan, values, index["benchmarks"], levels_for, where, out)
    out.texts["index.json"] = (_index_text(index, plan), True)
    out.texts["info.json"] = (_info_text(state["asv_version"]), True)
    for rel, change in out.texts.items():
        if change is not None and change[1]:
            manifest.write(rel, change[0])
        elif change is not None:
            manifest.append(rel, change[0])
    manifest.keep_rest()
    manifest.save()
    headers.keep_rest()
    headers.save()
    write_entries(_state_path(config), _KIND, {**state, "inputs": dict(now),
                                               "branches": plan.git.branches,
                                               "values": values.save(list(state["graphs"]))})
    return SiteReport(graphs=len(state["graphs"]), written=manifest.written, kept=manifest.kept,
                      removed=0, asv_steps=0)
