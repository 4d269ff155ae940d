"""One mock camera: loops a pre-packetised clip in real time to every RTSP session it serves.

The send loop does no media work: per frame it stamps 12-byte RTP headers on ready payloads and
writes them. Sequence numbers and RTP timestamps stay continuous across loops and clip switches
(the sender owns numbering; the loop only counts frames on a fixed timeline).

Fault state (:class:`Faults`) is shared by all sessions of the camera and changed by the control
interface: stall, corrupt the next N frames, refuse, down, and switch clip (resolution change).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from recorder.cameras.clips import Clip
from recorder.rtsp.rtp import CLOCK_RATE, FU_A, RtpFrame
from recorder.rtsp.sdp import H264Description
from recorder.rtsp.sender import RtpSender

MAX_LAG_SECONDS = 1.0


@dataclass
class Faults:
    """Mutable fault switches of one camera."""

    stall_until: float = 0.0       # loop.time() before which nothing is sent
    corrupt_frames: int = 0        # the next N frames sent get flipped bytes
    refuse: bool = False           # RST connections that ask for this camera
    down: bool = False             # like refuse, set together with a reset of live sessions


@dataclass
class CameraStats:
    sessions: int = 0
    frames_sent: int = 0
    frames_corrupted: int = 0
    frames_skipped: int = 0


class Camera:
    """A :class:`recorder.rtsp.source.MediaSource` backed by a looping clip."""

    def __init__(self, name: str, clip: Clip, *, seed: int = 0) -> None:
        self.name = name
        self.clip = clip
        self.faults = Faults()
        self.stats = CameraStats()
        self._rng = random.Random(seed)

    @property
    def refusing(self) -> bool:
        return self.faults.refuse or self.faults.down

    def description(self) -> H264Description:
        return self.clip.description

    def stalled(self, now: float) -> bool:
        return now < self.faults.stall_until

    async def play(self, sender: RtpSender) -> None:
        loop = asyncio.get_running_loop()
        fps = self.clip.spec.fps
        anchor = loop.time()
        clip, pos, tick, need_key = self.clip, 0, 0, False
        self.stats.sessions += 1
        try:
            while not sender.closed:
                delay = anchor + tick / fps - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -MAX_LAG_SECONDS:  # the peer blocked us: restart the timeline
                    anchor = loop.time() - tick / fps
                if clip is not self.clip:  # resolution change: the new clip starts on an IDR
                    clip, pos, need_key = self.clip, 0, False
                frame = clip.frames[pos]
                if self.stalled(loop.time()):
                    need_key = True
                elif need_key and not frame.keyframe:
                    self.stats.frames_skipped += 1
                else:
                    need_key = False
                    sender.send_frame(self._payloads(frame), round(tick * CLOCK_RATE / fps))
                    self.stats.frames_sent += 1
                    await sender.drain()
                tick += 1
                pos = (pos + 1) % len(clip.frames)
        finally:
            self.stats.sessions -= 1

    def _payloads(self, frame: RtpFrame) -> tuple[bytes, ...]:
        if self.faults.corrupt_frames <= 0:
            return frame.payloads
        self.faults.corrupt_frames -= 1
        self.stats.frames_corrupted += 1
        return tuple(self._corrupt(p) for p in frame.payloads)

    def _corrupt(self, payload: bytes) -> bytes:
        """Flip bytes inside slice data; parameter sets and NAL/FU headers are left intact."""
        kind = payload[0] & 0x1F
        skip = 2 if kind == FU_A else 1
        inner = payload[1] & 0x1F if kind == FU_A else kind
        if inner not in (1, 5) or len(payload) <= skip + 8:
            return payload
        data = bytearray(payload)
        for _ in range(max(1, len(data) // 200)):
            data[self._rng.randrange(skip + 4, len(data))] ^= 0xFF
        return bytes(data)
