from __future__ import annotations

import av
import numpy as np
import pytest
from recorder.errors import TranscodeUnavailable
from recorder.transcode import check_encoder, encode_clip


def _frames(rng: np.random.Generator, n: int = 30) -> list[np.ndarray]:
    base = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return [np.roll(base, 2 * i, axis=1) for i in range(n)]


def test_encode_clip_libx264_stats(rng: np.random.Generator) -> None:
    fast = encode_clip(_frames(rng), "libx264", "ultrafast", fps=15)
    assert fast.frames == 30 and fast.packets == 30 and fast.keyframes >= 1
    assert fast.bytes > 0 and fast.seconds > 0 and fast.fps == pytest.approx(30 / fast.seconds)
    slow = encode_clip(_frames(rng), "libx264", "slow", fps=15)
    assert slow.preset == "slow" and slow.frames == 30


def test_encode_clip_accepts_video_frames(rng: np.random.Generator) -> None:
    frames = [av.VideoFrame.from_ndarray(f, format="rgb24") for f in _frames(rng, 5)]
    assert encode_clip(frames, "libx264", "veryfast").frames == 5
    with pytest.raises(ValueError):
        encode_clip([], "libx264", "veryfast")


def test_unknown_encoder_and_bad_preset_fail_clearly() -> None:
    with pytest.raises(TranscodeUnavailable, match="not available") as info:
        check_encoder("no_such_encoder")
    assert info.value.hint
    with pytest.raises(TranscodeUnavailable, match="cannot be opened"):
        check_encoder("libx264", "no-such-preset")


def _has_nvidia() -> bool:
    try:
        check_encoder("h264_nvenc", "p4")
    except TranscodeUnavailable:
        return False
    return True


@pytest.mark.timeout(30)
def test_nvenc_fails_at_once_without_gpu(rng: np.random.Generator) -> None:
    if _has_nvidia():
        pytest.skip("this host has a working NVENC")
    with pytest.raises(TranscodeUnavailable, match="h264_nvenc") as info:
        encode_clip(_frames(rng, 3), "h264_nvenc", "p4")
    assert "GPU" in info.value.hint or "available" in str(info.value)
