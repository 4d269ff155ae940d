"""What new points make of the texts of asv's site, for
:mod:`perfwatch.adapters.asv_site_append`: a graph file's new points written after its last
byte (the JSON of one point is the same bytes inside the whole list), with asv's trimming of
revisions without data; a benchmark's summary graph extended likewise when its old points
cannot change (``asv_graph.summary_tail``), else written whole; a graph's summary-list rows
with steps from perfwatch's segments on the graph's arrays.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_graph import (
    RESAMPLED_POINTS,
    is_empty_point,
    summary_from_arrays,
    summary_tail,
)
from perfwatch.adapters.asv_site import (
    IntArray,
    LevelsFor,
    Steps,
    benchmark_combos,
    steps_from_arrays,
)
from perfwatch.adapters.asv_site_cache import GraphValues
from perfwatch.adapters.asv_site_files import graph_summary_rows
from perfwatch.adapters.asv_site_plan import Touched
from perfwatch.model import FloatArray

__all__ = ["GraphOut", "graph_steps", "grow", "grown_graph", "summary_graph", "summary_rows"]

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


def grow(old_len: int, have: int, pending: list[list[Any]], new: list[list[Any]]
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
class GraphOut:
    change: tuple[str, bool] | None  # see _addition
    added: list[list[Any]]
    length: int  # points after the append
    old: tuple[IntArray, FloatArray]  # the points before, as arrays


def grown_graph(rel: str, touched: Touched, values: GraphValues) -> GraphOut:
    """The graph ``rel`` with its new points ``touched``: its record and its arrays in
    ``values`` are updated in place."""
    row, graph = touched.row, touched.graph
    revs, vals = values.revs[rel], values.vals[rel]
    have = min(2, int(np.count_nonzero(~np.isnan(vals).all(axis=1))))
    row["n"], row["s"] = graph.n_series, graph.scalar_series
    row["envs"] = sorted(set(row["envs"]) | touched.envs)
    empty = _empty(row)
    added, after = grow(len(revs), have, [[r, empty] for r in row["p"]],
                        [[r, v] for r, v in graph.revision_points()])
    row["p"] = [r for r, _v in after] if have or added else []
    if added:
        width = _width(row)
        old = vals if len(revs) else np.empty((0, width))
        values.revs[rel] = np.concatenate([revs, np.array([k for k, _v in added], np.int64)])
        values.vals[rel] = np.concatenate([old, _matrix([v for _k, v in added], width)])
    return GraphOut(_addition(len(revs), added), added, len(values.revs[rel]), (revs, vals))


# ------------------------------------------------------------------ summaries


def graph_steps(row: Mapping[str, Any], revs: IntArray, vals: FloatArray,
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
    for j, combo in enumerate(benchmark_combos(benchmark)):
        segs = levels_for(row["b"], combo, row["m"] or "", env)
        if segs is None:
            return None
        out.append(steps_from_arrays(revs, vals[:, j], at, segs) if revs.size else [])
    return out


def summary_rows(row: Mapping[str, Any], steps: list[Steps], benchmark: Mapping[str, Any]
                 ) -> list[dict[str, Any]]:
    """asv's summary-list rows of one recorded graph (``steps``: one list per data series)."""
    return graph_summary_rows(row["b"], benchmark, steps[0] if row["s"] else steps)


def summary_graph(paths: Sequence[str], rows: Sequence[Mapping[str, Any]],
                  values: GraphValues, grown: Mapping[str, GraphOut]
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
    added, _after = grow(tail.old_len, tail.have, [[r, None] for r in tail.pending], tail.new)
    return _addition(tail.old_len, added)

