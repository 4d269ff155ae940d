"""Human units for axes and hover text: one scale per figure, chosen from its values."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Scale", "format_value", "scale_for"]

_TIME = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
_BYTES = (("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10), ("B", 1.0))


@dataclass(frozen=True)
class Scale:
    """Divide a value by ``factor`` to show it in ``label``."""

    label: str
    factor: float

    def __call__(self, value: float) -> float:
        return value / self.factor


def scale_for(unit: str, typical: float) -> Scale:
    """The scale that shows ``typical`` (a value in ``unit``) as 1 .. 1000."""
    table = _TIME if unit in ("seconds", "s") else _BYTES if unit in ("bytes", "B") else ()
    if not table or not math.isfinite(typical) or typical <= 0:
        return Scale(unit, 1.0)
    for label, factor in table:
        if typical >= factor:
            return Scale(label, factor)
    return Scale(*table[-1])


def format_value(value: float, unit: str) -> str:
    """``0.0123`` seconds -> ``"12.3 ms"``; other units keep their name."""
    if not math.isfinite(value):
        return "n/a"
    scale = scale_for(unit, abs(value))
    return f"{scale(value):.4g} {scale.label}".strip()
