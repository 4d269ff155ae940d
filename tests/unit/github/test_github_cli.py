"""``perfwatch comment`` and ``perfwatch gate`` wired end to end: compare JSON -> artifact ->
the fake GitHub server (in-process through ``cli.main`` and as a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_github import FakeGitHub
from github_helpers import BASE, HEAD, REPO, comparison

from perfwatch.analysis import CompareReport
from perfwatch.cli import main
from perfwatch.commands.compare import compare_document
from perfwatch.model import Direction, Verdict

PAYLOADS = Path(__file__).resolve().parents[2] / "data" / "github" / "payloads"


def _artifact(tmp_path: Path, *, verdict: Verdict = Verdict.REGRESSION,
              event: str = "pull_request.opened.json") -> Path:
    out = tmp_path / "artifact"
    assert main(["comment", "--artifact", str(out), "--prepare", str(PAYLOADS / event),
                 "--machine", "linux-x86-4c", "--base-fingerprint", "fp-a",
                 "--head-fingerprint", "fp-a"]) == 0
    report = CompareReport(base=BASE, head=HEAD, not_compared=(), comparisons=(
        comparison("bench.ingest.time_remux", verdict, 0.22),
        comparison("bench.ingest.time_index", Verdict.NO_CHANGE, 0.001, q=0.9)))
    (out / "compare.json").write_text(json.dumps(compare_document(report)))
    return out


def test_comment_posts_from_a_compare_json_artifact(
    tmp_path: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    art = _artifact(tmp_path)
    meta = json.loads((art / "pr.json").read_text())
    assert (meta["pr_number"], meta["head_sha"], meta["labels"]) == (2, HEAD, ["bug"])
    args = ["comment", "--artifact", str(art), "--repo", REPO, "--pr", "2",
            "--api-url", fake.url, "--write-interval", "0", "--workflow-run-event",
            str(PAYLOADS / "workflow_run.completed.with-pull-requests.json")]
    assert main(args) == 0
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "comment created" in out and "comment updated" in out
    [comment] = fake.comments_on(2)
    assert "1 confirmed regression" in comment["body"] and "time\\_remux" in comment["body"]
    [run] = fake.check_runs.values()
    assert (run["name"], run["conclusion"]) == ("perfwatch (linux-x86-4c)", "failure")
    assert fake.violations == []


def test_comment_refuses_an_artifact_of_another_pr(
    tmp_path: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    art = _artifact(tmp_path)
    assert main(["comment", "--artifact", str(art), "--repo", REPO, "--pr", "3",
                 "--api-url", fake.url, "--write-interval", "0"]) == 2
    assert "does not match" in capsys.readouterr().err
    assert fake.requests == []


def test_gate_exit_status_and_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    art = _artifact(tmp_path)
    assert main(["gate", "--artifact", str(art)]) == 1
    labeled = json.loads((PAYLOADS / "pull_request.opened.json").read_text())
    labeled.update(action="labeled", label={"name": "perf-regression-accepted"})
    labeled["pull_request"]["labels"].append({"name": "perf-regression-accepted"})
    event = tmp_path / "labeled.json"
    event.write_text(json.dumps(labeled))
    assert main(["gate", "--artifact", str(art), "--event", str(event)]) == 0
    assert "neutral: 1 confirmed regression, accepted by Codertocat" in capsys.readouterr().out
    clean = _artifact(tmp_path / "clean", verdict=Verdict.NO_CHANGE)
    assert main(["gate", "--artifact", str(clean)]) == 0


def test_gate_on_a_broken_artifact_exits_2(tmp_path: Path) -> None:
    (tmp_path / "compare.json").write_text("{not json")
    assert main(["gate", "--artifact", str(tmp_path)]) == 2


def test_comment_as_a_real_process(tmp_path: Path, fake: FakeGitHub) -> None:
    art = _artifact(tmp_path)
    env = {**os.environ, "GITHUB_TOKEN": fake.token}
    proc = subprocess.run(
        [sys.executable, "-m", "perfwatch", "comment", "--artifact", str(art), "--repo", REPO,
         "--api-url", fake.url, "--write-interval", "0"], env=env, capture_output=True, text=True, timeout=60,
        check=False)
    assert proc.returncode == 0, proc.stderr
    assert fake.token not in proc.stdout + proc.stderr
    assert len(fake.comments_on(2)) == 1


def test_comment_without_token_exits_2(tmp_path: Path, fake: FakeGitHub,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    art = _artifact(tmp_path)
    assert main(["comment", "--artifact", str(art), "--repo", REPO, "--api-url", fake.url, "--write-interval", "0"]) == 2
    assert "GITHUB_TOKEN is not set" in capsys.readouterr().err
    assert fake.requests == []


def test_prepare_reads_fingerprints_from_asv_results(tmp_path: Path) -> None:
    results = tmp_path / "results" / "linux-x86-4c"
    results.mkdir(parents=True)
    for sha, fp in ((BASE, "fp-old-host"), (HEAD, "fp-new-host")):
        doc = {"commit_hash": sha, "params": {"machine": "linux-x86-4c", "fingerprint": fp},
               "version": 2}
        (results / f"{sha[:8]}-virtualenv-py3.11.json").write_text(json.dumps(doc))
    out = tmp_path / "artifact"
    assert main(["comment", "--artifact", str(out), "--prepare",
                 str(PAYLOADS / "pull_request.synchronize.json"), "--machine", "linux-x86-4c",
                 "--base-sha", BASE, "--results-dir", str(tmp_path / "results")]) == 0
    meta = json.loads((out / "pr.json").read_text())
    assert (meta["base_fingerprint"], meta["head_fingerprint"]) == ("fp-old-host", "fp-new-host")
    assert main(["comment", "--artifact", str(out), "--prepare",
                 str(PAYLOADS / "pull_request.synchronize.json"), "--machine", "m",
                 "--base-sha", "HEAD~1"]) == 2


def test_comment_with_a_label_artifact_accepts_without_results(
    tmp_path: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    run_event = str(PAYLOADS / "workflow_run.completed.with-pull-requests.json")
    art = _artifact(tmp_path)
    assert main(["comment", "--artifact", str(art), "--repo", REPO, "--api-url", fake.url, "--write-interval", "0"]) == 0
    label_dir = tmp_path / "perfwatch-pr-label"
    label_dir.mkdir()
    labeled = json.loads((PAYLOADS / "pull_request.opened.json").read_text())
    labeled.update(action="labeled", label={"name": "perf-regression-accepted"})
    (label_dir / "event.json").write_text(json.dumps(labeled))
    fake.add_pull(2, head_sha=HEAD, base_sha=BASE, labels=("perf-regression-accepted",))
    args = ["comment", "--artifact", str(label_dir), "--repo", REPO, "--api-url", fake.url, "--write-interval", "0"]
    assert main(args) == 2  # a label artifact must come with its workflow_run event
    assert main([*args, "--workflow-run-event", run_event]) == 0
    assert "accepted by Codertocat; 1 check runs and 1 comments updated" in capsys.readouterr().out
    [run] = fake.check_runs.values()
    assert run["conclusion"] == "neutral"


def test_compare_json_keeps_what_the_pr_comment_shows() -> None:
    """compare --json -> artifact -> comment: direction and the noise note survive the trip."""
    from dataclasses import replace

    from perfwatch.prbot_artifact import comparison_from_json

    c = replace(comparison("bench.api.track_requests_per_second", Verdict.UNSURE, -0.08),
                direction=Direction.HIGHER_IS_BETTER, unit="requests/s",
                note="between-run noise from 3 runs per side, no history")
    report = CompareReport(base=BASE, head=HEAD, not_compared=(), comparisons=(c,))
    [item] = json.loads(json.dumps(compare_document(report)))["comparisons"]
    back = comparison_from_json(item)
    assert (back.direction, back.note) == (c.direction, c.note)
