"""asv's graphs (``asv/graph.py``, asv 0.6), built fast for a large history.

:class:`Graph` gives exactly what :class:`asv.graph.Graph` gives (``path``,
``add_data_point``, ``get_data``: the mean of several results at one revision, None/NaN
as missing, parameterised benchmarks as lists, missing edges trimmed the way asv trims
them) without asv's per-point overhead: a graph's path is computed once per parameter
set, not once per data point, and ``get_data`` is computed once. The tests compare it
with asv's own class on random data. Step detection, when asked for, is asv's own.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from perfwatch.adapters.asv_paths import sanitize_filename

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "RESAMPLED_POINTS",
    "Graph",
    "GraphSet",
    "ParamSet",
    "SummaryTail",
    "graph_arrays",
    "is_empty_point",
    "summary_data",
    "summary_from_arrays",
    "summary_is_graph",
    "summary_tail",
    "trim_edges",
]

RESAMPLED_POINTS = 3840 / 5 / 2  # asv.graph.RESAMPLED_POINTS (a summary graph's resampling)


def _is_na(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _mean_na(values: list[Any]) -> Any:
    """asv's ``util.mean_na``, same arithmetic (so the same bits)."""
    kept = [x for x in values if not _is_na(x)]
    return sum(kept) / len(kept) if kept else None


class ParamSet:
    """One set of graph parameters (machine, environment, branch ...) and its path part."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        parts = []
        for key, val in params.items():
            part = f"{key}-null" if val is None else f"{key}-{val}" if val else f"{key}"
            parts.append(sanitize_filename(part))
        parts.sort()
        self.prefix = os.path.join("graphs", *parts)


def trim_edges(val: list[Any]) -> list[Any]:
    """asv's trimming of ``get_data``: drop revisions without data at both ends (asv's
    loop keeps one trailing empty revision when only empty ones follow the first)."""
    i = next((i for i, item in enumerate(val) if any(not _is_na(v) for v in item[1])),
             len(val))
    j = i
    for j in range(len(val) - 1, i, -1):
        if any(not _is_na(v) for v in val[j][1]):
            break
    return val[i:j + 1]


def is_empty_point(value: Any) -> bool:
    """True when a graph point's value (a float, None, or a list of them) has no data."""
    if isinstance(value, list):
        return all(_is_na(v) for v in value)
    return _is_na(value)


