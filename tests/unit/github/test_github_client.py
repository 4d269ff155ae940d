"""GitHubClient against the fake GitHub server: pagination, faults, waits, the token."""

from __future__ import annotations

import logging

import httpx
import pytest
from fake_github import FakeGitHub, Fault
from github_helpers import HEAD, REPO, FakeClock

from perfwatch.adapters.github import (
    COMMENT_LIMIT,
    GitHubClient,
    RetryPolicy,
    client_from_env,
    fit_body,
)
from perfwatch.errors import GitHubError, RateLimitedError


def test_lists_comments_across_pages(fake: FakeGitHub, client: GitHubClient) -> None:
    for i in range(230):
        fake.comments[10_000 + i] = {"id": 10_000 + i, "body": f"c{i}", "user": "u",
                                     "created": "2026-01-01T00:00:00Z",
                                     "updated": "2026-01-01T00:00:00Z", "_issue": 2}
    comments = client.list_comments(2)
    assert [c.body for c in comments] == [f"c{i}" for i in range(230)]
    pages = [r for r in fake.requests if r.operation == "issues/list-comments"]
    assert len(pages) == 3
    assert fake.violations == []


def test_primary_rate_limit_waits_until_reset(fake: FakeGitHub, client: GitHubClient,
                                               clock: FakeClock) -> None:
    fake.script(Fault("primary", "issues/create-comment", reset_in=120))
    start = clock.now
    comment = client.create_comment(2, "hello")
    assert comment.body == "hello"
    assert fake.early_retries == 0  # it did not come back before the reset
    assert 120 <= clock.now - start <= 125
    assert fake.violations == []


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_honours_retry_after(fake: FakeGitHub, client: GitHubClient,
                                                  clock: FakeClock, status: int) -> None:
    fake.script(Fault("secondary", "issues/list-comments", status=status, retry_after=37))
    assert client.list_comments(2) == []
    assert clock.sleeps == [37.0]
    assert fake.early_retries == 0
    assert fake.violations == []


def test_5xx_backs_off_exponentially_then_succeeds(fake: FakeGitHub, client: GitHubClient,
                                                   clock: FakeClock) -> None:
    fake.script(Fault("status", "pulls/get", times=3, status=502))
    assert client.get_pull(2).head_sha == HEAD
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_5xx_gives_up_after_max_attempts(fake: FakeGitHub, clock: FakeClock) -> None:
    fake.script(Fault("status", "pulls/get", times=50, status=503))
    http = httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer fake-token"})
    gh = GitHubClient(http, REPO, sleep=clock.sleep, clock=clock.time,
                      policy=RetryPolicy(max_attempts=4))
    with pytest.raises(GitHubError, match="after 4 attempts"):
        gh.get_pull(2)
    assert len(clock.sleeps) == 3


def test_wait_longer_than_allowed_raises_rate_limited(fake: FakeGitHub, clock: FakeClock) -> None:
    fake.script(Fault("primary", "pulls/get", reset_in=3600))
    http = httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer fake-token"})
    gh = GitHubClient(http, REPO, sleep=clock.sleep, clock=clock.time,
                      policy=RetryPolicy(max_total_wait=600))
    with pytest.raises(RateLimitedError) as info:
        gh.get_pull(2)
    assert info.value.hint and "rerun" in info.value.hint
    assert clock.sleeps == []


def test_other_client_errors_are_not_retried(fake: FakeGitHub, client: GitHubClient,
                                            clock: FakeClock) -> None:
    with pytest.raises(GitHubError) as info:
        client.get_pull(999)
    assert info.value.status == 404
    assert clock.sleeps == []


def test_fit_body_cuts_with_a_note_and_closes_details() -> None:
    body = "<!-- m -->\nverdict\n<details>\n" + "".join(f"| row {i} |\n" for i in range(20_000))
    cut = fit_body(body)
    assert len(cut) <= COMMENT_LIMIT
    assert cut.startswith("<!-- m -->\nverdict")
    assert "cut to fit" in cut and cut.count("</details>") == 1
    assert fit_body("short") == "short"


def test_oversized_body_never_reaches_github_as_422(fake: FakeGitHub, client: GitHubClient) -> None:
    comment = client.create_comment(2, "x" * 70_000 + "\n" + "y" * 10)
    assert len(comment.body) <= COMMENT_LIMIT
    assert all(r.status != 422 for r in fake.requests)


def test_the_token_stays_out_of_errors_reprs_and_logs(
    fake: FakeGitHub, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "ghs_SECRETSECRETSECRET123"
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    fake.token = secret
    caplog.set_level(logging.DEBUG)
    gh = client_from_env(REPO, api_url=fake.url, sleep=clock.sleep, clock=clock.time)
    assert gh.get_pull(2).number == 2
    assert all(r.authorized for r in fake.requests)
    with pytest.raises(GitHubError) as info:
        gh.get_pull(404)
    texts = [repr(gh), str(info.value), repr(info.value), info.value.hint, caplog.text]
    assert not any(secret in t for t in texts)


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with pytest.raises(GitHubError, match="GITHUB_TOKEN"):
        client_from_env(REPO)


def test_pagination_link_to_another_host_is_refused(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        link = '<https://evil.example/steal?page=2>; rel="next"'
        return httpx.Response(200, json=[], headers={"link": link})

    http = httpx.Client(base_url="https://api.github.com", transport=httpx.MockTransport(handler))
    gh = GitHubClient(http, REPO, sleep=clock.sleep, clock=clock.time)
    with pytest.raises(GitHubError, match="pagination link"):
        gh.list_comments(2)


def test_a_spent_quota_on_success_waits_before_the_next_request(clock: FakeClock) -> None:
    reset = clock.now + 50
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(clock.now)
        headers = {"x-ratelimit-remaining": "0" if len(seen) == 1 else "4999",
                   "x-ratelimit-reset": str(int(reset))}
        return httpx.Response(200, json=[], headers=headers)

    http = httpx.Client(base_url="https://api.github.com", transport=httpx.MockTransport(handler))
    gh = GitHubClient(http, REPO, sleep=clock.sleep, clock=clock.time)
    gh.list_comments(2)
    gh.list_comments(2)
    assert seen[1] >= reset and clock.sleeps == [51.0]


def test_writes_are_paced_one_second_apart(fake: FakeGitHub, client: GitHubClient,
                                           clock: FakeClock) -> None:
    first = client.create_comment(2, "a")
    client.update_comment(first.id, "b")
    client.list_comments(2)  # reads are not paced
    client.delete_comment(first.id)
    assert clock.sleeps == [1.0, 1.0]
    assert client.waited == 0.0  # pacing does not count against the rate-limit wait cap


def test_a_non_json_answer_is_a_clear_error(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>proxy login</html>")

    http = httpx.Client(base_url="https://api.github.com", transport=httpx.MockTransport(handler))
    gh = GitHubClient(http, REPO, sleep=clock.sleep, clock=clock.time)
    with pytest.raises(GitHubError, match="not JSON"):
        gh.get_pull(2)


def test_connection_errors_back_off_like_5xx(clock: FakeClock) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) < 3:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=[])

    http = httpx.Client(base_url="https://api.github.com", transport=httpx.MockTransport(handler))
    gh = GitHubClient(http, REPO, sleep=clock.sleep, clock=clock.time)
    assert gh.list_comments(2) == []
    assert clock.sleeps == [1.0, 2.0] and len(calls) == 3
