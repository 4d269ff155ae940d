"""The RTSP ``Transport`` header (RFC 2326 12.39) for RTP/AVP over UDP and interleaved TCP."""

from __future__ import annotations

from dataclasses import dataclass


class UnsupportedTransport(Exception):
    """The client asked for a transport this server does not speak (multicast, RTP/SAVP...)."""


@dataclass(frozen=True)
class PortPair:
    rtp: int
    rtcp: int

    def __str__(self) -> str:
        return f"{self.rtp}-{self.rtcp}"


@dataclass(frozen=True)
class TransportSpec:
    """``interleaved`` is set for RTP/AVP/TCP, ``client_ports`` for RTP/AVP (UDP)."""

    interleaved: PortPair | None = None
    client_ports: PortPair | None = None

    @property
    def is_tcp(self) -> bool:
        return self.interleaved is not None


def _pair(value: str) -> PortPair:
    first, _, second = value.partition("-")
    low = int(first)
    return PortPair(rtp=low, rtcp=int(second) if second else low + 1)


def _parse_one(option: str) -> TransportSpec | None:
    fields = [f.strip() for f in option.split(";") if f.strip()]
    if not fields:
        return None
    proto = fields[0].upper()
    params = dict(f.partition("=")[::2] for f in fields[1:])
    if "multicast" in params:
        return None
    if proto == "RTP/AVP/TCP":
        channels = params.get("interleaved") or "0-1"
        return TransportSpec(interleaved=_pair(channels))
    if proto in ("RTP/AVP", "RTP/AVP/UDP") and params.get("client_port"):
        return TransportSpec(client_ports=_pair(params["client_port"]))
    return None


def parse_transport(header: str) -> TransportSpec:
    """The first acceptable option of a Transport header; raises UnsupportedTransport."""
    for option in header.split(","):
        spec = _parse_one(option)
        if spec is not None:
            return spec
    raise UnsupportedTransport(f"no supported transport in {header!r}")


def describe_transport(spec: TransportSpec, *, ssrc: int, server_ports: PortPair | None) -> str:
    """The Transport header of a SETUP response."""
    if spec.interleaved is not None:
        return f"RTP/AVP/TCP;unicast;interleaved={spec.interleaved};ssrc={ssrc:08X}"
    assert spec.client_ports is not None
    text = f"RTP/AVP;unicast;client_port={spec.client_ports}"
    if server_ports is not None:
        text += f";server_port={server_ports}"
    return text + f";ssrc={ssrc:08X}"
