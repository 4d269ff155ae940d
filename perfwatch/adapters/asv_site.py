"""Write the site ``asv publish`` (asv 0.6) writes, without running it, and incrementally.

Same files as asv's ``commands/publish.py``: a copy of asv's ``www`` template,
``graphs/<params>/<benchmark>.json`` for every benchmark x environment x branch (asv's
own :class:`asv.graph.Graph`, so the data points, the averaging of several result files,
NaN/None handling, parameterised benchmarks and the trimming of missing edges are asv's),
``graphs/<params>/summary.json`` (asv's summary list), ``graphs/summary/<benchmark>.json``
(asv's summary graphs), ``index.json`` and ``info.json``. ``regressions.json`` and
``regressions.xml`` are perfwatch's (:mod:`perfwatch.adapters.asv_publish`).

Differences from ``asv publish``, on purpose:

- **Steps** (asv's "last change" on the summary list): asv fits its own step function to
  every graph (``step_detect``, costly and not incremental). Here a graph that is a
  perfwatch series of the analysed branch takes its steps from perfwatch's segments (the
  change points perfwatch reports; ``val`` is the segment level, ``min`` the smallest graph
  value in it, ``err`` the mean absolute deviation of the graph values from the level).
  Other graphs (other branches) get asv's own step detection.
- ``html_dir`` is not deleted: unchanged outputs are kept (not even rewritten), outputs
  the site no longer has are removed, other files (perfwatch's pages) are left alone.
- The result files are read through perfwatch's caches (only new files are parsed).
- ``info.json``'s timestamp is the time of this run, as asv's.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_graph import (
    Graph,
    GraphSet,
    ParamSet,
    summary_data,
    summary_is_graph,
)
from perfwatch.adapters.asv_results import ResultsDir, ResultsFile
from perfwatch.adapters.asv_site_cache import FileHeader, HeaderCache, OutputManifest
from perfwatch.errors import ConfigError

__all__ = ["Levels", "LevelsFor", "SiteReport", "Steps", "steps_from_levels", "write_site"]

# (left revision, right revision exclusive, value, min, err): asv's step format.
Steps = list[tuple[int, int, float, float, float]]


@dataclass(frozen=True)
class Levels:
    """perfwatch's segments of one series: segment k starts at position ``starts[k]`` of
    the analysed history and has level ``levels[k]``."""

    starts: tuple[int, ...]
    levels: tuple[float, ...]


# (benchmark, parameter combination, machine, environment name) -> perfwatch's segments,
# or None when perfwatch has no such series (asv's step detection is used).
LevelsFor = Callable[[str, tuple[str, ...] | None, str, str], Levels | None]


@dataclass(frozen=True)
class SiteReport:
    graphs: int
    written: int  # output files written
    kept: int  # output files unchanged (not rewritten)
    removed: int  # outputs of the last run no longer produced
    asv_steps: int  # graphs whose steps came from asv's step detection


@dataclass(frozen=True)
class _Repo:
    revisions: dict[str, int]  # commit -> asv revision number
    tags: dict[str, int]  # tag -> revision
    tag_dates: dict[str, int]  # tagged commit -> date (ms)
    branches: dict[str | None, set[str]]  # configured branch -> its first-parent commits
    branch_names: dict[str | None, str]


def _asv_conf(config: AsvConfig) -> Any:
    from asv.config import Config

    conf = Config.load(str(config.path))
    conf.results_dir = str(config.results_dir)
    conf.html_dir = str(config.html_dir)
    conf.repo = str(config.local_repo())
    return conf


def _repo_info(conf: Any, commits: set[str]) -> _Repo:
    from asv.repo import get_repo

    repo = get_repo(conf)
    tags = repo.get_tags()
    revisions = repo.get_revisions(commits | set(tags.values()))
    tag_dates = {sha: repo.get_date_from_name(sha) for sha in tags.values()}
    return _Repo(revisions=revisions, tags={t: revisions[sha] for t, sha in tags.items()},
                 tag_dates=tag_dates,
                 branches={b: set(repo.get_branch_commits(b)) for b in conf.branches},
                 branch_names={b: repo.get_branch_name(b) for b in conf.branches})


def _walk_order(results_dir: Path, files: Sequence[ResultsFile]) -> list[ResultsFile]:
    """The files in the order asv's ``iter_results`` reads them (``os.walk``)."""
    by_path = {str(f.path): f for f in files}
    out = []
    for root, _dirs, names in os.walk(results_dir):
        for name in names:
            found = by_path.get(os.path.join(root, name))
            if found is not None:
                out.append(found)
    return out


