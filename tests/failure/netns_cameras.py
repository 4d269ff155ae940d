"""Mock cameras started inside a network namespace (``ip netns exec``), on its veth address."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sut import CameraOptions, Rig

from perfwatch.harness.faults import NetnsPair


@dataclass(frozen=True)
class NetnsCameras:
    process: subprocess.Popen[bytes]
    host: str
    rtsp_port: int
    urls: tuple[str, ...]


def start_netns_cameras(rig: Rig, pair: NetnsPair, options: CameraOptions) -> NetnsCameras:
    log = rig.tmp / "netns-cameras.log"
    cmd = [*pair.exec_prefix(pair.a), sys.executable, "-m", "recorder", "cameras",
           *options.argv(), "--host", pair.a.address, "--port", "0", "--control-port", "0",
           "--cache-dir", str(rig.clip_cache)]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
    rig.add_log("netns-cameras", log)
    rig.callback(lambda: _stop(proc))
    ready = _ready_line(proc, timeout=120, log=log)
    return NetnsCameras(proc, pair.a.address, int(ready["rtsp_port"]), tuple(ready["urls"]))


def _ready_line(proc: subprocess.Popen[bytes], *, timeout: float, log: Path) -> dict[str, object]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline and proc.poll() is None:
            if sel.select(timeout=0.2):
                msg: dict[str, object] = json.loads(proc.stdout.readline() or b"{}")
                if msg.get("event") == "ready":
                    return msg
    raise RuntimeError(f"cameras in the namespace did not start: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
