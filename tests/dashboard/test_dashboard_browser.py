"""The published dashboard in a real headless Chromium (Debian's, at /usr/bin/chromium).

Every request a page makes goes through a route that lets through only the dashboard's
own server on 127.0.0.1 (and file:// for the serverless pages); anything else is
aborted and recorded, and each test asserts the record is empty. Screenshots go to
.artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.request import urlopen

import pytest
from dashboard_planted import AFTER_GAP_AT, REGRESSION_AT, Published

from perfwatch.model import SeriesKey
from perfwatch.publish import series_slug

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
REMUX = SeriesKey("bench_ingest.time_remux", None, "ci-box")

sync_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Watched:
    """A page with its console errors and the requests that tried to leave 127.0.0.1."""

    page: Any
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium "
                    "(scripts/system-deps.sh installs it: apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def watched(browser: Any, dashboard_url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    w = Watched(page)
    page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(str(e)))

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith((dashboard_url + "/", "file://")):
            r.continue_()
        else:
            w.outside.append(url)
            r.abort()

    context.route("**/*", route)
    try:
        yield w
    finally:
        context.close()
    assert w.outside == [], "requests left 127.0.0.1"


def _local_links(page: Any) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return [h for h in hrefs if h.startswith(("http://127.0.0.1", "file://"))]


def _resolves(url: str) -> bool:
    clean = urljoin(url, urlsplit(url).path)  # drop #fragment and ?query
    if clean.startswith("file://"):
        return Path(urlsplit(clean).path).is_file()
    with urlopen(clean, timeout=10) as resp:
        return bool(resp.status == 200)


def test_overview_lists_planted_changes(watched: Watched, dashboard_url: str,
                                        published: Published) -> None:
    page = watched.page
    page.goto(f"{dashboard_url}/perfwatch/index.html")
    rows = page.locator("#findings tbody tr")
    assert rows.count() == 8
    first = rows.nth(0).inner_text()  # newest first: the improvement at commit 30
    assert "improvement" in first
    sha = published.project.shas[REGRESSION_AT][:8]
    page.select_option("#direction", "regression")
    assert page.locator("#shown").inner_text() == "4"
    visible = page.locator("#findings tbody tr:visible")
    assert visible.count() == 4 and sha in visible.nth(0).inner_text()
    page.select_option("#direction", "")
    page.select_option("#machine", "gpu-box")
    assert page.locator("#shown").inner_text() == "4"
    page.select_option("#machine", "")
    page.fill("#q", "time_remux")
    assert page.locator("#shown").inner_text() == "2"
    page.fill("#q", "")
    watched.shot("overview")
    links = _local_links(page)
    assert len(links) >= 9 and all(_resolves(u) for u in links)
    assert watched.errors == []


def test_asv_regressions_page_shows_planted_regression(watched: Watched, dashboard_url: str,
                                                       published: Published) -> None:
    page = watched.page
    page.goto(f"{dashboard_url}/index.html#regressions")
    rows = page.locator("#regressions-body table.table:not(.ignored) tbody tr")
    rows.first.wait_for(timeout=15_000)
    assert rows.count() == 4
    sha = published.project.shas[REGRESSION_AT]
    texts = [rows.nth(i).inner_text() for i in range(4)]
    remux = [t for t in texts if "bench_ingest.time_remux" in t]
    assert len(remux) == 2 and all(sha[:8] in t and "1.40x" in t for t in remux)
    # after the gap asv shows the commit range (it links github's compare view)
    before, after = published.project.shas[AFTER_GAP_AT - 2], published.project.shas[AFTER_GAP_AT]
    ranged = [t for t in texts if "bench_api.time_list" in t]
    assert len(ranged) == 2 and all(f"{before[:8]}..{after[:8]}" in t for t in ranged)
    watched.shot("asv-regressions")
    rows.nth(0).locator("a").first.click()  # asv's own graph of it, drawn by the local flot
    page.locator("#main-graph canvas, .main-graph canvas, canvas").first.wait_for(timeout=15_000)
    watched.shot("asv-graph")
    page.goto(f"{dashboard_url}/index.html")
    page.click("#nav-li-perfwatch a")
    page.wait_for_url("**/perfwatch/index.html")
    assert watched.errors == []


def _trace_names(page: Any) -> list[str]:
    return list(page.evaluate("() => document.getElementById('series').data.map(t => t.name)"))


def test_series_page_draws_expected_traces(watched: Watched, dashboard_url: str,
                                           published: Published) -> None:
    page = watched.page
    page.goto(f"{dashboard_url}/perfwatch/series/{series_slug(REMUX)}.html")
    page.wait_for_selector("#series .main-svg")
    names = _trace_names(page)
    assert names[:2] == ["samples", "median per commit"]
    assert names.count("level (95% CI band)") == 2 and names[-1] == "change point"
    sha = published.project.shas[REGRESSION_AT]
    url = page.evaluate("() => document.getElementById('series').data.at(-1).customdata[0]")
    assert url == "https://github.com/example/nvr/commit/" + sha
    n_points = page.locator("#series .scatterlayer .trace:first-child .point").count()
    measured = [i for i in range(40) if i % 7 != 3]
    assert n_points == 5 * len(measured)  # every raw sample drawn (from the data file)
    medians = page.evaluate("() => document.getElementById('series').data[1]")
    assert len(medians["x"]) == len(medians["text"]) == len(measured)
    assert medians["text"][-1].startswith(f"commit {published.project.shas[39][:8]} · ")
    assert "median: %{y:.4g} ms" in medians["hovertemplate"]  # hover: commit, date, value, unit
    page.locator("#series .scatterlayer .trace:nth-child(2) .point").nth(5).hover(force=True)
    page.wait_for_function("() => document.querySelector('#series .hoverlayer')"
                           ".textContent.includes('median')")
    hover = page.evaluate("() => document.querySelector('#series .hoverlayer').textContent")
    sixth = published.project.shas[measured[5]][:8]  # commit, date, message, median with unit
    assert re.fullmatch(rf"commit {sixth} · \d{{4}}-\d\d-\d\d \d\d:\d\d.*median: 1\.9\d* ms",
                        hover.replace("\xa0", " ")), hover
    axis = page.evaluate("() => document.getElementById('series').layout.xaxis.categoryarray")
    assert axis == [c[:8] for c in published.project.shas]  # every commit, oldest first
    hrefs = page.evaluate("() => [...document.querySelectorAll('#series .annotation a')]"
                          ".map(a => a.getAttribute('href') || a.getAttribute('xlink:href'))")
    assert set(hrefs) == {"https://github.com/example/nvr/commit/" + sha}
    assert "Regression +4" in page.locator(".headline").inner_text()
    watched.shot("series-time_remux")
    links = _local_links(page)
    assert any("flamegraph" in u for u in links) and any("/hardware/" in u for u in links)
    assert all(_resolves(u) for u in links)
    page.goto(next(u for u in links if "/hardware/" in u))
    page.wait_for_selector("#profiles .main-svg")
    drawn = page.evaluate("() => document.getElementById('profiles').data"
                          ".filter(t => t.name === 'median per commit').map(t => t.x.length)")
    assert drawn == [len(measured), len(measured)]  # each profile's medians, from its data file
    watched.shot("hardware-time_remux")
    assert watched.errors == []


def test_comparison_page_shows_effects_and_samples(watched: Watched, dashboard_url: str,
                                                   published: Published) -> None:
    [path] = published.report.compare_pages
    page = watched.page
    page.goto(f"{dashboard_url}/perfwatch/compare/{path.name}")
    page.wait_for_selector("#effect .main-svg")
    effect = page.evaluate("() => document.getElementById('effect').data[0]")
    assert len(effect["y"]) == published.report.n_series
    remux = [i for i, label in enumerate(effect["y"]) if "time_remux" in label]
    assert len(remux) == 2 and all(35 < effect["x"][i] < 45 for i in remux)
    # base against head samples for the two regressed series
    assert page.locator("div[id^=dist] .main-svg").count() >= 2
    assert "regression" in page.locator("table").inner_text()
    watched.shot("compare")
    assert watched.errors == []


def test_pages_work_from_file_url(watched: Watched, published: Published,
                                  tmp_path: Path) -> None:
    copy = tmp_path / "perfwatch"
    shutil.copytree(published.project.html_dir / "perfwatch", copy)
    page = watched.page
    page.goto((copy / "series" / f"{series_slug(REMUX)}.html").as_uri())
    page.wait_for_selector("#series .main-svg")
    assert "change point" in _trace_names(page)
    page.goto((copy / "index.html").as_uri())
    assert page.locator("#findings tbody tr").count() == 8
    assert watched.errors == []


def test_request_guard_catches_outside_requests(watched: Watched, dashboard_url: str) -> None:
    """The route guard itself: a request to another host is recorded (and aborted)."""
    page = watched.page
    page.goto(f"{dashboard_url}/perfwatch/index.html")
    page.evaluate("() => { const i = new Image(); i.src = 'http://192.0.2.1/x.png'; "
                  "document.body.appendChild(i); }")
    page.wait_for_timeout(300)
    assert watched.outside == ["http://192.0.2.1/x.png"]
    watched.outside.clear()
