"""Appending new commits to asv's site (asv_site_append.append_site) against the oracle: a
fresh ``write_site`` on the grown results in another directory writes the same bytes.

The project has a parameterised benchmark, two machines, a tag, commits not benchmarked,
skipped (NaN) and failed (None) values in new commits (so revisions without data wait at a
graph's end and come back), and several appends in a row. The steps come from a fake
``levels_for`` that depends on the history's length, so summary lists change at each append.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dashboard_asvproject import (
    AsvProject,
    Machine,
    PlantedBenchmark,
    Shift,
    make_asv_project,
    make_git_history,
    write_results,
)

from perfwatch.adapters.asv_config import AsvConfig, load_asv_config
from perfwatch.adapters.asv_publish import localize_index
from perfwatch.adapters.asv_results import ResultsFile, scan_results_dir
from perfwatch.adapters.asv_site import Levels, SiteReport, write_site
from perfwatch.adapters.asv_site_append import NotAppendable, append_or_refuse, append_site

BENCHES = (
    PlantedBenchmark("bench_a.time_x", base=2e-3, shifts=(Shift(8, 1.4),)),
    PlantedBenchmark("bench_b.time_p", base=5e-4, params=("10", "100"), shifts=(Shift(12, 0.7),)),
    PlantedBenchmark("bench_c.time_y", base=1e-3),
)
MACHINES = (Machine("ci-box"), Machine("gpu-box", speed=0.5))
N = 16


def fake_levels(n_commits: int) -> Callable[..., Levels | None]:
    """Segments that depend on the series and on the history's length."""
    def levels_for(name: str, combo: tuple[str, ...] | None, machine: str, env: str
                   ) -> Levels | None:
        scale = (1 + len(name) % 3) * (2.0 if machine == "gpu-box" else 1.0)
        cut = n_commits // 2 + (0 if combo is None else len(combo[0]))
        return Levels((0, cut), (1e-3 * scale, 1.5e-3 * scale + n_commits * 1e-6))
    return levels_for


def build(root: Path) -> AsvProject:
    measured = [i for i in range(N) if i % 5 != 3]  # commits 3, 8, 13 not benchmarked
    project = make_asv_project(root, BENCHES, n_commits=N, rng=np.random.default_rng(3),
                               machines=MACHINES, measured=measured)
    subprocess.run(["git", "tag", "v0.1", project.shas[4]], cwd=project.repo, check=True)
    return project


def edit(project: AsvProject, machine: str, commit: int, change: Callable[[Any], None]) -> None:
    path = next((project.results_dir / machine).glob(f"{project.shas[commit][:8]}-*.json"))
    doc = json.loads(path.read_text())
    change(doc["results"])
    path.write_text(json.dumps(doc))


def grow(project: AsvProject, seed: int, measured: bool = True) -> AsvProject:
    """One more commit on main, with results for every machine when ``measured``."""
    new = make_git_history(project.repo, 1, start=len(project.shas))
    grown = AsvProject(root=project.root, config=project.config, repo=project.repo,
                       results_dir=project.results_dir, html_dir=project.html_dir,
                       shas=project.shas + tuple(new), benchmarks=project.benchmarks,
                       machines=project.machines)
    if measured:
        write_results(grown, [len(grown.shas) - 1], np.random.default_rng(seed))
    return grown


def site_args(project: AsvProject, skip: str = "") -> dict[str, Any]:
    """write_site's arguments; the series of machine ``skip`` have no segments (asv's steps)."""
    levels = fake_levels(len(project.shas))

    def levels_for(name: str, combo: tuple[str, ...] | None, machine: str, env: str
                   ) -> Levels | None:
        return None if machine == skip else levels(name, combo, machine, env)

    return {"levels_for": levels_for,
            "positions": {sha: i for i, sha in enumerate(project.shas)},
            "localize": localize_index}


def full(project: AsvProject, skip: str = "") -> SiteReport:
    config = load_asv_config(project.config)
    return write_site(config, scan_results_dir(config.results_dir), **site_args(project, skip))


def new_files(config: AsvConfig, sha: str) -> list[ResultsFile]:
    return [f for f in scan_results_dir(config.results_dir).files if f.commit_hash == sha]


def append(project: AsvProject, files: list[ResultsFile] | None = None, skip: str = ""
           ) -> SiteReport:
    """append_site, raising NotAppendable with its reason instead of returning None."""
    config = load_asv_config(project.config)
    if files is None:
        files = new_files(config, project.shas[-1])
    args = site_args(project, skip)
    return append_or_refuse(config, files, levels_for=args["levels_for"],
                            positions=args["positions"])


