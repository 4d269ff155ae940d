"""Sizes, seeds and result packing shared by the suites.

Fixed seeds; append new entries, never change the meaning of an existing one (bump the
benchmark's ``version`` when a scenario changes what it measures).

Every ``track_`` benchmark returns ``samples(values)``: asv treats a dict with
``samples`` and ``number`` as raw samples, stores them (``--record-samples``) and shows
their median. Per-interval values (one per second of a run, one per stream, one per
burst) are the samples; a quantity measured once per run is a one-element list.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

# PERFWATCH_BENCH_FULL=1 opts into the bigger parameter sets (slow: an hour, not minutes).
FULL = os.environ.get("PERFWATCH_BENCH_FULL", "") not in ("", "0", "false", "no")
SEED = 20261126

RESOLUTIONS = ("320x240", "1280x720", "1920x1080") if FULL else ("320x240",)
# PERFWATCH_BENCH_STREAMS="4" narrows the recording scenarios for a quick local A/B.
STREAM_COUNTS = tuple(int(n) for n in os.environ.get("PERFWATCH_BENCH_STREAMS", "1,4,16").split(","))
FPS = 15.0
BITRATE = {"320x240": "300k", "1280x720": "2M", "1920x1080": "4M"}
SEGMENT_SECONDS = 2.0
WARMUP_SECONDS = 2.0 * SEGMENT_SECONDS + 1.0
MEASURE_SECONDS = 24.0 if FULL else 12.0
SAMPLE_HZ = 10.0
# A scenario runs once per parameter set inside setup_cache; that can take minutes.
CACHE_TIMEOUT = 1800 if FULL else 600
# Rounds per benchmark: `asv run -a rounds=N` (perfwatch run --interleave N) overrides it.
ROUNDS = 1


def samples(values: Iterable[float]) -> dict[str, object] | float:
    """asv's raw-samples result; NaN values are dropped.

    When nothing was measured (the recorder does not export that quantity), the
    result is NaN, which asv records and shows as skipped ("n/a"), never as failed.
    """
    kept = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not kept:
        return math.nan
    return {"samples": kept, "number": 1}
