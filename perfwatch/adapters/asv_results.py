"""Read asv 0.6 results: ``benchmarks.json``, ``<machine>/machine.json`` and result files.

A narrow, read-only port modelled on asv's ``util.load_json(path, api_version)`` and
``results.Results.load``. Supported formats (asv writes the ``version`` key itself):

- result files: version 2 (asv >= 0.5). Each benchmark row is a list aligned with
  ``result_columns``; trailing columns may be absent. ``result`` holds one value per
  parameter combination in ``itertools.product(*params)`` order; a ``NaN`` value means
  the combination was skipped, ``null`` that it failed (a ``null`` row: all failed).
  ``samples`` holds the raw samples per combination when asv recorded them.
- ``benchmarks.json``: version 2. ``machine.json``: version 1.

Version 1 result files are converted by ``asv update``; newer versions are refused. Every
problem raises :class:`ResultsFormatError` naming the file, the key and the fix. Parsed
files are cached on (path, mtime, size), so re-reading an unchanged suite is cheap; inside
:func:`perfwatch.adapters.results_cache.persistent` that cache is also kept on disk.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from perfwatch.adapters import results_cache
from perfwatch.errors import ResultsError, ResultsFormatError
from perfwatch.model import Benchmark, FloatArray

__all__ = [
    "BENCHMARKS_VERSION",
    "MACHINE_VERSION",
    "RESULTS_VERSION",
    "BenchmarkResult",
    "Machine",
    "ResultsDir",
    "ResultsFile",
    "guess_benchmark",
    "load_benchmarks",
    "load_machine",
    "load_results_file",
    "scan_results_dir",
]

RESULTS_VERSION = 2
BENCHMARKS_VERSION = 2
MACHINE_VERSION = 1

# asv's benchmarks.json spells the memory types out; perfwatch uses the name prefixes.
_TYPE_ALIASES = {"memory": "mem", "peakmemory": "peakmem"}
_DEFAULT_UNITS = {"time": "seconds", "mem": "bytes", "peakmem": "bytes", "track": "unit"}
_SIMPLE_COLUMNS = frozenset(
    {"result", "params", "version", "started_at", "duration", "samples", "profile"}
)
_EMPTY: FloatArray = np.empty(0, dtype=np.float64)
_EMPTY.setflags(write=False)


@dataclass(frozen=True)
class Machine:
    """One ``machine.json``: the machine name and its free-form description."""

    name: str
    path: Path
    info: Mapping[str, str]


@dataclass(frozen=True)
class BenchmarkResult:
    """One benchmark's row in one result file.

    ``combos[i]`` is the i-th parameter combination (``None`` for an unparametrized
    benchmark); ``values[i]`` its asv result (``None`` failed, ``nan`` skipped) and
    ``samples[i]`` the raw samples, or the single result value when asv recorded no
    samples, or an empty array when skipped or failed.
    """

    name: str
    version: str | None
    combos: tuple[tuple[str, ...] | None, ...]
    values: tuple[float | None, ...]
    samples: tuple[FloatArray, ...]


@dataclass(frozen=True)
class ResultsFile:
    """One asv result file: one machine x commit x environment."""

    path: Path
    machine: str
    commit_hash: str
    env_name: str
    date: datetime | None
    results: Mapping[str, BenchmarkResult]


@dataclass(frozen=True)
class ResultsDir:
    """A scanned results directory: benchmark metadata, machines and result files."""

    path: Path
    benchmarks: Mapping[str, Benchmark]
    machines: Mapping[str, Machine]
    files: tuple[ResultsFile, ...]


def _format_error(path: Path, problem: str, fix: str, key: str | None = None) -> ResultsFormatError:
    where = f"{path}: key {key!r}: " if key else f"{path}: "
    return ResultsFormatError(where + problem, hint=fix, path=path)


def _load_json(path: Path, version: int, kind: str) -> dict[str, Any]:
    """Parse ``path`` and check its ``version`` like asv's ``util.load_json``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _format_error(path, f"{kind} file is missing", f"re-run asv to write {kind}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise _format_error(path, f"cannot read ({err})", "check the file's permissions") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise _format_error(
            path,
            f"corrupt or truncated JSON ({err.msg} at line {err.lineno} column {err.colno})",
            "delete this file and re-run asv for its commit",
        ) from None
    if not isinstance(data, dict):
        raise _format_error(path, "not a JSON object", "delete this file and re-run asv")
    if "version" not in data:
        raise _format_error(path, "missing", f"this is not an asv {kind} file", key="version")
    found = data["version"]
    if not isinstance(found, int) or found > version:
        raise _format_error(
            path,
            f"format version {found!r} is newer than {version}, the one perfwatch reads",
            "upgrade perfwatch, or write the results with asv 0.6",
            key="version",
        )
    if found < version:
        raise _format_error(
            path,
            f"old format version {found}",
            "run `asv update` to convert it to the current format",
            key="version",
        )
    return data


