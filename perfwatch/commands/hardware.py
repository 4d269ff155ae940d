"""``perfwatch hardware detect|check``: this host against the pinned hardware profiles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from perfwatch.harness.check import differences, fingerprint
from perfwatch.harness.host import detect_host
from perfwatch.harness.profiles import default_hardware_dir, find_profile, load_profile
from perfwatch.harness.render import profile_from_host, render_profile

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "hardware",
        help="detect this host's hardware profile, or check it against one",
        description="`detect` prints a hardware profile (TOML) for this host; `check PROFILE` "
        "lists every difference between this host and a profile and exits 1 if there is any.",
    )
    p.add_argument("action", choices=("detect", "check"))
    p.add_argument("profile", nargs="?", default=None,
                   help="profile name (in --hardware-dir) or path to a .toml (for check)")
    p.add_argument("--name", default=None, help="profile name to put in the detected TOML")
    p.add_argument("--hardware-dir", type=Path, default=None, metavar="DIR",
                   help="directory of profiles (default: ./hardware)")
    p.add_argument("--root", type=Path, default=Path("/"), help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    host = detect_host(args.root, free_path=Path.cwd())
    if args.action == "detect":
        print(f"# perfwatch hardware detect; fingerprint {fingerprint(host)}")
        print(render_profile(profile_from_host(host, args.name)), end="")
        return 0
    if args.profile is None:
        print("perfwatch hardware check: error: name a PROFILE to check", file=sys.stderr)
        return 2
    path = find_profile(args.profile, args.hardware_dir or default_hardware_dir())
    profile = load_profile(path)
    diffs = differences(profile, host)
    for diff in diffs:
        print(f"HardwareMismatchError: {diff}")
    if diffs:
        print(f"host does not match profile {profile.name!r} ({len(diffs)} difference(s))",
              file=sys.stderr)
        return 1
    print(f"host matches profile {profile.name!r} (fingerprint {fingerprint(host)})")
    return 0