def _compatible(values: Sequence[Any] | None, have: Sequence[Any], want: Sequence[Any]
                ) -> list[Any]:
    """asv's ``results._compatible_results``: ``values`` per combination of ``want``."""
    if values is None:
        return [None] * len(want)
    if len(have) == len(want) and tuple(have) == tuple(want):
        return list(values)
    old = dict(zip(have, values, strict=False))
    return [old.get(c) for c in want]


@dataclass
class _Loaded:
    graphs: GraphSet
    params: dict[str, set[Any]]
    hash_to_date: dict[str, Any]
    graph_param_list: list[dict[str, Any]]


def _combos(benchmark: Mapping[str, Any]) -> list[tuple[str, ...] | None]:
    import itertools

    if not benchmark["params"]:
        return [None]
    return [tuple(str(v) for v in c) for c in itertools.product(*benchmark["params"])]


def _result_keys(f: ResultsFile, benchmarks: Mapping[str, Any]) -> list[str]:
    keys = []
    for name, row in f.results.items():
        b = benchmarks.get(name)
        if b is None:
            continue
        if row.version is not None and row.version != b.get("version"):
            continue
        keys.append(name)
    return keys


def _params_pass(ordered: Sequence[tuple[ResultsFile, FileHeader]]
                 ) -> tuple[dict[str, set[Any]], dict[str, Any]]:
    params: dict[str, set[Any]] = {}
    env_vars: dict[str, set[Any]] = defaultdict(set)
    hash_to_date: dict[str, Any] = {}
    for _f, h in ordered:
        hash_to_date[h.commit_hash] = h.date
        for key, val in h.params.items():
            params.setdefault(key, set()).add("" if val is None else val)
        for name, val in h.env_vars.items():
            env_vars[f"env-{name}"].add(val)
    params.update(env_vars)
    return params, hash_to_date


def _load(ordered: Sequence[tuple[ResultsFile, FileHeader]], benchmarks: Mapping[str, Any],
          repo: _Repo, weights_of: Callable[[ResultsFile], Mapping[str, Any]],
          analysed: str | None, machines: Collection[str]) -> _Loaded:
    """asv publish's "Loading results" step over the cached results.

    Weights (only used by asv's step detection) are read for the files of other branches
    than the analysed one, or of machines not analysed; the graphs of the analysed branch
    and machines take perfwatch's steps.
    """
    params, hash_to_date = _params_pass(ordered)
    graphs = GraphSet()
    combos = {name: _combos(b) for name, b in benchmarks.items()}
    scalar = {name: not b["params"] for name, b in benchmarks.items()}
    tagged = set(repo.tag_dates)
    memo: dict[tuple[int, str, str | None, tuple[str, ...]], list[Graph]] = {}
    for f, h in ordered:
        on = [b for b, commits in repo.branches.items() if h.commit_hash in commits]
        if not on and h.commit_hash in tagged:
            on = list(repo.branches)
        if not on:
            continue
        rev = repo.revisions[h.commit_hash]
        groups = [graphs.group(_graph_params(h, params, repo.branch_names[b])) for b in on]
        file_weights = weights_of(f) if on != [analysed] or f.machine not in machines else {}
        keys = _result_keys(f, benchmarks)
        for group, branch in zip(groups, on, strict=True):
            targets = _targets(graphs, group, keys, f, branch, memo)
            for key, graph in zip(keys, targets, strict=True):
                row = f.results[key]
                raw = file_weights.get(key)
                if scalar[key] and raw is None and row.combos == (None,):
                    graph.add_scalar(rev, row.values[0])
                    continue
                value: Any = _compatible(row.values, row.combos, combos[key])
                weight: Any = None if raw is None else _compatible(raw, row.combos, combos[key])
                if scalar[key]:
                    value, weight = value[0], None if weight is None else weight[0]
                graph.add_data_point(rev, value, weight)
    plist: list[dict[str, Any]] = []
    for _path, graph in graphs:
        if graph.params not in plist:
            plist.append(graph.params)
    return _Loaded(graphs, params, hash_to_date, plist)


