"""API operation sequences against a live recorder: add/list/remove/re-add, ranges, clips,
concurrent calls, hypothesis stateful sequences and bad requests (4xx, JSON error, never 500)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sut import CAMERA_360P, CameraProcess, RecorderProc, Rig, stream_spec
from sut_checks import decoded_frames, recordings, wait_segments


@dataclass(frozen=True)
class Live:
    cams: CameraProcess
    rec: RecorderProc


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, clip_cache: Path) -> Iterator[Live]:
    rig = Rig(tmp_path_factory.mktemp("api"), clip_cache)
    try:
        cams = rig.cameras(CAMERA_360P)
        rec = rig.recorder([stream_spec(cams, 0, name="base")], segment_seconds=1.0)
        wait_segments(rec, "base", 5, timeout=60)
        yield Live(cams, rec)
    finally:
        rig.close()


def _names(rec: RecorderProc) -> set[str]:
    return {s["name"] for s in rec.get("/api/streams")}


@pytest.mark.timeout(120)
def test_add_list_remove_readd(live: Live) -> None:
    rec, spec = live.rec, stream_spec(live.cams, 1, name="extra")
    assert rec.client.post("/api/streams", json=spec).status_code == 201
    assert rec.client.post("/api/streams", json=spec).status_code == 409
    assert "extra" in _names(rec)
    wait_segments(rec, "extra", 1, timeout=30)
    assert rec.client.delete("/api/streams/extra").status_code == 200
    assert "extra" not in _names(rec)
    assert rec.client.get("/api/streams/extra").status_code == 404
    assert rec.client.delete("/api/streams/extra").status_code == 404
    readded = time.time()
    assert rec.client.post("/api/streams", json=spec).status_code == 201
    wait_segments(rec, "extra", 1, timeout=30, after=readded)  # records again after re-add
    assert rec.client.delete("/api/streams/extra").status_code == 200


def test_recordings_by_range(live: Live) -> None:
    segs = recordings(live.rec, "base")
    lo, hi = segs[1].start, segs[3].end
    inside = recordings(live.rec, "base", start=lo, end=hi)
    assert inside and all(s.end > lo and s.start < hi for s in inside)
    assert {s.path for s in segs[1:4]} <= {s.path for s in inside}
    assert segs[0].path not in {s.path for s in inside} or segs[0].end > lo
    iso = live.rec.client.get("/api/recordings", params={
        "stream": "base", "start": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(lo - 1))})
    assert iso.status_code == 200 and len(iso.json()) >= 3


def test_clip_download_is_decodable(live: Live) -> None:
    segs = recordings(live.rec, "base")[1:4]
    resp = live.rec.client.get("/api/clip", params={
        "stream": "base", "start": segs[0].start, "end": segs[-1].end})
    assert resp.status_code == 200 and resp.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(resp.content)) as clip:
        frames = sum(1 for _ in clip.decode(video=0))
    expected = sum(decoded_frames(live.rec.storage / s.path) for s in segs)
    assert frames >= expected


def test_concurrent_calls_all_answer(live: Live) -> None:
    paths = ["/api/streams", "/api/recordings", "/api/storage", "/metrics", "/health",
             "/api/streams/base"] * 12

    def call(path: str) -> int:
        with httpx.Client(base_url=live.rec.base_url, timeout=30) as c:
            return c.get(path).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(call, paths))
    assert codes == [200] * len(paths)


BAD_REQUESTS = [
    ("POST", "/api/streams", {"content": b"not json"}),
    ("POST", "/api/streams", {"json": {"name": "x"}}),
    ("POST", "/api/streams", {"json": {"name": "bad name!", "url": "rtsp://127.0.0.1:1/x"}}),
    ("POST", "/api/streams", {"json": ["a", "list"]}),
    ("POST", "/api/streams", {"json": {"name": "n", "url": "rtsp://x", "options": 3}}),
    ("POST", "/api/streams", {"json": {"name": "base", "url": "rtsp://127.0.0.1:1/x"}}),
    ("GET", "/api/streams/nope", {}),
    ("DELETE", "/api/streams/nope", {}),
    ("GET", "/api/recordings", {"params": {"start": "yesterday"}}),
    ("GET", "/api/recordings", {"params": {"start": "10", "end": "5"}}),
    ("GET", "/api/recordings", {"params": {"start": "-5"}}),
    ("GET", "/api/recordings", {"params": {"start": "nan"}}),
    ("GET", "/api/clip", {}),
    ("GET", "/api/clip", {"params": {"stream": "base"}}),
    ("GET", "/api/clip", {"params": {"stream": "base", "start": "0", "end": "99999999"}}),
    ("GET", "/api/clip", {"params": {"stream": "nope", "start": "1", "end": "2"}}),
    ("GET", "/api/no-such-route", {}),
    ("PUT", "/api/streams", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), BAD_REQUESTS)
def test_bad_requests_get_4xx_json(live: Live, method: str, path: str, kwargs: dict) -> None:  # type: ignore[type-arg]
    resp = live.rec.client.request(method, path, **kwargs)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    assert "error" in resp.json()


STREAM_NAMES = st.sampled_from(["s1", "s2", "s3"])


class StreamsMachine(RuleBasedStateMachine):
    """Random add/remove/get/list sequences; the model is the set of added names."""

    live: Live

    def __init__(self) -> None:
        super().__init__()
        self.rec = self.live.rec
        self.model: set[str] = set()

    @rule(name=STREAM_NAMES, cam=st.integers(0, 1))
    def add(self, name: str, cam: int) -> None:
        resp = self.rec.client.post("/api/streams", json=stream_spec(self.live.cams, cam, name=name))
        assert resp.status_code == (409 if name in self.model else 201), resp.text
        self.model.add(name)

    @rule(name=STREAM_NAMES)
    def remove(self, name: str) -> None:
        resp = self.rec.client.delete(f"/api/streams/{name}")
        assert resp.status_code == (200 if name in self.model else 404), resp.text
        self.model.discard(name)

    @rule(name=STREAM_NAMES)
    def get(self, name: str) -> None:
        resp = self.rec.client.get(f"/api/streams/{name}")
        assert resp.status_code == (200 if name in self.model else 404)
        if name in self.model:
            assert resp.json()["name"] == name

    @rule(start=st.floats(0, 4e9), length=st.floats(0.001, 1e5))
    def ranges(self, start: float, length: float) -> None:
        resp = self.rec.client.get("/api/recordings", params={"start": start, "end": start + length})
        assert resp.status_code == 200
        assert all(r["end"] > start and r["start"] < start + length for r in resp.json())

    @invariant()
    def listed_equals_model(self) -> None:
        assert _names(self.rec) - {"base"} == self.model

    def teardown(self) -> None:
        for name in self.model:
            self.rec.client.delete(f"/api/streams/{name}")


@pytest.mark.timeout(300)
def test_stateful_stream_sequences(live: Live) -> None:
    StreamsMachine.live = live
    run_state_machine_as_test(StreamsMachine, settings=settings(
        max_examples=12, stateful_step_count=8, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck), database=None))
    assert _names(live.rec) == {"base"}
