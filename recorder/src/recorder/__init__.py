"""Reference multi-stream video recorder: the system under test of perfwatch."""

__version__ = "0.1.0"
