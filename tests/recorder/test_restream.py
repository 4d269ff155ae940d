"""Restream out of a PacketHub fed from a real H.264 clip: RTSP (PyAV client) and WHEP (aiortc)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import av
import pytest
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from camera_fixtures import camera_clip_cache  # noqa: F401
from recorder.cameras.clips import ClipSpec, EncodedFrame, load_encoded
from recorder.hub import AccessUnit, PacketHub, StreamInfo
from recorder.restream import restream_config, setup
from recorder.restream.rtsp_out import access_unit_nals
from recorder.restream.whep import use_loopback_candidates
from recorder.rtsp.client import RtspClient
from recorder.rtsp.h264 import parameter_sets, split_annexb
from rtp_helpers import collect_units, rtsp_first_frames

SPEC = ClipSpec(width=160, height=120, fps=30.0, bitrate=150_000, gop=6, seconds=0.4)
WAIT = 20.0


@dataclass(frozen=True)
class Restream:
    base: str          # http://127.0.0.1:port
    rtsp_port: int
    hub: PacketHub


async def _feed(hub: PacketHub, frames: list[EncodedFrame]) -> None:
    """Publish the clip in a loop at its frame rate, like an ingest worker would."""
    step = 90_000 / SPEC.fps
    i = 0
    while True:
        frame = frames[i % len(frames)]
        hub.publish("cam0", AccessUnit(data=frame.data, pts_90k=round(i * step),
                                       keyframe=frame.keyframe))
        i += 1
        await asyncio.sleep(1 / SPEC.fps)


@asynccontextmanager
async def restream(frames: list[EncodedFrame]) -> AsyncIterator[Restream]:
    hub = PacketHub()
    params = parameter_sets(split_annexb(frames[0].data))
    assert params.sps is not None and params.pps is not None
    hub.set_info("cam0", StreamInfo(SPEC.width, SPEC.height, SPEC.fps, params.sps, params.pps))
    app = web.Application()
    setup(app, hub, {"rtsp_port": 0})
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    feeder = asyncio.create_task(_feed(hub, frames))
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{base}/restream") as resp:
            info = await resp.json()
        yield Restream(base=base, rtsp_port=info["rtsp_port"], hub=hub)
    finally:
        feeder.cancel()
        await runner.cleanup()


@pytest.fixture(scope="module")
def frames(camera_clip_cache: Path) -> list[EncodedFrame]:  # noqa: F811
    return load_encoded(SPEC, camera_clip_cache)


def run(frames: list[EncodedFrame], body: Callable[[Restream], Awaitable[None]]) -> None:
    async def main() -> None:
        async with restream(frames) as rs:
            await asyncio.wait_for(body(rs), 60)
    asyncio.run(main())



def test_rtsp_restream_decodes_and_reports_first_frame_latency(frames: list[EncodedFrame]) -> None:
    async def body(rs: Restream) -> None:
        url = f"rtsp://127.0.0.1:{rs.rtsp_port}/cam0"
        first, sizes = await asyncio.to_thread(rtsp_first_frames, url, 15, timeout=WAIT)
        assert sizes == [(160, 120)] * 15
        print(f"rtsp restream first frame after {first * 1000:.0f} ms")
        with pytest.raises(av.error.HTTPNotFoundError):
            await asyncio.to_thread(rtsp_first_frames, f"rtsp://127.0.0.1:{rs.rtsp_port}/nope", 1,
                                    timeout=WAIT)

    run(frames, body)


def test_rtsp_viewer_is_hung_up_when_the_stream_is_removed(frames: list[EncodedFrame]) -> None:
    async def body(rs: Restream) -> None:
        client = RtspClient(f"rtsp://127.0.0.1:{rs.rtsp_port}/cam0")
        await client.start()
        units = await collect_units(client, 3)
        assert units[0].keyframe
        assert rs.hub.subscriber_count("cam0") == 1
        rs.hub.close_stream("cam0")
        with pytest.raises(asyncio.IncompleteReadError):
            await collect_units(client, 10_000)
        await client.close()

    run(frames, body)


async def _whep_offer(base: str, pc: RTCPeerConnection) -> tuple[int, str, str]:
    await pc.setLocalDescription(await pc.createOffer())
    async with aiohttp.ClientSession() as http, http.post(
            f"{base}/whep/cam0", data=pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp"}) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


def test_whep_viewer_receives_decodable_frames(frames: list[EncodedFrame]) -> None:
    async def body(rs: Restream) -> None:
        use_loopback_candidates()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("video", direction="recvonly")
        tracks: asyncio.Queue[object] = asyncio.Queue()
        pc.on("track", tracks.put_nowait)
        start = time.perf_counter()
        status, location, answer = await _whep_offer(rs.base, pc)
        assert status == 201 and location.startswith("/whep/cam0/")
        candidates = [ln for ln in answer.splitlines() if ln.startswith("a=candidate")]
        assert candidates and all(" 127.0.0.1 " in c for c in candidates)
        assert "H264" in answer and "VP8" not in answer
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        track = await asyncio.wait_for(tracks.get(), WAIT)
        got = [await asyncio.wait_for(track.recv(), WAIT) for _ in range(10)]  # type: ignore[attr-defined]
        print(f"whep first frame after {(time.perf_counter() - start) * 1000:.0f} ms")
        assert {(f.width, f.height) for f in got} == {(160, 120)}
        async with aiohttp.ClientSession() as http:
            async with http.delete(f"{rs.base}{location}") as resp:
                assert resp.status == 200
            async with http.delete(f"{rs.base}{location}") as resp:
                assert resp.status == 404
        await pc.close()

    run(frames, body)


def test_whep_rejects_unknown_streams_and_bad_offers(frames: list[EncodedFrame]) -> None:
    async def body(rs: Restream) -> None:
        async with aiohttp.ClientSession() as http:
            sdp = {"Content-Type": "application/sdp"}
            async with http.post(f"{rs.base}/whep/nope", data="v=0\r\n", headers=sdp) as resp:
                assert resp.status == 404 and "error" in await resp.json()
            async with http.post(f"{rs.base}/whep/cam0", data="v=0") as resp:
                assert resp.status == 415
            async with http.post(f"{rs.base}/whep/cam0", data="hello", headers=sdp) as resp:
                assert resp.status == 400
            async with http.post(f"{rs.base}/whep/cam0", data="v=0\r\nbroken\r\n",
                                 headers=sdp) as resp:
                assert resp.status == 400
        assert rs.hub.subscriber_count("cam0") == 0

    run(frames, body)


def test_keyframes_get_parameter_sets_when_missing(frames: list[EncodedFrame]) -> None:
    nals = split_annexb(frames[0].data)
    sps, pps = nals[0], nals[1]
    bare = b"".join(b"\x00\x00\x00\x01" + n for n in nals[2:])
    info = StreamInfo(SPEC.width, SPEC.height, SPEC.fps, sps, pps)
    assert access_unit_nals(AccessUnit(bare, 0, True), info)[:2] == [sps, pps]
    assert access_unit_nals(AccessUnit(frames[0].data, 0, True), info) == nals
    assert access_unit_nals(AccessUnit(frames[1].data, 0, False), info) == split_annexb(
        frames[1].data)


def test_config_sources() -> None:
    assert restream_config(None).rtsp_port == 8654
    assert restream_config({"rtsp_port": 0, "whep": False}).whep is False

    @dataclass(frozen=True)
    class Cfg:
        restream: dict[str, str]

    assert restream_config(Cfg({"rtsp_host": "127.0.0.2"})).rtsp_host == "127.0.0.2"
