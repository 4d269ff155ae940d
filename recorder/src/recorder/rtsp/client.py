"""A small RTSP client (TCP interleaved or UDP) for tests and measurements.

It checks what FFmpeg does not report: RTP-Info, sequence continuity, SSRC, timestamps.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from recorder.rtsp.messages import Interleaved, Response, encode_request, read_message
from recorder.rtsp.rtp import RtpPacket, parse_rtp
from recorder.rtsp.sdp import TRACK_CONTROL


class RtspClientError(Exception):
    """The server answered with an error status or closed the connection."""


@dataclass
class _UdpQueue(asyncio.DatagramProtocol):
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.queue.put_nowait(data)


class RtspClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = ""
        self.sdp = ""
        self.rtp_info = ""
        self._cseq = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_queue: _UdpQueue | None = None

    async def connect(self) -> None:
        host_port = self.url.split("//", 1)[1].split("/", 1)[0]
        host, _, port = host_port.partition(":")
        try:
            self._reader, self._writer = await asyncio.open_connection(host, int(port or 554))
        except ConnectionError as exc:
            raise RtspClientError("connect: connection closed") from exc

    async def request(self, method: str, url: str | None = None,
                      headers: dict[str, str] | None = None) -> Response:
        assert self._reader is not None and self._writer is not None
        self._cseq += 1
        hdrs = dict(headers or {})
        if self.session:
            hdrs.setdefault("Session", self.session)
        try:
            self._writer.write(encode_request(method, url or self.url, self._cseq, hdrs))
            await self._writer.drain()
            msg = await read_message(self._reader)
            while not isinstance(msg, Response):
                msg = await read_message(self._reader)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise RtspClientError(f"{method}: connection closed") from exc
        if msg.status != 200:
            raise RtspClientError(f"{method} {url or self.url}: status {msg.status}")
        return msg

    async def start(self, *, tcp: bool = True) -> None:
        """OPTIONS, DESCRIBE, SETUP, PLAY."""
        await self.connect()
        await self.request("OPTIONS")
        self.sdp = (await self.request("DESCRIBE", headers={"Accept": "application/sdp"})
                    ).body.decode()
        if tcp:
            transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
        else:
            loop = asyncio.get_running_loop()
            self._udp, self._udp_queue = await loop.create_datagram_endpoint(
                _UdpQueue, local_addr=("127.0.0.1", 0))
            port = self._udp.get_extra_info("sockname")[1]
            transport = f"RTP/AVP;unicast;client_port={port}-{port + 1}"
        reply = await self.request("SETUP", f"{self.url}/{TRACK_CONTROL}", {"Transport": transport})
        self.session = reply.header("session").split(";")[0]
        play = await self.request("PLAY", headers={"Range": "npt=0.000-"})
        self.rtp_info = play.header("rtp-info")

    async def next_packet(self) -> RtpPacket:
        """The next RTP packet (RTCP and other channels are skipped)."""
        if self._udp_queue is not None:
            return parse_rtp(await self._udp_queue.queue.get())
        assert self._reader is not None
        while True:
            msg = await read_message(self._reader)
            if isinstance(msg, Interleaved) and msg.channel == 0:
                return parse_rtp(msg.data)

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
