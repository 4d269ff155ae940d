"""Exceptions of the recorder service, each with a hint saying what to do next.

    RecorderError
    ├── ConfigError          bad config file or bad stream definition
    ├── StreamExistsError    a stream of that name is already recorded
    ├── UnknownStreamError   no stream of that name
    └── TranscodeUnavailable the requested encoder cannot be opened on this host
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "RecorderError",
    "StreamExistsError",
    "TranscodeUnavailable",
    "UnknownStreamError",
]


class RecorderError(Exception):
    """Base of every error the recorder reports; ``hint`` says what to do next."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ConfigError(RecorderError):
    """The config file or a stream definition is invalid."""


class StreamExistsError(RecorderError):
    """A stream with this name is already configured."""


class UnknownStreamError(RecorderError):
    """No stream with this name is configured."""


class TranscodeUnavailable(RecorderError):
    """The requested encoder is missing or cannot be opened here (e.g. NVENC without a GPU)."""
