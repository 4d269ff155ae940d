"""Per-stream ingest: RTSP/TCP through PyAV, wall-clock stamps, segmenting, hub fan-out, watchdog.

One thread per stream. The watchdog is PyAV's read timeout (plus FFmpeg's RTSP socket ``timeout``):
no packet for ``stall_seconds`` ends the connection; the thread then reconnects after a paced backoff
(exponential, capped, jittered from a seeded rng). Whatever ends a connection, the open segment is
closed and handed to the mover, so packets already received are not lost.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av

from recorder.backoff import Backoff
from recorder.config import StreamConfig, WatchdogConfig
from recorder.hub import AccessUnit, PacketHub, StreamInfo
from recorder.latency import LatencyRecorder
from recorder.segmenter import CachedSegment, SegmentWriter, VideoParams, WriteFailed

__all__ = ["StreamStatus", "StreamWorker", "parameter_sets"]

log = logging.getLogger(__name__)


class Writer(Protocol):
    skipped: int

    def write(self, packet: Any, arrival: float) -> CachedSegment | None: ...
    def close(self) -> CachedSegment | None: ...
    def abort(self) -> None: ...


WriterFactory = Callable[[str, Any], Writer]  # (stream name, input video stream) -> writer


@dataclass(frozen=True)
class StreamStatus:
    name: str
    url: str
    connected: bool
    fps: float
    bitrate: float  # bits/s over the last second
    packets: int
    bytes: int
    dropped: int
    skipped: int
    reconnects: int
    write_errors: int
    segments: int
    last_error: str | None
    last_packet_age: float | None
    width: int
    height: int
    codec: str


def parameter_sets(extradata: bytes | None) -> tuple[bytes, bytes]:
    """(sps, pps) without start codes from Annex-B or avcC extradata; empty when absent."""
    if not extradata:
        return b"", b""
    if extradata[0] == 1 and len(extradata) > 8:  # avcC
        sps_len = int.from_bytes(extradata[6:8], "big")
        sps = extradata[8:8 + sps_len]
        rest = extradata[8 + sps_len:]
        pps = rest[3:3 + int.from_bytes(rest[1:3], "big")] if len(rest) >= 3 else b""
        return sps, pps
    nals = [n.lstrip(b"\x00") for n in extradata.replace(b"\x00\x00\x01", b"\x00\x00\x00\x01")
            .split(b"\x00\x00\x00\x01")]
    sps = next((n for n in nals if n and n[0] & 0x1F == 7), b"")
    pps = next((n for n in nals if n and n[0] & 0x1F == 8), b"")
    return sps, pps


class _Counters:
    def __init__(self) -> None:
        self.packets = 0
        self.bytes = 0
        self.dropped = 0
        self.reconnects = 0
        self.write_errors = 0
        self.segments = 0
        self.last_error: str | None = None
        self.last_packet: float | None = None
        self.fps = 0.0
        self.bitrate = 0.0
        self.window_start = 0.0
        self.window_packets = 0
        self.window_bytes = 0

    def tick(self, now: float, size: int) -> None:
        self.packets += 1
        self.bytes += size
        self.last_packet = now
        self.window_packets += 1
        self.window_bytes += size
        elapsed = now - self.window_start
        if elapsed >= 1.0:
            self.fps = self.window_packets / elapsed
            self.bitrate = 8.0 * self.window_bytes / elapsed
            self.window_start, self.window_packets, self.window_bytes = now, 0, 0


class StreamWorker:
    """Records one stream until stopped; thread-safe status snapshot via :meth:`status`."""

    def __init__(self, cfg: StreamConfig, *, watchdog: WatchdogConfig, hub: PacketHub,
                 writer_factory: WriterFactory, submit: Callable[[CachedSegment], None],
                 on_disk_full: Callable[[], None], rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.latency = LatencyRecorder()
        self._wd = watchdog
        self._hub = hub
        self._writer_factory = writer_factory
        self._submit = submit
        self._on_disk_full = on_disk_full
        self._clock = clock
        self._backoff = Backoff(watchdog.backoff_base, watchdog.backoff_cap,
                                rng or random.Random(watchdog.seed))
        self._stop = threading.Event()
        self._c = _Counters()
        self._connected = False
        self._skipped_closed = 0
        self._writer: Writer | None = None
        self._video: tuple[int, int, str] = (0, 0, "")
        self._params: tuple[bytes, bytes] = (b"", b"")  # SPS, PPS in force
        self._thread = threading.Thread(target=self._run, name=f"ingest-{cfg.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to finish (returns at once; see :meth:`stop`)."""
        self._stop.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def status(self) -> StreamStatus:
        c = self._c
        now = self._clock()
        age = None if c.last_packet is None else now - c.last_packet
        stale = age is None or age > 2.0
        writer = self._writer
        skipped = self._skipped_closed + (writer.skipped if writer is not None else 0)
        return StreamStatus(
            name=self.cfg.name, url=self.cfg.url, connected=self._connected,
            fps=0.0 if stale else c.fps, bitrate=0.0 if stale else c.bitrate,
            packets=c.packets, bytes=c.bytes, dropped=c.dropped, skipped=skipped,
            reconnects=c.reconnects, write_errors=c.write_errors, segments=c.segments,
            last_error=c.last_error, last_packet_age=age, width=self._video[0],
            height=self._video[1], codec=self._video[2])

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            if not first:
                self._c.reconnects += 1
                if self._stop.wait(self._backoff.next()):
                    break
            first = False
            try:
                self._session()
            except Exception as err:  # noqa: BLE001 - any failure means: reconnect
                self._c.last_error = f"{type(err).__name__}: {err}"
                log.info("stream %s: %s", self.cfg.name, self._c.last_error)
            finally:
                self._connected = False

    def _open(self) -> Any:
        # A short probe: FFmpeg's default analyzeduration holds ~2 s of packets back at open,
        # which delays recording after a reconnect and bunches up their arrival times.
        options = {"rtsp_transport": "tcp", "timeout": str(int(self._wd.stall_seconds * 1e6)),
                   "analyzeduration": "100000"}
        if not self.cfg.url.startswith("rtsp"):
            options = {}
        options.update(self.cfg.options)
        # Reads are bounded by FFmpeg's RTSP socket timeout, not PyAV's read timeout: PyAV's
        # interrupt callback takes the GIL on every poll, which costs CPU with many streams.
        read_timeout = None if self.cfg.url.startswith("rtsp") else self._wd.stall_seconds
        return av.open(self.cfg.url, options=options, timeout=(self._wd.open_timeout, read_timeout))

    def _session(self) -> None:
        container = self._open()
        try:
            if not container.streams.video:
                raise ValueError("no video stream in source")
            video = container.streams.video[0]
            self._connected = True
            self._publish_info(video)
            writer = self._writer_factory(self.cfg.name, video)
            self._writer = writer
            try:
                self._pump(container, video, writer)
            finally:
                self._finish(writer)
        finally:
            container.close()

    def _publish_info(self, video: Any) -> None:
        cc = video.codec_context
        sps, pps = parameter_sets(cc.extradata)
        self._params = (sps, pps)
        rate = float(video.average_rate or video.guessed_rate or 0)
        self._video = (cc.width, cc.height, cc.name)
        self._hub.set_info(self.cfg.name, StreamInfo(cc.width, cc.height, rate, sps, pps))

    def _pump(self, container: Any, video: Any, writer: Writer) -> None:
        tb = video.time_base
        rate = float(video.average_rate or video.guessed_rate or 30)
        frame = 1.0 / (rate * float(tb))  # refined below from the smallest timestamp step seen
        measured = False
        session_packets = 0
        last_dts: int | None = None
        untimed: list[tuple[Any, float]] = []  # leading packets without timestamps (before RTCP sync)
        c = self._c
        for packet in container.demux(video):
            if self._stop.is_set():
                break
            if packet.size == 0:
                continue
            now = self._clock()
            c.tick(now, packet.size)
            dts = packet.dts if packet.dts is not None else packet.pts
            if dts is None:
                if last_dts is None:
                    untimed.append((packet, now))
                    continue
                dts = int(last_dts + frame)
                packet.dts = packet.pts = dts
            for k, (early, arrived) in enumerate(untimed):  # back-fill: one frame apart
                early.dts = early.pts = int(dts - frame * (len(untimed) - k))
                self._deliver(writer, early, arrived, tb)
            untimed.clear()
            step = dts - last_dts if last_dts is not None else 0
            if step > 0 and (not measured or step < frame):
                frame, measured = float(step), True
            elif step > 1.5 * frame:
                c.dropped += round(step / frame) - 1
            last_dts = dts
            session_packets += 1
            if session_packets == 30:  # a healthy session: the next outage starts a fresh backoff
                self._backoff.reset()
            self._deliver(writer, packet, now, tb)

    def _deliver(self, writer: Writer, packet: Any, now: float, tb: Any) -> None:
        if packet.is_keyframe:
            self._check_parameters(writer, packet)
        name = self.cfg.name
        if self._hub.subscriber_count(name) and packet.pts is not None:
            pts90 = int(packet.pts * tb * 90000)
            self._hub.publish(name, AccessUnit(bytes(packet), pts90, packet.is_keyframe))
        self._write(writer, packet, now)

    def _check_parameters(self, writer: Writer, packet: Any) -> None:
        """A keyframe with another SPS than the stream's (resolution change): start a new segment."""
        head = bytes(memoryview(packet)[:1024])  # SPS/PPS come before the slice data
        if not head.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
            return  # not Annex-B (a file source): in-band changes are not looked for
        sps, pps = parameter_sets(head)
        if not sps or not pps or (sps, pps) == self._params:
            return
        self._params = (sps, pps)
        size = _decoded_size(packet)
        reparam = getattr(writer, "reparam", None)
        if size is None or reparam is None or size == self._video[:2]:
            return
        log.info("stream %s: new parameters in band, %dx%d", self.cfg.name, *size)
        annexb = b"\x00\x00\x00\x01" + sps + b"\x00\x00\x00\x01" + pps
        try:
            closed = reparam(VideoParams(size[0], size[1], annexb))
        except WriteFailed as err:
            self._write_failed(err)
            closed = None
        if closed is not None:
            self._c.segments += 1
            self._submit(closed)
        self._video = (size[0], size[1], self._video[2])
        info = self._hub.info(self.cfg.name)
        self._hub.set_info(self.cfg.name, StreamInfo(size[0], size[1], info.fps if info else 0.0, sps, pps))

    def _write(self, writer: Writer, packet: Any, now: float) -> None:
        try:
            closed = writer.write(packet, now)
        except WriteFailed as err:
            self._write_failed(err)
            return
        if closed is not None:
            self._c.segments += 1
            self._submit(closed)

    def _write_failed(self, err: WriteFailed) -> None:
        self._c.write_errors += 1
        self._c.last_error = str(err)
        log.warning("stream %s: %s", self.cfg.name, err)
        self._on_disk_full()

    def _finish(self, writer: Writer) -> None:
        self._skipped_closed += writer.skipped
        self._writer = None
        try:
            closed = writer.close()
        except WriteFailed as err:
            self._write_failed(err)
            return
        if closed is not None:
            self._c.segments += 1
            self._submit(closed)


def _decoded_size(packet: Any) -> tuple[int, int] | None:
    """Width and height of a keyframe that carries its own SPS/PPS (decoded once, on change only)."""
    try:
        dec = av.CodecContext.create("h264", "r")
        frames = list(dec.decode(packet)) + list(dec.decode(None))
    except (av.error.FFmpegError, ValueError):
        return None
    return (frames[0].width, frames[0].height) if frames else None


def segment_writer_factory(cache: Path, *, segment_seconds: float, container: str) -> WriterFactory:
    def make(name: str, video: Any) -> Writer:
        return SegmentWriter(name, video, cache, segment_seconds=segment_seconds, container=container)
    return make
