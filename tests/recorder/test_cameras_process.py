"""Mock cameras as a real subprocess: FFmpeg (PyAV and the ffmpeg CLI) records from them, and
every fault of the HTTP control API shows up on the wire."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
import sys
import urllib.error
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from camera_fixtures import (  # noqa: F401
    CameraControl,
    CameraProcess,
    camera_clip_cache,
    mock_cameras,
)
from recorder.rtsp.client import RtspClient, RtspClientError
from rtp_helpers import WAIT, ReceivedUnit, assert_continuous, collect_units

FAST_OPEN = {"rtsp_transport": "tcp", "analyzeduration": "0", "probesize": "32"}


def decoded_sizes(url: str, frames: int, transport: str = "tcp") -> list[tuple[int, int]]:
    sizes = []
    options = {**FAST_OPEN, "rtsp_transport": transport}
    with av.open(url, options=options, timeout=WAIT) as container:
        for frame in container.decode(video=0):
            sizes.append((frame.width, frame.height))
            if len(sizes) == frames:
                break
    return sizes


def test_pyav_records_every_camera(mock_cameras: CameraProcess) -> None:  # noqa: F811
    assert mock_cameras.urls == [f"rtsp://127.0.0.1:{mock_cameras.rtsp_port}/cam{i}"
                                 for i in range(2)]
    for url in mock_cameras.urls:
        assert decoded_sizes(url, 20) == [(320, 240)] * 20


def test_pyav_records_over_udp(mock_cameras: CameraProcess) -> None:  # noqa: F811
    assert decoded_sizes(mock_cameras.url(1), 10, transport="udp") == [(320, 240)] * 10


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="Debian ffmpeg not installed")
def test_ffmpeg_cli_copies_to_a_decodable_file(mock_cameras: CameraProcess,  # noqa: F811
                                               tmp_path: Path) -> None:
    out = tmp_path / "cam1.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp",
                    "-analyzeduration", "0", "-i", mock_cameras.url(1), "-frames:v", "30",
                    "-c", "copy", "-y", str(out)], check=True, timeout=60)
    with av.open(str(out)) as container:
        frames = [f for f in container.decode(video=0)]
    assert len(frames) >= 29 and frames[0].width == 320


def _stream(url: str, before: int, action: Callable[[], object],
            after: int) -> list[ReceivedUnit]:
    """Units received around ``action`` (run in a thread while the stream plays)."""
    async def body() -> list[ReceivedUnit]:
        client = RtspClient(url)
        await client.start()
        try:
            units = await collect_units(client, before)
            await asyncio.to_thread(action)
            return units + await collect_units(client, after)
        finally:
            await client.close()
    return asyncio.run(body())


def test_stall_over_http(mock_cameras: CameraProcess) -> None:  # noqa: F811
    units = _stream(mock_cameras.url(0), 2, lambda: mock_cameras.control.stall(0, 1.0), 5)
    jumps = [(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(units)]
    assert max(jumps) >= 0.8 * 90_000 and sorted(jumps)[-2] == 6000
    assert_continuous(units)


def test_reset_over_http(mock_cameras: CameraProcess) -> None:  # noqa: F811
    results: list[int] = []
    with pytest.raises(ConnectionResetError):
        _stream(mock_cameras.url(1), 2, lambda: results.append(mock_cameras.control.reset(1)),
                10_000)
    assert results == [1]


def test_corrupt_over_http(mock_cameras: CameraProcess) -> None:  # noqa: F811
    control = mock_cameras.control
    _stream(mock_cameras.url(0), 1, lambda: control.corrupt("cam0", 3), 6)
    assert control.state()[0]["frames_corrupted"] == 3
    assert control.state()[1]["frames_corrupted"] == 0


def test_resolution_change_over_http(mock_cameras: CameraProcess) -> None:  # noqa: F811
    control = mock_cameras.control
    sizes: list[tuple[int, int]] = []
    with av.open(mock_cameras.url(0), options=FAST_OPEN, timeout=WAIT) as container:
        for i, frame in enumerate(container.decode(video=0)):
            sizes.append((frame.width, frame.height))
            if i == 3:
                assert control.resolution(0) == {"ok": True, "width": 160, "height": 120}
            if sizes[-1] == (160, 120) or i > 200:
                break
    assert sizes[0] == (320, 240) and sizes[-1] == (160, 120)
    assert control.resolution(0, 240, 180)["width"] == 240
    assert decoded_sizes(mock_cameras.url(0), 3) == [(240, 180)] * 3


def test_refuse_down_up_and_refuse_all(mock_cameras: CameraProcess) -> None:  # noqa: F811
    control = mock_cameras.control

    async def describe(url: str) -> None:
        client = RtspClient(url)
        try:
            await client.start()
        finally:
            await client.close()

    control.refuse(0)
    with pytest.raises(RtspClientError, match="connection closed"):
        asyncio.run(describe(mock_cameras.url(0)))
    asyncio.run(describe(mock_cameras.url(1)))
    control.refuse(0, on=False)
    asyncio.run(describe(mock_cameras.url(0)))

    with pytest.raises(ConnectionResetError):
        _stream(mock_cameras.url(1), 2, lambda: control.down(1), 10_000)
    with pytest.raises(RtspClientError):
        asyncio.run(describe(mock_cameras.url(1)))
    control.up(1)
    assert len(decoded_sizes(mock_cameras.url(1), 2)) == 2

    control.refuse_all()
    with pytest.raises(RtspClientError, match="(connect|OPTIONS): connection closed"):
        asyncio.run(describe(mock_cameras.url(1)))
    control.refuse_all(on=False)
    asyncio.run(describe(mock_cameras.url(1)))


def test_control_errors_are_4xx(mock_cameras: CameraProcess) -> None:  # noqa: F811
    control = mock_cameras.control
    with pytest.raises(urllib.error.HTTPError) as not_found:
        control.stall(7, 1)
    assert not_found.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as bad:
        control._call("POST", "/cameras/0/stall", seconds="soon")
    assert bad.value.code == 400


def test_restart_serves_again_on_the_same_port(mock_cameras: CameraProcess) -> None:  # noqa: F811
    port = mock_cameras.rtsp_port
    mock_cameras.restart()
    assert mock_cameras.rtsp_port == port
    assert len(decoded_sizes(mock_cameras.url(1), 2)) == 2


def test_cli_dispatch_and_bad_arguments() -> None:
    from recorder.cameras.cli import main

    assert main(["--count", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["--resolution", "big"])
    proc = subprocess.run([sys.executable, "-m", "recorder", "cameras", "--help"], check=False,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--control-port" in proc.stdout
    assert isinstance(CameraControl(1).base, str)


def test_cpu_measurement_tool_runs_and_sees_every_packet(camera_clip_cache: Path,  # noqa: F811
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from recorder.cameras.measure import main

    assert main(["--count", "2", "--resolution", "160x120", "--fps", "15", "--bitrate", "100k",
                 "--seconds", "1", "--warmup", "0.5", "--cache-dir", str(camera_clip_cache)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cameras"] == 2 and report["lost_packets"] == 0
    assert report["packets_per_second"] > 0 and report["cpu_percent"] >= 0
