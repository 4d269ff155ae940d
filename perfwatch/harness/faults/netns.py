"""Two network namespaces joined by a veth pair, for "link down" faults.

``NetnsPair`` creates namespaces ``<prefix>a`` and ``<prefix>b``, a veth pair with one end
in each, private 10.x addresses on the two ends (only inside these namespaces), and
brings loopback and the link up. :meth:`link_down` / :meth:`link_up` cut and restore the
link. :meth:`socket_in` creates a socket inside a namespace (from this process, via
``setns`` in a short-lived thread), which lets an in-process proxy on 127.0.0.1 relay into
the namespaces. Leaving the context deletes both namespaces (and so the veth). Root only.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from perfwatch.harness.faults._system import owned_prefix, require_root, run_tool
from perfwatch.harness.faults.errors import FaultToolError

__all__ = ["NetnsPair", "list_namespaces"]

_CLONE_NEWNET = 0x40000000
_NETNS_DIR = Path("/run/netns")


@dataclass(frozen=True)
class NetnsEnd:
    namespace: str
    interface: str
    address: str  # without prefix length


def list_namespaces(prefix: str | None = None) -> list[str]:
    """Namespaces this process created (or those named with ``prefix``)."""
    prefix = owned_prefix() if prefix is None else prefix
    if not _NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in _NETNS_DIR.iterdir() if p.name.startswith(prefix))


class NetnsPair:
    """Namespaces A and B joined by a veth pair with addresses 10.<n>.<m>.1/.2 (/30)."""

    def __init__(self, *, subnet_octets: tuple[int, int] = (77, 1)) -> None:
        token = secrets.token_hex(3)
        self.name = f"{owned_prefix()}{token}"
        net = f"10.{subnet_octets[0]}.{subnet_octets[1]}"
        self.a = NetnsEnd(f"{self.name}a", f"pwa{token}", f"{net}.1")
        self.b = NetnsEnd(f"{self.name}b", f"pwb{token}", f"{net}.2")
        self._created: list[str] = []

    def __enter__(self) -> Self:
        require_root("creating network namespaces")
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _create(self) -> None:
        for end in (self.a, self.b):
            run_tool(["ip", "netns", "add", end.namespace])
            self._created.append(end.namespace)
            run_tool(["ip", "-n", end.namespace, "link", "set", "lo", "up"])
        run_tool(["ip", "-n", self.a.namespace, "link", "add", self.a.interface, "type", "veth",
                  "peer", "name", self.b.interface, "netns", self.b.namespace])
        for end in (self.a, self.b):
            run_tool(["ip", "-n", end.namespace, "addr", "add", f"{end.address}/30",
                      "dev", end.interface])
        self.link_up()

    def close(self) -> None:
        errors: list[str] = []
        for ns in reversed(self._created):
            try:
                run_tool(["ip", "netns", "delete", ns])
            except FaultToolError as err:
                errors.append(str(err))
        self._created.clear()
        if errors:
            raise FaultToolError("; ".join(errors), hint="delete them with `ip netns delete`")

    def link_down(self) -> None:
        """Take the veth link down on both ends (packets between A and B are dropped)."""
        for end in (self.a, self.b):
            run_tool(["ip", "-n", end.namespace, "link", "set", end.interface, "down"])

    def link_up(self) -> None:
        for end in (self.a, self.b):
            run_tool(["ip", "-n", end.namespace, "link", "set", end.interface, "up"])

    def exec_prefix(self, end: NetnsEnd) -> list[str]:
        """argv prefix that runs a command inside ``end``'s namespace."""
        return ["ip", "netns", "exec", end.namespace]

    def socket_in(self, end: NetnsEnd) -> socket.socket:
        """A new TCP socket that lives in ``end``'s namespace."""
        result: list[socket.socket] = []
        failure: list[OSError] = []

        def make() -> None:
            try:
                _enter_netns(end.namespace)
                result.append(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            except OSError as err:  # reported in the caller's thread
                failure.append(err)

        thread = threading.Thread(target=make, name="netns-socket")
        thread.start()
        thread.join()
        if failure:
            raise FaultToolError(f"cannot open a socket in {end.namespace}: {failure[0]}",
                                 hint="check that the namespace still exists") from failure[0]
        return result[0]


def _enter_netns(namespace: str) -> None:
    """Move the calling thread (only) into ``namespace``."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(_NETNS_DIR / namespace, os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)
