"""False-discovery control across a whole suite (Benjamini-Hochberg step-up)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["benjamini_hochberg"]

FloatArray = NDArray[np.float64]


def benjamini_hochberg(pvalues: FloatArray) -> FloatArray:
    """Benjamini-Hochberg q-values, in the order of ``pvalues``.

    ``q_(i) = min_{j >= i} p_(j) * m / j`` over the m finite p-values, capped at 1.
    NaN p-values (nothing tested) stay NaN and do not count in m.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    q = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return q
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return q
