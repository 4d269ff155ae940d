"""Which raw samples of an asv result file came from which asv invocation (run).

asv's ``--append-samples`` concatenates the samples of later runs of a commit onto the
earlier ones, and the result file keeps no boundary. ``perfwatch run`` therefore notes,
after each asv invocation, how many samples each benchmark x parameter combination of the
commit's result file holds (cumulative, one entry per run) and when asv last ran it
(``started_at``), in a sidecar file::

    RESULTS/.perfwatch/runs/<machine dir>/<result file stem>.runs   (JSON, version 1)
    {"version": 1, "result_file": "1a2b3c4d-existing-py.json", "commit_hash": "...",
     "benchmarks": {"NAME": {"started_at": 1764160000000, "counts": [[10, 20], [5, 10]]}}}

``counts[i]`` holds the cumulative sample counts of combination ``i`` after each run, so
run ``r`` is the slice ``[counts[i][r-1], counts[i][r])``. The suffix is not ``.json``:
asv walks the results directory and would try to read it as a result file.

The record is advisory: :func:`run_bounds` checks it against the result file as it is now
(same ``started_at``, last counts equal to the samples held) and ignores a benchmark whose
samples were rewritten since (a later plain ``asv run``). asv's own ``--interleave-rounds``
(virtualenv mode) runs several rounds inside one invocation: their boundaries are not
written anywhere, so such a file counts as one run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfwatch.adapters.asv_results import ResultsFile, load_results_file
from perfwatch.errors import PerfwatchError

__all__ = [
    "RECORD_VERSION",
    "BenchmarkRuns",
    "note_invocation",
    "record_path",
    "run_bounds",
    "snapshot",
]

RECORD_VERSION = 1
Counts = tuple[int, ...]  # samples per parameter combination, in the file's combo order


@dataclass(frozen=True)
class BenchmarkRuns:
    """One benchmark's state in a result file: when asv last ran it, samples per combo."""

    started_at: int | None
    counts: Counts


def record_path(results_file: Path) -> Path:
    """Where the run record of ``RESULTS/<machine>/<file>.json`` lives."""
    results_dir = results_file.parent.parent
    return results_dir / ".perfwatch" / "runs" / results_file.parent.name / (
        results_file.stem + ".runs")


def _started_at(path: Path) -> dict[str, int | None]:
    try:
        doc = json.loads(path.read_text())
        columns = doc["result_columns"]
        at = columns.index("started_at") if "started_at" in columns else -1
        rows = doc["results"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    out: dict[str, int | None] = {}
    for name, row in rows.items():
        value = row[at] if isinstance(row, list) and 0 <= at < len(row) else None
        out[name] = int(value) if isinstance(value, int | float) else None
    return out


def snapshot(results_file: Path, machine: str) -> dict[str, BenchmarkRuns]:
    """The state of every benchmark in a result file now ({} when it does not exist or
    cannot be read: then nothing is recorded, and a stale record no longer matches)."""
    if not results_file.is_file():
        return {}
    try:
        parsed = load_results_file(results_file, machine)
    except PerfwatchError:
        return {}
    started = _started_at(results_file)
    return {name: BenchmarkRuns(started.get(name), tuple(int(s.size) for s in row.samples))
            for name, row in parsed.results.items()}


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    ok = isinstance(doc, dict) and doc.get("version") == RECORD_VERSION
    return doc if ok and isinstance(doc.get("benchmarks"), dict) else {}


def _entry_counts(entry: Any) -> list[list[int]] | None:
    """Per combination, cumulative counts after each run (None when malformed)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("counts"), list):
        return None
    counts = entry["counts"]
    if not all(isinstance(c, list) and c and all(isinstance(n, int) for n in c)
               for c in counts):
        return None
    return [list(c) for c in counts]


def _updated(old: Any, before: BenchmarkRuns | None, after: BenchmarkRuns,
             append: bool) -> list[list[int]] | None:
    """A benchmark's run counts after an invocation (None: its runs are unknown)."""
    if before is not None and before.started_at == after.started_at \
            and before.counts == after.counts:
        return _entry_counts(old)  # not run by this invocation
    if before is None or not append or not any(before.counts):
        return [[n] for n in after.counts]
    counts = _entry_counts(old)
    if counts is None or len(counts) != len(before.counts) \
            or len(after.counts) != len(before.counts) \
            or any(c[-1] != n for c, n in zip(counts, before.counts, strict=True)):
        return None  # appended onto samples whose runs were not recorded
    return [[*c, n] for c, n in zip(counts, after.counts, strict=True)]


def note_invocation(results_file: Path, machine: str, commit: str,
                    before: Mapping[str, BenchmarkRuns], *, append: bool) -> Path | None:
    """Record one asv invocation's samples of ``results_file`` (``before``: its
    :func:`snapshot` taken just before asv ran; ``append``: asv ran with
    ``--append-samples``). Returns the record's path (None: no result file)."""
    after = snapshot(results_file, machine)
    if not after:
        return None
    path = record_path(results_file)
    old = _load(path).get("benchmarks", {})
    benchmarks: dict[str, Any] = {}
    for name, state in sorted(after.items()):
        counts = _updated(old.get(name), before.get(name), state, append)
        if counts is not None:
            benchmarks[name] = {"started_at": state.started_at, "counts": counts}
    doc = {"version": RECORD_VERSION, "result_file": results_file.name, "commit_hash": commit,
           "benchmarks": benchmarks}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".runs.tmp")
    tmp.write_text(json.dumps(doc, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def run_bounds(results: ResultsFile) -> dict[tuple[str, int], Counts]:
    """Per (benchmark, combination index) with >= 2 recorded runs that still match the
    file: the cumulative sample counts after each run (last = all samples held)."""
    doc = _load(record_path(results.path))
    if not doc or doc.get("result_file") != results.path.name:
        return {}
    started = _started_at(results.path)
    out: dict[tuple[str, int], Counts] = {}
    for name, entry in doc["benchmarks"].items():
        row = results.results.get(name)
        counts = _entry_counts(entry)
        if row is None or counts is None or len(counts) != len(row.samples) \
                or not isinstance(entry, dict) or entry.get("started_at") != started.get(name):
            continue
        for i, (c, samples) in enumerate(zip(counts, row.samples, strict=True)):
            monotone = all(a < b for a, b in zip([0, *c], c, strict=False))
            if len(c) >= 2 and c[-1] == samples.size and monotone:
                out[(name, i)] = tuple(c)
    return out
