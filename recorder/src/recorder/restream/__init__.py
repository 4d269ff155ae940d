"""Restream of recorded streams: live RTSP (reusing ``recorder.rtsp``) and WebRTC by WHEP.

``setup(app, hub, config)`` mounts, on the recorder's aiohttp application:

    POST   /whep/{stream}             SDP offer in (application/sdp), 201 + SDP answer + Location
    DELETE /whep/{stream}/{session}   end a WHEP session (404 if unknown)
    GET    /restream                  {"rtsp_port": P, "rtsp_urls": {...}, "whep_sessions": N}

and starts/stops the RTSP restream server (``rtsp://host:port/<stream>``) with the app.
``config`` is the recorder's config (its ``restream`` table is used), a mapping, or None.
Keys: ``rtsp_host`` (default 127.0.0.1), ``rtsp_port`` (default 8654; 0 picks a free port),
``rtsp`` and ``whep`` (booleans, default true).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from recorder.hub import PacketHub
from recorder.restream.rtsp_out import restream_server
from recorder.restream.whep import WhepSessions, use_loopback_candidates
from recorder.rtsp.server import RtspServer

__all__ = ["RestreamConfig", "restream_config", "setup"]

SERVER_KEY = web.AppKey("restream_rtsp", RtspServer)
WHEP_KEY = web.AppKey("restream_whep", WhepSessions)


@dataclass(frozen=True)
class RestreamConfig:
    rtsp_host: str = "127.0.0.1"
    rtsp_port: int = 8654
    rtsp: bool = True
    whep: bool = True


def restream_config(config: Any) -> RestreamConfig:
    """Read the restream settings from a recorder config, a mapping or None."""
    table = getattr(config, "restream", config)
    if isinstance(config, RestreamConfig):
        return config
    if not isinstance(table, Mapping):
        return RestreamConfig()
    return RestreamConfig(rtsp_host=str(table.get("rtsp_host", "127.0.0.1")),
                          rtsp_port=int(table.get("rtsp_port", 8654)),
                          rtsp=bool(table.get("rtsp", True)), whep=bool(table.get("whep", True)))


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _whep_routes(app: web.Application, hub: PacketHub) -> None:
    use_loopback_candidates()
    sessions = WhepSessions(hub)
    app[WHEP_KEY] = sessions

    async def offer(request: web.Request) -> web.StreamResponse:
        stream = request.match_info["stream"]
        if hub.info(stream) is None:
            return _error(404, f"no live stream {stream!r}")
        if request.content_type != "application/sdp":
            return _error(415, "send the SDP offer as application/sdp")
        body = await request.text()
        if not body.startswith("v=0"):
            return _error(400, "the body is not an SDP offer")
        try:
            session = await sessions.create(stream, body)
        except ValueError as exc:
            return _error(400, str(exc))
        return web.Response(status=201, text=session.answer, content_type="application/sdp",
                            headers={"Location": f"/whep/{stream}/{session.sid}"})

    async def delete(request: web.Request) -> web.StreamResponse:
        if not await sessions.delete(request.match_info["session"]):
            return _error(404, "no such WHEP session")
        return web.Response(status=200)

    async def close(app: web.Application) -> None:
        await sessions.close_all()

    app.router.add_post("/whep/{stream}", offer)
    app.router.add_delete("/whep/{stream}/{session}", delete)
    app.on_cleanup.append(close)


def _rtsp_lifecycle(app: web.Application, hub: PacketHub, cfg: RestreamConfig) -> None:
    server = restream_server(hub, host=cfg.rtsp_host, port=cfg.rtsp_port)
    app[SERVER_KEY] = server

    async def start(app: web.Application) -> None:
        await server.start()

    async def stop(app: web.Application) -> None:
        await server.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


def setup(app: web.Application, hub: PacketHub, config: Any) -> None:
    """Mount WHEP routes and the RTSP restream server on ``app`` (see the module docstring)."""
    cfg = restream_config(config)
    if cfg.rtsp:
        _rtsp_lifecycle(app, hub, cfg)
    if cfg.whep:
        _whep_routes(app, hub)

    async def info(request: web.Request) -> web.StreamResponse:
        server = app.get(SERVER_KEY)
        whep = app.get(WHEP_KEY)
        return web.json_response({
            "rtsp_port": server.port if server else None,
            "rtsp_urls": {s: server.url(s) for s in hub.streams()} if server else {},
            "whep_sessions": len(whep.sessions) if whep else 0,
        })

    app.router.add_get("/restream", info)
