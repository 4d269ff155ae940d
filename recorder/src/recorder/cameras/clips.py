"""Synthetic H.264 clips for the mock cameras: encoded once with libx264, cached on disk.

A clip is a moving test pattern (a scrolling seeded noise texture, a bouncing box and a frame
counter bar, all numpy) encoded with a fixed GOP and a VBV-capped bitrate, then split into access
units and pre-packetised into RTP payloads. The cache holds ``<key>.h264`` (Annex-B) and
``<key>.json`` (frame offsets and keyframe flags); the key hashes every parameter, so changing one
encodes a new clip and the second start of the same cameras skips encoding entirely.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from recorder.rtsp.h264 import is_keyframe, parameter_sets, split_annexb
from recorder.rtsp.rtp import RtpFrame, packetize_access_unit
from recorder.rtsp.sdp import H264Description

CACHE_FORMAT = 2
CACHE_ENV = "RECORDER_CLIP_CACHE"


class ClipError(Exception):
    """A clip could not be encoded or read back from the cache."""


@dataclass(frozen=True)
class ClipSpec:
    width: int = 1280
    height: int = 720
    fps: float = 30.0
    bitrate: int = 2_000_000
    gop: int = 30
    seconds: float = 4.0
    profile: str = "baseline"
    seed: int = 0

    @property
    def frame_count(self) -> int:
        """Frames in the clip: whole GOPs, so every loop starts on an IDR frame."""
        frames = max(1, math.ceil(self.seconds * self.fps))
        return math.ceil(frames / self.gop) * self.gop

    def key(self) -> str:
        text = json.dumps({"format": CACHE_FORMAT, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class EncodedFrame:
    data: bytes  # Annex-B access unit
    keyframe: bool


@dataclass(frozen=True)
class Clip:
    """A pre-packetised clip, ready to loop."""

    spec: ClipSpec
    description: H264Description
    frames: tuple[RtpFrame, ...]

    @property
    def byte_size(self) -> int:
        return sum(len(p) for f in self.frames for p in f.payloads)


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "perfwatch-recorder"


def _pattern(spec: ClipSpec, index: int, texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One yuv420p frame as a (h*3/2, w) uint8 array."""
    w, h = spec.width, spec.height
    offset = (index * 4) % w
    luma = texture[:h, offset:offset + w].astype(np.int16)
    luma += rng.integers(-12, 13, size=(h, w), dtype=np.int16)
    size = max(8, min(w, h) // 6)
    x = int((index * 7) % max(1, 2 * (w - size)))
    y = int((index * 5) % max(1, 2 * (h - size)))
    x = x if x < w - size else 2 * (w - size) - x
    y = y if y < h - size else 2 * (h - size) - y
    luma[y:y + size, x:x + size] = 235
    bar = (index % spec.frame_count) * w // spec.frame_count
    luma[: max(2, h // 40), :bar] = 16
    chroma = np.full((h // 2, w), 128, dtype=np.uint8)
    chroma[:, : w // 2] = (np.arange(h // 2)[:, None] * 200 // max(1, h // 2) + 20).astype(np.uint8)
    return np.vstack([np.clip(luma, 16, 235).astype(np.uint8), chroma])


def _encoder(spec: ClipSpec) -> av.video.codeccontext.VideoCodecContext:
    codec = av.CodecContext.create("libx264", "w")
    rate = Fraction(spec.fps).limit_denominator(1001)
    codec.width, codec.height = spec.width, spec.height
    codec.pix_fmt = "yuv420p"
    codec.time_base = 1 / rate
    codec.framerate = rate
    codec.bit_rate = spec.bitrate
    codec.gop_size = spec.gop
    kbps = max(1, spec.bitrate // 1000)
    codec.options = {
        "preset": "veryfast", "tune": "zerolatency", "profile": spec.profile,
        "x264-params": (f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes=0:"
                        f"vbv-maxrate={kbps}:vbv-bufsize={kbps}:sliced-threads=0:threads=2"),
    }
    return codec


def encode_clip(spec: ClipSpec) -> list[EncodedFrame]:
    """Encode the synthetic pattern (CPU-heavy: done once per spec, then cached)."""
    if spec.width % 2 or spec.height % 2:
        raise ClipError(f"resolution {spec.width}x{spec.height} must be even")
    rng = np.random.default_rng(spec.seed)
    texture = np.repeat(np.repeat(rng.integers(40, 200, size=(spec.height // 8 + 1,
                        spec.width // 4 + 1), dtype=np.uint8), 8, axis=0), 8, axis=1)
    codec = _encoder(spec)
    frames: list[EncodedFrame] = []
    for i in range(spec.frame_count):
        img = av.VideoFrame.from_ndarray(_pattern(spec, i, texture, rng), format="yuv420p")
        img.pts = i
        frames += [EncodedFrame(bytes(p), bool(p.is_keyframe)) for p in codec.encode(img)]
    frames += [EncodedFrame(bytes(p), bool(p.is_keyframe)) for p in codec.encode(None)]
    if len(frames) != spec.frame_count or not frames[0].keyframe:
        raise ClipError(f"encoder gave {len(frames)} frames for {spec.frame_count}")
    return frames


def _write_cache(spec: ClipSpec, frames: list[EncodedFrame], cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    key = spec.key()
    index, offset = [], 0
    for f in frames:
        index.append({"offset": offset, "size": len(f.data), "keyframe": f.keyframe})
        offset += len(f.data)
    tmp = cache / f".{key}.{os.getpid()}.tmp"
    tmp.write_bytes(b"".join(f.data for f in frames))
    os.replace(tmp, cache / f"{key}.h264")
    meta = {"format": CACHE_FORMAT, "spec": asdict(spec), "frames": index}
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, cache / f"{key}.json")


def _read_cache(spec: ClipSpec, cache: Path) -> list[EncodedFrame] | None:
    key = spec.key()
    try:
        meta = json.loads((cache / f"{key}.json").read_text())
        data = (cache / f"{key}.h264").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("format") != CACHE_FORMAT:
        return None
    return [EncodedFrame(data[f["offset"]:f["offset"] + f["size"]], bool(f["keyframe"]))
            for f in meta["frames"]]


def packetize_clip(spec: ClipSpec, frames: list[EncodedFrame]) -> Clip:
    units = [split_annexb(f.data) for f in frames]
    params = parameter_sets(units[0])
    if params.sps is None or params.pps is None:
        raise ClipError("first access unit carries no SPS/PPS")
    desc = H264Description(sps=params.sps, pps=params.pps, width=spec.width,
                           height=spec.height, fps=spec.fps)
    rtp = tuple(packetize_access_unit(u, keyframe=is_keyframe(u)) for u in units)
    return Clip(spec=spec, description=desc, frames=rtp)


def load_encoded(spec: ClipSpec, cache: Path | None = None) -> list[EncodedFrame]:
    """The access units of the clip for ``spec``, from the cache when present, else encoded."""
    cache = cache or default_cache_dir()
    frames = _read_cache(spec, cache)
    if frames is None:
        frames = encode_clip(spec)
        _write_cache(spec, frames, cache)
    return frames


def load_clip(spec: ClipSpec, cache: Path | None = None) -> Clip:
    """The pre-packetised clip for ``spec`` (see :func:`load_encoded`)."""
    return packetize_clip(spec, load_encoded(spec, cache))
