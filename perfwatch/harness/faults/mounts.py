"""Small filesystems for disk-full faults: tmpfs (size and inode caps) and loop-mounted ext4.

Both are context managers that mount on enter and unmount (and detach the loop device)
on exit, also when the body raised. Root only.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from perfwatch.harness.faults._system import require_root, run_tool
from perfwatch.harness.faults.errors import FaultToolError

__all__ = ["MountedFs", "fs_usage", "loop_mount", "mounts_under", "remount_tmpfs", "tmpfs_mount"]


@dataclass(frozen=True)
class MountedFs:
    """A filesystem a fault tool mounted."""

    path: Path
    fstype: str
    size_bytes: int
    inodes: int | None
    image: Path | None = None  # backing file of a loop mount


@dataclass(frozen=True)
class FsUsage:
    total_bytes: int
    free_bytes: int
    total_inodes: int
    free_inodes: int


def fs_usage(path: Path) -> FsUsage:
    st = os.statvfs(path)
    return FsUsage(
        total_bytes=st.f_blocks * st.f_frsize,
        free_bytes=st.f_bavail * st.f_frsize,
        total_inodes=st.f_files,
        free_inodes=st.f_favail,
    )


@contextmanager
def tmpfs_mount(path: Path, size_bytes: int, *, nr_inodes: int | None = None) -> Iterator[MountedFs]:
    """Mount a tmpfs of ``size_bytes`` (and at most ``nr_inodes`` inodes) on ``path``."""
    require_root("mounting a tmpfs")
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size_bytes}" + (f",nr_inodes={nr_inodes}" if nr_inodes else "")
    run_tool(["mount", "-t", "tmpfs", "-o", options, "pwfault-tmpfs", str(path)])
    try:
        yield MountedFs(path=path, fstype="tmpfs", size_bytes=size_bytes, inodes=nr_inodes)
    finally:
        _unmount(path)


def remount_tmpfs(path: Path, size_bytes: int, *, nr_inodes: int | None = None) -> None:
    """Grow or shrink a tmpfs in place (shrinking below its use fails with EBUSY-like errors)."""
    options = f"remount,size={size_bytes}" + (f",nr_inodes={nr_inodes}" if nr_inodes else "")
    run_tool(["mount", "-o", options, str(path)])


@contextmanager
def loop_mount(
    path: Path, size_bytes: int, *, image: Path, inodes: int | None = None
) -> Iterator[MountedFs]:
    """Make an ext4 image file of ``size_bytes`` at ``image`` and loop-mount it on ``path``."""
    require_root("loop-mounting a filesystem")
    path.mkdir(parents=True, exist_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(size_bytes)
    mkfs = ["mkfs.ext4", "-q", "-F", "-m", "0", "-L", "pwfault"]
    if inodes:
        mkfs += ["-N", str(inodes)]
    run_tool([*mkfs, str(image)])
    run_tool(["mount", "-o", "loop", str(image), str(path)])
    try:
        yield MountedFs(path=path, fstype="ext4", size_bytes=size_bytes, inodes=inodes, image=image)
    finally:
        _unmount(path)
        image.unlink(missing_ok=True)


def mounts_under(prefix: Path) -> list[Path]:
    """Mount points at or below ``prefix`` (from /proc/self/mountinfo)."""
    found: list[Path] = []
    root = str(prefix.resolve())
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == root or point.startswith(root.rstrip("/") + "/"):
            found.append(Path(point))
    return found


def _unmount(path: Path) -> None:
    """Unmount, retrying while a process still holds a file; lazily as the last resort."""
    for _ in range(20):
        if subprocess.run(["umount", str(path)], capture_output=True, check=False).returncode == 0:
            return
        if not mounts_under(path):
            return
        time.sleep(0.1)
    done = subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0 and mounts_under(path):
        raise FaultToolError(
            f"cannot unmount {path}: {done.stderr.strip()}", hint="stop the processes using it"
        )
