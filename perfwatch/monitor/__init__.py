"""Resource monitor: psutil sampling at the edge (sampler) and pure metrics over it.

This package is the only psutil importer in perfwatch.
"""

from perfwatch.monitor.latency import LatencyHistogram, LatencySummary, summarize_latencies
from perfwatch.monitor.metrics import ResourceSummary, cpu_percent, slope, summarize
from perfwatch.monitor.records import DiskCounters, GpuCounters, ProcessCounters, Snapshot
from perfwatch.monitor.sampler import Sampler, TreeReader

__all__ = [
    "DiskCounters",
    "GpuCounters",
    "LatencyHistogram",
    "LatencySummary",
    "ProcessCounters",
    "ResourceSummary",
    "Sampler",
    "Snapshot",
    "TreeReader",
    "cpu_percent",
    "slope",
    "summarize",
    "summarize_latencies",
]
