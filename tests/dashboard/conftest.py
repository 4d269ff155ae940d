"""Fixtures for the dashboard tests: a planted asv project published once per session."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_asvproject import AsvProject
from dashboard_planted import REGRESSION_AT, Published, build_planted

from perfwatch.adapters.asv_config import load_asv_config
from perfwatch.commands.serve import make_server
from perfwatch.publish import CompareRequest, PublishOptions, publish


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The planted project after one real `asv publish` + perfwatch publish (shared, read-only)."""
    project = build_planted(tmp_path_factory.mktemp("planted"))
    flame = project.html_dir / "perfwatch" / "profiles"
    flame.mkdir(parents=True)
    (flame / "bench_ingest.time_remux-flamegraph.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    pr = CompareRequest(project.shas[REGRESSION_AT - 1], project.shas[REGRESSION_AT])
    report = publish(load_asv_config(project.config),
                     options=PublishOptions(seed=1, compares=(pr,)))
    return Published(project, report)


@pytest.fixture
def fresh_project(tmp_path: Path, published: Published) -> AsvProject:
    """A private copy of the published project, for tests that publish again."""
    src = published.project
    dest = tmp_path / "copy"
    shutil.copytree(src.root, dest, symlinks=True)
    return AsvProject(root=dest, config=dest / "asv.conf.json", repo=dest / "repo",
                      results_dir=dest / "results", html_dir=dest / "html", shas=src.shas,
                      benchmarks=src.benchmarks, machines=src.machines)


@pytest.fixture(scope="session")
def dashboard_url(published: Published) -> Iterator[str]:
    """The published dashboard served on 127.0.0.1 (a real threaded HTTP server)."""
    server = make_server(published.project.html_dir, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
