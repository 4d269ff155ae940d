"""Pytest fixtures that run mock RTSP cameras as a real subprocess on 127.0.0.1.

Use from tests in this directory with ``from camera_fixtures import mock_cameras, camera_factory,
camera_clip_cache  # noqa: F401``; from elsewhere add
``pytest_plugins = ["tests.recorder.camera_fixtures"]`` to a conftest.py (run pytest from the repo
root), or call :func:`running_cameras` directly.

- ``mock_cameras``: 2 cameras at 320x240, 15 fps, 300 kbit/s, GOP 15, 2 s clips (fast to encode).
- ``camera_factory(CameraOptions(...))``: as many camera processes as a test needs, each cleaned up.
- Each :class:`CameraProcess` has ``urls``, ``url(i)``, ``control`` (a :class:`CameraControl`
  speaking the HTTP fault API of ``recorder.cameras.control``) and ``restart()`` (same ports).
Clips are encoded once per test session into a session temp dir (``camera_clip_cache``), or into
``$RECORDER_CLIP_CACHE`` when that is set.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

READY_TIMEOUT = 120.0  # first run encodes the clip; later runs read the cache


@dataclass(frozen=True)
class CameraOptions:
    count: int = 2
    resolution: str = "320x240"
    fps: float = 15.0
    bitrate: str = "300k"
    gop: int = 15
    clip_seconds: float = 2.0
    seed: int = 0

    def argv(self) -> list[str]:
        return ["--count", str(self.count), "--resolution", self.resolution, "--fps", str(self.fps),
                "--bitrate", self.bitrate, "--gop", str(self.gop),
                "--clip-seconds", str(self.clip_seconds), "--seed", str(self.seed)]


class CameraControl:
    """Client of the cameras' HTTP fault API; ``cam`` is an index, ``"cam3"`` or ``"all"``."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def _call(self, method: str, path: str, **query: object) -> dict[str, Any]:
        qs = "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
        req = urllib.request.Request(f"{self.base}{path}{'?' + qs if qs else ''}", method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def state(self) -> list[dict[str, Any]]:
        cams: list[dict[str, Any]] = self._call("GET", "/cameras")["cameras"]
        return cams

    def stall(self, cam: int | str, seconds: float) -> None:
        self._call("POST", f"/cameras/{cam}/stall", seconds=seconds)

    def reset(self, cam: int | str) -> int:
        return int(self._call("POST", f"/cameras/{cam}/reset")["reset"])

    def corrupt(self, cam: int | str, frames: int) -> None:
        self._call("POST", f"/cameras/{cam}/corrupt", frames=frames)

    def resolution(self, cam: int | str, width: int | None = None,
                   height: int | None = None) -> dict[str, Any]:
        return self._call("POST", f"/cameras/{cam}/resolution", width=width, height=height)

    def refuse(self, cam: int | str, on: bool = True) -> None:
        self._call("POST", f"/cameras/{cam}/refuse", on=int(on))

    def refuse_all(self, on: bool = True) -> None:
        self._call("POST", "/refuse", on=int(on))

    def down(self, cam: int | str) -> None:
        self._call("POST", f"/cameras/{cam}/down")

    def up(self, cam: int | str) -> None:
        self._call("POST", f"/cameras/{cam}/up")


def _wait_ready(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if sel.select(timeout=0.2):
                line = proc.stdout.readline()
                if not line:
                    break
                msg: dict[str, Any] = json.loads(line)
                if msg.get("event") == "ready":
                    return msg
            elif proc.poll() is not None:
                break
    raise RuntimeError(f"mock cameras not ready (exit code {proc.poll()})")


@dataclass
class CameraProcess:
    options: CameraOptions
    cache: Path
    rtsp_port: int = 0
    control_port: int = 0
    urls: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def control(self) -> CameraControl:
        return CameraControl(self.control_port)

    def url(self, index: int) -> str:
        return self.urls[index]

    def start(self) -> None:
        cmd = [sys.executable, "-m", "recorder.cameras", *self.options.argv(),
               "--port", str(self.rtsp_port), "--control-port", str(self.control_port),
               "--cache-dir", str(self.cache)]
        fd, log = tempfile.mkstemp(prefix="cameras-", suffix=".log")
        self.log = Path(log)
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=fd,
                                        start_new_session=True)
        os.close(fd)
        try:
            ready = _wait_ready(self.process, READY_TIMEOUT)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}: {self.log.read_text()[-2000:]}") from None
        self.rtsp_port, self.control_port = ready["rtsp_port"], ready["control_port"]
        self.urls = list(ready["urls"])

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self.log is not None:
            self.log.unlink(missing_ok=True)

    def restart(self) -> None:
        """Stop the process and start it again on the same ports (a camera reboot)."""
        self.stop()
        self.start()


@contextmanager
def running_cameras(options: CameraOptions, cache: Path) -> Iterator[CameraProcess]:
    """Start cameras on free ports, yield them once ready, always stop them."""
    cams = CameraProcess(options=options, cache=cache)
    try:
        cams.start()
        yield cams
    finally:
        cams.stop()


@pytest.fixture(scope="session")
def camera_clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("RECORDER_CLIP_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("clip-cache")


@pytest.fixture
def mock_cameras(camera_clip_cache: Path) -> Iterator[CameraProcess]:
    with running_cameras(CameraOptions(), camera_clip_cache) as cams:
        yield cams


@pytest.fixture
def camera_factory(camera_clip_cache: Path) -> Iterator[Callable[[CameraOptions], CameraProcess]]:
    with ExitStack() as stack:
        def start(options: CameraOptions) -> CameraProcess:
            return stack.enter_context(running_cameras(options, camera_clip_cache))
        yield start
