"""Live fan-out of ingested access units to restream consumers.

Ingest threads call :meth:`PacketHub.publish`; consumers (RTSP/WHEP restream, running in an asyncio loop
or in their own threads) hold a :class:`Subscription`, a bounded queue that drops its oldest unit when the
consumer falls behind, so a slow viewer never slows recording.

A subscription is an async iterator (``async for au in sub``) and also offers a blocking
:meth:`Subscription.get` for thread consumers. It ends (``StopAsyncIteration`` / ``None`` from ``get``)
when it is closed or when its stream is removed with :meth:`PacketHub.close_stream`.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass
from typing import Self

__all__ = ["AccessUnit", "PacketHub", "StreamInfo", "Subscription"]


@dataclass(frozen=True)
class AccessUnit:
    """One H.264 access unit, Annex-B (start codes), as FFmpeg's RTSP demuxer gives it."""

    data: bytes
    pts_90k: int
    keyframe: bool


@dataclass(frozen=True)
class StreamInfo:
    """Video parameters of a stream; ``sps``/``pps`` are raw NAL units without start codes."""

    width: int
    height: int
    fps: float
    sps: bytes
    pps: bytes


class Subscription:
    """Bounded per-consumer queue of access units (oldest dropped when full)."""

    def __init__(self, hub: PacketHub, stream: str, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.stream = stream
        self.dropped = 0
        self._hub = hub
        self._queue: deque[AccessUnit] = deque()
        self._maxsize = maxsize
        self._cond = threading.Condition()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._wake_pending = False
        try:
            self._bind(asyncio.get_running_loop())
        except RuntimeError:
            pass

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._cond:
            self._loop = loop
            self._event = asyncio.Event()
            if self._queue or self._closed:
                self._event.set()

    def _push(self, au: AccessUnit) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= self._maxsize:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(au)
            self._cond.notify()
            self._wake_async()

    def _wake_async(self) -> None:
        # Caller holds self._cond.
        if self._loop is None or self._event is None or self._wake_pending:
            return
        self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._set_event)
        except RuntimeError:  # loop closed
            self._wake_pending = False

    def _set_event(self) -> None:
        with self._cond:
            self._wake_pending = False
        if self._event is not None:
            self._event.set()

    def close(self) -> None:
        """End the subscription and detach it from the hub (idempotent)."""
        self._hub._unsubscribe(self)
        self._end()

    def _end(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            self._wake_async()

    @property
    def closed(self) -> bool:
        return self._closed

    def get(self, timeout: float | None = None) -> AccessUnit | None:
        """Blocking get for thread consumers; ``None`` on timeout or when closed and drained."""
        with self._cond:
            if not self._queue and not self._closed:
                self._cond.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AccessUnit:
        if self._event is None:
            self._bind(asyncio.get_running_loop())
        assert self._event is not None
        while True:
            with self._cond:
                if self._queue:
                    return self._queue.popleft()
                if self._closed:
                    raise StopAsyncIteration
                self._event.clear()
            await self._event.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PacketHub:
    """Thread-safe fan-out of access units per stream name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[Subscription]] = {}
        self._info: dict[str, StreamInfo] = {}

    def publish(self, stream: str, au: AccessUnit) -> None:
        with self._lock:
            subs = tuple(self._subs.get(stream, ()))
        for sub in subs:
            sub._push(au)

    def set_info(self, stream: str, info: StreamInfo) -> None:
        with self._lock:
            self._info[stream] = info

    def info(self, stream: str) -> StreamInfo | None:
        with self._lock:
            return self._info.get(stream)

    def streams(self) -> list[str]:
        """Names of streams that have published info (i.e. are or were live)."""
        with self._lock:
            return sorted(self._info)

    def subscribe(self, stream: str, maxsize: int = 256) -> Subscription:
        sub = Subscription(self, stream, maxsize)
        with self._lock:
            self._subs.setdefault(stream, []).append(sub)
        return sub

    def subscriber_count(self, stream: str) -> int:
        with self._lock:
            return len(self._subs.get(stream, ()))

    def close_stream(self, stream: str) -> None:
        """Forget a removed stream: end its subscriptions and drop its info."""
        with self._lock:
            subs = self._subs.pop(stream, [])
            self._info.pop(stream, None)
        for sub in subs:
            sub._end()

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.stream)
            if subs is not None and sub in subs:
                subs.remove(sub)
