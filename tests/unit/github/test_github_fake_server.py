"""The fake GitHub server itself: it must catch what real GitHub would refuse."""

from __future__ import annotations

import httpx
from fake_github import FakeGitHub
from github_helpers import HEAD


def _raw(fake: FakeGitHub) -> httpx.Client:
    return httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {fake.token}"})


def test_a_body_over_65536_characters_gets_githubs_422(fake: FakeGitHub) -> None:
    with _raw(fake) as http:
        response = http.post("/repos/o/r/issues/2/comments", json={"body": "x" * 65_537})
        assert response.status_code == 422
        assert "Body is too long" in response.json()["errors"][0]["message"]
        assert http.post("/repos/o/r/issues/2/comments",
                         json={"body": "x" * 65_536}).status_code == 201
    assert fake.violations == []  # the 422 is declared for this operation and valid


def test_requests_against_the_description_are_recorded(fake: FakeGitHub) -> None:
    with _raw(fake) as http:
        assert http.post("/repos/o/r/issues/2/comments", json={"text": "no body"}).status_code \
            == 422
        http.post("/repos/o/r/check-runs", json={"name": "x", "head_sha": HEAD,
                                                 "conclusion": "great"})
        http.post(f"/repos/o/r/statuses/{HEAD}", json={"state": "green"})
        http.post("/repos/o/r/check-runs", json={"name": "x", "head_sha": HEAD,
                                                 "output": {"title": "t", "summary": "s" * 65_536}})
    assert len(fake.violations) == 4
    assert "'body' is a required property" in fake.violations[0]
    assert fake.comments == {} and fake.check_runs == {}


def test_unauthenticated_requests_are_refused(fake: FakeGitHub) -> None:
    with httpx.Client(base_url=fake.url) as http:
        assert http.get("/repos/o/r/pulls/2").status_code == 401
    assert fake.requests[0].authorized is False
