"""A TCP fault proxy on 127.0.0.1, driven from tests.

``FaultProxy`` listens on a loopback port and forwards every connection to an upstream
address. Tests put it between a camera and the recorder and then break the link on
purpose, from their own thread, while the proxy's asyncio loop runs in a background
thread:

- :meth:`FaultProxy.cut` closes every open connection (FIN both ways);
- :meth:`FaultProxy.reset` aborts every open connection with an RST;
- :meth:`FaultProxy.stall` stops moving bytes (connections stay open) until unstalled;
- :meth:`FaultProxy.set_latency` delays every chunk by ``latency + jitter``, the jitter
  drawn from a seeded numpy ``Generator`` passed in (order is kept);
- :meth:`FaultProxy.set_bandwidth` caps each direction at a byte rate;
- :meth:`FaultProxy.set_slow_close` waits before passing a close on to the other side;
- :meth:`FaultProxy.refuse` resets new connections as soon as they are accepted.

It is a context manager: leaving it closes the listener and every connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import struct
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import numpy as np

from perfwatch.harness.faults.errors import FaultToolError

__all__ = ["FaultProxy", "FaultSettings", "ProxyStats", "SocketFactory"]

T = TypeVar("T")
SocketFactory = Callable[[], socket.socket]
_CHUNK = 65536
_QUEUE_CHUNKS = 16


@dataclass(frozen=True)
class FaultSettings:
    """The faults in force; replaced whole by the control methods."""

    stalled: bool = False
    latency_s: float = 0.0
    jitter_s: float = 0.0
    bandwidth_bps: float | None = None  # bytes per second per direction, None = unlimited
    slow_close_s: float = 0.0
    refuse: bool = False


@dataclass(frozen=True)
class ProxyStats:
    """Counters since the proxy started."""

    accepted: int
    active: int
    refused: int
    upstream_failures: int
    bytes_to_upstream: int
    bytes_to_client: int
    cuts: int
    resets: int


@dataclass(eq=False)
class _Link:
    """One proxied connection: both writers, so faults can close them."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.upstream) if w is not None]


class FaultProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream``, with faults switched on from tests."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        listen_port: int = 0,
        socket_factory: SocketFactory | None = None,
    ) -> None:
        self.upstream = upstream
        self._listen_port = listen_port
        self._socket_factory = socket_factory
        self._settings = FaultSettings()
        self._rng: np.random.Generator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._flowing: asyncio.Event | None = None
        self._counts = {k.name: 0 for k in dataclasses.fields(ProxyStats) if k.name != "active"}
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self._call(self._start_server())

    async def _start_server(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self._listen_port, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._shutdown())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            self._loop = None
            self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        self._abort_all(rst=False)
        if self._flowing is not None:
            self._flowing.set()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    # -- controls (thread-safe, called from tests) ------------------------------------
    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def cut(self) -> int:
        """Close every open connection (FIN); return how many were closed."""
        return self._call(self._close_links(rst=False))

    def reset(self) -> int:
        """Abort every open connection with a TCP RST; return how many were reset."""
        return self._call(self._close_links(rst=True))

    def stall(self, stalled: bool = True) -> None:
        """Stop (or restart) moving bytes; connections stay open."""
        self._update(stalled=stalled)
        self._call(self._sync_flowing())

    def set_latency(
        self, latency_s: float, jitter_s: float = 0.0, *, rng: np.random.Generator | None = None
    ) -> None:
        """Delay each chunk by ``latency_s`` plus a uniform jitter in ``[-jitter_s, jitter_s]``."""
        if jitter_s > 0 and rng is None:
            raise FaultToolError("jitter needs a random generator", hint="pass rng=default_rng(seed)")
        if latency_s < 0 or jitter_s < 0:
            raise FaultToolError("latency and jitter must be >= 0", hint="pass seconds >= 0")
        self._rng = rng
        self._update(latency_s=latency_s, jitter_s=jitter_s)

    def set_bandwidth(self, bytes_per_s: float | None) -> None:
        """Cap each direction at ``bytes_per_s`` (None lifts the cap)."""
        if bytes_per_s is not None and bytes_per_s <= 0:
            raise FaultToolError("bandwidth must be > 0", hint="pass None to lift the cap")
        self._update(bandwidth_bps=bytes_per_s)

    def set_slow_close(self, delay_s: float) -> None:
        """Wait ``delay_s`` before passing a close from one side on to the other."""
        self._update(slow_close_s=delay_s)

    def refuse(self, refuse: bool = True) -> None:
        """Reset new connections at once (the upstream looks down)."""
        self._update(refuse=refuse)

    def clear(self) -> None:
        """Lift every fault (connections already cut stay cut)."""
        self._settings = FaultSettings()
        self._call(self._sync_flowing())

    def stats(self) -> ProxyStats:
        return ProxyStats(active=len(self._links), **self._counts)

    # -- internals --------------------------------------------------------------------
    def _update(self, **changes: Any) -> None:
        self._settings = dataclasses.replace(self._settings, **changes)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        if self._loop is None:
            coro.close()
            raise FaultToolError("the fault proxy is not running", hint="use it as `with FaultProxy(...)`")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _sync_flowing(self) -> None:
        assert self._flowing is not None
        if self._settings.stalled:
            self._flowing.clear()
        else:
            self._flowing.set()

    async def _close_links(self, *, rst: bool) -> int:
        count = len(self._links)
        self._counts["resets" if rst else "cuts"] += 1
        self._abort_all(rst=rst)
        return count

    def _abort_all(self, *, rst: bool) -> None:
        for link in list(self._links):
            for writer in link.writers():
                _close_writer(writer, rst=rst)
        self._links.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._counts["accepted"] += 1
        if self._settings.refuse:
            self._counts["refused"] += 1
            _close_writer(writer, rst=True)
            return
        link = _Link(client=writer)
        self._links.add(link)
        try:
            up_reader, up_writer = await self._open_upstream()
        except OSError:
            self._counts["upstream_failures"] += 1
            self._links.discard(link)
            _close_writer(writer, rst=True)
            return
        link.upstream = up_writer
        await asyncio.gather(
            self._pipe(reader, up_writer, link, "bytes_to_upstream"),
            self._pipe(up_reader, writer, link, "bytes_to_client"),
            return_exceptions=True,
        )
        self._links.discard(link)
        for w in link.writers():
            _close_writer(w, rst=False)

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._socket_factory is None:
            return await asyncio.wait_for(asyncio.open_connection(*self.upstream), 5.0)
        sock = self._socket_factory()
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.sock_connect(sock, self.upstream), 5.0)
        except (TimeoutError, OSError) as err:
            sock.close()
            raise OSError(f"upstream {self.upstream} unreachable") from err
        return await asyncio.open_connection(sock=sock)

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, link: _Link, counter: str
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(_QUEUE_CHUNKS)
        writer_task = asyncio.create_task(self._deliver(queue, dst, counter, link))
        try:
            await self._receive(src, queue)
        finally:
            await queue.put(None)
            await writer_task
            await asyncio.sleep(self._settings.slow_close_s)
            for w in link.writers():
                _close_writer(w, rst=False)

    async def _receive(
        self, src: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes] | None]
    ) -> None:
        loop = asyncio.get_running_loop()
        last_due = 0.0
        while True:
            assert self._flowing is not None
            await self._flowing.wait()
            try:
                data = await src.read(_CHUNK)
            except (ConnectionError, OSError):
                return
            if not data:
                return
            last_due = max(last_due, loop.time() + self._delay())
            await queue.put((last_due, data))

    def _delay(self) -> float:
        s = self._settings
        jitter = 0.0
        if s.jitter_s > 0 and self._rng is not None:
            jitter = float(self._rng.uniform(-s.jitter_s, s.jitter_s))
        return max(0.0, s.latency_s + jitter)

    async def _deliver(
        self,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        dst: asyncio.StreamWriter,
        counter: str,
        link: _Link,
    ) -> None:
        loop = asyncio.get_running_loop()
        while (item := await queue.get()) is not None:
            due, data = item
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not await self._write_paced(dst, data, counter):
                for w in link.writers():  # the peer is gone: end the other direction too
                    _close_writer(w, rst=False)
                break
        while item is not None:  # drain so the reader never blocks on a dead peer
            item = await queue.get()

    async def _write_paced(self, dst: asyncio.StreamWriter, data: bytes, counter: str) -> bool:
        view = memoryview(data)
        while view:
            assert self._flowing is not None
            await self._flowing.wait()
            bw = self._settings.bandwidth_bps
            size = len(view) if bw is None else max(512, min(len(view), int(bw / 20)))
            piece, view = view[:size], view[size:]
            if dst.is_closing():
                return False
            self._counts[counter] += len(piece)  # before write(): it may send at once
            try:
                dst.write(bytes(piece))
                await dst.drain()
            except (ConnectionError, OSError):
                return False
            if bw is not None:
                await asyncio.sleep(len(piece) / bw)
        return True


def _close_writer(writer: asyncio.StreamWriter, *, rst: bool) -> None:
    sock = writer.get_extra_info("socket")
    if rst and sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        writer.transport.abort()
        return
    writer.close()
