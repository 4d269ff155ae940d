"""Multi-stream recording: N mock cameras recorded by the recorder service.

Each (streams, resolution) scenario runs once, in ``setup_cache``; the ``track_``
benchmarks read its metrics out. Samples are per-window values of the measured run
(rates, CPU %) or one value per run (latency quantiles, peaks, counts).

Units: costs measured per second (bytes written, write calls, disk flushes) say "per
second" rather than "/s", because perfwatch reads a "/s" unit as a throughput, where
higher is better.
"""

from __future__ import annotations

from benchmarks.common import CACHE_TIMEOUT, RESOLUTIONS, ROUNDS, STREAM_COUNTS, samples
from benchmarks.scenarios import run_recording

Cache = dict[str, dict[str, list[float]]]


def _key(streams: int, resolution: str) -> str:
    return f"{streams}|{resolution}"


class MultiStreamRecording:
    params = (list(STREAM_COUNTS), list(RESOLUTIONS))
    param_names = ("streams", "resolution")
    rounds = ROUNDS
    timeout = CACHE_TIMEOUT
    version = "2"  # fsyncs counted per process (strace) instead of disk flushes

    def setup_cache(self) -> Cache:
        return {_key(s, r): run_recording(s, r) for s in STREAM_COUNTS for r in RESOLUTIONS}

    setup_cache.timeout = CACHE_TIMEOUT  # type: ignore[attr-defined]

    def _get(self, cache: Cache, streams: int, resolution: str, metric: str) -> object:
        return samples(cache[_key(streams, resolution)][metric])

    def track_latency_p50(self, cache: Cache, streams: int, resolution: str) -> object:
        """Ingest-to-durable latency, median over every packet of the run."""
        return self._get(cache, streams, resolution, "latency_p50")

    track_latency_p50.unit = "seconds"  # type: ignore[attr-defined]

    def track_latency_p95(self, cache: Cache, streams: int, resolution: str) -> object:
        return self._get(cache, streams, resolution, "latency_p95")

    track_latency_p95.unit = "seconds"  # type: ignore[attr-defined]

    def track_latency_p99(self, cache: Cache, streams: int, resolution: str) -> object:
        return self._get(cache, streams, resolution, "latency_p99")

    track_latency_p99.unit = "seconds"  # type: ignore[attr-defined]

    def track_latency_max(self, cache: Cache, streams: int, resolution: str) -> object:
        return self._get(cache, streams, resolution, "latency_max")

    track_latency_max.unit = "seconds"  # type: ignore[attr-defined]

    def track_frames_per_second(self, cache: Cache, streams: int, resolution: str) -> object:
        """Frames recorded per second, all streams together (per-second samples)."""
        return self._get(cache, streams, resolution, "frames_per_s")

    track_frames_per_second.unit = "frames/s"  # type: ignore[attr-defined]

    def track_bytes_per_second(self, cache: Cache, streams: int, resolution: str) -> object:
        return self._get(cache, streams, resolution, "bytes_per_s")

    track_bytes_per_second.unit = "bytes/s"  # type: ignore[attr-defined]

    def track_dropped_packets(self, cache: Cache, streams: int, resolution: str) -> object:
        return self._get(cache, streams, resolution, "dropped")

    track_dropped_packets.unit = "packets"  # type: ignore[attr-defined]

    def track_cpu_percent(self, cache: Cache, streams: int, resolution: str) -> object:
        """Recorder CPU, % of one core (per-second samples)."""
        return self._get(cache, streams, resolution, "cpu_percent")

    track_cpu_percent.unit = "%"  # type: ignore[attr-defined]

    def track_peak_rss(self, cache: Cache, streams: int, resolution: str) -> object:
        return self._get(cache, streams, resolution, "peak_rss")

    track_peak_rss.unit = "bytes"  # type: ignore[attr-defined]

    def track_disk_write_bytes(self, cache: Cache, streams: int, resolution: str) -> object:
        """Bytes the recorder wrote to storage per second (per-second samples)."""
        return self._get(cache, streams, resolution, "write_bytes_per_s")

    track_disk_write_bytes.unit = "bytes per second"  # type: ignore[attr-defined]

    def track_write_ops(self, cache: Cache, streams: int, resolution: str) -> object:
        """write(2) calls per second by the recorder (per-second samples)."""
        return self._get(cache, streams, resolution, "write_ops_per_s")

    track_write_ops.unit = "ops per second"  # type: ignore[attr-defined]

    def track_fsyncs(self, cache: Cache, streams: int, resolution: str) -> object:
        """Storage disk flushes per second (one per fsync); with PERFWATCH_BENCH_STRACE=1
        the recorder's own fsync calls per second."""
        return self._get(cache, streams, resolution, "fsyncs_per_s")

    track_fsyncs.unit = "fsyncs per second"  # type: ignore[attr-defined]
