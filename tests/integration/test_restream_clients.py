"""RTSP and WebRTC (WHEP) restream clients receive decodable frames; first-frame latency measured.

Several clients at once on two recorded streams: three RTSP readers of cam0, one of cam1, and a
WHEP session per stream. Reuses the restream helpers of tests/recorder (rtp_helpers, test_restream_e2e).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from rtp_helpers import rtsp_first_frames
from sut import CAMERA_360P, Rig, stream_spec, wait_until
from test_restream_e2e import _whep_first_frame

Record = Callable[[str, object], None]
SIZE = (640, 360)


@pytest.mark.timeout(180)
def test_rtsp_and_whep_clients_get_frames(rig: Rig, record_property: Record) -> None:
    cams = rig.cameras(CAMERA_360P)
    rec = rig.recorder([stream_spec(cams, 0), stream_spec(cams, 1)])
    wait_until(lambda: {"cam0", "cam1"} <= set(rec.get("/restream")["rtsp_urls"]), 30,
               "both streams live in the restream hub")
    urls = rec.get("/restream")["rtsp_urls"]
    readers = [urls["cam0"]] * 3 + [urls["cam1"]]
    with ThreadPoolExecutor(max_workers=len(readers)) as pool:
        rtsp = list(pool.map(lambda u: rtsp_first_frames(u, 15), readers))
    for _, sizes in rtsp:
        assert sizes == [SIZE] * 15

    async def both_whep() -> list[tuple[float, tuple[int, int]]]:
        return list(await asyncio.gather(_whep_first_frame(rec.base_url, "cam0"),
                                         _whep_first_frame(rec.base_url, "cam1")))

    whep = asyncio.run(both_whep())
    assert [size for _, size in whep] == [SIZE, SIZE]
    rtsp_first = max(latency for latency, _ in rtsp)
    whep_first = max(latency for latency, _ in whep)
    record_property("rtsp_first_frame_s", round(rtsp_first, 3))
    record_property("whep_first_frame_s", round(whep_first, 3))
    print(f"first frame (worst of {len(rtsp)} RTSP / {len(whep)} WHEP clients): "
          f"rtsp {rtsp_first * 1000:.0f} ms, whep {whep_first * 1000:.0f} ms")
    assert rec.get("/restream")["whep_sessions"] == 0  # every session was closed
    assert all(rec.get(f"/api/streams/cam{i}")["connected"] for i in range(2))
