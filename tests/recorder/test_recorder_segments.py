"""Segmenter, mover and index on packets of a real H.264 clip (no network)."""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from recorder.index import SegmentIndex
from recorder.latency import LatencyRecorder
from recorder.mover import SegmentMover, validate_segment
from recorder.segmenter import CachedSegment, SegmentWriter, WriteFailed
from recorder_fixtures import encode_test_clip, tmpfs


def _segment_clip(clip: Path, cache: Path, seconds: float, container: str = "mp4",
                  t0: float = 1_000_000.0) -> tuple[list[CachedSegment], int, SegmentWriter]:
    with av.open(str(clip)) as src:
        video = src.streams.video[0]
        fps = float(video.average_rate)
        writer = SegmentWriter("cam0", video, cache, segment_seconds=seconds, container=container)
        segs: list[CachedSegment] = []
        n = 0
        for i, p in enumerate(src.demux(video)):
            if p.size == 0:
                continue
            n += 1
            closed = writer.write(p, t0 + i / fps)
            if closed:
                segs.append(closed)
        last = writer.close()
        if last:
            segs.append(last)
    return segs, n, writer


@pytest.mark.parametrize("container", ["mp4", "ts"])
def test_segments_cut_on_keyframes_and_keep_every_packet(tmp_path: Path, rng: np.random.Generator,
                                                         container: str) -> None:
    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=5.0, fps=15, gop=10, rng=rng)
    segs, n, writer = _segment_clip(clip, tmp_path / "cache", 1.0, container)
    assert sum(s.packets for s in segs) == n and writer.skipped == 0
    # gop 10 at 15 fps: the first keyframe at or after 1 s is frame 20 -> 20-packet segments
    assert [s.packets for s in segs] == [20, 20, 20, 15]
    for seg in segs:
        assert seg.cache_path.suffix == f".{container}" and seg.keyframes == 2 or seg.packets == 15
        assert validate_segment(seg.cache_path, seg.packets) is None
        with av.open(str(seg.cache_path)) as c:
            frames = list(c.decode(video=0))
        assert len(frames) == seg.packets
        assert seg.end - seg.start == pytest.approx(seg.packets / 15, abs=1e-6)
    starts = [s.start for s in segs]
    assert starts == sorted(starts) and segs[1].start == pytest.approx(segs[0].end, abs=1e-6)


def test_packets_before_first_keyframe_are_skipped(tmp_path: Path, rng: np.random.Generator) -> None:
    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=2.0, fps=15, gop=10, rng=rng)
    with av.open(str(clip)) as src:
        video = src.streams.video[0]
        writer = SegmentWriter("cam0", video, tmp_path / "cache", segment_seconds=10, container="mp4")
        packets = [p for p in src.demux(video) if p.size]
        for p in packets[3:]:
            assert writer.write(p, 0.0) is None
        seg = writer.close()
    assert writer.skipped == 7 and seg is not None and seg.packets == len(packets) - 10


def test_mover_makes_durable_indexes_and_measures_latency(tmp_path: Path, rng: np.random.Generator) -> None:
    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=4.0, fps=15, gop=15, rng=rng)
    t0 = 1_764_000_000.0
    segs, n, _ = _segment_clip(clip, tmp_path / "cache", 1.0, t0=t0)
    storage = tmp_path / "storage"
    index = SegmentIndex(storage / ".index" / "db.sqlite")
    lat, full = LatencyRecorder(), []
    mover = SegmentMover(storage, index, latency=lat, stream_latency=lambda _: None,
                         on_disk_full=lambda: full.append(1), clock=lambda: t0 + 100.0)
    rows = [mover.process(s) for s in segs]
    assert all(r is not None for r in rows) and not full
    assert not list((tmp_path / "cache").iterdir())
    indexed = index.query("cam0")
    assert [s.path for s in indexed] == [r.path for r in rows if r]
    assert indexed[0].path.startswith("cam0/2025-11-24/16/") and indexed[0].path.endswith(".mp4")
    assert {str(p.relative_to(storage)) for p in storage.rglob("*.mp4")} == index.paths()
    assert index.orphans(storage) == [] and sum(s.packets for s in indexed) == n
    s = lat.summary()
    assert s.count == n and s.max == pytest.approx(100.0, abs=1e-6) and s.p50 is not None
    assert index.query("cam0", start=indexed[1].start + 0.01, end=indexed[2].start + 0.01) == indexed[1:3]


