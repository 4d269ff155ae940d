"""RTP output of one RTSP session: interleaved on the RTSP TCP connection, or UDP datagrams.

A sender owns the session's SSRC, sequence numbers and timestamp base; the media source only gives
payloads and a timestamp relative to the start of play, so numbering stays continuous however the
source loops or switches clips.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from recorder.rtsp.rtp import rtp_header
from recorder.rtsp.transport import PortPair

WRITE_HIGH_WATER = 2 * 1024 * 1024
SR_INTERVAL = 5.0  # seconds between RTCP sender reports
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


def sender_report(*, ssrc: int, wallclock: float, rtp_timestamp: int, packets: int,
                  octets: int) -> bytes:
    """An RTCP sender report (RFC 3550 6.4.1) without report blocks."""
    ntp = wallclock + NTP_EPOCH_OFFSET
    seconds = int(ntp)
    fraction = int((ntp - seconds) * (1 << 32)) & 0xFFFFFFFF
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, seconds & 0xFFFFFFFF, fraction,
                       rtp_timestamp & 0xFFFFFFFF, packets & 0xFFFFFFFF, octets & 0xFFFFFFFF)


@dataclass(frozen=True)
class RtpStart:
    """Numbering chosen for a session at SETUP, announced in PLAY's RTP-Info."""

    ssrc: int
    seq: int
    timestamp: int


class RtpSender:
    """Base: stamps RTP headers; subclasses decide how the bytes travel."""

    def __init__(self, start: RtpStart, clock: Callable[[], float] = time.time) -> None:
        self.start = start
        self.seq = start.seq
        self.packets_sent = 0
        self.bytes_sent = 0
        self.payload_octets = 0
        self._clock = clock
        self._last_sr: float | None = None

    def send_frame(self, payloads: Sequence[bytes], timestamp: int) -> None:
        """Send one access unit's payloads with RTP time ``start.timestamp + timestamp``."""
        ts = (self.start.timestamp + timestamp) & 0xFFFFFFFF
        now = self._clock()
        if self._last_sr is None or now - self._last_sr >= SR_INTERVAL:
            self._last_sr = now
            self._emit_rtcp(sender_report(ssrc=self.start.ssrc, wallclock=now, rtp_timestamp=ts,
                                          packets=self.packets_sent, octets=self.payload_octets))
        last = len(payloads) - 1
        packets = []
        for i, payload in enumerate(payloads):
            packets.append(rtp_header(marker=i == last, seq=self.seq, timestamp=ts,
                                      ssrc=self.start.ssrc) + payload)
            self.seq = (self.seq + 1) & 0xFFFF
        self.packets_sent += len(packets)
        self.payload_octets += sum(len(p) for p in payloads)
        self._emit(packets)

    def _emit(self, packets: list[bytes]) -> None:
        raise NotImplementedError

    def _emit_rtcp(self, packet: bytes) -> None:
        raise NotImplementedError

    async def drain(self) -> None:
        """Wait while the peer is not reading fast enough (TCP only)."""

    @property
    def closed(self) -> bool:
        return False

    def close(self) -> None:
        """Release resources owned by the sender (UDP sockets)."""


class InterleavedSender(RtpSender):
    """RTP inside ``$``-framed packets on the RTSP connection (RTP/AVP/TCP)."""

    def __init__(self, start: RtpStart, writer: asyncio.StreamWriter, channel: int) -> None:
        super().__init__(start)
        self._writer = writer
        self._prefix = b"$" + bytes([channel])
        self._rtcp_prefix = b"$" + bytes([channel + 1])

    def _emit(self, packets: list[bytes]) -> None:
        if self._writer.is_closing():
            return
        chunks = []
        for packet in packets:
            chunks.append(self._prefix + struct.pack("!H", len(packet)))
            chunks.append(packet)
        data = b"".join(chunks)
        self.bytes_sent += len(data)
        self._writer.write(data)

    def _emit_rtcp(self, packet: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(self._rtcp_prefix + struct.pack("!H", len(packet)) + packet)

    async def drain(self) -> None:
        transport = self._writer.transport
        if transport.get_write_buffer_size() > WRITE_HIGH_WATER and not transport.is_closing():
            await self._writer.drain()

    @property
    def closed(self) -> bool:
        return self._writer.is_closing()


class UdpSender(RtpSender):
    """RTP datagrams to the client's RTP port, from the server's own RTP socket."""

    def __init__(self, start: RtpStart, rtp: asyncio.DatagramTransport,
                 rtcp: asyncio.DatagramTransport, *, peer_host: str, client: PortPair) -> None:
        super().__init__(start)
        self._rtp = rtp
        self._rtcp = rtcp
        self._addr = (peer_host, client.rtp)
        self._rtcp_addr = (peer_host, client.rtcp)

    @property
    def server_ports(self) -> PortPair:
        return PortPair(rtp=self._rtp.get_extra_info("sockname")[1],
                        rtcp=self._rtcp.get_extra_info("sockname")[1])

    def _emit(self, packets: list[bytes]) -> None:
        if self._rtp.is_closing():
            return
        for packet in packets:
            self.bytes_sent += len(packet)
            self._rtp.sendto(packet, self._addr)

    def _emit_rtcp(self, packet: bytes) -> None:
        if not self._rtcp.is_closing():
            self._rtcp.sendto(packet, self._rtcp_addr)

    @property
    def closed(self) -> bool:
        return self._rtp.is_closing()

    def close(self) -> None:
        self._rtp.close()
        self._rtcp.close()


class _Discard(asyncio.DatagramProtocol):
    """Receives (and ignores) the client's hole-punching packets and RTCP reports."""


async def open_udp_sender(start: RtpStart, *, local_host: str, peer_host: str,
                          client: PortPair) -> UdpSender:
    """A UDP sender with two fresh server sockets (RTP and RTCP) on ``local_host``."""
    loop = asyncio.get_running_loop()
    rtp, _ = await loop.create_datagram_endpoint(_Discard, local_addr=(local_host, 0))
    rtcp, _ = await loop.create_datagram_endpoint(_Discard, local_addr=(local_host, 0))
    return UdpSender(start, rtp, rtcp, peer_host=peer_host, client=client)
