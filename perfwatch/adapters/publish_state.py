"""The state a republish after new commits starts from (see :mod:`perfwatch.publish_append`).

One ``.npz`` file, ``<results_dir>/.perfwatch/publish-state.v1.npz`` (no pickles):

- ``header``: a JSON document: the ``stamp`` the state is valid for (code and
  configuration identities), the analysed ``branch``, the files of the results directory
  (relative path -> stamp, ``asv_site_cache.input_stamps``) and each machine folder's
  machine name, the analysed ``commits`` (sha, committer time, summary), the series
  (benchmark, parameters, machine label, unit, direction), the machine labels of
  (machine, environment) and the benchmark versions that count;
- ``measured`` (commits x series, bool): whether a series has samples at a commit;
- ``medians`` (series x commits, float64): per-commit medians (NaN: no result);
- ``lone_series``, ``lone_offsets``, ``lone_flat``: the samples of each series measured at
  one commit only (its level band is the interval of those samples; a series measured at
  two or more commits needs only its medians);
- ``data_sizes`` (int64, per series): the size of its page's data file;
- the detection states of the series (:mod:`perfwatch.adapters.detection_cache`'s arrays,
  keyed by series index).

Written atomically. A file of another version, or one that cannot be read, is no state
(the next publish is a full one).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from perfwatch.adapters.detection_cache import states_from_arrays, states_to_arrays
from perfwatch.adapters.results_cache import save_npz
from perfwatch.model import Commit, Direction, FloatArray, SeriesKey
from perfwatch.stats.incremental import DetectionState

__all__ = ["PublishState", "SeriesMeta", "load_state", "save_state", "state_path"]

STATE_FORMAT = "perfwatch-publish-state"
STATE_VERSION = 1

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SeriesMeta:
    """One series as a page and a change need it (samples aside)."""

    key: SeriesKey
    unit: str
    direction: Direction
    commits: tuple[Commit, ...]


@dataclass(frozen=True)
class PublishState:
    stamp: Mapping[str, str]
    branch: str
    files: Mapping[str, str]  # every input file (relative path) -> its stamp (input_stamps)
    machine_dirs: Mapping[str, str]  # machine folder -> machine name (machine.json)
    commits: tuple[Commit, ...]
    series: tuple[SeriesMeta, ...]
    labels: Mapping[tuple[str, str], str]  # (machine, env) -> machine label of its series
    versions: Mapping[str, str | None]
    measured: NDArray[np.bool_]  # (commits, series)
    medians: FloatArray  # (series, commits)
    lone: Mapping[int, FloatArray]  # series measured at one commit -> its samples there
    data_sizes: IntArray  # (series,)
    states: tuple[DetectionState | None, ...]  # per series


def state_path(results_dir: Path) -> Path:
    return results_dir / ".perfwatch" / f"publish-state.v{STATE_VERSION}.npz"


def _header(state: PublishState) -> str:
    return json.dumps({
        "format": STATE_FORMAT, "version": STATE_VERSION, "stamp": dict(state.stamp),
        "branch": state.branch, "files": dict(state.files),
        "machine_dirs": dict(state.machine_dirs),
        "commits": [[c.sha, int(c.date.timestamp()), c.summary] for c in state.commits],
        "series": [[m.key.benchmark, None if m.key.params is None else list(m.key.params),
                    m.key.machine, m.unit, m.direction.value] for m in state.series],
        "labels": [[m, e, label] for (m, e), label in state.labels.items()],
        "versions": dict(state.versions),
    })


def save_state(path: Path, state: PublishState) -> None:
    present = {str(i): s for i, s in enumerate(state.states) if s is not None}
    lone = sorted(state.lone)
    sizes = np.array([state.lone[i].size for i in lone], dtype=np.int64)
    arrays: dict[str, NDArray[Any]] = {
        "header": np.array(_header(state)), "measured": state.measured,
        "medians": state.medians, "data_sizes": state.data_sizes,
        "lone_series": np.array(lone, dtype=np.int64),
        "lone_offsets": np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        "lone_flat": np.concatenate([state.lone[i] for i in lone]) if lone else np.empty(0)}
    arrays.update({f"states_{k}": v for k, v in states_to_arrays(present).items()})
    save_npz(path, arrays)


def _series(rows: Sequence[Any], commits: tuple[Commit, ...]) -> tuple[SeriesMeta, ...]:
    return tuple(SeriesMeta(SeriesKey(b, None if p is None else tuple(p), m), unit,
                            Direction(d), commits) for b, p, m, unit, d in rows)


def _lone(arrays: Mapping[str, NDArray[Any]]) -> dict[int, FloatArray]:
    cuts = arrays["lone_offsets"].tolist()
    flat = arrays["lone_flat"]
    return {int(i): flat[cuts[k]:cuts[k + 1]] for k, i in enumerate(arrays["lone_series"].tolist())}


def load_state(path: Path) -> PublishState | None:
    """The state at ``path``; None when there is none, or it cannot be used."""
    try:
        with np.load(path, allow_pickle=False) as data:
            head = json.loads(str(data["header"]))
            if head.get("format") != STATE_FORMAT or head.get("version") != STATE_VERSION:
                return None
            arrays = {k: data[k] for k in data.files}
        commits = tuple(Commit(sha, datetime.fromtimestamp(ts, tz=UTC), summary)
                        for sha, ts, summary in head["commits"])
        series = _series(head["series"], commits)
        found = states_from_arrays({k.removeprefix("states_"): v for k, v in arrays.items()
                                    if k.startswith("states_")})
        states = tuple(found.get(str(i)) for i in range(len(series)))
        return PublishState(
            stamp=head["stamp"], branch=head["branch"],
            files={str(k): str(v) for k, v in head["files"].items()},
            machine_dirs=head["machine_dirs"], commits=commits, series=series,
            labels={(m, e): label for m, e, label in head["labels"]},
            versions=head["versions"], measured=arrays["measured"], medians=arrays["medians"],
            lone=_lone(arrays), data_sizes=arrays["data_sizes"], states=states)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None
