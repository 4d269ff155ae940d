"""Errors of the fault-injection tools (all :class:`perfwatch.errors.HarnessError`)."""

from __future__ import annotations

from perfwatch.errors import HarnessError

__all__ = ["FaultToolError", "NeedsRootError"]


class FaultToolError(HarnessError):
    """A fault tool could not set up or tear down its fault (mount, namespace, cgroup...)."""


class NeedsRootError(FaultToolError):
    """The fault needs root (mounts, namespaces, cgroups); run the tier as root or skip it."""
