"""The points new result files add to the graphs of asv's site, for
:mod:`perfwatch.adapters.asv_site_append`: which graphs they go to (on the site already), as
``asv_site.write_site`` would place them, or :class:`NotAppendable` when they make a new
graph, parameter set or parameter value, or come from a commit not after every commit on the
site.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_graph import Graph
from perfwatch.adapters.asv_results import ResultsFile
from perfwatch.adapters.asv_site import benchmark_combos, compatible, graph_params, result_keys
from perfwatch.adapters.asv_site_cache import FileHeader
from perfwatch.adapters.asv_site_record import GitNow, NotAppendable, git_now, param_key

__all__ = ["Plan", "Touched", "plan_points"]


@dataclass
class Touched:
    row: dict[str, Any]  # the graph's record (updated in place)
    graph: Graph  # the new points only
    envs: set[str] = field(default_factory=set)


@dataclass
class Plan:
    git: GitNow
    dates: dict[str, Any]  # new commit -> asv's date
    touched: dict[str, Touched]  # graph path -> new points


def _params_known(h: FileHeader, keys: Sequence[str], listed: Mapping[str, list[Any]]) -> bool:
    """The file's graph parameters are all on the site already (else index.json's params
    and graph paths change)."""
    cur = graph_params(h, {k: set() for k in keys}, "")
    del cur["branch"]
    return set(cur) == set(keys) and all(v in listed.get(k, ()) for k, v in cur.items())


def _add_row(graph: Graph, rev: int, f: ResultsFile, key: str, benchmark: Mapping[str, Any]
             ) -> None:
    """One result as asv_site._load adds it (weights aside: only asv's steps use them)."""
    row = f.results[key]
    if not benchmark["params"] and row.combos == (None,):
        graph.add_scalar(rev, row.values[0])
        return
    value: Any = compatible(row.values, row.combos, benchmark_combos(benchmark))
    graph.add_data_point(rev, value[0] if not benchmark["params"] else value, None)


def plan_points(config: AsvConfig, state: Mapping[str, Any], index: Mapping[str, Any],
                ordered: Sequence[tuple[ResultsFile, FileHeader]]) -> Plan:
    """The new points of the files ``ordered`` (in asv's reading order) on the site of the
    record ``state`` and its ``index.json``."""
    old_hashes: dict[str, str] = index["revision_to_hash"]
    git = git_now(config, state, old_hashes)
    top = max((int(r) for r in old_hashes), default=-1)
    benchmarks: Mapping[str, Any] = index["benchmarks"]
    graphs: dict[str, dict[str, Any]] = state["graphs"]
    names: dict[str, str] = state["names"]
    branch_names = {b: name for b, name, _n, _d in state["branches"]}
    plan = Plan(git, {}, {})
    for f, h in ordered:
        rev = git.revisions.get(h.commit_hash)
        if rev is None or rev <= top:
            raise NotAppendable(f"commit {h.commit_hash} is not after every commit on the site")
        if not _params_known(h, state["param_keys"], index["params"]):
            raise NotAppendable(f"{f.path} has graph parameters not on the site")
        plan.dates[h.commit_hash] = h.date
        fake = {k: set[Any]() for k in state["param_keys"]}
        for b in git.on.get(h.commit_hash, []):
            prefix = state["param_sets"].get(param_key(graph_params(h, fake, branch_names[b])))
            if prefix is None:
                raise NotAppendable(f"{f.path} makes a new set of graph parameters")
            for key in result_keys(f, benchmarks):
                path = f"{prefix}/{names.get(key, '')}"
                if path not in graphs:
                    raise NotAppendable(f"{f.path} makes a new graph ({key})")
                touched = plan.touched.get(path)
                if touched is None:
                    touched = plan.touched[path] = Touched(graphs[path], _fresh(graphs[path]))
                _add_row(touched.graph, rev, f, key, benchmarks[key])
                touched.envs.add(f.env_name)
    return plan


def _fresh(row: Mapping[str, Any]) -> Graph:
    graph = Graph(row["b"], {}, "")
    graph.n_series, graph.scalar_series = row["n"], row["s"]
    return graph
