"""Frozen value types shared by the adapters, the use cases and the reports.

Nothing here does I/O. Sample arrays are numpy float64 arrays; a commit without a
result in a :class:`Series` has an empty array (a gap), never a made-up value.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Benchmark",
    "Change",
    "Commit",
    "Comparison",
    "Direction",
    "Series",
    "SeriesKey",
    "Verdict",
    "direction_for",
]

FloatArray = NDArray[np.float64]


class Direction(enum.Enum):
    """Which way is better for a metric."""

    LOWER_IS_BETTER = "lower"
    HIGHER_IS_BETTER = "higher"

    def is_worse(self, rel_change: float) -> bool:
        """True when a relative change (new/old - 1) moves the metric the bad way."""
        if self is Direction.LOWER_IS_BETTER:
            return rel_change > 0
        return rel_change < 0


class Verdict(enum.Enum):
    """The outcome of one comparison. ``UNSURE`` means: rerun, the data cannot decide."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    NO_CHANGE = "no change"
    UNSURE = "unsure"


# Units where a larger number is better. Everything else (seconds, bytes, latency,
# CPU %, drops, errors) is lower-is-better.
_HIGHER_IS_BETTER_UNITS = frozenset(
    {
        "fps",
        "frames/s",
        "frames_per_second",
        "bytes/s",
        "bytes_per_second",
        "B/s",
        "MB/s",
        "MiB/s",
        "packets/s",
        "ops/s",
        "requests/s",
        "req/s",
        "streams",
        "items/s",
        "throughput",
    }
)


def direction_for(bench_type: str, unit: str, name: str = "") -> Direction:
    """Direction of a metric from its asv type, unit and name.

    ``time``, ``mem`` and ``peakmem`` are lower-is-better. A ``track`` benchmark is
    higher-is-better when its unit is a rate or capacity ("fps", "bytes/s", "streams"),
    or when its name says so (``track_throughput_*``, ``*_per_second``, ``*_limit``).
    """
    if bench_type in ("time", "mem", "peakmem"):
        return Direction.LOWER_IS_BETTER
    u = unit.strip()
    is_rate = u in _HIGHER_IS_BETTER_UNITS or u.endswith(("/s", "per_second"))
    if is_rate and not any(word in name for word in ("latency", "error", "drop", "lost")):
        return Direction.HIGHER_IS_BETTER
    leaf = name.rsplit(".", 1)[-1]
    if any(word in leaf for word in ("throughput", "per_second", "_fps", "stream_limit")):
        return Direction.HIGHER_IS_BETTER
    return Direction.LOWER_IS_BETTER


@dataclass(frozen=True)
class Commit:
    """One commit of the benchmarked history."""

    sha: str
    date: datetime
    summary: str = ""

    @property
    def short(self) -> str:
        return self.sha[:8]


@dataclass(frozen=True)
class Benchmark:
    """One asv benchmark as described by ``benchmarks.json``."""

    name: str
    type: str  # "time" | "mem" | "peakmem" | "track"
    unit: str
    version: str = ""
    param_names: tuple[str, ...] = ()
    params: tuple[tuple[str, ...], ...] = ()

    @property
    def direction(self) -> Direction:
        return direction_for(self.type, self.unit, self.name)


@dataclass(frozen=True, order=True)
class SeriesKey:
    """Identifies one series: benchmark x one parameter combination x machine."""

    benchmark: str
    params: tuple[str, ...] | None
    machine: str

    @property
    def label(self) -> str:
        if self.params:
            return f"{self.benchmark}({', '.join(self.params)})"
        return self.benchmark


@dataclass(frozen=True, eq=False)
class Series:
    """The history of one :class:`SeriesKey`: samples per commit, oldest first.

    ``samples[i]`` belongs to ``commits[i]``; an empty array is a commit without a
    result (not benchmarked, skipped or failed).
    """

    key: SeriesKey
    unit: str
    direction: Direction
    commits: tuple[Commit, ...]
    samples: tuple[FloatArray, ...] = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.commits) != len(self.samples):
            raise ValueError("a Series needs one sample array per commit")

    @property
    def measured(self) -> list[int]:
        """Indices of commits that have at least one sample."""
        return [i for i, s in enumerate(self.samples) if s.size]


@dataclass(frozen=True)
class Change:
    """A change point found in a history, as reported by ``perfwatch detect``.

    ``commit`` is the first commit at the new level and ``previous_commit`` the last
    commit measured at the old level; commits between them were not benchmarked.
    """

    key: SeriesKey
    unit: str
    commit: str
    previous_commit: str
    direction: str  # "regression" | "improvement"
    rel_change: float
    ci: tuple[float, float]
    pvalue: float
    qvalue: float | None = None
    index: int = -1  # position of ``commit`` in the history
    # sha of the suite-wide shift (most series of the machine at once) this change is part of
    suite_shift: str | None = None


@dataclass(frozen=True)
class Comparison:
    """Base against head for one series, as reported by ``perfwatch compare``.

    ``rel_change`` is head/base - 1 of the medians; ``ci`` its confidence interval.
    ``extra_runs`` is set for :attr:`Verdict.UNSURE`: how many more runs per side
    would settle it. ``unstable`` marks series too noisy to judge at the asked size.
    """

    key: SeriesKey
    unit: str
    direction: Direction
    verdict: Verdict
    rel_change: float
    ci: tuple[float, float]
    pvalue: float
    qvalue: float
    n_base: int
    n_head: int
    base_median: float
    head_median: float
    extra_runs: int | None = None
    unstable: bool = False
    note: str = ""


def as_array(values: Sequence[float] | FloatArray) -> FloatArray:
    """A float64 array of the finite values in ``values``."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]
