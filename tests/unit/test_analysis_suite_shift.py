"""Suite-wide shifts: reported once, while a lone change at the same commit stays listed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from perfwatch.analysis import detect_history, load_history, measured_positions
from perfwatch.cli import main
from perfwatch.model import Change, SeriesKey
from perfwatch.suite_shifts import mark_suite_shifts, suite_shifts
from perfwatch.synthetic import BenchSpec, Plant, SyntheticSuite, build_suite

_SHIFTED = tuple(f"env.time_{c}" for c in "abcdefg")  # 7 of the 10 series
_SPECS = (*(BenchSpec(n, "time", "seconds", 0.01) for n in _SHIFTED),
          BenchSpec("code.time_lone", "time", "seconds", 0.02),
          BenchSpec("code.time_quiet", "time", "seconds", 0.03),
          BenchSpec("code.time_other", "time", "seconds", 0.04))
_AT = 20


@pytest.fixture(scope="module")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSuite:
    plants = (*(Plant(n, None, _AT, 0.7) for n in _SHIFTED),
              Plant("code.time_lone", None, _AT, 1.25))  # the other way: a real regression
    return build_suite(tmp_path_factory.mktemp("shift"), n_commits=40, specs=_SPECS,
                       plants=plants, gaps=frozenset({5, 30}))


def test_suite_shift_marked_and_lone_change_kept(shifted: SyntheticSuite,
                                                 rng: np.random.Generator) -> None:
    h = load_history(shifted.results_dir, shifted.repo, branch=None, machine=None)
    changes = detect_history(h, rng=rng)
    members = [c for c in changes if c.suite_shift]
    assert sorted(c.key.benchmark for c in members) == list(_SHIFTED)
    assert {c.suite_shift for c in members} == {shifted.commits[_AT]}
    (lone,) = [c for c in changes if not c.suite_shift]
    assert lone.key.benchmark == "code.time_lone" and lone.direction == "regression"
    assert lone.commit == shifted.commits[_AT]
    (shift,) = suite_shifts(changes, measured_positions(h))
    assert (shift.commit, shift.previous_commit) == (shifted.commits[_AT], shifted.commits[_AT - 1])
    assert shift.series == 7 and shift.measured_series == 10
    assert shift.direction == "improvement" and shift.median_rel_change == pytest.approx(-0.3, abs=0.03)


def test_cli_prints_the_shift_once(shifted: SyntheticSuite, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.json"
    argv = ["detect", "--results-dir", str(shifted.results_dir), "--repo", str(shifted.repo)]
    assert main([*argv, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 change (1 regression, 0 improvements) and 1 suite-wide shift in 10 series" in text
    lines = [ln for ln in text.splitlines() if "suite-wide shift at" in ln]
    assert len(lines) == 1 and "7 of 10 series, median -3" in lines[0]
    assert "environment change" in lines[0] and shifted.commits[_AT][:8] in lines[0]
    assert "code.time_lone" in text and "env.time_a" not in text
    doc = json.loads(out.read_text())
    assert len(doc["changes"]) == 8  # the contract's per-series list is complete
    assert sum("suite_shift" in c for c in doc["changes"]) == 7
    (s,) = doc["suite_shifts"]
    assert s["commit"] == shifted.commits[_AT] and s["series"] == 7 and s["machine"] == "synthetic-box"


def _change(name: str, machine: str, index: int, rel: float) -> Change:
    return Change(SeriesKey(name, None, machine), "seconds", f"{index:040x}",
                  f"{index - 1:040x}", "improvement" if rel < 0 else "regression", rel,
                  (rel - 0.01, rel + 0.01), 1e-6, 1e-5, index)


def test_shifts_are_per_machine_and_need_a_majority() -> None:
    measured = {SeriesKey(f"b{i}", None, m): list(range(30)) for i in range(8) for m in "xy"}
    on_x = [_change(f"b{i}", "x", 10 + i % 2, -0.3) for i in range(5)]  # 5 of 8 on x
    on_y = [_change(f"b{i}", "y", 10, -0.3) for i in range(3)]  # 3 of 8 on y: coincidence
    marked = mark_suite_shifts(on_x + on_y, measured)
    assert [c.suite_shift is not None for c in marked] == [True] * 5 + [False] * 3
    assert {c.suite_shift for c in marked[:5]} == {f"{10:040x}"}  # most members' commit
    (shift,) = suite_shifts(marked)
    assert shift.machine == "x" and shift.series == 5
