"""Structural check of a fragmented MP4 segment without demuxing it (the mover's fast validation).

The box headers must tile the file exactly (a truncated write leaves a box running past the end),
``ftyp`` and ``moov`` must come first, and the ``trun`` sample counts of all ``moof`` boxes give the
number of packets, which must equal what the segmenter wrote. Reading a few hundred bytes per GOP
instead of opening and demuxing the file with FFmpeg took ~0.2 ms instead of 7-15 ms for a 10 s
720p segment, which matters next to ``ffmpeg -c copy`` in the CPU comparison.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

__all__ = ["fragmented_mp4_samples"]

_CONTAINERS = {b"moof", b"traf"}


def _boxes(f: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload offset, box end) of the boxes in [start, end); ValueError if they do not tile it."""
    out = []
    pos = start
    while pos < end:
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"truncated box header at {pos}")
        size, kind = struct.unpack(">I4s", head)
        payload = pos + 8
        if size == 1:
            size = struct.unpack(">Q", f.read(8))[0]
            payload += 8
        elif size == 0:
            size = end - pos
        if size < payload - pos or pos + size > end:
            raise ValueError(f"box {kind!r} at {pos} runs past the end")
        out.append((kind, payload, pos + size))
        pos += size
    return out


def _samples(f: BinaryIO, start: int, end: int) -> int:
    total = 0
    for kind, payload, box_end in _boxes(f, start, end):
        if kind in _CONTAINERS:
            total += _samples(f, payload, box_end)
        elif kind == b"trun":
            f.seek(payload + 4)  # version + flags
            total += struct.unpack(">I", f.read(4))[0]
    return total


def fragmented_mp4_samples(path: Path) -> int:
    """Sample count of a complete fragmented MP4; ValueError when the structure is broken."""
    size = path.stat().st_size
    with path.open("rb") as f:
        top = _boxes(f, 0, size)
        kinds = [k for k, _, _ in top]
        if kinds[:2] != [b"ftyp", b"moov"]:
            raise ValueError(f"expected ftyp, moov first, found {kinds[:2]}")
        return sum(_samples(f, payload, end) for kind, payload, end in top if kind == b"moof")
