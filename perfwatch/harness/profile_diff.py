"""Which functions' share of self time changed most between two speedscope profiles.

Pure: parsed JSON in, frozen values out. A function is named by its frame name and
its file, normalised so that the same function in two checkouts (a site-packages
install, a ``src/`` tree, a temporary export) gets the same key; line numbers are
ignored (py-spy's ``--function`` puts the first line, which moves between commits).
Self time is the weight of samples whose leaf frame is the function; its share is
over all samples of the profile (every process and thread). The synthetic
"process ..." frames py-spy adds as roots are never leaves of real work and are
ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfwatch.errors import ProfilingError

__all__ = [
    "FunctionShare",
    "SelfTimeProfile",
    "diff_profiles",
    "function_key",
    "load_speedscope",
    "parse_speedscope",
]

_ANCHORS = ("site-packages/", "dist-packages/", "/src/")


def function_key(name: str, file: str) -> str:
    """``name (pkg/module.py)``, the file cut to its importable part."""
    path = file.replace("\\", "/")
    for anchor in _ANCHORS:
        if anchor in path:
            path = path.rsplit(anchor, 1)[1]
            break
    else:
        path = "/".join(path.split("/")[-2:]) if path.startswith("/") else path
    return f"{name} ({path})" if path else name


@dataclass(frozen=True)
class SelfTimeProfile:
    """Self-time weight per function key, and the total weight."""

    weights: tuple[tuple[str, float], ...]
    total: float

    def share(self, key: str) -> float:
        return dict(self.weights).get(key, 0.0) / self.total if self.total else 0.0


@dataclass(frozen=True)
class FunctionShare:
    function: str
    share_a: float
    share_b: float

    @property
    def delta(self) -> float:
        """Change in share of self time, in fractions (0.05 = 5 percentage points)."""
        return self.share_b - self.share_a


def _is_synthetic(frame: dict[str, Any]) -> bool:
    return not frame.get("file") and str(frame.get("name", "")).startswith("process ")


def _in_process(stack: list[int], frames: list[dict[str, Any]],
                pattern: re.Pattern[str] | None) -> bool:
    if pattern is None:
        return True
    # With --subprocesses py-spy nests a child's "process" frame under its parent's:
    # the innermost one names the process the sample was taken in.
    roots = [str(frames[i].get("name", "")) for i in stack if _is_synthetic(frames[i])]
    return bool(roots) and pattern.search(roots[-1]) is not None


def _profile_leaves(profile: dict[str, Any], frames: list[dict[str, Any]],
                    keys: list[str], acc: dict[str, float],
                    process: re.Pattern[str] | None) -> None:
    if profile.get("type") != "sampled":
        raise ProfilingError(f"speedscope profile type {profile.get('type')!r} is not supported",
                             hint="record with py-spy --format speedscope")
    samples, weights = profile.get("samples", []), profile.get("weights", [])
    if len(samples) != len(weights):
        raise ProfilingError("speedscope profile has samples and weights of different lengths",
                             hint="the file is truncated or not from py-spy")
    for stack, weight in zip(samples, weights, strict=True):
        if not _in_process(stack, frames, process):
            continue
        real = [i for i in stack if not _is_synthetic(frames[i])]
        if real:
            key = keys[real[-1]]
            acc[key] = acc.get(key, 0.0) + float(weight)


def parse_speedscope(data: dict[str, Any], *, process: str | None = None) -> SelfTimeProfile:
    """Self-time weights of a speedscope document (file format schema, sampled profiles).

    ``process`` (a regex) keeps only samples of processes whose py-spy root frame
    (``process PID:"command line"``) matches, e.g. ``"recorder serve"``: shares are then
    of that process's time, not of the whole tree's.
    """
    try:
        frames = data["shared"]["frames"]
        profiles = data["profiles"]
    except (KeyError, TypeError) as err:
        raise ProfilingError(f"not a speedscope profile: missing {err}",
                             hint="pass a file written by py-spy --format speedscope") from err
    keys = [function_key(str(f.get("name", "?")), str(f.get("file", ""))) for f in frames]
    acc: dict[str, float] = {}
    pattern = re.compile(process) if process else None
    for profile in profiles:
        _profile_leaves(profile, frames, keys, acc, pattern)
    return SelfTimeProfile(tuple(sorted(acc.items())), float(sum(acc.values())))


def load_speedscope(path: Path, *, process: str | None = None) -> SelfTimeProfile:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ProfilingError(f"cannot read profile {path}: {err}",
                             hint="pass a speedscope JSON written by perfwatch profile",
                             path=path) from err
    return parse_speedscope(data, process=process)


def diff_profiles(a: SelfTimeProfile, b: SelfTimeProfile, *, top: int = 10,
                  include: str | None = None, slower_only: bool = False) -> list[FunctionShare]:
    """The ``top`` functions whose self-time share moved most from ``a`` to ``b``.

    ``include`` (a regex on the function key) restricts the list, e.g. to ``recorder/``.
    ``slower_only`` keeps the functions whose share grew, largest growth first (what
    to attach to a regression). Ties break by name, so the order is deterministic.
    """
    pattern = re.compile(include) if include else None
    names = {k for k, _ in a.weights} | {k for k, _ in b.weights}
    rows = [FunctionShare(k, a.share(k), b.share(k)) for k in names
            if pattern is None or pattern.search(k)]
    if slower_only:
        rows = [r for r in rows if r.delta > 0]
    rows.sort(key=lambda r: (-abs(r.delta), r.function))
    return rows[:top]
