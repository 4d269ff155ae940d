"""The situations docs/troubleshooting.md documents, each set up with real files.

Every case writes what it needs under ``tmp`` (a synthetic asv history, a git repository,
hardware profiles, a PR artifact) and returns the ``perfwatch`` command line that meets
the documented message. ``anchor`` is the GitHub anchor of the entry in the page.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from perfwatch.cli import main
from perfwatch.synthetic import SyntheticSuite

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ROOT / "tests" / "data" / "github" / "payloads"
REPO_NAME = "octo-org/perf-demo"  # the repository of the recorded webhook payloads
PR_NUMBER = 2


@dataclass(frozen=True)
class Env:
    """What a case gets: a scratch directory and one shared synthetic history."""

    tmp: Path
    suite: SyntheticSuite
    api_url: str = ""  # the fake GitHub server, for the GitHub cases


@dataclass(frozen=True)
class Case:
    anchor: str
    build: Callable[[Env], list[str]]
    exit_code: int = 2
    github: str = ""  # "", "no-token", "primary", "forbidden": how the fake GitHub answers
    env: dict[str, str] = field(default_factory=dict)


def _perfwatch_stdout(argv: list[str], *, ok: tuple[int, ...]) -> str:
    """Run a set-up step through the real CLI (in this process) and return its stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    assert code in ok, f"set-up step perfwatch {' '.join(argv)} exited {code}"
    return out.getvalue()


def _detect(e: Env, **over: str) -> list[str]:
    args = {"--results-dir": str(e.suite.results_dir), "--repo": str(e.suite.repo), **over}
    return ["detect", *(x for kv in args.items() for x in kv)]


def _copy_results(e: Env) -> Path:
    out = e.tmp / "results"
    subprocess.run(["cp", "-r", str(e.suite.results_dir), str(out)], check=True)
    return out


def _one_result_file(results: Path, e: Env) -> Path:
    machine = e.suite.machines[0]
    return next((results / machine).glob(f"{e.suite.commits[3][:8]}-*.json"))


def corrupt_results(e: Env) -> list[str]:
    results = _copy_results(e)
    path = _one_result_file(results, e)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # truncated mid-write
    return _detect(e, **{"--results-dir": str(results)})


def _with_version(e: Env, version: int) -> list[str]:
    results = _copy_results(e)
    path = _one_result_file(results, e)
    data = json.loads(path.read_text())
    data["version"] = version
    path.write_text(json.dumps(data))
    return _detect(e, **{"--results-dir": str(results)})


def future_results(e: Env) -> list[str]:
    return _with_version(e, 3)


def old_results(e: Env) -> list[str]:
    return _with_version(e, 1)


def no_results_dir(e: Env) -> list[str]:
    return _detect(e, **{"--results-dir": str(e.tmp / "no-such-dir")})


def not_results_dir(e: Env) -> list[str]:
    (e.tmp / "empty").mkdir()
    return _detect(e, **{"--results-dir": str(e.tmp / "empty")})


def no_result_files(e: Env) -> list[str]:
    (e.tmp / "fresh").mkdir()
    shutil.copy(e.suite.results_dir / "benchmarks.json", e.tmp / "fresh")
    return _detect(e, **{"--results-dir": str(e.tmp / "fresh")})


def ambiguous_sha(e: Env) -> list[str]:
    firsts = [sha[0] for sha in e.suite.commits]
    prefix = next(c for c in firsts if firsts.count(c) > 1)  # the history is seeded
    return ["compare", prefix, e.suite.commits[-1][:10], "--results-dir",
            str(e.suite.results_dir)]


def unknown_machine(e: Env) -> list[str]:
    return _detect(e, **{"--machine": "gpu-l4"})


def not_a_repo(e: Env) -> list[str]:
    (e.tmp / "plain").mkdir()
    return _detect(e, **{"--repo": str(e.tmp / "plain")})


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
                   cwd=repo, check=True, capture_output=True)


def other_repo(e: Env) -> list[str]:
    repo = e.tmp / "other"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README").write_text("not the benchmarked project\n")
    _git(repo, "add", "README")
    _git(repo, "commit", "-q", "-m", "unrelated")
    return _detect(e, **{"--repo": str(repo)})


def commits_off_branch(e: Env) -> list[str]:
    """The repository lacks the newest commits that have results (a stale clone)."""
    repo = e.tmp / "stale"
    subprocess.run(["git", "clone", "-q", str(e.suite.repo), str(repo)], check=True)
    _git(repo, "reset", "-q", "--hard", "HEAD~2")
    return _detect(e, **{"--repo": str(repo)})


