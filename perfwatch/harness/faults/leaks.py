"""Find what fault tools and harness fixtures might leave behind.

Used by the integration conftest's session-end check: live child processes of this
process, mounts under a directory, network namespaces and cgroups with our prefix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from perfwatch.harness.faults.cgroups import list_cgroups
from perfwatch.harness.faults.mounts import mounts_under
from perfwatch.harness.faults.netns import list_namespaces

__all__ = ["Leftovers", "child_pids", "find_leftovers"]


@dataclass(frozen=True)
class Leftovers:
    child_pids: tuple[int, ...]
    mounts: tuple[Path, ...]
    namespaces: tuple[str, ...]
    cgroups: tuple[Path, ...]

    @property
    def empty(self) -> bool:
        return not (self.child_pids or self.mounts or self.namespaces or self.cgroups)

    def describe(self) -> str:
        parts = [
            f"child processes {list(self.child_pids)}" if self.child_pids else "",
            f"mounts {[str(m) for m in self.mounts]}" if self.mounts else "",
            f"namespaces {list(self.namespaces)}" if self.namespaces else "",
            f"cgroups {[str(c) for c in self.cgroups]}" if self.cgroups else "",
        ]
        return "; ".join(p for p in parts if p) or "nothing"


def child_pids(pid: int | None = None) -> list[int]:
    """Live (not zombie) descendants of ``pid`` (default: this process), from /proc."""
    root = os.getpid() if pid is None else pid
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        current = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == current]
        found += kids
        frontier += kids
    return sorted(found)


def find_leftovers(tmp_root: Path) -> Leftovers:
    return Leftovers(
        child_pids=tuple(child_pids()),
        mounts=tuple(mounts_under(tmp_root)) if tmp_root.exists() else (),
        namespaces=tuple(list_namespaces()),
        cgroups=tuple(list_cgroups()),
    )
