"""asv machine identity: the profile name as asv's machine name, plus the fingerprint.

asv keeps machine descriptions in ``~/.asv-machine.json`` (``{name: {...}, "version": 1}``)
and copies the entry for ``--machine NAME`` into ``RESULTS/NAME/machine.json`` and into
every result's ``params``. Extra keys survive that copy, so the hardware fingerprint
written here travels with every result, and results from different hardware never
share a machine series.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from perfwatch.errors import HardwareMismatchError, HarnessError
from perfwatch.harness.check import fingerprint
from perfwatch.harness.host import HostFacts
from perfwatch.harness.profiles import HardwareProfile

__all__ = ["default_machine_file", "machine_info", "register_machine", "require_same_fingerprint"]


def default_machine_file() -> Path:
    return Path(os.path.expanduser("~/.asv-machine.json"))


def machine_info(profile: HardwareProfile, host: HostFacts) -> dict[str, str]:
    """The asv machine entry for ``profile`` on ``host`` (all values strings, as asv's)."""
    return {
        "machine": profile.name,
        "os": f"{platform.system()} {platform.release()}",
        "arch": host.arch,
        "cpu": host.cpu_model,
        "num_cpu": str(host.logical_cpus),
        "ram": str(host.memory_bytes),
        "fingerprint": fingerprint(host),
    }


def register_machine(info: dict[str, str], path: Path | None = None) -> Path:
    """Add or replace ``info`` in asv's machine file; returns the file's path."""
    path = path or default_machine_file()
    data: dict[str, object] = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise HarnessError(f"{path} is not valid JSON: {err}",
                               hint="fix or delete it; asv recreates it", path=path) from err
    data[info["machine"]] = info
    data["version"] = 1
    path.write_text(json.dumps(data, indent=4, sort_keys=True) + "\n")
    return path


def require_same_fingerprint(results_dir: Path, info: dict[str, str]) -> None:
    """Refuse to add results under a machine name recorded on other hardware."""
    path = results_dir / info["machine"] / "machine.json"
    if not path.is_file():
        return
    try:
        recorded = json.loads(path.read_text()).get("fingerprint")
    except json.JSONDecodeError:
        return
    if recorded and recorded != info["fingerprint"]:
        raise HardwareMismatchError(
            f"results for machine {info['machine']!r} were recorded on hardware with "
            f"fingerprint {recorded}, this host is {info['fingerprint']}",
            hint="the runner's hardware drifted: fix the runner, or give it a new profile name",
            path=path,
        )
