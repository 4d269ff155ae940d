"""One RTSP client connection: request dispatch and the sessions it owns."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recorder.rtsp.messages import Request, Response, read_message
from recorder.rtsp.sdp import TRACK_CONTROL, build_sdp
from recorder.rtsp.sender import (
    InterleavedSender,
    RtpSender,
    RtpStart,
    UdpSender,
    open_udp_sender,
)
from recorder.rtsp.source import MediaSource
from recorder.rtsp.transport import (
    TransportSpec,
    UnsupportedTransport,
    describe_transport,
    parse_transport,
)

if TYPE_CHECKING:
    from recorder.rtsp.server import RtspServer

log = logging.getLogger(__name__)

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
SESSION_TIMEOUT = 60


def abort_with_rst(writer: asyncio.StreamWriter) -> None:
    """Close a TCP connection with a RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


@dataclass
class Session:
    """One SETUP'd stream: its sender and, while playing, the task feeding it."""

    sid: str
    name: str
    source: MediaSource
    sender: RtpSender
    task: asyncio.Task[None] | None = field(default=None)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None


class RtspConnection:
    def __init__(self, server: RtspServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.sessions: dict[str, Session] = {}
        peer = writer.get_extra_info("peername")
        self.peer_host = str(peer[0]) if peer else server.host

    async def serve(self) -> None:
        while not self.writer.is_closing():
            msg = await read_message(self.reader)
            if not isinstance(msg, Request):
                continue  # RTCP receiver reports arriving interleaved, or stray responses
            response = await self.dispatch(msg)
            if response is None:
                return
            self.writer.write(response.encode(msg.cseq))
            await self.writer.drain()
            session = self.sessions.get(msg.header("session").split(";")[0])
            if msg.method == "PLAY" and response.status == 200 and session is not None:
                self._start(session)

    def reset(self) -> None:
        self._stop_sessions()
        abort_with_rst(self.writer)

    def close(self) -> None:
        self._stop_sessions()
        if not self.writer.is_closing():
            self.writer.close()

    def _stop_sessions(self) -> None:
        for session in self.sessions.values():
            session.stop()
            session.sender.close()
        self.sessions.clear()

    def _start(self, session: Session) -> None:
        if session.task is None:
            session.task = asyncio.create_task(self._play(session))

    async def _play(self, session: Session) -> None:
        try:
            await session.source.play(session.sender)
        except (ConnectionError, OSError) as exc:
            log.debug("stream %s ended: %s", session.name, exc)
            return
        if not self.writer.is_closing():  # the source ended (stream removed): hang up
            self.writer.close()

    async def dispatch(self, req: Request) -> Response | None:
        """The response to ``req``; None means the connection was dropped (refusal)."""
        if req.method == "OPTIONS":
            return Response(200, {"Public": PUBLIC})
        if req.method in ("GET_PARAMETER", "SET_PARAMETER"):
            return Response(200, self._session_header(req))
        name = req.path.split("/", 1)[0]
        if req.method in ("DESCRIBE", "SETUP"):
            source = self.server.lookup(name)
            if source is None:
                return Response(404)
            if source.refusing:
                abort_with_rst(self.writer)
                return None
            self.server.attach(name, self)
            if req.method == "DESCRIBE":
                return self._describe(name, source)
            return await self._setup(req, name, source)
        if req.method in ("PLAY", "PAUSE", "TEARDOWN"):
            return self._control(req)
        return Response(501)

    def _session_header(self, req: Request) -> dict[str, str]:
        sid = req.header("session").split(";")[0]
        return {"Session": sid} if sid else {}

    def _describe(self, name: str, source: MediaSource) -> Response:
        desc = source.description()
        if desc is None:
            return Response(503)
        body = build_sdp(desc, name=name, host=self.server.host).encode()
        return Response(200, {"Content-Type": "application/sdp",
                              "Content-Base": self.server.url(name) + "/"}, body)

    async def _setup(self, req: Request, name: str, source: MediaSource) -> Response:
        if source.description() is None:
            return Response(503)
        try:
            spec = parse_transport(req.header("transport"))
        except UnsupportedTransport:
            return Response(461)
        sid = req.header("session").split(";")[0] or f"{self.server.rng.getrandbits(48):012X}"
        if sid in self.sessions:
            return Response(455, {"Session": sid})
        rng = self.server.rng
        start = RtpStart(ssrc=rng.getrandbits(32), seq=rng.getrandbits(16),
                         timestamp=rng.getrandbits(32))
        sender = await self._open_sender(spec, start)
        self.sessions[sid] = Session(sid=sid, name=name, source=source, sender=sender)
        server_ports = sender.server_ports if isinstance(sender, UdpSender) else None
        transport = describe_transport(spec, ssrc=start.ssrc, server_ports=server_ports)
        return Response(200, {"Transport": transport,
                              "Session": f"{sid};timeout={SESSION_TIMEOUT}"})

    async def _open_sender(self, spec: TransportSpec, start: RtpStart) -> RtpSender:
        if spec.interleaved is not None:
            return InterleavedSender(start, self.writer, spec.interleaved.rtp)
        assert spec.client_ports is not None
        return await open_udp_sender(start, local_host=self.server.host,
                                     peer_host=self.peer_host, client=spec.client_ports)

    def _control(self, req: Request) -> Response:
        sid = req.header("session").split(";")[0]
        session = self.sessions.get(sid)
        if session is None:
            return Response(454)
        headers = {"Session": sid}
        if req.method == "PLAY":
            start = session.sender.start
            url = f"{self.server.url(session.name)}/{TRACK_CONTROL}"
            headers["Range"] = "npt=0.000-"
            headers["RTP-Info"] = f"url={url};seq={session.sender.seq};rtptime={start.timestamp}"
        elif req.method == "PAUSE":
            session.stop()
        else:
            session.stop()
            session.sender.close()
            del self.sessions[sid]
        return Response(200, headers)
