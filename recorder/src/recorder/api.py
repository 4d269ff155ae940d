"""HTTP API (aiohttp): streams, recordings, clips, storage, health and Prometheus metrics.

Every error is a JSON body ``{"error": ..., "hint": ...}``: bad input is a 4xx, and an unexpected
exception becomes a 500 JSON body rather than a traceback page.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import logging
import math
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from recorder.clip import write_clip
from recorder.config import parse_stream
from recorder.errors import (
    ConfigError,
    RecorderError,
    StreamExistsError,
    TranscodeUnavailable,
    UnknownStreamError,
)
from recorder.metrics import render_metrics
from recorder.service import Recorder

__all__ = ["MAX_CLIP_SECONDS", "build_app"]

log = logging.getLogger(__name__)
MAX_CLIP_SECONDS = 6 * 3600.0
_ROUTES_HINT = ("routes: GET /health, GET /metrics, GET|POST|DELETE /api/streams, GET /api/recordings, "
                "GET /api/clip, GET /api/storage")
RECORDER: web.AppKey[Recorder] = web.AppKey("recorder", Recorder)

_STATUS = {ConfigError: 400, StreamExistsError: 409, UnknownStreamError: 404, TranscodeUnavailable: 422}


class BadRequest(RecorderError):
    pass


def _json_error(status: int, message: str, hint: str = "") -> web.Response:
    return web.json_response({"error": message, "hint": hint}, status=status)


@web.middleware
async def errors_middleware(request: web.Request,
                            handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                            ) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as err:
        return _json_error(400, err.message, err.hint)
    except RecorderError as err:
        return _json_error(_STATUS.get(type(err), 400), err.message, err.hint)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        return _json_error(err.status, err.reason, _ROUTES_HINT)
    except Exception as err:
        log.exception("unexpected error on %s", request.path)
        return _json_error(500, f"internal error: {type(err).__name__}: {err}")


def _parse_time(raw: str | None, key: str) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            dt = datetime.fromisoformat(raw)
        except ValueError:
            raise BadRequest(f"{key}={raw!r} is not a time", hint="unix seconds or ISO 8601") from None
        value = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    if not math.isfinite(value) or value < 0:
        raise BadRequest(f"{key}={raw!r} is out of range", hint="unix seconds >= 0")
    return value


def _range(request: web.Request) -> tuple[float | None, float | None]:
    start = _parse_time(request.query.get("start"), "start")
    end = _parse_time(request.query.get("end"), "end")
    if start is not None and end is not None and end <= start:
        raise BadRequest("end must be after start", hint="swap start and end")
    return start, end


def _status_json(rec: Recorder, name: str) -> dict[str, Any]:
    body = dataclasses.asdict(rec.status(name))
    lat = rec.stream_latency(name)
    if lat is not None:
        s = lat.summary()
        body["latency"] = {"count": s.count, "p50": s.p50, "p90": s.p90, "p95": s.p95, "p99": s.p99, "max": s.max}
    return body


async def health(request: web.Request) -> web.Response:
    rec = request.app[RECORDER]
    return web.json_response({"status": "ok", "streams": len(rec.statuses()),
                              "mover_pending": rec.mover.pending()})


async def list_streams(request: web.Request) -> web.Response:
    rec = request.app[RECORDER]
    return web.json_response([_status_json(rec, s.name) for s in rec.statuses()])


async def get_stream(request: web.Request) -> web.Response:
    rec = request.app[RECORDER]
    return web.json_response(_status_json(rec, request.match_info["name"]))


async def add_stream(request: web.Request) -> web.Response:
    rec = request.app[RECORDER]
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("body is not JSON", hint='send {"name": "cam0", "url": "rtsp://..."}') from None
    stream = parse_stream(body)
    await asyncio.to_thread(rec.add_stream, stream)
    return web.json_response(_status_json(rec, stream.name), status=201)


async def delete_stream(request: web.Request) -> web.Response:
    rec = request.app[RECORDER]
    name = request.match_info.get("name") or request.query.get("name")
    if not name:
        raise BadRequest("which stream?", hint="DELETE /api/streams/NAME")
    await asyncio.to_thread(rec.remove_stream, name)
    return web.json_response({"removed": name})


async def recordings(request: web.Request) -> web.Response:
    rec = request.app[RECORDER]
    start, end = _range(request)
    stream = request.query.get("stream") or None
    segs = await asyncio.to_thread(rec.index.query, stream, start, end)
    return web.json_response([dataclasses.asdict(s) for s in segs])


async def clip(request: web.Request) -> web.StreamResponse:
    rec = request.app[RECORDER]
    stream = request.query.get("stream")
    if not stream:
        raise BadRequest("stream is required", hint="GET /api/clip?stream=cam0&start=..&end=..")
    start, end = _range(request)
    if start is None or end is None:
        raise BadRequest("start and end are required", hint="unix seconds or ISO 8601")
    if end - start > MAX_CLIP_SECONDS:
        raise BadRequest(f"range longer than {MAX_CLIP_SECONDS:.0f} s", hint="ask for a shorter clip")
    segs = await asyncio.to_thread(rec.index.query, stream, start, end)
    if not segs:
        return _json_error(404, f"no recordings of {stream} in that range", "GET /api/recordings")
    tmp = Path(tempfile.mkdtemp(prefix="clip-")) / f"{stream}.mp4"
    try:
        try:
            await asyncio.to_thread(write_clip, rec.storage, segs, tmp)
        except FileNotFoundError:
            return _json_error(409, "a segment of the range was rotated away while building the clip",
                               "retry, or ask for a more recent range")
        resp = web.StreamResponse(headers={
            "Content-Type": "video/mp4", "Content-Length": str(tmp.stat().st_size),
            "Content-Disposition": f'attachment; filename="{stream}.mp4"'})
        await resp.prepare(request)
        with tmp.open("rb") as f:  # streamed: a long clip never sits in memory whole
            while chunk := await asyncio.to_thread(f.read, 1 << 18):
                await resp.write(chunk)
        await resp.write_eof()
        return resp
    finally:
        tmp.unlink(missing_ok=True)
        tmp.parent.rmdir()


async def storage(request: web.Request) -> web.Response:
    rec = request.app[RECORDER]
    report = await asyncio.to_thread(rec.storage_report)
    usage = await asyncio.to_thread(rec.index.usage)
    return web.json_response({**dataclasses.asdict(report),
                              "streams": [dataclasses.asdict(u) for u in usage]})


async def metrics(request: web.Request) -> web.Response:
    rec = request.app[RECORDER]
    report = await asyncio.to_thread(rec.storage_report)
    text = render_metrics(rec.statuses(), rec.latency.summary(), rec.mover.stats, rec.maintainer.stats,
                          report.free, report.recordings_bytes)
    return web.Response(text=text, content_type="text/plain", charset="utf-8",
                        headers={"X-Prometheus-Format": "0.0.4"})


def build_app(rec: Recorder) -> web.Application:
    app = web.Application(middlewares=[errors_middleware])
    app[RECORDER] = rec
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/streams", list_streams)
    app.router.add_post("/api/streams", add_stream)
    app.router.add_delete("/api/streams", delete_stream)
    app.router.add_get("/api/streams/{name}", get_stream)
    app.router.add_delete("/api/streams/{name}", delete_stream)
    app.router.add_get("/api/recordings", recordings)
    app.router.add_get("/api/clip", clip)
    app.router.add_get("/api/storage", storage)
    _mount_restream(app, rec)
    return app


def _mount_restream(app: web.Application, rec: Recorder) -> None:
    if importlib.util.find_spec("recorder.restream") is None:
        return
    from recorder import restream

    setup = getattr(restream, "setup", None)
    if setup is None:
        log.info("recorder.restream has no setup(); restream not mounted")
        return
    setup(app, rec.hub, rec.cfg)
