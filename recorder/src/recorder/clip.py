"""Concatenate recorded segments of a time range into one MP4 by remuxing (no transcoding)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av

from recorder.index import Segment

__all__ = ["write_clip"]


def write_clip(storage: Path, segments: Sequence[Segment], dest: Path) -> int:
    """Remux ``segments`` (one stream, oldest first) into ``dest``; returns the packet count.

    Timestamps are laid end to end, each segment starting where the previous one ended, so gaps in
    the recording are closed up in the clip (the index keeps the true wall-clock times).
    """
    packets = 0
    with av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        ostream = None
        offset = 0
        for seg in segments:
            with av.open(str(storage / seg.path)) as src:
                video = src.streams.video[0]
                if ostream is None:
                    ostream = out.add_stream_from_template(video)
                tb = video.time_base
                first: int | None = None
                last = 0
                for p in src.demux(video):
                    if p.dts is None or p.size == 0:
                        continue
                    if first is None:
                        first = p.dts
                    dts = p.dts - first + offset
                    pts = (p.pts if p.pts is not None else p.dts) - first + offset
                    last = max(last, pts + (p.duration or 0))
                    p.dts, p.pts = dts, max(pts, dts)
                    p.stream = ostream
                    if tb is not None:
                        p.time_base = tb
                    out.mux(p)
                    packets += 1
                offset = max(last, offset + 1)
    return packets
