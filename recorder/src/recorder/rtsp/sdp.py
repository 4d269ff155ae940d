"""Session descriptions for one H.264 video stream (RFC 6184 section 8)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from recorder.rtsp.rtp import CLOCK_RATE, PAYLOAD_TYPE

TRACK_CONTROL = "trackID=0"


@dataclass(frozen=True)
class H264Description:
    sps: bytes
    pps: bytes
    width: int
    height: int
    fps: float


def profile_level_id(sps: bytes) -> str:
    """profile_idc, constraint flags and level_idc from an SPS NAL unit, as 6 hex digits."""
    return sps[1:4].hex().upper()


def sprop_parameter_sets(sps: bytes, pps: bytes) -> str:
    return ",".join(base64.b64encode(p).decode("ascii") for p in (sps, pps))


def build_sdp(desc: H264Description, *, name: str, host: str = "127.0.0.1") -> str:
    fmtp = (f"a=fmtp:{PAYLOAD_TYPE} packetization-mode=1;profile-level-id="
            f"{profile_level_id(desc.sps)};sprop-parameter-sets="
            f"{sprop_parameter_sets(desc.sps, desc.pps)}")
    lines = [
        "v=0",
        f"o=- 0 0 IN IP4 {host}",
        f"s={name}",
        f"c=IN IP4 {host}",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
        f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
        f"a=rtpmap:{PAYLOAD_TYPE} H264/{CLOCK_RATE}",
        fmtp,
        f"a=framerate:{desc.fps:g}",
        f"a=x-dimensions:{desc.width},{desc.height}",
        f"a=control:{TRACK_CONTROL}",
    ]
    return "\r\n".join(lines) + "\r\n"


def parse_sprop(sdp: str) -> list[bytes]:
    """The parameter sets named in an SDP's sprop-parameter-sets (empty if absent)."""
    for line in sdp.splitlines():
        if line.startswith("a=fmtp:") and "sprop-parameter-sets=" in line:
            value = line.split("sprop-parameter-sets=", 1)[1].split(";", 1)[0]
            return [base64.b64decode(v) for v in value.split(",") if v]
    return []
