"""Helpers for the PR bot tests (a unique module name: importable from any test dir)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import numpy as np
from fake_github import FakeGitHub

from perfwatch.adapters.github import GitHubClient
from perfwatch.model import Comparison, Direction, SeriesKey, Verdict
from perfwatch.prbot import PrMetadata, ResultsArtifact

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


def make_client(fake: FakeGitHub, clock: FakeClock, token: str = "fake-token") -> GitHubClient:
    http = httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {token}"},
                        timeout=10.0)
    return GitHubClient(http, REPO, sleep=clock.sleep, clock=clock.time)


def comparison(name: str, verdict: Verdict, rel: float, *, q: float = 0.001,
               machine: str = "linux-x86-4c", unstable: bool = False,
               extra_runs: int | None = None, unit: str = "seconds",
               params: tuple[str, ...] | None = None, note: str = "") -> Comparison:
    """One Comparison with a CI of +-2 points around ``rel`` and a 1.2 ms base."""
    return Comparison(
        key=SeriesKey(name, params, machine), unit=unit, direction=Direction.LOWER_IS_BETTER,
        verdict=verdict, rel_change=rel, ci=(rel - 0.02, rel + 0.02), pvalue=q / 2, qvalue=q,
        n_base=20, n_head=20, base_median=0.0012, head_median=0.0012 * (1 + rel),
        extra_runs=extra_runs, unstable=unstable, note=note,
    )


def suite(rng: np.random.Generator, n: int, *, regressions: int, improvements: int = 0,
          unsure: int = 0, unstable: int = 0, machine: str = "linux-x86-4c") -> list[Comparison]:
    """``n`` comparisons with realistic asv names and planted verdict counts."""
    out = []
    kinds = ([Verdict.REGRESSION] * regressions + [Verdict.IMPROVEMENT] * improvements
             + [Verdict.UNSURE] * unsure)
    for i in range(n):
        name = f"benchmarks.suite_{i % 17}.TimeIngest{i // 17}.time_remux_segment_{i}"
        params = (str(1 + i % 4), "h264") if i % 3 == 0 else None
        if i < len(kinds):
            verdict = kinds[i]
            rel = float(rng.uniform(0.03, 0.6)) * (-1 if verdict is Verdict.IMPROVEMENT else 1)
            out.append(comparison(name, verdict, rel, q=float(rng.uniform(1e-5, 0.04)),
                                  machine=machine, params=params,
                                  extra_runs=12 if verdict is Verdict.UNSURE else None))
        else:
            shaky = i < len(kinds) + unstable
            out.append(comparison(name, Verdict.NO_CHANGE, float(rng.normal(0, 0.005)),
                                  q=float(rng.uniform(0.2, 1)), machine=machine,
                                  unstable=shaky, params=params))
    return out


def artifact(comparisons: list[Comparison], *, machine: str = "linux-x86-4c",
             labels: tuple[str, ...] = (), accepted_by: str | None = None,
             head_sha: str = HEAD) -> ResultsArtifact:
    meta = PrMetadata(pr_number=2, head_sha=head_sha, base_sha=BASE, machine=machine,
                      labels=labels, accepted_by=accepted_by)
    return ResultsArtifact(meta=meta, comparisons=tuple(comparisons))