class Graph:
    """One line of asv's plots: a benchmark on one parameter set (asv.graph.Graph).

    Points are collected as they come (``add_data_point``) and averaged per revision once,
    in ``get_data``, in the order they were added (the order of asv's arithmetic).
    """

    def __init__(self, benchmark_name: str, params: dict[str, Any], path: str) -> None:
        self.benchmark_name = benchmark_name
        self.params = params
        self.path = path
        self.n_series: int | None = None
        self.scalar_series = True
        self._raw: list[tuple[int, Any, Any]] = []  # (revision, values | None, weights)
        self._data: list[Any] | None = None
        self._steps: Any = None
        self.asv_steps = False  # the steps are asv's step detection's
        # where the points came from (perfwatch's use: which series the graph is)
        self.machine: str | None = None
        self.branch: str | None = None
        self.envs: set[str] = set()

    def add_data_point(self, revision: int, value: Any, weight: Any = None) -> None:
        self._data = None
        if _is_na(value):
            self._raw.append((revision, None, None))
            return
        if not hasattr(value, "__len__"):
            value, weight = [value], [weight]
        else:
            self.scalar_series = False
        if self.n_series is None:
            self.n_series = len(value)
        elif len(value) != self.n_series:
            raise ValueError("Mismatching number of data series in graph")
        self._raw.append((revision, value, [None] * len(value) if weight is None else weight))

    def add_scalar(self, revision: int, value: float | None) -> None:
        """``add_data_point(revision, value)`` for one float (or None) without a weight."""
        self._data = None
        if value is None or math.isnan(value):  # a missing point
            self._raw.append((revision, None, None))
            return
        if self.n_series is None:
            self.n_series = 1
        elif self.n_series != 1:
            raise ValueError("Mismatching number of data series in graph")
        self._raw.append((revision, (value,), (None,)))

    def _by_revision(self) -> tuple[dict[int, list[Any]], dict[int, list[Any]]]:
        """asv's ``data_points`` and ``data_weights``: the values and weights added at each
        revision (a revision with only missing values has empty lists)."""
        values: dict[int, list[Any]] = {}
        weights: dict[int, list[Any]] = {}
        for rev, value, weight in self._raw:
            if rev not in values:
                values[rev], weights[rev] = [], []
            if value is not None:
                values[rev].append(value)
                weights[rev].append(weight)
        return values, weights

    @staticmethod
    def _mean_axis0(rows: list[Any], n: int) -> list[Any]:
        if not rows:
            return [None] * n
        if len(rows) == 1:
            return [None if _is_na(x) else (0 + x) / 1 for x in rows[0]]  # sum([x]) / 1
        return [_mean_na([x[j] for x in rows]) for j in range(n)]

    def get_data(self) -> list[Any]:
        """asv's ``Graph.get_data``: sorted (revision, value, weight), edges trimmed."""
        if self._data is not None:
            return self._data
        if self.n_series is None:
            self.n_series = 1
        if self.scalar_series and len({r for r, _v, _w in self._raw}) == len(self._raw):
            self._data = self._scalar_data()
            return self._data
        n = self.n_series
        values, weights = self._by_revision()
        mean = self._mean_axis0
        val = trim_edges([(k, mean(values[k], n), mean(weights[k], n)) for k in sorted(values)])
        if self.scalar_series:
            val = [(k, v[0], w[0]) for k, v, w in val]
        self._data = val
        return val

    def revision_points(self) -> list[tuple[int, Any]]:
        """asv's (revision, value) of every revision, sorted, edges not trimmed (a
        revision without data has None, or a list of None)."""
        n = self.n_series or 1
        values, _weights = self._by_revision()
        out = [(k, self._mean_axis0(values[k], n)) for k in sorted(values)]
        return [(k, v[0]) for k, v in out] if self.scalar_series else out

    def raw_series(self) -> int | None:
        """The number of data series of the values added so far (None: no value yet)."""
        return next((len(v) for _r, v, _w in self._raw if v is not None), None)

    def pending_revisions(self) -> list[int]:
        """The revisions after the last point of ``get_data`` (all without data): a later
        revision with data brings them back into the graph."""
        data = self.get_data()
        if not data:
            return []
        last = data[-1][0]
        return sorted({r for r, _v, _w in self._raw if r > last})

    def _scalar_data(self) -> list[Any]:
        """``get_data`` when every revision has at most one scalar value (the usual case)."""
        val = []
        for rev, value, weight in sorted(self._raw, key=lambda item: item[0]):
            if value is None:
                val.append((rev, None, None))
                continue
            x, w = value[0], weight[0]
            val.append((rev, None if _is_na(x) else (0 + x) / 1,
                        None if _is_na(w) else (0 + w) / 1))
        i = next((i for i, item in enumerate(val) if item[1] is not None), len(val))
        j = i
        for j in range(len(val) - 1, i, -1):
            if val[j][1] is not None:
                break
        return val[i:j + 1]

    def detect_steps(self, pool: Any = None) -> None:
        """asv's own step detection on this graph's data."""
        from asv.graph import Graph as AsvGraph

        self.asv_steps = True

        values, weights = self._by_revision()
        twin = AsvGraph.__new__(AsvGraph)
        twin.__dict__.update(benchmark_name=self.benchmark_name, params=self.params,
                             path=self.path, n_series=self.n_series,
                             scalar_series=self.scalar_series, data_points=values,
                             data_weights=weights, _steps=None)
        twin.detect_steps(pool)
        self._steps = twin.get_steps()
        if self.scalar_series:
            self._steps = [self._steps]

    def set_steps(self, steps: list[Any]) -> None:
        """Steps found elsewhere: one list per data series (asv's format)."""
        self._steps = steps

    def get_steps(self) -> Any:
        if self._steps is None:
            self.detect_steps()
        return self._steps[0] if self.scalar_series else self._steps


class GraphSet:
    """Graphs by path, in creation order, and by benchmark (asv.graph.GraphSet)."""

    def __init__(self) -> None:
        self._graphs: dict[str, Graph] = {}
        self._groups: dict[str, list[Graph]] = {}
        self._by_key: dict[tuple[int, str], Graph] = {}
        self._names: dict[str, str] = {}
        self._sets: dict[tuple[tuple[str, Any], ...], ParamSet] = {}

    def group(self, params: dict[str, Any]) -> ParamSet:
        key = tuple(params.items())
        found = self._sets.get(key)
        if found is None:
            found = self._sets[key] = ParamSet(params)
        return found

    def get_graph(self, params: ParamSet, benchmark_name: str) -> Graph:
        found = self._by_key.get((id(params), benchmark_name))
        if found is not None:
            return found
        name = self._names.get(benchmark_name)
        if name is None:
            name = self._names[benchmark_name] = sanitize_filename(benchmark_name)
        path = os.path.join(params.prefix, name)
        graph = self._graphs.get(path)
        if graph is None:
            graph = self._graphs[path] = Graph(benchmark_name, params.params, path)
            self._groups.setdefault(benchmark_name, []).append(graph)
        self._by_key[(id(params), benchmark_name)] = graph
        return graph

    def get_graph_group(self, benchmark_name: str) -> list[Graph]:
        return self._groups.get(benchmark_name, [])

    def __iter__(self) -> Iterator[tuple[str, Graph]]:
        return iter(self._graphs.items())

    def param_sets(self) -> list[ParamSet]:
        return list(self._sets.values())

    def __len__(self) -> int:
        return len(self._graphs)


def _geom1(y: Any) -> Any:
    """asv's ``geom_mean_na([y])`` (same operations)."""
    prod = 1.0 * abs(y) ** 1.0
    return prod if (0 + y) >= 0 else -prod


def _max_gap(valid: int) -> int:
    return math.ceil(0.1 * valid)  # asv's _fill_missing_data: max_gap_fraction * valid_count


def _fill_gaps(y: FloatArray, max_gap: int | None = None) -> FloatArray:
    """asv's ``graph._fill_missing_data`` (NaN = missing): gaps between two values, up to 10%
    of the valid count long (or ``max_gap``), filled linearly with asv's arithmetic."""
    valid = np.flatnonzero(~np.isnan(y))
    if max_gap is None:
        max_gap = _max_gap(len(valid))
    gaps = np.diff(valid) - 1
    todo = np.flatnonzero((gaps > 0) & (gaps <= max_gap))
    if not todo.size:
        return y
    filled = y.copy()
    for t in todo.tolist():
        a, gap = int(valid[t]), int(gaps[t])
        prev, v = float(y[a]), float(y[a + gap + 1])
        for k in range(1, gap + 1):
            filled[a + k] = (v * k + (gap + 1 - k) * prev) / (gap + 1)
    return filled


def _geom_means(ys: list[FloatArray], max_gaps: list[int] | None = None) -> FloatArray:
    """asv's ``_compute_summary_data_series`` (NaN = missing): per revision, the geometric
    mean of the filled series (asv's ``geom_mean_na``, same operations in the same order),
    missing where every series is."""
    filled = [_fill_gaps(y, None if max_gaps is None else max_gaps[i])
              for i, y in enumerate(ys)]
    count = np.sum([~np.isnan(f) for f in filled], axis=0)
    with np.errstate(divide="ignore"):
        exponent = 1 / count
    prod = np.ones(len(ys[0]))
    acc = np.zeros(len(ys[0]))
    for f in filled:
        m = ~np.isnan(f)
        # C pow per value, as Python's float ** (numpy's vector pow may differ in the last bit)
        powers = [abs(v) ** e for v, e in zip(f[m].tolist(), exponent[m].tolist(), strict=True)]
        prod[m] = prod[m] * np.array(powers, dtype=np.float64)
        acc[m] = acc[m] + f[m]
    out = np.where(acc >= 0, prod, -prod)
    out[np.all([np.isnan(y) for y in ys], axis=0)] = np.nan
    return out


def _series(revs: list[IntArray], vals: list[FloatArray]) -> tuple[IntArray, list[FloatArray]]:
    """asv's ``_combine_graph_data`` on arrays: every revision, and each data series of each
    graph on them (NaN = missing)."""
    if revs and all(np.array_equal(r, revs[0]) for r in revs[1:]):  # the usual case
        return revs[0], [v[:, j] for v in vals for j in range(v.shape[1])]
    x = np.unique(np.concatenate(revs)) if revs else np.empty(0, dtype=np.int64)
    ys = []
    for r, v in zip(revs, vals, strict=True):
        where = np.searchsorted(x, r)
        for j in range(v.shape[1]):
            y = np.full(len(x), np.nan)
            y[where] = v[:, j]
            ys.append(y)
    return x, ys


def summary_from_arrays(revs: list[IntArray], vals: list[FloatArray]) -> list[list[Any]]:
    """asv's ``make_summary_graph(graphs).get_data()`` as [revision, value] points, from each
    graph's ``get_data`` as arrays: revisions, and values (one column per data series, NaN
    for None)."""
    x, ys = _series(revs, vals)
    if not x.size or not ys:
        return []
    col = _geom_means(ys)
    val = [(k, None if math.isnan(v) else v) for k, v in zip(x.tolist(), col.tolist(),
                                                              strict=True)]
    kept = trim_edges([(k, [None if _is_na(v) else (0 + v) / 1]) for k, v in _resample(val)])
    return [[k, v[0]] for k, v in kept]


@dataclass(frozen=True)
class SummaryTail:
    """A summary graph that grows by new revisions without its old points changing."""

    old_len: int  # points of the old summary graph
    have: int  # of them with data, counted up to 2
    pending: list[int]  # revisions after its last point (without data)
    new: list[list[Any]]  # [revision, value] at the new revisions, not trimmed


