"""RTSP 1.0 message framing: requests, responses and interleaved binary frames on one stream."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 16 * 1024
REASONS = {
    200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
    454: "Session Not Found", 455: "Method Not Valid in This State",
    461: "Unsupported Transport", 500: "Internal Server Error", 501: "Not Implemented",
    503: "Service Unavailable",
}


class RtspProtocolError(Exception):
    """The peer sent something that is not RTSP."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def cseq(self) -> str:
        return self.header("cseq", "0")

    @property
    def path(self) -> str:
        """URL path without the leading slash, e.g. ``cam0/trackID=0``."""
        return urlsplit(self.url).path.lstrip("/")


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def encode(self, cseq: str) -> bytes:
        lines = [f"RTSP/1.0 {self.status} {REASONS.get(self.status, 'Error')}", f"CSeq: {cseq}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True)
class Interleaved:
    """A ``$``-framed binary packet on the RTSP connection (RFC 2326 10.12)."""

    channel: int
    data: bytes


def encode_request(method: str, url: str, cseq: int, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _parse_headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise RtspProtocolError(f"malformed header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise RtspProtocolError("RTSP header too long") from exc
    text = raw.decode("utf-8", errors="replace").lstrip("\r\n")
    first, *rest = text.split("\r\n")
    headers = _parse_headers([ln for ln in rest if ln])
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return first, headers, body


async def read_message(reader: asyncio.StreamReader) -> Request | Response | Interleaved:
    """Read one request, response or interleaved frame; raises IncompleteReadError at EOF."""
    lead = await reader.readexactly(1)
    while lead in (b"\r", b"\n"):
        lead = await reader.readexactly(1)
    if lead == b"$":
        head = await reader.readexactly(3)
        data = await reader.readexactly(int.from_bytes(head[1:3], "big"))
        return Interleaved(channel=head[0], data=data)
    first, headers, body = await _read_head(reader)
    first = lead.decode("latin-1") + first
    parts = first.split(" ", 2)
    if len(parts) < 3:
        raise RtspProtocolError(f"malformed start line {first!r}")
    if parts[0].startswith("RTSP/"):
        return Response(status=int(parts[1]), headers=headers, body=body)
    if not parts[2].startswith("RTSP/"):
        raise RtspProtocolError(f"not an RTSP request: {first!r}")
    return Request(method=parts[0].upper(), url=parts[1], headers=headers, body=body)
