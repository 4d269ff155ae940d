"""A profile suggested for a host, rendered as the TOML ``hardware/*.toml`` files use."""

from __future__ import annotations

import json
import re

from perfwatch.harness.host import HostFacts
from perfwatch.harness.profiles import (
    ANY,
    CpuSpec,
    DiskSpec,
    GpuSpec,
    HardwareProfile,
    MemorySpec,
)

__all__ = ["profile_from_host", "render_profile", "suggest_name"]

# Datacenter NVIDIA cards have no NVENC session cap; GeForce cards are capped by the driver.
_GEFORCE_SESSION_LIMIT = 8


def suggest_name(host: HostFacts) -> str:
    gpu = ""
    if host.gpus:
        gpu = "-" + re.sub(r"[^a-z0-9]+", "", host.gpus[0].lower().replace("nvidia", ""))
    return f"linux-{host.logical_cpus}cpu{gpu}"


def _pin(host: HostFacts) -> tuple[int, ...]:
    """Leave CPU 0 to the OS and the recorder's helpers when there are 4 or more CPUs."""
    if host.logical_cpus >= 4:
        return tuple(range(1, host.logical_cpus))
    return tuple(range(host.logical_cpus))


def profile_from_host(host: HostFacts, name: str | None = None) -> HardwareProfile:
    """The profile this host satisfies exactly (governor and turbo as read, else "any")."""
    gpu = None
    if host.gpus:
        capped = "geforce" in host.gpus[0].lower()
        gpu = GpuSpec(model_pattern=re.escape(host.gpus[0]), count=len(host.gpus),
                      max_encoder_sessions=_GEFORCE_SESSION_LIMIT if capped else 0)
    return HardwareProfile(
        name=name or suggest_name(host),
        description=f"detected: {host.cpu_model}, {host.logical_cpus} CPUs",
        cpu=CpuSpec(
            model_pattern="^" + re.escape(host.cpu_model).replace("\\ ", " ") + "$",
            logical_cpus=host.logical_cpus,
            pin=_pin(host),
            smt=ANY if host.smt is None else host.smt,
            governor=host.governor or ANY,
            turbo=ANY if host.turbo is None else host.turbo,
        ),
        memory=MemorySpec(total_gib=round(host.memory_gib, 1), tolerance=0.05),
        disk=DiskSpec(kind=host.disk_kind if host.disk_kind != "unknown" else ANY),
        gpu=gpu,
        env=(("PYTHONHASHSEED", "0"),),
    )


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string for these values
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _table(name: str, items: dict[str, object]) -> list[str]:
    return [f"[{name}]"] + [f"{k} = {_value(v)}" for k, v in items.items()] + [""]


def render_profile(profile: HardwareProfile) -> str:
    """TOML text that :func:`perfwatch.harness.profiles.parse_profile` reads back equal."""
    cpu, mem, disk = profile.cpu, profile.memory, profile.disk
    lines = _table("profile", {"name": profile.name, "description": profile.description})
    lines += _table("cpu", {"model_pattern": cpu.model_pattern, "logical_cpus": cpu.logical_cpus,
                            "pin": cpu.pin, "smt": cpu.smt, "governor": cpu.governor,
                            "turbo": cpu.turbo})
    lines += _table("memory", {"total_gib": float(mem.total_gib), "tolerance": mem.tolerance})
    lines += _table("disk", {"kind": disk.kind, "min_free_gib": float(disk.min_free_gib)})
    if profile.gpu is not None:
        g = profile.gpu
        lines += _table("gpu", {"model_pattern": g.model_pattern, "count": g.count,
                                "encoder": g.encoder,
                                "max_encoder_sessions": g.max_encoder_sessions})
    lines += _table("env", dict(profile.env))
    return "\n".join(lines)
