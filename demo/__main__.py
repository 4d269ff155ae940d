"""``make demo``: perfwatch's whole loop on a scratch history of the recorder.

    python -m demo [--out DIR]

1. a scratch git history of the recorder with real code changes (a regression: an fsync
   per packet in the segmenter; an improvement: that fsync removed; neutral commits);
2. ``perfwatch run``: the asv benchmarks at every commit, raw samples, this host's profile;
3. ``perfwatch detect`` over the history;
4. ``perfwatch compare`` for a "PR" whose head is the regressing commit;
5. ``perfwatch profile``: py-spy flamegraphs at base and head, and their diff;
6. ``perfwatch publish``: the asv dashboard with perfwatch's pages;
7. ``perfwatch comment``: the PR comment and check run, posted to a local fake GitHub;
8. ``perfwatch serve``: the dashboard served on 127.0.0.1 (checked, then stopped).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from demo.history import STEPS, History, build_history
from demo.pipeline import (
    PROFILED,
    SERVE_PORT,
    Layout,
    StepFailed,
    benchmark,
    check_served,
    compare,
    detect,
    post_comment,
    profile,
    publish,
)

ROOT = Path(__file__).resolve().parents[1]


class Progress:
    def __init__(self, total: int) -> None:
        self.total, self.n, self.t0 = total, 0, time.monotonic()

    def step(self, text: str) -> None:
        self.n += 1
        print(f"\n[{self.n}/{self.total}] {text}  (t={time.monotonic() - self.t0:.0f}s)", flush=True)


def _findings(detected: dict[str, object], history: History) -> tuple[list[str], bool]:
    """One line per finding, and whether it matches what was planted (and nothing else)."""
    index = {sha: i for i, sha in enumerate(history.shas)}
    planted = {(i, s.planted) for i, s in enumerate(STEPS) if s.planted}
    lines, found = [], set()
    changes = detected.get("changes", [])
    assert isinstance(changes, list)
    for ch in changes:
        i = index.get(ch["commit"], -1)
        kind = ch["direction"]
        params = f"({', '.join(ch['params'])})" if ch.get("params") else ""
        expected = (i, kind) in planted
        found.add((i, kind))
        mark = "planted" if expected else "UNEXPECTED"
        lines.append(f"  {kind:<11} {ch['benchmark']}{params}: {ch['rel_change']:+.1%} "
                     f"(95% CI {ch['ci'][0]:+.1%}..{ch['ci'][1]:+.1%}) at commit {i} "
                     f"{ch['commit'][:8]} \"{STEPS[i].summary if i >= 0 else '?'}\" [{mark}]")
    ok = planted <= found and all((i, k) in planted for i, k in found)
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / ".demo" / "e2e")
    args = parser.parse_args(argv)
    layout = Layout(args.out.resolve())
    progress = Progress(8)
    try:
        progress.step(f"scratch history of the recorder: {len(STEPS)} commits")
        history = build_history(ROOT, layout.repo)
        for i, (sha, step) in enumerate(zip(history.shas, STEPS)):
            tag = f"  <- planted {step.planted}" if step.planted else ""
            print(f"    {i} {sha[:8]} {step.summary}{tag}")
        reg = history.planted("regression")[0]
        base, head = history.shas[reg[0] - 1], reg[1]

        progress.step("perfwatch run: asv at every commit, raw samples")
        benchmark(layout, history)
        progress.step("perfwatch detect over the history")
        detected = detect(layout)
        progress.step(f"perfwatch compare: PR base {base[:8]} -> head {head[:8]}")
        compare_code = compare(layout, base, head)
        progress.step("perfwatch profile: py-spy at base and head, and the diff")
        diff = profile(layout, base, head)
        progress.step("perfwatch publish: asv dashboard + perfwatch pages")
        publish(layout, base, head)
        progress.step("perfwatch comment: PR comment + check run to a local fake GitHub")
        machine = next(p.parent.name for p in sorted(layout.results.glob("*/*.json"))
                       if p.name != "machine.json")
        posted = post_comment(layout, base, head, machine)
        progress.step("perfwatch serve: dashboard on 127.0.0.1")
        served = check_served(layout)
    except StepFailed as err:
        print(f"\ndemo: {err}; see the output above", file=sys.stderr)
        return 1

    lines, ok = _findings(detected, history)
    comment_md = layout.out / "pr-comment.md"
    print("\nFindings (perfwatch detect):")
    print("\n".join(lines) if lines else "  none")
    pr_verdict = _pr_verdict(layout)
    print(f"\nPR verdict on {PROFILED} (perfwatch compare, exit {compare_code}): {pr_verdict}")
    if pr_verdict.startswith("unsure"):
        print("  (this benchmark's run-to-run noise on this machine is too large for one run per "
              "side to confirm it; the verdict says how many more runs would)")
    print(f"Fake GitHub: {posted['comments']} comment on {posted['repo']}#{posted['pr']}, "
          f"check conclusions {posted['check_conclusions']}, "
          f"OpenAPI violations {len(posted['violations'])}")  # type: ignore[arg-type]
    print("\nWhere everything is:")
    print(f"  scratch repository   {layout.repo}")
    print(f"  asv results          {layout.results}")
    print(f"  detect JSON          {layout.out / 'detect.json'}")
    print(f"  PR comment           {comment_md}")
    print(f"  flamegraphs          {layout.profiles}/{{base,head}}/")
    print(f"  flamegraph diff      {diff}")
    print(f"  dashboard            {layout.html}/index.html  (perfwatch: perfwatch/index.html)")
    print(f"  serve it             perfwatch serve --config {layout.config} --port {SERVE_PORT}"
          f"   [checked: {'reachable' if served else 'NOT reachable'}]")
    verdict = "planted changes found, nothing else" if ok else "findings differ from the plan"
    print(f"\ndemo: {verdict}; {time.monotonic() - progress.t0:.0f} s in all")
    # The PR verdict may be "unsure: rerun" on a noisy machine, never "no change".
    pr_ok = pr_verdict.startswith(("regression", "unsure"))
    return 0 if ok and pr_ok and served else 1


def _pr_verdict(layout: Layout) -> str:
    """The compare verdict of the profiled benchmark, as the PR comment states it."""
    data = json.loads((layout.artifact / "compare.json").read_text())
    for c in data["comparisons"]:
        if c["benchmark"] == PROFILED:
            extra = f" (+{c['extra_runs']} runs)" if c.get("extra_runs") else ""
            return f"{c['verdict']}{extra}, {c['rel_change']:+.1%}"
    return "not compared"


if __name__ == "__main__":
    raise SystemExit(main())
