"""Caches of the asv site writer (:mod:`perfwatch.adapters.asv_site`).

- :class:`HeaderCache`: what the site needs from each result file besides the values
  perfwatch's results cache already holds: the commit, asv's ``date``, ``params``,
  ``env_vars`` and asv's step-detection weight of every result (``2 / |ci_99_b - ci_99_a|``,
  asv's ``_stats.get_weight``). Keyed by file path, size and mtime, so after a new commit
  only the new file is read. Stored as JSON in ``<results_dir>/.perfwatch/asv-site-headers.v1``.
- :class:`OutputManifest`: the hash of every file the writer produced, so an unchanged
  output is not rewritten and an output the site no longer has is removed. Stored in
  ``<results_dir>/.perfwatch/asv-site-outputs.v1``.

No ``.json`` suffix: asv reads every ``*.json`` under the results directory. A file of
another version, or a corrupt one, is ignored (rebuilt).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from perfwatch.adapters.publish_cache import read_entries, write_entries, write_in_place
from perfwatch.errors import ResultsFormatError

__all__ = ["CACHE_VERSION", "FileHeader", "GraphValues", "HeaderCache", "OutputManifest", "digest",
           "file_stamp", "first_parents", "git", "input_stamps", "revision_numbers",
           "tags_digest"]

CACHE_VERSION = 1


@dataclass(frozen=True)
class FileHeader:
    """One asv result file as ``asv publish`` uses it for the site (values aside)."""

    commit_hash: str
    date: Any  # asv's raw ``date`` (a JavaScript timestamp, or null)
    params: dict[str, Any]
    env_vars: dict[str, Any]


def _weight(a: Any, b: Any) -> float | None:
    """asv's ``_stats.get_weight`` for one result."""
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return None
    if math.isinf(a) or math.isinf(b) or b == a:
        return None
    return 2 / abs(b - a)


def _weights(columns: list[Any], rows: dict[str, Any]) -> dict[str, list[float | None] | None]:
    try:
        ia, ib = columns.index("stats_ci_99_a"), columns.index("stats_ci_99_b")
    except ValueError:
        return {name: None for name in rows}
    out: dict[str, list[float | None] | None] = {}
    for name, row in rows.items():
        a = row[ia] if ia < len(row) else None
        b = row[ib] if ib < len(row) else None
        if not isinstance(a, list) or not isinstance(b, list):
            out[name] = None  # asv: no stats for this benchmark
            continue
        out[name] = [_weight(x, y) for x, y in zip(a, b, strict=False)]
    return out