def test_mover_drops_invalid_segment(tmp_path: Path, rng: np.random.Generator) -> None:
    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=2.0, fps=15, gop=15, rng=rng)
    segs, _, _ = _segment_clip(clip, tmp_path / "cache", 1.0)
    segs[0].cache_path.write_bytes(segs[0].cache_path.read_bytes()[:200])
    storage = tmp_path / "storage"
    index = SegmentIndex(storage / "db.sqlite")
    mover = SegmentMover(storage, index, latency=LatencyRecorder(), stream_latency=lambda _: None,
                         on_disk_full=lambda: None)
    assert mover.process(segs[0]) is None and mover.stats.invalid == 1
    assert mover.process(segs[1]) is not None
    assert len(index.query()) == 1 and not segs[0].cache_path.exists()


def test_cross_filesystem_move_copies_and_leaves_no_partial(tmp_path: Path,
                                                             rng: np.random.Generator) -> None:
    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=2.0, fps=15, gop=15, rng=rng)
    with tmpfs(tmp_path / "cachefs", "4m") as cache:
        segs, _, _ = _segment_clip(clip, cache, 1.0)
        storage = tmp_path / "storage"
        index = SegmentIndex(storage / "db.sqlite")
        mover = SegmentMover(storage, index, latency=LatencyRecorder(), stream_latency=lambda _: None,
                             on_disk_full=lambda: None)
        for seg in segs:
            assert mover.process(seg) is not None
        assert not list(cache.iterdir())
    assert not list(storage.rglob("*.partial"))
    assert all(validate_segment(storage / s.path, s.packets) is None for s in index.query())


def test_full_cache_raises_write_failed_and_leaves_no_file(tmp_path: Path, rng: np.random.Generator) -> None:
    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=6.0, fps=15, gop=15, size=(320, 240), rng=rng)
    with tmpfs(tmp_path / "small", "64k") as cache:
        with pytest.raises(WriteFailed) as info:
            _segment_clip(clip, cache, 30.0)
        assert info.value.errno in (errno.ENOSPC, errno.EINVAL, None)
        assert list(cache.iterdir()) == []


def test_leftover_cache_files_are_salvaged_at_start(tmp_path: Path, rng: np.random.Generator) -> None:
    from recorder.config import RecorderConfig, StorageConfig
    from recorder.service import Recorder

    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=4.0, fps=15, gop=15, rng=rng)
    storage = tmp_path / "storage"
    cache = storage / ".cache"
    segs, _, _ = _segment_clip(clip, cache, 2.0, t0=1_764_000_000.0)
    whole, cut = segs[0], segs[1]
    data = cut.cache_path.read_bytes()
    cut.cache_path.write_bytes(data[: len(data) * 2 // 3])  # a crash mid-write: tail missing
    (cache / "cam0@1764000099.000-1-1.mp4").write_bytes(b"garbage")
    rec = Recorder(RecorderConfig(storage=StorageConfig(storage, cache)))
    rec.start()
    rec.stop()
    index = SegmentIndex(storage / ".index" / "segments.db")
    got = index.query("cam0")
    assert len(got) == 2 and got[0].packets == whole.packets and 0 < got[1].packets < cut.packets
    assert got[0].start == pytest.approx(whole.start, abs=1e-3)
    assert all(validate_segment(storage / s.path, s.packets) is None for s in got)
    assert list(cache.iterdir()) == []


def test_durable_files_missing_from_the_index_are_indexed_at_start(tmp_path: Path,
                                                                    rng: np.random.Generator) -> None:
    from recorder.config import RecorderConfig, StorageConfig
    from recorder.service import Recorder

    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=2.0, fps=15, gop=15, rng=rng)
    storage = tmp_path / "storage"
    segs, _, _ = _segment_clip(clip, tmp_path / "cache", 1.0, t0=1_764_000_000.25)
    index = SegmentIndex(storage / ".index" / "segments.db")
    mover = SegmentMover(storage, index, latency=LatencyRecorder(), stream_latency=lambda _: None,
                         on_disk_full=lambda: None)
    rows = [mover.process(s) for s in segs]
    assert rows[1] is not None
    index.remove(rows[1].path)  # as if the recorder died between the rename and the insert
    (storage / "cam0" / "junk.mp4").write_bytes(b"x")
    index.close()
    rec = Recorder(RecorderConfig(storage=StorageConfig(storage, storage / ".cache")))
    rec.start()
    rec.stop()
    again = SegmentIndex(storage / ".index" / "segments.db").query("cam0")
    assert [s.path for s in again] == [r.path for r in rows if r]
    assert again[1].packets == rows[1].packets and again[1].keyframes == rows[1].keyframes
    assert again[1].start == pytest.approx(rows[1].start, abs=2e-3)
    assert again[1].end == pytest.approx(rows[1].end, abs=0.1)


def test_mp4_structure_check_counts_samples_and_catches_truncation(tmp_path: Path,
                                                                   rng: np.random.Generator) -> None:
    from recorder.mp4check import fragmented_mp4_samples

    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=3.0, fps=15, gop=10, rng=rng)
    segs, _, _ = _segment_clip(clip, tmp_path / "cache", 1.0)
    assert [fragmented_mp4_samples(s.cache_path) for s in segs] == [s.packets for s in segs]
    assert [s.deep_check for s in segs] == [True] + [False] * (len(segs) - 1)
    data = segs[1].cache_path.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 20):
        broken = tmp_path / f"cut{cut}.mp4"
        broken.write_bytes(data[:cut])
        with pytest.raises(ValueError):
            fragmented_mp4_samples(broken)
        assert validate_segment(broken, segs[1].packets, deep=False) is not None
    with pytest.raises(ValueError, match="ftyp"):
        fragmented_mp4_samples(clip)  # a plain (moov at the end) MP4 is not a segment
    assert validate_segment(segs[1].cache_path, segs[1].packets + 1, deep=False) is not None


