"""First-parent commit lists from ``git log`` in a subprocess (no gitpython).

:class:`perfwatch.adapters.git_history.GitHistory` reads the same format; this module is
for the republish path, which asks git for the few commits after the last one it knows
and must not pay gitpython's import.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from perfwatch.model import Commit

__all__ = ["LOG_FORMAT", "commits_after", "parse_log"]

_FIELD_SEP = "\x1f"
LOG_FORMAT = _FIELD_SEP.join(("%H", "%ct", "%s"))  # sha, committer time, summary


def parse_log(out: str) -> list[Commit]:
    """Commits of ``git log --format=LOG_FORMAT`` output, in the order given."""
    commits = []
    for line in out.splitlines():
        sha, ts, summary = (line.split(_FIELD_SEP, 2) + ["", ""])[:3]
        commits.append(Commit(sha=sha, date=datetime.fromtimestamp(int(ts), tz=UTC),
                              summary=summary))
    return commits


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def commits_after(repo: Path, last: str, branch: str) -> list[Commit] | None:
    """The first-parent commits of ``branch`` after ``last``, oldest first; None when
    ``last`` is not on ``branch``'s first-parent line (rewritten history, another branch)
    or git cannot answer."""
    out = _git(repo, "log", "--first-parent", f"--format={LOG_FORMAT}%x1f%P",
               f"{last}..{branch}", "--")
    if out is None:
        return None
    lines = out.splitlines()
    if not lines:
        tip = _git(repo, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}")
        return [] if tip is not None and tip.strip() == last else None
    oldest_parents = lines[-1].rsplit(_FIELD_SEP, 1)[1].split()
    if not oldest_parents or oldest_parents[0] != last:
        return None
    commits = parse_log("\n".join(line.rsplit(_FIELD_SEP, 1)[0] for line in lines))
    commits.reverse()
    return commits
