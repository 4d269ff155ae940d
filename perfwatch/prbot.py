"""PR bot use cases: read a results artifact, decide the gate, post the comment and check.

The results artifact is a directory written by the PR benchmark job (docs/pr-bot.md):

- ``compare.json``: the output of ``perfwatch compare --json``
  (``{"version": 1, "comparisons": [{...}, ...]}``, one object per comparison);
- ``pr.json``: ``{"version": 1, "pr_number", "head_sha", "base_sha", "machine",
  "base_fingerprint", "head_fingerprint", "labels", "accepted_by", "dashboard_url",
  "graph_links", "flamegraph_links"}``, written by ``perfwatch comment --prepare EVENT``
  from the ``pull_request`` event payload.

The artifact is data from a job that ran the PR's code: nothing in it is trusted beyond the
PR number, which :func:`verify_workflow_run` and ``GET /pulls/{n}`` confirm; the labels are
read live from the same call, and every text is escaped by the renderer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from perfwatch.adapters.github import CHECK_TEXT_LIMIT, CheckRun, GitHubClient, fit_body
from perfwatch.errors import ConfigError, GitHubError, ResultsFormatError
from perfwatch.model import Comparison, Direction, SeriesKey, Verdict, direction_for
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

ACCEPT_LABEL = "perf-regression-accepted"
CHECK_PREFIX = "perfwatch ("
ARTIFACT_VERSION = 1


@dataclass(frozen=True)
class PrMetadata:
    """``pr.json``: which PR and commits the results belong to, and where they ran."""

    pr_number: int
    head_sha: str
    base_sha: str
    machine: str
    base_fingerprint: str | None = None
    head_fingerprint: str | None = None
    labels: tuple[str, ...] = ()
    accepted_by: str | None = None  # the sender of a "labeled" event for the accept label
    dashboard_url: str | None = None
    graph_links: Mapping[str, str] = field(default_factory=dict)
    flamegraph_links: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResultsArtifact:
    meta: PrMetadata
    comparisons: tuple[Comparison, ...]


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


# -- artifact (de)serialisation ----------------------------------------------------------
def comparison_to_json(c: Comparison) -> dict[str, Any]:
    """One comparison as ``perfwatch compare --json`` writes it (plus ``direction``, ``note``)."""
    return {
        "benchmark": c.key.benchmark, "params": list(c.key.params) if c.key.params else None,
        "machine": c.key.machine, "metric_unit": c.unit, "direction": c.direction.value,
        "verdict": c.verdict.value, "rel_change": _finite(c.rel_change),
        "ci": [_finite(c.ci[0]), _finite(c.ci[1])], "pvalue": _finite(c.pvalue),
        "qvalue": _finite(c.qvalue), "n_base": c.n_base, "n_head": c.n_head,
        "base_median": _finite(c.base_median), "head_median": _finite(c.head_median),
        "extra_runs": c.extra_runs, "unstable": c.unstable, "note": c.note,
    }


def comparison_from_json(item: Mapping[str, Any]) -> Comparison:
    """One object of ``compare.json``; ``null`` numbers become NaN, a missing direction is
    inferred from the benchmark's name and unit as asv would."""
    name = str(item["benchmark"])
    params = item.get("params")
    unit = str(item.get("metric_unit", item.get("unit", "")))
    ci = item.get("ci") or [None, None]
    extra = item.get("extra_runs")
    return Comparison(
        key=SeriesKey(name, tuple(str(p) for p in params) if params else None,
                      str(item["machine"])),
        unit=unit, direction=_direction(item.get("direction"), name, unit),
        verdict=Verdict(str(item["verdict"]).replace("_", " ").lower()),
        rel_change=_num(item.get("rel_change")), ci=(_num(ci[0]), _num(ci[1])),
        pvalue=_num(item.get("pvalue")), qvalue=_num(item.get("qvalue", item.get("pvalue"))),
        n_base=int(item.get("n_base") or 0), n_head=int(item.get("n_head") or 0),
        base_median=_num(item.get("base_median")), head_median=_num(item.get("head_median")),
        extra_runs=int(extra) if extra is not None else None,
        unstable=bool(item.get("unstable", False)), note=str(item.get("note") or ""),
    )


def _direction(value: object, name: str, unit: str) -> Direction:
    if value is not None:
        return Direction(str(value))
    leaf = name.rsplit(".", 1)[-1]
    kind = next((k for k in ("peakmem", "mem", "time", "track") if leaf.startswith(k + "_")),
                "track")
    return direction_for(kind, unit, name)


