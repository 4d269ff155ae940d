"""``perfwatch comment``: post or update the PR comment and check run from a results artifact.

    perfwatch comment --artifact DIR --repo OWNER/NAME [--pr N] [--api-url URL]
    perfwatch comment --artifact DIR --prepare EVENT.json --machine NAME   (writes pr.json)

A DIR holding only ``event.json`` (the accept label was added or removed) updates the
posted check runs and comments instead (needs --workflow-run-event).

The token comes from ``GITHUB_TOKEN`` only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from perfwatch import prbot
from perfwatch.adapters.github import API_URL, GitHubClient, RetryPolicy, client_from_env
from perfwatch.errors import ConfigError

LABEL_EVENT = "event.json"  # a label-only artifact: the pull_request "labeled" payload


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "comment", help="post the PR comment and check run from a results artifact",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--artifact", type=Path, required=True,
                   help="directory with pr.json and compare.json")
    p.add_argument("--repo", help="OWNER/NAME of the repository to post to")
    p.add_argument("--pr", type=int, help="PR number; must match the artifact's")
    p.add_argument("--api-url", default=API_URL, help="GitHub API base URL (default: %(default)s)")
    p.add_argument("--accept-label", default=prbot.ACCEPT_LABEL,
                   help="label that turns a failing check neutral (default: %(default)s)")
    p.add_argument("--details-url", help="link for the check run (e.g. the workflow run)")
    p.add_argument("--workflow-run-event", type=Path, metavar="EVENT_JSON",
                   help="the workflow_run payload that delivered the artifact, to check it")
    p.add_argument("--write-interval", type=float, default=RetryPolicy().mutation_interval,
                   help=argparse.SUPPRESS)  # seconds between writes; tests use 0
    prep = p.add_argument_group("prepare (PR benchmark job, no network)")
    prep.add_argument("--prepare", type=Path, metavar="EVENT_JSON",
                      help="write pr.json from this pull_request event payload and exit")
    prep.add_argument("--machine", help="hardware profile name the results ran on")
    prep.add_argument("--base-sha", help="the benchmarked base (merge base), if not the PR's base")
    prep.add_argument("--results-dir", type=Path,
                      help="asv results directory to read the base and head fingerprints from")
    prep.add_argument("--base-fingerprint")
    prep.add_argument("--head-fingerprint")
    prep.add_argument("--dashboard-url", help="published dashboard, for graph links")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.prepare is not None:
        return _prepare(args)
    if not args.repo:
        raise ConfigError("--repo OWNER/NAME is required to post", hint="add --repo")
    if (args.artifact / LABEL_EVENT).exists() and not (args.artifact / "pr.json").exists():
        return _label(args)
    artifact = prbot.read_artifact(args.artifact)
    if args.pr is not None and args.pr != artifact.meta.pr_number:
        raise ConfigError(f"--pr {args.pr} does not match the artifact's PR"
                          f" {artifact.meta.pr_number}", hint="check which artifact was downloaded")
    if args.workflow_run_event is not None:
        prbot.verify_workflow_run(_load_event(args.workflow_run_event), artifact.meta)
    client = _client(args)
    outcome = prbot.post_results(client, artifact, accept_label=args.accept_label,
                                 details_url=args.details_url)
    meta = artifact.meta
    if outcome.action == "stale":
        print(f"PR #{meta.pr_number} head is now {outcome.live_head_sha[:10]}, not"
              f" {meta.head_sha[:10]}: results are stale, nothing posted")
        return 0
    print(f"PR #{meta.pr_number} ({meta.machine}): comment {outcome.action}"
          f" (id {outcome.comment_id}, {outcome.duplicates_removed} duplicates removed);"
          f" {outcome.check_kind}: {outcome.decision.conclusion}: {outcome.decision.title}")
    return 0


def _client(args: argparse.Namespace) -> GitHubClient:
    policy = RetryPolicy(mutation_interval=max(0.0, args.write_interval))
    return client_from_env(args.repo, api_url=args.api_url, policy=policy)


def _label(args: argparse.Namespace) -> int:
    """A label-only artifact (the accept label changed): update the posted check and comment."""
    if args.workflow_run_event is None:
        raise ConfigError("a label artifact needs --workflow-run-event",
                          hint="pass $GITHUB_EVENT_PATH of the workflow_run job")
    client = _client(args)
    outcome = prbot.apply_label(client, _load_event(args.artifact / LABEL_EVENT),
                                _load_event(args.workflow_run_event),
                                accept_label=args.accept_label)
    if outcome.stale:
        print("the PR head moved since the label changed: nothing updated")
        return 0
    state = f"accepted by {outcome.accepted_by}" if outcome.accepted else "not accepted"
    print(f"{args.accept_label}: {state}; {outcome.checks_updated} check runs and"
          f" {outcome.comments_updated} comments updated")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    if not args.machine:
        raise ConfigError("--prepare needs --machine NAME", hint="pass the hardware profile name")
    event = _load_event(args.prepare)
    meta = prbot.metadata_from_event(event, machine=args.machine, accept_label=args.accept_label)
    meta = prbot.with_extras(meta, base_sha=args.base_sha, base_fingerprint=args.base_fingerprint,
                             head_fingerprint=args.head_fingerprint,
                             dashboard_url=args.dashboard_url)
    if args.results_dir is not None:
        meta = prbot.with_extras(
            meta,
            base_fingerprint=prbot.fingerprint_in_results(args.results_dir, args.machine,
                                                          meta.base_sha),
            head_fingerprint=prbot.fingerprint_in_results(args.results_dir, args.machine,
                                                          meta.head_sha))
    prbot.write_metadata(args.artifact, meta)
    print(f"wrote {args.artifact / 'pr.json'} for PR #{meta.pr_number} at {meta.head_sha[:10]}")
    return 0


def _load_event(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read the event payload {path}: {err}",
                          hint="pass $GITHUB_EVENT_PATH") from err