def _targets(graphs: GraphSet, group: ParamSet, keys: list[str], f: ResultsFile,
             branch: str | None, memo: dict[tuple[int, str, str | None, tuple[str, ...]],
                                          list[Graph]]) -> list[Graph]:
    """The graphs ``f``'s results of ``keys`` go to on ``group``: looked up once per
    parameter set, environment, branch and benchmark list (most files share them)."""
    index = (id(group), f.env_name, branch, tuple(keys))
    found = memo.get(index)
    if found is None:
        found = memo[index] = [graphs.get_graph(group, key) for key in keys]
        for graph in found:
            if graph.machine is None:
                graph.machine, graph.branch = f.machine, branch
            graph.envs.add(f.env_name)
    return found


def _graph_params(h: FileHeader, params: dict[str, set[Any]], branch_name: str
                  ) -> dict[str, Any]:
    cur: dict[str, Any] = dict(h.params)
    cur.update({f"env-{name}": val for name, val in h.env_vars.items()})
    cur["branch"] = branch_name
    for key, value in list(cur.items()):
        if value is None:
            cur[key] = ""
    for key, values in params.items():
        if key not in cur:
            cur[key] = None
            values.add(None)
    return cur


# ------------------------------------------------------------------ steps


def steps_from_levels(points: Sequence[tuple[int, Any]], segs: Levels,
                      position: Mapping[int, int]) -> Steps:
    """asv-format steps of a graph from perfwatch's segments.

    ``points``: the graph's (revision, value); ``position``: revision -> position in the
    analysed history. Graph points outside the analysed history, or missing, are left out.
    A step's value is the segment's level, its min the smallest graph value in it and its
    error the mean absolute deviation of the graph values from the level.
    """
    kept: list[tuple[int, float, int]] = []
    for r, v in points:
        p = position.get(r)
        if p is not None and v is not None and not math.isnan(v):
            kept.append((r, v, p))
    if not kept:
        return []
    revs = np.array([k[0] for k in kept], dtype=np.int64)
    vals = np.array([k[1] for k in kept], dtype=np.float64)
    where = np.array([k[2] for k in kept], dtype=np.int64)
    seg = np.searchsorted(np.asarray(segs.starts, dtype=np.int64), where, side="right") - 1
    ok = (seg >= 0) & (seg < len(segs.levels))
    revs, vals, seg = revs[ok], vals[ok], seg[ok]
    if not revs.size:
        return []
    cut = np.flatnonzero(np.diff(seg)) + 1
    first = np.concatenate(([0], cut))
    last = np.concatenate((cut, [seg.size])) - 1
    level = np.asarray(segs.levels, dtype=np.float64)[seg]
    mins = np.minimum.reduceat(vals, first)
    err = np.add.reduceat(np.abs(vals - level), first) / (last - first + 1)
    return [(int(revs[a]), int(revs[b]) + 1, float(segs.levels[int(seg[a])]), float(m), float(e))
            for a, b, m, e in zip(first, last, mins, err, strict=True)]


def _graph_steps(graph: Graph, combos: Sequence[tuple[str, ...] | None],
                 levels_for: LevelsFor, analysed: str | None, position: Mapping[int, int]
                 ) -> bool:
    """Set ``graph``'s steps; True when asv's step detection had to be used."""
    data = graph.get_data()
    env = next(iter(graph.envs)) if len(graph.envs) == 1 else ""
    out: list[Steps] = []
    for j, combo in enumerate(combos):
        segs = levels_for(graph.benchmark_name, combo, graph.machine or "", env) \
            if graph.branch == analysed else None
        if segs is None:
            graph.detect_steps()
            return True
        pts = [(r, v) for r, v, _w in data] if graph.scalar_series else \
            [(r, v[j]) for r, v, _w in data]
        out.append(steps_from_levels(pts, segs, position))
    graph.set_steps(out)
    return False


# ------------------------------------------------------------------ outputs


def _dump(data: Any) -> str:
    return json.dumps(data)  # asv's util.write_json(compact=True)


def _graph_text(graph: Any) -> str:
    return _dump([list(v[:2]) for v in graph.get_data()])


