"""asv's graph file names (``asv.util.sanitize_filename``, ``asv.graph.Graph.get_file_path``,
asv 0.6, 3-clause BSD), without importing asv (whose import loads its plugin manager,
about 0.15 s). ``tests/unit/adapters/test_asv_paths.py`` compares them with asv's."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["graph_file_path", "sanitize_filename"]

_FORBIDDEN = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                        *(f"LPT{i}" for i in range(1, 10))})
_UNSAFE = re.compile('[<>:"/\\^|?*\x00-\x1f]')  # asv's pattern, as written in asv/util.py


def sanitize_filename(filename: str) -> str:
    """A string made safe as a file name, as asv (and its ``asv.js``) makes it."""
    filename = _UNSAFE.sub("_", filename)
    if filename.upper() in _FORBIDDEN:
        filename += "_"
    return filename


def graph_file_path(params: Mapping[str, str | None], benchmark_name: str) -> str:
    """``graphs/<sorted param parts>/<benchmark>`` (no ``.json``), with ``os.sep``."""
    parts = []
    for key, val in params.items():
        part = f"{key}-null" if val is None else f"{key}-{val}" if val else f"{key}"
        parts.append(sanitize_filename(part))
    parts.sort()
    return os.path.join("graphs", *parts, sanitize_filename(benchmark_name))
