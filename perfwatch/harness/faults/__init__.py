"""Fault-injection tools for the recorder's integration and failure tests.

Each tool is a context manager that undoes its fault on exit, also when the body raised:

- :class:`FaultProxy` (no privilege): TCP proxy on 127.0.0.1 that cuts, resets, stalls,
  delays (seeded jitter), throttles, slow-closes or refuses connections;
- :func:`tmpfs_mount`, :func:`loop_mount` (root): small filesystems for disk-full and
  inode-exhaustion faults;
- :class:`NetnsPair` (root): two network namespaces joined by a veth pair, link down/up;
- :class:`CgroupLimits` (root): cgroup v1 CPU quota and memory limit;
- :class:`NofileLimit`, :func:`nofile_limit`: open-file limits (setrlimit / prlimit);
- :func:`find_leftovers`: what is still around (children, mounts, namespaces, cgroups).
"""

from __future__ import annotations

from perfwatch.harness.faults._system import RESOURCE_PREFIX, is_root, owned_prefix
from perfwatch.harness.faults.cgroups import CgroupLimits, CgroupStats, list_cgroups
from perfwatch.harness.faults.errors import FaultToolError, NeedsRootError
from perfwatch.harness.faults.leaks import Leftovers, child_pids, find_leftovers
from perfwatch.harness.faults.mounts import (
    MountedFs,
    fs_usage,
    loop_mount,
    mounts_under,
    remount_tmpfs,
    tmpfs_mount,
)
from perfwatch.harness.faults.netns import NetnsPair, list_namespaces
from perfwatch.harness.faults.proxy import FaultProxy, FaultSettings, ProxyStats
from perfwatch.harness.faults.rlimits import NofileLimit, chain_preexec, nofile_limit, open_fds

__all__ = [
    "RESOURCE_PREFIX",
    "CgroupLimits",
    "CgroupStats",
    "FaultProxy",
    "FaultSettings",
    "FaultToolError",
    "Leftovers",
    "MountedFs",
    "NeedsRootError",
    "NetnsPair",
    "NofileLimit",
    "ProxyStats",
    "chain_preexec",
    "child_pids",
    "find_leftovers",
    "fs_usage",
    "is_root",
    "list_cgroups",
    "list_namespaces",
    "loop_mount",
    "mounts_under",
    "nofile_limit",
    "open_fds",
    "owned_prefix",
    "remount_tmpfs",
    "tmpfs_mount",
]
