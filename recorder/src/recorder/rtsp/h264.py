"""H.264 Annex-B helpers: split a byte stream into NAL units and look at their types."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
NAL_FILLER = 12

START_CODE = b"\x00\x00\x00\x01"


def nal_type(nal: bytes) -> int:
    """The nal_unit_type of one NAL unit (without start code)."""
    return nal[0] & 0x1F


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex-B byte stream into NAL units (start codes and trailing zeros removed)."""
    nals: list[bytes] = []
    pos = data.find(b"\x00\x00\x01")
    while pos >= 0:
        begin = pos + 3
        nxt = data.find(b"\x00\x00\x01", begin)
        end = len(data) if nxt < 0 else nxt
        nal = data[begin:end].rstrip(b"\x00")
        if nal:
            nals.append(nal)
        pos = nxt
    return nals


def join_annexb(nals: Iterable[bytes]) -> bytes:
    """Annex-B byte stream with 4-byte start codes."""
    return b"".join(START_CODE + nal for nal in nals)


def is_keyframe(nals: Sequence[bytes]) -> bool:
    return any(nal_type(n) == NAL_IDR for n in nals)


@dataclass(frozen=True)
class ParameterSets:
    sps: bytes | None
    pps: bytes | None


def parameter_sets(nals: Sequence[bytes]) -> ParameterSets:
    """The first SPS and PPS among ``nals`` (either may be missing)."""
    sps = next((n for n in nals if nal_type(n) == NAL_SPS), None)
    pps = next((n for n in nals if nal_type(n) == NAL_PPS), None)
    return ParameterSets(sps=sps, pps=pps)
