"""Real code changes applied to the recorder's sources to make the demo's history.

Each patch edits a file of the scratch repository in place and fails loudly when the code
it expects is not there (the recorder changed: update the anchor here).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

SEGMENTER = Path("recorder/src/recorder/segmenter.py")
NOTES = Path("recorder/NOTES.md")
# The line of SegmentWriter.write that hands a packet to the muxer.
_MUX_LINE = re.compile(r"^(?P<indent>[ \t]+)self\._guard\(lambda: cur\.out\.mux\(packet\)\).*$",
                       re.MULTILINE)
_FSYNC_CALL = "_fsync_path(cur.path)  # durability: flush every packet to disk"
_FSYNC_HELPER = '''

def _fsync_path(path: Path) -> None:
    """Flush what was written to ``path`` so far, and its directory entry, to the disk."""
    for target in (path, path.parent):
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
'''


class PatchError(RuntimeError):
    """The recorder's code no longer has what a demo patch edits."""


def _edit(root: Path, rel: Path, change: Callable[[str], str]) -> None:
    path = root / rel
    text = path.read_text()
    new = change(text)
    if new == text:
        raise PatchError(f"demo patch changed nothing in {rel}; update demo/patches.py")
    path.write_text(new)


def add_fsync_per_packet(root: Path) -> None:
    """The regression: fsync the open cache file and its directory after every muxed packet."""

    def change(text: str) -> str:
        match = _MUX_LINE.search(text)
        if match is None:
            raise PatchError(f"no muxer call found in {SEGMENTER}; update demo/patches.py")
        line = match.group(0)
        call = f"{line}\n{match.group('indent')}{_FSYNC_CALL}"
        return text.replace(line, call, 1).rstrip("\n") + "\n" + _FSYNC_HELPER

    _edit(root, SEGMENTER, change)


def remove_fsync_per_packet(root: Path) -> None:
    """The improvement: take the per-packet fsync out again."""

    def change(text: str) -> str:
        lines = [ln for ln in text.splitlines() if ln.strip() != _FSYNC_CALL]
        return "\n".join(lines).replace(_FSYNC_HELPER.rstrip("\n"), "").rstrip("\n") + "\n"

    _edit(root, SEGMENTER, change)


def add_design_note(note: str) -> Callable[[Path], None]:
    """A neutral change: one more line in the recorder's design notes."""

    def apply(root: Path) -> None:
        path = root / NOTES
        before = path.read_text() if path.exists() else "# Recorder design notes\n"
        path.write_text(f"{before}- {note}\n")

    return apply
