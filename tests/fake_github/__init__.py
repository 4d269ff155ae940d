"""A fake GitHub REST API for tests: real HTTP on 127.0.0.1, checked against OpenAPI."""

from .server import FakeGitHub, Fault, Recorded
from .validation import SpecValidator

__all__ = ["FakeGitHub", "Fault", "Recorded", "SpecValidator"]
