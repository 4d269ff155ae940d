"""``perfwatch run`` as a use case: check the host, name the machine, run the asv plan.

Steps: load the hardware profile (or find the one this host matches), refuse on any
difference or on a fingerprint other than the one already recorded under that machine
name, register the machine (with its fingerprint) in asv's machine file, resolve the
commits, then run each planned asv invocation pinned to the profile's CPUs with the
profile's environment. In ``--python=same`` mode each commit's ``recorder/src`` is
exported with ``git archive`` into a temporary directory and put first on the path.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from perfwatch.errors import ConfigError, RepositoryError
from perfwatch.harness.asv_plan import AsvInvocation, RunRequest, plan
from perfwatch.harness.check import differences, require_match
from perfwatch.harness.host import HostFacts, detect_host
from perfwatch.harness.machine import machine_info, register_machine, require_same_fingerprint
from perfwatch.harness.profiles import HardwareProfile, find_profile, load_profile
from perfwatch.harness.render import profile_from_host
from perfwatch.harness.run_record import BenchmarkRuns, note_invocation, snapshot
from perfwatch.harness.runner import Hook, Run, run_once

__all__ = [
    "Prepared",
    "execute",
    "export_sources",
    "prepare",
    "prepare_local",
    "resolve_commits",
    "stamp_results_machine",
]

LineSink = Callable[[str], None]


@dataclass(frozen=True)
class Prepared:
    profile: HardwareProfile
    host: HostFacts
    info: dict[str, str]  # the asv machine entry, fingerprint included


def _pick_profile(hardware_dir: Path, host: HostFacts) -> HardwareProfile:
    matching = [p for p in map(load_profile, sorted(hardware_dir.glob("*.toml")))
                if not differences(p, host)]
    if not matching:
        raise ConfigError(f"this host matches none of the profiles in {hardware_dir}",
                          hint="pass --profile, or add one from `perfwatch hardware detect`")
    return matching[0]


def prepare(profile: str | None, *, hardware_dir: Path, results_dir: Path,
            machine_file: Path | None = None, host: HostFacts | None = None) -> Prepared:
    """Check this host against the profile and register it as asv's machine."""
    host = host or detect_host(free_path=results_dir if results_dir.exists() else Path.cwd())
    chosen = (load_profile(find_profile(profile, hardware_dir)) if profile
              else _pick_profile(hardware_dir, host))
    require_match(chosen, host)
    info = machine_info(chosen, host)
    require_same_fingerprint(results_dir, info)
    register_machine(info, machine_file)
    return Prepared(chosen, host, info)


def prepare_local(name: str, *, machine_file: Path | None = None) -> Prepared:
    """This host as it is (no profile check), registered as machine ``name``.

    For runs whose results are not kept (profiling): no pinning beyond the host's CPUs.
    """
    host = detect_host(free_path=Path.cwd())
    profile = profile_from_host(host, name)
    info = machine_info(profile, host)
    register_machine(info, machine_file)
    return Prepared(profile, host, info)


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RepositoryError(f"git {' '.join(args)} failed: {proc.stderr.strip()}",
                              hint="check the commit names and that REPO is a git checkout")
    return proc.stdout


def resolve_commits(repo: Path, specs: Sequence[str]) -> tuple[str, ...]:
    """Full SHAs for commit names and ``A..B`` ranges (first-parent, oldest first)."""
    out: list[str] = []
    for spec in specs or ["HEAD"]:
        if ".." in spec:
            shas = _git(repo, "rev-list", "--first-parent", "--reverse", spec).split()
            if not shas:
                raise RepositoryError(f"range {spec} holds no commits",
                                      hint="name the older commit first: BASE..HEAD")
            out += shas
        else:
            out.append(_git(repo, "rev-parse", "--verify", f"{spec}^{{commit}}").strip())
    return tuple(dict.fromkeys(out))


