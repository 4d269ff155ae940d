"""perfwatch's own parts on the live recorder: the monitor samples its process tree while it
records, and the py-spy hook profiles it; both see the recorder's real work."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from sut import CAMERA_360P, Rig, stream_spec
from sut_checks import wait_segments

from perfwatch.harness.profiling import PySpy
from perfwatch.monitor import Sampler, TreeReader, summarize


@pytest.mark.timeout(180)
def test_monitor_and_profile_a_recording_recorder(rig: Rig) -> None:
    cams = rig.cameras(replace(CAMERA_360P, count=2))
    rec = rig.recorder([stream_spec(cams, i) for i in range(2)])
    wait_segments(rec, "cam1", 2, timeout=60)
    written0 = rec.get("/api/storage")["recordings_bytes"]
    with Sampler(TreeReader(rec.proc.pid, detail_every=2), rate_hz=5) as sampler, \
            PySpy(rec.proc.pid, rig.tmp / "profile", name="recorder", rate=50,
                  formats=("speedscope",), idle=True) as spy:
        time.sleep(4.0)
    usage = summarize(sampler.snapshots)
    assert usage.cpu_percent > 0 and usage.peak_rss > 20 * 2**20
    assert usage.max_fds > 0 and usage.max_threads >= 3  # ingest workers, mover, maintainer
    assert rec.get("/api/storage")["recordings_bytes"] > written0  # it recorded meanwhile

    profile = json.loads(spy.artifacts["speedscope"].read_text())
    files = {f.get("file", "") for f in profile["shared"]["frames"]}
    assert any("/recorder/" in f for f in files), "no recorder frames in the profile"
    assert sum(len(p["samples"]) for p in profile["profiles"]) > 50
