"""The data file of a series page: one line of JavaScript per commit, append-only.

A line is ``pwc(["<short sha>","<date>","<summary>",<median>,[<samples>]]);``: the commit's
label on the x axis, its date (UTC as recorded) and message for the hover text, the median
of its samples and every raw sample, in the series' own unit (not scaled: a page picks its
scale, so a new scale never rewrites the data). A commit without a result has a ``null``
median and no samples; a non-finite value is written ``null``. Values keep
:data:`SIGNIFICANT` digits. A line depends on its commit alone, so the text of a grown
history is the text of the old one followed by the new lines.

The page defines ``pwc`` before it loads the file with ``<script src>`` (works from
``file://``, no fetch); see :mod:`perfwatch.report.pages`.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence

import numpy as np

from perfwatch.model import Commit, FloatArray
from perfwatch.report.levels import medians_of

__all__ = ["SIGNIFICANT", "data_lines"]

SIGNIFICANT = 7  # digits of a value; hover text shows 4
_FMT = f"{{:.{SIGNIFICANT}g}}".format
SUMMARY_CHARS = 60
_FEW = 8  # rows below which medians are taken one by one


@functools.lru_cache(maxsize=8192)  # the series of one history share their commits
def _head(commit: Commit) -> str:
    fields = [commit.short, f"{commit.date:%Y-%m-%d %H:%M}", commit.summary[:SUMMARY_CHARS]]
    return "pwc([" + ",".join(json.dumps(f) for f in fields) + ","


def _num(x: float) -> str:
    return _FMT(x) if math.isfinite(x) else "null"


def _nums(values: list[float]) -> str:
    if all(map(math.isfinite, values)):
        return ",".join(map(_FMT, values))
    return ",".join(map(_num, values))


def _median(values: list[float]) -> float:
    """np.median of one short row, bit for bit (the middle value, or the mean of the two
    middle ones), without numpy's per-call overhead; NaN when empty or with a NaN."""
    if not values or any(map(math.isnan, values)):
        return math.nan
    v, n = sorted(values), len(values)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _medians(samples: Sequence[FloatArray]) -> list[float]:
    """Median of each array (NaN for an empty one). Few rows (an appended commit): one by
    one; many: :func:`perfwatch.report.levels.medians_of` (the same values: a test compares)."""
    if len(samples) < _FEW:
        return [_median(np.asarray(s, dtype=np.float64).tolist()) for s in samples]
    return list(medians_of(samples).tolist())


def data_lines(commits: Sequence[Commit], samples: Sequence[FloatArray], start: int = 0) -> str:
    """The lines of ``commits[start:]`` (``samples[i]`` belongs to ``commits[i]``)."""
    if len(commits) != len(samples):
        raise ValueError("data_lines needs one sample array per commit")
    rows = samples[start:]
    return "".join(f"{_head(c)}{_num(m)},[{_nums(np.asarray(s, dtype=np.float64).tolist())}]]);\n"
                   for c, s, m in zip(commits[start:], rows, _medians(rows), strict=True))
