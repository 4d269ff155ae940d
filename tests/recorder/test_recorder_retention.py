"""Retention by age and quota, and the free-space sweep on a real (tmpfs) filesystem."""

from __future__ import annotations

import shutil
from pathlib import Path

from recorder.config import RetentionConfig
from recorder.index import Segment, SegmentIndex
from recorder.retention import StorageMaintainer
from recorder_fixtures import tmpfs

T0 = 1_764_000_000.0


def _fill(storage: Path, index: SegmentIndex, n: int, size: int, streams: tuple[str, ...]) -> list[Segment]:
    segs = []
    for i in range(n):
        stream = streams[i % len(streams)]
        rel = f"{stream}/2025-11-24/16/{i:06d}.mp4"
        (storage / rel).parent.mkdir(parents=True, exist_ok=True)
        (storage / rel).write_bytes(b"\0" * size)
        seg = Segment(stream, rel, T0 + 10 * i, T0 + 10 * i + 10, size, 300, 10)
        index.add(seg)
        segs.append(seg)
    return segs


def _consistent(storage: Path, index: SegmentIndex) -> bool:
    on_disk = {str(p.relative_to(storage)) for p in storage.rglob("*.mp4")}
    return on_disk == index.paths()


def test_age_and_quota_delete_oldest_first(tmp_path: Path) -> None:
    index = SegmentIndex(tmp_path / ".index" / "db")
    segs = _fill(tmp_path, index, 20, 1000, ("a", "b"))
    now = T0 + 10 * 20 + 3600  # one hour after the last segment ended
    cfg = RetentionConfig(max_age_hours=(3600 + 140) / 3600, max_bytes=10_000)
    m = StorageMaintainer(tmp_path, index, cfg, rate=lambda: 0.0, clock=lambda: now)
    assert m.run_once() == 10
    left = index.query()
    assert [s.path for s in left] == [s.path for s in segs[10:]]  # age removed 0..4, quota 5..9
    assert m.stats.deleted == {"age": 5, "quota": 5} and m.stats.deleted_bytes == 10_000
    assert _consistent(tmp_path, index)
    assert m.run_once() == 0


def test_free_space_sweep_on_small_filesystem(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        index = SegmentIndex(tmp_path / "db")
        segs = _fill(disk, index, 30, 100_000, ("a", "b", "c"))
        free_before = shutil.disk_usage(disk).free
        floor = free_before + 1_000_000
        m = StorageMaintainer(disk, index, RetentionConfig(min_free_bytes=floor), rate=lambda: 0.0,
                              clock=lambda: T0)
        deleted = m.run_once()
        assert shutil.disk_usage(disk).free >= floor
        assert 10 <= deleted <= 12  # ~1 MB of 100 kB files, oldest first over all streams
        assert [s.path for s in index.query()] == [s.path for s in segs[deleted:]]
        assert _consistent(disk, index) and m.stats.deleted == {"free_space": deleted}


def test_automatic_floor_rotates_a_small_disk_without_emptying_it(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        index = SegmentIndex(tmp_path / "db")
        _fill(disk, index, 36, 100_000, ("a",))
        # 1 MB/s: an hour would be 3.6 GB, so the floor is the cap, a quarter of the disk
        m = StorageMaintainer(disk, index, RetentionConfig(), rate=lambda: 1e6, clock=lambda: T0)
        m.run_once()
        usage = shutil.disk_usage(disk)
        assert usage.free >= 0.25 * usage.total and len(index.query()) >= 20
        assert _consistent(disk, index)


def test_emergency_request_frees_room_even_with_a_tiny_floor(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        index = SegmentIndex(tmp_path / "db")
        _fill(disk, index, 40, 100_000, ("a",))  # about full, as when a write hit ENOSPC
        m = StorageMaintainer(disk, index, RetentionConfig(min_free_bytes=1), rate=lambda: 10_000.0,
                              clock=lambda: T0)
        assert m.run_once() == 0  # the floor is met: nothing to do
        m.request_sweep()  # as after ENOSPC
        deleted = m.run_once()
        usage = shutil.disk_usage(disk)
        assert deleted >= 1 and usage.free >= 0.05 * usage.total
        assert usage.free < 0.5 * usage.total + 100_000  # rotated, not emptied
        assert m.stats.deleted == {"disk_full": deleted} and m.stats.emergency_runs == 1
        assert m.run_once() == 0 and _consistent(disk, index)
