"""What makes a republish of perfwatch's pages cheap.

- :class:`PageManifest`: for every generated page, the hash of what it was made from,
  so an unchanged page is neither rendered nor rewritten. The file carries a
  ``version``; a file of another version, or a corrupt one, is ignored (the cache starts
  empty) rather than trusted.
- :func:`sources_hash`: a code version for cache keys.
- :func:`write_in_place`: overwrite a file without freeing its blocks (cheap).

(Detection states are cached by :mod:`perfwatch.publish_detect`.)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["PageManifest", "read_entries", "sources_hash", "write_entries", "write_in_place"]

CACHE_VERSION = 1


def sources_hash(paths: Iterable[Path]) -> str:
    """A short hash of some source files (names and bytes): a code version for cache keys."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def write_in_place(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, overwriting an existing file in place.

    Opening an existing file with truncation (``open(path, "w")``) or replacing it frees
    its blocks; on a file system mounted with ``discard`` that costs ~2 ms per file, which
    is most of a republish that rewrites a thousand small files. Writing over the old
    bytes and cutting the rest costs ~20 us. Not atomic: like ``asv publish``, a reader
    may see a file being written.
    """
    data = text.encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def read_entries(path: Path, kind: str) -> dict[str, Any]:
    """The entries of a cache file of ``kind``; empty when missing, unreadable or stale."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION \
            or data.get("kind") != kind or not isinstance(data.get("entries"), dict):
        return {}
    return dict(data["entries"])


def write_entries(path: Path, kind: str, entries: dict[str, Any]) -> None:
    """Replace the cache file atomically; a read-only results directory just has no cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "kind": kind, "entries": entries}),
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


class PageManifest:
    """Which inputs each page under html_dir/perfwatch was rendered from."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._old = {k: v for k, v in read_entries(path, "pages").items() if isinstance(v, str)}
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
        write_entries(self.path, "pages", dict(sorted(self._new.items())))

    @staticmethod
    def forget(path: Path, pages: Iterable[str]) -> None:
        """Drop the records of ``pages`` (written by someone else since: the next publish
        renders them again instead of trusting what they were made from)."""
        entries = read_entries(path, "pages")
        for page in pages:
            entries.pop(page, None)
        write_entries(path, "pages", entries)