def export_sources(repo: Path, sha: str, subdir: str, dest: Path) -> Path:
    """Extract ``subdir`` of commit ``sha`` into ``dest``; returns ``dest/subdir``."""
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", sha, subdir],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise RepositoryError(f"cannot export {subdir} of {sha[:8]}: "
                              f"{archive.stderr.decode(errors='replace').strip()}",
                              hint="does that commit have the recorder?")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest / subdir


def _env(prepared: Prepared, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(prepared.profile.env_dict)
    env.update({"PERFWATCH_PROFILE": prepared.profile.name,
                "PERFWATCH_FINGERPRINT": prepared.info["fingerprint"],
                "PYTHONUNBUFFERED": "1"})  # asv's progress arrives line by line
    env.update(extra)
    return env


def _run_one(inv: AsvInvocation, prepared: Prepared, *, repo: Path, cwd: Path,
             on_line: LineSink, timeout: float | None, hook: Hook | None) -> Run:
    extra: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="perfwatch-src-") as tmp:
        if inv.source_commit is not None:
            src = export_sources(repo, inv.source_commit, "recorder/src", Path(tmp))
            extra["ASV_PYTHONPATH"] = str(src)
        return run_once(inv.argv, timeout=timeout, env=_env(prepared, extra), cwd=cwd,
                        cpus=prepared.profile.cpu.pin, on_line=on_line, hook=hook)


def _result_files(results_dir: Path, machine: str, commits: Sequence[str]) -> list[Path]:
    """The result files asv writes for these commits (``<sha[:8]>-<env>.json``)."""
    folder = results_dir / machine
    return sorted({p for sha in commits for p in folder.glob(f"{sha[:8]}-*.json")})


def _snapshots(files: Sequence[Path], machine: str) -> dict[Path, dict[str, BenchmarkRuns]]:
    return {p: snapshot(p, machine) for p in files}


def _note_runs(results_dir: Path, machine: str, commits: Sequence[str],
               before: Mapping[Path, Mapping[str, BenchmarkRuns]], append: bool) -> None:
    """Record how many samples each invocation left in each commit's result files."""
    for path in _result_files(results_dir, machine, commits):
        sha = next(c for c in commits if path.name.startswith(c[:8]))
        note_invocation(path, machine, sha, before.get(path, {}), append=append)


def execute(request: RunRequest, prepared: Prepared, *, repo: Path, cwd: Path,
            on_line: LineSink, on_step: LineSink | None = None,
            timeout: float | None = None, hook: Hook | None = None,
            results_dir: Path | None = None) -> list[Run]:
    """Run every planned asv invocation (all of them, even after one fails).

    With ``results_dir`` (and results kept), each invocation's samples per benchmark are
    recorded next to the results (:mod:`perfwatch.harness.run_record`), so ``compare``
    knows the runs of each commit.
    """
    if request.hashfile is not None:
        request.hashfile.write_text("\n".join(request.commits) + "\n")
    record = results_dir is not None and not request.dry_run
    runs = []
    for inv in plan(request):
        if on_step is not None:
            on_step(inv.label)
        commits = [inv.source_commit] if inv.source_commit else list(request.commits)
        before = (_snapshots(_result_files(results_dir, request.machine, commits),
                             request.machine) if record and results_dir else {})
        result = _run_one(inv, prepared, repo=repo, cwd=cwd, on_line=on_line, timeout=timeout,
                          hook=hook)
        if record and results_dir is not None:
            _note_runs(results_dir, request.machine, commits, before,
                       append="--append-samples" in inv.argv)
        runs.append(result)
    return runs


def stamp_results_machine(results_dir: Path, info: dict[str, str]) -> Path:
    """Make sure ``RESULTS/NAME/machine.json`` carries the fingerprint (asv copies it)."""
    path = results_dir / info["machine"] / "machine.json"
    data = json.loads(path.read_text()) if path.is_file() else {"version": 1}
    data.update(info)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4, sort_keys=True) + "\n")
    return path
