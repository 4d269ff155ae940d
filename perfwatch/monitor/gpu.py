"""GPU counters through NVML, where a GPU and the ``pynvml`` module are present.

``pynvml`` (the ``nvidia-ml-py`` distribution) is an optional import: on a host
without it, or without an NVIDIA driver, :func:`open_gpu_reader` returns ``None`` and
snapshots carry no GPU counters (absent, never zero).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from perfwatch.monitor.records import GpuCounters

__all__ = ["GpuReader", "open_gpu_reader"]


def _load_nvml() -> ModuleType | None:
    try:
        nvml = importlib.import_module("pynvml")
        nvml.nvmlInit()
    except Exception:  # noqa: BLE001 - any failure means "no usable GPU"
        return None
    return nvml


class GpuReader:
    """Reads :class:`GpuCounters` for every GPU NVML lists."""

    def __init__(self, nvml: ModuleType) -> None:
        self._nvml = nvml
        count = int(nvml.nvmlDeviceGetCount())
        self._handles: list[Any] = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]

    def names(self) -> tuple[str, ...]:
        return tuple(self._name(h) for h in self._handles)

    def _name(self, handle: Any) -> str:
        raw = self._nvml.nvmlDeviceGetName(handle)
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def read(self) -> tuple[GpuCounters, ...]:
        nvml = self._nvml
        out = []
        for index, handle in enumerate(self._handles):
            util = nvml.nvmlDeviceGetUtilizationRates(handle)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            enc_util, _period = nvml.nvmlDeviceGetEncoderUtilization(handle)
            sessions, fps, _latency = nvml.nvmlDeviceGetEncoderStats(handle)
            out.append(
                GpuCounters(
                    index=index,
                    name=self._name(handle),
                    gpu_util=float(util.gpu),
                    memory_used=int(mem.used),
                    encoder_util=float(enc_util),
                    encoder_sessions=int(sessions),
                    encoder_fps=float(fps),
                )
            )
        return tuple(out)


def open_gpu_reader() -> GpuReader | None:
    """A reader over this host's GPUs, or ``None`` when there is no usable NVML GPU."""
    nvml = _load_nvml()
    if nvml is None:
        return None
    reader = GpuReader(nvml)
    return reader if reader.names() else None