def unknown_commit(e: Env) -> list[str]:
    return ["compare", "0123abcd", "HEAD", "--results-dir", str(e.suite.results_dir),
            "--repo", str(e.suite.repo)]


def no_results_for_commit(e: Env) -> list[str]:
    return ["compare", "0123abcd", e.suite.commits[-1][:10], "--results-dir",
            str(e.suite.results_dir)]


def missing_results_dir_option(e: Env) -> list[str]:
    return ["compare", "HEAD~1", "HEAD"]


def merge_base_needs_repo(e: Env) -> list[str]:
    return ["compare", "--merge-base", e.suite.commits[1], e.suite.commits[2],
            "--results-dir", str(e.suite.results_dir)]


def _pytest_benchmark_file(path: Path, version: str) -> Path:
    data = {"version": version, "machine_info": {"node": "box"}, "commit_info": {},
            "datetime": "2026-11-26T00:00:00", "benchmarks": [
                {"name": "test_x", "fullname": "t.py::test_x",
                 "stats": {"median": 0.001, "data": [0.001, 0.0011, 0.00105]}}]}
    path.write_text(json.dumps(data))
    return path


def corrupt_pytest_benchmark(e: Env) -> list[str]:
    base = _pytest_benchmark_file(e.tmp / "base.json", "5.1.0")
    head = e.tmp / "head.json"
    head.write_text('{"version": "5.1.0", "benchmarks": [')
    return ["compare", "--pytest-benchmark", str(base), str(head)]


def future_pytest_benchmark(e: Env) -> list[str]:
    base = _pytest_benchmark_file(e.tmp / "base.json", "5.1.0")
    head = _pytest_benchmark_file(e.tmp / "head.json", "9.0.0")
    return ["compare", "--pytest-benchmark", str(base), str(head)]


def pytest_benchmark_two_machines(e: Env) -> list[str]:
    base = _pytest_benchmark_file(e.tmp / "base.json", "5.1.0")
    head = _pytest_benchmark_file(e.tmp / "head.json", "5.1.0")
    data = json.loads(head.read_text())
    data["machine_info"]["node"] = "laptop"
    head.write_text(json.dumps(data))
    return ["compare", "--pytest-benchmark", str(base), str(head)]


def not_a_speedscope_profile(e: Env) -> list[str]:
    (e.tmp / "a.json").write_text('{"profiles": []}')
    (e.tmp / "b.json").write_text('{"profiles": []}')
    return ["profile", "--diff", str(e.tmp / "a.json"), str(e.tmp / "b.json")]


def unwritable_json(e: Env) -> list[str]:
    return _detect(e, **{"--json": str(e.tmp / "no-such-dir" / "changes.json")})


def _profile(path: Path, *, cpus: int = 4096, extra: str = "") -> Path:
    path.write_text(
        f'[profile]\nname = "{path.stem}"\n\n[cpu]\nmodel_pattern = "."\nlogical_cpus = {cpus}\npin = [0]\n{extra}\n'
        "[memory]\ntotal_gib = 1.0\ntolerance = 0.5\n"
    )
    return path


def bad_profile(e: Env) -> list[str]:
    path = _profile(e.tmp / "typo.toml", extra="governer = \"performance\"\n")
    return ["hardware", "check", str(path)]


def unknown_profile(e: Env) -> list[str]:
    (e.tmp / "hw").mkdir()
    _profile(e.tmp / "hw" / "big-iron.toml")
    return ["hardware", "check", "gpu-a100", "--hardware-dir", str(e.tmp / "hw")]


def host_differs_check(e: Env) -> list[str]:
    return ["hardware", "check", str(_profile(e.tmp / "big-iron.toml"))]


def _asv_project(e: Env) -> Path:
    project = e.tmp / "project"
    project.mkdir()
    (project / "asv.conf.json").write_text(json.dumps(
        {"version": 1, "project": "demo", "repo": ".", "branches": ["main"],
         "results_dir": "results", "html_dir": "html"}))
    return project / "asv.conf.json"


def _run(e: Env, profile: str, hardware_dir: Path) -> list[str]:
    # A commit that does not exist: should the check ever pass, nothing is benchmarked.
    return ["run", "no-such-commit", "--config", str(_asv_project(e)), "--profile", profile,
            "--hardware-dir", str(hardware_dir), "--machine-file",
            str(e.tmp / "asv-machine.json"), "--timeout", "5"]


def host_differs_run(e: Env) -> list[str]:
    (e.tmp / "hw").mkdir()
    _profile(e.tmp / "hw" / "big-iron.toml")
    return _run(e, "big-iron", e.tmp / "hw")


