"""Series whose samples are not all positive: zeros, negative values, all-equal values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from perfwatch.analysis import NO_HISTORY_NOTE, History, compare_series, detect_history
from perfwatch.cli import main
from perfwatch.linear_compare import compare_linear
from perfwatch.model import Commit, Direction, FloatArray, Series, SeriesKey, Verdict
from perfwatch.synthetic import SyntheticSuite, build_suite

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _commits(n: int) -> tuple[Commit, ...]:
    return tuple(Commit(f"{i:040x}", _T0 + timedelta(hours=i)) for i in range(n))


def _series(name: str, samples: list[FloatArray], unit: str = "count",
            direction: Direction = Direction.LOWER_IS_BETTER) -> Series:
    return Series(SeriesKey(name, None, "box"), unit, direction, _commits(len(samples)),
                  tuple(np.asarray(s, dtype=np.float64) for s in samples))


def _pair(rng: np.random.Generator) -> tuple[list[Series], list[Series]]:
    """Base and head: one series per case, each with one commit of 10 samples."""
    cases = {
        # name: (base samples, head samples)
        "zeros": (np.zeros(10), np.zeros(10)),
        "equal_positive": (np.full(10, 7.0), np.full(10, 7.0)),
        "rss_slope": (rng.normal(-100.0, 3.0, 10), rng.normal(-50.0, 3.0, 10)),
        "slope_same": (rng.normal(-100.0, 3.0, 10), rng.normal(-100.0, 3.0, 10)),
        "drops_appear": (np.zeros(10), np.array([4.0, 5, 6, 5, 4, 5, 6, 5, 5, 4])),
        "time_up": (rng.normal(1.0, 0.01, 10), rng.normal(1.2, 0.01, 10)),
    }
    base = [_series(k, [b]) for k, (b, _) in cases.items()]
    head = [_series(k, [h]) for k, (_, h) in cases.items()]
    return base, head


def test_compare_with_zeros_negatives_and_equal_values(rng: np.random.Generator) -> None:
    base, head = _pair(rng)
    report = compare_series(base, head, rng=rng, base_label="a", head_label="b")
    by = {c.key.benchmark: c for c in report.comparisons}
    assert set(by) == {"zeros", "equal_positive", "rss_slope", "slope_same", "time_up"}
    assert by["zeros"].verdict is Verdict.NO_CHANGE and by["zeros"].rel_change == 0.0
    assert by["equal_positive"].verdict is Verdict.NO_CHANGE
    # -100 -> -50 per minute: +50% of |base|, worse for a lower-is-better slope
    slope = by["rss_slope"]
    assert slope.verdict is Verdict.REGRESSION and "linear" in slope.note
    assert 0.4 < slope.rel_change < 0.6 and slope.ci[0] < slope.rel_change < slope.ci[1]
    assert slope.base_median < 0 and slope.head_median < 0
    assert by["slope_same"].verdict in (Verdict.NO_CHANGE, Verdict.UNSURE)
    assert by["time_up"].verdict is Verdict.REGRESSION
    assert by["time_up"].note == NO_HISTORY_NOTE  # no history: between-run noise unknown
    (undef,) = report.not_compared
    assert undef.key.benchmark == "drops_appear" and undef.flagged
    assert undef.worse  # 0 -> 5 dropped packets is a regression without a relative size
    assert undef.absolute_change == pytest.approx(5.0)
    assert "base median is 0" in undef.reason and "+5" in undef.reason


def test_drops_appearing_from_zero_is_worse_only_for_lower_is_better(
        rng: np.random.Generator) -> None:
    base, head = _pair(rng)
    flipped = [_series(s.key.benchmark, list(s.samples), direction=Direction.HIGHER_IS_BETTER)
               for s in head]
    report = compare_series(base, flipped, rng=rng, base_label="a", head_label="b")
    (undef,) = report.not_compared
    assert undef.flagged and not undef.worse


def test_linear_comparison_matches_ratio_test_pvalue(rng: np.random.Generator) -> None:
    """Ranks decide the p-value: shifting both sides below zero must not change it."""
    from perfwatch import stats

    b, h = rng.normal(10.0, 1.0, 12), rng.normal(11.0, 1.0, 9)
    ratio = stats.compare_samples(b, h, rng=rng)
    linear = compare_linear(b - 20.0, h - 20.0)
    assert linear.pvalue == pytest.approx(ratio.pvalue)
    assert linear.statistic == ratio.statistic
    assert linear.shift_low < linear.shift < linear.shift_high
    assert 0.0 < linear.shift < 2.5


def _history(series: list[Series]) -> History:
    return History(series=tuple(series), commits=series[0].commits, missing_commits=(),
                   machines=("box",), branch="main")


def test_detect_history_with_zeros_and_negatives(rng: np.random.Generator) -> None:
    n = 40
    step = [rng.normal(-100.0 if i < 20 else -40.0, 3.0, 10) for i in range(n)]
    series = [
        _series("zeros", [np.zeros(10) for _ in range(n)]),
        _series("rare_drops", [(rng.random(10) < 0.05).astype(float) for _ in range(n)]),
        _series("slope_step", step, unit="bytes/min"),
        _series("around_zero", [rng.normal(0.0, 1.0, 10) for _ in range(n)]),
        _series("time", [rng.normal(1.0, 0.01, 10) for _ in range(n)], unit="seconds"),
    ]
    changes = detect_history(_history(series), rng=rng)
    assert [(c.key.benchmark, c.index) for c in changes] == [("slope_step", 20)]
    assert changes[0].direction == "regression" and changes[0].rel_change > 0


def _zero_track(suite: SyntheticSuite, name: str, values: list[float]) -> None:
    """Replace one benchmark's samples by ``values`` in every result file."""
    for path in suite.results_dir.glob("*/*-*.json"):
        data = json.loads(path.read_text())
        row = data["results"][name]
        row[0] = [float(np.median(values))]
        row[data["result_columns"].index("samples")] = [values]
        path.write_text(json.dumps(data))


def test_cli_compare_and_detect_with_zero_samples(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    suite = build_suite(tmp_path / "s", n_commits=12, plants=(), gaps=frozenset())
    _zero_track(suite, "ingest.track_throughput", [0.0] * 10)
    args = ["--results-dir", str(suite.results_dir), "--repo", str(suite.repo)]
    assert main(["compare", suite.commits[0], suite.commits[-1], *args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (zero,) = [c for c in doc["comparisons"] if c["benchmark"] == "ingest.track_throughput"]
    assert zero["verdict"] == "no change" and zero["ci"] == [None, None]
    assert main(["compare", suite.commits[0], suite.commits[-1], *args]) == 0
    assert "ingest.track_throughput" in capsys.readouterr().out
    assert main(["detect", *args, "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []
