"""The TCP fault proxy against real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from fault_echo import EchoServer, recv_exactly

from perfwatch.harness.faults import FaultProxy, FaultToolError


def _client(proxy: FaultProxy, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(proxy.address, timeout=timeout)


def test_forwards_both_ways(echo_server: EchoServer, rng: np.random.Generator) -> None:
    payload = rng.bytes(300_000)
    with FaultProxy(echo_server.address) as proxy, _client(proxy) as c:
        c.sendall(payload)
        assert recv_exactly(c, len(payload)) == payload
        stats = proxy.stats()
    assert stats.accepted == 1
    assert stats.bytes_to_upstream == len(payload) == stats.bytes_to_client


def test_cut_closes_open_connections(echo_server: EchoServer) -> None:
    with FaultProxy(echo_server.address) as proxy, _client(proxy) as c:
        c.sendall(b"ping")
        assert recv_exactly(c, 4) == b"ping"
        assert proxy.cut() == 1
        assert c.recv(10) == b""
        with _client(proxy) as again:  # new connections still work after a cut
            again.sendall(b"pong")
            assert recv_exactly(again, 4) == b"pong"
        assert proxy.stats().cuts == 1


def test_reset_sends_rst(echo_server: EchoServer) -> None:
    with FaultProxy(echo_server.address) as proxy, _client(proxy) as c:
        c.sendall(b"x")
        assert recv_exactly(c, 1) == b"x"
        assert proxy.reset() == 1
        with pytest.raises(ConnectionResetError):
            c.recv(10)


def test_stall_holds_bytes_until_released(echo_server: EchoServer) -> None:
    with FaultProxy(echo_server.address) as proxy, _client(proxy, timeout=0.5) as c:
        proxy.stall()
        c.sendall(b"held")
        with pytest.raises(TimeoutError):
            c.recv(10)
        proxy.stall(False)
        c.settimeout(5)
        assert recv_exactly(c, 4) == b"held"


def test_latency_delays_each_round_trip(echo_server: EchoServer) -> None:
    with FaultProxy(echo_server.address) as proxy, _client(proxy) as c:
        proxy.set_latency(0.15)
        start = time.monotonic()
        c.sendall(b"a")
        assert recv_exactly(c, 1) == b"a"
        # both directions are delayed: at least two latencies per round trip
        assert time.monotonic() - start >= 0.3


def test_jitter_keeps_order(echo_server: EchoServer, rng: np.random.Generator) -> None:
    messages = [f"{i:04d}".encode() for i in range(60)]
    with FaultProxy(echo_server.address) as proxy, _client(proxy) as c:
        proxy.set_latency(0.02, 0.02, rng=rng)
        for m in messages:
            c.sendall(m)
            time.sleep(0.002)
        assert recv_exactly(c, 4 * len(messages)) == b"".join(messages)


def test_jitter_needs_a_generator(echo_server: EchoServer) -> None:
    with FaultProxy(echo_server.address) as proxy, pytest.raises(FaultToolError, match="rng"):
        proxy.set_latency(0.01, 0.01)


def test_bandwidth_cap_slows_transfer(echo_server: EchoServer, rng: np.random.Generator) -> None:
    payload = rng.bytes(60_000)
    with FaultProxy(echo_server.address) as proxy, _client(proxy, timeout=10) as c:
        proxy.set_bandwidth(100_000)
        start = time.monotonic()
        c.sendall(payload)
        assert recv_exactly(c, len(payload)) == payload
        # 60 kB each way at 100 kB/s: at least 0.6 s even with full overlap
        assert time.monotonic() - start >= 0.55


def test_slow_close_delays_the_fin(echo_server: EchoServer) -> None:
    echo_server.close_after = 3
    with FaultProxy(echo_server.address) as proxy, _client(proxy) as c:
        proxy.set_slow_close(0.4)
        start = time.monotonic()
        c.sendall(b"bye")
        assert recv_exactly(c, 3) == b"bye"
        assert c.recv(10) == b""
        assert time.monotonic() - start >= 0.4


def _connection_dies(proxy: FaultProxy) -> bool:
    """Connect, send, read: True when the proxy closes or resets the connection at once."""
    try:
        with _client(proxy) as c:
            c.sendall(b"x")
            return c.recv(10) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_refuse_resets_new_connections(echo_server: EchoServer) -> None:
    with FaultProxy(echo_server.address) as proxy:
        proxy.refuse()
        assert _connection_dies(proxy)
        proxy.clear()
        with _client(proxy) as c:
            c.sendall(b"ok")
            assert recv_exactly(c, 2) == b"ok"
        assert proxy.stats().refused == 1


def test_unreachable_upstream_closes_client() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()
    with FaultProxy(dead) as proxy:
        assert _connection_dies(proxy)
        time.sleep(0.05)
        assert proxy.stats().upstream_failures == 1


def test_close_ends_open_connections(echo_server: EchoServer) -> None:
    proxy = FaultProxy(echo_server.address)
    proxy.start()
    c = _client(proxy)
    c.sendall(b"x")
    assert recv_exactly(c, 1) == b"x"
    proxy.close()
    assert c.recv(10) == b""
    c.close()
    with pytest.raises(FaultToolError, match="not running"):
        proxy.cut()
