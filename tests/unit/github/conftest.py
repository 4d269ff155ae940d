"""Fixtures for the PR bot tests: a fake clock and the fake GitHub server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fake_github import FakeGitHub, SpecValidator

from perfwatch.adapters.github import GitHubClient

REPO = "octo-org/perf-demo"
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # as in the pull_request payloads
BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"


@dataclass
class FakeClock:
    """Epoch-seconds clock that only moves when the code under test sleeps."""

    now: float = 1_800_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="session")
def validator() -> SpecValidator:
    return SpecValidator()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock, validator: SpecValidator) -> Iterator[FakeGitHub]:
    server = FakeGitHub(clock=clock.time, validator=validator)
    server.add_pull(2, head_sha=HEAD, base_sha=BASE)
    with server.running():
        yield server


def make_client(fake: FakeGitHub, clock: FakeClock, token: str = "fake-token") -> GitHubClient:
    http = httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {token}"},
                        timeout=10.0)
    return GitHubClient(http, REPO, sleep=clock.sleep, clock=clock.time)


@pytest.fixture
def client(fake: FakeGitHub, clock: FakeClock) -> Iterator[GitHubClient]:
    gh = make_client(fake, clock)
    yield gh
    gh._http.close()
