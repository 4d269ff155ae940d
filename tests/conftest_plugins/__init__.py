"""pytest plugins of the test tiers (registered by tests/conftest.py): tier selection, the
session-end leftover check, per-tier JUnit XML and the markdown job summary."""