def no_matching_profile(e: Env) -> list[str]:
    (e.tmp / "hw").mkdir()
    _profile(e.tmp / "hw" / "big-iron.toml")
    args = _run(e, "x", e.tmp / "hw")
    i = args.index("--profile")
    return args[:i] + args[i + 2:]


def fingerprint_drift(e: Env) -> list[str]:
    (e.tmp / "hw").mkdir()
    (e.tmp / "hw" / "this-host.toml").write_text(
        _perfwatch_stdout(["hardware", "detect", "--name", "this-host"], ok=(0,)))
    args = _run(e, "this-host", e.tmp / "hw")
    machine = e.tmp / "project" / "results" / "this-host"
    machine.mkdir(parents=True)
    (machine / "machine.json").write_text(json.dumps(
        {"version": 1, "machine": "this-host", "fingerprint": "0123456789abcdef"}))
    return args


def no_index_html(e: Env) -> list[str]:
    (e.tmp / "html").mkdir()
    return ["serve", "--html-dir", str(e.tmp / "html"), "--port", "0"]


def missing_asv_config(e: Env) -> list[str]:
    return ["publish", "--config", str(e.tmp / "asv.conf.json")]


def artifact(e: Env) -> Path:
    """A PR results artifact written by the real commands: compare --json, comment --prepare."""
    out = e.tmp / "artifact"
    out.mkdir()
    _perfwatch_stdout(["comment", "--artifact", str(out), "--prepare",
                       str(PAYLOADS / "pull_request.opened.json"), "--machine", "synthetic-box"],
                      ok=(0,))
    (out / "compare.json").write_text(_perfwatch_stdout(
        ["compare", e.suite.commits[1], e.suite.commits[-1], "--results-dir",
         str(e.suite.results_dir), "--json"], ok=(0, 1)))
    return out


def gate_without_compare(e: Env) -> list[str]:
    (e.tmp / "artifact").mkdir()
    return ["gate", "--artifact", str(e.tmp / "artifact")]


def _comment(e: Env) -> list[str]:
    return ["comment", "--artifact", str(artifact(e)), "--repo", REPO_NAME, "--pr",
            str(PR_NUMBER), "--api-url", e.api_url, "--write-interval", "0"]


CASES: tuple[Case, ...] = (
    Case("a-results-file-is-corrupt-or-truncated", corrupt_results),
    Case("a-results-file-is-newer-than-perfwatch-reads", future_results),
    Case("a-results-file-has-an-old-format", old_results),
    Case("the-results-directory-does-not-exist", no_results_dir),
    Case("the-directory-is-not-an-asv-results-directory", not_results_dir),
    Case("the-results-directory-holds-no-results", no_result_files),
    Case("no-results-for-a-machine", unknown_machine),
    Case("the-repository-is-not-a-git-repository", not_a_repo),
    Case("none-of-the-commits-with-results-is-on-the-branch", other_repo),
    Case("results-of-commits-that-are-not-on-the-branch", commits_off_branch, exit_code=0),
    Case("a-commit-is-not-in-the-repository", unknown_commit),
    Case("no-results-for-a-commit", no_results_for_commit),
    Case("a-short-sha-matches-several-commits", ambiguous_sha),
    Case("--results-dir-is-required", missing_results_dir_option),
    Case("--merge-base-needs---repo", merge_base_needs_repo),
    Case("a-pytest-benchmark-file-is-corrupt", corrupt_pytest_benchmark),
    Case("a-pytest-benchmark-file-of-an-unknown-version", future_pytest_benchmark),
    Case("base-and-head-were-written-on-different-machines", pytest_benchmark_two_machines,
         exit_code=0),
    Case("the-json-output-cannot-be-written", unwritable_json),
    Case("a-file-is-not-a-speedscope-profile", not_a_speedscope_profile),
    Case("a-hardware-profile-has-an-unknown-key", bad_profile),
    Case("no-hardware-profile-of-that-name", unknown_profile),
    Case("the-host-differs-from-the-profile-hardware-check", host_differs_check, exit_code=1),
    Case("the-host-differs-from-the-profile-perfwatch-run", host_differs_run),
    Case("the-host-matches-none-of-the-profiles", no_matching_profile),
    Case("the-runners-hardware-drifted", fingerprint_drift),
    Case("the-dashboard-has-not-been-published", no_index_html),
    Case("no-asvconfjson", missing_asv_config),
    Case("the-artifact-has-no-comparejson", gate_without_compare),
    Case("github_token-is-not-set", _comment, github="no-token"),
    Case("github-rate-limit-403-or-429", _comment, github="primary"),
    Case("github-refused-the-request-403", _comment, github="forbidden"),
)
