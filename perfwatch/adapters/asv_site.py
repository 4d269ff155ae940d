"""Write the site ``asv publish`` (asv 0.6) writes, without running it, and incrementally.

Same files as asv's ``commands/publish.py``: a copy of asv's ``www`` template,
``graphs/<params>/<benchmark>.json`` for every benchmark x environment x branch
(:mod:`perfwatch.adapters.asv_graph`, tested against :class:`asv.graph.Graph`: the data
points, the averaging of several result files, NaN/None handling, parameterised
benchmarks and the trimming of missing edges are asv's),
``graphs/<params>/summary.json`` (asv's summary list), ``graphs/summary/<benchmark>.json``
(asv's summary graphs), ``index.json`` and ``info.json`` (those besides the graphs:
:mod:`perfwatch.adapters.asv_site_files`). ``regressions.json`` and ``regressions.xml`` are
perfwatch's (:mod:`perfwatch.adapters.asv_publish`).

Differences from ``asv publish``, on purpose:

- **Steps** (asv's "last change" on the summary list): asv fits its own step function to
  every graph (``step_detect``, costly and not incremental). Here a graph that is a
  perfwatch series of the analysed branch takes its steps from perfwatch's segments (the
  change points perfwatch reports; ``val`` is the segment level, ``min`` the smallest graph
  value in it, ``err`` the mean absolute deviation of the graph values from the level).
  Other graphs (other branches, machines not analysed with ``--machine``) get asv's own
  step detection, with asv's weights.
- ``html_dir`` is not deleted: unchanged outputs are kept (not even rewritten), outputs
  the site no longer has are removed, other files (perfwatch's pages) are left alone.
- The result files are read through perfwatch's caches (only new files are parsed).
- ``info.json``'s timestamp is the time of this run, as asv's.

After new commits, :func:`perfwatch.adapters.asv_site_append.append_site` adds them to the
site in time proportional to the new results, byte for byte what this writer would write;
this writer saves what it needs.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_graph import (
    Graph,
    GraphSet,
    ParamSet,
    summary_data,
    summary_is_graph,
)
from perfwatch.adapters.asv_paths import graph_file_path
from perfwatch.adapters.asv_results import ResultsDir, ResultsFile
from perfwatch.adapters.asv_site_cache import FileHeader, HeaderCache, OutputManifest
from perfwatch.adapters.asv_site_files import (
    asv_version,
    copy_template,
    dump,
    index_document,
    info_text,
    summary_list,
)
from perfwatch.adapters.asv_site_record import record
from perfwatch.errors import ConfigError
from perfwatch.model import FloatArray

__all__ = ["Levels", "LevelsFor", "SiteReport", "Steps", "benchmark_combos", "compatible",
           "graph_params", "result_keys", "steps_from_arrays", "steps_from_levels",
           "write_site"]

IntArray = NDArray[np.int64]

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


def compatible(values: Sequence[Any] | None, have: Sequence[Any], want: Sequence[Any]
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


def benchmark_combos(benchmark: Mapping[str, Any]) -> list[tuple[str, ...] | None]:
    """A benchmark's parameter combinations as asv's graphs list them ([None]: none)."""
    import itertools

    if not benchmark["params"]:
        return [None]
    return [tuple(str(v) for v in c) for c in itertools.product(*benchmark["params"])]


def result_keys(f: ResultsFile, benchmarks: Mapping[str, Any]) -> list[str]:
    """The benchmarks of ``f`` asv puts on graphs: known ones, of the same version."""
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
    combos = {name: benchmark_combos(b) for name, b in benchmarks.items()}
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
        groups = [graphs.group(graph_params(h, params, repo.branch_names[b])) for b in on]
        file_weights = weights_of(f) if on != [analysed] or f.machine not in machines else {}
        keys = result_keys(f, benchmarks)
        for group, branch in zip(groups, on, strict=True):
            targets = _targets(graphs, group, keys, f, branch, memo)
            for key, graph in zip(keys, targets, strict=True):
                row = f.results[key]
                raw = file_weights.get(key)
                if scalar[key] and raw is None and row.combos == (None,):
                    graph.add_scalar(rev, row.values[0])
                    continue
                value: Any = compatible(row.values, row.combos, combos[key])
                weight: Any = None if raw is None else compatible(raw, row.combos, combos[key])
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


def graph_params(h: FileHeader, params: dict[str, set[Any]], branch_name: str
                 ) -> dict[str, Any]:
    """The graph parameters of a result file on a branch, as asv's; keys of ``params`` it
    lacks are None (and None joins their values in ``params``)."""
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
    revs = np.array([r for r, _v in points], dtype=np.int64)
    vals = np.array([v for _r, v in points], dtype=np.float64)  # None -> NaN
    where = np.array([position.get(r, -1) for r, _v in points], dtype=np.int64)
    return steps_from_arrays(revs, vals, where, segs)


def steps_from_arrays(revs: IntArray, vals: FloatArray, where: IntArray, segs: Levels) -> Steps:
    """:func:`steps_from_levels` on arrays: the graph's revisions, values (NaN: missing)
    and positions in the analysed history (-1: outside it)."""
    keep = (where >= 0) & ~np.isnan(vals)
    revs, vals, where = revs[keep], vals[keep], where[keep]
    if not revs.size:
        return []
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
    r, s = revs.tolist(), seg.tolist()
    return [(r[a], r[b] + 1, float(segs.levels[s[a]]), m, e)
            for a, b, m, e in zip(first.tolist(), last.tolist(), mins.tolist(), err.tolist(),
                                  strict=True)]


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

def _graph_text(graph: Any) -> str:
    return dump([list(v[:2]) for v in graph.get_data()])


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
    conf = _asv_conf(config)
    benchmarks = _benchmarks(conf)
    headers = HeaderCache(config.results_dir)
    ordered = [(f, headers.get(f.path)) for f in _walk_order(rd.path, rd.files)]
    repo = _repo_info(conf, {h.commit_hash for _f, h in ordered})
    loaded = _load(ordered, benchmarks, repo, lambda f: headers.weights(f.path), config.branch,
                   set(rd.machines) if analysed_machines is None else analysed_machines)
    position = {rev: positions[sha] for sha, rev in repo.revisions.items() if sha in positions}
    manifest = OutputManifest(config.results_dir, config.html_dir)
    config.html_dir.mkdir(parents=True, exist_ok=True)
    copy_template(config.html_dir, manifest, localize)
    asv_steps = _write_graphs(loaded.graphs, benchmarks, manifest,
                              lambda g, combos: _graph_steps(g, combos, levels_for,
                                                             config.branch, position))
    for path, rows in summary_list(benchmarks, loaded.graphs).items():
        manifest.write(Path(path).as_posix(), dump(rows))
    manifest.write("index.json", dump(index_document(
        conf, revisions=repo.revisions, tags=repo.tags,
        hash_to_date={**loaded.hash_to_date, **repo.tag_dates}, params=loaded.params,
        branch_names=repo.branch_names, graph_param_list=loaded.graph_param_list,
        benchmarks=benchmarks, results_dir=config.results_dir)))
    version = asv_version()
    manifest.write("info.json", info_text(version))
    removed = manifest.remove_stale()
    manifest.save()
    headers.save()
    record(config, loaded.graphs, loaded.params, repo.branch_names, version)
    return SiteReport(graphs=len(loaded.graphs), written=manifest.written, kept=manifest.kept,
                      removed=removed, asv_steps=asv_steps)


def _benchmarks(conf: Any) -> Any:
    from asv.benchmarks import Benchmarks
    from asv.util import UserError

    try:
        return Benchmarks.load(conf)
    except (UserError, OSError, ValueError, KeyError) as err:
        raise ConfigError(f"asv cannot load benchmarks.json: {err}",
                          hint="run `asv run --bench just-discover`") from None


def _write_graphs(graphs: GraphSet, benchmarks: Mapping[str, Any], manifest: OutputManifest,
                  set_steps: Callable[[Graph, list[tuple[str, ...] | None]], bool]) -> int:
    """Every graph and every benchmark's summary graph; the number of graphs whose steps
    are asv's step detection."""
    asv_steps = 0
    texts: dict[str, str] = {}
    for path, graph in graphs:
        asv_steps += set_steps(graph, benchmark_combos(benchmarks[graph.benchmark_name]))
        texts[path] = _graph_text(graph)
        manifest.write(f"{Path(path).as_posix()}.json", texts[path])
    for name in sorted({g.benchmark_name for _p, g in graphs}):
        path = Path(graph_file_path({"summary": ""}, name)).as_posix()
        group = graphs.get_graph_group(name)
        manifest.write(f"{path}.json", texts[group[0].path] if summary_is_graph(group)
                       else dump(summary_data(group)))
    return asv_steps