@contextmanager
def _no_free_descriptors() -> Iterator[Callable[[], None]]:
    """RLIMIT_NOFILE lowered to 0 (every new descriptor fails with EMFILE, open ones stay);
    yields a function that lifts it again (safe from a timer thread, and called on exit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def lift() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    resource.setrlimit(resource.RLIMIT_NOFILE, (0, hard))
    try:
        yield lift
    finally:
        lift()


def _two_segments_and_a_mover(tmp_path: Path, rng: np.random.Generator, threads: int = 4
                              ) -> tuple[list[CachedSegment], SegmentIndex, SegmentMover]:
    clip = encode_test_clip(tmp_path / "clip.mp4", seconds=2.0, fps=15, gop=15, rng=rng)
    segs, _, _ = _segment_clip(clip, tmp_path / "cache", 1.0)
    storage = tmp_path / "storage"
    index = SegmentIndex(storage / "db.sqlite")
    mover = SegmentMover(storage, index, latency=LatencyRecorder(), stream_latency=lambda _: None,
                         on_disk_full=lambda: None, threads=threads)
    return segs, index, mover


def _child_retry(tmp_path: Path) -> dict[str, object]:
    segs, index, mover = _two_segments_and_a_mover(tmp_path, np.random.default_rng(20261126))
    with _no_free_descriptors() as lift:
        try:
            os.open(os.devnull, os.O_RDONLY)
            emfile = False
        except OSError as err:
            emfile = err.errno == errno.EMFILE
        timer = threading.Timer(0.25, lift)
        timer.start()
        row = mover.process(segs[0])
        timer.join()
    return {"emfile": emfile, "row": row.path if row else None, "retries": mover.stats.retries,
            "invalid": mover.stats.invalid, "indexed": [r.path for r in index.query()],
            "cached": segs[0].cache_path.exists()}


def _child_never(tmp_path: Path) -> dict[str, object]:
    segs, index, mover = _two_segments_and_a_mover(tmp_path, np.random.default_rng(20261126),
                                                   threads=1)
    mover.start()
    with _no_free_descriptors():
        mover.submit(segs[0])
        mover.stop()  # stopping cuts the retries short: the segment must stay in the cache
    return {"deferred": mover.stats.deferred, "invalid": mover.stats.invalid,
            "failed": mover.stats.failed, "cached": segs[0].cache_path.exists(),
            "indexed": len(index.query()),
            "valid": validate_segment(segs[0].cache_path, segs[0].packets) is None}


_CHILDREN = {"retry": _child_retry, "never": _child_never}


def _in_child(scenario: str, tmp_path: Path) -> dict[str, Any]:
    """Run ``scenario`` in a fresh interpreter: RLIMIT_NOFILE is per process, and at 0 here it
    would also fail other threads of the test process (servers left running by other tests)."""
    done = subprocess.run([sys.executable, __file__, scenario, str(tmp_path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_mover_retries_a_valid_segment_while_out_of_file_descriptors(tmp_path: Path) -> None:
    out = _in_child("retry", tmp_path)
    assert out["emfile"] and out["row"] is not None
    assert out["retries"] >= 1 and out["invalid"] == 0
    assert out["indexed"] == [out["row"]] and not out["cached"]


def test_mover_keeps_the_segment_cached_when_descriptors_never_come_back(tmp_path: Path) -> None:
    out = _in_child("never", tmp_path)
    assert (out["deferred"], out["invalid"], out["failed"]) == (1, 0, 0)
    assert out["cached"] and out["indexed"] == 0 and out["valid"]


if __name__ == "__main__":  # the child of _in_child
    print(json.dumps(_CHILDREN[sys.argv[1]](Path(sys.argv[2]))))
