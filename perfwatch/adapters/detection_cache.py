"""On-disk cache of incremental detection states, one file for a whole suite.

Format (numpy ``.npz``, no pickles): ``header`` is a JSON document
``{"format": "perfwatch-detection-cache", "version": 1, "keys": [...]}`` naming the
series in order; ``offsets`` (int64, len(keys) + 1) cut the concatenated ``levels``
and ``within`` arrays into series; ``scalars`` holds per series
``[log_scale, noise, state_version]``; ``changes`` holds rows
``[series, index, pvalue, rel_change, ci_low, ci_high]``. A file of another format
version is refused with a hint (delete it: the next run rebuilds it).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from perfwatch.adapters.results_cache import save_npz
from perfwatch.errors import ResultsFormatError
from perfwatch.stats.changepoint import ChangePoint
from perfwatch.stats.incremental import STATE_VERSION, DetectionState

__all__ = ["CACHE_FORMAT", "CACHE_VERSION", "load_cache", "save_cache", "states_from_arrays",
           "states_to_arrays"]

CACHE_FORMAT = "perfwatch-detection-cache"
CACHE_VERSION = 1


def states_to_arrays(states: Mapping[str, DetectionState]) -> dict[str, NDArray[Any]]:
    """The arrays of the format above (``header`` aside), keys in ``keys``."""
    keys = list(states)
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    for i, k in enumerate(keys):
        offsets[i + 1] = offsets[i] + states[k].levels.size
    levels = np.concatenate([states[k].levels for k in keys]) if keys else np.zeros(0)
    within = np.concatenate([states[k].within_se for k in keys]) if keys else np.zeros(0)
    scalars = np.array([[float(states[k].log_scale), states[k].noise, states[k].version]
                        for k in keys], dtype=np.float64).reshape(-1, 3)
    rows = [[i, c.index, c.pvalue, c.rel_change, c.ci_low, c.ci_high]
            for i, k in enumerate(keys) for c in states[k].changes]
    changes = np.array(rows, dtype=np.float64).reshape(-1, 6)
    return {"keys": np.array(json.dumps(keys)), "offsets": offsets, "levels": levels,
            "within": within, "scalars": scalars, "changes": changes}


def states_from_arrays(data: Mapping[str, NDArray[Any]]) -> dict[str, DetectionState]:
    """The states in arrays made by :func:`states_to_arrays` (states of another
    ``STATE_VERSION`` are left out). Raises KeyError/ValueError on broken arrays."""
    keys = json.loads(str(data["keys"]))
    offsets, levels, within = data["offsets"], data["levels"], data["within"]
    scalars, changes = data["scalars"], data["changes"]
    by_series: dict[int, list[ChangePoint]] = {}
    for row in changes.tolist():
        by_series.setdefault(int(row[0]), []).append(
            ChangePoint(int(row[1]), float(row[2]), float(row[3]), float(row[4]), float(row[5])))
    out: dict[str, DetectionState] = {}
    bounds = offsets.tolist()
    for i, k in enumerate(keys):
        if int(scalars[i, 2]) != STATE_VERSION:
            continue  # a state of another version is rebuilt, not trusted
        a, b = bounds[i], bounds[i + 1]
        out[k] = DetectionState(levels[a:b].copy(), within[a:b].copy(), bool(scalars[i, 0]),
                                tuple(by_series.get(i, [])), float(scalars[i, 1]))
    return out


def save_cache(path: Path, states: Mapping[str, DetectionState]) -> None:
    """Write all states atomically (temporary file + rename)."""
    arrays = states_to_arrays(states)
    keys = json.loads(str(arrays.pop("keys")))
    header = json.dumps({"format": CACHE_FORMAT, "version": CACHE_VERSION, "keys": keys})
    save_npz(path, {"header": np.array(header), **arrays})


def _bad(path: Path, what: str) -> ResultsFormatError:
    return ResultsFormatError(f"detection cache {path} is unusable: {what}",
                              hint="delete the file; the next run rebuilds it", path=path)


def load_cache(path: Path) -> dict[str, DetectionState]:
    """Read the states written by :func:`save_cache` (an empty dict if there is no file)."""
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            offsets, levels, within = data["offsets"], data["levels"], data["within"]
            scalars, changes = data["scalars"], data["changes"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        raise _bad(path, f"cannot read it ({err})") from None
    if header.get("format") != CACHE_FORMAT or header.get("version") != CACHE_VERSION:
        raise _bad(path, f"format {header.get('format')!r} version {header.get('version')!r}, "
                         f"expected {CACHE_FORMAT!r} version {CACHE_VERSION}")
    arrays = {"keys": np.array(json.dumps(header["keys"])), "offsets": offsets,
              "levels": levels, "within": within, "scalars": scalars, "changes": changes}
    try:
        return states_from_arrays(arrays)
    except (KeyError, ValueError, IndexError, TypeError) as err:
        raise _bad(path, f"inconsistent arrays ({err})") from None
