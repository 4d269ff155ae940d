from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import git
import pytest

from perfwatch.adapters.git_history import open_history
from perfwatch.errors import MissingCommitError, RepositoryError
from perfwatch.synthetic import START_DATE, make_git_history


def test_first_parent_oldest_first_with_dates(repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    history = open_history(path)
    commits = history.first_parent()
    assert [c.sha for c in commits] == shas
    assert commits[0].date == START_DATE
    assert commits[4].date == datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
    assert commits[2].summary == "Change 2: tune the recorder"
    assert history.current_branch() == "main"


def test_fixed_dates_make_fixed_shas(tmp_path: Path, repo: tuple[Path, list[str]]) -> None:
    (tmp_path / "again").mkdir()
    assert make_git_history(tmp_path / "again", 5) == repo[1]


def test_first_parent_skips_merged_branch_commits(merged: tuple[Path, list[str], str]) -> None:
    path, shas, side = merged
    history = open_history(path)
    main = [c.sha for c in history.first_parent("main")]
    assert side not in main and main[:5] == shas and len(main) == 6
    assert history.merge_base("feature", "main") == side
    assert history.merge_base(side, shas[4]) == shas[2]


def test_resolve_short_sha_and_refs(repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    history = open_history(path)
    assert history.resolve(shas[1][:8]) == shas[1]
    assert history.resolve("HEAD~1") == shas[3]
    assert history.resolve("main") == shas[4]


def test_unknown_commit_is_missing_commit_error(repo: tuple[Path, list[str]]) -> None:
    with pytest.raises(MissingCommitError, match="deadbeef.*git log"):
        open_history(repo[0]).resolve("deadbeef")
    with pytest.raises(MissingCommitError):
        open_history(repo[0]).first_parent("no-such-branch")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not a git repository"):
        open_history(tmp_path)
    with pytest.raises(RepositoryError, match="does not exist"):
        open_history(tmp_path / "missing")


def test_detached_head_follows_head(repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    git.Repo(path).git.checkout("-q", "--detach", shas[3])  # as CI checkouts do
    history = open_history(path)
    assert history.current_branch() == "HEAD"
    assert [c.sha for c in history.first_parent()] == shas[:4]
    assert [c.sha for c in history.first_parent("main")] == shas


def _git_children() -> list[str]:
    """Command lines of this process's live `git` children (gitpython's cat-file helpers)."""
    import psutil

    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if cmd and cmd[0].endswith("git") and child.status() != psutil.STATUS_ZOMBIE:
            out.append(" ".join(cmd))
    return out


def test_use_cases_leave_no_git_process(tmp_path: Path) -> None:
    """load_history and compare_report close their repository (no gc needed)."""
    import gc

    import numpy as np

    from perfwatch.analysis import compare_report, load_history
    from perfwatch.synthetic import build_suite

    s = build_suite(tmp_path / "s", n_commits=12, plants=(), gaps=frozenset())
    gc.collect()
    before = _git_children()
    gc.disable()  # a collection in between would hide a reference cycle
    try:
        load_history(s.results_dir, s.repo, branch=None, machine=None)
        compare_report(s.results_dir, "HEAD~1", "HEAD", machine=None,
                       rng=np.random.default_rng(1), repo=s.repo, merge_base=True)
        with open_history(s.repo) as history:
            assert history.current_branch() == "main"
        assert _git_children() == before
    finally:
        gc.enable()
