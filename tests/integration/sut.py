"""Process-level harness: the system under test (mock cameras + recorder) as real processes.

A :class:`Rig` starts camera rigs and recorders as subprocesses in a test's tmp dir (through the
recorder's fixture helpers in tests/recorder), optional fault proxies between them, and
undoes all of it on :meth:`Rig.close` (an ExitStack), also when the test failed. It keeps each
process's log so the failure report can carry it.

Shared by tests/integration, tests/load and tests/failure (their conftests put this directory
on ``sys.path``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS / "recorder") not in sys.path:
    sys.path.insert(0, str(_TESTS / "recorder"))

from camera_fixtures import CameraOptions, CameraProcess, running_cameras
from recorder_fixtures import RecorderProc, start_recorder

from perfwatch.harness.faults import FaultProxy

__all__ = ["CAMERA_360P", "CameraOptions", "CameraProcess", "RecorderProc", "Rig", "wait_until"]

T = TypeVar("T")

# The default scenario camera: 360p, 15 fps, a keyframe a second (segments of 1 s cut cleanly).
CAMERA_360P = CameraOptions(count=2, resolution="640x360", fps=15.0, bitrate="400k", gop=15,
                            clip_seconds=2.0)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.1) -> float:
    """Poll until ``predicate()``; return the seconds waited; raise TimeoutError naming ``what``."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class LogSource:
    name: str
    path: Path


class Rig:
    """Cameras, recorders and proxies of one test; everything stops on :meth:`close`."""

    def __init__(self, tmp: Path, clip_cache: Path) -> None:
        self.tmp = tmp
        self.clip_cache = clip_cache
        self._stack = ExitStack()
        self._logs: list[LogSource] = []
        self._camera_procs: list[CameraProcess] = []

    def close(self) -> None:
        self._stack.close()

    # -- parts -----------------------------------------------------------------------
    def cameras(self, options: CameraOptions = CAMERA_360P) -> CameraProcess:
        cams = self._stack.enter_context(running_cameras(options, self.clip_cache))
        self._camera_procs.append(cams)
        return cams

    def recorder(self, streams: list[dict[str, Any]], *, segment_seconds: float = 1.0,
                 storage: Path | None = None, cache: Path | None = None,
                 wrap: Callable[[list[str]], list[str]] | None = None,
                 **extra: Any) -> RecorderProc:
        """Start ``python -m recorder serve`` with 1 s segments and a fast watchdog."""
        config: dict[str, Any] = {
            "segment_seconds": segment_seconds,
            "watchdog": {"stall_seconds": 2.0, "open_timeout": 2.0, "backoff_base": 0.2,
                         "backoff_cap": 0.5},
            "retention": {"check_seconds": 0.5},
            "streams": streams,
        }
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
        if storage is not None or cache is not None:
            config["storage"] = {"path": str(storage or self.tmp / "storage")}
            if cache is not None:
                config["storage"]["cache"] = str(cache)
        rec = start_recorder(self.tmp, config, wrap=wrap)
        self._stack.callback(rec.stop)
        self._logs.append(LogSource(f"recorder:{rec.base_url}", rec.log_path))
        return rec

    def proxy(self, upstream: tuple[str, int], **kwargs: Any) -> FaultProxy:
        return self._stack.enter_context(FaultProxy(upstream, **kwargs))

    def enter(self, cm: AbstractContextManager[T]) -> T:
        """Enter a context manager (a fault tool) that is left at close, in reverse order."""
        return self._stack.enter_context(cm)

    def callback(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` at close (after parts started later, before parts started earlier)."""
        self._stack.callback(fn)

    # -- logs --------------------------------------------------------------------------
    def add_log(self, name: str, path: Path) -> None:
        self._logs.append(LogSource(name, path))

    def log_tails(self, limit: int = 4000) -> dict[str, str]:
        tails: dict[str, str] = {}
        sources = list(self._logs)
        sources += [LogSource(f"cameras:{c.rtsp_port}", c.log) for c in self._camera_procs
                    if c.log is not None]
        for src in sources:
            try:
                tails[src.name] = src.path.read_text(errors="replace")[-limit:]
            except OSError:
                continue
        return tails


def stream_spec(cams: CameraProcess, index: int, name: str | None = None,
                url: str | None = None) -> dict[str, Any]:
    return {"name": name or f"cam{index}", "url": url or cams.url(index),
            "options": {"rtsp_transport": "tcp"}}


def proxied_url(url: str, proxy: FaultProxy) -> str:
    """``rtsp://127.0.0.1:P/camN`` rewritten to go through ``proxy``."""
    path = url.split("/", 3)[3]
    return f"rtsp://127.0.0.1:{proxy.port}/{path}"


def rtsp_port(url: str) -> int:
    return int(url.split("/")[2].rsplit(":", 1)[1])


def clip_cache_dir(default: Path) -> Path:
    env = os.environ.get("RECORDER_CLIP_CACHE")
    return Path(env) if env else default
