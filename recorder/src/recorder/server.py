"""``python -m recorder serve``: run the recorder and its HTTP API until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from aiohttp import web

from recorder.api import build_app
from recorder.config import load_config
from recorder.service import Recorder

__all__ = ["serve"]

log = logging.getLogger(__name__)


async def _serve(config: Path, host: str | None, port: int | None) -> None:
    cfg = load_config(config)
    rec = Recorder(cfg)
    rec.start()
    runner = web.AppRunner(build_app(rec), access_log=None)
    await runner.setup()
    bind_host = host or cfg.api.host
    bind_port = cfg.api.port if port is None else port
    site = web.TCPSite(runner, bind_host, bind_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await site.start()
        log.info("recorder listening on http://%s:%d", bind_host, bind_port)
        await stop.wait()
    finally:
        await runner.cleanup()
        await asyncio.to_thread(rec.stop)
        log.info("recorder stopped")


def serve(config: Path, *, host: str | None = None, port: int | None = None) -> int:
    asyncio.run(_serve(config, host, port))
    return 0
