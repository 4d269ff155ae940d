"""End to end: mock camera -> recorder service (ingest) -> restream over RTSP and WHEP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from camera_fixtures import CameraProcess, camera_clip_cache, mock_cameras  # noqa: F401
from recorder.restream.whep import use_loopback_candidates
from recorder_fixtures import RecorderProc, recorder_proc  # noqa: F401
from rtp_helpers import rtsp_first_frames

WAIT = 20.0



async def _whep_first_frame(base: str, stream: str) -> tuple[float, tuple[int, int]]:
    use_loopback_candidates()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    tracks: asyncio.Queue[Any] = asyncio.Queue()
    pc.on("track", tracks.put_nowait)
    start = time.perf_counter()
    try:
        await pc.setLocalDescription(await pc.createOffer())
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/whep/{stream}", data=pc.localDescription.sdp,
                                 headers={"Content-Type": "application/sdp"}) as resp:
                assert resp.status == 201
                answer, location = await resp.text(), resp.headers["Location"]
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            track = await asyncio.wait_for(tracks.get(), WAIT)
            frame = await asyncio.wait_for(track.recv(), WAIT)
            latency = time.perf_counter() - start
            async with http.delete(f"{base}{location}") as resp:
                assert resp.status == 200
    finally:
        await pc.close()
    return latency, (frame.width, frame.height)


def test_recorded_stream_is_restreamed(mock_cameras: CameraProcess,  # noqa: F811
                                       recorder_proc: Callable[..., RecorderProc]) -> None:  # noqa: F811
    rec = recorder_proc({"streams": [{"name": "cam0", "url": mock_cameras.url(0),
                                      "options": {"rtsp_transport": "tcp"}}]})
    rec.wait_for(lambda: "cam0" in rec.get("/restream")["rtsp_urls"], WAIT, "cam0 live in the hub")
    url = rec.get("/restream")["rtsp_urls"]["cam0"]
    rtsp_latency, sizes = rtsp_first_frames(url, 10, timeout=WAIT)
    assert sizes == [(320, 240)] * 10
    whep_latency, size = asyncio.run(_whep_first_frame(rec.base_url, "cam0"))
    assert size == (320, 240)
    print(f"first frame: rtsp {rtsp_latency * 1000:.0f} ms, whep {whep_latency * 1000:.0f} ms")
