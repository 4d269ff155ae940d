"""Running the system tools (mount, ip, mkfs) that the root-only faults use."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from perfwatch.harness.faults.errors import FaultToolError, NeedsRootError

__all__ = ["RESOURCE_PREFIX", "is_root", "owned_prefix", "require_root", "run_tool"]

# Every resource a fault tool creates carries this prefix and the creating process's pid, so a
# leak check finds its own leftovers and never touches those of another test run going on.
RESOURCE_PREFIX = "pwfault"


def owned_prefix(pid: int | None = None) -> str:
    return f"{RESOURCE_PREFIX}{os.getpid() if pid is None else pid}x"


def is_root() -> bool:
    return os.geteuid() == 0


def require_root(what: str) -> None:
    if not is_root():
        raise NeedsRootError(
            f"{what} needs root (uid 0), this process runs as uid {os.geteuid()}",
            hint="run the failure tier as root (CI does), or let the test skip",
        )


def run_tool(argv: Sequence[str], *, timeout: float = 30.0) -> str:
    """Run a system tool; raise :class:`FaultToolError` with its stderr when it fails."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as err:
        raise FaultToolError(
            f"{argv[0]} is not installed", hint="install iproute2, util-linux and e2fsprogs"
        ) from err
    if done.returncode != 0:
        raise FaultToolError(
            f"{' '.join(argv)} failed with status {done.returncode}: {done.stderr.strip()}",
            hint="check that this host allows mounts, namespaces and cgroups (root, not a "
            "restricted container)",
        )
    return done.stdout
