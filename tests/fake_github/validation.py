"""Checks requests and responses against GitHub's OpenAPI description (openapi-core)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "github" / "openapi-subset.json"
HOST_URL = "https://api.github.com"  # the spec's server; requests are checked as if sent there


@dataclass
class SpecRequest:
    """openapi-core's Request protocol over what the fake server received."""

    method: str
    path: str
    query: str
    header_items: list[tuple[str, str]]
    body: bytes | None
    content_type: str
    host_url: str = HOST_URL
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(self.query, keep_blank_values=True)),
            header=Headers(self.header_items),
            cookie=ImmutableMultiDict(),
        )


@dataclass
class SpecResponse:
    status_code: int
    data: bytes | None
    header_items: list[tuple[str, str]]
    content_type: str = "application/json"

    @property
    def headers(self) -> Headers:
        return Headers(self.header_items)


class SpecValidator:
    def __init__(self, spec_path: Path = SPEC_PATH) -> None:
        self.spec: dict[str, Any] = json.loads(spec_path.read_text())
        self._openapi = OpenAPI.from_dict(self.spec)

    def request_errors(self, request: SpecRequest) -> list[str]:
        return [_describe(e) for e in self._openapi.iter_request_errors(request)]

    def response_errors(self, request: SpecRequest, response: SpecResponse) -> list[str]:
        return [_describe(e) for e in self._openapi.iter_response_errors(request, response)]


def _describe(err: BaseException) -> str:
    parts = [f"{type(err).__name__}: {err}"]
    cause = err.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {str(cause)[:300]}")
        for sub in getattr(cause, "schema_errors", ())[:3]:
            parts.append(f"  {str(sub.message)[:300]}")
        cause = cause.__cause__
    return " <- ".join(parts)
