"""Recorder configuration: a TOML or JSON file parsed into frozen values.

Example (TOML)::

    segment_seconds = 10                # cut at the first keyframe at least this long after the start
    container = "mp4"                   # fragmented MP4 (or "ts")
    mover_threads = 4
    [storage]
    path = "/var/lib/recorder"          # segments go to <path>/<stream>/<YYYY-MM-DD>/<HH>/<start>.mp4
    cache = ""                          # default <path>/.cache (same filesystem: moves are renames)
    [retention]
    max_age_hours = 168
    min_free_bytes = 0                  # 0: about one hour of the current recording rate
    max_bytes = 0                       # 0: no quota
    check_seconds = 2.0
    [watchdog]
    stall_seconds = 5.0                 # no data for this long: reconnect (FFmpeg RTSP socket timeout)
    open_timeout = 5.0
    backoff_base = 0.25                 # reconnect delays: base * 2**n, capped, jittered, seeded
    backoff_cap = 1.0
    seed = 0
    [api]
    host = "127.0.0.1"
    port = 5080
    [restream]                          # handed to recorder.restream.setup() when that module exists
    rtsp_port = 8654
    [[streams]]
    name = "cam0"
    url = "rtsp://127.0.0.1:8554/cam0"
    [streams.options]                   # passed to FFmpeg's demuxer
    rtsp_transport = "tcp"
    [[streams]]
    name = "cam1"
    url = "rtsp://127.0.0.1:8554/cam1"
    transcode = { codec = "libx264", preset = "veryfast", bitrate = 1000000 }   # or h264_nvenc

A JSON file with the same structure works too (``.json`` suffix).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from recorder.errors import ConfigError

__all__ = [
    "ApiConfig",
    "RecorderConfig",
    "RetentionConfig",
    "StorageConfig",
    "StreamConfig",
    "TranscodeConfig",
    "WatchdogConfig",
    "load_config",
    "parse_config",
    "parse_stream",
]

_T = TypeVar("_T")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class TranscodeConfig:
    codec: str = "libx264"
    preset: str = "veryfast"
    bitrate: int = 0  # bits/s; 0 lets the encoder choose (crf)


@dataclass(frozen=True)
class StreamConfig:
    name: str
    url: str
    options: dict[str, str] = field(default_factory=dict)
    transcode: TranscodeConfig | None = None


@dataclass(frozen=True)
class StorageConfig:
    path: Path
    cache: Path


@dataclass(frozen=True)
class RetentionConfig:
    max_age_hours: float = 168.0
    min_free_bytes: int = 0  # 0: one hour of the current recording rate (capped, see free_fraction_cap)
    free_fraction_cap: float = 0.25  # the automatic threshold never exceeds this share of the disk
    max_bytes: int = 0  # quota on recordings; 0: none
    check_seconds: float = 2.0


@dataclass(frozen=True)
class WatchdogConfig:
    stall_seconds: float = 5.0  # no packet for this long: reconnect
    open_timeout: float = 5.0
    backoff_base: float = 0.25
    backoff_cap: float = 1.0  # keeps a returning camera recorded again within ~2 s
    seed: int = 0


@dataclass(frozen=True)
class ApiConfig:
    host: str = "127.0.0.1"
    port: int = 5080


@dataclass(frozen=True)
class RecorderConfig:
    storage: StorageConfig
    streams: tuple[StreamConfig, ...] = ()
    segment_seconds: float = 10.0
    container: str = "mp4"  # "mp4" (fragmented) or "ts"
    mover_threads: int = 4
    retention: RetentionConfig = RetentionConfig()
    watchdog: WatchdogConfig = WatchdogConfig()
    api: ApiConfig = ApiConfig()
    restream: dict[str, Any] = field(default_factory=dict)


def load_config(path: Path) -> RecorderConfig:
    """Read a ``.toml`` or ``.json`` config file."""
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"cannot read config {path}: {err}", hint="pass an existing file") from err
    try:
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"config {path} is not valid: {err}", hint="fix the syntax") from err
    return parse_config(raw, base=path.parent)


def parse_config(raw: dict[str, Any], *, base: Path = Path(".")) -> RecorderConfig:
    storage_raw = _table(raw, "storage")
    if "path" not in storage_raw:
        raise ConfigError("config has no storage.path", hint="add [storage] path = \"DIR\"")
    store = (base / str(storage_raw["path"])).resolve()
    cache_s = str(storage_raw.get("cache", "") or "")
    cache = (base / cache_s).resolve() if cache_s else store / ".cache"
    streams = tuple(parse_stream(s) for s in _list(raw, "streams"))
    names = [s.name for s in streams]
    if len(set(names)) != len(names):
        raise ConfigError("duplicate stream names in config", hint="give each stream its own name")
    cfg = RecorderConfig(
        storage=StorageConfig(path=store, cache=cache),
        streams=streams,
        segment_seconds=_positive(raw.get("segment_seconds", 10.0), "segment_seconds"),
        container=str(raw.get("container", "mp4")),
        mover_threads=int(_positive(raw.get("mover_threads", 4), "mover_threads")),
        retention=_build(RetentionConfig, _table(raw, "retention"), "retention"),
        watchdog=_build(WatchdogConfig, _table(raw, "watchdog"), "watchdog"),
        api=_build(ApiConfig, _table(raw, "api"), "api"),
        restream=_table(raw, "restream"),
    )
    if cfg.container not in ("mp4", "ts"):
        raise ConfigError(f"container {cfg.container!r} unknown", hint='use "mp4" or "ts"')
    return cfg


def parse_stream(raw: Any) -> StreamConfig:
    """Validate one stream definition (config file entry or API request body)."""
    if not isinstance(raw, dict):
        raise ConfigError("a stream must be an object", hint='send {"name": ..., "url": ...}')
    name, url = raw.get("name"), raw.get("url")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"bad stream name {name!r}", hint="use 1-64 of [A-Za-z0-9_.-]")
    if not isinstance(url, str) or not url:
        raise ConfigError(f"stream {name} has no url", hint="set url = \"rtsp://host:port/path\"")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"stream {name}: options must be an object", hint="use key = value pairs")
    tc_raw = raw.get("transcode")
    transcode = None
    if tc_raw is not None:
        if not isinstance(tc_raw, dict):
            raise ConfigError(f"stream {name}: transcode must be an object", hint='{"codec": "libx264"}')
        transcode = _build(TranscodeConfig, tc_raw, f"streams.{name}.transcode")
    return StreamConfig(name=name, url=url, options={str(k): str(v) for k, v in options.items()},
                        transcode=transcode)


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"config key {key} must be a table", hint=f"write [{key}]")
    return value


def _list(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"config key {key} must be a list", hint=f"write [[{key}]] entries")
    return value


def _positive(value: Any, key: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{key} must be a positive number, got {value!r}", hint="e.g. 10")
    return float(value)


def _build(cls: type[_T], values: dict[str, Any], where: str) -> _T:
    default = cls()
    known = set(default.__dataclass_fields__)  # type: ignore[attr-defined]
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown keys in {where}: {sorted(unknown)}", hint=f"known: {sorted(known)}")
    converted: dict[str, Any] = {}
    for key, value in values.items():
        want = type(getattr(default, key))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, want) or isinstance(value, bool) != (want is bool):
            raise ConfigError(f"{where}.{key} must be {want.__name__}, got {value!r}", hint="fix the type")
        converted[key] = value
    return replace(default, **converted)  # type: ignore[type-var]
