"""Series pages as a shell plus an append-only data file (perfwatch.publish_pages)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from perfwatch import analysis
from perfwatch.adapters.asv_config import AsvConfig
from perfwatch.adapters.publish_cache import PageManifest
from perfwatch.model import Change, Commit, Direction, FloatArray, Series, SeriesKey
from perfwatch.publish_pages import (
    SERIES_DATA_DIR,
    PageWriter,
    series_data_lines,
    series_data_text,
    series_shell,
    series_slug,
    write_hardware_pages,
    write_series_pages,
)
from perfwatch.report.levels import commit_medians, segments

T0 = datetime(2026, 1, 5, tzinfo=UTC)
URL = "https://github.com/example/nvr/commit/"
KEY = SeriesKey("bench.time_x", ("10",), "ci-box")
LINE = re.compile(r"pwc\((.*)\);")


def _commits(n: int) -> tuple[Commit, ...]:
    return tuple(Commit(f"{i:08x}" + "a" * 32, T0 + timedelta(hours=i), f'change "{i}" </script> é')
                 for i in range(n))


def _random_samples(rng: np.random.Generator, n: int) -> tuple[FloatArray, ...]:
    out = []
    for _ in range(n):
        size = int(rng.choice([0, 0, 1, 2, 5, 6]))
        s = 1e-3 * (1 + 0.05 * rng.standard_normal(size)) * 10.0 ** rng.integers(-4, 5)
        if size and rng.random() < 0.1:
            s[int(rng.integers(size))] = rng.choice([np.nan, np.inf, -np.inf])
        out.append(s)
    return tuple(out)


def _config(tmp_path: Path) -> AsvConfig:
    return AsvConfig(path=tmp_path / "asv.conf.json", root=tmp_path, project="nvr",
                     project_url="", repo=".", repo_path=tmp_path, results_dir=tmp_path / "r",
                     html_dir=tmp_path / "html", branches=(None,), show_commit_url=URL,
                     hash_length=8)


def _rows(text: str) -> list[list[object]]:
    rows = []
    for line in text.splitlines():
        m = LINE.fullmatch(line)
        assert m, line
        rows.append(json.loads(m.group(1), parse_constant=lambda c: pytest.fail(c)))
    return rows


def test_data_text_is_the_old_text_and_the_new_lines(rng: np.random.Generator) -> None:
    commits, samples = _commits(60), _random_samples(rng, 60)
    whole = series_data_text(commits, samples)
    assert whole.count("\n") == 60
    for n in (0, 1, 17, 59, 60):
        assert series_data_text(commits[:n], samples[:n]) \
            + series_data_lines(commits, samples, n) == whole


def test_data_lines_are_json_rows_of_raw_values(rng: np.random.Generator) -> None:
    commits, samples = _commits(60), _random_samples(rng, 60)
    rows = _rows(series_data_text(commits, samples))  # JSON: valid JavaScript, no NaN/Infinity
    for c, s, (label, date, summary, median, values) in zip(commits, samples, rows, strict=True):
        assert (label, date, summary) == (c.short, f"{c.date:%Y-%m-%d %H:%M}", c.summary)
        assert isinstance(values, list) and len(values) == s.size
        for v, x in zip(values, s.tolist(), strict=True):  # unscaled, 7 significant digits
            assert v is None if not math.isfinite(x) else v == pytest.approx(x, rel=1e-6)
        if not s.size or not np.isfinite(np.median(s)):
            assert median is None
        else:
            assert median == pytest.approx(float(np.median(s)), rel=1e-6)


def _planted(rng: np.random.Generator, n: int, machine: str = "ci-box") -> Series:
    samples = tuple(np.empty(0) if i % 7 == 3 else
                    2e-3 * (1.4 if i >= n // 2 else 1.0) * (1 + 0.01 * rng.standard_normal(5))
                    for i in range(n))
    return Series(SeriesKey(KEY.benchmark, KEY.params, machine), "seconds",
                  Direction.LOWER_IS_BETTER, _commits(n), samples)


def _change(s: Series) -> Change:
    at = len(s.commits) // 2
    return Change(key=s.key, unit="seconds", commit=s.commits[at].sha,
                  previous_commit=s.commits[at - 1].sha, direction="regression",
                  rel_change=0.4, ci=(0.39, 0.41), pvalue=1e-9, qvalue=1e-8, index=at)


def _shell(tmp_path: Path, s: Series) -> str:
    change = _change(s)
    return series_shell(_config(tmp_path), s.key, s.unit, s.direction, s.commits,
                        commit_medians(s), [change], segments(s, [change.index]), [])


def test_shell_does_not_grow_with_the_history(rng: np.random.Generator, tmp_path: Path) -> None:
    short, long = _planted(rng, 40), _planted(rng, 400)
    page = _shell(tmp_path, long)
    assert abs(len(page) - len(_shell(tmp_path, short))) < 200
    assert f'<script data-pw="{series_slug(KEY)}" src="data/{series_slug(KEY)}.js?n=400">' in page
    assert "Regression +40.0%" in page and "2 ms → 2.8 ms" in page
    assert f'href="{URL}{long.commits[200].sha}"' in page
    assert long.commits[350].short not in page  # labels of plain commits come from the data
    spec = json.loads(page.split("var f=")[1].split(";f.layout.template=")[0])
    assert [t["name"] for t in spec["data"]][:2] == ["samples", "median per commit"]
    assert spec["data"][0]["y"] == [] and spec["layout"]["yaxis"]["title"]["text"] == \
        "seconds (ms)"


def _history(series: list[Series]) -> analysis.History:
    return analysis.History(series=tuple(series), commits=series[0].commits, missing_commits=(),
                            machines=tuple(sorted({s.key.machine for s in series})), branch="main")


def _publish(tmp_path: Path, series: list[Series]) -> PageWriter:
    root = tmp_path / "html" / "perfwatch"
    writer = PageWriter(root, PageManifest(root / ".manifest"), "r1")
    changes = {s.key: [_change(s)] for s in series}
    segs = {s.key: segments(s, [_change(s).index]) for s in series}
    hashes = {s.key: f"{len(s.commits)}" for s in series}
    history = _history(series)
    write_series_pages(_config(tmp_path), history, writer, changes, segs, hashes,
                       lambda *_: None)
    write_hardware_pages(history, writer, changes, segs, hashes)
    writer.manifest.save()
    return writer


def test_pages_write_data_files_and_keep_unchanged_ones(rng: np.random.Generator,
                                                        tmp_path: Path) -> None:
    a, b = _planted(rng, 30), _planted(rng, 30, "gpu-box")
    first = _publish(tmp_path, [a, b])
    assert (first.written, first.data_written) == (3, 2)  # 2 series pages + 1 hardware page
    root = tmp_path / "html" / "perfwatch"
    data = root / SERIES_DATA_DIR / f"{series_slug(a.key)}.js"
    assert data.read_text() == series_data_text(a.commits, a.samples)
    hardware = next((root / "hardware").glob("*.html")).read_text()
    assert f'src="../series/data/{series_slug(b.key)}.js?n=30"' in hardware
    again = _publish(tmp_path, [a, b])
    assert (again.written, again.kept, again.data_written, again.data_kept) == (0, 3, 0, 2)


def test_publishing_pages_imports_no_plotly() -> None:
    code = ("import sys, perfwatch.publish_pages; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'plotly', 'git', 'scipy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_template_copy_matches_installed_plotly() -> None:
    pio = pytest.importorskip("plotly.io")
    from perfwatch.report import plots

    assert plots.template() == json.loads(json.dumps(
        pio.templates["plotly_white"].to_plotly_json()))


def test_appended_rows_have_the_medians_of_a_whole_publish(rng: np.random.Generator) -> None:
    """A few new rows take their medians one by one, a whole file reduces rows of one size
    at once: both give numpy's median, bit for bit (here as the written text)."""
    commits, samples = _commits(400), _random_samples(rng, 400)
    whole = series_data_text(commits, samples).splitlines(keepends=True)
    for n in range(393, 400):
        assert "".join(whole[:n]) + series_data_lines(commits, samples, n) == "".join(whole)
    few = [np.median(s) if s.size else np.nan for s in samples]
    many = [r[3] for r in _rows("".join(whole))]
    assert all(m is None if not np.isfinite(f) else m == pytest.approx(f, rel=1e-6)
               for f, m in zip(few, many, strict=True))
