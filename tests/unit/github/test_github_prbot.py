"""The PR bot use cases against the fake GitHub server: one sticky comment, check, gate."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest
from fake_github import FakeGitHub, Fault
from github_helpers import BASE, HEAD, FakeClock, artifact, comparison, make_client, suite

from perfwatch import prbot
from perfwatch.adapters.github import GitHubClient
from perfwatch.errors import ConfigError
from perfwatch.model import Verdict
from perfwatch.report.markdown import marker_for

PAYLOADS = Path(__file__).resolve().parents[2] / "data" / "github" / "payloads"
REGRESSED = [comparison("bench.time_remux", Verdict.REGRESSION, 0.25),
             comparison("bench.time_index", Verdict.NO_CHANGE, 0.001, q=0.8)]


def test_posting_twice_leaves_one_updated_comment(fake: FakeGitHub, client: GitHubClient) -> None:
    first = prbot.post_results(client, artifact(REGRESSED))
    fixed = [comparison("bench.time_remux", Verdict.NO_CHANGE, 0.001, q=0.7)]
    second = prbot.post_results(client, artifact(fixed))
    assert (first.action, second.action) == ("created", "updated")
    comments = fake.comments_on(2)
    assert len(comments) == 1 and comments[0]["id"] == first.comment_id == second.comment_id
    assert "no regression" in comments[0]["body"].splitlines()[1]
    assert len(fake.check_runs) == 1  # the check run was updated, not duplicated
    assert next(iter(fake.check_runs.values()))["conclusion"] == "success"
    assert fake.violations == []


def test_two_concurrent_posts_leave_one_comment(fake: FakeGitHub, clock: FakeClock) -> None:
    fake.hold_list_comments(2)  # both jobs list before either creates: the real race
    clients = [make_client(fake, clock), make_client(fake, clock)]
    errors: list[BaseException] = []

    def post(gh: GitHubClient) -> None:
        try:
            prbot.upsert_comment(gh, 2, marker_for("m") + "\nbody", marker=marker_for("m"))
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=post, args=(gh,)) for gh in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    for gh in clients:
        gh.close()
    assert errors == []
    creates = [r for r in fake.requests if r.operation == "issues/create-comment"]
    assert len(creates) == 2  # both really created one
    assert len(fake.comments_on(2)) == 1
    assert fake.violations == []


def test_one_comment_per_hardware_profile(fake: FakeGitHub, client: GitHubClient) -> None:
    prbot.post_results(client, artifact(REGRESSED, machine="linux-x86-4c"))
    prbot.post_results(client, artifact(REGRESSED, machine="gpu-nvenc"))
    prbot.post_results(client, artifact(REGRESSED, machine="gpu-nvenc"))
    bodies = [c["body"] for c in fake.comments_on(2)]
    assert len(bodies) == 2
    assert {b.splitlines()[0] for b in bodies} == {marker_for("linux-x86-4c"),
                                                    marker_for("gpu-nvenc")}
    assert len(fake.check_runs) == 2


def test_a_quoted_marker_in_someone_elses_comment_is_left_alone(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    quoted = client.create_comment(2, "> " + marker_for("linux-x86-4c") + "\n> what is this?")
    prbot.post_results(client, artifact(REGRESSED))
    prbot.post_results(client, artifact(REGRESSED))
    ids = [c["id"] for c in fake.comments_on(2)]
    assert len(ids) == 2 and quoted.id in ids


def test_earlier_duplicates_are_cleaned_up_on_update(fake: FakeGitHub, client: GitHubClient) -> None:
    marker = marker_for("linux-x86-4c")
    for _ in range(3):
        client.create_comment(2, marker + "\nold")
    outcome = prbot.post_results(client, artifact(REGRESSED))
    assert outcome.action == "updated" and outcome.duplicates_removed == 2
    assert len(fake.comments_on(2)) == 1


def test_check_run_refused_falls_back_to_commit_status(fake: FakeGitHub,
                                                        client: GitHubClient) -> None:
    fake.script(Fault("forbidden", "checks/", times=100))
    outcome = prbot.post_results(client, artifact(REGRESSED))
    assert outcome.check_kind == "status"
    assert fake.check_runs == {}
    [status] = fake.statuses
    assert (status["sha"], status["state"], status["context"]) == (HEAD, "failure",
                                                                   "perfwatch (linux-x86-4c)")
    assert fake.violations == []


def test_accept_label_turns_failure_neutral_and_names_who(fake: FakeGitHub,
                                                          client: GitHubClient) -> None:
    fake.add_pull(2, head_sha=HEAD, base_sha=BASE, labels=("perf-regression-accepted",))
    forged = artifact(REGRESSED, accepted_by="forged-name")
    assert "forged-name" not in prbot.post_results(client, forged).decision.title
    outcome = prbot.post_results(client, artifact(REGRESSED), accepted_by="Codertocat")
    assert outcome.decision.conclusion == "neutral" and outcome.decision.exit_code == 0
    [run] = fake.check_runs.values()
    assert run["conclusion"] == "neutral"
    assert "accepted by Codertocat" in run["output"]["title"]
    assert "accepted by Codertocat" in fake.comments_on(2)[0]["body"]


def test_label_in_artifact_but_removed_on_github_does_not_accept(fake: FakeGitHub,
                                                                 client: GitHubClient) -> None:
    stale = artifact(REGRESSED, labels=("perf-regression-accepted",), accepted_by="someone")
    assert prbot.post_results(client, stale).decision.conclusion == "failure"


def test_stale_head_posts_nothing(fake: FakeGitHub, client: GitHubClient) -> None:
    outcome = prbot.post_results(client, artifact(REGRESSED, head_sha="1" * 40))
    assert outcome.action == "stale" and outcome.live_head_sha == HEAD
    assert fake.comments == {} and fake.check_runs == {}


def test_post_succeeds_under_scripted_faults_in_bounded_time(
    fake: FakeGitHub, client: GitHubClient, clock: FakeClock, rng: np.random.Generator
) -> None:
    fake.script(Fault("status", "pulls/get", times=2, status=502))
    fake.script(Fault("secondary", "issues/list-comments", status=403, retry_after=30))
    fake.script(Fault("primary", "issues/create-comment", reset_in=200))
    fake.script(Fault("secondary", "checks/list-for-ref", status=429, retry_after=15))
    fake.script(Fault("status", "checks/create", status=503))
    start = clock.now
    outcome = prbot.post_results(client, artifact(suite(rng, 300, regressions=5)))
    assert outcome.action == "created" and outcome.check_kind == "check_run"
    assert all(f.times == 0 for f in fake.faults)  # every fault fired
    assert fake.early_retries == 0  # waited as GitHub asked, never less
    assert clock.now - start < 300  # 1+2 + 30 + ~201 + 15 + 1
    assert fake.violations == []
    assert len(fake.comments_on(2)) == 1


def test_gate_decisions() -> None:
    clean = [comparison("a", Verdict.NO_CHANGE, 0.0, q=0.9),
             comparison("b", Verdict.UNSURE, 0.03, q=0.1, extra_runs=8)]
    assert prbot.decide_gate(clean, labels=()).conclusion == "success"
    assert "1 unsure" in prbot.decide_gate(clean, labels=()).title
    shaky = [comparison("a", Verdict.REGRESSION, 0.5, unstable=True)]
    assert prbot.decide_gate(shaky, labels=()).exit_code == 0
    failing = prbot.decide_gate(REGRESSED, labels=("bug",))
    assert (failing.conclusion, failing.exit_code) == ("failure", 1)
    accepted = prbot.decide_gate(REGRESSED, labels=("perf-regression-accepted",))
    assert accepted.conclusion == "neutral" and "label perf-regression-accepted" in accepted.title


def test_artifact_round_trips(tmp_path: Path, rng: np.random.Generator) -> None:
    original = artifact(suite(rng, 40, regressions=3, unsure=2, unstable=1))
    prbot.write_artifact(tmp_path, original)
    assert prbot.read_artifact(tmp_path) == original


def test_metadata_from_real_pull_request_payloads() -> None:
    for name in ("pull_request.opened.json", "pull_request.synchronize.json"):
        event = json.loads((PAYLOADS / name).read_text())
        meta = prbot.metadata_from_event(event, machine="linux-x86-4c")
        assert (meta.pr_number, meta.head_sha, meta.base_sha) == (2, HEAD, BASE)
        assert meta.labels == ("bug",) and meta.accepted_by is None
    event = json.loads((PAYLOADS / "pull_request.opened.json").read_text())
    event.update(action="labeled", label={"name": "perf-regression-accepted"})
    assert prbot.metadata_from_event(event, machine="m").accepted_by == "Codertocat"


def test_workflow_run_payloads_are_checked_against_the_artifact() -> None:
    meta = artifact(REGRESSED).meta
    with_prs = json.loads((PAYLOADS / "workflow_run.completed.with-pull-requests.json").read_text())
    prbot.verify_workflow_run(with_prs, meta)  # PR 2 at ec26c3e5 is listed
    other = artifact(REGRESSED, head_sha="2" * 40).meta
    with pytest.raises(ConfigError, match="not the run's pull request"):
        prbot.verify_workflow_run(with_prs, other)
    fork_like = json.loads((PAYLOADS / "workflow_run.completed.json").read_text())
    assert fork_like["workflow_run"]["pull_requests"] == []
    prbot.verify_workflow_run(fork_like, other)  # fork PRs: GET /pulls confirms instead
    fork_like["workflow_run"]["conclusion"] = "failure"
    with pytest.raises(ConfigError, match="ended 'failure'"):
        prbot.verify_workflow_run(fork_like, meta)
    as_pr = json.loads((PAYLOADS / "workflow_run.completed.with-pull-requests.json").read_text())
    as_pr["workflow_run"]["event"] = "pull_request"  # then the run's head must be the artifact's
    with pytest.raises(ConfigError, match="head SHA"):
        prbot.verify_workflow_run(as_pr, meta)


def test_fork_pr_posts_from_the_artifact_when_the_run_lists_no_pr(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    fake.add_pull(2, head_sha=HEAD, base_sha=BASE, head_repo="forker/Hello-World")
    event = json.loads((PAYLOADS / "workflow_run.completed.json").read_text())
    assert event["workflow_run"]["pull_requests"] == []  # what GitHub sends for forks
    results = artifact(REGRESSED)
    prbot.verify_workflow_run(event, results.meta)
    assert client.get_pull(2).head_repo == "forker/Hello-World"
    outcome = prbot.post_results(client, results)
    assert outcome.action == "created" and len(fake.comments_on(2)) == 1
    assert fake.violations == []


def test_2000_hostile_benchmarks_post_inert_and_within_limits(
    fake: FakeGitHub, client: GitHubClient, rng: np.random.Generator
) -> None:
    comparisons = suite(rng, 2000, regressions=250, improvements=150, unsure=100, unstable=40)
    hostile = comparison("<script>alert(1)</script> @octocat **x** [y](https://evil.example)",
                         Verdict.REGRESSION, 0.9)
    prbot.post_results(client, artifact([hostile, *comparisons]))
    [comment] = fake.comments_on(2)
    body = comment["body"]
    assert len(body) <= 65_536 and "cut to fit" not in body
    assert "<script>" not in body and "@octocat" not in body and "](https://evil" not in body
    assert "&lt;script&gt;" in body
    [run] = fake.check_runs.values()
    assert len(run["output"]["summary"]) <= 65_535
    assert fake.violations == []


def _label_events(action: str) -> tuple[dict, dict]:
    label = json.loads((PAYLOADS / "pull_request.opened.json").read_text())
    label.update(action=action, label={"name": "perf-regression-accepted"})
    run = json.loads((PAYLOADS / "workflow_run.completed.with-pull-requests.json").read_text())
    run["workflow_run"]["triggering_actor"]["login"] = "maintainer-1"
    return label, run


def test_accept_label_updates_check_and_comment_without_rerunning(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    prbot.post_results(client, artifact(REGRESSED, machine="linux-x86-4c"))
    prbot.post_results(client, artifact(REGRESSED, machine="gpu-nvenc"))
    clean = [comparison("bench.time_index", Verdict.NO_CHANGE, 0.001, q=0.8)]
    prbot.post_results(client, artifact(clean, machine="ci-2cpu"))
    fake.add_pull(2, head_sha=HEAD, base_sha=BASE, labels=("perf-regression-accepted",))
    label, run = _label_events("labeled")
    outcome = prbot.apply_label(client, label, run)
    assert (outcome.accepted, outcome.accepted_by) == (True, "maintainer-1")
    assert (outcome.checks_updated, outcome.comments_updated) == (2, 2)
    conclusions = {r["name"]: r["conclusion"] for r in fake.check_runs.values()}
    assert conclusions == {"perfwatch (linux-x86-4c)": "neutral", "perfwatch (gpu-nvenc)": "neutral",
                           "perfwatch (ci-2cpu)": "success"}
    bodies = [c["body"] for c in fake.comments_on(2)]
    assert sum("accepted by maintainer-1" in b.splitlines()[1] for b in bodies) == 2
    # the label removed: back to failure, the comment loses the acceptance
    fake.add_pull(2, head_sha=HEAD, base_sha=BASE, labels=())
    label, run = _label_events("unlabeled")
    assert prbot.apply_label(client, label, run).accepted is False
    assert sorted(r["conclusion"] for r in fake.check_runs.values()) == ["failure", "failure",
                                                                        "success"]
    assert not any("accepted by" in c["body"] for c in fake.comments_on(2))
    assert fake.violations == []


def test_a_new_comment_missing_from_a_lagging_listing_is_still_deduplicated(
    clock: FakeClock,
) -> None:
    marker = marker_for("m")
    listings = [[], [{"id": 3, "body": marker + "\nother job", "user": {"login": "bot"}}]]
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "GET":
            return httpx.Response(200, json=listings.pop(0))
        if request.method == "POST":
            return httpx.Response(201, json={"id": 5, "body": "b", "user": {"login": "bot"}})
        if request.method == "PATCH":
            return httpx.Response(200, json={"id": 3, "body": "b", "user": {"login": "bot"}})
        return httpx.Response(204)

    http = httpx.Client(base_url="https://api.github.com", transport=httpx.MockTransport(handler))
    gh = GitHubClient(http, "o/r", sleep=clock.sleep, clock=clock.time)
    action, keep, removed = prbot.upsert_comment(gh, 2, marker + "\nb", marker=marker)
    assert (action, keep, removed) == ("updated", 3, 1)
    assert "DELETE /repos/o/r/issues/comments/5" in calls
