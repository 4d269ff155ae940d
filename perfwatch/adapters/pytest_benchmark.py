"""Read a pytest-benchmark JSON file (``pytest --benchmark-json``) as one-commit series.

Each benchmark becomes a :class:`Series` with a single commit whose samples are the
per-round times in ``stats.data`` (written with ``--benchmark-save-data``); without
them the median is used as a single sample, which can only give "unsure" verdicts.
Files of pytest-benchmark 3.x to 5.x are read; the layout has been stable across them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from perfwatch.errors import ResultsFormatError
from perfwatch.model import Commit, Direction, Series, SeriesKey, as_array

__all__ = ["SUPPORTED_MAJOR_VERSIONS", "load_pytest_benchmark", "machine_of"]

SUPPORTED_MAJOR_VERSIONS = frozenset({3, 4, 5})


def _error(path: Path, problem: str, fix: str, key: str | None = None) -> ResultsFormatError:
    where = f"{path}: key {key!r}: " if key else f"{path}: "
    return ResultsFormatError(where + problem, hint=fix, path=path)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _error(path, "file not found", "pass the file written by --benchmark-json") from None
    except json.JSONDecodeError as err:
        raise _error(path, f"corrupt or truncated JSON ({err.msg} at line {err.lineno})",
                     "re-run pytest --benchmark-json to write it again") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise _error(path, "missing or not a list", "this is not a pytest-benchmark JSON file",
                     key="benchmarks")
    version = str(data.get("version", ""))
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) not in SUPPORTED_MAJOR_VERSIONS:
        raise _error(path, f"pytest-benchmark version {version!r} is not one perfwatch reads "
                     f"(3.x-5.x)", "write the file with pytest-benchmark 5, or upgrade perfwatch",
                     key="version")
    return data


def _commit(data: dict[str, Any]) -> Commit:
    info = data.get("commit_info") or {}
    sha = str(info.get("id") or "unversioned")
    try:
        date = datetime.fromisoformat(str(data.get("datetime")))
    except ValueError:
        date = datetime(1970, 1, 1, tzinfo=UTC)
    return Commit(sha=sha, date=date, summary=str(info.get("project") or ""))


def _key(bench: dict[str, Any], machine: str) -> SeriesKey:
    fullname = str(bench.get("fullname") or bench.get("name"))
    params = bench.get("params")
    if isinstance(params, dict) and params:
        return SeriesKey(fullname.split("[", 1)[0], tuple(str(v) for v in params.values()),
                         machine)
    if bench.get("param") is not None:
        return SeriesKey(fullname.split("[", 1)[0], (str(bench["param"]),), machine)
    return SeriesKey(fullname, None, machine)


def _samples(bench: dict[str, Any], path: Path) -> np.ndarray[Any, np.dtype[np.float64]]:
    stats = bench.get("stats")
    if not isinstance(stats, dict):
        raise _error(path, f"{bench.get('fullname')}: missing", "re-run pytest-benchmark",
                     key="stats")
    try:
        data = as_array(stats.get("data") or [])
        if data.size == 0 and stats.get("median") is not None:
            data = as_array([float(stats["median"])])
    except (TypeError, ValueError):
        raise _error(path, f"{bench.get('fullname')}: samples are not numbers",
                     "re-run pytest-benchmark", key="stats") from None
    return data


def machine_of(path: Path) -> str:
    """The machine (``machine_info.node``) a pytest-benchmark file was written on."""
    return str((_load(path).get("machine_info") or {}).get("node") or "unknown")


def load_pytest_benchmark(path: Path, *, machine: str | None = None) -> list[Series]:
    """One single-commit series per benchmark in the file, in file order.

    ``machine`` overrides the file's own machine name (to compare files from two hosts).
    """
    data = _load(path)
    machine = machine or str((data.get("machine_info") or {}).get("node") or "unknown")
    commit = _commit(data)
    out: dict[SeriesKey, Series] = {}
    for bench in data["benchmarks"]:
        if not isinstance(bench, dict) or not (bench.get("fullname") or bench.get("name")):
            raise _error(path, "a benchmark without a name", "re-run pytest-benchmark",
                         key="benchmarks")
        key = _key(bench, machine)
        out.setdefault(key, Series(key, "seconds", Direction.LOWER_IS_BETTER, (commit,),
                                   (_samples(bench, path),)))
    return list(out.values())
