"""git_log.commits_after: the first-parent commits after a known one, or None when the
known commit is no longer on the branch's first-parent line."""

from __future__ import annotations

from pathlib import Path

import git

from perfwatch.adapters.git_history import open_history
from perfwatch.adapters.git_log import commits_after


def test_commits_after_equal_the_tail_of_the_first_parent_history(
        repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    whole = open_history(path).first_parent("main")
    assert commits_after(path, shas[1], "main") == whole[2:]
    assert commits_after(path, shas[4], "main") == []


def test_merged_side_commits_are_not_listed(merged: tuple[Path, list[str], str]) -> None:
    path, shas, side = merged
    after = commits_after(path, shas[4], "main")
    assert after is not None and len(after) == 1 and after[0].summary == "merge feature"
    assert commits_after(path, side, "main") is None  # on the branch, not on its first parents


def test_rewritten_or_unknown_history_is_none(repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    r = git.Repo(path)
    r.git.reset("--hard", shas[2])
    (path / "g.txt").write_text("y")
    r.index.add(["g.txt"])
    r.index.commit("rewritten")
    assert commits_after(path, shas[4], "main") is None  # shas[4] is gone from main
    assert commits_after(path, "0" * 40, "main") is None
    assert commits_after(path, shas[1], "no-such-branch") is None