def _fill_unchanged(y0: FloatArray, y1: FloatArray, n0: int) -> tuple[bool, int]:
    """Whether asv's gap filling of series ``y1`` (``y0`` grown) leaves its first ``n0``
    positions as in ``y0``; and ``y1``'s longest filled gap."""
    v0, v1 = np.flatnonzero(~np.isnan(y0)), np.flatnonzero(~np.isnan(y1))
    m0, m1 = _max_gap(len(v0)), _max_gap(len(v1))
    gaps = np.diff(v0) - 1
    if np.any((gaps > m0) & (gaps <= m1)):
        return False, m1  # a gap too long before is filled now
    if v0.size and v0[-1] < n0 - 1:  # missing at the end: a new value may close the gap
        later = v1[v1 > v0[-1]]
        if later.size and 0 < later[0] - v0[-1] - 1 <= m1:
            return False, m1
    return True, m1


def summary_tail(old: tuple[list[IntArray], list[FloatArray]],
                 new: tuple[list[IntArray], list[FloatArray]]) -> SummaryTail | None:
    """The summary graph of grown graphs (``new``, each ``old`` plus later revisions) as the
    old summary graph plus points; None when old points change (a gap filled now, new
    revisions between old ones) or asv resamples."""
    x0, ys0 = _series(*old)
    x1, ys1 = _series(*new)
    n0 = len(x0)
    if not n0 or len(x1) >= RESAMPLED_POINTS or len(ys0) != len(ys1) \
            or not np.array_equal(x1[:n0], x0):
        return None
    max_gaps = []
    for y0, y1 in zip(ys0, ys1, strict=True):
        same, m1 = _fill_unchanged(y0, y1, n0)
        if not same:
            return None
        max_gaps.append(m1)
    col = _geom_means([y[n0 - 1:] for y in ys1], max_gaps)[1:]
    points = [[k, None if math.isnan(v) else (0 + v) / 1]
              for k, v in zip(x1[n0:].tolist(), col.tolist(), strict=True)]
    full = np.flatnonzero(~np.all([np.isnan(y) for y in ys0], axis=0))
    if not full.size:
        return SummaryTail(0, 0, [], points)
    i, last = int(full[0]), int(full[-1])
    j = last if last > i else min(i + 1, n0 - 1)  # asv keeps one empty after a lone point
    return SummaryTail(j - i + 1, min(2, full.size), x0[j + 1:].tolist(), points)


def _resample(val: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """asv's ``graph.resample_data``."""
    if len(val) < RESAMPLED_POINTS:
        return val
    lo, hi = min(x[0] for x in val), max(x[0] for x in val)
    step = int((hi - lo) / RESAMPLED_POINTS) or hi - lo + 1
    out, j = [], 0
    for i in range(lo + step, hi + step, step):
        chunk = []
        while j < len(val) and val[j][0] < i:
            chunk.append(val[j][1])
            j += 1
        if chunk:
            out.append((i, _mean_na(chunk)))
    return out


def graph_arrays(graph: Graph) -> tuple[IntArray, FloatArray]:
    """A graph's ``get_data`` as arrays: revisions, and values (points x data series, NaN
    for None)."""
    data = graph.get_data()
    width = 1 if graph.scalar_series else graph.n_series or 1
    revs = np.array([k for k, _v, _w in data], dtype=np.int64)
    return revs, np.array([v for _k, v, _w in data], dtype=np.float64).reshape(len(data), width)


def summary_data(graphs: list[Graph]) -> list[list[Any]]:
    """The points of asv's summary graph of ``graphs`` (``graph.make_summary_graph``).

    One scalar graph (the usual case) takes a direct path with asv's arithmetic; several
    graphs go through :func:`summary_from_arrays` (asv's function, on arrays).
    """
    if len(graphs) != 1 or not graphs[0].scalar_series:
        arrays = [graph_arrays(g) for g in graphs]
        return summary_from_arrays([r for r, _v in arrays], [v for _r, v in arrays])
    data = graphs[0].get_data()
    if len(data) < RESAMPLED_POINTS:  # asv's arithmetic on one finite value y: y + 0.0
        return [[k, None if v is None else v + 0.0] for k, v, _w in data]
    val = [(k, None if _is_na(v) else _geom1(v)) for k, v, _w in data]
    kept = trim_edges([(k, [None if _is_na(v) else (0 + v) / 1]) for k, v in _resample(val)])
    return [[k, v[0]] for k, v in kept]


def summary_is_graph(graphs: list[Graph]) -> bool:
    """True when the summary graph of ``graphs`` has exactly the graph's own points: one
    scalar graph, short enough not to be resampled, and no zero (asv's arithmetic turns
    -0.0 into 0.0); then the summary file is the graph file's text."""
    if len(graphs) != 1 or not graphs[0].scalar_series:
        return False
    data = graphs[0].get_data()
    return len(data) < RESAMPLED_POINTS and all(v != 0.0 for _k, v, _w in data)
