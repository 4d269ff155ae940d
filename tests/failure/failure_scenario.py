"""What every failure scenario measures and asserts: no crash, no finalised segment lost or
corrupted, the fault visible, recovery time measured and bounded; reported to the test output,
the JUnit properties and the job summary (``recovery_s``, ``data_loss``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from sut import CAMERA_360P, CameraProcess, RecorderProc, Rig, stream_spec
from sut_checks import Seg, audit, recordings, wait_segments

from perfwatch.harness.faults import is_root

RECOVERY_BOUND_S = 6.0  # watchdog (2 s) + backoff + one 1 s segment, with room for 2 busy cores
SEGMENT_S = 1.0

needs_root = pytest.mark.skipif(
    not is_root(), reason="needs root (mounts, namespaces, cgroups): run the failure tier as root")


@dataclass(frozen=True)
class Outcome:
    scenario: str
    recovery_s: float
    data_loss: int
    checked: int
    rotated: int
    detail: str


def start_recording(rig: Rig, *, url_for: Callable[[CameraProcess], str] | None = None,
                    warm_segments: int = 3, **recorder_kwargs: object
                    ) -> tuple[CameraProcess, RecorderProc]:
    """One 360p camera recorded in 1 s segments; wait until ``warm_segments`` are durable."""
    cams = rig.cameras(replace(CAMERA_360P, count=1))
    url = url_for(cams) if url_for is not None else None
    rec = rig.recorder([stream_spec(cams, 0, url=url)], segment_seconds=SEGMENT_S,
                       **recorder_kwargs)  # type: ignore[arg-type]
    wait_segments(rec, "cam0", warm_segments, timeout=60)
    return cams, rec


def recovery_after(rec: RecorderProc, since: float, *, timeout: float = 30.0) -> float:
    """Seconds from ``since`` (unix) to the first packet of the first segment recorded after it."""
    segs = wait_segments(rec, "cam0", 1, timeout=timeout, after=since)
    return max(0.0, segs[0].start - since)


def finish(scenario: str, rec: RecorderProc, before: list[Seg], since: float,
           record_property: Callable[[str, object], None], *, detail: str = "",
           bound: float = RECOVERY_BOUND_S, decode: bool = True) -> Outcome:
    """Measure recovery from ``since``, audit ``before``, report, and assert the common bars."""
    recovery = recovery_after(rec, since)
    wait_segments(rec, "cam0", 2, timeout=30, after=since)  # recording goes on, not one lucky file
    assert rec.proc.poll() is None, f"recorder crashed (exit {rec.proc.returncode})"
    checked = audit(rec, before, decode=decode)
    outcome = Outcome(scenario, recovery, checked.data_loss, checked.checked, checked.rotated,
                      detail)
    record_property("scenario", scenario)
    record_property("recovery_s", round(recovery, 3))
    record_property("data_loss", checked.data_loss)
    print(f"[failure] {scenario}: recovery {recovery:.2f} s, data loss {checked.data_loss} "
          f"(of {checked.checked} finalised segments; {checked.rotated} rotated) {detail}")
    assert checked.data_loss == 0, checked
    assert recovery <= bound, f"{scenario}: recovery {recovery:.2f} s > {bound} s"
    return outcome


def snapshot(rec: RecorderProc) -> tuple[list[Seg], float]:
    """The finalised segments now, and the unix time of the snapshot."""
    return recordings(rec, "cam0"), time.time()
