"""The demo's steps, each a real perfwatch command on the scratch history.

Every step runs the installed ``perfwatch`` console script (the same commands a user
types), with its output shown as it comes, and stops the demo with the command's own
message when one fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from demo.history import History

BENCH = "^bench_remux"
PROFILED = "bench_remux.Remux.time_remux_clip"
SERVE_PORT = 8080  # the port the demo tells people to serve the dashboard on


class StepFailed(RuntimeError):
    """A perfwatch command of the demo failed; its output was shown."""


@dataclass(frozen=True)
class Layout:
    """Where the demo leaves what it made."""

    out: Path

    @property
    def repo(self) -> Path:
        return self.out / "repo"

    @property
    def config(self) -> Path:
        return self.repo / "asv.conf.json"

    @property
    def results(self) -> Path:
        return self.repo / ".asv" / "results"

    @property
    def html(self) -> Path:
        return self.repo / ".asv" / "html"

    @property
    def artifact(self) -> Path:
        return self.out / "pr-artifact"

    @property
    def profiles(self) -> Path:
        return self.html / "perfwatch" / "profiles"


def perfwatch_exe() -> str:
    sibling = Path(sys.executable).with_name("perfwatch")
    return str(sibling) if sibling.exists() else "perfwatch"


def run(args: Sequence[str], *, cwd: Path, ok: Sequence[int] = (0,), quiet: bool = False,
        env: dict[str, str] | None = None, stdout_to: Path | None = None) -> int:
    """Run ``perfwatch ARGS``; echo its output (or write stdout to a file)."""
    cmd = [perfwatch_exe(), *args]
    print(f"    $ perfwatch {' '.join(args)}", flush=True)
    full_env = {**os.environ, **(env or {})}
    if stdout_to is not None:
        with stdout_to.open("w") as fh:
            proc = subprocess.run(cmd, check=False, cwd=cwd, env=full_env, stdout=fh,
                                  stderr=subprocess.PIPE, text=True)
        if proc.stderr.strip():
            print(_indent(proc.stderr), flush=True)
    else:
        proc = subprocess.run(cmd, check=False, cwd=cwd, env=full_env, capture_output=quiet,
                              text=True)
        if quiet and proc.returncode not in ok:
            print(_indent(proc.stdout + proc.stderr), flush=True)
    if proc.returncode not in ok:
        raise StepFailed(f"`perfwatch {' '.join(args)}` exited {proc.returncode}")
    return proc.returncode


def _indent(text: str) -> str:
    return "\n".join(f"      {line}" for line in text.rstrip().splitlines())


def benchmark(layout: Layout, history: History) -> None:
    run(["run", "--python", "same", "--bench", BENCH, "--config", str(layout.config),
         *history.shas], cwd=layout.repo)


def detect(layout: Layout) -> dict[str, object]:
    out = layout.out / "detect.json"
    run(["detect", "--results-dir", str(layout.results), "--repo", str(layout.repo),
         "--json", str(out)], cwd=layout.repo)
    data: dict[str, object] = json.loads(out.read_text())
    return data


def compare(layout: Layout, base: str, head: str) -> int:
    layout.artifact.mkdir(parents=True, exist_ok=True)
    common = ["compare", base, head, "--results-dir", str(layout.results), "--repo",
              str(layout.repo)]
    code = run(common, cwd=layout.repo, ok=(0, 1))
    run([*common, "--json"], cwd=layout.repo, ok=(0, 1),
        stdout_to=layout.artifact / "compare.json")
    return code


def profile(layout: Layout, base: str, head: str) -> Path:
    """py-spy profiles of the profiled benchmark at base and head, and their diff."""
    for name, sha in (("base", base), ("head", head)):
        run(["profile", PROFILED, "--commit", sha, "--config", str(layout.config),
             "--out", str(layout.profiles / name)], cwd=layout.repo, quiet=True)
    a = _one(layout.profiles / "base", "*.speedscope.json")
    b = _one(layout.profiles / "head", "*.speedscope.json")
    # Beside the flamegraphs, so that the dashboard's series page links it.
    diff = layout.profiles / f"{PROFILED}-diff.txt"
    run(["profile", "--diff", str(a), str(b), "--top", "12"], cwd=layout.repo, stdout_to=diff)
    return diff


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.rglob(pattern))
    if not found:
        raise StepFailed(f"no {pattern} under {folder}")
    return found[0]


def publish(layout: Layout, base: str, head: str) -> None:
    run(["publish", "--config", str(layout.config), "--compare", base, head, "--quiet"],
        cwd=layout.repo)


def wait_http(url: str, timeout: float = 20.0) -> bool:
    import urllib.request

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            time.sleep(0.2)
    return False


def post_comment(layout: Layout, base: str, head: str, machine: str) -> dict[str, object]:
    """Post the PR comment and check run to a local fake GitHub that checks every request
    against GitHub's OpenAPI description. Returns what the fake holds afterwards."""
    from tests.fake_github.server import FakeGitHub

    payload_file = Path(__file__).resolve().parents[1] / "tests/data/github/payloads/pull_request.opened.json"
    event = json.loads(payload_file.read_text())
    pr = event["pull_request"]
    pr["head"]["sha"], pr["base"]["sha"] = head, base
    repo_name = event["repository"]["full_name"]
    event_file = layout.out / "pull_request.event.json"
    event_file.write_text(json.dumps(event))
    run(["comment", "--artifact", str(layout.artifact), "--prepare", str(event_file),
         "--machine", machine, "--base-sha", base, "--results-dir", str(layout.results)],
        cwd=layout.repo)
    _add_links(layout, head)
    fake = FakeGitHub()
    fake.add_pull(int(event["number"]), head_sha=head, base_sha=base)
    with fake.running():
        run(["comment", "--artifact", str(layout.artifact), "--repo", repo_name, "--pr",
             str(event["number"]), "--api-url", fake.url], cwd=layout.repo,
            env={"GITHUB_TOKEN": fake.token})
        comments = fake.comments_on(int(event["number"]))
        checks = list(fake.check_runs.values())
    if comments:
        (layout.out / "pr-comment.md").write_text(comments[-1]["body"])
    return {"repo": repo_name, "pr": event["number"], "comments": len(comments),
            "check_conclusions": [c.get("conclusion") for c in checks],
            "violations": list(fake.violations)}


