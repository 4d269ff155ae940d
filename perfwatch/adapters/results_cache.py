"""A persistent cache of parsed asv result files, so a republish parses only new files.

Opt-in per use case: inside :func:`persistent`, :func:`perfwatch.adapters.asv_results.
scan_results_dir` reads each machine's result files through :func:`load_machine_files`.
Each result file is keyed by (file name, size, mtime in ns); only files that are new or
changed are parsed (by the caller's parser); the cache is rewritten when anything changed.

Format: numpy ``.npz`` segments (no pickles) in
``<results_dir>/.perfwatch/results-v1/<machine folder>/seg-<n>.npz`` (no ``.json``
suffix: asv reads every ``*.json`` under the results directory); each holds:

- ``header``: JSON ``{"format", "version", "names", "versions", "combos", "files"}``;
  ``files`` lists ``[file name, size, mtime_ns, commit, env, ISO date | null]``;
  ``names``/``versions``/``combos`` are tables the integer arrays index.
- ``rows`` (int64, n_rows x 4): ``[file, name, version (-1: none), combos]``, files in order.
- ``cells`` (int64, n_cells x 2): per row and combination, ``[failed, n_samples]``.
- ``values`` (float64, n_cells): the asv result (``nan`` when skipped or failed).
- ``samples`` (float64): every cell's samples, concatenated.

A file of another format or version, or an unreadable one, is ignored (rebuilt).
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from perfwatch.model import FloatArray

if TYPE_CHECKING:  # avoids an import cycle at run time
    from perfwatch.adapters.asv_results import BenchmarkResult, ResultsFile

__all__ = ["CACHE_FORMAT", "CACHE_VERSION", "MAX_SEGMENTS", "active", "cache_dir", "forget",
           "load_machine_files", "persistent", "save_npz"]

CACHE_FORMAT = "perfwatch-results-cache"
CACHE_VERSION = 1
MAX_SEGMENTS = 16  # more segments than this are merged into one

_ACTIVE: ContextVar[bool] = ContextVar("perfwatch_results_cache", default=False)
_EMPTY: FloatArray = np.empty(0, dtype=np.float64)
_EMPTY.setflags(write=False)

Parser = Callable[[Path, str], "ResultsFile"]
_Combos = tuple[tuple[str, ...] | None, ...]
IntArray = NDArray[np.int64]
_T = TypeVar("_T")


@contextmanager
def persistent() -> Iterator[None]:
    """Within this block, scanning a results directory uses the on-disk cache."""
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active() -> bool:
    return _ACTIVE.get()


def cache_dir(results_dir: Path, machine_dir: Path) -> Path:
    return results_dir / ".perfwatch" / f"results-v{CACHE_VERSION}" / machine_dir.name


@dataclass(frozen=True)
class _Stamp:
    name: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> _Stamp:
        st = path.stat()
        return cls(path.name, st.st_size, st.st_mtime_ns)


def load_machine_files(results_dir: Path, machine_dir: Path, machine: str,
                       paths: Sequence[Path], parse: Parser) -> list[ResultsFile]:
    """The parsed result files ``paths`` of one machine folder, through the cache.

    The cache is a folder of segments; the files parsed in one run are added as one new
    segment, so a new commit writes only its own results. When segments hold files that
    are gone or changed, or there are more than :data:`MAX_SEGMENTS`, they are merged.
    """
    folder = cache_dir(results_dir, machine_dir)
    segments = sorted(folder.glob("seg-*.npz"), key=_segment_number)
    cached: dict[_Stamp, ResultsFile] = {}
    unusable = False
    for seg in segments:
        found = _read_memo(seg, machine_dir, machine)
        unusable |= found is None
        cached.update(found or {})
    try:
        stamps = [_Stamp.of(p) for p in paths]
    except OSError:  # a file vanished or is unreadable: the parser says so with a hint
        return [parse(p, machine) for p in paths]
    out: list[ResultsFile] = []
    fresh: list[tuple[_Stamp, ResultsFile]] = []
    for path, stamp in zip(paths, stamps, strict=True):
        hit = cached.get(stamp)
        if hit is None:
            hit = parse(path, machine)
            fresh.append((stamp, hit))
        out.append(hit)
    stale = unusable or len(cached) + len(fresh) != len(paths)
    try:
        if stale or len(segments) >= MAX_SEGMENTS:
            _write_memo(folder / "seg-0.npz", list(zip(stamps, out, strict=True)))
            for seg in segments:
                if seg.name != "seg-0.npz":
                    seg.unlink()
        elif fresh:
            n = _segment_number(segments[-1]) + 1 if segments else 0
            _write_memo(folder / f"seg-{n}.npz", fresh)
    except OSError:
        pass  # a read-only results directory: no cache, same results
    return out


def _segment_number(path: Path) -> int:
    try:
        return int(path.stem.removeprefix("seg-"))
    except ValueError:
        return -1


# ------------------------------------------------------------------ writing


class _Tables:
    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        self.versions: dict[str, int] = {}
        self.combos: dict[str, int] = {}
        self._combo_ids: dict[_Combos, int] = {}

    @staticmethod
    def _id(table: dict[str, int], value: str) -> int:
        return table.setdefault(value, len(table))

    def combo_id(self, combos: _Combos) -> int:
        found = self._combo_ids.get(combos)
        if found is None:
            raw = None if combos == (None,) else [list(c or ()) for c in combos]
            found = self._combo_ids[combos] = self._id(self.combos, json.dumps(raw))
        return found


def _write(path: Path, entries: list[tuple[_Stamp, ResultsFile]]) -> None:
    t = _Tables()
    files, rows, cells, values, samples = [], [], [], [], []
    for i, (stamp, rf) in enumerate(entries):
        date = None if rf.date is None else rf.date.isoformat()
        files.append([stamp.name, stamp.size, stamp.mtime_ns, rf.commit_hash, rf.env_name, date])
        for name, row in rf.results.items():
            version = -1 if row.version is None else t._id(t.versions, row.version)
            rows.append((i, t._id(t.names, name), version, t.combo_id(row.combos)))
            for value, arr in zip(row.values, row.samples, strict=True):
                cells.append((int(value is None), arr.size))
                values.append(np.nan if value is None else value)
                samples.append(arr)
    header = json.dumps({"format": CACHE_FORMAT, "version": CACHE_VERSION,
                         "names": list(t.names), "versions": list(t.versions),
                         "combos": [json.loads(c) for c in t.combos], "files": files})
    save_npz(path, {"header": np.array(header),
                    "rows": np.array(rows, dtype=np.int64).reshape(-1, 4),
                    "cells": np.array(cells, dtype=np.int64).reshape(-1, 2),
                    "values": np.array(values, dtype=np.float64),
                    "samples": np.concatenate(samples) if samples else _EMPTY})


def save_npz(path: Path, arrays: Mapping[str, NDArray[Any]]) -> None:
    """Write ``arrays`` as an .npz file atomically (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ------------------------------------------------------------------ reading


# Segments decoded in this process, by (path, size, mtime): a use case that scans the
# results directory twice (publish: asv's site and perfwatch's history) decodes once.
_MEMO: dict[tuple[str, int, int], dict[_Stamp, ResultsFile] | None] = {}


def _read_memo(path: Path, machine_dir: Path, machine: str
               ) -> dict[_Stamp, ResultsFile] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _MEMO:
        if len(_MEMO) > 4 * MAX_SEGMENTS:
            _MEMO.clear()
        _MEMO[key] = _read(path, machine_dir, machine)
    return _MEMO[key]


def _write_memo(path: Path, entries: list[tuple[_Stamp, ResultsFile]]) -> None:
    _write(path, entries)
    st = path.stat()
    _MEMO[(str(path), st.st_size, st.st_mtime_ns)] = dict(entries)


def forget() -> None:
    """Drop this process' memo of decoded segments (the next scan reads them from disk)."""
    _MEMO.clear()


def _read(path: Path, machine_dir: Path, machine: str) -> dict[_Stamp, ResultsFile] | None:
    """Cached files by stamp; None when the segment is unusable (then it is rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            arrays = (data["rows"], data["cells"], data["values"], data["samples"])
        if header.get("format") != CACHE_FORMAT or header.get("version") != CACHE_VERSION:
            return None
        return _without_gc(lambda: _decode(header, *arrays, machine_dir=machine_dir,
                                           machine=machine))
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            zipfile.BadZipFile):
        return None


def _without_gc(make: Callable[[], _T]) -> _T:
    """Run ``make`` with the cyclic garbage collector paused: decoding allocates ~10^6
    acyclic objects, and the collector's passes over them cost a third of the time."""
    was = gc.isenabled()
    gc.disable()
    try:
        return make()
    finally:
        if was:
            gc.enable()


def _combos_table(raw: list[Any]) -> list[_Combos]:
    return [(None,) if c is None else tuple(tuple(str(v) for v in combo) for combo in c)
            for c in raw]


def _decode(header: dict[str, Any], rows: IntArray, cells: IntArray, values: FloatArray,
            samples: FloatArray, *, machine_dir: Path, machine: str) -> dict[_Stamp, ResultsFile]:
    from perfwatch.adapters.asv_results import BenchmarkResult, ResultsFile

    names: list[str] = header["names"]
    versions: list[str] = header["versions"]
    combos = _combos_table(header["combos"])
    samples.setflags(write=False)
    cum = np.cumsum(cells[:, 1])
    ends = cum.tolist()
    starts = (cum - cells[:, 1]).tolist()
    failed = cells[:, 0].tolist()
    vals = values.tolist()
    per_file: list[dict[str, BenchmarkResult]] = [{} for _ in header["files"]]
    cell = 0
    new = object.__new__
    for f, n, v, c in rows.tolist():
        combo = combos[c]
        k = len(combo)
        if k == 1:  # most rows: no generators
            row_vals: tuple[float | None, ...] = (None if failed[cell] else vals[cell],)
            arrs: tuple[FloatArray, ...] = (samples[starts[cell]:ends[cell]],)
        else:
            row_vals = tuple(None if failed[j] else vals[j] for j in range(cell, cell + k))
            arrs = tuple(samples[starts[j]:ends[j]] for j in range(cell, cell + k))
        # 150k rows in a large suite: filling __dict__ skips the frozen dataclass' slow
        # __init__ (half the decoding time); the fields are exactly the constructor's.
        row = new(BenchmarkResult)
        row.__dict__.update(name=names[n], version=None if v < 0 else versions[v],
                            combos=combo, values=row_vals, samples=arrs)
        per_file[f][names[n]] = row
        cell += k
    out: dict[_Stamp, ResultsFile] = {}
    for (name, size, mtime_ns, commit, env, iso), results in zip(header["files"], per_file,
                                                                 strict=True):
        date = None if iso is None else datetime.fromisoformat(iso)
        out[_Stamp(name, int(size), int(mtime_ns))] = ResultsFile(
            path=machine_dir / name, machine=machine, commit_hash=commit, env_name=env,
            date=date, results=MappingProxyType(results))
    return out
