"""RTP for H.264 (RFC 6184, packetization-mode=1): single NAL unit packets and FU-A fragments.

Packetising happens once per clip (cameras) or once per access unit (restream); sending only
prepends a 12-byte header, see :func:`rtp_header`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recorder.rtsp.h264 import NAL_AUD, NAL_FILLER, nal_type

PAYLOAD_TYPE = 96
CLOCK_RATE = 90_000
MAX_PAYLOAD = 1400
FU_A = 28

_HEADER = struct.Struct("!BBHII")


@dataclass(frozen=True)
class RtpFrame:
    """One access unit as ready-made RTP payloads; the last one carries the marker bit."""

    payloads: tuple[bytes, ...]
    keyframe: bool


@dataclass(frozen=True)
class RtpPacket:
    """A parsed RTP packet (used by clients and tests)."""

    payload_type: int
    marker: bool
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes


def rtp_header(*, marker: bool, seq: int, timestamp: int, ssrc: int,
               payload_type: int = PAYLOAD_TYPE) -> bytes:
    return _HEADER.pack(0x80, (0x80 if marker else 0) | payload_type, seq & 0xFFFF,
                        timestamp & 0xFFFFFFFF, ssrc)


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse an RTP packet; CSRCs and header extensions are skipped."""
    if len(data) < 12 or data[0] >> 6 != 2:
        raise ValueError("not an RTP version 2 packet")
    b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
    offset = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        ext_words = struct.unpack_from("!H", data, offset + 2)[0]
        offset += 4 + 4 * ext_words
    end = len(data) - (data[-1] if b0 & 0x20 else 0)
    return RtpPacket(payload_type=b1 & 0x7F, marker=bool(b1 & 0x80), seq=seq, timestamp=ts,
                     ssrc=ssrc, payload=bytes(data[offset:end]))


def packetize_nal(nal: bytes, max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """One NAL unit as RTP payloads: itself if it fits, else FU-A fragments."""
    if len(nal) <= max_payload:
        return [nal]
    header = nal[0]
    indicator = bytes([(header & 0xE0) | FU_A])
    body = memoryview(nal)[1:]
    step = max_payload - 2
    out: list[bytes] = []
    for start in range(0, len(body), step):
        first = start == 0
        last = start + step >= len(body)
        fu_header = (0x80 if first else 0) | (0x40 if last else 0) | (header & 0x1F)
        out.append(indicator + bytes([fu_header]) + body[start:start + step])
    return out


def packetize_access_unit(nals: Iterable[bytes], *, keyframe: bool,
                          max_payload: int = MAX_PAYLOAD) -> RtpFrame:
    """RTP payloads of one access unit; access unit delimiters and filler are dropped."""
    payloads: list[bytes] = []
    for nal in nals:
        if nal_type(nal) in (NAL_AUD, NAL_FILLER):
            continue
        payloads.extend(packetize_nal(nal, max_payload))
    return RtpFrame(payloads=tuple(payloads), keyframe=keyframe)


class Depacketizer:
    """Reassembles NAL units from RTP payloads (single NAL, STAP-A and FU-A)."""

    def __init__(self) -> None:
        self._fu: bytearray | None = None

    def push(self, payload: bytes) -> list[bytes]:
        """NAL units completed by this payload."""
        kind = payload[0] & 0x1F
        if kind == FU_A:
            return self._push_fu(payload)
        if kind == 24:
            return _split_stap_a(payload[1:])
        return [payload]

    def _push_fu(self, payload: bytes) -> list[bytes]:
        fu_header = payload[1]
        if fu_header & 0x80:
            self._fu = bytearray([(payload[0] & 0xE0) | (fu_header & 0x1F)])
        if self._fu is None:
            return []
        self._fu += payload[2:]
        if fu_header & 0x40:
            nal, self._fu = bytes(self._fu), None
            return [nal]
        return []


def _split_stap_a(data: bytes) -> list[bytes]:
    nals: list[bytes] = []
    pos = 0
    while pos + 2 <= len(data):
        size = struct.unpack_from("!H", data, pos)[0]
        nals.append(bytes(data[pos + 2:pos + 2 + size]))
        pos += 2 + size
    return nals


def depacketize(payloads: Sequence[bytes]) -> list[bytes]:
    """NAL units carried by a sequence of payloads (convenience for tests)."""
    unit = Depacketizer()
    return [nal for p in payloads for nal in unit.push(p)]