def _num(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def read_artifact(directory: Path) -> ResultsArtifact:
    meta = read_metadata(directory)
    return ResultsArtifact(meta=meta, comparisons=read_comparisons(directory))


def read_metadata(directory: Path) -> PrMetadata:
    return _metadata_from_json(_load(directory / "pr.json"))


def read_comparisons(directory: Path) -> tuple[Comparison, ...]:
    """The comparisons of ``compare.json`` (``perfwatch compare --json`` output)."""
    path = directory / "compare.json"
    compare = _load(path)
    try:
        return tuple(comparison_from_json(c) for c in compare["comparisons"])
    except (KeyError, TypeError, ValueError) as err:
        raise ResultsFormatError(f"compare.json: bad comparison ({err!r})", path=path,
                                 hint="write it with `perfwatch compare --json`") from err


def write_artifact(directory: Path, artifact: ResultsArtifact) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    write_metadata(directory, artifact.meta)
    compare = {"version": ARTIFACT_VERSION,
               "comparisons": [comparison_to_json(c) for c in artifact.comparisons]}
    text = json.dumps(compare, indent=1, allow_nan=False)
    (directory / "compare.json").write_text(text + "\n")


def write_metadata(directory: Path, meta: PrMetadata) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    data = {"version": ARTIFACT_VERSION, **_asdict(meta)}
    (directory / "pr.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def _asdict(meta: PrMetadata) -> dict[str, Any]:
    return {
        "pr_number": meta.pr_number, "head_sha": meta.head_sha, "base_sha": meta.base_sha,
        "machine": meta.machine, "base_fingerprint": meta.base_fingerprint,
        "head_fingerprint": meta.head_fingerprint, "labels": list(meta.labels),
        "accepted_by": meta.accepted_by, "dashboard_url": meta.dashboard_url,
        "graph_links": dict(meta.graph_links), "flamegraph_links": dict(meta.flamegraph_links),
    }


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise ResultsFormatError(f"{path.name} is missing from the artifact", path=path,
                                 hint="upload both pr.json and compare.json") from err
    except (OSError, ValueError) as err:
        raise ResultsFormatError(f"{path.name} is not readable JSON ({err})", path=path,
                                 hint="re-run the PR benchmark job") from err
    if not isinstance(data, dict) or data.get("version") != ARTIFACT_VERSION:
        raise ResultsFormatError(f"{path.name}: expected an object with \"version\": 1",
                                 path=path, hint="use the same perfwatch version for both jobs")
    return data


def _metadata_from_json(data: Mapping[str, Any]) -> PrMetadata:
    try:
        return PrMetadata(
            pr_number=int(data["pr_number"]), head_sha=_sha(data["head_sha"]),
            base_sha=_sha(data["base_sha"]), machine=str(data["machine"]),
            base_fingerprint=_opt(data.get("base_fingerprint")),
            head_fingerprint=_opt(data.get("head_fingerprint")),
            labels=tuple(str(x) for x in data.get("labels") or ()),
            accepted_by=_opt(data.get("accepted_by")), dashboard_url=_opt(data.get("dashboard_url")),
            graph_links=_str_map(data.get("graph_links")),
            flamegraph_links=_str_map(data.get("flamegraph_links")),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ResultsFormatError(f"pr.json: bad or missing field ({err!r})",
                                 hint="write it with `perfwatch comment --prepare`") from err


def _sha(value: object) -> str:
    text = str(value).lower()
    if len(text) != 40 or any(ch not in "0123456789abcdef" for ch in text):
        raise ValueError(f"not a 40-hex commit SHA: {text[:50]!r}")
    return text


def _opt(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def metadata_from_event(event: Mapping[str, Any], *, machine: str,
                        accept_label: str = ACCEPT_LABEL) -> PrMetadata:
    """``pr.json`` from a ``pull_request`` webhook payload (``$GITHUB_EVENT_PATH``)."""
    pr = event.get("pull_request")
    if not isinstance(pr, Mapping):
        raise ResultsFormatError("the event has no pull_request",
                                 hint="run --prepare in a job triggered by pull_request")
    labels = tuple(str(label["name"]) for label in pr.get("labels") or ())
    label = (event.get("label") or {}).get("name")
    sender = (event.get("sender") or {}).get("login")
    accepted_by = str(sender) if event.get("action") == "labeled" and label == accept_label \
        and sender else None
    return PrMetadata(pr_number=int(pr["number"]), head_sha=_sha(pr["head"]["sha"]),
                      base_sha=_sha(pr["base"]["sha"]), machine=machine, labels=labels,
                      accepted_by=accepted_by)


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
    mine = _marked(client, pr_number, marker)
    keep = mine[0] if mine else created
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


def with_extras(meta: PrMetadata, *, base_sha: str | None = None,
                base_fingerprint: str | None = None, head_fingerprint: str | None = None,
                dashboard_url: str | None = None) -> PrMetadata:
    """``meta`` with the optional fields the benchmark job knows set (None keeps them)."""
    try:
        base = _sha(base_sha) if base_sha else meta.base_sha
    except ValueError as err:
        raise ConfigError(str(err), hint="pass --base-sha as a full 40-hex SHA") from err
    return replace(meta, base_sha=base,
                   base_fingerprint=base_fingerprint or meta.base_fingerprint,
                   head_fingerprint=head_fingerprint or meta.head_fingerprint,
                   dashboard_url=dashboard_url or meta.dashboard_url)


def fingerprint_in_results(results_dir: Path, machine: str, sha: str) -> str | None:
    """The hardware fingerprint asv recorded with ``sha``'s results on ``machine``.

    perfwatch puts it in the asv machine entry, which asv copies into every result's
    ``params``; None when the commit has no result file or no fingerprint.
    """
    for path in sorted((results_dir / machine).glob(f"{sha[:8]}*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and str(data.get("commit_hash", "")).startswith(sha[:8]):
            value = (data.get("params") or {}).get("fingerprint")
            if value:
                return str(value)
    return None
