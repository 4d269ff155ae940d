from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfwatch.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "asv-example"
RESULTS = str(DATA / "results")
PYTEST_BENCH = DATA / "pytest-benchmark" / "benchmark.json"


def test_regression_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "841eeac7", "85a7431b", "--results-dir", RESULTS]) == 1
    out = capsys.readouterr().out
    first = out.splitlines()[4]
    assert first.split()[0] == "regression"  # regressions first
    assert "bench_demo.TimeSuite.time_work(1000)" in out


def test_no_regression_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "85a7431b", "dbd25c3b", "--results-dir", RESULTS]) == 0
    out = capsys.readouterr().out
    assert "not compared: bench_demo.TimeSuite.time_work(5000) on ci-box: skipped at head" in out


def test_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "841eeac7", "85a7431b", "--results-dir", RESULTS, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == 1
    assert doc["base"] == "841eeac72bf4d479a5a919e48d45e9a020964ae3"
    verdicts = [c["verdict"] for c in doc["comparisons"]]
    assert verdicts[:3] == ["regression"] * 3 and "regression" not in verdicts[3:]
    first = doc["comparisons"][0]
    assert {"benchmark", "params", "machine", "verdict", "rel_change", "ci", "pvalue",
            "qvalue", "extra_runs"} <= set(first)


def test_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "841eeac7", "85a7431b", "--results-dir", RESULTS,
                 "--markdown"]) == 1
    out = capsys.readouterr().out
    assert "time\\_work" in out or "time_work" in out
    assert "841eeac7" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["compare", "0000", "85a7431b", "--results-dir", RESULTS], "no results for commit '0000'"),
        (["compare", "841eeac7", "85a7431b"], "--results-dir is required"),
        (["compare", "841eeac7", "85a7431b", "--results-dir", RESULTS, "--machine", "x"],
         "no results for machine 'x'"),
    ],
)
def test_unusable_input_exit_2(argv: list[str], words: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and words in err


def test_corrupt_results_exit_2_naming_file(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    shutil.copytree(DATA / "results", tmp_path / "r")
    bad = next((tmp_path / "r" / "ci-box").glob("85a7431b*.json"))
    bad.write_text(bad.read_text()[:-40])
    assert main(["compare", "841eeac7", "85a7431b", "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and str(bad) in err


def _scaled(tmp_path: Path, factor: float) -> Path:
    data = json.loads(PYTEST_BENCH.read_text())
    for b in data["benchmarks"]:
        b["stats"]["data"] = [x * factor for x in b["stats"]["data"]]
    out = tmp_path / f"x{factor}.json"
    out.write_text(json.dumps(data))
    return out


def test_pytest_benchmark_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slower = _scaled(tmp_path, 1.5)
    argv = ["compare", "--pytest-benchmark", str(PYTEST_BENCH), str(slower), "--json"]
    assert main(argv) == 1
    doc = json.loads(capsys.readouterr().out)
    labels = {(c["benchmark"], tuple(c["params"] or ())): c["verdict"] for c in doc["comparisons"]}
    assert labels[("test_b.py::test_sorted", ())] == "regression"
    assert ("test_b.py::test_sum", ("100",)) in labels
    assert main(["compare", "--pytest-benchmark", str(PYTEST_BENCH), str(PYTEST_BENCH)]) == 0


def test_pytest_benchmark_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"benchmarks": [], "version": "9.0"}')
    assert main(["compare", "--pytest-benchmark", str(PYTEST_BENCH), str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "9.0" in err
