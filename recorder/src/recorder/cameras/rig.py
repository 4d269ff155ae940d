"""A set of mock cameras behind one RTSP server, with the fault operations the control API exposes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from recorder.cameras.camera import Camera
from recorder.cameras.clips import Clip, ClipSpec, load_clip
from recorder.rtsp.server import RtspServer


class UnknownCamera(KeyError):
    """No camera of that name (or index)."""


@dataclass(frozen=True)
class RigConfig:
    count: int
    spec: ClipSpec
    host: str = "127.0.0.1"
    port: int = 8554
    cache: Path | None = None
    seed: int = 0


class CameraRig:
    """``count`` cameras ``cam0``..``cam{count-1}`` sharing one pre-packetised clip."""

    def __init__(self, config: RigConfig, clip: Clip) -> None:
        self.config = config
        self.cameras = {f"cam{i}": Camera(f"cam{i}", clip, seed=config.seed + i)
                        for i in range(config.count)}
        self.server = RtspServer(self.cameras.get, host=config.host, port=config.port,
                                 seed=config.seed)
        self._clips: dict[ClipSpec, Clip] = {clip.spec: clip}

    @classmethod
    async def open(cls, config: RigConfig) -> CameraRig:
        clip = await asyncio.to_thread(load_clip, config.spec, config.cache)
        rig = cls(config, clip)
        await rig.server.start()
        return rig

    async def close(self) -> None:
        await self.server.stop()

    def urls(self) -> list[str]:
        return [self.server.url(name) for name in self.cameras]

    def select(self, which: str) -> list[Camera]:
        """Cameras named by ``which``: ``cam3``, ``3`` or ``all``."""
        if which == "all":
            return list(self.cameras.values())
        name = which if which.startswith("cam") else f"cam{which}"
        if name not in self.cameras:
            raise UnknownCamera(which)
        return [self.cameras[name]]

    def stall(self, which: str, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        for cam in self.select(which):
            cam.faults.stall_until = until

    def reset(self, which: str) -> int:
        return sum(self.server.reset(cam.name) for cam in self.select(which))

    def corrupt(self, which: str, frames: int) -> None:
        for cam in self.select(which):
            cam.faults.corrupt_frames += frames

    def refuse(self, which: str, on: bool) -> None:
        for cam in self.select(which):
            cam.faults.refuse = on

    def down(self, which: str) -> int:
        for cam in self.select(which):
            cam.faults.down = True
        return self.reset(which)

    def up(self, which: str) -> None:
        for cam in self.select(which):
            cam.faults.down = False

    async def switch_resolution(self, which: str, width: int | None, height: int | None) -> ClipSpec:
        """Switch to a clip of another size (default: toggle to half size and back)."""
        cams = self.select(which)
        base = self.config.spec
        current = cams[0].clip.spec
        if width is None or height is None:
            half = replace(base, width=base.width // 4 * 2, height=base.height // 4 * 2)
            spec = base if current != base else half
        else:
            spec = replace(base, width=width, height=height)
        if spec not in self._clips:
            self._clips[spec] = await asyncio.to_thread(load_clip, spec, self.config.cache)
        for cam in cams:
            cam.clip = self._clips[spec]
        return spec

    def state(self) -> list[dict[str, Any]]:
        now = asyncio.get_running_loop().time()
        return [{
            "name": cam.name, "url": self.server.url(cam.name),
            "width": cam.clip.spec.width, "height": cam.clip.spec.height,
            "fps": cam.clip.spec.fps, "connections": self.server.connection_count(cam.name),
            "sessions": cam.stats.sessions, "frames_sent": cam.stats.frames_sent,
            "frames_corrupted": cam.stats.frames_corrupted, "stalled": cam.stalled(now),
            "refuse": cam.faults.refuse, "down": cam.faults.down,
        } for cam in self.cameras.values()]
