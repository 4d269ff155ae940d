"""What a full publish leaves for the next one to append new commits to
(:mod:`perfwatch.publish_append`): the listing of the results directory, the stamp the
state is valid for, and the state itself (:mod:`perfwatch.adapters.publish_state`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from perfwatch import __version__
from perfwatch.adapters import asv_publish
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.asv_results import ResultsDir
from perfwatch.adapters.publish_cache import sources_hash
from perfwatch.adapters.publish_state import PublishState, SeriesMeta, save_state, state_path
from perfwatch.analysis import History, series_layout
from perfwatch.model import FloatArray
from perfwatch.publish_pages import SERIES_DATA_DIR, series_slug
from perfwatch.report.levels import commit_medians
from perfwatch.stats.incremental import DetectionState

__all__ = ["capture_state", "data_file_paths", "state_stamp"]

def state_stamp(config: AsvConfig, *, detector: str, renderer: str) -> dict[str, str]:
    """What a state is valid for: perfwatch's code, the asv configuration, the paths."""
    here = Path(__file__).parent
    code = sources_hash([here / "publish_append.py", here / "publish_snapshot.py",
                         here / "publish.py", here / "publish_findings.py",
                         here / "publish_pages.py"])
    return {"perfwatch": __version__, "code": code, "detector": detector,
            "renderer": renderer,
            "config": hashlib.sha256(config.path.read_bytes()).hexdigest(),
            "results_dir": str(config.results_dir.resolve()),
            "html_dir": str(config.html_dir.resolve()),
            "repo": str(config.local_repo().resolve()), "branch": str(config.branch)}


def data_file_paths(root: Path, metas: Sequence[SeriesMeta]) -> list[Path]:
    """Each series page's data file under ``html_dir/perfwatch``."""
    return [root / SERIES_DATA_DIR / f"{series_slug(m.key)}.js" for m in metas]


def capture_state(config: AsvConfig, *, stamp: Mapping[str, str],
                  listing: Mapping[str, str], rd: ResultsDir, history: History,
                  states: Sequence[DetectionState | None]) -> None:
    """Save what the next :func:`try_append` starts from, after a full publish of ``rd``
    (listed as ``listing`` before it was read) analysed as ``history``."""
    labels, versions = series_layout(rd, history)
    n_series, n_commits = len(history.series), len(history.commits)
    measured = np.zeros((n_commits, n_series), dtype=np.bool_)
    medians = np.empty((n_series, n_commits))
    lone: dict[int, FloatArray] = {}
    for i, s in enumerate(history.series):
        where = s.measured
        measured[where, i] = True
        medians[i] = commit_medians(s)
        if len(where) == 1:
            lone[i] = s.samples[where[0]]
    metas = tuple(SeriesMeta(s.key, s.unit, s.direction, history.commits)
                  for s in history.series)
    root = config.html_dir / asv_publish.PERFWATCH_DIR
    try:
        sizes = np.array([p.stat().st_size for p in data_file_paths(root, metas)], dtype=np.int64)
    except OSError:
        return  # pages missing: no state, the next publish is a full one
    machine_dirs = {m.path.parent.name: name for name, m in rd.machines.items()}
    state = PublishState(
        stamp=dict(stamp), branch=history.branch, files=dict(listing), machine_dirs=machine_dirs,
        commits=history.commits, series=metas, labels=labels,
        versions=dict(versions), measured=measured, medians=medians, lone=lone,
        data_sizes=sizes, states=tuple(states))
    try:
        save_state(state_path(config.results_dir), state)
    except OSError:
        pass  # a read-only results directory: every publish is a full one
