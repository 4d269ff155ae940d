"""The system under test as subprocesses: mock cameras and the recorder service.

Both are started with ``sys.executable -m recorder ...`` (the benchmark environment's
Python, where asv installed the recorder at the commit being measured) and always
stopped, also when a benchmark fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import BITRATE, FPS, SEED, SEGMENT_SECONDS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class CameraRig:
    proc: subprocess.Popen[bytes]
    urls: tuple[str, ...]
    control_port: int | None


def clip_cache() -> Path:
    path = Path(os.environ.get("RECORDER_CLIP_CACHE",
                               Path(tempfile.gettempdir()) / "perfwatch-bench-clips"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def cameras(count: int, resolution: str, *, fps: float = FPS,
            control: bool = False) -> Iterator[CameraRig]:
    """``count`` looping mock cameras; yields once they print their ready line."""
    cmd = [sys.executable, "-m", "recorder", "cameras", "--count", str(count), "--port", "0",
           "--resolution", resolution, "--fps", f"{fps:g}", "--bitrate", BITRATE[resolution],
           "--gop", str(round(fps)), "--clip-seconds", "2", "--cache-dir", str(clip_cache()),
           "--seed", str(SEED)]
    if control:
        cmd += ["--control-port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until ready (or exit)
        if not line:
            raise RuntimeError(f"cameras exited with {proc.wait()} before becoming ready")
        ready = json.loads(line)
        yield CameraRig(proc, tuple(ready["urls"]), ready.get("control_port"))
    finally:
        _stop(proc)


@dataclass(frozen=True)
class Recorder:
    proc: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:PORT
    storage: Path

    def get(self, path: str, timeout: float = 10.0) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=timeout) as reply:
            body = reply.read()
        return json.loads(body) if path.startswith(("/api", "/health")) else body.decode()


def _toml_streams(urls: Sequence[str]) -> str:
    return "".join(f'\n[[streams]]\nname = "cam{i}"\nurl = "{u}"\n' for i, u in enumerate(urls))


def write_config(workdir: Path, urls: Sequence[str], *, port: int,
                 retention: dict[str, float] | None = None) -> Path:
    storage = workdir / "storage"
    lines = [f"segment_seconds = {SEGMENT_SECONDS}", "[storage]", f'path = "{storage}"',
             "[api]", 'host = "127.0.0.1"', f"port = {port}"]
    if retention:
        lines += ["[retention]"] + [f"{k} = {v}" for k, v in retention.items()]
    config = workdir / "recorder.toml"
    config.write_text("\n".join(lines) + "\n" + _toml_streams(urls))
    return config


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    """Until ``url`` answers; fails at once, with the log's tail, if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"recorder not ready at {url} (exit {proc.poll()}): {tail}")
            time.sleep(0.1)


@contextmanager
def recorder(workdir: Path, urls: Sequence[str], *,
             retention: dict[str, float] | None = None) -> Iterator[Recorder]:
    """The recorder service over ``urls``; yields once ``/health`` answers."""
    port = free_port()
    config = write_config(workdir, urls, port=port, retention=retention)
    log_path = workdir / "recorder.log"
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "recorder", "serve", "--config", str(config),
                             "--log-level", "WARNING"], stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/health", proc, log_path)
        yield Recorder(proc, base, workdir / "storage")
    finally:
        _stop(proc)
        log.close()


def wait_streams(rec: Recorder, count: int, timeout: float = 30.0) -> None:
    """Until ``count`` streams are connected and each has closed a segment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        streams = rec.get("/api/streams")
        if len(streams) >= count and all(s["connected"] and s["segments"] > 0 for s in streams):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{count} streams did not start recording within {timeout:.0f} s")
