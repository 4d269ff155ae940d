"""Pure metrics on canned snapshots (psutil's mock tests in spirit: no real processes)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from perfwatch.monitor.metrics import cpu_percent, slope, summarize
from perfwatch.monitor.records import DiskCounters, GpuCounters, ProcessCounters, Snapshot


def proc(pid: int, *, cpu: float = 0.0, rss: int = 0, wb: int = 0, wc: int = 0,
         uss: int | None = None, fds: int = 3, ctx: int = 0,
         created: float = 1.0) -> ProcessCounters:
    """Counters as the sampler reads them: the costly ones only when ``uss`` is given."""
    detail = uss is not None
    return ProcessCounters(
        pid=pid, create_time=created, name="p", cpu_user=cpu * 0.75, cpu_system=cpu * 0.25,
        rss=rss, uss=uss, read_bytes=0, write_bytes=wb, read_count=0, write_count=wc,
        ctx_voluntary=ctx if detail else None, ctx_involuntary=ctx if detail else None,
        num_fds=fds if detail else None, open_files=1 if detail else None,
        threads=2 if detail else None,
    )


def disk(wb: int) -> DiskCounters:
    return DiskCounters(read_bytes=0, write_bytes=wb, read_count=0, write_count=wb // 4096,
                        read_time_ms=0, write_time_ms=0)


def test_cpu_percent_is_per_interval_share_of_one_core() -> None:
    snaps = [Snapshot(t=0.0, processes=(proc(1, cpu=0.0),)),
             Snapshot(t=1.0, processes=(proc(1, cpu=0.5),)),
             Snapshot(t=3.0, processes=(proc(1, cpu=2.5),))]
    np.testing.assert_allclose(cpu_percent(snaps), [50.0, 100.0])


def test_child_exit_does_not_make_cpu_negative_and_new_child_counts_fully() -> None:
    a = Snapshot(t=0.0, processes=(proc(1, cpu=1.0), proc(2, cpu=5.0)))
    b = Snapshot(t=1.0, processes=(proc(1, cpu=1.2),))  # child 2 exited
    c = Snapshot(t=2.0, processes=(proc(1, cpu=1.4), proc(3, cpu=0.3)))  # child 3 born
    np.testing.assert_allclose(cpu_percent([a, b, c]), [20.0, 50.0])


def test_reused_pid_is_a_new_process() -> None:
    a = Snapshot(t=0.0, processes=(proc(7, cpu=9.0, created=1.0),))
    b = Snapshot(t=1.0, processes=(proc(7, cpu=0.4, created=5.0),))
    np.testing.assert_allclose(cpu_percent([a, b]), [40.0])


def test_summary_peaks_rates_and_slopes() -> None:
    snaps = [
        Snapshot(t=float(i), processes=(proc(1, cpu=0.1 * i, rss=1000 + 100 * i, wb=4096 * i,
                                             wc=2 * i, uss=500 + i if i % 2 == 0 else None,
                                             fds=3 + i, ctx=5 * i),),
                 disk=disk(8192 * i))
        for i in range(11)
    ]
    s = summarize(snaps)
    assert s.duration == 10.0
    assert s.cpu_percent == pytest.approx(10.0)
    assert s.cpu_user_seconds == pytest.approx(0.75)
    assert s.peak_rss == 2000.0
    assert s.peak_uss == 510.0
    assert s.write_bytes_per_s == pytest.approx(4096.0)
    assert s.write_ops_per_s == pytest.approx(2.0)
    assert s.rss_slope == pytest.approx(100.0)
    assert s.fd_slope == pytest.approx(1.0)
    assert s.max_fds == 13.0
    assert s.max_threads == 2.0
    assert s.ctx_switches_per_s == pytest.approx(10.0)
    assert s.disk_write_bytes_per_s == pytest.approx(8192.0)
    assert s.disk_write_ops_per_s == pytest.approx(2.0)
    assert math.isnan(s.gpu_encoder_util)


def test_flat_memory_has_zero_slope_under_noise(rng: np.random.Generator) -> None:
    t = np.arange(200, dtype=np.float64) * 0.1
    flat = 1e8 + rng.normal(0, 1e5, t.size)
    leaking = flat + 2e5 * t
    assert abs(slope(t, flat)) < 2e4
    assert slope(t, leaking) == pytest.approx(2e5, rel=0.1)
    assert math.isnan(slope(t[:1], flat[:1]))


def test_gpu_counters_are_averaged_when_present() -> None:
    gpu = GpuCounters(index=0, name="NVIDIA L4", gpu_util=10, memory_used=1, encoder_util=40,
                      encoder_sessions=3, encoder_fps=30)
    snaps = [Snapshot(t=0.0, processes=(proc(1),), gpus=(gpu,)),
             Snapshot(t=1.0, processes=(proc(1),), gpus=(replace(gpu, encoder_util=60,
                                                                   encoder_sessions=4),))]
    s = summarize(snaps)
    assert s.gpu_encoder_util == 50.0
    assert s.gpu_encoder_sessions == 4.0


def test_rates_need_increasing_times() -> None:
    a = Snapshot(t=1.0, processes=(proc(1),))
    with pytest.raises(ValueError):
        cpu_percent([a])
    with pytest.raises(ValueError):
        cpu_percent([a, a])
