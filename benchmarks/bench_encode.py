"""Encode: the recorder's transcode path per encoder and preset.

libx264 runs everywhere. h264_nvenc runs on GPU-encode hosts only: where it cannot
be opened, ``setup`` raises NotImplementedError and asv records the benchmark as
skipped, never failed. NVENC has its own preset names; the x264 names map to the
NVENC levels of similar speed (``PRESET_NVENC``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from benchmarks.common import CACHE_TIMEOUT, FPS, ROUNDS, SEED, samples

ENCODERS = ("libx264", "h264_nvenc")
PRESETS = ("ultrafast", "veryfast", "medium")
PRESET_NVENC = {"ultrafast": "p1", "veryfast": "p2", "medium": "p4"}
WIDTH, HEIGHT, FRAMES, REPEATS = 640, 360, 45, 5

Cache = dict[str, dict[str, Any]]


def frames(count: int = FRAMES) -> list[np.ndarray]:
    """A seeded moving pattern with noise (fixed content: the same bits every run)."""
    rng = np.random.default_rng(SEED)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    noise = rng.integers(0, 24, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    out = []
    for i in range(count):
        base = ((x + 4 * i) % 256).astype(np.uint8)
        img = np.stack([base, ((y + 2 * i) % 256).astype(np.uint8), (base // 2)], axis=-1)
        out.append(img + noise)
    return out


def _gpu_encoder_util() -> float:
    try:
        import pynvml

        pynvml.nvmlInit()
        util, _ = pynvml.nvmlDeviceGetEncoderUtilization(pynvml.nvmlDeviceGetHandleByIndex(0))
        return float(util)
    except Exception:  # noqa: BLE001 - no NVML or no GPU: nothing to report
        return math.nan


def encode_one(encoder: str, preset: str, clip: list[np.ndarray]) -> dict[str, Any]:
    """Encode ``clip`` REPEATS times; per-repeat fps, CPU cores per real-time stream, GPU %."""
    try:
        from recorder.transcode import check_encoder, encode_clip
    except ImportError as err:  # a commit before the transcode path existed
        return {"skip": f"no transcode path at this commit: {err}"}
    name = PRESET_NVENC[preset] if "nvenc" in encoder else preset
    try:
        check_encoder(encoder, name, width=WIDTH, height=HEIGHT)
    except Exception as err:  # noqa: BLE001 - TranscodeUnavailable at any recorder version
        return {"skip": f"{encoder} is not usable on this host: {err}"}
    fps, cores, gpu = [], [], []
    for _ in range(REPEATS):
        cpu0 = time.process_time()
        stats = encode_clip(clip, codec=encoder, preset=name, fps=round(FPS))
        cpu = time.process_time() - cpu0
        fps.append(stats.fps)
        cores.append(cpu / (stats.frames / FPS))  # CPU seconds per second of video
        gpu.append(_gpu_encoder_util())
    return {"fps": fps, "cores": cores, "gpu": gpu}


class Encode:
    params = (list(ENCODERS), list(PRESETS))
    param_names = ("encoder", "preset")
    rounds = ROUNDS
    timeout = CACHE_TIMEOUT
    version = "1"

    def setup_cache(self) -> Cache:
        clip = frames()
        return {f"{e}|{p}": encode_one(e, p, clip) for e in ENCODERS for p in PRESETS}

    setup_cache.timeout = CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, encoder: str, preset: str) -> None:
        reason = cache[f"{encoder}|{preset}"].get("skip")
        if reason:
            raise NotImplementedError(reason)

    def track_encode_fps(self, cache: Cache, encoder: str, preset: str) -> object:
        """Frames encoded per second of wall time (640x360)."""
        return samples(cache[f"{encoder}|{preset}"]["fps"])

    track_encode_fps.unit = "fps"  # type: ignore[attr-defined]

    def track_cpu_per_stream(self, cache: Cache, encoder: str, preset: str) -> object:
        """CPU cores one real-time 15 fps stream needs (CPU seconds per video second)."""
        return samples(cache[f"{encoder}|{preset}"]["cores"])

    track_cpu_per_stream.unit = "cores"  # type: ignore[attr-defined]

    def track_gpu_encoder_util(self, cache: Cache, encoder: str, preset: str) -> object:
        """NVENC utilisation (%) right after each encode; n/a without an NVIDIA GPU."""
        return samples(cache[f"{encoder}|{preset}"]["gpu"])

    track_gpu_encoder_util.unit = "%"  # type: ignore[attr-defined]