def _add_links(layout: Layout, head: str) -> None:
    """Point the comment at the dashboard as ``perfwatch serve --port SERVE_PORT`` serves it."""
    from perfwatch.model import SeriesKey
    from perfwatch.publish import series_slug

    meta_file = layout.artifact / "pr.json"
    meta = json.loads(meta_file.read_text())
    compared = json.loads((layout.artifact / "compare.json").read_text())["comparisons"]
    base_url = f"http://127.0.0.1:{SERVE_PORT}"
    meta["dashboard_url"] = f"{base_url}/perfwatch/index.html"
    for c in compared:
        key = SeriesKey(c["benchmark"], tuple(c["params"]) if c["params"] else None, c["machine"])
        meta["graph_links"][key.label] = f"{base_url}/perfwatch/series/{series_slug(key)}.html"
        if c["benchmark"] == PROFILED:
            svg = next((layout.profiles / "head").glob("*.svg"))
            meta["flamegraph_links"][key.label] = (
                f"{base_url}/{svg.relative_to(layout.html).as_posix()}")
    meta_file.write_text(json.dumps(meta, indent=2))


def check_served(layout: Layout) -> str | None:
    """Start ``perfwatch serve`` on a free port, fetch perfwatch's overview, stop it."""
    proc = subprocess.Popen([perfwatch_exe(), "serve", "--config", str(layout.config),
                             "--port", "0"], cwd=layout.repo, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = next((w for w in line.split() if w.startswith("http://127.0.0.1:")), None)
        if url is None:
            return None
        page = url.rstrip("/") + "/perfwatch/index.html"
        return page if wait_http(page) else None
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
