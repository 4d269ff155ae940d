"""Profile against host: every difference, one line each; the hardware fingerprint.

:func:`differences` is pure (a profile and host facts in, a list out).
:func:`require_match` turns a non-empty list into one :class:`HardwareMismatchError`.
:func:`fingerprint` hashes the facts that make results comparable (CPU model and
count, SMT, memory, GPUs); it goes into asv's ``machine.json`` so that results from
different hardware are never mixed under one machine name.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from perfwatch.errors import HardwareMismatchError
from perfwatch.harness.host import HostFacts
from perfwatch.harness.profiles import ANY, HardwareProfile

__all__ = ["Difference", "differences", "fingerprint", "fingerprint_facts", "require_match"]


@dataclass(frozen=True)
class Difference:
    """One way the host is not the profile."""

    key: str  # the profile key, e.g. "cpu.logical_cpus"
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.key}: profile wants {self.expected}, host has {self.actual}"


def _tri(key: str, wanted: bool | str, actual: bool | None) -> list[Difference]:
    if wanted == ANY or wanted == actual:
        return []
    shown = "unknown (cannot read it here)" if actual is None else str(actual).lower()
    return [Difference(key, str(wanted).lower(), shown)]


def _cpu(profile: HardwareProfile, host: HostFacts) -> list[Difference]:
    cpu = profile.cpu
    out = []
    if not re.search(cpu.model_pattern, host.cpu_model):
        out.append(Difference("cpu.model_pattern", f"/{cpu.model_pattern}/", repr(host.cpu_model)))
    if cpu.logical_cpus != host.logical_cpus:
        out.append(Difference("cpu.logical_cpus", str(cpu.logical_cpus), str(host.logical_cpus)))
    missing = [c for c in cpu.pin if c >= host.logical_cpus]
    if missing:
        out.append(Difference("cpu.pin", f"CPUs {list(cpu.pin)}",
                              f"no CPU {missing} (ids 0-{host.logical_cpus - 1})"))
    out += _tri("cpu.smt", cpu.smt, host.smt)
    out += _tri("cpu.turbo", cpu.turbo, host.turbo)
    if cpu.governor != ANY and cpu.governor != host.governor:
        out.append(Difference("cpu.governor", cpu.governor, host.governor or "unknown"))
    return out


def _memory_disk(profile: HardwareProfile, host: HostFacts) -> list[Difference]:
    out = []
    mem = profile.memory
    if abs(host.memory_gib - mem.total_gib) > mem.tolerance * mem.total_gib:
        out.append(Difference("memory.total_gib", f"{mem.total_gib:g} GiB ±{mem.tolerance:.0%}",
                              f"{host.memory_gib:.1f} GiB"))
    disk = profile.disk
    if disk.kind != ANY and disk.kind != host.disk_kind:
        out.append(Difference("disk.kind", disk.kind, host.disk_kind))
    free_gib = host.disk_free_bytes / 2**30
    if disk.min_free_gib and free_gib < disk.min_free_gib:
        out.append(Difference("disk.min_free_gib", f">= {disk.min_free_gib:g} GiB free",
                              f"{free_gib:.1f} GiB free"))
    return out


def _gpu(profile: HardwareProfile, host: HostFacts) -> list[Difference]:
    gpu = profile.gpu
    if gpu is None:
        return []
    matching = [name for name in host.gpus if re.search(gpu.model_pattern, name)]
    if len(matching) >= gpu.count:
        return []
    return [Difference("gpu.model_pattern", f"{gpu.count} x /{gpu.model_pattern}/",
                       f"{', '.join(host.gpus) or 'no NVIDIA GPU'}")]


def differences(profile: HardwareProfile, host: HostFacts) -> list[Difference]:
    """Every way ``host`` differs from ``profile`` (empty when it matches)."""
    return _cpu(profile, host) + _memory_disk(profile, host) + _gpu(profile, host)


def require_match(profile: HardwareProfile, host: HostFacts) -> None:
    """Raise :class:`HardwareMismatchError` listing every difference, if any."""
    diffs = differences(profile, host)
    if diffs:
        raise HardwareMismatchError(
            f"this host is not hardware profile {profile.name!r}: "
            + "; ".join(str(d) for d in diffs),
            hint=f"run on a {profile.name} runner, or pick the profile that "
            "`perfwatch hardware detect` suggests",
        )


def fingerprint_facts(host: HostFacts) -> dict[str, object]:
    """The facts that make benchmark results comparable (not governor, not free disk)."""
    return {
        "arch": host.arch,
        "cpu_model": host.cpu_model,
        "logical_cpus": host.logical_cpus,
        "smt": host.smt,
        "memory_gib": round(host.memory_gib),
        "gpus": sorted(host.gpus),
    }


def fingerprint(host: HostFacts) -> str:
    """A short stable hash of :func:`fingerprint_facts`."""
    canonical = json.dumps(fingerprint_facts(host), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
