"""GPU counters: absent on this host; read through NVML's API where it exists."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from perfwatch.monitor.gpu import GpuReader, open_gpu_reader


class FakeNvml:
    """NVML's calls as pynvml exposes them, for one NVIDIA L4 running 3 NVENC sessions."""

    def nvmlInit(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, i: int) -> Any:
        return ("handle", i)

    def nvmlDeviceGetName(self, handle: Any) -> bytes:
        return b"NVIDIA L4"

    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> Any:
        return SimpleNamespace(gpu=37, memory=5)

    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> Any:
        return SimpleNamespace(used=2**30, total=24 * 2**30)

    def nvmlDeviceGetEncoderUtilization(self, handle: Any) -> tuple[int, int]:
        return (64, 167000)

    def nvmlDeviceGetEncoderStats(self, handle: Any) -> tuple[int, int, int]:
        return (3, 90, 1200)


def test_reader_maps_nvml_fields() -> None:
    reader = GpuReader(FakeNvml())  # type: ignore[arg-type]
    assert reader.names() == ("NVIDIA L4",)
    (gpu,) = reader.read()
    assert (gpu.name, gpu.gpu_util, gpu.encoder_util, gpu.encoder_sessions) == \
        ("NVIDIA L4", 37.0, 64.0, 3)
    assert (gpu.memory_used, gpu.encoder_fps) == (2**30, 90.0)


def test_no_gpu_here_means_absent_not_zero() -> None:
    assert open_gpu_reader() is None