def _template_files(template: Path) -> list[Path]:
    """The files of asv's template that ``asv publish`` copies (relative paths)."""
    out = []
    for pre, _dirs, files in os.walk(template):
        vendor = os.path.basename(pre).lower() == "vendor"
        out += [Path(pre, n).relative_to(template) for n in files
                if not vendor or n.lower().endswith((".js", ".css"))]
    return out


def _template_in_place(template: Path, html_dir: Path, manifest: OutputManifest,
                       stamp: str) -> bool:
    """True when html_dir holds this asv version's template, localised (asv publish run by
    hand in between deletes html_dir and writes an index.html that loads from CDNs)."""
    index = html_dir / "index.html"
    if manifest.extra.get("template") != stamp or not index.is_file():
        return False
    if LOCALISED_MARK not in index.read_text(encoding="utf-8"):
        return False
    return all((html_dir / rel).is_file() for rel in _template_files(template))


LOCALISED_MARK = 'id="nav-li-perfwatch"'  # what asv_publish.localize_index adds


def _copy_template(html_dir: Path, manifest: OutputManifest,
                   localize: Callable[[Path], None]) -> None:
    """asv's ``www`` template (when missing or of another asv version), localised."""
    import asv

    stamp = f"asv-{asv.__version__}"
    template = Path(asv.__file__).parent / "www"
    if _template_in_place(template, html_dir, manifest, stamp):
        return
    for rel in _template_files(template):
        target = html_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(target.parent, 0o755)
        shutil.copyfile(template / rel, target)
        os.chmod(target, 0o644)
    os.chmod(html_dir, 0o755)
    localize(html_dir)
    manifest.extra["template"] = stamp


def _summary_list(benchmarks: Mapping[str, Any], graphs: Any) -> dict[str, list[Any]]:
    """asv's ``SummaryList.publish`` rows per file (from the graphs' steps)."""
    from asv.graph import Graph
    from asv.plugins.summarylist import benchmark_param_iter

    results: dict[str, list[Any]] = {}
    for name, benchmark in sorted(benchmarks.items()):
        for idx, values in benchmark_param_iter(benchmark):
            pretty = benchmark.get("pretty_name") or name
            if idx is not None:
                pretty = f"{pretty}({', '.join(values)})"
            for graph in graphs.get_graph_group(name):
                steps = graph.get_steps()
                if idx is not None and steps:
                    steps = steps[idx]
                row = _summary_row(steps)
                row.update(name=name, idx=idx, pretty_name=pretty)
                path = Graph.get_file_path(graph.params, "summary") + ".json"
                results.setdefault(path, []).append(
                    {k: row[k] for k in ("name", "idx", "pretty_name", "last_rev", "last_value",
                                         "last_err", "prev_value", "change_rev")})
    return {p: sorted(rows, key=lambda x: (x["name"], x["idx"])) for p, rows in results.items()}


def _summary_row(steps: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"last_rev": None, "last_value": None, "last_err": None,
                           "prev_value": None, "change_rev": None}
    if not steps:
        return row
    last = steps[-1]
    row.update(last_value=last[2], last_err=last[4], last_rev=last[1] - 1)
    if len(steps) > 1:
        prev = steps[-2]
        row["prev_value"] = prev[2]
        row["change_rev"] = [None, last[0]] if prev[1] == last[0] else [prev[1] - 1, last[0]]
    return row


def _pages() -> list[list[str]]:
    from asv import util
    from asv.publishing import OutputPublisher

    classes = sorted(util.iter_subclasses(OutputPublisher), key=lambda cls: cls.order)
    return [[cls.name, cls.button_label, cls.description] for cls in classes]


def _machines(results_dir: Path) -> dict[str, Any]:
    from asv import util
    from asv.machine import iter_machine_files

    out = {}
    for path in iter_machine_files(str(results_dir)):
        d = util.load_json(path)
        out[d["machine"]] = d
    return out