def _parse(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entry = {"commit": str(data["commit_hash"]), "date": data.get("date"),
                 "params": dict(data["params"]), "env_vars": dict(data.get("env_vars") or {})}
        entry["weights"] = _weights(list(data["result_columns"]), dict(data["results"]))
        return entry
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ResultsFormatError(f"{path}: cannot read the asv result file ({err})",
                                 hint="delete it and re-run asv for its commit, or run "
                                 "`perfwatch publish --asv-publish` to see asv's own error",
                                 path=path) from None


class HeaderCache:
    """:class:`FileHeader` per result file, read again only when the file changed.

    The weights of a file are kept only once asked for (:meth:`weights`): the site needs
    them for graphs of branches perfwatch does not analyse.
    """

    def __init__(self, results_dir: Path) -> None:
        self.path = results_dir / ".perfwatch" / f"asv-site-headers.v{CACHE_VERSION}"
        self._old = read_entries(self.path, "headers")
        self._new: dict[str, Any] = {}
        self._weights: dict[str, Any] = {}  # parsed in this run, until asked for
        self.parsed = 0

    def _entry(self, path: Path) -> dict[str, Any]:
        key = str(path)
        if key in self._new:
            known: dict[str, Any] = self._new[key]
            return known
        st = path.stat()
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
        entry = self._old.get(key)
        if entry is None or entry.get("stamp") != stamp:
            parsed = _parse(path)
            self.parsed += 1
            self._weights[key] = parsed.pop("weights")
            entry = {"stamp": stamp, **parsed}
        self._new[key] = entry
        return entry

    def get(self, path: Path) -> FileHeader:
        entry = self._entry(path)
        return FileHeader(commit_hash=entry["commit"], date=entry["date"],
                          params=entry["params"], env_vars=entry["env_vars"])

    def weights(self, path: Path) -> dict[str, list[float | None] | None]:
        """asv's weight of every result of the file, per benchmark and combination."""
        entry = self._entry(path)
        if "weights" not in entry:
            found = self._weights.get(str(path))
            entry["weights"] = found if found is not None else _parse(path)["weights"]
        weights: dict[str, list[float | None] | None] = dict(entry["weights"])
        return weights

    def keep_rest(self) -> None:
        """The entries of files not read in this run are kept (an append reads only the
        new files; the old ones are still there)."""
        self._new = {**self._old, **self._new}

    def save(self) -> None:
        if self._new != self._old:
            write_entries(self.path, "headers", self._new)


class OutputManifest:
    """The files the site writer produced (paths relative to html_dir): each one's content
    hash, size and mtime, so a file changed by someone else (``asv publish`` run by hand)
    is written again."""

    def __init__(self, results_dir: Path, html_dir: Path) -> None:
        self.path = results_dir / ".perfwatch" / f"asv-site-outputs.v{CACHE_VERSION}"
        self.html_dir = html_dir
        entries = read_entries(self.path, "outputs")
        ours = entries.get("html_dir") == str(html_dir)  # another html_dir: not trusted
        self._old: dict[str, list[Any]] = dict(entries.get("files", {})) if ours else {}
        self.extra: dict[str, Any] = dict(entries.get("extra", {})) if ours else {}
        self._new: dict[str, list[Any]] = {}
        self.written = 0
        self.kept = 0

    def _unchanged(self, rel: str, digest: str) -> bool:
        old = self._old.get(rel)
        if not isinstance(old, list) or len(old) != 3 or old[0] != digest:
            return False
        try:
            st = (self.html_dir / rel).stat()
        except OSError:
            return False
        return [st.st_size, st.st_mtime_ns] == old[1:]

    def write(self, rel: str, text: str) -> None:
        """Write ``html_dir/rel`` unless it already holds exactly ``text``."""
        digest = hashlib.sha1(text.encode()).hexdigest()
        path = self.html_dir / rel
        if self._unchanged(rel, digest):
            self._new[rel] = self._old[rel]
            self.kept += 1
            return
        write_in_place(path, text)
        st = path.stat()
        self._new[rel] = [digest, st.st_size, st.st_mtime_ns]
        self.written += 1

    def on_disk(self) -> bool:
        """True when every output of the last run is on disk as it was written (size and
        mtime)."""
        root = str(self.html_dir)
        for rel, old in self._old.items():
            try:
                st = os.stat(os.path.join(root, rel))
            except OSError:
                return False
            if not isinstance(old, list) or [st.st_size, st.st_mtime_ns] != old[1:]:
                return False
        return True

    def known(self, rel: str) -> bool:
        return rel in self._old

    def append(self, rel: str, tail: str) -> None:
        """Replace the last character of ``html_dir/rel`` (a JSON list's closing bracket)
        with ``tail``, without reading the file. Its content hash is not known (None): a
        later full write rewrites it once."""
        old = self._old[rel]
        data = tail.encode("utf-8")
        fd = os.open(os.path.join(self.html_dir, rel), os.O_WRONLY)
        try:
            os.pwrite(fd, data, old[1] - 1)
            os.ftruncate(fd, old[1] - 1 + len(data))
            st = os.fstat(fd)
        finally:
            os.close(fd)
        self._new[rel] = [None, st.st_size, st.st_mtime_ns]
        self.written += 1

    def keep_rest(self) -> None:
        """The outputs of the last run not written in this one are kept as they are."""
        for rel, old in self._old.items():
            if rel not in self._new:
                self._new[rel] = old
                self.kept += 1

    def remove_stale(self) -> int:
        """Delete the outputs of the last run that this run did not produce."""
        stale = set(self._old) - set(self._new)
        for rel in stale:
            (self.html_dir / rel).unlink(missing_ok=True)
        return len(stale)

    def save(self) -> None:
        write_entries(self.path, "outputs", {"html_dir": str(self.html_dir), "files": self._new,
                                     "extra": self.extra})


# ------------------------------------------------------------------ what the site was made from

def input_stamps(results_dir: Path) -> dict[str, str]:
    """size:mtime of every file under ``results_dir`` (perfwatch's own ``.perfwatch`` folder
    aside), in ``os.walk`` order; ``benchmarks.json`` and ``machine.json`` files by content
    (``asv run`` rewrites them, the same, at every run)."""
    out: dict[str, str] = {}
    for root, dirs, names in os.walk(results_dir):
        if root == str(results_dir):
            dirs[:] = [d for d in dirs if d != ".perfwatch"]
        for name in names:
            path = os.path.join(root, name)
            if name in ("benchmarks.json", "machine.json"):
                with open(path, "rb") as f:
                    stamp = "sha1:" + hashlib.sha1(f.read()).hexdigest()
            else:
                st = os.stat(path)
                stamp = f"{st.st_size}:{st.st_mtime_ns}"
            out[os.path.relpath(path, results_dir)] = stamp
    return out


def file_stamp(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}"


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` as asv's git plugin does (no repository above it is looked at)."""
    env = dict(os.environ)
    prev = env.get("GIT_CEILING_DIRECTORIES")
    env["GIT_CEILING_DIRECTORIES"] = os.pathsep.join(
        [os.path.join(os.path.abspath(repo), os.pardir)] + ([prev] if prev else []))
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")


def revision_numbers(repo: Path) -> dict[str, int]:
    """asv's revision number of every commit (``asv/plugins/git.py`` ``get_revisions``: the
    index in ``git rev-list --all --date-order --reverse``)."""
    return {sha: i for i, sha in enumerate(git(repo, "rev-list", "--all", "--date-order",
                                               "--reverse").splitlines())}


def first_parents(repo: Path, branch_name: str) -> list[str]:
    """asv's ``get_branch_commits``: the branch's first-parent commits, newest first."""
    return git(repo, "rev-list", "--first-parent", branch_name, "--").split()


def tags_digest(repo: Path) -> str:
    """A digest of every tag and what it points to (a tag added, moved or removed changes it)."""
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)",
              "refs/tags")
    return hashlib.sha1(out.encode()).hexdigest()


def digest(items: list[str]) -> str:
    return hashlib.sha1("\n".join(items).encode()).hexdigest()


class GraphValues:
    """Every graph's points as arrays, so a graph's steps need no JSON parsing: revisions
    (int64) and values (float64, one column per data series, NaN where the graph has None).
    Stored as one uncompressed ``.npz`` in ``<results_dir>/.perfwatch``."""

    def __init__(self, results_dir: Path) -> None:
        self.path = results_dir / ".perfwatch" / f"asv-site-values.v{CACHE_VERSION}.npz"
        self.revs: dict[str, Any] = {}
        self.vals: dict[str, Any] = {}

    def load(self, order: list[str]) -> bool:
        """Read the arrays of the graphs ``order`` (as saved); False when unusable."""
        try:
            with np.load(self.path) as z:
                counts, widths = z["counts"], z["widths"]
                revs, vals = z["revs"], z["vals"]
        except (OSError, ValueError, KeyError):
            return False
        if len(counts) != len(order):
            return False
        r_cuts = np.cumsum(counts)[:-1]
        v_cuts = np.cumsum(counts * widths)[:-1]
        for rel, r, v, w in zip(order, np.split(revs, r_cuts), np.split(vals, v_cuts), widths,
                                strict=True):
            self.revs[rel] = r
            self.vals[rel] = v.reshape(-1, int(w))
        return True

    def save(self, order: list[str]) -> str | None:
        """Write the arrays of ``order``; the file's stamp."""
        counts = np.array([len(self.revs[p]) for p in order], dtype=np.int64)
        widths = np.array([self.vals[p].shape[1] for p in order], dtype=np.int64)
        revs = np.concatenate([self.revs[p] for p in order]) if order else np.empty(0, np.int64)
        vals = np.concatenate([self.vals[p].ravel() for p in order]) if order else np.empty(0)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp.npz")
            np.savez(tmp, counts=counts, widths=widths, revs=revs.astype(np.int64),
                     vals=vals.astype(np.float64))
            os.replace(tmp, self.path)
        except OSError:
            return None
        return file_stamp(self.path)
