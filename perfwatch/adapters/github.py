"""GitHub REST v3 client: the few endpoints the PR bot uses, over an injected httpx client.

``GitHubClient(http, repo)`` takes an ``httpx.Client`` (tests give it a transport or
point its ``base_url`` at the fake server) and an ``OWNER/NAME``. The token lives only
in the ``Authorization`` header of that client, built by :func:`client_from_env` from
``GITHUB_TOKEN``; it is never part of a message, an error or a ``repr``.

Waiting is done as GitHub asks: a primary rate limit (``x-ratelimit-remaining: 0``)
waits until ``x-ratelimit-reset``; a secondary limit (403/429) waits ``retry-after``
(or a minute, then doubling); 5xx and transport errors back off exponentially, capped.
All waiting goes through the injected ``sleep`` and ``clock`` and stops at
``RetryPolicy.max_total_wait`` with :class:`RateLimitedError`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from perfwatch.errors import GitHubError, RateLimitedError

__all__ = [
    "API_URL",
    "CheckRun",
    "GitHubClient",
    "IssueComment",
    "PullRequest",
    "RetryPolicy",
    "client_from_env",
    "fit_body",
]

API_URL = "https://api.github.com"
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
COMMENT_LIMIT = 65_536  # characters in an issue comment
CHECK_TEXT_LIMIT = 65_535  # characters in a check run's output.summary / output.text
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to retry. Times in seconds."""

    max_attempts: int = 6  # for 5xx and transport errors
    base_delay: float = 1.0
    max_delay: float = 60.0
    secondary_default: float = 60.0  # a secondary limit without retry-after
    mutation_interval: float = 1.0  # GitHub asks for a pause between POST/PATCH/DELETE calls
    max_total_wait: float = 900.0


@dataclass(frozen=True)
class IssueComment:
    id: int
    body: str
    user: str


@dataclass(frozen=True)
class PullRequest:
    number: int
    head_sha: str
    base_sha: str
    state: str
    labels: tuple[str, ...]
    head_repo: str  # full name of the head repository ("" when it was deleted)


@dataclass(frozen=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    conclusion: str | None
    summary: str
    title: str = ""
    external_id: str = ""


def client_from_env(
    repo: str, *, api_url: str = API_URL, transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
    policy: RetryPolicy | None = None,
) -> GitHubClient:
    """A client authenticated with ``GITHUB_TOKEN`` from the environment."""
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise GitHubError(
            "GITHUB_TOKEN is not set",
            hint="export GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: ${{ github.token }})",
        )
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "perfwatch",
    }
    http = httpx.Client(base_url=api_url, headers=headers, timeout=30.0, transport=transport)
    return GitHubClient(http, repo, sleep=sleep, clock=clock, policy=policy)


