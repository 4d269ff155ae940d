"""perfwatch: benchmark and performance-regression service for a multi-stream video recorder."""

__version__ = "0.1.0"
