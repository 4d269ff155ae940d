"""py-spy hook on a live process tree, and the self-time diff on real speedscope files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfwatch.cli import main
from perfwatch.errors import ProfilingError
from perfwatch.harness.profile_diff import (
    diff_profiles,
    function_key,
    load_speedscope,
    parse_speedscope,
)
from perfwatch.harness.profiling import PySpy
from perfwatch.harness.runner import run_once

DATA = Path(__file__).parent / "data" / "speedscope"


def test_diff_names_the_planted_copy() -> None:
    base = load_speedscope(DATA / "copies-0.speedscope.json")
    head = load_speedscope(DATA / "copies-40.speedscope.json")
    rows = diff_profiles(base, head, top=3)
    assert rows[0].function == "copy_packet (bench/workload.py)"
    assert rows[0].share_a == 0.0 and rows[0].delta > 0.2
    assert {r.function for r in rows} >= {"handle_packet (bench/workload.py)"}
    assert diff_profiles(base, base, top=3)[0].delta == 0.0
    slower = diff_profiles(base, head, top=5, slower_only=True)
    assert slower[0].function == "copy_packet (bench/workload.py)"
    assert all(r.delta > 0 for r in slower)


def test_include_filters_and_order_is_deterministic() -> None:
    base = load_speedscope(DATA / "copies-0.speedscope.json")
    head = load_speedscope(DATA / "copies-40.speedscope.json")
    rows = diff_profiles(base, head, top=50, include=r"frozen")
    assert rows and all("frozen" in r.function for r in rows)
    assert rows == diff_profiles(base, head, top=50, include=r"frozen")


def test_self_time_counts_leaves_only_and_skips_process_roots() -> None:
    doc = {"shared": {"frames": [
        {"name": 'process 1:"python x"', "file": "", "line": 0},
        {"name": "outer", "file": "/a/site-packages/recorder/ingest.py", "line": 1},
        {"name": "inner", "file": "/tmp/x/recorder/src/recorder/ingest.py", "line": 9},
    ]}, "profiles": [
        {"type": "sampled", "samples": [[0, 1, 2], [0, 1], [0]], "weights": [3, 1, 5]},
    ]}
    prof = parse_speedscope(doc)
    assert prof.total == 4.0
    assert prof.share("inner (recorder/ingest.py)") == 0.75
    assert prof.share("outer (recorder/ingest.py)") == 0.25


def test_function_keys_match_across_checkouts() -> None:
    assert function_key("f", "/x/lib/site-packages/recorder/a.py") == \
        function_key("f", "/tmp/perfwatch-src-1/recorder/src/recorder/a.py") == "f (recorder/a.py)"
    assert function_key("f", "recorder/a.py") == "f (recorder/a.py)"


def test_bad_profiles_are_profiling_errors(tmp_path: Path) -> None:
    with pytest.raises(ProfilingError, match="not a speedscope"):
        parse_speedscope({"profiles": []})
    with pytest.raises(ProfilingError, match="not supported"):
        parse_speedscope({"shared": {"frames": []}, "profiles": [{"type": "evented"}]})
    bad = tmp_path / "p.json"
    bad.write_text("{")
    with pytest.raises(ProfilingError, match="cannot read"):
        load_speedscope(bad)


def test_cli_diff_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["profile", "--diff", str(DATA / "copies-0.speedscope.json"),
                 str(DATA / "copies-40.speedscope.json"), "--top", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[1].startswith("copy_packet (bench/workload.py)") and lines[1].endswith("pp")


@pytest.mark.skipif(os.geteuid() != 0, reason="py-spy needs ptrace rights (root) to attach")
def test_pyspy_hook_records_a_process_tree(tmp_path: Path) -> None:
    workload = [sys.executable, str(DATA / "workload.py"), "2", "40"]
    spies: list[PySpy] = []

    def hook(pid: int) -> PySpy:
        spies.append(PySpy(pid, tmp_path, name="w", rate=200))
        return spies[-1]

    result = run_once(workload, hook=hook, timeout=60)
    assert result.returncode == 0
    spy = spies[0]
    assert set(spy.artifacts) == {"speedscope", "flamegraph"}
    assert spy.artifacts["flamegraph"].read_text().lstrip().startswith("<?xml")
    doc = json.loads(spy.artifacts["speedscope"].read_text())
    assert len(doc["profiles"]) >= 2  # parent and child process
    prof = parse_speedscope(doc)
    assert prof.share("copy_packet (speedscope/workload.py)") > 0.05
    assert spy.metadata()["profile_speedscope"].endswith(".speedscope.json")


def test_pyspy_reports_a_process_it_cannot_attach_to(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    with pytest.raises(ProfilingError, match="could not attach|wrote no"), \
            PySpy(proc.pid, tmp_path, name="gone"):
        pass


def test_process_filter_keeps_one_process_of_the_tree() -> None:
    parent = r'workload\.py 3 (0|40)"'
    base = load_speedscope(DATA / "copies-0.speedscope.json", process=parent)
    head = load_speedscope(DATA / "copies-40.speedscope.json", process=parent)
    everything = load_speedscope(DATA / "copies-40.speedscope.json")
    assert 0 < head.total < everything.total
    assert base.share("child_work (bench/workload.py)") == 0.0  # the child is filtered out
    top = diff_profiles(base, head, top=1)[0]
    assert top.function == "copy_packet (bench/workload.py)"
    assert top.share_b > everything.share("copy_packet (bench/workload.py)")
