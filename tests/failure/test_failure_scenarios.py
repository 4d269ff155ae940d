"""Failure injection against the live recorder (``INJECT_FAILURES=true``).

Network (TCP fault proxy between camera and recorder; veth link between namespaces), disk full
(tmpfs under storage and under the cache; inodes), pipeline errors (corrupt NAL units,
resolution change, a truncated segment after a crash, muxer write errors), resource limits
(cgroup CPU quota and memory limit, open-file limit). Every scenario asserts: no crash, no
finalised segment lost or corrupted, the fault visible in the API/metrics or the fault tool,
recovery measured and bounded; and prints its recovery time and data-loss count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from failure_scenario import finish, needs_root, snapshot, start_recording
from netns_cameras import start_netns_cameras
from sut import CAMERA_360P, CameraProcess, Rig, proxied_url, wait_until
from sut_checks import metrics, status

from perfwatch.harness.faults import FaultProxy, NetnsPair

pytestmark = [pytest.mark.failure, pytest.mark.timeout(180)]
Record = Callable[[str, object], None]


def _via_proxy(rig: Rig, holder: dict[str, FaultProxy]) -> Callable[[CameraProcess], str]:
    def url_for(cams: CameraProcess) -> str:
        holder["proxy"] = proxy = rig.proxy(("127.0.0.1", cams.rtsp_port))
        return proxied_url(cams.url(0), proxy)
    return url_for


def _reconnected(rec: Any, before: int, timeout: float = 15) -> None:
    wait_until(lambda: status(rec, "cam0")["reconnects"] > before, timeout,
               "the fault to show as a reconnect in /api/streams")


# -- network -------------------------------------------------------------------------------
def test_network_cut(rig: Rig, record_property: Record) -> None:
    holder: dict[str, FaultProxy] = {}
    _, rec = start_recording(rig, url_for=_via_proxy(rig, holder))
    before, since = snapshot(rec)
    r0 = status(rec, "cam0")["reconnects"]
    assert holder["proxy"].cut() >= 1
    _reconnected(rec, r0)
    finish("network cut", rec, before, since, record_property)


def test_network_stall(rig: Rig, record_property: Record) -> None:
    holder: dict[str, FaultProxy] = {}
    _, rec = start_recording(rig, url_for=_via_proxy(rig, holder))
    before, _ = snapshot(rec)
    r0 = status(rec, "cam0")["reconnects"]
    holder["proxy"].stall()
    _reconnected(rec, r0)  # the watchdog notices the silence
    assert status(rec, "cam0")["last_error"]
    time.sleep(2.0)
    holder["proxy"].stall(False)
    finish("network stall", rec, before, time.time(), record_property)


def test_network_latency_and_jitter(rig: Rig, record_property: Record,
                                    rng: np.random.Generator) -> None:
    holder: dict[str, FaultProxy] = {}
    _, rec = start_recording(rig, url_for=_via_proxy(rig, holder))
    before, start = snapshot(rec)
    r0 = status(rec, "cam0")["reconnects"]
    holder["proxy"].set_latency(0.4, 0.15, rng=rng)
    time.sleep(5.0)
    holder["proxy"].set_latency(0.0)
    lifted = time.time()
    during = [s for s in rec.get("/api/recordings", stream="cam0") if s["start"] >= start]
    assert len(during) >= 3, "recording stopped under latency"
    assert status(rec, "cam0")["reconnects"] == r0, "latency alone must not force a reconnect"
    finish("network latency 400±150 ms", rec, before, lifted, record_property,
           detail=f"({len(during)} segments during the fault, no reconnect)")


def test_network_bandwidth_cap(rig: Rig, record_property: Record) -> None:
    holder: dict[str, FaultProxy] = {}
    _, rec = start_recording(rig, url_for=_via_proxy(rig, holder))
    before, _ = snapshot(rec)
    nominal = status(rec, "cam0")["bitrate"]
    holder["proxy"].set_bandwidth(12_000)  # bytes/s, a quarter of the stream's rate
    low = wait_until(lambda: status(rec, "cam0")["bitrate"] < 0.6 * nominal, 10,
                     "the cap to show in the stream's bitrate")
    time.sleep(3.0)
    holder["proxy"].set_bandwidth(None)
    finish("network bandwidth cap 96 kbit/s", rec, before, time.time(), record_property,
           detail=f"(bitrate fell below 60% of {nominal / 1000:.0f} kbit/s after {low:.1f} s)")


def test_network_slow_close(rig: Rig, record_property: Record) -> None:
    holder: dict[str, FaultProxy] = {}
    cams, rec = start_recording(rig, url_for=_via_proxy(rig, holder))
    before, since = snapshot(rec)
    r0 = status(rec, "cam0")["reconnects"]
    holder["proxy"].set_slow_close(5.0)  # the camera's close reaches the recorder 5 s late
    cams.control.reset(0)
    _reconnected(rec, r0)
    finish("network slow close (5 s)", rec, before, since, record_property)


@needs_root
def test_namespace_link_down(rig: Rig, record_property: Record) -> None:
    pair = rig.enter(NetnsPair())
    cams = start_netns_cameras(rig, pair, replace(CAMERA_360P, count=1))
    relay = rig.proxy((cams.host, cams.rtsp_port), socket_factory=lambda: pair.socket_in(pair.b))
    url = f"rtsp://127.0.0.1:{relay.port}/{cams.urls[0].split('/', 3)[3]}"
    rec = rig.recorder([{"name": "cam0", "url": url, "options": {"rtsp_transport": "tcp"}}])
    wait_until(lambda: len(rec.get("/api/recordings", stream="cam0")) >= 3, 60, "3 segments")
    before, _ = snapshot(rec)
    r0 = status(rec, "cam0")["reconnects"]
    pair.link_down()
    _reconnected(rec, r0)
    time.sleep(1.0)
    pair.link_up()
    finish("veth link down between namespaces", rec, before, time.time(), record_property)
