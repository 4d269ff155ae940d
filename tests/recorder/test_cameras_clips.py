"""Clip encoding and the on-disk clip cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from recorder.cameras import clips
from recorder.cameras.clips import ClipSpec, load_clip, load_encoded
from recorder.rtsp.h264 import NAL_IDR, nal_type, split_annexb
from recorder.rtsp.rtp import MAX_PAYLOAD

SPEC = ClipSpec(width=128, height=96, fps=20.0, bitrate=120_000, gop=8, seconds=0.5, seed=3)


def test_clip_is_whole_gops_with_idr_every_gop(tmp_path: Path) -> None:
    frames = load_encoded(SPEC, tmp_path)
    assert SPEC.frame_count == 16 and len(frames) == 16
    assert [f.keyframe for f in frames] == ([True] + [False] * 7) * 2
    for frame in frames[::8]:
        types = [nal_type(n) for n in split_annexb(frame.data)]
        assert {7, 8, NAL_IDR} <= set(types)


def test_packetised_clip_fits_the_mtu_and_marks_keyframes(tmp_path: Path) -> None:
    clip = load_clip(SPEC, tmp_path)
    assert clip.description.width == 128 and clip.description.sps[0] & 0x1F == 7
    assert all(len(p) <= MAX_PAYLOAD for f in clip.frames for p in f.payloads)
    assert [f.keyframe for f in clip.frames[:9]] == [True] + [False] * 7 + [True]


def test_second_load_reads_the_cache_without_encoding(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_clip(SPEC, tmp_path)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".h264", ".json"]

    def fail(spec: ClipSpec) -> None:
        raise AssertionError("encoded again")

    monkeypatch.setattr(clips, "encode_clip", fail)
    assert load_clip(SPEC, tmp_path).frames == first.frames


def test_cache_key_covers_every_parameter_and_bad_entries_reencode(tmp_path: Path) -> None:
    other = ClipSpec(width=128, height=96, fps=20.0, bitrate=120_000, gop=8, seconds=0.5, seed=4)
    assert other.key() != SPEC.key()
    load_encoded(SPEC, tmp_path)
    (tmp_path / f"{SPEC.key()}.json").write_text("{not json")
    assert len(load_encoded(SPEC, tmp_path)) == 16


def test_odd_resolution_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(clips.ClipError, match="even"):
        load_encoded(ClipSpec(width=127, height=96, gop=8, seconds=0.2), tmp_path)