def _index(conf: Any, loaded: _Loaded, repo: _Repo, benchmarks: Mapping[str, Any],
           results_dir: Path) -> dict[str, Any]:
    from asv.commands.publish import check_benchmark_params

    hash_to_date = dict(loaded.hash_to_date)
    for sha, date in repo.tag_dates.items():
        hash_to_date[sha] = date
    params = {k: sorted(v, key=lambda x: "[none]" if x is None else str(x))
              for k, v in loaded.params.items()}
    params["branch"] = [repo.branch_names[b] for b in conf.branches]
    bmap = dict(benchmarks)
    for key, entry in bmap.items():
        check_benchmark_params(key, entry)
    return {
        "project": conf.project, "project_url": conf.project_url,
        "show_commit_url": conf.show_commit_url, "hash_length": conf.hash_length,
        "revision_to_hash": {r: h for h, r in repo.revisions.items()},
        "revision_to_date": {r: hash_to_date[h] for h, r in repo.revisions.items()},
        "params": params, "graph_param_list": loaded.graph_param_list,
        "benchmarks": bmap, "machines": _machines(results_dir), "tags": repo.tags,
        "pages": _pages(),
    }


def _info() -> str:
    from asv import util
    from importlib_metadata import version

    stamp = util.datetime_to_js_timestamp(datetime.datetime.now(datetime.UTC))
    return json.dumps({"asv-version": version("asv"), "timestamp": stamp}, indent=4,
                      sort_keys=True)


def _ordered_headers(rd: ResultsDir, headers: HeaderCache
                     ) -> Iterator[tuple[ResultsFile, FileHeader]]:
    for f in _walk_order(rd.path, rd.files):
        yield f, headers.get(f.path)


def write_site(config: AsvConfig, rd: ResultsDir, *, levels_for: LevelsFor,
               positions: Mapping[str, int], localize: Callable[[Path], None],
               analysed_machines: Collection[str] | None = None) -> SiteReport:
    """Write (or update) asv's site in ``config.html_dir`` from the results ``rd``.

    The graphs of the analysed branch (``config.branch``) and machines
    (``analysed_machines``, default: all) take their steps from ``levels_for``;
    ``positions``: commit -> position in the analysed history; ``localize``: rewrites
    asv's ``index.html`` once it is copied.
    """
    if analysed_machines is None:
        analysed_machines = set(rd.machines)
    from asv.benchmarks import Benchmarks
    from asv.graph import Graph as AsvGraph
    from asv.util import UserError

    conf = _asv_conf(config)
    try:
        benchmarks = Benchmarks.load(conf)
    except (UserError, OSError, ValueError, KeyError) as err:
        raise ConfigError(f"asv cannot load benchmarks.json: {err}",
                          hint="run `asv run --bench just-discover`") from None
    headers = HeaderCache(config.results_dir)
    ordered = list(_ordered_headers(rd, headers))
    repo = _repo_info(conf, {h.commit_hash for _f, h in ordered})
    loaded = _load(ordered, benchmarks, repo, lambda f: headers.weights(f.path), config.branch,
                   analysed_machines)
    position = {rev: positions[sha] for sha, rev in repo.revisions.items() if sha in positions}
    manifest = OutputManifest(config.results_dir, config.html_dir)
    config.html_dir.mkdir(parents=True, exist_ok=True)
    _copy_template(config.html_dir, manifest, localize)
    asv_steps = 0
    texts: dict[str, str] = {}
    for path, graph in loaded.graphs:
        asv_steps += _graph_steps(graph, _combos(benchmarks[graph.benchmark_name]),
                                  levels_for, config.branch, position)
        texts[path] = _graph_text(graph)
        manifest.write(f"{Path(path).as_posix()}.json", texts[path])
    for name in sorted({g.benchmark_name for _p, g in loaded.graphs}):
        path = Path(AsvGraph.get_file_path({"summary": ""}, name)).as_posix()
        group = loaded.graphs.get_graph_group(name)
        manifest.write(f"{path}.json", texts[group[0].path] if summary_is_graph(group)
                       else _dump(summary_data(group)))
    for path, rows in _summary_list(benchmarks, loaded.graphs).items():
        manifest.write(Path(path).as_posix(), _dump(rows))
    manifest.write("index.json", _dump(_index(conf, loaded, repo, benchmarks,
                                              config.results_dir)))
    manifest.write("info.json", _info())
    removed = manifest.remove_stale()
    manifest.save()
    headers.save()
    return SiteReport(graphs=len(loaded.graphs), written=manifest.written, kept=manifest.kept,
                      removed=removed, asv_steps=asv_steps)
