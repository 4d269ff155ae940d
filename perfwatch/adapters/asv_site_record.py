"""What :func:`perfwatch.adapters.asv_site.write_site` records about the site it wrote, and
the checks of that record that decide whether new results can be appended
(:mod:`perfwatch.adapters.asv_site_append`).

The record (``<results_dir>/.perfwatch/asv-site-append.v<N>``): the inputs' sizes and mtimes,
the configuration, asv's installation and the localised ``index.html``, git's tags and the
configured branches' first-parent histories, the graphs' parameter sets, each graph's
description, and (in :class:`~perfwatch.adapters.asv_site_cache.GraphValues`) its values as
arrays.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_graph import GraphSet, graph_arrays
from perfwatch.adapters.asv_results import ResultsFile
from perfwatch.adapters.asv_site_cache import (
    CACHE_VERSION,
    GraphValues,
    digest,
    file_stamp,
    first_parents,
    input_stamps,
    revision_numbers,
    tags_digest,
)
from perfwatch.adapters.publish_cache import read_entries, write_entries
from perfwatch.errors import PerfwatchError

__all__ = ["GitNow", "NotAppendable", "git_now", "load_state", "param_key", "record",
           "same_sources", "save_state"]

_KIND = "append"


class NotAppendable(Exception):
    """Why the new results cannot be appended (``write_site`` has to run)."""


def _state_path(config: AsvConfig) -> Path:
    return config.results_dir / ".perfwatch" / f"asv-site-append.v{CACHE_VERSION}"


def load_state(config: AsvConfig) -> dict[str, Any]:
    """The record of the last write (empty when there is none)."""
    return read_entries(_state_path(config), _KIND)


def save_state(config: AsvConfig, state: dict[str, Any]) -> None:
    write_entries(_state_path(config), _KIND, state)


def _asv_stamp() -> str | None:
    spec = importlib.util.find_spec("asv")
    return None if spec is None or spec.origin is None else file_stamp(Path(spec.origin))


def param_key(params: Mapping[str, Any]) -> str:
    """A graph parameter set as the record's key."""
    return json.dumps(params, sort_keys=True)


def _git_branches(config: AsvConfig, names: Mapping[str | None, str]
                  ) -> list[tuple[str | None, str, list[str]]]:
    repo = config.local_repo()
    return [(b, names[b], first_parents(repo, names[b])) for b in config.branches]


def record(config: AsvConfig, graphs: GraphSet, params: Mapping[str, set[Any]],
           branch_names: Mapping[str | None, str], asv_version: str) -> None:
    """Save what :func:`~perfwatch.adapters.asv_site_append.append_site` needs (called by
    ``write_site`` once it wrote the site). When git cannot tell, no record is left: the
    next publish is a full one."""
    try:
        state = _state(config, graphs, params, branch_names, asv_version)
    except (subprocess.CalledProcessError, OSError, PerfwatchError):
        with contextlib.suppress(OSError):
            _state_path(config).unlink(missing_ok=True)
        return
    save_state(config, state)


def _state(config: AsvConfig, graphs: GraphSet, params: Mapping[str, set[Any]],
           branch_names: Mapping[str | None, str], asv_version: str) -> dict[str, Any]:
    repo = config.local_repo()
    graph_rows: dict[str, Any] = {}
    groups: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    values = GraphValues(config.results_dir)
    for path, g in graphs:
        rel = Path(path).as_posix()
        graph_rows[rel] = {
            "b": g.benchmark_name, "m": g.machine, "br": g.branch, "envs": sorted(g.envs),
            "n": g.raw_series(), "s": g.scalar_series, "p": g.pending_revisions(),
            "a": g.asv_steps}
        groups.setdefault(g.benchmark_name, []).append(rel)
        names[g.benchmark_name] = os.path.basename(path)
        values.revs[rel], values.vals[rel] = graph_arrays(g)
    return {
        "html_dir": str(config.html_dir), "config": file_stamp(config.path),
        "branch": config.branch, "asv": _asv_stamp(), "asv_version": asv_version,
        "index_html": file_stamp(config.html_dir / "index.html"),
        "tags": tags_digest(repo),
        "branches": [[b, name, len(fp), digest(fp)]
                     for b, name, fp in _git_branches(config, branch_names)],
        "inputs": input_stamps(config.results_dir),
        "param_keys": list(params),
        "param_sets": {param_key(p.params): Path(p.prefix).as_posix()
                       for p in graphs.param_sets()},
        "names": names, "graphs": graph_rows, "groups": groups,
        "values": values.save(list(graph_rows)),
    }


# ------------------------------------------------------------------ checks


def same_sources(config: AsvConfig, state: Mapping[str, Any], new: Sequence[ResultsFile],
                 now: Mapping[str, str]) -> None:
    """The site's inputs are those of the last write plus the files of ``new``."""
    if state.get("html_dir") != str(config.html_dir) or state.get("branch") != config.branch:
        raise NotAppendable("the site was last written for another html_dir or branch")
    if state.get("config") != file_stamp(config.path):
        raise NotAppendable("asv.conf.json changed")
    if state.get("asv") != _asv_stamp():
        raise NotAppendable("asv's installation changed")
    if state.get("index_html") != file_stamp(config.html_dir / "index.html"):
        raise NotAppendable("index.html changed")
    old: Mapping[str, str] = state.get("inputs", {})
    added = {os.path.relpath(f.path, config.results_dir) for f in new}
    if added & set(old):
        raise NotAppendable("a new file was already on the site")
    if set(now) != set(old) | added:
        raise NotAppendable("files other than the new ones were added or removed")
    if any(now[rel] != stamp for rel, stamp in old.items()):
        raise NotAppendable("an input file changed")


@dataclass
class GitNow:
    revisions: dict[str, int]
    on: dict[str, list[str | None]]  # new commit -> the configured branches it is on
    branches: list[list[Any]]  # the state's record of the branches, updated


def git_now(config: AsvConfig, state: Mapping[str, Any], old_hashes: Mapping[str, str]
            ) -> GitNow:
    """Revisions and branches now (git's history may only have grown at the branch tips);
    a git failure refuses the append."""
    try:
        return _git_now(config, state, old_hashes)
    except (subprocess.CalledProcessError, OSError, PerfwatchError) as err:
        raise NotAppendable(f"git: {err}") from None


def _git_now(config: AsvConfig, state: Mapping[str, Any], old_hashes: Mapping[str, str]
             ) -> GitNow:
    repo = config.local_repo()
    if tags_digest(repo) != state.get("tags"):
        raise NotAppendable("a tag was added, moved or removed")
    revisions = revision_numbers(repo)
    if any(revisions.get(sha) != int(rev) for rev, sha in old_hashes.items()):
        raise NotAppendable("the revision number of a commit on the site changed")
    on: dict[str, list[str | None]] = {}
    branches = []
    known = set(old_hashes.values())
    for b, name, n, old_digest in state.get("branches", []):
        fp = first_parents(repo, name)
        grown = len(fp) - n
        if grown < 0 or digest(fp[grown:]) != old_digest or known.intersection(fp[:grown]):
            raise NotAppendable(f"branch {name} was rewritten or took commits on the site")
        for sha in fp:
            on.setdefault(sha, []).append(b)
        branches.append([b, name, len(fp), digest(fp)])
    return GitNow(revisions, on, branches)
