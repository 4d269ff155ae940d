"""The media source interface the RTSP server streams from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from recorder.rtsp.sdp import H264Description
from recorder.rtsp.sender import RtpSender


class MediaSource(Protocol):
    """What the server streams for one path (a camera, or a recorded stream being restreamed)."""

    @property
    def refusing(self) -> bool:
        """True to drop (RST) any connection that asks for this source."""
        ...

    def description(self) -> H264Description | None:
        """Parameters for the SDP, or None when the stream is not available yet (503)."""
        ...

    async def play(self, sender: RtpSender) -> None:
        """Send RTP until cancelled, timestamps relative to the start of play."""
        ...


SourceLookup = Callable[[str], "MediaSource | None"]
