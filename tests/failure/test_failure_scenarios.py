"""Failure injection against the live recorder (``INJECT_FAILURES=true``).

Network (TCP fault proxy between camera and recorder; veth link between namespaces), disk full
(tmpfs under storage and under the cache; inodes), pipeline errors (corrupt NAL units,
resolution change, a truncated segment after a crash, muxer write errors), resource limits
(cgroup CPU quota and memory limit, open-file limit). Every scenario asserts: no crash, no
finalised segment lost or corrupted, the fault visible in the API/metrics or the fault tool,
recovery measured and bounded; and prints its recovery time and data-loss count.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from failure_scenario import finish, needs_root, snapshot, start_recording
from netns_cameras import start_netns_cameras
from sut import CAMERA_360P, CameraProcess, Rig, proxied_url, stream_spec, wait_until
from sut_checks import decoded_frames, index_vs_files, metrics, status

from perfwatch.harness.faults import (
    CgroupLimits,
    FaultProxy,
    NetnsPair,
    fs_usage,
    nofile_limit,
    open_fds,
    tmpfs_mount,
)

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
    # the recorder learns nothing for 5 s: the watchdog (2 s) must notice, then reconnect
    finish("network slow close (5 s)", rec, before, since, record_property, bound=8.0)


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


# -- disk full -----------------------------------------------------------------------------
def _fill_bytes(directory: Path, *, leave: int = 0) -> Path:
    """Take all but ``leave`` free bytes of ``directory``'s filesystem with one ballast file,
    allocated in one call (a write loop would also eat the space the recorder frees meanwhile)."""
    ballast = directory / "ballast.bin"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        size = fs_usage(directory).free_bytes - leave
        while size > 0:
            try:
                os.posix_fallocate(fd, 0, size)
                break
            except OSError as err:
                assert err.errno == errno.ENOSPC, err
                size -= 4096
    finally:
        os.close(fd)
    return ballast


def _fill_inodes(directory: Path) -> list[Path]:
    made: list[Path] = []
    try:
        while True:
            p = directory / f"ballast-{len(made)}"
            p.touch()
            made.append(p)
    except OSError as err:
        assert err.errno == errno.ENOSPC, err
    return made


def _disk_trouble(rec: Any) -> float:
    m = metrics(rec)
    return (m.get("recorder_sweep_emergency_total", 0.0)
            + m.get('recorder_write_errors_total{stream="cam0"}', 0.0)
            + m.get("recorder_segments_failed_total", 0.0))


@needs_root
def test_disk_full_under_storage(rig: Rig, record_property: Record) -> None:
    """Storage (and its cache) on a 4 MiB tmpfs, mostly taken by a ballast file, no free-space
    floor: the recordings fill the rest until a write fails with ENOSPC; the emergency sweep then
    deletes the oldest recordings and recording resumes (the ballast stays)."""
    storage = rig.tmp / "storage"
    rig.enter(tmpfs_mount(storage, 4 * 1024 * 1024))
    _, rec = start_recording(rig, storage=storage, retention={"min_free_bytes": 1})
    before, _ = snapshot(rec)
    trouble0 = _disk_trouble(rec)
    _fill_bytes(storage, leave=400_000)
    wait_until(lambda: _disk_trouble(rec) > trouble0, 40, "ENOSPC to show in /metrics",
               interval=0.05)
    full = time.time()
    out = finish("disk full (storage tmpfs)", rec, before, full, record_property,
                 detail=f"(emergency sweeps {metrics(rec)['recorder_sweep_emergency_total']:.0f})")
    assert out.rotated > 0  # room was made by rotating the oldest, not by losing anything


@needs_root
def test_disk_full_under_cache(rig: Rig, record_property: Record) -> None:
    """The cache on its own 1 MiB tmpfs, filled: the muxer's writes and close fail with ENOSPC;
    nothing already in storage is touched; recording resumes once the cache has room."""
    cache = rig.tmp / "cache"
    rig.enter(tmpfs_mount(cache, 1024 * 1024))
    _, rec = start_recording(rig, storage=rig.tmp / "storage", cache=cache)
    before, _ = snapshot(rec)
    errors0 = status(rec, "cam0")["write_errors"]
    ballast = _fill_bytes(cache)
    wait_until(lambda: status(rec, "cam0")["write_errors"] > errors0, 20,
               "cache write errors in /api/streams")
    error = status(rec, "cam0")["last_error"]
    time.sleep(2.0)
    ballast.unlink()
    finish("disk full (cache tmpfs, muxer ENOSPC)", rec, before, time.time(), record_property,
           detail=f"(last_error: {error})")


@needs_root
def test_inodes_exhausted(rig: Rig, record_property: Record) -> None:
    """Storage on a tmpfs with few inodes, all taken by empty files: new segment files cannot be
    created (ENOSPC with bytes to spare); recording resumes when inodes are free again."""
    storage = rig.tmp / "storage"
    rig.enter(tmpfs_mount(storage, 64 * 1024 * 1024, nr_inodes=400))
    _, rec = start_recording(rig, storage=storage)
    before, _ = snapshot(rec)
    trouble0 = _disk_trouble(rec)
    ballast = _fill_inodes(storage)
    assert fs_usage(storage).free_inodes == 0
    wait_until(lambda: _disk_trouble(rec) > trouble0, 20, "inode exhaustion in /metrics")
    time.sleep(2.0)
    for p in ballast:
        p.unlink()
    finish("inodes exhausted (tmpfs nr_inodes)", rec, before, time.time(), record_property)


# -- pipeline errors -----------------------------------------------------------------------
def test_corrupt_nal_units(rig: Rig, record_property: Record) -> None:
    cams, rec = start_recording(rig)
    before, _ = snapshot(rec)
    cams.control.corrupt(0, 30)  # two seconds of frames with damaged NAL units
    time.sleep(2.5)
    since = time.time()
    finish("corrupt NAL units (30 frames)", rec, before, since, record_property,
           detail=f"(stream status: dropped {status(rec, 'cam0')['dropped']}, "
                  f"skipped {status(rec, 'cam0')['skipped']})")


def test_resolution_change(rig: Rig, record_property: Record) -> None:
    cams, rec = start_recording(rig)
    before, since = snapshot(rec)
    assert cams.control.resolution(0, 320, 180)["width"] == 320
    out = finish("resolution change 640x360 -> 320x180", rec, before, since, record_property)
    newest = rec.get("/api/recordings", stream="cam0")[-1]
    with av.open(str(rec.storage / newest["path"])) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (320, 180)
    assert out.data_loss == 0
    st = status(rec, "cam0")
    assert (st["width"], st["height"]) == (320, 180), "/api/streams shows the old resolution"


def test_truncated_segment_after_crash(rig: Rig, record_property: Record) -> None:
    """SIGKILL mid-segment leaves a partial file in the cache; we also plant a truncated copy of
    a segment there. The restarted recorder drops both, keeps every indexed segment, and records."""
    storage = rig.tmp / "storage"
    cams, rec = start_recording(rig, storage=storage)
    before, _ = snapshot(rec)
    rec.proc.send_signal(signal.SIGKILL)
    rec.proc.wait(10)
    cache = storage / ".cache"
    crashed = [p for p in cache.iterdir() if p.is_file()]  # the segment open at the kill
    whole = (storage / before[-1].path).read_bytes()
    planted = cache / "cam0-truncated.mp4"
    planted.write_bytes(whole[: len(whole) // 2])
    restarted = time.time()
    rec2 = rig.recorder([stream_spec(cams, 0)], storage=storage)
    assert not planted.exists(), "the truncated cache file survived the restart"
    assert not [p for p in crashed if p.exists()], "a crashed run's cache file survived"
    missing, unindexed = index_vs_files(rec2)
    assert not missing and not unindexed, (missing, unindexed)
    finish("truncated segment after SIGKILL", rec2, before, restarted, record_property,
           detail=f"(cache files left by the crash: {len(crashed)}, all salvaged or removed)")
    for seg in rec2.get("/api/recordings", stream="cam0"):  # salvaged ones included
        assert decoded_frames(storage / seg["path"]) > 0, seg["path"]


# -- resource limits -----------------------------------------------------------------------
@needs_root
def test_cpu_quota(rig: Rig, record_property: Record) -> None:
    _, rec = start_recording(rig)
    before, _ = snapshot(rec)
    # 1 ms of CPU per 100 ms period, the smallest CFS quota: a 360p stream averages less than
    # that, so only the recorder's bursts (segment close, validation, index) hit it, and they
    # do within a few segments; 0.03 core was never reached on an idle machine.
    with CgroupLimits(cpu_cores=0.01) as cg:
        cg.add(rec.proc.pid)
        time.sleep(6.0)
        throttled = cg.stats().nr_throttled
        cg.set_cpu_cores(None)
        lifted = time.time()
    assert throttled > 0, "the quota never throttled the recorder"
    finish("cgroup CPU quota 0.01 core", rec, before, lifted, record_property,
           detail=f"({throttled} throttled periods)")


@needs_root
def test_memory_limit(rig: Rig, record_property: Record) -> None:
    """The recorder started inside a memory cgroup, then limited to 256 KiB above its
    footprint: writing segments keeps hitting the limit (page cache reclaimed), recording goes
    on. (2 MiB of headroom was never reached in 5 s by one 360p stream on an idle machine.)"""
    cg = rig.enter(CgroupLimits(memory_bytes=1 << 40))
    _, rec = start_recording(rig, wrap=cg.wrap)
    before, _ = snapshot(rec)
    footprint = cg.memory_usage()
    cg.set_memory_limit(footprint + 256 * 1024)
    time.sleep(8.0)
    stats = cg.stats()
    assert rec.proc.poll() is None, "the recorder was killed under the memory limit"
    out = finish("cgroup memory limit (footprint + 256 KiB)", rec, before, time.time(),
                 record_property, detail=f"(footprint {footprint >> 20} MiB, limit hit "
                 f"{stats.memory_failcnt} times, OOM kills {stats.oom_kills})")
    assert stats.memory_failcnt > 0, "the limit never bit"
    assert stats.oom_kills == 0
    assert out.data_loss == 0


def test_open_file_limit(rig: Rig, record_property: Record) -> None:
    """RLIMIT_NOFILE lowered to the fds already open: new segment files, validation and
    reconnects fail with EMFILE; raising the limit again lets recording resume, and the segments
    cached during the fault are moved once descriptors are back, not dropped as invalid."""
    _, rec = start_recording(rig)
    before, _ = snapshot(rec)

    def trouble() -> float:
        m, st = metrics(rec), status(rec, "cam0")
        return (st["write_errors"] + st["reconnects"] + m["recorder_segments_invalid_total"]
                + m["recorder_segments_failed_total"] + m["recorder_segment_retries_total"])

    trouble0 = trouble()
    invalid0 = metrics(rec)["recorder_segments_invalid_total"]
    with nofile_limit(rec.proc.pid, open_fds(rec.proc.pid)):
        wait_until(lambda: trouble() > trouble0, 20, "EMFILE to show in /api/streams or /metrics")
        time.sleep(1.0)
    restored = time.time()
    finish("open-file limit (RLIMIT_NOFILE = open fds)", rec, before, restored, record_property,
           detail=f"({metrics(rec)['recorder_segment_retries_total']:.0f} mover steps retried)")
    after = metrics(rec)
    assert after["recorder_segments_invalid_total"] == invalid0, "valid segments dropped on EMFILE"
    assert after["recorder_segments_deferred_total"] == 0
