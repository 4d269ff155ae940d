"""`perfwatch run --python=same` end to end on a throwaway asv project (real git, real asv).

The project's ``recorder`` differs between its two commits; the run exports each
commit's sources, so the samples must say which commit they measured. HOME is a
temporary directory, so asv's machine file is the test's own.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from perfwatch.adapters.asv_results import load_results_file
from perfwatch.cli import main
from perfwatch.harness.check import fingerprint
from perfwatch.harness.host import detect_host
from perfwatch.harness.render import profile_from_host, render_profile
from perfwatch.harness.run_record import run_bounds

BENCH = '''
import os
import subprocess
import sys
from pathlib import Path

import recorder


def child_value():
    """recorder.VALUE as a child process sees it (as benchmarks/procs.child_env sets up)."""
    env = dict(os.environ, PYTHONPATH=str(Path(recorder.__file__).resolve().parents[1]))
    code = "import recorder; print(recorder.VALUE)"
    return float(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                capture_output=True, text=True).stdout)


class Tiny:
    def track_value(self):
        return {"samples": [float(recorder.VALUE)] * 2 + [child_value()], "number": 1}

    track_value.unit = "units"
'''
CONF = {
    "version": 1, "project": "tiny", "repo": ".", "repo_subdir": "recorder",
    "branches": ["main"], "environment_type": "virtualenv", "benchmark_dir": "benchmarks",
    "env_dir": ".asv/env", "results_dir": ".asv/results", "html_dir": ".asv/html",
}


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00",
           "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    root = tmp_path / "proj"
    pkg = root / "recorder/src/recorder"
    pkg.mkdir(parents=True)
    (root / "recorder/pyproject.toml").write_text('[project]\nname = "recorder"\nversion = "0"\n')
    (root / "benchmarks").mkdir()
    (root / "benchmarks/__init__.py").write_text("")
    (root / "benchmarks/bench_tiny.py").write_text(BENCH)
    (root / "asv.conf.json").write_text(json.dumps(CONF))
    _git(root, "init", "-q", "-b", "main")
    for value in (1, 2):
        (pkg / "__init__.py").write_text(f"VALUE = {value}\n")
        _git(root, "add", ".")
        _git(root, "commit", "-q", "-m", f"value {value}")
    hw = tmp_path / "hw"
    hw.mkdir()
    (hw / "here.toml").write_text(render_profile(profile_from_host(detect_host(), "here")))
    return root


def _results(root: Path) -> dict[str, dict[str, object]]:
    out = {}
    for path in (root / ".asv/results/here").glob("*-existing-*.json"):
        data = json.loads(path.read_text())
        out[data["commit_hash"]] = data
    return out


def test_interleaved_same_python_run_measures_each_commit(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--config", str(project / "asv.conf.json"), "--python=same", "--profile",
            "here", "--hardware-dir", str(project.parent / "hw"), "--interleave", "2"]
    assert main([*args, "HEAD~1", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "round 2/2" in out and "track_value" in out  # asv progress passed through
    results = _results(project)
    shas = _git(project, "rev-list", "--reverse", "HEAD").split()
    assert set(results) == set(shas)
    for value, sha in enumerate(shas, start=1):
        row = results[sha]["results"]["bench_tiny.Tiny.track_value"]  # type: ignore[index]
        # 3 samples per round (the last from a child process), 2 rounds appended
        assert row[11] == [[float(value)] * 6]
    # the run record says which samples each round added
    for path in (project / ".asv/results/here").glob("*-existing-*.json"):
        bounds = run_bounds(load_results_file(path, "here"))
        assert bounds == {("bench_tiny.Tiny.track_value", 0): (3, 6)}
    fp = fingerprint(detect_host())
    machine = json.loads((project / ".asv/results/here/machine.json").read_text())
    assert machine["fingerprint"] == fp
    assert results[shas[0]]["params"]["fingerprint"] == fp  # type: ignore[index]


def test_drifted_runner_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    machine = project / ".asv/results/here/machine.json"
    machine.parent.mkdir(parents=True)
    machine.write_text(json.dumps({"machine": "here", "fingerprint": "0123456789abcdef"}))
    code = main(["run", "--config", str(project / "asv.conf.json"), "--python=same",
                 "--profile", "here", "--hardware-dir", str(project.parent / "hw"), "HEAD"])
    err = capsys.readouterr().err
    assert code == 2
    assert "fingerprint 0123456789abcdef" in err and "drifted" in err
    assert len(err.strip().splitlines()) == 1


def test_host_that_is_not_the_profile_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--config", str(project / "asv.conf.json"), "--python=same",
                 "--profile", "gpu-l4", "HEAD"])
    err = capsys.readouterr().err
    assert code == 2 and "gpu.model_pattern" in err and "not hardware profile 'gpu-l4'" in err
