"""Live RTSP out of the recorder's streams: a :class:`MediaSource` over the :class:`PacketHub`.

A client that PLAYs ``rtsp://host:port/<stream>`` subscribes to the hub and starts at the next
keyframe; RTP timestamps follow the ingest's 90 kHz presentation times. If the subscription drops
units (slow viewer), sending pauses until the next keyframe so the client never decodes garbage.
"""

from __future__ import annotations

from recorder.hub import AccessUnit, PacketHub, StreamInfo
from recorder.rtsp.h264 import NAL_SPS, nal_type, split_annexb
from recorder.rtsp.rtp import packetize_access_unit
from recorder.rtsp.sdp import H264Description
from recorder.rtsp.sender import RtpSender
from recorder.rtsp.server import RtspServer

SUBSCRIPTION_UNITS = 256


def access_unit_nals(au: AccessUnit, info: StreamInfo | None) -> list[bytes]:
    """NAL units of ``au``; keyframes get SPS/PPS in front when the ingest did not keep them."""
    nals = split_annexb(au.data)
    has_sps = any(nal_type(n) == NAL_SPS for n in nals)
    if au.keyframe and not has_sps and info is not None and info.sps and info.pps:
        nals = [info.sps, info.pps, *nals]
    return nals


class HubSource:
    """One recorded stream as an RTSP media source."""

    refusing = False

    def __init__(self, hub: PacketHub, stream: str) -> None:
        self.hub = hub
        self.stream = stream

    def description(self) -> H264Description | None:
        info = self.hub.info(self.stream)
        if info is None or not info.sps or not info.pps:
            return None
        return H264Description(sps=info.sps, pps=info.pps, width=info.width, height=info.height,
                               fps=info.fps or 30.0)

    async def play(self, sender: RtpSender) -> None:
        base: int | None = None
        dropped, waiting = 0, True
        with self.hub.subscribe(self.stream, maxsize=SUBSCRIPTION_UNITS) as sub:
            async for au in sub:
                if sub.dropped != dropped:  # the viewer fell behind: restart at a keyframe
                    dropped, waiting = sub.dropped, True
                if waiting and not au.keyframe:
                    continue
                waiting = False
                base = au.pts_90k if base is None else base
                nals = access_unit_nals(au, self.hub.info(self.stream))
                frame = packetize_access_unit(nals, keyframe=au.keyframe)
                sender.send_frame(frame.payloads, au.pts_90k - base)
                await sender.drain()
                if sender.closed:
                    return


class HubSources:
    """Looks stream names up in the hub (unknown or not-yet-live streams are 404)."""

    def __init__(self, hub: PacketHub) -> None:
        self.hub = hub
        self._sources: dict[str, HubSource] = {}

    def __call__(self, name: str) -> HubSource | None:
        if self.hub.info(name) is None:
            return None
        if name not in self._sources:
            self._sources[name] = HubSource(self.hub, name)
        return self._sources[name]


def restream_server(hub: PacketHub, *, host: str, port: int) -> RtspServer:
    return RtspServer(HubSources(hub), host=host, port=port)
