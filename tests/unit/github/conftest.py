"""Fixtures for the PR bot tests: a fake clock and the fake GitHub server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_github import FakeGitHub, SpecValidator
from github_helpers import BASE, HEAD, FakeClock, make_client

from perfwatch.adapters.github import GitHubClient


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


@pytest.fixture
def client(fake: FakeGitHub, clock: FakeClock) -> Iterator[GitHubClient]:
    gh = make_client(fake, clock)
    yield gh
    gh.close()
