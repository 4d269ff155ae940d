"""What hardware this host is: read from ``/proc`` and ``/sys`` under an injectable root.

Tests point ``root`` at a directory of canned files (a copy of another machine's
``/proc/cpuinfo`` and friends); production reads ``/``. GPU names come from NVML
(``pynvml``) or ``nvidia-smi`` when either exists, and are empty otherwise.
"""

from __future__ import annotations

import importlib
import platform
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["HostFacts", "detect_host", "disk_kind", "read_gpu_names"]


@dataclass(frozen=True)
class HostFacts:
    """Hardware facts of one host. ``None`` means "cannot be read here"."""

    arch: str
    cpu_model: str
    logical_cpus: int
    physical_cores: int
    smt: bool | None
    governor: str | None
    turbo: bool | None
    memory_bytes: int
    disk_kind: str
    disk_free_bytes: int
    gpus: tuple[str, ...]

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / 2**30


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _cpuinfo(text: str) -> tuple[str, int, int, bool | None]:
    """Model name, logical CPUs, physical cores and SMT (siblings > cores) from cpuinfo."""
    blocks = [b for b in text.strip().split("\n\n") if "processor" in b]
    fields = [dict(_kv(line) for line in b.splitlines() if ":" in line) for b in blocks]
    model = next((f["model name"] for f in fields if "model name" in f), "unknown")
    cores = {(f.get("physical id", "0"), f.get("core id", str(i))) for i, f in enumerate(fields)}
    smt = None
    if fields and "siblings" in fields[0] and "cpu cores" in fields[0]:
        smt = int(fields[0]["siblings"]) > int(fields[0]["cpu cores"])
    return model, len(fields), len(cores), smt


def _kv(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip(), value.strip()


def _memtotal(text: str | None) -> int:
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text or "", re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def _smt(root: Path, fallback: bool | None) -> bool | None:
    active = _read(root / "sys/devices/system/cpu/smt/active")
    return active.strip() == "1" if active is not None else fallback


def _turbo(root: Path) -> bool | None:
    no_turbo = _read(root / "sys/devices/system/cpu/intel_pstate/no_turbo")
    if no_turbo is not None:
        return no_turbo.strip() == "0"
    boost = _read(root / "sys/devices/system/cpu/cpufreq/boost")
    return boost.strip() == "1" if boost is not None else None


def disk_kind(root: Path) -> str:
    """Kind of the first real block device: nvme, virtio, hdd (rotational) or ssd."""
    block = root / "sys/block"
    names = sorted(p.name for p in block.iterdir()) if block.is_dir() else []
    for name in names:
        if name.startswith(("loop", "ram", "zram", "dm-", "md", "sr")):
            continue
        if name.startswith("nvme"):
            return "nvme"
        if name.startswith(("vd", "xvd")):
            return "virtio"
        rotational = _read(block / name / "queue/rotational")
        return "hdd" if (rotational or "0").strip() == "1" else "ssd"
    return "unknown"


def _nvml_names() -> tuple[str, ...] | None:
    try:
        nvml = importlib.import_module("pynvml")
        nvml.nvmlInit()
        names = []
        for i in range(int(nvml.nvmlDeviceGetCount())):
            raw = nvml.nvmlDeviceGetName(nvml.nvmlDeviceGetHandleByIndex(i))
            names.append(raw.decode() if isinstance(raw, bytes) else str(raw))
        return tuple(names)
    except Exception:  # noqa: BLE001 - no module, no driver: try nvidia-smi
        return None


def read_gpu_names() -> tuple[str, ...]:
    """NVIDIA GPU model names via NVML or nvidia-smi; empty without either."""
    names = _nvml_names()
    if names is not None:
        return names
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ()
    out = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"],
                         capture_output=True, text=True, timeout=20, check=False)
    return tuple(line.strip() for line in out.stdout.splitlines() if line.strip())


def detect_host(
    root: Path = Path("/"),
    *,
    gpu_names: Callable[[], tuple[str, ...]] = read_gpu_names,
    free_path: Path | None = None,
) -> HostFacts:
    """Read this host's facts (or a canned host's, when ``root`` is a test directory)."""
    model, logical, physical, smt_guess = _cpuinfo(_read(root / "proc/cpuinfo") or "")
    governor = _read(root / "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    free_at = free_path if free_path is not None else root
    return HostFacts(
        arch=platform.machine(),
        cpu_model=model,
        logical_cpus=logical,
        physical_cores=physical,
        smt=_smt(root, smt_guess),
        governor=governor.strip() if governor is not None else None,
        turbo=_turbo(root),
        memory_bytes=_memtotal(_read(root / "proc/meminfo")),
        disk_kind=disk_kind(root),
        disk_free_bytes=shutil.disk_usage(free_at).free if free_at.exists() else 0,
        gpus=gpu_names(),
    )
