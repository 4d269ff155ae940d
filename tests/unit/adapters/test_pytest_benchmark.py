from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from perfwatch.adapters.pytest_benchmark import load_pytest_benchmark, machine_of
from perfwatch.errors import ResultsFormatError
from perfwatch.model import Direction, SeriesKey

REAL = Path(__file__).resolve().parents[2] / "data" / "asv-example" / "pytest-benchmark" / (
    "benchmark.json")


def test_real_file_as_single_commit_series() -> None:
    series = load_pytest_benchmark(REAL)
    assert [s.key for s in series] == [
        SeriesKey("test_b.py::test_sum", ("100",), "ci-box"),
        SeriesKey("test_b.py::test_sum", ("1000",), "ci-box"),
        SeriesKey("test_b.py::test_sorted", None, "ci-box"),
    ]
    s = series[2]
    assert s.unit == "seconds" and s.direction is Direction.LOWER_IS_BETTER
    assert len(s.commits) == 1 and s.commits[0].sha == "unversioned"
    np.testing.assert_allclose(s.samples[0][:2], [1.5493999967475247e-06, 1.0740000107034575e-06])
    assert machine_of(REAL) == "ci-box"
    assert load_pytest_benchmark(REAL, machine="other")[0].key.machine == "other"


def test_without_saved_data_uses_the_median(tmp_path: Path) -> None:
    data = json.loads(REAL.read_text())
    for b in data["benchmarks"]:
        del b["stats"]["data"]
    path = tmp_path / "nodata.json"
    path.write_text(json.dumps(data))
    series = load_pytest_benchmark(path)
    assert series[2].samples[0].tolist() == [1.0750000001280569e-06]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"benchmarks": [', "corrupt or truncated JSON"),
        ('{"version": "5.3.1"}', "key 'benchmarks'"),
        ('{"version": "6.0", "benchmarks": []}', "key 'version'"),
        ('{"version": "5.1", "benchmarks": [{"stats": {}}]}', "without a name"),
        ('{"version": "5.1", "benchmarks": [{"name": "t"}]}', "key 'stats'"),
    ],
)
def test_bad_files_name_file_and_key(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(ResultsFormatError, match=words) as info:
        load_pytest_benchmark(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsFormatError, match="not found"):
        load_pytest_benchmark(tmp_path / "nope.json")
