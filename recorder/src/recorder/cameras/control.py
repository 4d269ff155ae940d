"""HTTP fault control of a camera rig (aiohttp, bound to 127.0.0.1).

Every fault is a POST; ``{cam}`` is ``cam3``, ``3`` or ``all``. Replies are JSON.

    GET  /cameras                          state of every camera
    POST /cameras/{cam}/stall?seconds=S    stop sending for S s, sockets stay open; resumes on an IDR
    POST /cameras/{cam}/reset              RST the TCP connections of the camera's clients
    POST /cameras/{cam}/corrupt?frames=N   flip bytes in the slice data of the next N frames
    POST /cameras/{cam}/resolution[?width=W&height=H]
                                           switch to a clip of another size (new SPS/PPS in band);
                                           without W/H toggles between half size and the original
    POST /cameras/{cam}/refuse?on=1|0      RST new connections that ask for the camera
    POST /cameras/{cam}/down               refuse + reset: the camera is gone until /up
    POST /cameras/{cam}/up
    POST /refuse?on=1|0                    RST every new TCP connection at accept (all cameras)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from recorder.cameras.rig import CameraRig, UnknownCamera

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _number(request: web.Request, name: str, default: float | None = None) -> float:
    raw = request.query.get(name)
    if raw is None:
        if default is None:
            raise web.HTTPBadRequest(text=f'{{"error": "missing query parameter {name}"}}',
                                     content_type="application/json")
        return default
    try:
        return float(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f'{{"error": "{name} must be a number"}}',
                                 content_type="application/json") from None


def _flag(request: web.Request) -> bool:
    return request.query.get("on", "1").lower() not in ("0", "false", "no", "off")


async def _fault(rig: CameraRig, request: web.Request) -> dict[str, Any]:
    which, action = request.match_info["cam"], request.match_info["action"]
    if action == "stall":
        rig.stall(which, _number(request, "seconds"))
    elif action == "reset":
        return {"reset": rig.reset(which)}
    elif action == "corrupt":
        rig.corrupt(which, int(_number(request, "frames", 1)))
    elif action == "resolution":
        width, height = request.query.get("width"), request.query.get("height")
        spec = await rig.switch_resolution(which, int(width) if width else None,
                                           int(height) if height else None)
        return {"width": spec.width, "height": spec.height}
    elif action == "refuse":
        rig.refuse(which, _flag(request))
    elif action == "down":
        return {"reset": rig.down(which)}
    elif action == "up":
        rig.up(which)
    else:
        raise web.HTTPNotFound(text='{"error": "unknown action"}', content_type="application/json")
    return {}


def make_app(rig: CameraRig) -> web.Application:
    async def cameras(request: web.Request) -> web.StreamResponse:
        return web.json_response({"cameras": rig.state(), "rtsp_port": rig.server.port})

    async def fault(request: web.Request) -> web.StreamResponse:
        try:
            extra = await _fault(rig, request)
        except UnknownCamera:
            return web.json_response({"error": "unknown camera"}, status=404)
        return web.json_response({"ok": True, **extra})

    async def refuse_all(request: web.Request) -> web.StreamResponse:
        rig.server.refuse_all = _flag(request)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/cameras", cameras)
    app.router.add_post("/cameras/{cam}/{action}", fault)
    app.router.add_post("/refuse", refuse_all)
    return app


@dataclass(frozen=True)
class ControlServer:
    runner: web.AppRunner
    port: int

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_control(rig: CameraRig, host: str, port: int) -> ControlServer:
    """Serve the control API on ``host:port`` (0 picks a free port)."""
    runner = web.AppRunner(make_app(rig), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = runner.addresses
    return ControlServer(runner=runner, port=int(sockets[0][1]))
