"""Read-only git history for analysis (gitpython), a narrow port in the spirit of asv's Repo.

It answers only what the use cases ask: the first-parent commits of a branch (oldest
first, with dates and summaries), a ref or short sha resolved to a full sha, and the
merge-base of two commits. It never writes to the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

from perfwatch.adapters.git_log import LOG_FORMAT, parse_log
from perfwatch.errors import MissingCommitError, RepositoryError
from perfwatch.model import Commit

if TYPE_CHECKING:
    import git

__all__ = ["GitHistory", "open_history"]


@dataclass(frozen=True)
class GitHistory:
    """A git repository opened read-only.

    Use it as a context manager (or call :meth:`close`): gitpython keeps persistent
    ``git cat-file`` processes per repository until it is closed.
    """

    path: Path
    repo: git.Repo  # (gitpython is imported when a repository is opened: 0.05 s)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End gitpython's helper processes now (not when the Repo is collected)."""
        self.repo.close()

    def current_branch(self) -> str:
        """The checked-out branch, or ``HEAD`` when detached."""
        try:
            return str(self.repo.active_branch.name)
        except TypeError:  # detached HEAD
            return "HEAD"

    def resolve(self, ref: str) -> str:
        """The full 40-hex sha of a branch, tag, ``HEAD~n`` or (short) sha."""
        import git

        try:
            return str(self.repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}")).strip()
        except git.GitCommandError:
            raise MissingCommitError(
                f"{ref!r} is not a commit of {self.path}",
                hint="check the sha or ref (`git log --oneline`), or fetch the missing history",
                commit=ref,
            ) from None

    def first_parent(self, branch: str | None = None) -> list[Commit]:
        """Commits of ``branch`` (default: the current branch) along first parents, oldest first."""
        import git

        ref = branch or "HEAD"
        tip = self.resolve(ref)
        try:
            out = self.repo.git.log("--first-parent", f"--format={LOG_FORMAT}", tip)
        except git.GitCommandError as err:
            raise RepositoryError(
                f"cannot read the history of {ref!r} in {self.path}: {err.stderr.strip()}",
                hint="check the branch name with `git branch -a`",
            ) from None
        commits = parse_log(str(out))
        commits.reverse()
        return commits

    def merge_base(self, a: str, b: str) -> str:
        """The best common ancestor of two commits (the base a pull request forked from)."""
        import git

        sha_a, sha_b = self.resolve(a), self.resolve(b)
        try:
            out = str(self.repo.git.merge_base(sha_a, sha_b)).strip()
        except git.GitCommandError:
            out = ""
        if not out:
            raise RepositoryError(
                f"{a} and {b} have no common ancestor in {self.path}",
                hint="fetch the full history of both branches (`git fetch --unshallow`)",
            )
        return out.splitlines()[0]


def open_history(path: Path) -> GitHistory:
    """Open the repository at ``path`` (or one of its parents) read-only; close it after
    use (``with open_history(path) as git: ...``)."""
    import git

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        raise RepositoryError(f"{path} does not exist", hint="pass --repo PATH of a git checkout",
                              path=path) from None
    except git.InvalidGitRepositoryError:
        raise RepositoryError(f"{path} is not a git repository",
                              hint="pass --repo PATH of a git checkout", path=path) from None
    if not repo.head.is_valid():
        repo.close()
        raise RepositoryError(f"{path} has no commits yet", hint="commit something first",
                              path=path)
    return GitHistory(path=path, repo=repo)
