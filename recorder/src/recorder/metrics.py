"""Render the recorder's counters in the Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

from collections.abc import Iterable

from recorder.ingest import StreamStatus
from recorder.latency import LatencySummary
from recorder.mover import MoverStats
from recorder.retention import SweepStats

__all__ = ["render_metrics"]

_STREAM_COUNTERS = (
    ("packets", "recorder_packets_total", "Packets received"),
    ("bytes", "recorder_bytes_total", "Bytes received"),
    ("segments", "recorder_segments_total", "Segments closed and handed to the mover"),
    ("reconnects", "recorder_reconnects_total", "Reconnect attempts"),
    ("dropped", "recorder_dropped_packets_total", "Packets missing from the timestamp sequence"),
    ("write_errors", "recorder_write_errors_total", "Cache write failures (e.g. ENOSPC)"),
)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(v: float) -> str:
    return "+Inf" if v == float("inf") else repr(float(v)) if isinstance(v, float) else str(v)


def render_metrics(streams: Iterable[StreamStatus], latency: LatencySummary, mover: MoverStats,
                   sweep: SweepStats, storage_free: int, recordings_bytes: int) -> str:
    streams = list(streams)
    lines: list[str] = []
    for attr, metric, help_ in _STREAM_COUNTERS:
        lines += [f"# HELP {metric} {help_}", f"# TYPE {metric} counter"]
        lines += [f'{metric}{{stream="{_label(s.name)}"}} {getattr(s, attr)}' for s in streams]
    lines += ["# HELP recorder_stream_connected 1 while the stream is connected",
              "# TYPE recorder_stream_connected gauge"]
    lines += [f'recorder_stream_connected{{stream="{_label(s.name)}"}} {int(s.connected)}' for s in streams]
    lines += ["# HELP recorder_stream_fps Packets per second over the last second",
              "# TYPE recorder_stream_fps gauge"]
    lines += [f'recorder_stream_fps{{stream="{_label(s.name)}"}} {s.fps!r}' for s in streams]
    lines += _histogram(latency)
    lines += [
        "# HELP recorder_segments_moved_total Segments made durable in storage",
        "# TYPE recorder_segments_moved_total counter", f"recorder_segments_moved_total {mover.moved}",
        "# HELP recorder_segments_invalid_total Segments dropped by validation",
        "# TYPE recorder_segments_invalid_total counter", f"recorder_segments_invalid_total {mover.invalid}",
        "# HELP recorder_segments_failed_total Segments that could not be moved",
        "# TYPE recorder_segments_failed_total counter", f"recorder_segments_failed_total {mover.failed}",
        "# HELP recorder_segment_retries_total Mover steps retried after EMFILE, ENOMEM and the like",
        "# TYPE recorder_segment_retries_total counter", f"recorder_segment_retries_total {mover.retries}",
        "# HELP recorder_segments_deferred_total Segments kept in the cache for the next start",
        "# TYPE recorder_segments_deferred_total counter",
        f"recorder_segments_deferred_total {mover.deferred}",
        "# HELP recorder_sweep_runs_total Retention passes", "# TYPE recorder_sweep_runs_total counter",
        f"recorder_sweep_runs_total {sweep.runs}",
        "# HELP recorder_sweep_emergency_total Emergency sweeps requested (disk full)",
        "# TYPE recorder_sweep_emergency_total counter",
        f"recorder_sweep_emergency_total {sweep.emergency_runs}",
        "# HELP recorder_sweep_deleted_segments_total Segments deleted by retention",
        "# TYPE recorder_sweep_deleted_segments_total counter",
    ]
    for reason, n in sorted((sweep.deleted or {}).items()):
        lines.append(f'recorder_sweep_deleted_segments_total{{reason="{reason}"}} {n}')
    lines += [
        "# HELP recorder_sweep_deleted_bytes_total Bytes deleted by retention",
        "# TYPE recorder_sweep_deleted_bytes_total counter",
        f"recorder_sweep_deleted_bytes_total {sweep.deleted_bytes}",
        "# HELP recorder_storage_free_bytes Free bytes on the storage filesystem",
        "# TYPE recorder_storage_free_bytes gauge", f"recorder_storage_free_bytes {storage_free}",
        "# HELP recorder_recordings_bytes Bytes of indexed recordings",
        "# TYPE recorder_recordings_bytes gauge", f"recorder_recordings_bytes {recordings_bytes}",
    ]
    return "\n".join(lines) + "\n"


def _histogram(lat: LatencySummary) -> list[str]:
    name = "recorder_ingest_to_durable_seconds"
    out = [f"# HELP {name} Time from a packet's arrival to its segment being durable in storage",
           f"# TYPE {name} histogram"]
    out += [f'{name}_bucket{{le="{_num(le)}"}} {n}' for le, n in lat.buckets]
    out += [f"{name}_sum {lat.total!r}", f"{name}_count {lat.count}"]
    quant = f"{name}_exact"
    out += [f"# HELP {quant} Exact percentiles over the recent window", f"# TYPE {quant} gauge"]
    for q, v in (("0.5", lat.p50), ("0.9", lat.p90), ("0.95", lat.p95), ("0.99", lat.p99),
                 ("1", lat.max)):
        if v is not None:
            out.append(f'{quant}{{quantile="{q}"}} {v!r}')
    return out
