"""The one exception tree of perfwatch.

Every error a user can meet is a :class:`PerfwatchError`. ``cli.main`` catches it once,
prints ``str(err)`` as one line and exits with status 2. Each message says what went
wrong *and what to do next*.

    PerfwatchError
    ├── ConfigError              bad command line, config file or hardware profile
    │   └── HardwareMismatchError    this host is not the profile it claims to be
    ├── ResultsError             asv results cannot be used
    │   └── ResultsFormatError       a results file is corrupt, truncated or of an unknown version
    ├── RepositoryError          git repository, branch or commit problems
    │   └── MissingCommitError       a commit named in results is not in the repository
    ├── GitHubError              the GitHub API refused or failed
    │   └── RateLimitedError         still rate-limited after waiting as long as allowed
    ├── HarnessError             running benchmarks or the system under test failed
    └── ProfilingError           py-spy could not record or a profile cannot be read
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "GitHubError",
    "HardwareMismatchError",
    "HarnessError",
    "MissingCommitError",
    "PerfwatchError",
    "ProfilingError",
    "RateLimitedError",
    "RepositoryError",
    "ResultsError",
    "ResultsFormatError",
]


class PerfwatchError(Exception):
    """Base of every error perfwatch reports to a user.

    ``message`` says what happened; ``hint`` says what to do next. Context attributes
    (``path``, ``commit``, ``benchmark``) are kept for programs that catch the error.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        path: Path | str | None = None,
        commit: str | None = None,
        benchmark: str | None = None,
    ) -> None:
        self.message = message
        self.hint = hint
        self.path = Path(path) if path is not None else None
        self.commit = commit
        self.benchmark = benchmark
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text}; {self.hint}"
        return text.replace("\n", " ")


class ConfigError(PerfwatchError):
    """A command line, configuration file or hardware profile is wrong."""


class HardwareMismatchError(ConfigError):
    """The host differs from the hardware profile it is asked to run as."""


class ResultsError(PerfwatchError):
    """asv results cannot be used (missing directory, no results, unknown machine)."""


class ResultsFormatError(ResultsError):
    """A results file is corrupt, truncated, malformed or of an unsupported version."""


class RepositoryError(PerfwatchError):
    """The git repository, branch or a commit cannot be read."""


class MissingCommitError(RepositoryError):
    """A commit named by results or by the user is not in the repository."""


class GitHubError(PerfwatchError):
    """The GitHub API refused a request or kept failing."""

    def __init__(self, message: str, *, status: int | None = None, hint: str = "") -> None:
        self.status = status
        super().__init__(message, hint=hint)


class RateLimitedError(GitHubError):
    """GitHub kept rate-limiting past the longest wait perfwatch allows."""


class HarnessError(PerfwatchError):
    """Running benchmarks or the system under test failed."""


class ProfilingError(PerfwatchError):
    """py-spy could not record, or a profile file cannot be read."""