def contents(html: Path) -> dict[str, bytes]:
    return {p.relative_to(html).as_posix(): p.read_bytes() for p in sorted(html.rglob("*"))
            if p.is_file()}


def assert_same_as_full(project: AsvProject, tmp: Path, skip: str = "") -> None:
    """A fresh write_site on a copy of the project writes the same files."""
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(project.root, tmp, symlinks=True)
    shutil.rmtree(tmp / "html")
    shutil.rmtree(tmp / "results" / ".perfwatch")
    copy = AsvProject(root=tmp, config=tmp / "asv.conf.json", repo=tmp / "repo",
                      results_dir=tmp / "results", html_dir=tmp / "html", shas=project.shas,
                      benchmarks=project.benchmarks, machines=project.machines)
    full(copy, skip)
    ours, fresh = contents(project.html_dir), contents(copy.html_dir)
    assert ours.keys() == fresh.keys()
    for rel, data in fresh.items():
        if rel == "info.json":
            assert json.loads(ours[rel]).keys() == json.loads(data).keys()
            assert json.loads(ours[rel])["asv-version"] == json.loads(data)["asv-version"]
            continue
        assert ours[rel] == data, rel


def nan_in(bench: str, combo: int | None = None) -> Callable[[Any], None]:
    def change(rows: Any) -> None:
        if combo is None:
            rows[bench][0] = [float("nan")]
        else:
            rows[bench][0][combo] = float("nan")
    return change


def failed(bench: str) -> Callable[[Any], None]:
    def change(rows: Any) -> None:
        rows[bench][0] = None
    return change


@pytest.fixture()
def project(tmp_path: Path) -> AsvProject:
    p = build(tmp_path / "p")
    full(p)
    return p


def test_appends_in_a_row_equal_a_full_write(project: AsvProject, tmp_path: Path) -> None:
    p = project
    steps: list[tuple[dict[str, Callable[[Any], None]], bool]] = [
        ({"ci-box": nan_in("bench_a.time_x"), "gpu-box": nan_in("bench_b.time_p", 1)}, True),
        ({"ci-box": failed("bench_a.time_x"), "gpu-box": failed("bench_b.time_p")}, True),
        ({}, False),  # a commit not benchmarked
        ({"gpu-box": nan_in("bench_c.time_y")}, True),
        ({}, True),
    ]
    appended = 0
    for k, (edits, measured) in enumerate(steps):
        p = grow(p, seed=10 + k, measured=measured)
        for machine, change in edits.items():
            edit(p, machine, len(p.shas) - 1, change)
        if not measured:
            continue
        report = append(p)
        assert report.written >= 6 and report.asv_steps == 0
        appended += 1
        assert_same_as_full(p, tmp_path / "fresh")
    assert appended == 4


def set_all(project: AsvProject, machine: str, change: Callable[[Any], None]) -> None:
    for i in range(len(project.shas)):
        if list((project.results_dir / machine).glob(f"{project.shas[i][:8]}-*.json")):
            edit(project, machine, i, change)


def test_lone_point_and_empty_graph_grow_like_asv(tmp_path: Path) -> None:
    """A graph with one point keeps one empty revision after it (asv's trimming); a graph
    with no data is "[]" until its first value."""
    p = build(tmp_path / "p")
    set_all(p, "ci-box", nan_in("bench_c.time_y"))
    edit(p, "ci-box", N - 1, lambda rows: rows["bench_c.time_y"].__setitem__(0, [1e-3]))
    set_all(p, "gpu-box", failed("bench_c.time_y"))
    full(p)
    for k, value in enumerate([None, float("nan"), 2e-3, None, 3e-3]):
        p = grow(p, seed=20 + k)
        edit(p, "ci-box", len(p.shas) - 1,
             lambda rows, v=value: rows["bench_c.time_y"].__setitem__(0, [v]))
        if k < 3:
            edit(p, "gpu-box", len(p.shas) - 1, nan_in("bench_c.time_y"))
        append(p)
        assert_same_as_full(p, tmp_path / "fresh")


def snapshot(project: AsvProject) -> dict[str, bytes]:
    return {**contents(project.html_dir), **contents(project.results_dir / ".perfwatch")}


