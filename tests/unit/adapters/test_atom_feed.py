"""perfwatch's port of asv's Atom writer writes the bytes asv's writes."""

from __future__ import annotations

import datetime
from pathlib import Path

from asv import feed

from perfwatch.adapters import atom_feed

UTC = datetime.UTC


def _entries() -> list[tuple[str, datetime.datetime, str | None, str | None, list[str | None]]]:
    return [
        ("+12.50% bench.time_x on ci-box", datetime.datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
         "perfwatch/series/a.html", '<a href="x">+12.50% regression</a> <br>New: 1 ms',
         ["bench.time_x", "ci-box", "abc", "def"]),
        ("−3% bench.time_ü(4) on gpu & co", datetime.datetime(2026, 2, 1, tzinfo=UTC),
         None, None, ["bench.time_ü(4)", None, "1", "2"]),
    ]


def test_same_bytes_as_asv(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.xml", tmp_path / "theirs.xml"
    atom_feed.write_atom(ours, [atom_feed.FeedEntry(*e) for e in _entries()],
                         author="perfwatch", title="nvr performance regressions",
                         address="nvr.asv")
    feed.write_atom(str(theirs), [feed.FeedEntry(t, u, link, c, ctx)
                                  for t, u, link, c, ctx in _entries()],
                    author="perfwatch", title="nvr performance regressions", address="nvr.asv")
    assert ours.read_bytes() == theirs.read_bytes()


def test_no_entries_is_a_valid_empty_feed(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    atom_feed.write_atom(path, [], author="perfwatch", title="t", address="nvr.asv")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<entry>" not in text and "<updated>" in text
