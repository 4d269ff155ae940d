"""perfwatch serve: a real process serving html_dir on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.request import urlopen

import pytest
from dashboard_planted import Published

from perfwatch.commands.serve import make_server
from perfwatch.errors import ConfigError


def test_serve_prints_url_and_serves_dashboard(published: Published) -> None:
    html = published.project.html_dir
    proc = subprocess.Popen([sys.executable, "-m", "perfwatch", "serve", "--html-dir", str(html),
                             "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("perfwatch serve: http://127.0.0.1:")
        url = line.split()[2]
        with urlopen(url + "perfwatch/index.html", timeout=10) as resp:
            assert resp.status == 200 and b"perfwatch findings" in resp.read()
        with urlopen(url + "regressions.json", timeout=10) as resp:
            assert b"bench_ingest.time_remux" in resp.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_needs_a_published_dashboard(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run `perfwatch publish` first"):
        make_server(tmp_path, 0)


def test_server_binds_loopback_only(published: Published) -> None:
    server = make_server(published.project.html_dir, 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()
