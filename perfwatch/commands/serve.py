"""``perfwatch serve``: serve the published dashboard on 127.0.0.1."""

from __future__ import annotations

import argparse
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from perfwatch.adapters.asv_config import find_config, load_asv_config
from perfwatch.errors import ConfigError

__all__ = ["add_parser", "make_server", "run"]


def add_parser(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the published dashboard on 127.0.0.1",
        description="Serve html_dir (from asv.conf.json, or --html-dir) on 127.0.0.1 until "
        "interrupted. Run `perfwatch publish` first.",
    )
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="asv.conf.json (default: the one in the current directory)")
    p.add_argument("--html-dir", type=Path, default=None, metavar="DIR",
                   help="serve this directory instead of the config's html_dir")
    p.add_argument("--port", type=int, default=8080, help="TCP port (0: any free port)")
    p.set_defaults(func=run)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        del format, args


def make_server(html_dir: Path, port: int) -> ThreadingHTTPServer:
    """A threaded static file server for ``html_dir`` bound to 127.0.0.1."""
    if not (html_dir / "index.html").is_file():
        raise ConfigError(f"{html_dir} has no index.html",
                          hint="run `perfwatch publish` first", path=html_dir)
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as err:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {err.strerror}",
                          hint="pick another --port (0 picks a free one)") from None


def run(args: argparse.Namespace) -> int:
    html_dir = args.html_dir or load_asv_config(find_config(args.config, cwd=Path.cwd())).html_dir
    server = make_server(html_dir.resolve(), args.port)
    host, port = "127.0.0.1", server.server_port
    print(f"perfwatch serve: http://{host}:{port}/ (perfwatch pages: "
          f"http://{host}:{port}/perfwatch/index.html); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
