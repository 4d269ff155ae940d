"""Every link in README.md and docs/ resolves: relative links to files of the repository and
to headings (GitHub's anchors) in them; no network: http(s) links only to a short list of
canonical project pages, never fetched."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_doc import ROOT, anchors, link_problems, links, slug

ALLOWED_URLS = (
    "https://asv.readthedocs.io",
    "https://github.com/airspeed-velocity/asv",
    "https://pytest-benchmark.readthedocs.io",
    "https://docs.github.com/",
    "https://docs.kernel.org/",
)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_links_resolve(page: Path) -> None:
    assert link_problems(page, root=ROOT, allowed_urls=ALLOWED_URLS) == []


def test_docs_index_lists_every_page() -> None:
    index = ROOT / "docs" / "README.md"
    listed = {(index.parent / t.partition("#")[0]).resolve() for _, t in links(index)}
    pages = {p.resolve() for p in (ROOT / "docs").glob("*.md") if p.name != "README.md"}
    assert pages - listed == set(), "docs/README.md does not link these pages"


def test_readme_links_the_docs() -> None:
    targets = {t for _, t in links(ROOT / "README.md")}
    assert "docs/README.md" in targets and "docs/quickstart.md" in targets


def test_the_checker_finds_planted_breakage(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## Set `up` (twice)\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n"
        "[fine](other.md#set-up-twice) [fine too](#page) [ok](http://127.0.0.1:8080/)\n"
        "[gone](missing.md) [no heading](other.md#setup) [out](../../etc/passwd)\n"
        "see https://example.com/x. and <https://asv.readthedocs.io/en/stable/>\n"
        "`[in code](missing.md)` is not a link\n\n"
        "```\n[in a block](missing.md) https://example.org\n```\n"
        "[ref]: https://evil.example/\n"
    )
    problems = link_problems(page, root=tmp_path, allowed_urls=ALLOWED_URLS)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "missing.md: no such file",
        "other.md#setup: no heading #setup in docs/other.md",
        "../../etc/passwd: points outside the repository",
        "https://example.com/x: external URL not on the allowlist",
        "https://evil.example/: external URL not on the allowlist",
    ]


def test_slugs_follow_github() -> None:
    assert slug("`--merge-base` needs `--repo`") == "--merge-base-needs---repo"
    assert slug("The runner's hardware drifted") == "the-runners-hardware-drifted"
    assert slug("GitHub rate limit (403 or 429)") == "github-rate-limit-403-or-429"
    assert slug("Set up: [a link](x.md) & more") == "set-up-a-link--more"
    assert anchors(ROOT / "docs" / "troubleshooting.md") >= {"messages"}


def test_readme_setup_is_the_two_commands() -> None:
    """README's set-up section shows exactly `make demo` and `make test`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    block = section.split("```console", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]
