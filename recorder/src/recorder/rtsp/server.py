"""An asyncio RTSP server for live H.264 sources (RFC 2326 subset that FFmpeg's client uses).

Methods: OPTIONS, DESCRIBE, SETUP (RTP/AVP/TCP interleaved or RTP/AVP over UDP), PLAY (with
RTP-Info), PAUSE, TEARDOWN, GET_PARAMETER/SET_PARAMETER (keep-alive). Each ``rtsp://host:port/NAME``
maps to a :class:`MediaSource` found by the ``lookup`` callable. The server also gives fault hooks
to its owner: :meth:`RtspServer.reset` (RST the connections of a source) and ``refuse_all``.
"""

from __future__ import annotations

import asyncio
import logging
import random

from recorder.rtsp.handler import RtspConnection, abort_with_rst
from recorder.rtsp.messages import RtspProtocolError
from recorder.rtsp.source import MediaSource, SourceLookup

log = logging.getLogger(__name__)


class RtspServer:
    """Listens on ``host:port`` (0 picks a free port; see :attr:`port`)."""

    def __init__(self, lookup: SourceLookup, *, host: str = "127.0.0.1", port: int = 0,
                 seed: int = 0) -> None:
        self.lookup = lookup
        self.host = host
        self._port = port
        self.rng = random.Random(seed)
        self.refuse_all = False
        self._server: asyncio.Server | None = None
        self._by_source: dict[str, set[RtspConnection]] = {}
        self._all: set[RtspConnection] = set()
        self._tasks: set[asyncio.Task[object]] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self._port,
                                                  reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._all):
            conn.reset()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def url(self, name: str) -> str:
        return f"rtsp://{self.host}:{self.port}/{name}"

    def attach(self, name: str, conn: RtspConnection) -> None:
        self._by_source.setdefault(name, set()).add(conn)

    def reset(self, name: str) -> int:
        """RST every connection that asked for ``name``; returns how many were reset."""
        conns = list(self._by_source.pop(name, set()))
        for conn in conns:
            conn.reset()
        return len(conns)

    def connection_count(self, name: str) -> int:
        return len(self._by_source.get(name, set()))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse_all:
            abort_with_rst(writer)
            await _closed(writer)
            return
        conn = RtspConnection(self, reader, writer)
        self._all.add(conn)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await conn.serve()
        except (ConnectionError, asyncio.IncompleteReadError, RtspProtocolError) as exc:
            log.debug("rtsp connection ended: %s", exc)
        finally:
            self._tasks.discard(task)
            self._all.discard(conn)
            for conns in self._by_source.values():
                conns.discard(conn)
            conn.close()
            await _closed(writer)


async def _closed(writer: asyncio.StreamWriter) -> None:
    """Wait for the transport to close, consuming its error (a reset peer is routine here)."""
    try:
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass


__all__ = ["MediaSource", "RtspServer", "SourceLookup"]
