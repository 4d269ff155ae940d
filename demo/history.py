"""The scratch history of the recorder that the demo benchmarks.

The history starts from this checkout's recorder, benchmarks, hardware profiles and asv
configuration, and adds commits that carry real code changes to the recorder: neutral
ones (documentation), one regression (the segmenter fsyncs its cache file after every
packet) and one improvement (that per-packet fsync removed again).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import git

from demo.patches import add_design_note, add_fsync_per_packet, remove_fsync_per_packet
from perfwatch.stats.changepoint import MIN_SIZE
from perfwatch.stats.excursions import EXCURSION_MAX

# What the demo copies out of the checkout into its scratch repository.
TRACKED = ("recorder", "benchmarks", "hardware", "asv.conf.json")
EPOCH = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Step:
    """One commit of the scratch history."""

    summary: str
    change: Callable[[Path], None]
    planted: str = ""  # "regression" | "improvement" | "" (neutral)


# The detector reports a level only once it has held for MIN_SIZE measured commits, and a
# level that returns within EXCURSION_MAX commits goes through the excursion tests (it may
# be taken for a mode visit or a noise-made stretch; docs/statistics.md). Each level spans
# one or two commits more than that, so that the planted regression is an ordinary step.
BASE_SPAN = MIN_SIZE + 1
REGRESSED_SPAN = max(EXCURSION_MAX, MIN_SIZE) + 2
_NOTES = (
    "segment names carry the arrival time", "fragments survive a crash",
    "one cache file per open segment", "cuts fall on keyframes",
    "the mover validates and renames", "the index is SQLite in WAL mode",
    "retention deletes the oldest first", "the watchdog reconnects with backoff",
    "restream viewers start at a keyframe", "clips are remuxed, never transcoded",
    "storage paths are stream/date/hour", "a full disk triggers the sweep",
)


def _neutral(i: int) -> Step:
    note = _NOTES[i % len(_NOTES)]
    return Step(f"docs: note that {note}", add_design_note(note))


def _steps() -> tuple[Step, ...]:
    neutral = (_neutral(i) for i in range(2 * BASE_SPAN + REGRESSED_SPAN))
    return (
        Step("recorder: baseline", lambda root: None),
        *(next(neutral) for _ in range(BASE_SPAN - 1)),
        Step("segmenter: fsync the cache file and its directory after every packet",
             add_fsync_per_packet, planted="regression"),
        *(next(neutral) for _ in range(REGRESSED_SPAN - 1)),
        Step("segmenter: leave durability to the mover (one fsync per segment)",
             remove_fsync_per_packet, planted="improvement"),
        *(next(neutral) for _ in range(BASE_SPAN - 1)),
    )


STEPS: tuple[Step, ...] = _steps()


@dataclass(frozen=True)
class History:
    repo: Path
    shas: tuple[str, ...]  # one per step, oldest first

    def planted(self, kind: str) -> list[tuple[int, str]]:
        return [(i, self.shas[i]) for i, s in enumerate(STEPS) if s.planted == kind]


def _copy_sources(source: Path, dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", *TRACKED], cwd=source, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = source / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def build_history(source: Path, dest: Path) -> History:
    """A fresh git repository at ``dest`` with one commit per :data:`STEPS` entry."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with git.Repo.init(dest, initial_branch="main") as repo:
        return _commit_steps(source, dest, repo)


def _commit_steps(source: Path, dest: Path, repo: git.Repo) -> History:
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "perfwatch demo")
        cfg.set_value("user", "email", "demo@perfwatch.invalid")
        cfg.set_value("commit", "gpgsign", "false")
    _copy_sources(source, dest)
    (dest / ".gitignore").write_text(".asv/\n__pycache__/\n*.egg-info/\n")
    shas = []
    for i, step in enumerate(STEPS):
        step.change(dest)
        repo.git.add(A=True)
        when = f"{int((EPOCH + timedelta(hours=6 * i)).timestamp())} +0000"
        repo.index.commit(step.summary, author_date=when, commit_date=when)
        shas.append(repo.head.commit.hexsha)
    return History(dest, tuple(shas))
