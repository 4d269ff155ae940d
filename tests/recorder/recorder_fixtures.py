"""Process-level fixtures for the recorder: the real service and real mock cameras as subprocesses.

``recorder_proc(config)`` starts ``python -m recorder serve`` with a JSON config in tmp_path on a free
127.0.0.1 port, waits for /health and returns a :class:`RecorderProc` (base URL, JSON helpers, logs).
``mock_cameras(count=..)`` starts ``python -m recorder cameras`` (the mock cameras' CLI) and returns
its RTSP URLs and fault-control URL. Every process is killed at teardown, also on failure, and the
recorder's log is printed when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

__all__ = [
    "CameraRigProc",
    "RecorderProc",
    "encode_test_clip",
    "free_port",
    "mock_cameras",
    "recorder_proc",
    "start_recorder",
    "tmpfs",
]

CLIP_CACHE = Path(os.environ.get("RECORDER_CLIP_CACHE", Path.home() / ".cache" / "perfwatch-recorder"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def encode_test_clip(path: Path, *, seconds: float = 3.0, fps: int = 15, size: tuple[int, int] = (160, 120),
                     gop: int = 15, rng: np.random.Generator | None = None) -> Path:
    """A small H.264 MP4 (no B-frames, IDR every ``gop`` frames) with moving noise."""
    rng = rng or np.random.default_rng(0)
    width, height = size
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.codec_context.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(gop),
                                   "keyint_min": str(gop), "bf": "0", "sc_threshold": "0"}
        base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.roll(base, i * 3, axis=1), format="rgb24")
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    return path


@dataclass
class RecorderProc:
    proc: subprocess.Popen[bytes]
    base_url: str
    config_path: Path
    storage: Path
    log_path: Path
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=30.0)

    def get(self, path: str, **params: Any) -> Any:
        r = self.client.get(path, params=params)
        r.raise_for_status()
        return r.json()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_health(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"recorder exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if self.client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"recorder not healthy after {timeout} s:\n{self.logs()}")

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"recorder died while waiting for {what}:\n{self.logs()}")
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}")

    def stop(self) -> int:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


@dataclass
class CameraRigProc:
    proc: subprocess.Popen[bytes]
    urls: list[str]
    rtsp_port: int
    control_url: str

    def fault(self, cam: str, action: str, **params: Any) -> Any:
        r = httpx.post(f"{self.control_url}/cameras/{cam}/{action}", params=params, timeout=10)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_recorder(tmp: Path, config: dict[str, Any],
                   wrap: Callable[[list[str]], list[str]] | None = None) -> RecorderProc:
    """``wrap`` rewrites the command line (e.g. a cgroup or rlimit wrapper that execs it)."""
    config = dict(config)
    config.setdefault("storage", {"path": str(tmp / "storage")})
    config.setdefault("restream", {"rtsp_port": 0})  # never a fixed port in tests
    port = free_port()
    config["api"] = {"host": "127.0.0.1", "port": port}
    cfg_path = tmp / f"recorder-{port}.json"
    cfg_path.write_text(json.dumps(config))
    log_path = tmp / f"recorder-{port}.log"
    with log_path.open("wb") as log:
        argv = [sys.executable, "-m", "recorder", "serve", "--config", str(cfg_path)]
        proc = subprocess.Popen(wrap(argv) if wrap else argv, stdout=log, stderr=subprocess.STDOUT)
    rp = RecorderProc(proc, f"http://127.0.0.1:{port}", cfg_path, Path(config["storage"]["path"]), log_path)
    try:
        rp.wait_health()
    except BaseException:
        rp.stop()
        raise
    return rp


@pytest.fixture
def recorder_proc(tmp_path: Path) -> Iterator[Callable[..., RecorderProc]]:
    started: list[RecorderProc] = []

    def start(config: dict[str, Any]) -> RecorderProc:
        rp = start_recorder(tmp_path, config)
        started.append(rp)
        return rp

    yield start
    for rp in started:
        code = rp.stop()
        # pytest shows teardown output only when the test failed
        sys.stderr.write(f"--- recorder log ({rp.log_path.name}, exit {code}) ---\n{rp.logs()[-6000:]}\n")


def _start_cameras(count: int, resolution: str, fps: int, bitrate: str, gop: int,
                   port: int = 0) -> CameraRigProc:
    cmd = [sys.executable, "-m", "recorder", "cameras", "--count", str(count), "--port", str(port),
           "--control-port", "0", "--resolution", resolution, "--fps", str(fps), "--bitrate", bitrate,
           "--gop", str(gop), "--cache-dir", str(CLIP_CACHE)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # clip encoding on first use may take a while
    if not line:
        proc.kill()
        proc.wait()
        pytest.skip("mock cameras did not start (python -m recorder cameras)")
    ready = json.loads(line)
    return CameraRigProc(proc, ready["urls"], ready["rtsp_port"],
                         f"http://127.0.0.1:{ready['control_port']}")


@pytest.fixture
def mock_cameras() -> Iterator[Callable[..., CameraRigProc]]:
    started: list[CameraRigProc] = []

    def start(count: int = 1, resolution: str = "320x240", fps: int = 15, bitrate: str = "300k",
              gop: int = 15, port: int = 0) -> CameraRigProc:
        rig = _start_cameras(count, resolution, fps, bitrate, gop, port)
        started.append(rig)
        return rig

    yield start
    for rig in started:
        rig.stop()


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` (e.g. "8m") at ``path``; skip the test when that is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
