"""On-disk caches that make a republish cheap.

- :class:`DetectionCache`: change-point candidates per series, keyed by a content hash
  of the series (commits and samples) and the detector's identity. Stored as JSON in
  ``<results_dir>/.perfwatch/detect-cache.v1`` (no ``.json`` suffix: asv reads every
  ``*.json`` under the results directory).
- :class:`PageManifest`: for every generated page, the hash of what it was made from,
  so an unchanged page is neither rendered nor rewritten.

Both files carry a ``version``; a file of another version, or a corrupt one, is ignored
(the cache starts empty) rather than trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from perfwatch.model import Series
from perfwatch.stats import ChangePoint

__all__ = ["DetectionCache", "PageManifest", "series_hash", "sources_hash"]

CACHE_VERSION = 1


def series_hash(series: Series, *, salt: str = "") -> str:
    """A content hash of a series: key, unit, commits and every sample, bit for bit."""
    h = hashlib.sha256(salt.encode())
    h.update(repr((series.key, series.unit, series.direction.value)).encode())
    h.update(" ".join(c.sha for c in series.commits).encode())
    h.update(np.array([s.size for s in series.samples], dtype="<i8").tobytes())
    if series.samples:  # one buffer: hashing 300 small arrays one by one costs 10x more
        h.update(np.concatenate(series.samples).astype("<f8", copy=False).tobytes())
    return h.hexdigest()


def sources_hash(paths: Iterable[Path]) -> str:
    """A short hash of some source files (names and bytes): a code version for cache keys."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _read(path: Path, kind: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION \
            or data.get("kind") != kind or not isinstance(data.get("entries"), dict):
        return {}
    return dict(data["entries"])


def _write(path: Path, kind: str, entries: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": CACHE_VERSION, "kind": kind, "entries": entries}),
                   encoding="utf-8")
    os.replace(tmp, path)


def _point(raw: list[float]) -> ChangePoint:
    return ChangePoint(index=int(raw[0]), pvalue=raw[1], rel_change=raw[2], ci_low=raw[3],
                       ci_high=raw[4])


class DetectionCache:
    """Change-point candidates per series hash. ``save`` keeps only the entries used."""

    def __init__(self, path: Path, detector: str) -> None:
        self.path = path
        self.detector = detector
        self._old = {k: v for k, v in _read(path, "detect").items()
                     if isinstance(v, dict) and v.get("detector") == detector}
        self._new: dict[str, Any] = {}
        self.hits = 0
        self.misses = 0

    @classmethod
    def under(cls, results_dir: Path, detector: str) -> DetectionCache:
        return cls(results_dir / ".perfwatch" / f"detect-cache.v{CACHE_VERSION}", detector)

    def get(self, digest: str) -> list[ChangePoint] | None:
        entry = self._old.get(digest) or self._new.get(digest)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._new[digest] = entry
        return [_point(p) for p in entry["points"]]

    def put(self, digest: str, points: Iterable[ChangePoint]) -> None:
        self._new[digest] = {"detector": self.detector, "points": [
            [p.index, p.pvalue, p.rel_change, p.ci_low, p.ci_high] for p in points]}

    def save(self) -> None:
        if self._new != self._old:
            _write(self.path, "detect", self._new)


class PageManifest:
    """Which inputs each page under html_dir/perfwatch was rendered from."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._old = {k: v for k, v in _read(path, "pages").items() if isinstance(v, str)}
        self._new: dict[str, str] = {}

    def fresh(self, page: str, digest: str, root: Path) -> bool:
        """True when ``page`` exists and was made from ``digest`` (then it is kept)."""
        if self._old.get(page) == digest and (root / page).is_file():
            self._new[page] = digest
            return True
        return False

    def record(self, page: str, digest: str) -> None:
        self._new[page] = digest

    def stale(self) -> list[str]:
        """Pages of the last publish that this one did not produce."""
        return sorted(set(self._old) - set(self._new))

    def save(self) -> None:
        _write(self.path, "pages", dict(sorted(self._new.items())))
