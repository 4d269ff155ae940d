"""Fixtures of the fault-tool tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fault_echo import EchoServer


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    try:
        yield server
    finally:
        server.close()
