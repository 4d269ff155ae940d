"""The HTTP API of a real recorder process: validation (4xx JSON, never 500), stream management."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from recorder_fixtures import RecorderProc, free_port, start_recorder

DEAD_URL = f"rtsp://127.0.0.1:{free_port()}/nothing"


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecorderProc]:
    tmp = tmp_path_factory.mktemp("api")
    proc = start_recorder(tmp, {"storage": {"path": str(tmp / "st")}, "segment_seconds": 1,
                                "watchdog": {"stall_seconds": 1.0, "open_timeout": 1.0}})
    yield proc
    proc.stop()


def _err(r: object, status: int) -> dict[str, str]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert isinstance(body["error"], str) and body["error"] and "hint" in body
    return body  # type: ignore[no-any-return]


def test_health_metrics_storage(rec: RecorderProc) -> None:
    assert rec.get("/health")["status"] == "ok"
    assert rec.get("/api/streams") == []
    text = rec.client.get("/metrics").text
    for name in ("recorder_ingest_to_durable_seconds_bucket{le=\"+Inf\"} 0", "recorder_sweep_runs_total",
                 "# TYPE recorder_ingest_to_durable_seconds histogram", "recorder_storage_free_bytes"):
        assert name in text
    st = rec.get("/api/storage")
    assert st["total"] > 0 and st["free"] > 0 and st["streams"] == [] and st["recordings_bytes"] == 0


def test_stream_add_list_remove(rec: RecorderProc) -> None:
    r = rec.client.post("/api/streams", json={"name": "cam9", "url": DEAD_URL})
    assert r.status_code == 201 and r.json()["name"] == "cam9"
    _err(rec.client.post("/api/streams", json={"name": "cam9", "url": DEAD_URL}), 409)
    rec.wait_for(lambda: rec.get("/api/streams/cam9")["reconnects"] >= 1, 15, "a reconnect attempt")
    status = rec.get("/api/streams/cam9")
    assert status["connected"] is False and status["last_error"] and status["packets"] == 0
    assert [s["name"] for s in rec.get("/api/streams")] == ["cam9"]
    assert rec.client.delete("/api/streams/cam9").status_code == 200
    _err(rec.client.delete("/api/streams/cam9"), 404)
    _err(rec.client.get("/api/streams/cam9"), 404)
    assert rec.get("/api/streams") == []


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"name": "x"}', b'{"name": "a b", "url": "u"}',
                                  b'{"name": "x", "url": "u", "transcode": "fast"}',
                                  b'{"name": "x", "url": "u", "transcode": {"codec": "libx264", "crf": 1}}'])
def test_bad_stream_bodies_are_400(rec: RecorderProc, body: bytes) -> None:
    _err(rec.client.post("/api/streams", content=body, headers={"Content-Type": "application/json"}), 400)


def test_unavailable_encoder_is_422_at_once(rec: RecorderProc) -> None:
    r = rec.client.post("/api/streams", json={"name": "tx", "url": DEAD_URL,
                                              "transcode": {"codec": "h264_nvenc", "preset": "p4"}},
                        timeout=20)
    if r.status_code == 201:
        pytest.skip("this host has a working NVENC")
    assert "h264_nvenc" in _err(r, 422)["error"]
    assert rec.get("/api/streams") == []


@pytest.mark.parametrize("path", [
    "/api/recordings?start=yesterday", "/api/recordings?start=10&end=5", "/api/recordings?end=nan",
    "/api/recordings?start=-1", "/api/clip?start=1&end=2", "/api/clip?stream=cam0",
    "/api/clip?stream=cam0&start=0&end=999999999", "/api/clip?stream=cam0&start=5&end=5",
    "/api/streams?name=", "/api/recordings?start=2026-13-45",
])
def test_bad_queries_are_4xx_json(rec: RecorderProc, path: str) -> None:
    r = rec.client.delete(path) if path.startswith("/api/streams") else rec.client.get(path)
    assert 400 <= r.status_code < 500, r.text
    _err(r, r.status_code)


def test_unknown_route_and_method_are_json(rec: RecorderProc) -> None:
    _err(rec.client.get("/api/nope"), 404)
    _err(rec.client.put("/api/streams"), 405)
    _err(rec.client.get("/api/clip?stream=cam0&start=1000&end=1010"), 404)
    assert rec.get("/api/recordings", start="2025-11-24T16:00:00", end="2025-11-24T17:00:00") == []


def test_restream_is_mounted_when_present(rec: RecorderProc) -> None:
    import importlib.util

    if importlib.util.find_spec("recorder.restream") is None:
        pytest.skip("no restream module in this checkout")
    from recorder import restream

    if not hasattr(restream, "setup"):
        pytest.skip("restream has no setup() yet")
    assert rec.client.get("/restream").status_code == 200
