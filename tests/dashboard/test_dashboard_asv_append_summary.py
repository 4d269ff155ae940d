"""A summary graph of several graphs extended by appending (asv_graph.summary_tail and the
append's trimming) equals asv's summary of the grown graphs, on random graphs with gaps that
asv's gap filling fills as the series grow."""

from __future__ import annotations

import json

import numpy as np
import pytest

from perfwatch.adapters.asv_graph import summary_from_arrays, summary_tail
from perfwatch.adapters.asv_site_grow import grow


def _graph(rng: np.random.Generator, lo: int, hi: int, width: int, p_missing: float
           ) -> tuple[np.ndarray, np.ndarray]:
    revs = np.flatnonzero(rng.random(hi - lo) < 0.8) + lo
    vals = rng.lognormal(-7, 0.3, size=(len(revs), width))
    vals[rng.random(vals.shape) < p_missing] = np.nan
    return revs.astype(np.int64), vals


@pytest.mark.parametrize("width", [1, 2])
def test_extended_summary_equals_the_full_one(rng: np.random.Generator, width: int) -> None:
    extended = refused = 0
    for _ in range(400):
        n_graphs = int(rng.integers(1, 4))
        n0 = int(rng.integers(1, 40))
        p = float(rng.choice([0.0, 0.2, 0.5]))
        old = [_graph(rng, 0, n0, width, p) for _ in range(n_graphs)]
        more = [_graph(rng, n0, n0 + int(rng.integers(1, 4)), width, p) for _ in old]
        new = [(np.concatenate([o[0], m[0]]), np.concatenate([o[1], m[1]]))
               for o, m in zip(old, more, strict=True)]
        revs0, vals0 = [o[0] for o in old], [o[1] for o in old]
        revs1, vals1 = [g[0] for g in new], [g[1] for g in new]
        tail = summary_tail((revs0, vals0), (revs1, vals1))
        if tail is None:
            refused += 1
            continue
        before = summary_from_arrays(revs0, vals0)
        after = summary_from_arrays(revs1, vals1)
        added, _pending = grow(tail.old_len, tail.have, [[r, None] for r in tail.pending],
                               tail.new)
        assert tail.old_len == len(before)
        if tail.old_len:
            assert json.dumps(before + added) == json.dumps(after)
        else:
            assert json.dumps(added) == json.dumps(after)
        extended += 1
    assert extended > 100 and refused > 20


def test_summary_from_arrays_is_asvs_also_resampled(rng: np.random.Generator) -> None:
    """What an append writes when it cannot extend a summary graph: asv's own summary, here
    with long histories (asv resamples past 384 points) and one to three graphs."""
    from asv.graph import Graph as AsvGraph
    from asv.graph import make_summary_graph

    from perfwatch.adapters.asv_graph import Graph, graph_arrays

    for _ in range(12):
        theirs, ours = [], []
        for _g in range(int(rng.integers(1, 4))):
            a, o = AsvGraph("b", {}), Graph("b", {}, "b")
            for r in np.flatnonzero(rng.random(int(rng.integers(300, 600))) < 0.9).tolist():
                v = float(rng.lognormal(-7, 0.3)) if rng.random() > 0.1 else float("nan")
                a.add_data_point(r, v)
                o.add_data_point(r, v)
            theirs.append(a)
            ours.append(o)
        arrays = [graph_arrays(g) for g in ours]
        want = [[k, v] for k, v, _w in make_summary_graph(theirs).get_data()]
        got = summary_from_arrays([r for r, _v in arrays], [v for _r, v in arrays])
        assert json.dumps(got) == json.dumps(want)
