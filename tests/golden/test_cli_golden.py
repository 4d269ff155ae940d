"""Golden tests: the whole output of perfwatch commands against files in expected/.

Like pyperf's tests/test_perf_cli.py, each case runs the real CLI and compares stdout,
stderr and the exit status as one text; JSON documents are compared with floats rounded to
6 significant digits. After an intended change of the output,
regenerate the files and review the diff:

    PERFWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/golden
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from perfwatch.cli import main
from perfwatch.synthetic import SyntheticSuite, build_suite

EXPECTED = Path(__file__).parent / "expected"
ASV_RESULTS = Path(__file__).resolve().parents[1] / "data" / "asv-example" / "results"
UPDATE = os.environ.get("PERFWATCH_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSuite:
    return build_suite(tmp_path_factory.mktemp("golden") / "s")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], *, root: Path | None) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    text = (f"$ perfwatch {' '.join(argv)}\n[exit {code}]\n--- stdout\n{captured.out}"
            f"--- stderr\n{captured.err}")
    return text.replace(str(root), "<ROOT>") if root else text


def _rounded(value: Any) -> Any:
    """Floats to 6 significant digits: the contract's shape and numbers, not float noise."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _json_text(text: str) -> str:
    return json.dumps(_rounded(json.loads(text)), indent=2) + "\n"


def _check(name: str, actual: str) -> None:
    path = EXPECTED / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"expected/{name}", "actual"))
        pytest.fail(f"output differs from {path} (PERFWATCH_UPDATE_GOLDEN=1 regenerates):\n"
                    f"{diff}")


def test_detect_table(suite: SyntheticSuite, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["detect", "--results-dir", str(suite.results_dir), "--repo", str(suite.repo)]
    _check("detect_synthetic.txt", _run(argv, capsys, root=suite.repo.parent))


def test_detect_json(suite: SyntheticSuite, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "changes.json"
    argv = ["detect", "--results-dir", str(suite.results_dir), "--repo", str(suite.repo),
            "--json", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    _check("detect_synthetic.json", _json_text(out.read_text(encoding="utf-8")))


def test_compare_pr_with_refs(suite: SyntheticSuite, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", suite.commits[13][:10], suite.commits[14][:10], "--results-dir",
            str(suite.results_dir), "--repo", str(suite.repo)]
    _check("compare_synthetic.txt", _run(argv, capsys, root=suite.repo.parent))


def test_compare_asv_example_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", "841eeac7", "85a7431b", "--results-dir", str(ASV_RESULTS)]
    _check("compare_asv_example.txt", _run(argv, capsys, root=ASV_RESULTS))


def test_compare_asv_example_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", "85a7431b", "dbd25c3b", "--results-dir", str(ASV_RESULTS), "--json"]
    assert main(argv) == 0
    _check("compare_asv_example.json", _json_text(capsys.readouterr().out))


def test_detect_corrupt_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = build_suite(tmp_path / "c", n_commits=4, plants=(), gaps=frozenset())
    bad = next((s.results_dir / s.machines[0]).glob(f"{s.commits[1][:8]}-*.json"))
    bad.write_text(bad.read_text()[:300])
    argv = ["detect", "--results-dir", str(s.results_dir), "--repo", str(s.repo)]
    _check("detect_truncated.txt", _run(argv, capsys, root=tmp_path))
