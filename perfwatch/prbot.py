"""PR bot use cases: decide the gate, post the comment and check, apply the accept label.

The results artifact (:mod:`perfwatch.prbot_artifact`) is data from a job that ran the
PR's code: nothing in it is trusted beyond the PR number, which :func:`verify_workflow_run`
and ``GET /pulls/{n}`` confirm; labels are read live from the same call, the accepting
user's name comes from GitHub's workflow_run event, and every text is escaped by the renderer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfwatch.adapters.github import CHECK_TEXT_LIMIT, CheckRun, GitHubClient, fit_body
from perfwatch.errors import ConfigError, GitHubError
from perfwatch.model import Comparison, Verdict
from perfwatch.prbot_artifact import (
    ACCEPT_LABEL,
    PrMetadata,
    ResultsArtifact,
    comparison_from_json,
    comparison_to_json,
    fingerprint_in_results,
    metadata_from_event,
    read_artifact,
    read_comparisons,
    read_metadata,
    with_extras,
    write_artifact,
    write_metadata,
)
from perfwatch.report.markdown import (
    MARKER_PREFIX,
    CommentContext,
    escape,
    marker_for,
    relabel_verdict,
    render_comment,
)

__all__ = [
    "ACCEPT_LABEL",
    "GateDecision",
    "LabelOutcome",
    "PostOutcome",
    "PrMetadata",
    "ResultsArtifact",
    "apply_label",
    "check_name",
    "comparison_from_json",
    "comparison_to_json",
    "decide_gate",
    "fingerprint_in_results",
    "gate_for",
    "metadata_from_event",
    "post_results",
    "publish_check",
    "read_artifact",
    "read_comparisons",
    "read_metadata",
    "triggering_actor",
    "upsert_comment",
    "verify_workflow_run",
    "with_extras",
    "write_artifact",
    "write_metadata",
]

CHECK_PREFIX = "perfwatch ("


@dataclass(frozen=True)
class GateDecision:
    conclusion: str  # "success" | "failure" | "neutral" (check-run conclusions)
    title: str
    regressions: int
    accepted_by: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.conclusion == "failure" else 0


@dataclass(frozen=True)
class PostOutcome:
    action: str  # "created" | "updated" | "stale" (head moved, nothing posted)
    comment_id: int | None
    duplicates_removed: int
    check_kind: str  # "check_run" | "status" | ""
    decision: GateDecision
    live_head_sha: str


def verify_workflow_run(event: Mapping[str, Any], meta: PrMetadata) -> None:
    """Check an artifact against the ``workflow_run`` event that delivered it.

    The run must have succeeded; when the event lists pull requests (same-repository PRs)
    the artifact's PR and head SHA must be among them; for a ``pull_request`` run the
    run's head SHA must be the artifact's. Fork PRs arrive with ``pull_requests: []``:
    then the PR number comes from the artifact and ``GET /pulls/{n}`` confirms the head.
    """
    run = event.get("workflow_run")
    if not isinstance(run, Mapping):
        raise ConfigError("the event has no workflow_run", hint="pass the workflow_run payload")
    if run.get("conclusion") != "success":
        raise ConfigError(f"the benchmark run ended {run.get('conclusion')!r}",
                          hint="only post results of a successful run")
    listed = {int(p["number"]): str(p["head"]["sha"]) for p in run.get("pull_requests") or ()}
    if listed and listed.get(meta.pr_number) != meta.head_sha:
        raise ConfigError(f"the artifact's PR #{meta.pr_number} at {meta.head_sha[:10]} is not"
                          " the run's pull request", hint="the artifact does not match its run")
    if run.get("event") == "pull_request" and run.get("head_sha") != meta.head_sha:
        raise ConfigError("the artifact's head SHA is not the run's head SHA",
                          hint="the artifact does not match its run")


# -- decisions ---------------------------------------------------------------------------
def decide_gate(comparisons: Sequence[Comparison], *, labels: Sequence[str],
                accept_label: str = ACCEPT_LABEL, accepted_by: str | None = None) -> GateDecision:
    regressions = sum(1 for c in comparisons if c.verdict is Verdict.REGRESSION and not c.unstable)
    unsure = sum(1 for c in comparisons if c.verdict is Verdict.UNSURE and not c.unstable)
    return gate_for(regressions, unsure, accepted=accept_label in labels,
                    accepted_by=accepted_by or f"label {accept_label}")


def gate_for(regressions: int, unsure: int, *, accepted: bool, accepted_by: str) -> GateDecision:
    """The check conclusion for ``regressions`` confirmed ones, accepted by label or not."""
    if not regressions:
        title = "No regression" + (f"; {unsure} unsure (rerun to settle)" if unsure else "")
        return GateDecision("success", title, 0)
    found = f"{regressions} confirmed regression{'' if regressions == 1 else 's'}"
    if accepted:
        return GateDecision("neutral", f"{found}, accepted by {accepted_by}", regressions,
                            accepted_by)
    return GateDecision("failure", found, regressions)


def triggering_actor(run_event: Mapping[str, Any]) -> str | None:
    """Who triggered the run a ``workflow_run`` event reports on (set by GitHub, trusted)."""
    run = run_event.get("workflow_run") or {}
    actor = run.get("triggering_actor") or run.get("actor") or {}
    login = actor.get("login") if isinstance(actor, Mapping) else None
    return str(login) if login else None


# -- posting -----------------------------------------------------------------------------
def upsert_comment(client: GitHubClient, pr_number: int, body: str, *,
                   marker: str) -> tuple[str, int, int]:
    """Update our comment (found by ``marker`` on its first line) or create it.

    Returns (action, comment id, duplicates removed). After a create the comments are
    listed again and every marked comment but the oldest is deleted, so two jobs that
    raced both end on the same single comment.
    """
    mine = _marked(client, pr_number, marker)
    if mine:
        keep, removed = mine[0], _delete_all(client, mine[1:])
        client.update_comment(keep, body)
        return "updated", keep, removed
    created = client.create_comment(pr_number, body).id
    mine = sorted({created, *_marked(client, pr_number, marker)})  # even if not listed yet
    keep = mine[0]
    removed = _delete_all(client, [c for c in mine if c != keep])
    if keep != created:  # another job won the race: put this job's body in the survivor
        client.update_comment(keep, body)
        return "updated", keep, removed
    return "created", keep, removed


def _marked(client: GitHubClient, pr_number: int, marker: str) -> list[int]:
    return sorted(c.id for c in client.list_comments(pr_number) if c.body.startswith(marker))


def _delete_all(client: GitHubClient, ids: Sequence[int]) -> int:
    return sum(1 for comment_id in ids if client.delete_comment(comment_id))


def publish_check(client: GitHubClient, *, name: str, head_sha: str, decision: GateDecision,
                  summary: str, details_url: str | None = None) -> str:
    """Create or update the check run; a commit status when checks cannot be written."""
    fields: dict[str, Any] = {
        "name": name, "head_sha": head_sha, "status": "completed",
        "conclusion": decision.conclusion, "external_id": _external_id(decision.regressions),
        "output": {"title": escape(decision.title)[:1000],
                   "summary": fit_body(summary, CHECK_TEXT_LIMIT)},
    }
    if details_url:
        fields["details_url"] = details_url
    try:
        existing = client.list_check_runs(head_sha, name=name)
        if existing:
            update = {k: v for k, v in fields.items() if k != "head_sha"}
            client.update_check_run(existing[0].id, update)
        else:
            client.create_check_run(fields)
        return "check_run"
    except GitHubError as err:
        if err.status not in (403, 404):
            raise
    state = {"success": "success", "neutral": "success"}.get(decision.conclusion, "failure")
    status: dict[str, Any] = {"state": state, "context": name,
                              "description": decision.title[:140]}
    if details_url:
        status["target_url"] = details_url
    client.create_status(head_sha, status)
    return "status"


def _external_id(regressions: int) -> str:
    return f"perfwatch:regressions={regressions}"


def _regressions_in(run: CheckRun) -> int:
    prefix = "perfwatch:regressions="
    text = run.external_id[len(prefix):] if run.external_id.startswith(prefix) else ""
    return int(text) if text.isdigit() else 0


def post_results(client: GitHubClient, artifact: ResultsArtifact, *,
                 accept_label: str = ACCEPT_LABEL, details_url: str | None = None,
                 accepted_by: str | None = None) -> PostOutcome:
    """Post (or update) the comment and the check for one artifact.

    Acceptance needs the label on the PR now (read live). ``accepted_by`` names who (from
    a trusted source, e.g. the workflow_run's triggering actor); the artifact's own
    ``accepted_by`` is not used here, as the job that wrote it ran the PR's code.
    """
    meta = artifact.meta
    pull = client.get_pull(meta.pr_number)
    if pull.head_sha != meta.head_sha:
        decision = decide_gate(artifact.comparisons, labels=(), accept_label=accept_label)
        return PostOutcome("stale", None, 0, "", decision, pull.head_sha)
    decision = decide_gate(artifact.comparisons, labels=pull.labels,
                           accept_label=accept_label, accepted_by=accepted_by)
    context = context_for(meta, accepted_by=decision.accepted_by, accept_label=accept_label)
    body = render_comment(artifact.comparisons, context=context)
    action, comment_id, removed = upsert_comment(client, meta.pr_number, body,
                                                 marker=marker_for(meta.machine))
    summary = body.split("\n", 1)[1] if "\n" in body else body
    kind = publish_check(client, name=check_name(meta.machine), head_sha=meta.head_sha,
                         decision=decision, summary=summary, details_url=details_url)
    return PostOutcome(action, comment_id, removed, kind, decision, pull.head_sha)


def check_name(machine: str) -> str:
    return f"{CHECK_PREFIX}{machine})"


@dataclass(frozen=True)
class LabelOutcome:
    accepted: bool
    accepted_by: str | None
    checks_updated: int
    comments_updated: int
    stale: bool = False


def apply_label(client: GitHubClient, label_event: Mapping[str, Any],
                run_event: Mapping[str, Any], *, accept_label: str = ACCEPT_LABEL) -> LabelOutcome:
    """Accept (or un-accept) posted regressions after the accept label was added (removed).

    No benchmarks rerun: perfwatch's check runs on the head SHA become neutral (or failure
    again) and the verdict line of each sticky comment is relabelled. The label is read
    live from ``GET /pulls/{n}``; the name is the run's triggering actor, from GitHub.
    """
    meta = metadata_from_event(label_event, machine="", accept_label=accept_label)
    verify_workflow_run(run_event, meta)
    pull = client.get_pull(meta.pr_number)
    if pull.head_sha != meta.head_sha:
        return LabelOutcome(False, None, 0, 0, stale=True)
    accepted = accept_label in pull.labels
    who = (triggering_actor(run_event) or f"label {accept_label}") if accepted else None
    checks = 0
    for run in client.list_check_runs(meta.head_sha):
        regressions = _regressions_in(run)
        if not run.name.startswith(CHECK_PREFIX) or not regressions:
            continue
        decision = gate_for(regressions, 0, accepted=accepted, accepted_by=who or "")
        client.update_check_run(run.id, {"conclusion": decision.conclusion, "output": {
            "title": escape(decision.title)[:1000], "summary": run.summary or decision.title}})
        checks += 1
    comments = 0
    for comment in client.list_comments(meta.pr_number):
        if not comment.body.startswith(MARKER_PREFIX):
            continue
        marker, verdict, rest = (comment.body.split("\n", 2) + ["", ""])[:3]
        new_verdict = relabel_verdict(verdict, who)
        if new_verdict != verdict:
            client.update_comment(comment.id, f"{marker}\n{new_verdict}\n{rest}")
            comments += 1
    return LabelOutcome(accepted, who, checks, comments)


def context_for(meta: PrMetadata, *, accepted_by: str | None = None,
                accept_label: str = ACCEPT_LABEL) -> CommentContext:
    return CommentContext(
        base_sha=meta.base_sha, head_sha=meta.head_sha, machine=meta.machine,
        base_fingerprint=meta.base_fingerprint, head_fingerprint=meta.head_fingerprint,
        dashboard_url=meta.dashboard_url, graph_links=meta.graph_links,
        flamegraph_links=meta.flamegraph_links, accepted_by=accepted_by,
        accept_label=accept_label,
    )


