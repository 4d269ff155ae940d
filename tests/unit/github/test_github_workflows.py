"""The GitHub Actions workflows: actionlint passes, and the privileged comment workflow never
checks out or runs the PR's code; the results branch takes appends from many runners."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"
RESULTS_SCRIPT = ROOT / ".github" / "scripts" / "results-branch.sh"
ACTIONLINT_HINT = "pip install -e '.[test]' (ships actionlint), or set ACTIONLINT=/path/to/it"


def _actionlint() -> str:
    found = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    if found is None:  # the venv's bin when tests run without activating it
        import sys

        candidate = Path(sys.executable).parent / "actionlint"
        found = str(candidate) if candidate.exists() else None
    assert found, f"actionlint not found: {ACTIONLINT_HINT}"
    return found


def _lint(*files: Path) -> subprocess.CompletedProcess[str]:
    # shellcheck/pyflakes integration off: the result must not depend on what else is installed
    return subprocess.run([_actionlint(), "-no-color", "-shellcheck=", "-pyflakes=",
                           "-config-file", str(ROOT / ".github" / "actionlint.yaml"),
                           *map(str, files)], capture_output=True, text=True, timeout=60,
                          check=False)


def _load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    return data


def _on(workflow: dict[Any, Any]) -> Any:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True


def test_every_workflow_passes_actionlint() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"tests.yml", "pr-benchmarks.yml", "pr-comment.yml",
                                       "main-benchmarks.yml"}
    proc = _lint(*files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_really_checks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.pull_request.title }}\n"
                   "      - uses: actions/checkout@v4\n        with:\n          nope: 1\n")
    proc = _lint(bad)
    assert proc.returncode == 1
    assert "potentially untrusted" in proc.stdout and "nope" in proc.stdout


def checkout_problems(workflow: dict[Any, Any]) -> list[str]:
    """Steps of a privileged workflow that would fetch or run the PR's code."""
    problems = []
    head_words = ("head_sha", "head_branch", "head_repository", "head.sha", "head.ref",
                  "pull_requests", "refs/pull/")
    for job_name, job in workflow["jobs"].items():
        for i, step in enumerate(job.get("steps", [])):
            where = f"{job_name} step {i + 1}"
            uses = str(step.get("uses", ""))
            with_ = step.get("with") or {}
            if uses.startswith("actions/checkout") and ("ref" in with_ or "repository" in with_):
                problems.append(f"{where}: checkout with ref/repository {with_}")
            text = f"{step.get('run', '')} {with_}"
            if any(w in text for w in head_words):
                problems.append(f"{where}: refers to the PR head")
            if any(cmd in str(step.get("run", "")) for cmd in
                   ("git fetch", "git checkout", "git switch", "git clone", "gh pr checkout")):
                problems.append(f"{where}: runs git to fetch code")
    return problems


def test_comment_workflow_never_checks_out_the_pr_head() -> None:
    workflow = _load("pr-comment.yml")
    assert list(_on(workflow)) == ["workflow_run"]
    assert checkout_problems(workflow) == []


def test_the_checkout_check_catches_a_pr_head_checkout() -> None:
    workflow = _load("pr-comment.yml")
    steps = workflow["jobs"]["comment"]["steps"]
    steps[0]["with"]["ref"] = "${{ github.event.workflow_run.head_sha }}"
    steps.append({"run": "git fetch origin pull/2/head && git checkout FETCH_HEAD"})
    assert len(checkout_problems(workflow)) == 3


def test_comment_workflow_has_least_privileges() -> None:
    workflow = _load("pr-comment.yml")
    assert workflow["permissions"] == {}
    job = workflow["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write",
                                  "checks": "write", "statuses": "write"}
    assert "workflow_run.conclusion == 'success'" in job["if"]
    run = "\n".join(str(s.get("run", "")) for s in job["steps"])
    assert "--workflow-run-event" in run  # the artifact is checked against its run


def test_pr_benchmarks_are_unprivileged_and_upload_the_artifact() -> None:
    text = (WORKFLOWS / "pr-benchmarks.yml").read_text()
    workflow = _load("pr-benchmarks.yml")
    assert list(_on(workflow)) == ["pull_request"]  # never pull_request_target
    assert workflow["permissions"] == {"contents": "read"}
    assert "secrets." not in text
    job = workflow["jobs"]["bench"]
    labels = [entry["runner"] for entry in job["strategy"]["matrix"]["include"]]
    assert all("self-hosted" in r and f"perf-{e['profile']}" in r
               for r, e in zip(labels, job["strategy"]["matrix"]["include"], strict=True))
    upload = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert upload and upload[0]["with"]["path"] == "artifact/"
    assert "--prepare" in text and "compare.json" in text


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True, timeout=60).stdout


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    _git(tmp_path, "clone", "-q", str(bare), str(seed))
    (seed / "README").write_text("x\n")
    _git(seed, "add", "README")
    _git(seed, "commit", "-q", "-m", "init")
    _git(seed, "push", "-q", "origin", "HEAD:main")
    return bare


def test_runners_append_to_the_results_branch_without_clobbering(tmp_path: Path,
                                                                 origin: Path) -> None:
    profiles = ["ci-2cpu", "gpu-l4", "gpu-t4", "baremetal-8core"]
    clones = []
    for p in profiles:  # every runner checks out before any pushes: all race
        clone = tmp_path / f"runner-{p}"
        _git(tmp_path, "clone", "-q", str(origin), str(clone))
        _run_script(clone, "checkout", "results")
        (clone / "results" / p).mkdir(parents=True)
        (clone / "results" / p / "abc12345-py3.11.json").write_text(f'{{"machine": "{p}"}}\n')
        clones.append(clone)
    results: list[subprocess.CompletedProcess[str]] = []
    threads = [threading.Thread(target=lambda c=c, p=p: results.append(
        _run_script(c, "push", "results", p, "results for abc"))) for c, p in zip(
        clones, profiles, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [r.returncode for r in results] == [0] * len(profiles), [r.stderr for r in results]
    files = _git(origin, "ls-tree", "-r", "--name-only", "perf-results").split()
    assert sorted(files) == sorted(f"{p}/abc12345-py3.11.json" for p in profiles)
    # a second round appends on top of the existing branch
    later = tmp_path / "runner-again"
    _git(tmp_path, "clone", "-q", str(origin), str(later))
    _run_script(later, "checkout", "results")
    (later / "results" / "gpu-l4" / "def67890-py3.11.json").write_text("{}\n")
    assert _run_script(later, "push", "results", "gpu-l4", "more").returncode == 0
    assert len(_git(origin, "ls-tree", "-r", "--name-only", "perf-results").split()) == 5


def _run_script(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESULTS_RETRY_SLEEP": "0", "RESULTS_ATTEMPTS": "20"}
    proc = subprocess.run(["bash", str(RESULTS_SCRIPT), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if args[0] == "checkout":
        assert proc.returncode == 0, proc.stderr
    return proc
