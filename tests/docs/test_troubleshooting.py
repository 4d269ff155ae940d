"""docs/troubleshooting.md cannot drift from the tool: every documented message is what
``perfwatch`` really prints in that situation, and every entry is exercised here.

Each case sets up the situation with real files (a synthetic asv history and git
repository, hardware profiles, a PR artifact, the fake GitHub server on 127.0.0.1), runs
``perfwatch.cli.main([...])`` and checks that each template line of the entry's ```text
block matches a printed line in full (``<placeholder>`` stands for any text), and that the
one-line error perfwatch printed is one of the entry's templates.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import FakeGitHub, Fault, SpecValidator
from markdown_doc import ROOT, anchors, entries, template_regex
from troubleshooting_cases import CASES, PR_NUMBER, Case, Env

from perfwatch.cli import main
from perfwatch.synthetic import SyntheticSuite, build_suite

PAGE = ROOT / "docs" / "troubleshooting.md"
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # the pull_request payloads' head and base
BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSuite:
    return build_suite(tmp_path_factory.mktemp("troubleshooting"), n_commits=12, plants=(),
                       gaps=frozenset())


@pytest.fixture(scope="module")
def validator() -> SpecValidator:
    return SpecValidator()  # GitHub's OpenAPI description, read once


@pytest.fixture
def github(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fake GitHub server (only for the GitHub cases), answering as the case asks."""
    case: Case = request.node.callspec.params["case"]
    if not case.github:
        yield ""
        return
    fake = FakeGitHub(validator=request.getfixturevalue("validator"))
    fake.add_pull(PR_NUMBER, head_sha=HEAD, base_sha=BASE)
    if case.github == "primary":
        fake.script(Fault("primary", reset_in=3600.0, times=1))
    elif case.github == "forbidden":
        fake.script(Fault("forbidden", times=100))
    if case.github == "no-token":
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    else:
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    with fake.running():
        yield fake.url


def _entry_templates() -> dict[str, tuple[str, ...]]:
    return {e.anchor: e.templates for e in entries(PAGE)}


@pytest.mark.parametrize("case", CASES, ids=[c.anchor for c in CASES])
def test_the_page_shows_what_perfwatch_prints(case: Case, suite: SyntheticSuite, tmp_path: Path,
                                              github: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    templates = _entry_templates().get(case.anchor)
    assert templates, f"docs/troubleshooting.md has no entry #{case.anchor} with a ```text block"
    argv = case.build(Env(tmp=tmp_path, suite=suite, api_url=github))
    capsys.readouterr()  # drop what set-up printed
    code = main(argv)
    out, err = capsys.readouterr()
    printed = [line for line in (out + err).splitlines() if line.strip()]
    assert code == case.exit_code, f"perfwatch {' '.join(argv)} exited {code}:\n{out}{err}"
    for template in templates:
        assert any(template_regex(template).fullmatch(line) for line in printed), (
            f"#{case.anchor}: the documented line\n  {template}\nis not what perfwatch printed:\n"
            + "\n".join(f"  {line}" for line in printed))
    if code == 2:
        error = err.strip().splitlines()[-1]
        assert any(template_regex(t).fullmatch(error) for t in templates), error


def test_every_entry_is_exercised() -> None:
    documented = {e.anchor for e in entries(PAGE)}
    tested = {c.anchor for c in CASES}
    assert documented - tested == set(), "entries without a case in troubleshooting_cases.py"
    assert tested - documented == set(), "cases whose entry is missing from the page"
    assert all(c.anchor in anchors(PAGE) for c in CASES)


def test_every_entry_says_what_it_means_and_what_to_do() -> None:
    for entry in entries(PAGE):
        assert entry.templates, f"#{entry.anchor} shows no message"
        assert "What it means" in entry.body and "What to do" in entry.body, entry.anchor


def test_a_changed_message_fails_the_check() -> None:
    """The matcher is strict: a reworded message or an extra word does not match."""
    template = "perfwatch <command>: error: results directory <dir> does not exist; pass the x"
    rx = template_regex(template)
    assert rx.fullmatch("perfwatch detect: error: results directory /r does not exist; pass the x")
    assert not rx.fullmatch("perfwatch detect: error: results dir /r does not exist; pass the x")
    assert not rx.fullmatch("perfwatch detect: error: results directory /r does not exist; pass")
