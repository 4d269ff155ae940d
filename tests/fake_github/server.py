"""A fake GitHub REST API on 127.0.0.1 for the PR bot's tests.

It answers the ten operations of ``tests/data/github/openapi-subset.json``, keeps issue
comments, check runs and statuses in memory, checks every request and every (non-fault)
response against the OpenAPI description and records each failure in ``violations``.

Faults are scripted with :meth:`FakeGitHub.script` (see :class:`Fault`): primary rate limit
(403, ``x-ratelimit-remaining: 0`` until a reset time), secondary limits (403 or 429 with
``retry-after``), 5xx, and 403 on the checks API (a token that cannot write checks). A
request that arrives before a scripted wait is over is answered with the limit again and
counted in ``early_retries``. Bodies over 65,536 characters get GitHub's 422.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .validation import SpecRequest, SpecResponse, SpecValidator

COMMENT_LIMIT = 65_536
TOO_LONG = {
    "message": "Validation Failed",
    "errors": [{"resource": "IssueComment", "code": "unprocessable", "field": "data",
                "message": "Body is too long (maximum is 65536 characters)"}],
    "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
}


@dataclass
class Fault:
    """One scripted fault. ``operation`` is an operationId ("checks/create") or None for any;
    a ``prefix`` like "checks/" matches every operation starting with it."""

    kind: str  # "status" | "primary" | "secondary" | "forbidden"
    operation: str | None = None
    times: int = 1
    status: int = 502
    retry_after: int = 0  # secondary
    reset_in: float = 0.0  # primary: seconds until x-ratelimit-reset

    def matches(self, operation: str) -> bool:
        if self.operation is None:
            return True
        if self.operation.endswith("/"):
            return operation.startswith(self.operation)
        return operation == self.operation


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    operation: str
    status: int
    authorized: bool


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    fault: bool = False


class FakeGitHub:
    """State plus dispatch; :meth:`running` serves it over HTTP on 127.0.0.1."""

    def __init__(self, *, token: str = "fake-token", clock: Callable[[], float] = time.time,
                 validator: SpecValidator | None = None, default_per_page: int = 30) -> None:
        self.token = token
        self.clock = clock
        self.validator = validator or SpecValidator()
        self.default_per_page = default_per_page
        self._examples = {k: v["value"] for k, v in
                          self.validator.spec["components"]["examples"].items()}
        self._routes = _routes(self.validator.spec)
        self._declared = {op["operationId"]: set(op["responses"])
                          for item in self.validator.spec["paths"].values()
                          for verb, op in item.items() if verb != "parameters"}
        self.undeclared: list[str] = []
        self.lock = threading.RLock()
        self.comments: dict[int, dict[str, Any]] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.pulls: dict[int, dict[str, Any]] = {}
        self.violations: list[str] = []
        self.requests: list[Recorded] = []
        self.early_retries = 0
        self.faults: list[Fault] = []
        self.list_barrier: threading.Barrier | None = None
        self._barrier_left = 0
        self._blocked_until = 0.0  # primary or secondary limit in force until then
        self._blocked_reply: _Reply | None = None
        self._next_id = 1000
        self.url = ""

    # -- test set-up --------------------------------------------------------------------
    def script(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def hold_list_comments(self, parties: int) -> None:
        """Make the next ``parties`` comment listings wait for each other (forces a race)."""
        self.list_barrier = threading.Barrier(parties, timeout=60)
        self._barrier_left = parties

    def add_pull(self, number: int, *, head_sha: str, base_sha: str,
                 labels: tuple[str, ...] = (), head_repo: str | None = None) -> None:
        pr = copy.deepcopy(self._examples["pull-request"])
        pr["requested_teams"] = []  # the upstream example lacks the required "type" there
        pr.update(number=number, state="open")
        pr["head"]["sha"], pr["base"]["sha"] = head_sha, base_sha
        if head_repo is not None:
            pr["head"]["repo"]["full_name"] = head_repo
        template = pr["labels"][0]
        pr["labels"] = [{**template, "id": 100 + i, "name": name} for i, name in enumerate(labels)]
        self.pulls[number] = pr

    def comments_on(self, issue: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in sorted(self.comments.values(), key=lambda c: c["id"])
                    if c["_issue"] == issue]

    # -- serving ------------------------------------------------------------------------
    @contextmanager
    def running(self) -> Iterator[FakeGitHub]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def handle(self, request: SpecRequest) -> _Reply:
        operation, params = self._route(request.method, request.path)
        authorized = request.parameters.header.get("authorization") == f"Bearer {self.token}"
        if operation is not None and self._check(request, None, operation):
            reply = _Reply(422, {"message": "Invalid request (see violations)"}, fault=True)
        else:
            reply = self._answer(request, operation, params, authorized)
        if operation is not None and not reply.fault:
            self._check_reply(request, reply, operation)
        with self.lock:
            self.requests.append(Recorded(request.method, request.path, operation or "?",
                                          reply.status, authorized))
        return reply

    def _answer(self, request: SpecRequest, operation: str | None, params: dict[str, str],
                authorized: bool) -> _Reply:
        if operation is None:
            return _Reply(404, {"message": "Not Found"}, fault=True)
        if not authorized:
            return _Reply(401, {"message": "Bad credentials"}, fault=True)
        limited = self._rate_limited(operation)
        if limited is not None:
            return limited
        if operation == "issues/list-comments" and self._take_barrier():
            assert self.list_barrier is not None
            self.list_barrier.wait()
        body = json.loads(request.body) if request.body else None
        with self.lock:
            return self._dispatch(operation, params, request, body)

    def _take_barrier(self) -> bool:
        with self.lock:
            if self._barrier_left <= 0:
                return False
            self._barrier_left -= 1
            return True

    def _rate_limited(self, operation: str) -> _Reply | None:
        with self.lock:
            now = self.clock()
            if now < self._blocked_until and self._blocked_reply is not None:
                self.early_retries += 1
                return self._blocked_reply
            for fault in self.faults:
                if fault.times > 0 and fault.matches(operation):
                    fault.times -= 1
                    return self._fire(fault, now)
        return None

    def _fire(self, fault: Fault, now: float) -> _Reply:
        if fault.kind == "primary":
            reset = math.ceil(now + fault.reset_in)
            reply = _Reply(403, {"message": "API rate limit exceeded for installation.",
                                 "documentation_url": "https://docs.github.com/rest/rate-limit"},
                           {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                            "x-ratelimit-used": "5000", "x-ratelimit-reset": str(reset)}, True)
            self._blocked_until, self._blocked_reply = float(reset), reply
            return reply
        if fault.kind == "secondary":
            reply = _Reply(fault.status, {"message": "You have exceeded a secondary rate limit."
                                          " Please wait a few minutes before you try again."},
                           {"retry-after": str(fault.retry_after)}, True)
            self._blocked_until, self._blocked_reply = now + fault.retry_after, reply
            return reply
        if fault.kind == "forbidden":
            return _Reply(403, {"message": "Resource not accessible by integration"}, fault=True)
        return _Reply(fault.status, {"message": "Server Error"}, fault=True)

    def _check_reply(self, request: SpecRequest, reply: _Reply, operation: str) -> None:
        """Validate a reply; a 403/404/422 the spec does not list for the operation is what
        real GitHub also sends (README of the subset), so it is noted in ``undeclared``."""
        if reply.status in (403, 404, 422) and str(reply.status) not in self._declared[operation]:
            with self.lock:
                self.undeclared.append(f"{operation} {reply.status}")
            return
        body = json.dumps(reply.body).encode() if reply.body is not None else None
        self._check(request, SpecResponse(reply.status, body, list(reply.headers.items())),
                    operation)

    def _check(self, request: SpecRequest, response: SpecResponse | None, operation: str) -> bool:
        """Record what the OpenAPI description rejects; True when something was."""
        if response is None:
            errors = self.validator.request_errors(request)
            where = "request"
        else:
            errors = self.validator.response_errors(request, response)
            where = f"response {response.status_code}"
        with self.lock:
            self.violations.extend(f"{operation} {where}: {e}" for e in errors)
        return bool(errors)

    def _route(self, method: str, path: str) -> tuple[str | None, dict[str, str]]:
        for pattern, verb, operation in self._routes:
            match = pattern.match(path)
            if match and verb == method.lower():
                return operation, match.groupdict()
        return None, {}

    # -- operations ---------------------------------------------------------------------
    def _dispatch(self, operation: str, params: dict[str, str], request: SpecRequest,
                  body: Any) -> _Reply:
        from . import operations  # small module of handlers, kept apart for size

        handler = operations.HANDLERS[operation]
        return handler(self, params, request, body)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def example(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self._examples[name])


def _routes(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], str, str]]:
    routes = []
    for template, item in spec["paths"].items():
        regex = re.sub(r"\{([^}]+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", template)
        for verb, op in item.items():
            if verb != "parameters":
                routes.append((re.compile(f"^{regex}$"), verb, str(op["operationId"])))
    return routes


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else None
            url = urlsplit(self.path)
            request = SpecRequest(
                method=self.command.lower(), path=url.path, query=url.query,
                header_items=list(self.headers.items()), body=raw,
                content_type=(self.headers.get("content-type") or "application/json").lower(),
            )
            reply = fake.handle(request)
            data = json.dumps(reply.body).encode() if reply.body is not None else b""
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if data:
                self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

    return Handler
