"""``python -m recorder cameras``: serve N looping mock RTSP cameras until SIGINT/SIGTERM.

When ready, prints one JSON line to stdout, e.g.
``{"event": "ready", "rtsp_port": 8554, "control_port": 8555, "urls": ["rtsp://..."]}``
(ports chosen by the system when 0 was asked). See :mod:`recorder.cameras.control` for the faults.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from recorder.cameras.clips import ClipError, ClipSpec
from recorder.cameras.control import ControlServer, start_control
from recorder.cameras.rig import CameraRig, RigConfig


def _resolution(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError("resolution must look like 1280x720")
    return int(match[1]), int(match[2])


def _bitrate(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text)
    if not match:
        raise argparse.ArgumentTypeError("bitrate must look like 2000000, 2000k or 2M")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match[2].lower()]
    return int(float(match[1]) * scale)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="recorder cameras", description=__doc__.split("\n")[0])
    p.add_argument("--count", type=int, default=1, help="number of cameras (cam0..camN-1)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8554, help="RTSP port (0: any free port)")
    p.add_argument("--resolution", type=_resolution, default=(1280, 720), metavar="WxH")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--bitrate", type=_bitrate, default=2_000_000, help="bits/s (2M, 500k)")
    p.add_argument("--gop", type=int, default=0, help="keyframe interval in frames (0: = fps)")
    p.add_argument("--clip-seconds", type=float, default=4.0)
    p.add_argument("--profile", choices=("baseline", "main", "high"), default="baseline")
    p.add_argument("--control-port", type=int, default=None,
                   help="HTTP fault-control port on --host (0: any free port; omit: none)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="clip cache (default $RECORDER_CLIP_CACHE or ~/.cache/perfwatch-recorder)")
    p.add_argument("--seed", type=int, default=0)
    return p


def rig_config(args: argparse.Namespace) -> RigConfig:
    width, height = args.resolution
    gop = args.gop or max(1, round(args.fps))
    spec = ClipSpec(width=width, height=height, fps=args.fps, bitrate=args.bitrate, gop=gop,
                    seconds=args.clip_seconds, profile=args.profile, seed=args.seed)
    return RigConfig(count=args.count, spec=spec, host=args.host, port=args.port,
                     cache=args.cache_dir, seed=args.seed)


async def serve(config: RigConfig, control_port: int | None) -> None:
    rig = await CameraRig.open(config)
    control: ControlServer | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if control_port is not None:
            control = await start_control(rig, config.host, control_port)
        ready = {"event": "ready", "rtsp_port": rig.server.port,
                 "control_port": control.port if control else None, "urls": rig.urls()}
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        if control is not None:
            await control.close()
        await rig.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.count < 1:
        print("recorder cameras: --count must be at least 1", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(rig_config(args), args.control_port))
    except ClipError as exc:
        print(f"recorder cameras: {exc} (hint: check --resolution/--fps/--gop)", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"recorder cameras: {exc} (hint: is --port {args.port} already in use?)",
              file=sys.stderr)
        return 2
    return 0
