"""The RTSP server over real 127.0.0.1 sockets, in process, streaming a small looping clip."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from camera_fixtures import camera_clip_cache  # noqa: F401
from recorder.cameras.camera import Camera
from recorder.cameras.clips import Clip, ClipSpec, load_clip
from recorder.rtsp.client import RtspClient, RtspClientError
from recorder.rtsp.server import RtspServer
from rtp_helpers import WAIT, assert_continuous, collect_units, decode_sizes

SPEC = ClipSpec(width=160, height=120, fps=30.0, bitrate=150_000, gop=6, seconds=0.4)
ALT = ClipSpec(width=96, height=64, fps=30.0, bitrate=150_000, gop=6, seconds=0.4)


@pytest.fixture(scope="module")
def clips(camera_clip_cache: Path) -> dict[str, Clip]:  # noqa: F811
    return {"main": load_clip(SPEC, camera_clip_cache), "alt": load_clip(ALT, camera_clip_cache)}


@asynccontextmanager
async def serving(clip: Clip) -> AsyncIterator[tuple[RtspServer, Camera]]:
    camera = Camera("cam0", clip, seed=1)
    server = RtspServer({"cam0": camera}.get, port=0, seed=7)
    await server.start()
    try:
        yield server, camera
    finally:
        await server.stop()


def run(clip: Clip, body: Callable[[RtspServer, Camera], Awaitable[None]]) -> None:
    async def main() -> None:
        async with serving(clip) as (server, camera):
            await asyncio.wait_for(body(server, camera), 30)
    asyncio.run(main())


@pytest.mark.parametrize("tcp", [True, False], ids=["tcp", "udp"])
def test_stream_is_continuous_across_loops_and_decodes(clips: dict[str, Clip], tcp: bool) -> None:
    frames = len(clips["main"].frames)

    async def body(server: RtspServer, camera: Camera) -> None:
        client = RtspClient(server.url("cam0"))
        await client.start(tcp=tcp)
        units = await collect_units(client, 2 * frames + 3)
        await client.close()
        info = dict(kv.split("=", 1) for kv in client.rtp_info.split(";"))
        assert int(info["seq"]) == units[0].first_seq
        assert int(info["rtptime"]) == units[0].timestamp
        assert_continuous(units)
        steps = {(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(units)}
        assert steps == {3000}
        assert [u.keyframe for u in units[:7]] == [True] + [False] * 5 + [True]
        assert decode_sizes(units) == [(160, 120)] * len(units)

    run(clips["main"], body)


def test_errors_unknown_path_bad_transport_and_missing_session(clips: dict[str, Clip]) -> None:
    async def body(server: RtspServer, camera: Camera) -> None:
        client = RtspClient(server.url("nope"))
        with pytest.raises(RtspClientError, match="404"):
            await client.start()
        await client.close()
        client = RtspClient(server.url("cam0"))
        await client.connect()
        with pytest.raises(RtspClientError, match="461"):
            await client.request("SETUP", headers={"Transport": "RTP/AVP;multicast"})
        with pytest.raises(RtspClientError, match="454"):
            await client.request("PLAY", headers={"Session": "12345"})
        assert (await client.request("GET_PARAMETER")).status == 200
        await client.close()

    run(clips["main"], body)


def test_refused_camera_and_refuse_all_drop_connections(clips: dict[str, Clip]) -> None:
    async def body(server: RtspServer, camera: Camera) -> None:
        camera.faults.refuse = True
        client = RtspClient(server.url("cam0"))
        with pytest.raises(RtspClientError, match="DESCRIBE: connection closed"):
            await client.start()
        await client.close()
        camera.faults.refuse = False
        server.refuse_all = True
        client = RtspClient(server.url("cam0"))
        with pytest.raises(RtspClientError, match="(connect|OPTIONS): connection closed"):
            await client.start()
        await client.close()

    run(clips["main"], body)


def test_reset_sends_rst_to_playing_clients(clips: dict[str, Clip]) -> None:
    async def body(server: RtspServer, camera: Camera) -> None:
        client = RtspClient(server.url("cam0"))
        await client.start()
        await collect_units(client, 2)
        assert server.reset("cam0") == 1
        with pytest.raises(ConnectionResetError):
            await collect_units(client, 1000)
        await client.close()

    run(clips["main"], body)


def test_stall_keeps_numbering_and_resumes_on_a_keyframe(clips: dict[str, Clip]) -> None:
    async def body(server: RtspServer, camera: Camera) -> None:
        client = RtspClient(server.url("cam0"))
        await client.start()
        before = await collect_units(client, 3)
        camera.faults.stall_until = asyncio.get_running_loop().time() + 0.5
        units = before + await collect_units(client, 8)
        await client.close()
        jumps = [(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(units)]
        big = [i for i, j in enumerate(jumps) if j > 3000]
        assert len(big) == 1 and jumps[big[0]] >= 0.4 * 90_000
        assert units[big[0] + 1].keyframe
        assert_continuous(units)

    run(clips["main"], body)


def test_corrupt_flips_slice_bytes_of_the_next_frames(clips: dict[str, Clip]) -> None:
    clip = clips["main"]

    async def body(server: RtspServer, camera: Camera) -> None:
        client = RtspClient(server.url("cam0"))
        await client.start()
        first = (await collect_units(client, 1))[0]
        camera.faults.corrupt_frames = 4
        units = await collect_units(client, 12)
        await client.close()
        clean = {f.payloads for f in clip.frames}
        assert sum(u.payloads not in clean for u in units) == 4
        assert units[0].timestamp != first.timestamp
        assert camera.stats.frames_corrupted == 4

    run(clip, body)


def test_resolution_change_switches_sps_in_band(clips: dict[str, Clip]) -> None:
    async def body(server: RtspServer, camera: Camera) -> None:
        client = RtspClient(server.url("cam0"))
        await client.start()
        before = await collect_units(client, 4)
        camera.clip = clips["alt"]
        after = await collect_units(client, 8)
        await client.close()
        sizes = decode_sizes(before + after)
        assert sizes[0] == (160, 120) and sizes[-1] == (96, 64)
        assert set(sizes) == {(160, 120), (96, 64)}
        assert_continuous(before + after)

    run(clips["main"], body)


def test_wait_bound_is_sane() -> None:
    assert 1 <= WAIT <= 30
