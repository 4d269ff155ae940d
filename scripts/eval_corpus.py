#!/usr/bin/env python3
"""Score perfwatch's change-point detector on a labelled corpus of histories (optional).

    scripts/eval_corpus.py [CORPUS] [--direct] [--real UNLABELED | --no-real] [--simulate N --seed S]

Default CORPUS: ../shared/corpus/dev.jsonl relative to the repository root; its
score.py (next to it) does the scoring. Never used by the tests.

--direct      call perfwatch.stats.detect_change_points on the arrays (quick iteration)
(default)     the real path: write the histories as asv results (format version 2, one
              results file per commit, raw samples) into a scratch git repository with one
              commit per index, run `perfwatch detect --json`, map commits back to indices
--real FILE   also count alerts on the django-asv histories of this unlabelled corpus:
              score.py's count is per series; the "alerts as reported" line counts what
              `perfwatch detect` reports, a suite-wide shift (its `suite_shifts` entry) as
              ONE alert and every other per-series change as one alert each
--simulate N  held-out check: N seeded histories from perfwatch.stats.simulate instead
--models M,.. with --simulate: draw only these noise models (also the extra ones,
              mode_runs and random_walk, which the default mix leaves out)
--explain     list every missed change and every false alarm (history, noise model, index,
              size) after the scores
--keep DIR    keep the scratch files (the corpus and the detections JSONL, to score
              another detector on the same histories or look at single ones)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from perfwatch.stats import detect_change_points
from perfwatch.stats.simulate import simulate_history
from perfwatch.stats.suite import SeriesChange, common_shifts
from perfwatch.synthetic import make_git_history

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev.jsonl"


def load(path: Path) -> list[dict[str, object]]:
    with path.open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


def simulated_corpus(n: int, seed: int, models: list[str] | None = None
                     ) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out: list[dict[str, object]] = []
    for i in range(n):
        h = simulate_history(rng, noise_model=str(rng.choice(models)) if models else None)
        out.append({
            "id": f"sim-{i:04d}", "unit": "seconds", "noise_model": h.noise_model,
            "commits": len(h.samples), "samples": [s.tolist() for s in h.samples],
            "changes": [{"index": c.index, "rel": c.rel} for c in h.changes],
        })
    return out


def detect_direct(records: list[dict[str, object]], seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    dets: list[dict[str, object]] = []
    for rec in records:
        raw = rec["samples"]
        assert isinstance(raw, list)
        measured = [i for i, s in enumerate(raw) if s]
        arrays = [np.asarray(raw[i], dtype=np.float64) for i in measured]
        for cp in detect_change_points(arrays, rng=rng):
            dets.append({"id": rec["id"], "index": measured[cp.index],
                         "direction": "up" if cp.rel_change > 0 else "down",
                         "pvalue": cp.pvalue, "rel": cp.rel_change})
    return dets


_ENV = "virtualenv-py3.11"
_MACHINE = "corpus"
_COLUMNS = ["result", "params", "version", "started_at", "duration", "samples"]


def _bench_name(rec_id: str) -> str:
    return "corpus.time_" + "".join(ch if ch.isalnum() else "_" for ch in rec_id)


def _dump(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")


def write_asv(records: list[dict[str, object]], root: Path) -> tuple[Path, Path, list[str]]:
    """A git repository with one commit per index and asv results (format 2, raw samples)
    holding every history as one benchmark; a history without a result at an index is
    skipped there (NaN), as asv writes it."""
    repo, results = root / "repo", root / "results"
    n_commits = max(int(str(r["commits"])) for r in records)
    shas = make_git_history(repo, n_commits)
    names = {str(r["id"]): _bench_name(str(r["id"])) for r in records}
    bench: dict[str, object] = {"version": 2}
    for r in records:
        kind = "memory" if r.get("unit") == "bytes" else "time"
        bench[names[str(r["id"])]] = {"name": names[str(r["id"])], "type": kind,
                                      "unit": str(r.get("unit", "seconds")), "version": "1",
                                      "param_names": [], "params": []}
    _dump(results / "benchmarks.json", bench)
    _dump(results / _MACHINE / "machine.json", {"machine": _MACHINE, "arch": "x86_64",
                                                "cpu": "corpus", "num_cpu": "2", "os": "Linux",
                                                "ram": "8000000000", "version": 1})
    for i, sha in enumerate(shas):
        rows: dict[str, object] = {}
        for r in records:
            raw = r["samples"]
            assert isinstance(raw, list)
            values = raw[i] if i < len(raw) else []
            med = float(np.median(values)) if values else float("nan")
            rows[names[str(r["id"])]] = [[med], [], "1", 1_700_000_000_000 + i, 1.0,
                                         [values] if values else [None]]
        _dump(results / _MACHINE / f"{sha[:8]}-{_ENV}.json", {
            "commit_hash": sha, "env_name": _ENV, "date": 1_700_000_000_000 + i * 3_600_000,
            "params": {"machine": _MACHINE, "python": "3.11"}, "python": "3.11",
            "requirements": {}, "env_vars": {}, "result_columns": _COLUMNS,
            "results": rows, "durations": {}, "version": 2})
    return repo, results, shas


def detect_real(records: list[dict[str, object]], root: Path
                ) -> tuple[list[dict[str, object]], dict[str, object]]:
    """Run ``perfwatch detect --json`` on the histories written as asv results.

    Returns the per-history detections (for score.py) and the whole JSON document."""
    repo, results, shas = write_asv(records, root)
    out = root / "detect.json"
    cmd = [sys.executable, "-m", "perfwatch", "detect", "--results-dir", str(results),
           "--repo", str(repo), "--json", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"perfwatch detect failed ({done.returncode}): {done.stderr.strip()}")
    by_name = {_bench_name(str(r["id"])): str(r["id"]) for r in records}
    index = {sha: i for i, sha in enumerate(shas)}
    doc = json.loads(out.read_text(encoding="utf-8"))
    return [{"id": by_name[c["benchmark"]], "index": index[c["commit"]],
             "direction": "up" if c["rel_change"] > 0 else "down",
             "pvalue": c["pvalue"], "rel": c["rel_change"]} for c in doc["changes"]], doc


def reported_alerts(records: list[dict[str, object]], doc: dict[str, object]) -> str:
    """Alerts per 100 histories as `perfwatch detect` reports them: each per-series change
    that is not part of a suite-wide shift is one alert, and each entry of the document's
    `suite_shifts` (all of its member changes together) is one alert."""
    changes = doc["changes"]
    shifts = doc.get("suite_shifts", [])
    assert isinstance(changes, list) and isinstance(shifts, list)
    alone = sum(1 for c in changes if not c.get("suite_shift"))
    where = ", ".join(f"{s['commit'][:8]}: {s['series']} of {s['measured_series']} series, "
                      f"median {100 * s['median_rel_change']:+.1f}%" for s in shifts) or "none"
    return (f"alerts as reported: {alone} per-series changes + {len(shifts)} suite-wide "
            f"shift(s) ({where}) = {100.0 * (alone + len(shifts)) / max(1, len(records)):.1f} "
            f"per 100 histories ({len(changes)} per-series changes in all)")


def grouped_alerts(records: list[dict[str, object]], dets: list[dict[str, object]]) -> str:
    """Alerts per 100 histories when suite-wide common shifts count once per commit."""
    ids = [str(r["id"]) for r in records]
    pos = {k: i for i, k in enumerate(ids)}
    measured = []
    for r in records:
        raw = r["samples"]
        assert isinstance(raw, list)
        measured.append([i for i, s in enumerate(raw) if s])
    changes = [SeriesChange(pos[str(d["id"])], int(str(d["index"])), d["direction"] == "up")
               for d in dets]
    shifts = common_shifts(changes, measured)
    grouped = len(dets) - sum(len(c.series) for c in shifts) + len(shifts)
    where = ", ".join(f"commit {c.position}: {len(c.series)} series" for c in shifts) or "none"
    return (f"suite-wide common shifts: {where}; alerts per 100 histories counting each "
            f"once: {100.0 * grouped / max(1, len(records)):.1f}")


def _matched(truth: list[dict[str, object]], found: list[dict[str, object]], n: int
             ) -> tuple[set[int], set[int]]:
    """Indices of the true changes and detections that score.py pairs up (same direction,
    within max(2, 2% of the length), nearest pairs first, one to one)."""
    tol = max(2.0, 0.02 * n)
    pairs = sorted((abs(int(str(d["index"])) - int(str(t["index"]))), ti, di)
                   for ti, t in enumerate(truth) for di, d in enumerate(found)
                   if abs(int(str(d["index"])) - int(str(t["index"]))) <= tol
                   and (d["direction"] == "up") == (float(str(t["rel"])) > 0))
    used_t: set[int] = set()
    used_d: set[int] = set()
    for _, ti, di in pairs:
        if ti not in used_t and di not in used_d:
            used_t.add(ti)
            used_d.add(di)
    return used_t, used_d


def explain(records: list[dict[str, object]], dets: list[dict[str, object]]) -> None:
    """One line per missed change and per false alarm of a labelled corpus."""
    by_id: dict[str, list[dict[str, object]]] = {}
    for d in dets:
        by_id.setdefault(str(d["id"]), []).append(d)
    for r in records:
        truth = r.get("changes")
        if not isinstance(truth, list):
            continue
        found = by_id.get(str(r["id"]), [])
        hit_t, hit_d = _matched(truth, found, int(str(r["commits"])))
        head = f"{r['id']} {r.get('noise_model')} ({r['commits']} commits)"
        for ti, t in enumerate(truth):
            if ti not in hit_t:
                print(f"miss  {head}: change at {t['index']} ({100 * float(str(t['rel'])):+.1f}%)")
        for di, d in enumerate(found):
            if di not in hit_d:
                print(f"false {head}: detection at {d['index']} ({100 * float(str(d['rel'])):+.1f}%, "
                      f"p {float(str(d['pvalue'])):.1e}); true changes "
                      + (", ".join(str(t["index"]) for t in truth) or "none"))


def score(corpus_path: Path, dets: list[dict[str, object]], score_py: Path, workdir: Path,
          name: str) -> None:
    det_path = workdir / f"{name}.detections.jsonl"
    det_path.write_text("".join(json.dumps(d) + "\n" for d in dets))
    subprocess.run([sys.executable, str(score_py), str(corpus_path), str(det_path), "--name", name],
                   check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--direct", action="store_true", help="call the detector on the arrays")
    ap.add_argument("--real", type=Path,
                    help="unlabelled corpus: count alerts on django-asv (default: "
                         "real_unlabeled.jsonl next to CORPUS, when it exists)")
    ap.add_argument("--no-real", action="store_true", help="skip the unlabelled corpus")
    ap.add_argument("--simulate", type=int, default=0, help="score N simulated histories instead")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--models", help="with --simulate: comma-separated noise models to draw "
                    "from (default: the standard mix); e.g. mode_runs,random_walk")
    ap.add_argument("--score-py", type=Path, help="score.py (default: next to the corpus)")
    ap.add_argument("--keep", type=Path, help="keep scratch files here")
    ap.add_argument("--explain", action="store_true",
                    help="list every missed change and false alarm of the labelled corpus")
    a = ap.parse_args(argv)
    if a.real is None and not a.no_real and not a.simulate:
        default_real = a.corpus.parent / "real_unlabeled.jsonl"
        a.real = default_real if default_real.exists() else None
    score_py = a.score_py or (a.corpus.parent / "score.py")
    if not score_py.exists():
        print(f"eval_corpus: {score_py} not found; pass --score-py", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = a.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        jobs: list[tuple[str, Path, list[dict[str, object]]]] = []
        if a.simulate:
            recs = simulated_corpus(a.simulate, a.seed, a.models.split(",") if a.models else None)
            path = work / "simulated.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in recs))
            jobs.append(("simulated", path, recs))
        else:
            jobs.append((a.corpus.stem, a.corpus, load(a.corpus)))
        if a.real:
            recs = [r for r in load(a.real) if str(r["id"]).startswith("django-asv/")]
            path = work / "django.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in recs))
            jobs.append(("django", path, recs))
        for name, path, recs in jobs:
            t0 = time.perf_counter()
            doc: dict[str, object] | None = None
            if a.direct:
                dets = detect_direct(recs, a.seed)
            else:
                dets, doc = detect_real(recs, work / f"{name}-asv")
            wall = time.perf_counter() - t0
            print(f"[{name}: {'direct' if a.direct else 'real path'}, {wall:.1f} s]")
            score(path, dets, score_py, work, name)
            if a.explain and name != "django":
                explain(recs, dets)
            if name == "django":
                # real path: count as perfwatch reports (a suite-wide shift is one alert);
                # --direct: group the raw detections the same way with common_shifts
                print(reported_alerts(recs, doc) if doc is not None
                      else grouped_alerts(recs, dets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
