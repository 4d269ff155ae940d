"""``python -m recorder serve --config FILE`` | ``python -m recorder cameras ...``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from recorder.errors import RecorderError

__all__ = ["main"]


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="recorder serve", description="Record the configured streams.")
    parser.add_argument("--config", type=Path, required=True, help="TOML or JSON config file")
    parser.add_argument("--host", default=None, help="override api.host")
    parser.add_argument("--port", type=int, default=None, help="override api.port (0: any free port)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from recorder.server import serve

    return serve(args.config, host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m recorder {serve,cameras} ...")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    try:
        if command == "serve":
            return _serve(rest)
        if command == "cameras":
            from recorder.cameras.cli import main as cameras_main

            return cameras_main(rest)
    except RecorderError as err:
        print(f"recorder: {err}", file=sys.stderr)
        return 2
    print(f"recorder: unknown command {command!r}; use serve or cameras", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