def refuses(project: AsvProject, reason: str, files: list[ResultsFile] | None = None,
            levels: Callable[..., Levels | None] | None = None) -> None:
    """append_site returns None and writes nothing; append_or_refuse says why."""
    before = snapshot(project)
    config = load_asv_config(project.config)
    files = new_files(config, project.shas[-1]) if files is None else files
    args = site_args(project)
    if levels is not None:
        args["levels_for"] = levels
    with pytest.raises(NotAppendable, match=reason):
        append_or_refuse(config, files, levels_for=args["levels_for"],
                         positions=args["positions"])
    assert append_site(config, files, **args) is None
    assert snapshot(project) == before


def test_refuses_without_a_record(tmp_path: Path) -> None:
    refuses(grow(build(tmp_path / "p"), 1), "no record")


def test_refuses_when_the_config_changed(project: AsvProject) -> None:
    conf = json.loads(project.config.read_text())
    project.config.write_text(json.dumps({**conf, "project": "renamed"}))
    refuses(grow(project, 1), "asv.conf.json changed")


def test_refuses_when_an_old_result_changed_then_full_write_rearms(project: AsvProject,
                                                                    tmp_path: Path) -> None:
    edit(project, "ci-box", 2, nan_in("bench_a.time_x"))
    grown = grow(project, 1)
    refuses(grown, "an input file changed")
    full(grown)  # what the caller does; it records the state for the next append
    grown = grow(grown, 2)
    append(grown)
    assert_same_as_full(grown, tmp_path / "fresh")


def test_refuses_a_file_not_given_as_new(project: AsvProject) -> None:
    grown = grow(project, 1)
    config = load_asv_config(grown.config)
    only = [f for f in new_files(config, grown.shas[-1]) if f.machine == "ci-box"]
    refuses(grown, "other than the new ones", files=only)


def test_refuses_when_an_output_changed(project: AsvProject) -> None:
    graph = next(project.html_dir.glob("graphs/**/bench_a.time_x.json"))
    graph.write_text(graph.read_text().replace("]]", "], [99, 1.0]]"))
    refuses(grow(project, 1), "output file changed")


def test_refuses_a_new_tag(project: AsvProject) -> None:
    subprocess.run(["git", "tag", "v0.2", project.shas[9]], cwd=project.repo, check=True)
    refuses(grow(project, 1), "tag")


def test_refuses_a_rewritten_branch(project: AsvProject) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=Dev", "-c", "user.email=dev@x.invalid",
                               *args], cwd=project.repo, check=True, capture_output=True,
                              text=True).stdout.strip()

    git("reset", "-q", "--hard", project.shas[-3])
    git("commit", "-q", "--allow-empty", "-m", "rewritten")
    grown = AsvProject(**{**vars(project), "shas": (*project.shas[:-2], git("rev-parse", "HEAD"))})
    write_results(grown, [len(grown.shas) - 1], np.random.default_rng(1))
    refuses(grown, "rewritten|revision number")


def test_refuses_a_result_for_an_old_commit(project: AsvProject) -> None:
    write_results(project, [3], np.random.default_rng(1))  # commit 3 was not benchmarked
    config = load_asv_config(project.config)
    refuses(project, "not after every commit", files=new_files(config, project.shas[3]))


def test_refuses_new_graph_parameters(project: AsvProject) -> None:
    grown = grow(project, 1)
    path = next((grown.results_dir / "gpu-box").glob(f"{grown.shas[-1][:8]}-*.json"))
    doc = json.loads(path.read_text())
    doc["params"]["python"] = "3.12"
    path.write_text(json.dumps(doc))
    refuses(grown, "graph parameters not on the site")


def test_refuses_a_new_graph(tmp_path: Path) -> None:
    p = build(tmp_path / "p")
    set_all(p, "gpu-box", lambda rows: rows.pop("bench_c.time_y"))
    full(p)
    refuses(grow(p, 1), "new graph")


def test_refuses_a_graph_without_segments(project: AsvProject) -> None:
    grown = grow(project, 1)
    levels = fake_levels(len(grown.shas))

    def some(name: str, combo: tuple[str, ...] | None, machine: str, env: str
             ) -> Levels | None:
        return None if machine == "gpu-box" else levels(name, combo, machine, env)

    refuses(grown, "needs asv's step detection", levels=some)


