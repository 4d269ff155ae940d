"""perfwatch's fast asv graphs give exactly what asv's own Graph gives, on random data."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from asv.graph import Graph as AsvGraph
from asv.graph import make_summary_graph

from perfwatch.adapters.asv_graph import Graph, GraphSet, summary_data, summary_is_graph

PARAMS = {"machine": "box", "python": "3.11", "branch": "main", "env-X": None, "empty": ""}


def _value(rng: np.random.Generator, n: int | None) -> Any:
    def one() -> Any:
        roll = rng.random()
        if roll < 0.1:
            return None
        if roll < 0.2:
            return float("nan")
        return float(rng.choice([-1.0, 1.0]) * rng.lognormal(-7, 1)) if roll < 0.25 \
            else float(rng.lognormal(-7, 1))

    if n is None:
        return one()
    return None if rng.random() < 0.05 else [one() for _ in range(n)]


def _points(rng: np.random.Generator, n: int | None) -> list[tuple[int, Any, Any]]:
    revs = rng.choice(60, size=int(rng.integers(1, 40)), replace=False)
    out = []
    for rev in revs:
        for _ in range(int(rng.integers(1, 4)) if rng.random() < 0.2 else 1):
            weight = None if rng.random() < 0.3 else (
                float(rng.random()) if n is None else [float(rng.random()) for _ in range(n)])
            out.append((int(rev), _value(rng, n), weight))
    return out


def _both(name: str, points: list[tuple[int, Any, Any]]) -> tuple[AsvGraph, Graph]:
    theirs = AsvGraph(name, dict(PARAMS))
    ours = GraphSet().get_graph(GraphSet().group(dict(PARAMS)), name)
    for rev, value, weight in points:
        theirs.add_data_point(rev, value, weight)
        ours.add_data_point(rev, value, weight)
    return theirs, ours


@pytest.mark.parametrize("n", [None, 1, 3])
def test_get_data_equals_asv(rng: np.random.Generator, n: int | None) -> None:
    for _ in range(200):
        theirs, ours = _both("bench.time_x", _points(rng, n))
        assert ours.path == theirs.path
        assert json.dumps(ours.get_data()) == json.dumps(theirs.get_data())
        assert (ours.n_series, ours.scalar_series) == (theirs.n_series, theirs.scalar_series)


def test_negative_zero_summary_is_not_the_graph() -> None:
    theirs, ours = _both("b", [(1, -0.0, None), (2, 1.0, None)])
    assert not summary_is_graph([ours])
    assert json.dumps(summary_data([ours])) == json.dumps(
        [[k, v] for k, v, _w in make_summary_graph([theirs]).get_data()]) == "[[1, 0.0], [2, 1.0]]"


def test_trailing_missing_revision_kept_as_asv_keeps_it() -> None:
    theirs, ours = _both("b", [(1, 2.0, None), (2, None, None), (3, float("nan"), None)])
    assert ours.get_data() == theirs.get_data() == [(1, 2.0, None), (2, None, None)]


@pytest.mark.parametrize("n_graphs", [1, 2, 3])
def test_summary_equals_asv(rng: np.random.Generator, n_graphs: int) -> None:
    for _ in range(100):
        n = None if n_graphs == 1 or rng.random() < 0.5 else 2
        pairs = [_both("bench.time_x", _points(rng, n)) for _ in range(n_graphs)]
        want = [[k, v] for k, v, _w in make_summary_graph([t for t, _o in pairs]).get_data()]
        assert json.dumps(summary_data([o for _t, o in pairs])) == json.dumps(want)
        if summary_is_graph([o for _t, o in pairs]):  # the summary file is the graph's text
            own = [[k, v] for k, v, _w in pairs[0][1].get_data()]
            assert json.dumps(own) == json.dumps(want)


def test_long_history_is_resampled_as_asv_does(rng: np.random.Generator) -> None:
    points = [(r, float(rng.lognormal(-7, 0.1)), None) for r in range(1000)]
    theirs, ours = _both("b", points)
    want = [[k, v] for k, v, _w in make_summary_graph([theirs]).get_data()]
    assert summary_data([ours]) == want and len(want) < 1000


def test_steps_are_asv_step_detection_when_asked(rng: np.random.Generator) -> None:
    points = [(r, 1e-3 * (1.5 if r >= 20 else 1.0) * float(rng.lognormal(0, 0.01)), 1e4)
              for r in range(40)]
    theirs, ours = _both("b", points)
    assert ours.get_steps() == theirs.get_steps()
    assert len(ours.get_steps()) == 2
