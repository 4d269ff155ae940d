"""asv's graph file names without asv: equal to asv's own functions."""

from __future__ import annotations

import pytest
from asv.graph import Graph
from asv.util import sanitize_filename as asv_sanitize

from perfwatch.adapters.asv_paths import graph_file_path, sanitize_filename

NAMES = ["bench.time_x", 'a<b>c:d"e/f\\g^h|i?j*k', "con", "LPT3", "x\x01y", "é ü", "", "-null"]


@pytest.mark.parametrize("name", NAMES)
def test_sanitize_equals_asv(name: str) -> None:
    assert sanitize_filename(name) == asv_sanitize(name)


def test_graph_path_equals_asv() -> None:
    params: dict[str, str | None] = {"machine": "ci/box", "python": "3.11", "branch": "main",
                                     "env-X": None, "cpu": "", "os": "Linux 6.1^x"}
    for name in NAMES:
        assert graph_file_path(params, name) == Graph.get_file_path(params, name)
    assert graph_file_path({}, "b") == Graph.get_file_path({}, "b")
