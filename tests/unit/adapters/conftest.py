"""Git repositories for the git adapters' tests."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from perfwatch.synthetic import make_git_history


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """Five commits on ``main`` (fixed dates, so fixed shas)."""
    for var in ("GIT_AUTHOR", "GIT_COMMITTER"):  # `git merge` needs an identity, CI has none
        monkeypatch.setenv(f"{var}_NAME", "perfwatch test")
        monkeypatch.setenv(f"{var}_EMAIL", "test@perfwatch.invalid")
    path = tmp_path / "repo"
    path.mkdir()
    return path, make_git_history(path, 5)


@pytest.fixture
def merged(repo: tuple[Path, list[str]]) -> tuple[Path, list[str], str]:
    """``repo`` with a side branch ``feature`` (one commit on the third) merged into
    ``main`` with ``--no-ff``; also the side commit's sha."""
    path, shas = repo
    r = git.Repo(path)
    r.git.checkout("-b", "feature", shas[2])
    (path / "f.txt").write_text("x")
    r.index.add(["f.txt"])
    side = r.index.commit("side work").hexsha
    r.git.checkout("main")
    r.git.merge("--no-ff", "-m", "merge feature", "feature")
    return path, shas, side
