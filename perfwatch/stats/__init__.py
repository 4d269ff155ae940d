"""Statistics core: pure functions over numpy arrays (randomness passed in).

- :func:`compare_samples` / :func:`decide`: base against head on raw samples.
- :func:`benjamini_hochberg`: false-discovery control across a suite.
- :func:`detect_change_points`: level shifts over a commit history.
"""

from perfwatch.stats.changepoint import ChangePoint, detect_change_points
from perfwatch.stats.decision import Decision, decide
from perfwatch.stats.fdr import benjamini_hochberg
from perfwatch.stats.two_sample import TwoSampleResult, compare_samples

__all__ = [
    "ChangePoint",
    "Decision",
    "TwoSampleResult",
    "benjamini_hochberg",
    "compare_samples",
    "decide",
    "detect_change_points",
]
