"""The sampler on real processes: a child that burns CPU, writes a file and forks."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfwatch.errors import HarnessError
from perfwatch.monitor.metrics import summarize
from perfwatch.monitor.sampler import Sampler, TreeReader

CHILD = """
import os, subprocess, sys, time
out = open(sys.argv[1], "wb")
sub = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
deadline = time.time() + 30
while time.time() < deadline:
    for _ in range(20000):
        pass
    out.write(b"x" * 65536); out.flush(); os.fsync(out.fileno())
    time.sleep(0.005)
"""


@pytest.fixture
def busy_tree(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "out.bin")])
    try:
        yield proc
    finally:
        import psutil

        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
        proc.kill()
        proc.wait()


class StepClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now


def test_reader_sees_tree_cpu_and_writes(busy_tree: subprocess.Popen[bytes]) -> None:
    import time

    clock = StepClock()
    reader = TreeReader(busy_tree.pid, clock=clock, detail_every=1, rescan_every=1)
    time.sleep(0.5)  # let the child start its grandchild
    first = reader.read()
    time.sleep(0.5)
    second = reader.read()
    assert second.t - first.t == 0.25  # the injected clock, not the wall
    assert len(second.processes) == 2
    root = next(p for p in second.processes if p.pid == busy_tree.pid)
    before = next(p for p in first.processes if p.pid == busy_tree.pid)
    assert root.write_bytes > before.write_bytes
    assert root.write_count > before.write_count
    assert root.cpu_user + root.cpu_system > before.cpu_user + before.cpu_system
    assert root.uss is not None and 0 < root.uss <= root.rss
    assert root.open_files is not None and root.open_files >= 1
    s = summarize([first, second])
    assert s.cpu_percent > 0 and s.write_bytes_per_s > 0


def test_background_sampler_collects_and_reports_its_cost(
    busy_tree: subprocess.Popen[bytes],
) -> None:
    import time

    with Sampler(TreeReader(busy_tree.pid), rate_hz=50) as sampler:
        time.sleep(0.5)
    snaps = sampler.snapshots
    assert len(snaps) >= 5
    assert all(b.t > a.t for a, b in itertools.pairwise(snaps))
    assert sampler.self_cpu_seconds > 0


def test_missing_process_is_a_harness_error() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    with pytest.raises(HarnessError, match="cannot monitor"):
        TreeReader(proc.pid)


def test_procfs_parsers_handle_odd_names() -> None:
    from perfwatch.monitor.procfs import parse_io, parse_stat

    stat = b"42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3"
    user, system = parse_stat(stat)
    assert (user * 100, system * 100) == pytest.approx((250, 50))  # CLK_TCK is 100 on Linux
    io = parse_io(b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\n")
    assert (io["syscr"], io["syscw"], io["read_bytes"], io["write_bytes"]) == (3, 4, 5, 6)


def test_fast_and_psutil_reads_agree(busy_tree: subprocess.Popen[bytes]) -> None:
    import psutil

    from perfwatch.monitor.procfs import ProcFiles
    from perfwatch.monitor.sampler import read_fast, read_process

    files = ProcFiles(busy_tree.pid)
    try:
        proc = psutil.Process(busy_tree.pid)
        slow = read_process(proc, detail=False)
        fast = read_fast(proc, files)
    finally:
        files.close()
    assert fast.pid == slow.pid and fast.create_time == slow.create_time
    assert fast.cpu_user >= slow.cpu_user and fast.write_bytes >= slow.write_bytes
    assert abs(fast.rss - slow.rss) < 64 * 1024 * 1024
