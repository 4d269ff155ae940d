"""The on-disk cache of parsed result files, and a warm republish against a cold one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from dashboard_asvproject import AsvProject, add_commit

from perfwatch.adapters import asv_results, results_cache
from perfwatch.adapters.asv_config import load_asv_config
from perfwatch.adapters.asv_results import ResultsFile, load_results_file, scan_results_dir
from perfwatch.publish import PublishOptions, publish


def _same(a: ResultsFile, b: ResultsFile) -> None:
    assert (a.path, a.machine, a.commit_hash, a.env_name, a.date) == \
        (b.path, b.machine, b.commit_hash, b.env_name, b.date)
    assert list(a.results) == list(b.results)
    for name, x in a.results.items():
        y = b.results[name]
        assert (x.name, x.version, x.combos) == (y.name, y.version, y.combos)
        assert np.array_equal(np.array(x.values, dtype=float), np.array(y.values, dtype=float),
                              equal_nan=True)
        assert [v is None for v in x.values] == [v is None for v in y.values]
        assert all(np.array_equal(s, t) for s, t in zip(x.samples, y.samples, strict=True))


def _scan_cached(results_dir: Path) -> list[ResultsFile]:
    asv_results._cached_results.cache_clear()  # read from disk, not this process' memo
    with results_cache.persistent():
        return list(scan_results_dir(results_dir).files)


def _machine_dirs(results_dir: Path) -> list[Path]:
    return sorted(p.parent for p in results_dir.glob("*/machine.json"))


class _Counting:
    def __init__(self) -> None:
        self.parsed: list[str] = []

    def __call__(self, path: Path, machine: str) -> ResultsFile:
        self.parsed.append(path.name)
        return load_results_file(path, machine)


def _load(project: AsvProject, sub: Path, parse: _Counting) -> list[ResultsFile]:
    asv_results._cached_results.cache_clear()
    paths = sorted(p for p in sub.glob("*.json") if p.name != "machine.json")
    return results_cache.load_machine_files(project.results_dir, sub, sub.name, paths, parse)


def test_cached_scan_equals_plain_scan(fresh_project: AsvProject) -> None:
    shutil.rmtree(fresh_project.results_dir / ".perfwatch")  # the copy's cache: start cold
    plain = scan_results_dir(fresh_project.results_dir).files
    cold, warm = _scan_cached(fresh_project.results_dir), _scan_cached(fresh_project.results_dir)
    assert len(plain) == len(cold) == len(warm) > 0
    for a, b, c in zip(plain, cold, warm, strict=True):
        _same(a, b)
        _same(a, c)
    for sub in _machine_dirs(fresh_project.results_dir):
        assert list(results_cache.cache_dir(fresh_project.results_dir, sub).glob("*.npz"))


def test_only_new_and_changed_files_are_parsed(fresh_project: AsvProject) -> None:
    sub = _machine_dirs(fresh_project.results_dir)[0]
    shutil.rmtree(results_cache.cache_dir(fresh_project.results_dir, sub), ignore_errors=True)
    first = _Counting()
    n = len(_load(fresh_project, sub, first))
    assert len(first.parsed) == n
    again = _Counting()
    _load(fresh_project, sub, again)
    assert again.parsed == []
    grown = add_commit(fresh_project, np.random.default_rng(5))
    after = _Counting()
    assert len(_load(grown, sub, after)) == n + 1 and len(after.parsed) == 1
    folder = results_cache.cache_dir(grown.results_dir, sub)
    assert len(list(folder.glob("seg-*.npz"))) == 2  # the new file went to its own segment
    victim = min(p for p in sub.glob("*.json") if p.name != "machine.json")
    data = json.loads(victim.read_text())
    victim.write_text(json.dumps(data, indent=1))  # same results, another size
    changed = _Counting()
    _load(grown, sub, changed)
    assert changed.parsed == [victim.name]
    assert [p.name for p in folder.glob("seg-*.npz")] == ["seg-0.npz"]  # merged


def test_corrupt_cache_is_rebuilt(fresh_project: AsvProject) -> None:
    plain = scan_results_dir(fresh_project.results_dir).files
    _scan_cached(fresh_project.results_dir)
    for seg in (fresh_project.results_dir / ".perfwatch").rglob("seg-*.npz"):
        seg.write_bytes(b"not a zip file")
    for a, b in zip(plain, _scan_cached(fresh_project.results_dir), strict=True):
        _same(a, b)
    segments = list((fresh_project.results_dir / ".perfwatch").rglob("seg-*.npz"))
    assert segments and all(seg.read_bytes().startswith(b"PK") for seg in segments)  # rebuilt


def _outputs(html: Path) -> dict[str, str]:
    root = html / "perfwatch"
    pages = {p.relative_to(root).as_posix(): p.read_text()
             for p in sorted(root.glob("*/*.html")) if p.parent.name in ("series", "hardware")}
    pages["regressions.json"] = (html / "regressions.json").read_text()
    pages["index.html"] = (root / "index.html").read_text()
    return pages


def test_warm_republish_after_new_commit_equals_cold_publish(fresh_project: AsvProject,
                                                             tmp_path: Path) -> None:
    config = load_asv_config(fresh_project.config)
    publish(config, options=PublishOptions(seed=1, site="none"))  # caches warm
    grown = add_commit(fresh_project, np.random.default_rng(11))
    warm = publish(config, options=PublishOptions(seed=1, site="none"))
    warm_out = _outputs(grown.html_dir)
    shutil.rmtree(grown.results_dir / ".perfwatch")
    (grown.html_dir / "perfwatch" / ".manifest").unlink()  # every page rendered again
    asv_results._cached_results.cache_clear()
    cold = publish(config, options=PublishOptions(seed=1, site="none"))
    # the same change points (the incremental detector keeps each point's estimate from
    # when it was found, so the numbers on the pages may differ)
    assert [(c.key, c.commit, c.direction) for c in cold.changes] == \
        [(c.key, c.commit, c.direction) for c in warm.changes]
    assert len(cold.changes) > 0 and warm.appended == warm.n_series
    assert _outputs(grown.html_dir).keys() == warm_out.keys()


def test_benchmarks_json_in_a_machine_folder_is_not_a_result_file(
        fresh_project: AsvProject) -> None:
    """The main-branch workflow keeps a copy of benchmarks.json in each profile's folder;
    asv skips that name anywhere, so does perfwatch."""
    copy = fresh_project.results_dir / "ci-box" / "benchmarks.json"
    shutil.copyfile(fresh_project.results_dir / "benchmarks.json", copy)
    files = scan_results_dir(fresh_project.results_dir).files
    assert files and all(f.path.name != "benchmarks.json" for f in files)
    report = publish(load_asv_config(fresh_project.config), options=PublishOptions(seed=1))
    assert report.n_series == 8
