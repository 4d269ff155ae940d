"""The run record: which samples of a result file each asv invocation added.

Result files are written the way asv 0.6 writes them (``--append-samples`` concatenates
the samples of a later run onto the earlier ones and sets a new ``started_at``).
"""

from __future__ import annotations

import json
from pathlib import Path

from perfwatch.adapters.asv_results import load_results_file
from perfwatch.harness.run_record import note_invocation, record_path, run_bounds, snapshot

COLUMNS = ["result", "params", "version", "started_at", "duration", "samples"]
SHA = "1a2b3c4d" + "0" * 32
NAME = "bench_x.X.time_x"


def _write(path: Path, samples: list[list[float]], started_at: int) -> None:
    row = [[s[0] for s in samples], [[f"'{i}'" for i in range(len(samples))]], "1",
           started_at, 1.0, samples]
    path.write_text(json.dumps({
        "commit_hash": SHA, "env_name": "existing-py", "date": 1, "params": {},
        "result_columns": COLUMNS, "results": {NAME: row}, "version": 2,
    }))


def _invoke(path: Path, samples: list[list[float]], started_at: int, *, append: bool) -> None:
    before = snapshot(path, "m")
    _write(path, samples, started_at)
    note_invocation(path, "m", SHA, before, append=append)


def _file(tmp_path: Path) -> Path:
    folder = tmp_path / "results" / "m"
    folder.mkdir(parents=True)
    return folder / f"{SHA[:8]}-existing-py.json"


def test_three_appended_rounds_are_three_runs(tmp_path: Path) -> None:
    path = _file(tmp_path)
    _invoke(path, [[1.0, 1.1], [2.0]], 100, append=False)
    _invoke(path, [[1.0, 1.1, 1.2, 1.3], [2.0, 2.1]], 200, append=True)
    _invoke(path, [[1.0, 1.1, 1.2, 1.3, 1.4], [2.0, 2.1, 2.2]], 300, append=True)
    assert record_path(path) == tmp_path / "results/.perfwatch/runs/m/1a2b3c4d-existing-py.runs"
    bounds = run_bounds(load_results_file(path, "m"))
    assert bounds == {(NAME, 0): (2, 4, 5), (NAME, 1): (1, 2, 3)}


def test_a_plain_rerun_starts_over(tmp_path: Path) -> None:
    path = _file(tmp_path)
    _invoke(path, [[1.0, 1.1]], 100, append=False)
    _invoke(path, [[1.0, 1.1, 1.2]], 200, append=True)
    _invoke(path, [[5.0, 5.1]], 300, append=False)  # asv run without --append-samples
    assert run_bounds(load_results_file(path, "m")) == {}  # one run: no bounds
    _invoke(path, [[5.0, 5.1, 5.2, 5.3]], 400, append=True)
    assert run_bounds(load_results_file(path, "m")) == {(NAME, 0): (2, 4)}


def test_samples_rewritten_outside_perfwatch_run_are_ignored(tmp_path: Path) -> None:
    path = _file(tmp_path)
    _invoke(path, [[1.0, 1.1]], 100, append=False)
    _invoke(path, [[1.0, 1.1, 1.2, 1.3]], 200, append=True)
    assert run_bounds(load_results_file(path, "m"))
    _write(path, [[7.0, 7.1, 7.2, 7.3]], 900)  # plain asv run, same number of samples
    assert run_bounds(load_results_file(path, "m")) == {}
    _write(path, [[1.0, 1.1, 1.2]], 200)  # same started_at, samples lost
    assert run_bounds(load_results_file(path, "m")) == {}


def test_appending_onto_unrecorded_samples_records_nothing(tmp_path: Path) -> None:
    path = _file(tmp_path)
    _write(path, [[1.0, 1.1]], 100)  # a run perfwatch did not see
    _invoke(path, [[1.0, 1.1, 1.2]], 200, append=True)
    _invoke(path, [[1.0, 1.1, 1.2, 1.3]], 300, append=True)
    assert run_bounds(load_results_file(path, "m")) == {}


def test_a_benchmark_not_run_keeps_its_runs(tmp_path: Path) -> None:
    path = _file(tmp_path)
    _invoke(path, [[1.0], [2.0]], 100, append=False)
    _invoke(path, [[1.0, 1.1], [2.0, 2.1]], 200, append=True)
    before = snapshot(path, "m")
    note_invocation(path, "m", SHA, before, append=False)  # e.g. --bench selected others
    assert run_bounds(load_results_file(path, "m")) == {(NAME, 0): (1, 2), (NAME, 1): (1, 2)}


def test_a_damaged_record_is_ignored(tmp_path: Path) -> None:
    path = _file(tmp_path)
    _invoke(path, [[1.0]], 100, append=False)
    _invoke(path, [[1.0, 1.1]], 200, append=True)
    record_path(path).write_text("{not json")
    assert run_bounds(load_results_file(path, "m")) == {}


def test_an_unreadable_result_file_records_nothing(tmp_path: Path) -> None:
    path = _file(tmp_path)
    path.write_text('{"version": 2, "results": ')  # asv killed mid-write
    assert note_invocation(path, "m", SHA, {}, append=False) is None
    assert not record_path(path).exists()