def test_revision_numbers_are_asvs(tmp_path: Path) -> None:
    """asv numbers commits by `git rev-list --all --date-order --reverse`; a history with a
    merge, a side branch and commit dates out of order gives the same numbers."""
    from asv.plugins.git import Git

    from perfwatch.adapters.asv_site_cache import revision_numbers

    repo = tmp_path / "r"
    repo.mkdir()

    def git(*args: str, when: int = 0) -> str:
        env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo),
               "PATH": "/usr/bin:/bin:/usr/local/bin", "GIT_AUTHOR_NAME": "D",
               "GIT_AUTHOR_EMAIL": "d@x.invalid", "GIT_COMMITTER_NAME": "D",
               "GIT_COMMITTER_EMAIL": "d@x.invalid",
               "GIT_AUTHOR_DATE": f"{1_700_000_000 + when} +0000",
               "GIT_COMMITTER_DATE": f"{1_700_000_000 + when} +0000"}
        return subprocess.run(["git", *args], cwd=repo, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()

    git("init", "-q", "-b", "main")
    for when in (0, 500, 100):  # the third commit is dated before the second
        git("commit", "-q", "--allow-empty", "-m", f"m{when}", when=when)
    git("checkout", "-q", "-b", "side", "HEAD~1")
    for when in (50, 900, 300):
        git("commit", "-q", "--allow-empty", "-m", f"s{when}", when=when)
    git("checkout", "-q", "main")
    git("merge", "-q", "--no-ff", "-m", "merge", "side", when=200)
    git("commit", "-q", "--allow-empty", "-m", "after", when=150)
    git("tag", "v1", "side~1")
    shas = set(git("rev-list", "--all").split())
    assert len(shas) == 8
    theirs = Git(str(repo), str(tmp_path / "mirror")).get_revisions(shas)
    assert revision_numbers(repo) == theirs


CHILD = """
import sys
from pathlib import Path
from perfwatch.adapters.asv_config import load_asv_config
from perfwatch.adapters.asv_results import scan_results_dir
from perfwatch.adapters.asv_site import Levels
from perfwatch.adapters.asv_site_append import append_site

config = load_asv_config(Path(sys.argv[1]))
shas = sys.argv[2].split(",")
new = [f for f in scan_results_dir(config.results_dir).files if f.commit_hash == shas[-1]]
report = append_site(config, new, levels_for=lambda *a: Levels((0,), (1.0,)),
                     positions={s: i for i, s in enumerate(shas)}, localize=lambda p: None)
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"asv", "plotly", "scipy", "git"})
print(report is not None, ",".join(heavy))
"""


def test_append_imports_no_asv_plotly_scipy_or_gitpython(project: AsvProject) -> None:
    import sys

    grown = grow(project, 1)
    done = subprocess.run([sys.executable, "-c", CHILD, str(grown.config), ",".join(grown.shas)],
                          check=True, capture_output=True, text=True)
    assert done.stdout.split() == ["True"], done.stdout + done.stderr


@pytest.mark.parametrize("skip", ["", "gpu-box"])
def test_a_machine_without_new_results(tmp_path: Path, skip: str) -> None:
    """Only ci-box measured the new commit. gpu-box's summary list is written again: with
    segments (they may change with the history), or, without, asv's steps of the last write
    (its data did not change)."""
    p = build(tmp_path / "p")
    full(p, skip)
    for k in range(2):
        p = grow(p, seed=30 + k, measured=False)
        write_results(AsvProject(**{**vars(p), "machines": MACHINES[:1]}), [len(p.shas) - 1],
                      np.random.default_rng(k))
        append(p, skip=skip)
        assert_same_as_full(p, tmp_path / "fresh", skip)


def test_several_new_commits_at_once(project: AsvProject, tmp_path: Path) -> None:
    p = grow(project, 40)
    edit(p, "gpu-box", len(p.shas) - 1, failed("bench_a.time_x"))
    p = grow(p, 41, measured=False)
    p = grow(p, 42)
    config = load_asv_config(p.config)
    files = [f for sha in p.shas[-3:] for f in new_files(config, sha)]
    assert len(files) == 4
    append(p, files)
    assert_same_as_full(p, tmp_path / "fresh")


def test_a_full_write_after_appends_reads_only_what_it_must(project: AsvProject) -> None:
    """The appends keep the header cache of the old files: a later full write parses no
    result file again."""
    from perfwatch.adapters.asv_site_cache import HeaderCache

    p = grow(project, 50)
    append(p)
    config = load_asv_config(p.config)
    headers = HeaderCache(config.results_dir)
    for f in scan_results_dir(config.results_dir).files:
        headers.get(f.path)
    assert headers.parsed == 0


def test_refuses_when_git_cannot_answer(project: AsvProject) -> None:
    grown = grow(project, 1)
    subprocess.run(["git", "branch", "-m", "main", "trunk"], cwd=grown.repo, check=True)
    refuses(grown, "git")