class GitHubClient:
    """The endpoints perfwatch needs, with retries and rate-limit waits."""

    def __init__(
        self, http: httpx.Client, repo: str, *, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time, policy: RetryPolicy | None = None,
    ) -> None:
        if not _REPO.match(repo):
            raise GitHubError(f"not a repository name: {repo!r}", hint="pass --repo OWNER/NAME")
        self._http = http
        self.repo = repo
        self._sleep = sleep
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self.waited = 0.0  # seconds slept so far, for reports and tests
        self._exhausted_until = 0.0  # epoch seconds: the quota is spent until then
        self._last_write = 0.0  # clock() of the last POST/PATCH/DELETE

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"GitHubClient(repo={self.repo!r}, base_url={str(self._http.base_url)!r})"

    # -- pull requests ----------------------------------------------------------------
    def get_pull(self, number: int) -> PullRequest:
        data = self._json("GET", f"/repos/{self.repo}/pulls/{number}")
        head_repo = data["head"].get("repo") or {}
        return PullRequest(
            number=int(data["number"]),
            head_sha=str(data["head"]["sha"]),
            base_sha=str(data["base"]["sha"]),
            state=str(data["state"]),
            labels=tuple(str(label["name"]) for label in data.get("labels") or ()),
            head_repo=str(head_repo.get("full_name") or ""),
        )

    # -- issue comments ---------------------------------------------------------------
    def list_comments(self, number: int) -> list[IssueComment]:
        path = f"/repos/{self.repo}/issues/{number}/comments"
        return [_comment(item) for item in self._pages(path, {"per_page": "100"})]

    def create_comment(self, number: int, body: str) -> IssueComment:
        path = f"/repos/{self.repo}/issues/{number}/comments"
        payload = {"body": fit_body(body)}
        return _comment(self._json("POST", path, body=payload, ok=(201,)))

    def update_comment(self, comment_id: int, body: str) -> IssueComment:
        path = f"/repos/{self.repo}/issues/comments/{comment_id}"
        return _comment(self._json("PATCH", path, body={"body": fit_body(body)}))

    def delete_comment(self, comment_id: int) -> bool:
        """Delete a comment; False when it was already gone (another job removed it)."""
        path = f"/repos/{self.repo}/issues/comments/{comment_id}"
        response = self._request("DELETE", path, ok=(204, 404))
        return response.status_code == 204

    # -- checks and statuses ----------------------------------------------------------
    def list_check_runs(self, ref: str, *, name: str | None = None) -> list[CheckRun]:
        path = f"/repos/{self.repo}/commits/{ref}/check-runs"
        params = {"filter": "latest", "per_page": "100"}
        if name is not None:
            params["check_name"] = name
        runs: list[CheckRun] = []
        for page in self._raw_pages(path, params):
            runs.extend(_check_run(item) for item in page.get("check_runs", ()))
        return runs

    def create_check_run(self, fields: Mapping[str, Any]) -> CheckRun:
        path = f"/repos/{self.repo}/check-runs"
        return _check_run(self._json("POST", path, body=dict(fields), ok=(201,)))

    def update_check_run(self, check_run_id: int, fields: Mapping[str, Any]) -> CheckRun:
        path = f"/repos/{self.repo}/check-runs/{check_run_id}"
        return _check_run(self._json("PATCH", path, body=dict(fields)))

    def create_status(self, sha: str, fields: Mapping[str, Any]) -> None:
        self._json("POST", f"/repos/{self.repo}/statuses/{sha}", body=dict(fields), ok=(201,))

    # -- transport --------------------------------------------------------------------
    def _json(
        self, method: str, path: str, *, body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None, ok: tuple[int, ...] = (200,),
    ) -> dict[str, Any]:
        response = self._request(method, path, body=body, params=params, ok=ok)
        data = _decode(response, method, path)
        if not isinstance(data, dict):
            raise GitHubError(f"{method} {path}: expected a JSON object", status=response.status_code)
        return data

    def _raw_pages(self, path: str, params: Mapping[str, str]) -> Iterator[Any]:
        url: str | None = path
        query: Mapping[str, str] | None = params
        while url is not None:
            response = self._request("GET", url, params=query)
            yield _decode(response, "GET", url)
            url, query = self._next_url(response.headers.get("link", "")), None

    def _next_url(self, link: str) -> str | None:
        """The rel="next" page, only on the API's own host (the token goes with it)."""
        url = _next_link(link)
        if url is not None and not url.startswith(str(self._http.base_url).rstrip("/") + "/"):
            raise GitHubError("a pagination link points away from the API host",
                              hint="check --api-url; perfwatch does not follow it")
        return url

    def _pages(self, path: str, params: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        for page in self._raw_pages(path, params):
            if not isinstance(page, list):
                raise GitHubError(f"GET {path}: expected a JSON list")
            yield from page

    def _request(
        self, method: str, path: str, *, body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None, ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        attempt = 0
        while True:
            if self._exhausted_until > self._clock():  # the last answer spent the quota
                self._wait(self._exhausted_until - self._clock() + 1.0, "primary rate limit",
                           method, path)
                self._exhausted_until = 0.0
            if method != "GET":
                self._pace()
            try:
                response = self._http.request(method, path, json=body, params=params)
            except httpx.TransportError as err:
                delay, why = self._backoff(attempt, f"{type(err).__name__}")
            else:
                if response.status_code in ok:
                    self._note_quota(response)
                    return response
                delay, why = self._delay_for(response, attempt, method, path)
            self._wait(delay, why, method, path)
            attempt += 1

    def _pace(self) -> None:
        """Keep ``mutation_interval`` between writes (not counted against the wait cap)."""
        gap = self._last_write + self.policy.mutation_interval - self._clock()
        if self._last_write and gap > 0:
            self._sleep(gap)
        self._last_write = self._clock()

    def _note_quota(self, response: httpx.Response) -> None:
        if response.headers.get("x-ratelimit-remaining") == "0":
            self._exhausted_until = float(response.headers.get("x-ratelimit-reset", "0"))

    def _delay_for(
        self, response: httpx.Response, attempt: int, method: str, path: str
    ) -> tuple[float, str]:
        status = response.status_code
        headers = response.headers
        if status in (403, 429) and _seconds(headers.get("retry-after")) is not None:
            return max(0.0, _seconds(headers.get("retry-after")) or 0.0), "secondary rate limit"
        if status in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
            reset = float(headers.get("x-ratelimit-reset", "0"))
            return max(1.0, reset - self._clock() + 1.0), "primary rate limit"
        if status in (403, 429) and "rate limit" in _message(response).lower():
            delay = self.policy.secondary_default * (2**attempt)
            return delay, "secondary rate limit"
        if status >= 500:
            return self._backoff(attempt, f"HTTP {status}")
        raise GitHubError(
            f"{method} {_public(path)} answered {status}: {_message(response)}",
            status=status, hint=_hint_for(status),
        )

    def _backoff(self, attempt: int, why: str) -> tuple[float, str]:
        if attempt + 1 >= self.policy.max_attempts:
            raise GitHubError(
                f"GitHub kept failing ({why}) after {attempt + 1} attempts",
                hint="GitHub may be degraded; rerun the job later",
            )
        return min(self.policy.max_delay, self.policy.base_delay * (2**attempt)), why

    def _wait(self, delay: float, why: str, method: str, path: str) -> None:
        if self.waited + delay > self.policy.max_total_wait:
            raise RateLimitedError(
                f"{method} {_public(path)}: {why}, next wait {delay:.0f}s would pass the"
                f" {self.policy.max_total_wait:.0f}s limit",
                hint="rerun the job after the limit resets, or raise the wait limit",
            )
        self._sleep(delay)
        self.waited += delay


def fit_body(body: str, limit: int = COMMENT_LIMIT) -> str:
    """``body`` cut at a line end to fit ``limit`` characters, with a note saying so."""
    if len(body) <= limit:
        return body
    note = ("\n\n> [!NOTE]\n> This report was cut to fit GitHub's limit of"
            f" {limit:,} characters; the full report is in the workflow's artifact.\n")
    keep = body[: limit - len(note) - len("\n</details>")]
    if "\n" in keep:
        keep = keep[: keep.rindex("\n")]
    if keep.count("<details>") > keep.count("</details>"):
        keep += "\n</details>"
    return keep + note


def _next_link(link: str) -> str | None:
    match = _LINK_NEXT.search(link)
    return match.group(1) if match else None


def _comment(item: Mapping[str, Any]) -> IssueComment:
    user = item.get("user") or {}
    return IssueComment(id=int(item["id"]), body=str(item.get("body") or ""),
                        user=str(user.get("login") or ""))


def _check_run(item: Mapping[str, Any]) -> CheckRun:
    output = item.get("output") or {}
    return CheckRun(
        id=int(item["id"]), name=str(item["name"]), head_sha=str(item["head_sha"]),
        conclusion=item.get("conclusion"), summary=str(output.get("summary") or ""),
        title=str(output.get("title") or ""), external_id=str(item.get("external_id") or ""),
    )


def _decode(response: httpx.Response, method: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError as err:
        raise GitHubError(f"{method} {_public(path)}: the answer is not JSON",
                          status=response.status_code, hint="check --api-url") from err


def _seconds(value: str | None) -> float | None:
    """A ``retry-after`` in seconds (GitHub sends seconds; an HTTP date is not used)."""
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(data, dict):
        return str(data.get("message") or response.reason_phrase)[:200]
    return response.reason_phrase


def _public(path: str) -> str:
    """A path for messages: never a query string (it could hold anything)."""
    return path.split("?", 1)[0]


def _hint_for(status: int) -> str:
    if status == 401:
        return "check that GITHUB_TOKEN is valid"
    if status in (403, 404):
        return "check the token's permissions (pull-requests, checks, statuses: write) and --repo"
    if status == 422:
        return "GitHub rejected the content; report this as a perfwatch bug"
    return "see GitHub's status page and rerun"
