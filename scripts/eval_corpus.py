#!/usr/bin/env python3
"""Score perfwatch's change-point detector on a labelled corpus of histories (optional).

    scripts/eval_corpus.py [CORPUS] [--direct] [--real UNLABELED] [--simulate N --seed S]

Default CORPUS: ../shared/corpus/dev.jsonl relative to the repository root; its
score.py (next to it) does the scoring. Never used by the tests.

--direct      call perfwatch.stats.detect_change_points on the arrays (quick iteration)
(default)     the real path: write the histories as asv results (format version 2, one
              results file per commit, raw samples) into a scratch git repository with one
              commit per index, run `perfwatch detect --json`, map commits back to indices
--real FILE   also count alerts on the django-asv histories of this unlabelled corpus
--simulate N  held-out check: N seeded histories from perfwatch.stats.simulate instead
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

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev.jsonl"


def load(path: Path) -> list[dict[str, object]]:
    with path.open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


def simulated_corpus(n: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out: list[dict[str, object]] = []
    for i in range(n):
        h = simulate_history(rng)
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
    ap.add_argument("--real", type=Path, help="unlabelled corpus: count alerts on django-asv")
    ap.add_argument("--simulate", type=int, default=0, help="score N simulated histories instead")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--score-py", type=Path, help="score.py (default: next to the corpus)")
    ap.add_argument("--keep", type=Path, help="keep scratch files here")
    a = ap.parse_args(argv)
    score_py = a.score_py or (a.corpus.parent / "score.py")
    if not score_py.exists():
        print(f"eval_corpus: {score_py} not found; pass --score-py", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = a.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        jobs: list[tuple[str, Path, list[dict[str, object]]]] = []
        if a.simulate:
            recs = simulated_corpus(a.simulate, a.seed)
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
            if a.direct:
                dets = detect_direct(recs, a.seed)
            else:
                from eval_real_path import detect_real

                dets = detect_real(recs, work / f"{name}-asv")
            wall = time.perf_counter() - t0
            print(f"[{name}: {'direct' if a.direct else 'real path'}, {wall:.1f} s]")
            score(path, dets, score_py, work, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
