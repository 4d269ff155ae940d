"""The PR bot's results artifact: ``compare.json`` + ``pr.json`` (docs/pr-bot.md).

- ``compare.json``: the output of ``perfwatch compare --json``
  (``{"version": 1, "comparisons": [{...}, ...]}``, one object per comparison);
- ``pr.json``: ``{"version": 1, "pr_number", "head_sha", "base_sha", "machine",
  "base_fingerprint", "head_fingerprint", "labels", "accepted_by", "dashboard_url",
  "graph_links", "flamegraph_links"}``, written by ``perfwatch comment --prepare EVENT``
  from the ``pull_request`` event payload.

Reading checks the version and every field, and raises :class:`ResultsFormatError`
naming the file; nothing here decides what to trust (see :mod:`perfwatch.prbot`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from perfwatch.errors import ConfigError, ResultsFormatError
from perfwatch.model import Comparison, Direction, SeriesKey, Verdict, direction_for

__all__ = [
    "ACCEPT_LABEL",
    "ARTIFACT_VERSION",
    "PrMetadata",
    "ResultsArtifact",
    "comparison_from_json",
    "comparison_to_json",
    "fingerprint_in_results",
    "metadata_from_event",
    "read_artifact",
    "read_comparisons",
    "read_metadata",
    "with_extras",
    "write_artifact",
    "write_metadata",
]

ACCEPT_LABEL = "perf-regression-accepted"
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
