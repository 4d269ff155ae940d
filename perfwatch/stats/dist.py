"""The few distribution functions the detector needs, from ``scipy.special``.

``scipy.stats`` costs about 0.6 s to import (its distribution classes are built at import
time), more than a whole incremental detection run; ``scipy.special`` holds the same
functions for a quarter of that. Each function here equals its ``scipy.stats`` namesake
(``tests/unit/stats/test_dist.py`` checks them against it on a grid).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any

__all__ = ["binom_half_ppf", "binom_sf", "norm_isf", "norm_ppf", "norm_sf", "t_ppf", "t_sf"]


def _special() -> Any:
    """``scipy.special``, imported on first use: a republish that runs none of these
    functions does not pay for the import (about 0.2 s)."""
    from scipy import special

    return special


def norm_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z (``scipy.stats.norm.sf``)."""
    return float(_special().ndtr(-x))


def norm_ppf(q: float) -> float:
    """The q-quantile of a standard normal (``scipy.stats.norm.ppf``)."""
    return float(_special().ndtri(q))


def norm_isf(q: float) -> float:
    """x with P(Z > x) = q (``scipy.stats.norm.isf``)."""
    return -float(_special().ndtri(q))


def binom_sf(k: float, n: int, p: float) -> float:
    """P(X > k) for X ~ Binomial(n, p) (``scipy.stats.binom.sf``)."""
    k = math.floor(k)
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return float(_special().bdtrc(k, n, p))


def t_sf(x: float, df: float) -> float:
    """P(T > x) for Student's T with ``df`` degrees of freedom (``scipy.stats.t.sf``)."""
    return float(_special().stdtr(df, -x))


def t_ppf(q: float, df: float) -> float:
    """The q-quantile of Student's T with ``df`` degrees of freedom (``scipy.stats.t.ppf``)."""
    return float(_special().stdtrit(df, q))


@functools.lru_cache(maxsize=1024)
def binom_half_ppf(q: float, n: int) -> int:
    """``scipy.stats.binom.ppf(q, n, 1/2)`` in exact integer arithmetic (no scipy): the
    smallest k with P(X <= k) >= q.

    P(X <= k) = sum_{i <= k} C(n, i) / 2^n exactly; compared, as scipy does, with
    q (1 - 1e-10). Tested equal to ``scipy.stats.binom.ppf`` for n = 1 .. 1000 at the tail
    quantiles (at q = 1/2 exact ties differ from scipy's rounding; unused).
    """
    if q <= 0.0:
        return -1
    if q >= 1.0:
        return n
    target = Fraction(q * (1.0 - 1e-10)) * (1 << n)
    total, term = 0, 1
    for k in range(n + 1):
        total += term
        if total >= target:
            return k
        term = term * (n - k) // (k + 1)
    return n
