"""WebRTC out by WHEP (draft-ietf-wish-whep): ``POST /whep/{stream}`` with an SDP offer.

H.264 is passed through: the track hands aiortc encoded ``av.Packet`` objects (aiortc's
``RTCRtpSender`` packetises them without decoding), starting at the next keyframe. Keyframe
requests (PLI) from the viewer cannot be honoured, so a viewer waits at most one GOP.
ICE uses host candidates on 127.0.0.1 only and no STUN/TURN (``iceServers=[]``).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import aioice.ice
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from recorder.hub import PacketHub, Subscription
from recorder.restream.rtsp_out import access_unit_nals
from recorder.rtsp.h264 import join_annexb

TIME_BASE = Fraction(1, 90_000)


def use_loopback_candidates() -> None:
    """Make aioice gather host candidates on 127.0.0.1 only (it skips loopback by default)."""
    def loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"] if use_ipv4 else []
    aioice.ice.get_host_addresses = loopback


class HubTrack(MediaStreamTrack):
    """A video track of encoded H.264 access units from the hub."""

    kind = "video"

    def __init__(self, hub: PacketHub, stream: str) -> None:
        super().__init__()
        self._hub = hub
        self._stream = stream
        self._sub: Subscription = hub.subscribe(stream, maxsize=64)
        self._base: int | None = None
        self._dropped = 0

    async def recv(self) -> av.Packet[Any]:
        while True:
            try:
                au = await self._sub.__anext__()
            except StopAsyncIteration:
                self.stop()
                raise MediaStreamError("the stream ended") from None
            if self._sub.dropped != self._dropped:
                self._dropped, self._base = self._sub.dropped, None
            if self._base is None and not au.keyframe:
                continue
            self._base = au.pts_90k if self._base is None else self._base
            packet = av.Packet(join_annexb(access_unit_nals(au, self._hub.info(self._stream))))
            packet.pts = packet.dts = au.pts_90k - self._base
            packet.time_base = TIME_BASE
            return packet

    def stop(self) -> None:
        self._sub.close()
        super().stop()


@dataclass
class WhepSession:
    sid: str
    stream: str
    pc: RTCPeerConnection
    track: HubTrack

    @property
    def answer(self) -> str:
        return str(self.pc.localDescription.sdp)


class WhepSessions:
    """Peer connections created by WHEP, by session id."""

    def __init__(self, hub: PacketHub) -> None:
        self.hub = hub
        self.sessions: dict[str, WhepSession] = {}

    async def create(self, stream: str, offer_sdp: str) -> WhepSession:
        """A session answering ``offer_sdp`` (see :attr:`WhepSession.answer`); ValueError if bad."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        track = HubTrack(self.hub, stream)
        sid = secrets.token_hex(8)
        self.sessions[sid] = WhepSession(sid=sid, stream=stream, pc=pc, track=track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.delete(sid)

        try:
            # The transceiver exists before the offer is applied, so the H.264-only codec
            # preference is used when aiortc negotiates codecs in setRemoteDescription.
            transceiver = pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(
                [c for c in RTCRtpSender.getCapabilities("video").codecs
                 if c.mimeType.lower() in ("video/h264", "video/rtx")])
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await self.delete(sid)
            raise ValueError(f"cannot answer the offer: {exc}") from exc
        return self.sessions[sid]

    async def delete(self, sid: str) -> bool:
        session = self.sessions.pop(sid, None)
        if session is None:
            return False
        session.track.stop()
        await session.pc.close()
        return True

    async def close_all(self) -> None:
        await asyncio.gather(*(self.delete(sid) for sid in list(self.sessions)))
