"""Unit tests of the RTSP/RTP building blocks (no sockets)."""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest
from recorder.rtsp.h264 import join_annexb, nal_type, parameter_sets, split_annexb
from recorder.rtsp.messages import Interleaved, Request, Response, read_message
from recorder.rtsp.rtp import (
    FU_A,
    MAX_PAYLOAD,
    depacketize,
    packetize_access_unit,
    packetize_nal,
    parse_rtp,
    rtp_header,
)
from recorder.rtsp.sdp import H264Description, build_sdp, parse_sprop, profile_level_id
from recorder.rtsp.sender import (
    NTP_EPOCH_OFFSET,
    SR_INTERVAL,
    RtpSender,
    RtpStart,
    sender_report,
)
from recorder.rtsp.transport import (
    PortPair,
    UnsupportedTransport,
    describe_transport,
    parse_transport,
)


def _nal(rng: np.random.Generator, kind: int, size: int) -> bytes:
    body = rng.integers(1, 256, size=size - 1, dtype=np.uint8).tobytes()
    return bytes([0x60 | kind]) + body


def test_fu_a_fragments_reassemble_to_the_original(rng: np.random.Generator) -> None:
    nal = _nal(rng, 5, 5000)
    payloads = packetize_nal(nal)
    assert len(payloads) == 4
    assert all(len(p) <= MAX_PAYLOAD for p in payloads)
    assert all(p[0] & 0x1F == FU_A and p[0] & 0xE0 == 0x60 for p in payloads)
    assert [bool(p[1] & 0x80) for p in payloads] == [True, False, False, False]
    assert [bool(p[1] & 0x40) for p in payloads] == [False, False, False, True]
    assert depacketize(payloads) == [nal]


def test_small_nal_is_a_single_nal_packet(rng: np.random.Generator) -> None:
    nal = _nal(rng, 1, MAX_PAYLOAD)
    assert packetize_nal(nal) == [nal]


def test_access_unit_drops_delimiters_and_filler(rng: np.random.Generator) -> None:
    aud, sps, filler = bytes([0x09, 0xF0]), _nal(rng, 7, 12), _nal(rng, 12, 40)
    frame = packetize_access_unit([aud, sps, filler, _nal(rng, 5, 3000)], keyframe=True)
    assert nal_type(frame.payloads[0]) == 7
    assert depacketize(frame.payloads)[0] == sps
    assert len(depacketize(frame.payloads)) == 2


def test_annexb_split_handles_3_and_4_byte_start_codes(rng: np.random.Generator) -> None:
    nals = [_nal(rng, 7, 10), _nal(rng, 8, 4), _nal(rng, 5, 300)]
    data = join_annexb(nals[:2]) + b"\x00\x00\x01" + nals[2]
    assert split_annexb(data) == nals
    sets = parameter_sets(nals)
    assert (sets.sps, sets.pps) == (nals[0], nals[1])


def test_rtp_header_round_trip() -> None:
    packet = parse_rtp(rtp_header(marker=True, seq=70000, timestamp=2**32 + 5, ssrc=0xABCDEF01)
                       + b"\x65xyz")
    assert (packet.marker, packet.seq, packet.timestamp, packet.ssrc) == (True, 70000 & 0xFFFF,
                                                                            5, 0xABCDEF01)
    assert packet.payload_type == 96 and packet.payload == b"\x65xyz"


def test_transport_header_tcp_udp_and_rejections() -> None:
    tcp = parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3")
    assert tcp.is_tcp and tcp.interleaved == PortPair(2, 3)
    udp = parse_transport("RTP/AVP/TCP;multicast, RTP/AVP;unicast;client_port=5000-5001")
    assert udp.client_ports == PortPair(5000, 5001) and not udp.is_tcp
    with pytest.raises(UnsupportedTransport):
        parse_transport("RTP/SAVP;unicast;client_port=5000-5001")
    assert describe_transport(tcp, ssrc=1, server_ports=None) == (
        "RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=00000001")
    assert describe_transport(udp, ssrc=255, server_ports=PortPair(7000, 7001)) == (
        "RTP/AVP;unicast;client_port=5000-5001;server_port=7000-7001;ssrc=000000FF")


def test_sdp_carries_parameter_sets_and_profile() -> None:
    sps, pps = bytes.fromhex("6742c01eda0280bfe5840000030004"), bytes.fromhex("68ce3c80")
    sdp = build_sdp(H264Description(sps=sps, pps=pps, width=640, height=480, fps=25), name="cam0")
    assert parse_sprop(sdp) == [sps, pps]
    assert profile_level_id(sps) == "42C01E"
    assert "packetization-mode=1" in sdp and "a=rtpmap:96 H264/90000" in sdp


def test_reader_separates_requests_bodies_and_interleaved_frames() -> None:
    async def read_all() -> list[Request | Response | Interleaved]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"$\x01\x00\x03abc"
                         b"SET_PARAMETER rtsp://h/cam0 RTSP/1.0\r\nCSeq: 7\r\n"
                         b"Content-Length: 5\r\n\r\nhello"
                         b"RTSP/1.0 404 Not Found\r\nCSeq: 8\r\n\r\n")
        reader.feed_eof()
        return [await read_message(reader) for _ in range(3)]

    frame, req, resp = asyncio.run(read_all())
    assert frame == Interleaved(channel=1, data=b"abc")
    assert isinstance(req, Request) and req.method == "SET_PARAMETER"
    assert req.cseq == "7" and req.body == b"hello" and req.path == "cam0"
    assert isinstance(resp, Response) and resp.status == 404


def test_response_encoding() -> None:
    raw = Response(200, {"Session": "AB"}, b"v=0\r\n").encode("3")
    assert raw.startswith(b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: AB\r\nContent-Length: 5\r\n")
    assert raw.endswith(b"\r\n\r\nv=0\r\n")


class _CapturingSender(RtpSender):
    def __init__(self, clock: list[float]) -> None:
        super().__init__(RtpStart(ssrc=0x1234, seq=65535, timestamp=2**32 - 10),
                         clock=lambda: clock[0])
        self.rtp: list[bytes] = []
        self.rtcp: list[bytes] = []

    def _emit(self, packets: list[bytes]) -> None:
        self.rtp += packets

    def _emit_rtcp(self, packet: bytes) -> None:
        self.rtcp.append(packet)


def test_sender_numbers_packets_and_sends_periodic_sender_reports() -> None:
    clock = [1000.0]
    sender = _CapturingSender(clock)
    sender.send_frame([b"\x67a", b"\x68b", b"\x65c"], 0)
    clock[0] += SR_INTERVAL / 2
    sender.send_frame([b"\x41d"], 3000)
    clock[0] += SR_INTERVAL
    sender.send_frame([b"\x41e"], 6000)
    packets = [parse_rtp(p) for p in sender.rtp]
    assert [p.seq for p in packets] == [65535, 0, 1, 2, 3]
    assert [p.marker for p in packets] == [False, False, True, True, True]
    assert [p.timestamp for p in packets] == [2**32 - 10] * 3 + [2990, 5990]
    assert len(sender.rtcp) == 2
    fields = struct.unpack("!BBHIIIIII", sender.rtcp[1])
    assert fields[:4] == (0x80, 200, 6, 0x1234)
    assert fields[4] == int(clock[0]) + NTP_EPOCH_OFFSET
    assert fields[6:] == (5990, 4, 8)
    assert sender.rtcp[0] == sender_report(ssrc=0x1234, wallclock=1000.0,
                                           rtp_timestamp=2**32 - 10, packets=0, octets=0)
