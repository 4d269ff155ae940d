"""Hardware profiles: one TOML file per runner kind in ``hardware/``, validated here.

The schema (documented in ``docs/hardware.md``)::

    [profile]   name (asv machine name), description
    [cpu]       model_pattern (regex, searched in /proc/cpuinfo's model name),
                logical_cpus, pin (list of CPU ids), smt (bool | "any"),
                governor (str | "any"), turbo (bool | "any")
    [memory]    total_gib, tolerance (fraction, default 0.05)
    [disk]      kind ("ssd" | "hdd" | "nvme" | "virtio" | "any"), min_free_gib (optional)
    [gpu]       (optional) model_pattern, count, encoder, max_encoder_sessions (0 = unlimited)
    [env]       string -> string, set for the benchmark processes

Unknown sections or keys are errors, so a typo cannot silently weaken a check.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfwatch.errors import ConfigError

__all__ = [
    "CpuSpec",
    "DiskSpec",
    "GpuSpec",
    "HardwareProfile",
    "MemorySpec",
    "default_hardware_dir",
    "find_profile",
    "load_profile",
    "parse_profile",
]

ANY = "any"
DISK_KINDS = ("ssd", "hdd", "nvme", "virtio", ANY)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class CpuSpec:
    model_pattern: str
    logical_cpus: int
    pin: tuple[int, ...]
    smt: bool | str = ANY
    governor: str = ANY
    turbo: bool | str = ANY


@dataclass(frozen=True)
class MemorySpec:
    total_gib: float
    tolerance: float = 0.05


@dataclass(frozen=True)
class DiskSpec:
    kind: str = ANY
    min_free_gib: float = 0.0


@dataclass(frozen=True)
class GpuSpec:
    model_pattern: str
    count: int = 1
    encoder: str = "h264_nvenc"
    max_encoder_sessions: int = 0  # 0 means unlimited (datacenter cards)


@dataclass(frozen=True)
class HardwareProfile:
    name: str
    description: str
    cpu: CpuSpec
    memory: MemorySpec
    disk: DiskSpec = DiskSpec()
    gpu: GpuSpec | None = None
    env: tuple[tuple[str, str], ...] = field(default=())

    @property
    def env_dict(self) -> dict[str, str]:
        return dict(self.env)


_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    # section -> key -> (accepted types, required)
    "profile": {"name": (str, True), "description": (str, False)},
    "cpu": {
        "model_pattern": (str, True),
        "logical_cpus": (int, True),
        "pin": (list, True),
        "smt": ((bool, str), False),
        "governor": (str, False),
        "turbo": ((bool, str), False),
    },
    "memory": {"total_gib": ((int, float), True), "tolerance": ((int, float), False)},
    "disk": {"kind": (str, False), "min_free_gib": ((int, float), False)},
    "gpu": {
        "model_pattern": (str, True),
        "count": (int, False),
        "encoder": (str, False),
        "max_encoder_sessions": (int, False),
    },
}
_REQUIRED_SECTIONS = ("profile", "cpu", "memory")


def _fail(source: str, what: str) -> ConfigError:
    return ConfigError(f"{source}: {what}", hint="see docs/hardware.md for the schema", path=source)


def _check_section(source: str, section: str, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _fail(source, f"[{section}] must be a table")
    spec = _SCHEMA[section]
    for key, value in table.items():
        if key not in spec:
            raise _fail(source, f"unknown key {section}.{key}")
        types, _ = spec[key]
        if not isinstance(value, types) or (isinstance(value, bool) and types in (int, (int, float))):
            raise _fail(source, f"{section}.{key} has the wrong type ({type(value).__name__})")
    for key, (_, required) in spec.items():
        if required and key not in table:
            raise _fail(source, f"missing {section}.{key}")
    return table


def _tri(source: str, key: str, value: bool | str) -> bool | str:
    if isinstance(value, str) and value != ANY:
        raise _fail(source, f"{key} must be true, false or \"any\", got {value!r}")
    return value


def _cpu(source: str, table: dict[str, Any]) -> CpuSpec:
    try:
        re.compile(table["model_pattern"])
    except re.error as err:
        raise _fail(source, f"cpu.model_pattern is not a regex: {err}") from err
    pin = table["pin"]
    if not pin or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in pin):
        raise _fail(source, "cpu.pin must be a non-empty list of CPU ids")
    if max(pin) >= table["logical_cpus"] or len(set(pin)) != len(pin):
        raise _fail(source, f"cpu.pin {pin} must be distinct ids below cpu.logical_cpus")
    return CpuSpec(
        model_pattern=table["model_pattern"],
        logical_cpus=table["logical_cpus"],
        pin=tuple(pin),
        smt=_tri(source, "cpu.smt", table.get("smt", ANY)),
        governor=table.get("governor", ANY),
        turbo=_tri(source, "cpu.turbo", table.get("turbo", ANY)),
    )


def _gpu(source: str, table: dict[str, Any]) -> GpuSpec:
    gpu = GpuSpec(**table)
    if gpu.count < 1 or gpu.max_encoder_sessions < 0:
        raise _fail(source, "gpu.count must be >= 1 and gpu.max_encoder_sessions >= 0")
    return gpu


def parse_profile(data: dict[str, Any], *, source: str = "<profile>") -> HardwareProfile:
    """Validate a parsed TOML document and build the profile."""
    allowed = set(_SCHEMA) | {"env"}
    for section in data:
        if section not in allowed:
            raise _fail(source, f"unknown section [{section}]")
    for section in _REQUIRED_SECTIONS:
        if section not in data:
            raise _fail(source, f"missing section [{section}]")
    tables = {s: _check_section(source, s, data[s]) for s in _SCHEMA if s in data}
    name = tables["profile"]["name"]
    if not _NAME.match(name):
        raise _fail(source, f"profile.name {name!r} must be letters, digits, '.', '_' or '-'")
    disk = DiskSpec(**tables.get("disk", {}))
    if disk.kind not in DISK_KINDS:
        raise _fail(source, f"disk.kind must be one of {', '.join(DISK_KINDS)}")
    memory = MemorySpec(**tables["memory"])
    if memory.total_gib <= 0 or not 0 <= memory.tolerance < 1:
        raise _fail(source, "memory.total_gib must be > 0 and memory.tolerance in [0, 1)")
    env = data.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise _fail(source, "[env] values must be strings")
    return HardwareProfile(
        name=name,
        description=tables["profile"].get("description", ""),
        cpu=_cpu(source, tables["cpu"]),
        memory=memory,
        disk=disk,
        gpu=_gpu(source, tables["gpu"]) if "gpu" in tables else None,
        env=tuple(sorted(env.items())),
    )


def load_profile(path: Path) -> HardwareProfile:
    """Read and validate one profile file."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as err:
        raise ConfigError(f"no hardware profile at {path}", hint="list hardware/*.toml",
                          path=path) from err
    except tomllib.TOMLDecodeError as err:
        raise _fail(str(path), f"not valid TOML: {err}") from err
    return parse_profile(data, source=str(path))


def find_profile(name_or_path: str, hardware_dir: Path) -> Path:
    """A profile given by path, or by name as ``hardware_dir/NAME.toml``."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.is_file():
        return candidate
    path = hardware_dir / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in hardware_dir.glob("*.toml"))
        raise ConfigError(
            f"no hardware profile named {name_or_path!r}",
            hint=f"known profiles: {', '.join(known) or 'none'} (in {hardware_dir})",
            path=path,
        )
    return path


def default_hardware_dir() -> Path:
    """``./hardware`` when it exists, else the ``hardware/`` of this checkout."""
    here = Path.cwd() / "hardware"
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "hardware"
