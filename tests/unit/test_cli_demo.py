from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfwatch import demo


def test_demo_finds_what_was_planted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    planted = [line for line in out.splitlines() if line.startswith("  planted ")]
    assert len(planted) == 5
    assert not any("MISSED" in line or "WRONG" in line for line in planted)
    assert "unexpected:" not in out
    assert "spike x1.3" in out and "not reported (right)" in out
    root = tmp_path / "synthetic"
    assert json.loads((root / "detect.json").read_text())["version"] == 1
    assert (root / "pr-comment.md").read_text().strip()
    assert f"PR comment       {root / 'pr-comment.md'}" in out
    # a second run replaces the first
    assert demo.main(["--root", str(tmp_path)]) == 0
