"""The tier/summary/leftover plugins, run on a small planted suite in a pytest subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

PLANTED = {
    "tests/integration/test_a.py": '''
import pytest

def test_ok(record_property):
    record_property("scenario", "planted cut")
    record_property("recovery_s", 1.25)
    record_property("data_loss", 0)

def test_bad():
    assert 1 == 2, "planted failure"

@pytest.mark.skip(reason="planted skip")
def test_skip():
    pass
''',
    "tests/load/test_b.py": '''
import pytest

@pytest.mark.load
def test_load():
    pass
''',
    "tests/failure/test_c.py": '''
import pytest

pytestmark = pytest.mark.failure

def test_fault():
    pass
''',
    "tests/unit/test_d.py": '''
import os, subprocess, sys

def test_leaks_a_child():
    if os.environ.get("PLANT_LEAK"):
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
''',
}


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    for rel, text in PLANTED.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    load: x\n    failure: y\n")
    full_env = {**os.environ, "PYTHONPATH": str(TESTS), "PERFWATCH_ARTIFACTS": str(tmp_path / "out")}
    full_env.pop("INJECT_FAILURES", None)
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    full_env.update(env or {})
    plugins = ["-p", "conftest_plugins.tiers", "-p", "conftest_plugins.leftovers",
               "-p", "conftest_plugins.summary"]
    return subprocess.run([sys.executable, "-m", "pytest", *plugins, "-p", "no:cacheprovider",
                           *args, "tests"], cwd=tmp_path, env=full_env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_junit_per_tier_summary_and_leftovers(tmp_path: Path) -> None:
    done = _run(tmp_path, env={"PERFWATCH_LEFTOVERS": "fail", "PLANT_LEAK": "1"})
    out = tmp_path / "out"
    assert done.returncode == 1, done.stdout
    assert sorted(p.name for p in out.glob("junit-*.xml")) == [
        "junit-failure.xml", "junit-integration.xml", "junit-unit.xml"]
    suite = ET.parse(out / "junit-integration.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["recovery_s"] == "1.25"
    failure = ET.parse(out / "junit-failure.xml").getroot().find("testcase/skipped")
    assert failure is not None and "INJECT_FAILURES=true" in (failure.get("message") or "")
    summary = (out / "summary.md").read_text()
    assert "| integration | 1 | 1 | 1 |" in summary
    assert "| planted cut | 1.25 s | 0 | passed |" in summary
    assert "planted failure" in summary
    assert "child processes" in summary  # the leaked sleep was found (and killed)
    assert "load" not in {p.stem.removeprefix("junit-") for p in out.glob("junit-*.xml")}
    assert "recovery 1.25 s, data loss 0" in done.stdout


def test_load_runs_with_m_load_and_failure_with_inject(tmp_path: Path) -> None:
    done = _run(tmp_path, "-m", "load")
    assert "1 passed" in done.stdout, done.stdout
    done = _run(tmp_path, "-m", "failure", env={"INJECT_FAILURES": "true"})
    suite = ET.parse(tmp_path / "out" / "junit-failure.xml").getroot()
    assert suite.get("skipped") == "0" and suite.get("tests") == "1"