def _require(data: Mapping[str, Any], key: str, path: Path, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise _format_error(path, "missing", "the file is incomplete; re-run asv", key=key)
    value = data[key]
    if not isinstance(value, kind):
        raise _format_error(
            path, f"unexpected type {type(value).__name__}", "re-run asv to rewrite it", key=key
        )
    return value


def load_machine(path: Path) -> Machine:
    """Read one ``machine.json`` (version 1)."""
    data = _load_json(path, MACHINE_VERSION, "machine.json")
    name = _require(data, "machine", path, str)
    info = {str(k): str(v) for k, v in data.items() if k != "version"}
    return Machine(name=name, path=path, info=MappingProxyType(info))


def load_benchmarks(path: Path) -> dict[str, Benchmark]:
    """Read ``benchmarks.json`` (version 2): name -> :class:`Benchmark`."""
    data = _load_json(path, BENCHMARKS_VERSION, "benchmarks.json")
    out: dict[str, Benchmark] = {}
    for name, entry in data.items():
        if name == "version":
            continue
        if not isinstance(entry, dict):
            raise _format_error(path, "not an object", "re-run `asv run` to rewrite it", key=name)
        bench_type = str(entry.get("type", name.rsplit(".", 1)[-1].split("_", 1)[0]))
        bench_type = _TYPE_ALIASES.get(bench_type, bench_type)
        params = entry.get("params") or []
        if not isinstance(params, list) or not all(isinstance(p, list) for p in params):
            raise _format_error(path, f"{name}: params is not a list of lists", "re-run asv",
                                key="params")
        out[name] = Benchmark(
            name=name,
            type=bench_type,
            unit=str(entry.get("unit") or _DEFAULT_UNITS.get(bench_type, "unit")),
            version=str(entry.get("version") or ""),
            param_names=tuple(str(p) for p in entry.get("param_names") or ()),
            params=tuple(tuple(str(v) for v in axis) for axis in params),
        )
    return out


def guess_benchmark(name: str, version: str | None) -> Benchmark:
    """Metadata for a benchmark that results name but ``benchmarks.json`` does not."""
    prefix = name.rsplit(".", 1)[-1].split("_", 1)[0]
    bench_type = prefix if prefix in _DEFAULT_UNITS else "track"
    return Benchmark(name=name, type=bench_type, unit=_DEFAULT_UNITS[bench_type],
                     version=version or "")


def _as_float(value: Any, path: Path, name: str) -> float | None:
    if value is None or type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise _format_error(path, f"{name}: result {value!r} is not a number", "re-run asv",
                            key="results")
    return float(value)


def _sample_array(raw: Any, value: float | None, path: Path, name: str) -> FloatArray:
    if value is None or math.isnan(value):  # failed or skipped
        return _EMPTY
    if raw is None:
        arr = np.array([value], dtype=np.float64)
    elif _all_finite(raw):  # the common case, checked without numpy's per-call overhead
        arr = np.array(raw, dtype=np.float64)
    else:
        try:
            arr = np.array(raw, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise _format_error(path, f"{name}: samples are not numbers", "re-run asv",
                                key="samples") from None
        finite = np.isfinite(arr)
        arr = arr[finite] if finite.any() else np.array([value], dtype=np.float64)
    arr.setflags(write=False)
    return arr


def _all_finite(raw: Any) -> bool:
    try:
        return bool(raw) and math.isfinite(sum(raw))
    except TypeError:  # None (a failed sample), nested lists or strings
        return False


@dataclass(frozen=True)
class _Layout:
    """Where the columns perfwatch reads sit in each row of one result file (-1: absent)."""

    result: int
    params: int
    version: int
    samples: int

    @classmethod
    def of(cls, columns: list[str]) -> _Layout:
        def at(col: str) -> int:
            return columns.index(col) if col in columns else -1

        return cls(at("result"), at("params"), at("version"), at("samples"))


def _cell(row: list[Any], index: int) -> Any:
    """One column of a row; asv may leave trailing columns out."""
    return row[index] if 0 <= index < len(row) else None


_Combos = tuple[tuple[str, ...] | None, ...]
_NUMBER_TYPES = frozenset({float, type(None)})


def _combos(params: Any, path: Path, name: str, memo: dict[str, _Combos]) -> _Combos:
    """Parameter combinations in ``itertools.product`` order (memoised per file)."""
    if not params:
        return (None,)
    key = repr(params)
    if key not in memo:
        if not isinstance(params, list) or not all(isinstance(p, list) for p in params):
            raise _format_error(path, f"{name}: params is not a list of lists", "re-run asv",
                                key="params")
        memo[key] = tuple(tuple(str(v) for v in c) for c in itertools.product(*params))
    return memo[key]


def _values(result: Any, n: int, path: Path, name: str) -> tuple[float | None, ...]:
    if result is None:
        return (None,) * n
    if isinstance(result, list) and len(result) == n:
        if _NUMBER_TYPES.issuperset(map(type, result)):
            return tuple(result)
        return tuple(_as_float(v, path, name) for v in result)
    raise _format_error(
        path,
        f"{name}: 'result' must hold one value per parameter combination ({n})",
        "the file is damaged; re-run asv for this commit",
        key="results",
    )


def _parse_row(name: str, row: list[Any], layout: _Layout, path: Path,
               memo: dict[str, _Combos]) -> BenchmarkResult:
    combos = _combos(_cell(row, layout.params), path, name, memo)
    values = _values(_cell(row, layout.result), len(combos), path, name)
    raw = _cell(row, layout.samples)
    if not (isinstance(raw, list) and len(raw) == len(combos)):
        raw = [None] * len(combos)
    version = _cell(row, layout.version)
    if len(combos) == 1:
        samples: tuple[FloatArray, ...] = (_sample_array(raw[0], values[0], path, name),)
    else:
        samples = tuple(_sample_array(s, v, path, name) for s, v in zip(raw, values, strict=True))
    return BenchmarkResult(
        name=name,
        version=str(version) if version is not None else None,
        combos=combos,
        values=values,
        samples=samples,
    )


def _parse_results(path: Path, machine: str) -> ResultsFile:
    data = _load_json(path, RESULTS_VERSION, "results")
    commit = _require(data, "commit_hash", path, str)
    env_name = _require(data, "env_name", path, str)
    columns = _require(data, "result_columns", path, list)
    rows = _require(data, "results", path, dict)
    for col in columns:
        if col not in _SIMPLE_COLUMNS and not str(col).startswith("stats_"):
            raise _format_error(path, f"unknown column {col!r}", "upgrade perfwatch",
                                key="result_columns")
    if "result" not in columns:
        raise _format_error(path, "has no 'result' column", "re-run asv", key="result_columns")
    date_ms = data.get("date")
    date = (
        datetime.fromtimestamp(date_ms / 1000, tz=UTC)
        if isinstance(date_ms, int | float) and not isinstance(date_ms, bool)
        else None
    )
    parsed: dict[str, BenchmarkResult] = {}
    layout = _Layout.of(columns)
    memo: dict[str, _Combos] = {}
    for name, row in rows.items():
        if not isinstance(row, list):
            raise _format_error(path, f"{name}: row is not a list", "re-run asv", key="results")
        parsed[name] = _parse_row(name, row, layout, path, memo)
    return ResultsFile(
        path=path,
        machine=machine,
        commit_hash=commit,
        env_name=env_name,
        date=date,
        results=MappingProxyType(parsed),
    )


@lru_cache(maxsize=4096)
def _cached_results(path: str, machine: str, mtime_ns: int, size: int) -> ResultsFile:
    return _parse_results(Path(path), machine)


def load_results_file(path: Path, machine: str) -> ResultsFile:
    """Read one result file (format version 2); cached while the file is unchanged."""
    try:
        st = path.stat()
    except OSError as err:
        raise _format_error(path, f"cannot read ({err.strerror})", "check the path") from None
    return _cached_results(str(path.resolve()), machine, st.st_mtime_ns, st.st_size)


def _result_paths(machine_dir: Path) -> Iterator[Path]:
    for path in sorted(machine_dir.glob("*.json")):
        # asv skips these two names anywhere in results_dir (results.iter_results_paths)
        if path.name not in ("machine.json", "benchmarks.json") and not path.name.startswith("."):
            yield path


def scan_results_dir(results_dir: Path, *, machine: str | None = None) -> ResultsDir:
    """Read every machine (or only ``machine``) of an asv results directory."""
    if not results_dir.is_dir():
        raise ResultsError(
            f"results directory {results_dir} does not exist",
            hint="pass the asv results_dir (often .asv/results)",
            path=results_dir,
        )
    if not (results_dir / "benchmarks.json").is_file():
        raise ResultsError(
            f"{results_dir} has no benchmarks.json, so it is not an asv results directory",
            hint="pass asv's results_dir (often .asv/results); `asv run` writes benchmarks.json",
            path=results_dir,
        )
    benchmarks = load_benchmarks(results_dir / "benchmarks.json")
    machines: dict[str, Machine] = {}
    files: list[ResultsFile] = []
    for sub in sorted(p for p in results_dir.iterdir() if p.is_dir()):
        if not any(_result_paths(sub)):
            continue
        info = load_machine(sub / "machine.json")
        if machine is not None and info.name != machine:
            continue
        machines[info.name] = info
        if results_cache.active():
            files.extend(results_cache.load_machine_files(
                results_dir, sub, info.name, list(_result_paths(sub)), load_results_file))
        else:
            files.extend(load_results_file(p, info.name) for p in _result_paths(sub))
    if machine is not None and machine not in machines:
        raise ResultsError(
            f"no results for machine {machine!r} in {results_dir}",
            hint="pick one of: " + (", ".join(_machine_names(results_dir)) or "(none)"),
            path=results_dir,
        )
    if not files:
        raise ResultsError(
            f"no asv result files in {results_dir}",
            hint="run `asv run` first, or pass the directory that holds <machine>/ subfolders",
            path=results_dir,
        )
    return ResultsDir(results_dir, MappingProxyType(benchmarks), MappingProxyType(machines),
                      tuple(files))


def _machine_names(results_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in results_dir.glob("*/machine.json"))
