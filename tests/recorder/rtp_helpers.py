"""Test helpers: collect RTP access units from a client and decode them with PyAV."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass

import av
from recorder.rtsp.client import RtspClient
from recorder.rtsp.h264 import join_annexb
from recorder.rtsp.rtp import Depacketizer, RtpPacket

WAIT = 10.0  # bound on any single wait for the network


@dataclass(frozen=True)
class ReceivedUnit:
    first_seq: int
    last_seq: int
    timestamp: int
    nals: tuple[bytes, ...]
    payloads: tuple[bytes, ...]

    @property
    def keyframe(self) -> bool:
        return any(n[0] & 0x1F == 5 for n in self.nals)


async def collect_units(client: RtspClient, count: int) -> list[ReceivedUnit]:
    """The next ``count`` complete access units (grouped by the marker bit)."""
    units: list[ReceivedUnit] = []
    packets: list[RtpPacket] = []
    while len(units) < count:
        packet = await asyncio.wait_for(client.next_packet(), WAIT)
        packets.append(packet)
        if packet.marker:
            depack = Depacketizer()
            nals = tuple(n for p in packets for n in depack.push(p.payload))
            units.append(ReceivedUnit(first_seq=packets[0].seq, last_seq=packet.seq,
                                      timestamp=packet.timestamp, nals=nals,
                                      payloads=tuple(p.payload for p in packets)))
            packets = []
    return units


def decode_sizes(units: list[ReceivedUnit]) -> list[tuple[int, int]]:
    """Frame sizes PyAV decodes from the units (starting at the first keyframe)."""
    codec = av.CodecContext.create("h264", "r")
    start = next(i for i, u in enumerate(units) if u.keyframe)
    sizes = []
    for unit in units[start:]:
        for frame in codec.decode(av.Packet(join_annexb(unit.nals))):
            sizes.append((frame.width, frame.height))
    for frame in codec.decode(None):
        sizes.append((frame.width, frame.height))
    return sizes


def assert_continuous(units: list[ReceivedUnit]) -> None:
    """No sequence number gap between consecutive units."""
    for prev, cur in itertools.pairwise(units):
        assert cur.first_seq == (prev.last_seq + 1) & 0xFFFF


def rtsp_first_frames(url: str, count: int, *,
                      timeout: float = 20.0) -> tuple[float, list[tuple[int, int]]]:
    """Decode ``count`` frames from an RTSP URL with PyAV (FFmpeg's client, over TCP).

    Returns the seconds to the first decoded frame and the size of every frame."""
    start = time.perf_counter()
    first = 0.0
    sizes: list[tuple[int, int]] = []
    options = {"rtsp_transport": "tcp", "analyzeduration": "0", "probesize": "32"}
    with av.open(url, options=options, timeout=timeout) as container:
        for frame in container.decode(video=0):
            first = first or time.perf_counter() - start
            sizes.append((frame.width, frame.height))
            if len(sizes) == count:
                break
    return first, sizes
