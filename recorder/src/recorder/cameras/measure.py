"""Measure the mock cameras' own CPU: ``python -m recorder.cameras.measure --count 16 --seconds 20``.

Starts ``python -m recorder.cameras`` as a subprocess, plays every camera over RTSP/TCP with light
in-process clients (they count RTP packets and sequence gaps), lets the streams settle, then samples
the camera process's CPU time (psutil) over the window. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import psutil

from recorder.rtsp.client import RtspClient


@dataclass
class StreamCount:
    packets: int = 0
    payload_bytes: int = 0
    lost: int = 0


@dataclass(frozen=True)
class CpuReport:
    cameras: int
    seconds: float
    cpu_percent: float            # of one core, camera process only
    cpu_percent_per_camera: float
    packets_per_second: float
    mbit_per_second_per_camera: float
    lost_packets: int


async def _consume(url: str, count: StreamCount, stop: asyncio.Event) -> None:
    client = RtspClient(url)
    await client.start(tcp=True)
    last = None
    try:
        while not stop.is_set():
            packet = await client.next_packet()
            if last is not None:
                count.lost += (packet.seq - last - 1) & 0xFFFF
            last = packet.seq
            count.packets += 1
            count.payload_bytes += len(packet.payload)
    finally:
        await client.close()


async def _measure(urls: list[str], proc: psutil.Process, warmup: float,
                   seconds: float) -> CpuReport:
    stop = asyncio.Event()
    counts = [StreamCount() for _ in urls]
    tasks = [asyncio.create_task(_consume(u, c, stop)) for u, c in zip(urls, counts, strict=True)]
    await asyncio.sleep(warmup)
    cpu0, wall0 = proc.cpu_times(), time.monotonic()
    pk0 = sum(c.packets for c in counts)
    by0 = sum(c.payload_bytes for c in counts)
    await asyncio.sleep(seconds)
    cpu1, wall1 = proc.cpu_times(), time.monotonic()
    pk1 = sum(c.packets for c in counts)
    by1 = sum(c.payload_bytes for c in counts)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = wall1 - wall0
    busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    pct = 100.0 * busy / elapsed
    return CpuReport(cameras=len(urls), seconds=round(elapsed, 2), cpu_percent=round(pct, 2),
                     cpu_percent_per_camera=round(pct / len(urls), 3),
                     packets_per_second=round((pk1 - pk0) / elapsed, 1),
                     mbit_per_second_per_camera=round((by1 - by0) * 8 / elapsed / 1e6 / len(urls), 3),
                     lost_packets=sum(c.lost for c in counts))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m recorder.cameras.measure", description=__doc__)
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--resolution", default="1280x720")
    p.add_argument("--fps", default="30")
    p.add_argument("--bitrate", default="2M")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--cache-dir", default=None, help="clip cache passed to the cameras")
    args = p.parse_args(argv)
    cmd = [sys.executable, "-m", "recorder.cameras", "--count", str(args.count), "--port", "0",
           "--resolution", args.resolution, "--fps", args.fps, "--bitrate", args.bitrate]
    if args.cache_dir:
        cmd += ["--cache-dir", args.cache_dir]
    cams = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    try:
        assert cams.stdout is not None
        line = cams.stdout.readline()
        if not line:
            print("measure: the cameras did not start (see their stderr above)", file=sys.stderr)
            return 2
        ready = json.loads(line)
        report = asyncio.run(_measure(ready["urls"], psutil.Process(cams.pid), args.warmup,
                                      args.seconds))
    finally:
        cams.terminate()
        cams.wait(timeout=10)
    print(json.dumps(asdict(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
