"""asv configuration reading and the regressions.json writer against real asv 0.6.6 output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from perfwatch.adapters import asv_publish
from perfwatch.adapters.asv_config import find_config, load_asv_config
from perfwatch.adapters.asv_publish import Jump, RegressionRow
from perfwatch.errors import ConfigError

DATA = Path(__file__).resolve().parents[1] / "data" / "dashboard" / "asv-example-html"
C1 = "841eeac72bf4d479a5a919e48d45e9a020964ae3"
C2 = "85a7431b39212032a3b92a55e3dfe8a50b1dc681"


@pytest.fixture
def asv_html(tmp_path: Path) -> Path:
    """asv's index.json and (empty) graph files where asv 0.6.6 wrote them."""
    html = tmp_path / "html"
    html.mkdir()
    shutil.copy(DATA / "index.json", html / "index.json")
    for line in (DATA / "graphs-tree.txt").read_text().splitlines():
        (html / line).parent.mkdir(parents=True, exist_ok=True)
        (html / line).write_text("[]")
    return html


def test_regressions_json_matches_asv_output_exactly(asv_html: Path) -> None:
    golden = json.loads((DATA / "regressions.json").read_text())
    rows = []
    for name, _graph, _params, _idx, last, best, jumps in golden["regressions"]:
        bench, _, params = name.partition("(")
        (_a, _b, before, after), = jumps
        rows.append(RegressionRow(
            benchmark=bench, params=(params.rstrip(")"),) if params else None, machine="ci-box",
            last_value=last, best_value=best,
            jumps=(Jump(previous_commit=C1, commit=C2, single_commit=True, before=before,
                        after=after),)))
    index = asv_publish.read_index(asv_html)
    entries = asv_publish.regression_entries(rows, index, html_dir=asv_html, branch="main")
    path = asv_publish.write_regressions(asv_html, entries)
    assert json.loads(path.read_text()) == golden
    # asv writes it compact with json.dump's default separators
    assert path.read_text() == json.dumps(golden)


def test_commit_range_and_unknown_commits(asv_html: Path) -> None:
    index = asv_publish.read_index(asv_html)
    row = RegressionRow("bench_demo.time_fixed", None, "ci-box", 2.0, 1.0, (
        Jump(C1, C2, single_commit=False, before=1.0, after=2.0),
        Jump(C2, "f" * 40, single_commit=True, before=1.0, after=2.0)))  # not in asv's index
    [entry] = asv_publish.regression_entries([row], index, html_dir=asv_html, branch="main")
    assert entry[6] == [[0, 1, 1.0, 2.0]]
    other = RegressionRow("bench_demo.time_fixed", None, "other-box", 2.0, 1.0, row.jumps)
    assert asv_publish.regression_entries([other], index, html_dir=asv_html, branch="main") == []


def test_localize_index_serves_cdn_libraries_locally(tmp_path: Path) -> None:
    import asv

    www = Path(asv.__file__).parent / "www"
    html = tmp_path / "html"
    shutil.copytree(www, html)
    asv_publish.localize_index(html)
    text = (html / "index.html").read_text()
    assert "https://cdn" not in text and "https://code.jquery" not in text
    for ref in ("perfwatch/asv-vendor/jquery-3.3.1.min.js",
                "perfwatch/asv-vendor/css/bootstrap.min.css"):
        assert ref in text and (html / ref).is_file()
    assert text.count('href="perfwatch/index.html"') == 1
    asv_publish.localize_index(html)  # idempotent
    assert (html / "index.html").read_text() == text


def test_config_read_like_asv(tmp_path: Path) -> None:
    shutil.copy(DATA / "asv.conf.json", tmp_path / "asv.conf.json")
    (tmp_path / ".git").mkdir()
    config = load_asv_config(find_config(None, cwd=tmp_path))
    assert config.results_dir == tmp_path / ".asv" / "results"
    assert config.html_dir == tmp_path / ".asv" / "html"
    assert config.branches == ("main",) and config.branch == "main"
    assert config.show_commit_url == "https://github.com/owner/demo/commit/"
    assert config.repo_path == tmp_path and config.hash_length == 8


def test_config_defaults_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "asv.conf.jsonc"
    path.write_text('{\n // comment, as asv allows\n "version": 1, "repo": "https://x.invalid/r.git"}')
    config = load_asv_config(find_config(None, cwd=tmp_path))
    assert config.results_dir == tmp_path / "results" and config.html_dir == tmp_path / "html"
    assert config.branches == (None,) and config.show_commit_url == "#"
    assert config.repo_path is None


@pytest.mark.parametrize(("text", "message"), [
    ('{"version": 1}', "no 'repo' given"),
    ('{"repo": ".", "branches": []}', "'branches' must be a non-empty list"),
    ('{"repo": ".",', "not valid JSON"),
    ("[1]", "not a JSON object"),
])
def test_config_errors_say_what_to_do(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "asv.conf.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        load_asv_config(path)
    assert err.value.hint


def test_find_config_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no asv.conf.json"):
        find_config(None, cwd=tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        find_config(tmp_path / "nope.json", cwd=tmp_path)
