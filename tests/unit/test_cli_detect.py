from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from perfwatch.cli import main
from perfwatch.synthetic import ENV_NAME, SyntheticSuite, build_suite

SHA = re.compile(r"^[0-9a-f]{40}$")
CONTRACT_KEYS = {"benchmark", "params", "machine", "metric_unit", "commit", "previous_commit",
                 "direction", "rel_change", "ci", "pvalue"}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSuite:
    return build_suite(tmp_path_factory.mktemp("cli"))


@pytest.fixture
def small(tmp_path: Path) -> SyntheticSuite:
    return build_suite(tmp_path / "small", n_commits=12, plants=(), gaps=frozenset({5}))


def _args(s: SyntheticSuite) -> list[str]:
    return ["detect", "--results-dir", str(s.results_dir), "--repo", str(s.repo)]


def _one_file(s: SyntheticSuite, index: int) -> Path:
    return next((s.results_dir / s.machines[0]).glob(f"{s.commits[index][:8]}-*.json"))


def test_json_contract(suite: SyntheticSuite, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "changes.json"
    assert main([*_args(suite), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert set(doc) == {"version", "changes"} and doc["version"] == 1
    assert doc["changes"], "the planted changes are found"
    pos = {sha: i for i, sha in enumerate(suite.commits)}
    for c in doc["changes"]:
        assert set(c) == CONTRACT_KEYS
        assert SHA.match(c["commit"]) and SHA.match(c["previous_commit"])
        assert pos[c["previous_commit"]] < pos[c["commit"]]
        assert c["direction"] in ("regression", "improvement")
        assert c["params"] is None or all(isinstance(p, str) for p in c["params"])
        assert len(c["ci"]) == 2 and 0 <= c["pvalue"] <= 1
    order = [(c["benchmark"], pos[c["commit"]]) for c in doc["changes"]]
    assert order == sorted(order)
    assert "REGRESSION" in capsys.readouterr().out


def test_json_to_stdout(suite: SyntheticSuite, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_args(suite), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1


def test_no_changes_exit_zero(small: SyntheticSuite, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(small)) == 0
    assert capsys.readouterr().out.startswith("0 changes (0 regressions, 0 improvements)")


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda text: text[: len(text) // 2], "corrupt or truncated JSON"),
        (lambda text: "{not json" + text, "corrupt or truncated JSON"),
        (lambda text: text.replace('"version":2', '"version":3'), "newer than 2"),
        (lambda text: text.replace('"commit_hash"', '"commit"'), "key 'commit_hash': missing"),
    ],
    ids=["truncated", "corrupt", "future-version", "missing-key"],
)
def test_unusable_results_exit_2_with_one_line(small: SyntheticSuite, damage: object,
                                               words: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = _one_file(small, 3)
    path.write_text(damage(path.read_text()))  # type: ignore[operator]
    assert main(_args(small)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"perfwatch detect: error: {path}: ")
    assert words in lines[0]


@pytest.mark.parametrize(
    ("argv_extra", "words"),
    [
        (["--machine", "nope"], "no results for machine 'nope'"),
        (["--branch", "nope"], "'nope' is not a commit"),
    ],
)
def test_bad_options_exit_2(small: SyntheticSuite, argv_extra: list[str], words: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_args(small), *argv_extra]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and words in err


def test_not_a_repo_and_no_results_dir(small: SyntheticSuite, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["detect", "--results-dir", str(small.results_dir), "--repo", str(empty)]) == 2
    assert "is not a git repository" in capsys.readouterr().err
    assert main(["detect", "--results-dir", str(empty / "x"), "--repo", str(small.repo)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_missing_commits_warn_and_rest_is_analysed(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from perfwatch.synthetic import Plant

    s = build_suite(tmp_path / "m", n_commits=20, gaps=frozenset(),
                    plants=(Plant("index.time_query_range", None, 10, 1.5),))
    strangers = []
    for i, fake in ((2, "a" * 40), (4, "b" * 40)):
        src = _one_file(s, i)
        data = json.loads(src.read_text())
        data["commit_hash"] = fake
        (src.parent / f"{fake[:8]}-{ENV_NAME}.json").write_text(json.dumps(data))
        strangers.append(fake)
    out = tmp_path / "c.json"
    assert main([*_args(s), "--json", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "warning: 2 commit(s) with results are not on branch 'main'" in err[0]
    assert all(fake[:12] in err[0] for fake in strangers)
    (change,) = json.loads(out.read_text())["changes"]
    assert change["commit"] == s.commits[10]


def test_json_unwritable_exit_2(small: SyntheticSuite, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_args(small), "--json", str(tmp_path / "no" / "dir" / "x.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


def _branch_with_results(s: SyntheticSuite, fork: int, n: int) -> list[str]:
    """A ``feature`` branch forked at commit ``fork`` with ``n`` benchmarked commits."""
    import git

    repo = git.Repo(s.repo)
    repo.git.checkout("-q", "-b", "feature", s.commits[fork])
    shas = []
    for i in range(n):
        (s.repo / "feature.txt").write_text(f"{i}\n")
        repo.index.add(["feature.txt"])
        sha = repo.index.commit(f"feature {i}").hexsha
        src = _one_file(s, fork)
        data = json.loads(src.read_text())
        data["commit_hash"] = sha
        (src.parent / f"{sha[:8]}-{ENV_NAME}.json").write_text(json.dumps(data))
        shas.append(sha)
    repo.git.checkout("-q", "main")
    return shas


def test_branch_option_follows_that_branch(small: SyntheticSuite, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    feature = _branch_with_results(small, fork=6, n=2)
    assert main(_args(small)) == 0
    err = capsys.readouterr().err
    assert "2 commit(s) with results are not on branch 'main'" in err
    assert all(sha[:12] in err for sha in feature)
    assert main([*_args(small), "--branch", "feature"]) == 0
    err = capsys.readouterr().err
    assert "5 commit(s) with results are not on branch 'feature'" in err  # main's 7..11
    assert not any(sha[:12] in err for sha in feature)


def test_compare_merge_base(small: SyntheticSuite, capsys: pytest.CaptureFixture[str]) -> None:
    feature = _branch_with_results(small, fork=6, n=2)
    argv = ["compare", "main", "feature", "--results-dir", str(small.results_dir), "--repo",
            str(small.repo), "--json"]
    assert main([*argv, "--merge-base"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["base"], doc["head"]) == (small.commits[6], feature[1])
    assert main(argv) in (0, 1)
    assert json.loads(capsys.readouterr().out)["base"] == small.commits[-1]
    assert main([*argv[:5], "--merge-base"]) == 2
    assert "--merge-base needs --repo" in capsys.readouterr().err
