"""The demo's scratch history: real commits whose code changes do what they claim."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import git
import pytest

from benchmarks.bench_remux import encode_clip, remux
from demo.history import STEPS, build_history
from demo.patches import SEGMENTER, PatchError, add_fsync_per_packet
from perfwatch.stats.changepoint import MIN_SIZE
from perfwatch.stats.excursions import EXCURSION_MAX

ROOT = Path(__file__).resolve().parents[2]


def _load_segmenter(repo: Path, sha: str, name: str, tmp: Path) -> ModuleType:
    with git.Repo(repo) as r:
        source = r.git.show(f"{sha}:{SEGMENTER.as_posix()}")
    path = tmp / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return build_history(ROOT, tmp_path_factory.mktemp("demo") / "repo")


def test_one_commit_per_step_with_planted_changes(history) -> None:  # type: ignore[no-untyped-def]
    with git.Repo(history.repo) as repo:
        count = len(list(repo.iter_commits("main")))
        reg, = history.planted("regression")
        changed = repo.git.diff("--name-only", f"{reg[1]}~1", reg[1]).split()
    assert count == len(STEPS) == len(history.shas)
    kinds = [s.planted for s in STEPS if s.planted]
    assert kinds == ["regression", "improvement"]
    imp, = history.planted("improvement")
    # each level spans enough measured commits for the detector's minimum segment
    assert reg[0] >= MIN_SIZE and len(STEPS) - imp[0] >= MIN_SIZE
    assert imp[0] - reg[0] > EXCURSION_MAX  # not an excursion the detector would ignore
    assert changed == [SEGMENTER.as_posix()]


def test_regression_fsyncs_every_packet_and_the_fix_removes_it(
        history, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    clip = encode_clip(160, 96, seconds=2)
    (ri, reg), = history.planted("regression")
    (_, imp), = history.planted("improvement")
    counts = {}
    real_fsync = os.fsync
    for label, sha in (("base", history.shas[ri - 1]), ("regressed", reg), ("fixed", imp)):
        calls: list[int] = []
        monkeypatch.setattr(os, "fsync", lambda fd, calls=calls: (calls.append(fd), real_fsync(fd))[1])
        module = _load_segmenter(history.repo, sha, f"demo_segmenter_{label}", tmp_path)
        monkeypatch.setitem(sys.modules, "recorder.segmenter", module)
        remux(clip, tmp_path / label, segment_seconds=1.0)
        counts[label] = len(calls)
    assert counts["base"] == 0 and counts["fixed"] == 0
    assert counts["regressed"] >= 25  # one per packet of a 2 s, 15 fps clip (minus the last)


def test_patch_fails_loudly_when_the_code_moved(tmp_path: Path) -> None:
    (tmp_path / SEGMENTER).parent.mkdir(parents=True)
    (tmp_path / SEGMENTER).write_text("def write():\n    pass\n")
    with pytest.raises(PatchError, match="update demo/patches.py"):
        add_fsync_per_packet(tmp_path)
