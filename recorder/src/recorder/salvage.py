"""Recover cache files left by a crash: remux their readable packets into clean segments.

Fragmented MP4 and MPEG-TS stay readable up to the last complete fragment/packet when the recorder
dies mid-write; that is the reason the segmenter uses them. At start-up each leftover
``<stream>@<start>-<pid>-<n>.<ext>`` is read as far as it goes, its packets (from the first keyframe)
are remuxed into a fresh cache file, and the result goes through the mover like any segment. Files
with nothing usable are deleted. Durable files the index lacks (a crash between the rename and the
insert) are indexed again from their path and contents.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np

from recorder.index import Segment
from recorder.segmenter import CachedSegment, open_segment_container

__all__ = ["orphan_segment", "salvage_cache_file"]

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(?P<stream>[A-Za-z0-9_][A-Za-z0-9_.-]*)@(?P<start>\d+(?:\.\d+)?)-.*\.(?P<ext>mp4|ts)$")


def _readable_packets(path: Path) -> tuple[Any, list[Any]]:
    src = av.open(str(path))
    video = src.streams.video[0]
    packets: list[Any] = []
    try:
        for p in src.demux(video):
            if p.size and p.dts is not None and (packets or p.is_keyframe):
                packets.append(p)
    except (av.error.FFmpegError, OSError, ValueError) as err:  # truncated tail: keep what was read
        log.info("salvage %s: stopped at %s", path.name, err)
    return src, packets


def salvage_cache_file(path: Path) -> CachedSegment | None:
    """A clean segment with the readable packets of a leftover cache file (which is removed)."""
    match = _NAME.match(path.name)
    try:
        if match is None:
            return None
        try:
            src, packets = _readable_packets(path)
        except (av.error.FFmpegError, OSError, ValueError, IndexError):
            return None
        with src:
            if not packets:
                return None
            return _remux(path, match, src.streams.video[0], packets)
    finally:
        path.unlink(missing_ok=True)


def _remux(path: Path, match: re.Match[str], video: Any, packets: list[Any]) -> CachedSegment:
    ext = match["ext"]
    dest = path.with_name(f".salvaged-{path.name}")  # hidden: never taken for a leftover itself
    first = packets[0].dts
    tb = video.time_base
    last_pts = 0
    with open_segment_container(dest, "mp4" if ext == "mp4" else "ts") as out:
        ostream = out.add_stream_from_template(video)
        for p in packets:
            dts = p.dts - first
            pts = max((p.pts if p.pts is not None else p.dts) - first, dts)
            last_pts = max(last_pts, pts + (p.duration or 0))
            p.dts, p.pts, p.stream = dts, pts, ostream
            out.mux(p)
    start = float(match["start"])
    keyframes = sum(1 for p in packets if p.is_keyframe)
    return CachedSegment(match["stream"], dest, ext, start, start + float(last_pts * tb), len(packets),
                         keyframes, np.empty(0))


def orphan_segment(storage: Path, path: Path) -> Segment | None:
    """Index row for a durable file the index lacks (a crash between rename and insert), if valid."""
    rel = path.relative_to(storage)
    parts = rel.parts
    stem = re.match(r"^(\d{6})-(\d{3})", path.stem)
    if len(parts) != 4 or stem is None:
        return None
    try:
        day = datetime.strptime(f"{parts[1]} {stem[1]}", "%Y-%m-%d %H%M%S").replace(tzinfo=UTC)
        with av.open(str(path), options={"probesize": "32", "analyzeduration": "0"}) as c:
            video = c.streams.video[0]
            packets = [p for p in c.demux(video) if p.size and p.dts is not None]
            tb = video.time_base
    except (av.error.FFmpegError, OSError, ValueError, IndexError):
        return None
    if not packets or tb is None:
        return None
    start = day.timestamp() + int(stem[2]) / 1000
    first = int(packets[0].dts or 0)
    span = max(int(p.pts if p.pts is not None else p.dts or 0) + int(p.duration or 0) for p in packets) - first
    return Segment(parts[0], str(rel), start, start + float(span * tb), path.stat().st_size, len(packets),
                   sum(1 for p in packets if p.is_keyframe))
