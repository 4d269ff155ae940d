from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from perfwatch.adapters.asv_results import (
    load_benchmarks,
    load_machine,
    load_results_file,
    scan_results_dir,
)
from perfwatch.errors import ResultsError, ResultsFormatError

DATA = Path(__file__).resolve().parents[2] / "data" / "asv-example" / "results"
C1 = "841eeac72bf4d479a5a919e48d45e9a020964ae3"
C3 = "dbd25c3b59e55dcc74a725b267a4c340bcf4c1c9"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    dst = tmp_path / "results"
    shutil.copytree(DATA, dst)
    return dst


def _file(results: Path, prefix: str) -> Path:
    return next((results / "ci-box").glob(f"{prefix}*.json"))


def test_benchmarks_json_types_units_versions() -> None:
    benches = load_benchmarks(DATA / "benchmarks.json")
    assert benches["bench_demo.mem_list"].type == "mem"
    assert benches["bench_demo.peakmem_list"].type == "peakmem"
    assert benches["bench_demo.Cached.track_len"].unit == "items"
    work = benches["bench_demo.TimeSuite.time_work"]
    assert (work.type, work.unit, work.param_names, work.params) == (
        "time", "seconds", ("n",), (("1000", "5000"),))
    assert work.version.startswith("fea144fe")


def test_machine_json() -> None:
    machine = load_machine(DATA / "ci-box" / "machine.json")
    assert machine.name == "ci-box"
    assert machine.info["num_cpu"] == "2"


def test_result_file_params_samples_skipped_failed() -> None:
    rf = load_results_file(_file(DATA, "dbd25c3b"), "ci-box")
    assert rf.commit_hash == C3
    assert rf.env_name == "virtualenv-py3.11-setuptools-wheel"
    work = rf.results["bench_demo.TimeSuite.time_work"]
    assert work.combos == (("1000",), ("5000",))
    assert work.values[0] == pytest.approx(8.240650004154304e-05)
    assert work.values[1] is not None and math.isnan(work.values[1])  # NaN token: skipped
    assert work.samples[0].size == 10 and work.samples[1].size == 0
    fail = rf.results["bench_demo.time_fail"]
    assert fail.values == (None,) and fail.samples[0].size == 0  # null: failed
    track = rf.results["bench_demo.Cached.track_len"]
    assert track.combos == (None,)
    np.testing.assert_array_equal(track.samples[0], [100.0])  # no samples: the value


def test_scan_reads_every_file_once_and_caches() -> None:
    first = scan_results_dir(DATA)
    assert sorted(f.commit_hash[:8] for f in first.files) == ["841eeac7", "85a7431b", "dbd25c3b"]
    assert list(first.machines) == ["ci-box"]
    second = scan_results_dir(DATA)
    assert all(a is b for a, b in zip(first.files, second.files, strict=True))


def test_unknown_machine_names_the_choices(results: Path) -> None:
    with pytest.raises(ResultsError, match="ci-box"):
        scan_results_dir(results, machine="other")


def test_missing_dir_and_empty_dir(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="does not exist"):
        scan_results_dir(tmp_path / "nope")
    (tmp_path / "benchmarks.json").write_text('{"version": 2}')
    with pytest.raises(ResultsError, match="no asv result files"):
        scan_results_dir(tmp_path)


def test_truncated_file_names_file(results: Path) -> None:
    path = _file(results, "841eeac7")
    path.write_text(path.read_text()[:500])
    with pytest.raises(ResultsFormatError) as info:
        scan_results_dir(results)
    assert info.value.path == path
    assert str(path) in str(info.value) and "truncated" in str(info.value)


def test_future_version_names_key_and_fix(results: Path) -> None:
    path = _file(results, "85a7431b")
    data = json.loads(path.read_text())
    data["version"] = 3
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsFormatError, match="'version'.*newer.*upgrade perfwatch"):
        load_results_file(path, "ci-box")


def test_old_version_says_asv_update(results: Path) -> None:
    path = _file(results, "85a7431b")
    data = json.loads(path.read_text())
    data["version"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsFormatError, match="asv update"):
        load_results_file(path, "ci-box")


@pytest.mark.parametrize("key", ["commit_hash", "result_columns", "results", "version"])
def test_missing_key_is_named(results: Path, key: str) -> None:
    path = _file(results, "85a7431b")
    data = json.loads(path.read_text())
    del data[key]
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsFormatError, match=f"key '{key}'"):
        load_results_file(path, "ci-box")


def test_result_length_mismatch(results: Path) -> None:
    path = _file(results, "85a7431b")
    data = json.loads(path.read_text())
    data["results"]["bench_demo.TimeSuite.time_work"][0] = [1.0]
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsFormatError, match="time_work.*one value per parameter"):
        load_results_file(path, "ci-box")


def test_missing_machine_json(results: Path) -> None:
    (results / "ci-box" / "machine.json").unlink()
    with pytest.raises(ResultsFormatError, match="machine.json"):
        scan_results_dir(results)


def test_future_benchmarks_json(results: Path) -> None:
    (results / "benchmarks.json").write_text('{"version": 9}')
    with pytest.raises(ResultsFormatError, match="benchmarks.json.*newer"):
        scan_results_dir(results)


def test_dir_without_benchmarks_json_is_not_a_results_dir(results: Path) -> None:
    (results / "benchmarks.json").unlink()
    with pytest.raises(ResultsError, match="no benchmarks.json, so it is not an asv results"):
        scan_results_dir(results)


def test_synthetic_writer_output_reads_the_same_in_asv(tmp_path: Path) -> None:
    """asv's own loader accepts perfwatch.synthetic's files and sees what we see."""
    from asv.results import Results

    from perfwatch.synthetic import build_suite

    suite = build_suite(tmp_path / "s", n_commits=3, plants=(), gaps=frozenset())
    ours = scan_results_dir(suite.results_dir)
    for rf in ours.files:
        theirs = Results.load(str(rf.path), machine_name="synthetic-box")
        assert theirs.commit_hash == rf.commit_hash
        for name, row in rf.results.items():
            params = [list(axis) for axis in ours.benchmarks[name].params]
            assert list(theirs.get_result_value(name, params)) == list(row.values)
            for got, want in zip(theirs.get_result_samples(name, params), row.samples,
                                 strict=True):
                np.testing.assert_array_equal(got, want)


def test_real_files_read_as_asv_reads_them() -> None:
    from asv.results import Results

    for rf in scan_results_dir(DATA).files:
        theirs = Results.load(str(rf.path), machine_name="ci-box")
        for name, row in rf.results.items():
            params = theirs.get_result_params(name)
            values = theirs.get_result_value(name, params)
            assert [None if v is None else repr(float(v)) for v in values] == [
                None if v is None else repr(v) for v in row.values]  # repr: nan == nan
            for got, want in zip(theirs.get_result_samples(name, params), row.samples,
                                 strict=True):
                if got is not None:
                    np.testing.assert_array_equal(got, want)
