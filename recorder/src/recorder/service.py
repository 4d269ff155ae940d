"""The recorder: streams (ingest workers), the mover, the index, the storage maintainer and the hub."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recorder.config import RecorderConfig, StreamConfig
from recorder.errors import StreamExistsError, UnknownStreamError
from recorder.hub import PacketHub
from recorder.index import SegmentIndex
from recorder.ingest import StreamStatus, StreamWorker, Writer, segment_writer_factory
from recorder.latency import LatencyRecorder
from recorder.mover import SegmentMover
from recorder.retention import StorageMaintainer, free_space_floor
from recorder.salvage import orphan_segment, salvage_cache_file
from recorder.transcode import TranscodeWriter, check_encoder

__all__ = ["Recorder", "StorageReport"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StorageReport:
    path: str
    total: int
    used: int
    free: int
    floor: int  # free-space threshold of the emergency sweep
    recordings_bytes: int


class Recorder:
    """Owns every thread of the service. ``start()`` then ``stop()``; thread-safe stream management."""

    def __init__(self, cfg: RecorderConfig, *, hub: PacketHub | None = None) -> None:
        self.cfg = cfg
        self.hub = hub or PacketHub()
        self.storage = cfg.storage.path
        self.cache = cfg.storage.cache
        self.storage.mkdir(parents=True, exist_ok=True)
        self.cache.mkdir(parents=True, exist_ok=True)
        self.index = SegmentIndex(self.storage / ".index" / "segments.db")
        self.latency = LatencyRecorder(window=1_000_000)
        self._lock = threading.Lock()
        self._workers: dict[str, StreamWorker] = {}
        self._seeds = random.Random(cfg.watchdog.seed)
        self.maintainer = StorageMaintainer(self.storage, self.index, cfg.retention, rate=self.byte_rate)
        self.mover = SegmentMover(self.storage, self.index, latency=self.latency,
                                  stream_latency=self._stream_latency,
                                  on_disk_full=self.maintainer.request_sweep,
                                  threads=cfg.mover_threads)

    def start(self) -> None:
        self._clean_leftovers()
        self.mover.start()
        self.maintainer.start()
        for stream in self.cfg.streams:
            self.add_stream(stream)

    def stop(self) -> None:
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            w.request_stop()
        for w in workers:
            w.stop()
        for w in workers:  # one machine-readable line per stream, for tests and post-mortems
            log.info("final status %s", json.dumps(dataclasses.asdict(w.status())))
        self.mover.stop()
        self.maintainer.stop()
        self.index.close()

    def _clean_leftovers(self) -> None:
        """Salvage cache files of a crashed run; remove hidden partial copies (never indexed)."""
        salvaged = 0
        for path in sorted(p for p in self.cache.glob("*") if p.is_file()):
            seg = salvage_cache_file(path)
            if seg is not None:
                self.mover.submit(seg)
                salvaged += 1
        partial = list(self.storage.rglob(".*.partial"))
        for p in partial:
            p.unlink(missing_ok=True)
        orphans = self.index.orphans(self.storage)
        for p in orphans:
            row = orphan_segment(self.storage, p)
            if row is not None:
                self.index.add(row)
            else:
                log.warning("unreadable file in storage left alone: %s", p)
        if salvaged or partial or orphans:
            log.info("salvaged %d cache files, removed %d partial copies, indexed %d orphans",
                     salvaged, len(partial), len(orphans))

    def add_stream(self, stream: StreamConfig) -> StreamStatus:
        if stream.transcode is not None:
            check_encoder(stream.transcode.codec, stream.transcode.preset)
        with self._lock:
            if stream.name in self._workers:
                raise StreamExistsError(f"stream {stream.name} exists", hint="DELETE it first or pick a name")
            worker = StreamWorker(stream, watchdog=self.cfg.watchdog, hub=self.hub,
                                  writer_factory=self._writer_factory(stream),
                                  submit=self.mover.submit, on_disk_full=self.maintainer.request_sweep,
                                  rng=random.Random(self._seeds.random()))
            self._workers[stream.name] = worker
        worker.start()
        return worker.status()

    def _writer_factory(self, stream: StreamConfig) -> Any:
        seconds, container = self.cfg.segment_seconds, self.cfg.container
        if stream.transcode is None:
            return segment_writer_factory(self.cache, segment_seconds=seconds, container=container)
        tc = stream.transcode

        def make(name: str, video: Any) -> Writer:
            return TranscodeWriter(name, video, self.cache, segment_seconds=seconds, container=container,
                                   cfg=tc)
        return make

    def remove_stream(self, name: str) -> None:
        with self._lock:
            worker = self._workers.pop(name, None)
        if worker is None:
            raise UnknownStreamError(f"no stream {name}", hint="GET /api/streams lists the streams")
        worker.stop()
        self.hub.close_stream(name)

    def has_stream(self, name: str) -> bool:
        with self._lock:
            return name in self._workers

    def statuses(self) -> list[StreamStatus]:
        with self._lock:
            workers = list(self._workers.values())
        return [w.status() for w in workers]

    def status(self, name: str) -> StreamStatus:
        with self._lock:
            worker = self._workers.get(name)
        if worker is None:
            raise UnknownStreamError(f"no stream {name}", hint="GET /api/streams lists the streams")
        return worker.status()

    def _stream_latency(self, name: str) -> LatencyRecorder | None:
        with self._lock:
            worker = self._workers.get(name)
        return worker.latency if worker is not None else None

    def stream_latency(self, name: str) -> LatencyRecorder | None:
        return self._stream_latency(name)

    def byte_rate(self) -> float:
        """Current recording rate of all streams in bytes/s."""
        return sum(s.bitrate for s in self.statuses()) / 8.0

    def storage_report(self) -> StorageReport:
        usage = shutil.disk_usage(self.storage)
        floor = free_space_floor(self.cfg.retention, self.byte_rate(), usage.total)
        return StorageReport(str(self.storage), usage.total, usage.used, usage.free, floor,
                             self.index.total_bytes())

    def segment_file(self, rel: str) -> Path:
        return self.storage / rel
