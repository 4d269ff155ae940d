from __future__ import annotations

import asyncio
import threading

from recorder.hub import AccessUnit, PacketHub, StreamInfo


def _au(i: int, key: bool = False) -> AccessUnit:
    return AccessUnit(data=b"\x00\x00\x00\x01" + bytes([i % 256]), pts_90k=i * 3000, keyframe=key)


def test_fanout_to_each_subscriber_in_order() -> None:
    hub = PacketHub()
    a, b = hub.subscribe("cam0"), hub.subscribe("cam0")
    other = hub.subscribe("cam1")
    for i in range(5):
        hub.publish("cam0", _au(i, key=i == 0))
    assert [a.get(0).pts_90k for _ in range(5)] == [0, 3000, 6000, 9000, 12000]  # type: ignore[union-attr]
    assert b.get(0) == _au(0, key=True)
    assert other.get(0) is None


def test_full_queue_drops_oldest_and_counts() -> None:
    hub = PacketHub()
    sub = hub.subscribe("cam0", maxsize=3)
    for i in range(10):
        hub.publish("cam0", _au(i))
    got = [sub.get(0) for _ in range(3)]
    assert [au.pts_90k for au in got if au] == [21000, 24000, 27000]
    assert sub.dropped == 7


def test_info_and_close_stream_ends_subscriptions() -> None:
    hub = PacketHub()
    info = StreamInfo(width=320, height=240, fps=15.0, sps=b"\x67", pps=b"\x68")
    hub.set_info("cam0", info)
    assert hub.info("cam0") == info and hub.streams() == ["cam0"]
    sub = hub.subscribe("cam0")
    hub.close_stream("cam0")
    assert sub.closed and sub.get(0) is None and hub.info("cam0") is None
    hub.publish("cam0", _au(1))
    assert sub.get(0) is None


def test_async_iteration_with_publisher_thread() -> None:
    hub = PacketHub()

    async def consume() -> list[int]:
        sub = hub.subscribe("cam0")
        got: list[int] = []

        def produce() -> None:
            for i in range(200):
                hub.publish("cam0", _au(i))
            hub.close_stream("cam0")

        threading.Thread(target=produce).start()
        async for au in sub:
            got.append(au.pts_90k)
        return got

    got = asyncio.run(asyncio.wait_for(consume(), 10))
    assert got == [i * 3000 for i in range(200)]


def test_unsubscribe_detaches() -> None:
    hub = PacketHub()
    with hub.subscribe("cam0") as sub:
        assert hub.subscriber_count("cam0") == 1
    assert hub.subscriber_count("cam0") == 0 and sub.closed
