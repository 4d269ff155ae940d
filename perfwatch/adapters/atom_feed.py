"""asv's Atom feed writer (``asv/feed.py``, asv 0.6, 3-clause BSD), ported without
importing asv: importing any asv module loads asv's plugin manager (about 0.15 s), more
than a republish after one new commit may spend on everything. Same elements, same ids,
same bytes (``tests/unit/adapters/test_atom_feed.py`` compares it with asv's writer).
"""

from __future__ import annotations

import datetime
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FeedEntry", "write_atom"]

ATOM_NS = "{http://www.w3.org/2005/Atom}"
XML_NS = "{http://www.w3.org/XML/1998/namespace}"


@dataclass(frozen=True)
class FeedEntry:
    """One entry (asv's ``FeedEntry`` with ``id_context`` given and no ``id_date``)."""

    title: str
    updated: datetime.datetime
    link: str | None
    content: str | None
    id_context: Sequence[str | None]

    def element(self, id_prefix: str, language: str) -> ET.Element:
        item = ET.Element(f"{ATOM_NS}entry")
        _child(item, "id", _get_id(id_prefix, self.updated, ["entry", *self.id_context]))
        _child(item, "title", self.title).attrib[f"{XML_NS}lang"] = language
        _child(item, "updated", self.updated.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if self.link:
            _child(item, "link").attrib[f"{ATOM_NS}href"] = self.link
        el = _child(item, "content", self.content or " ")
        el.attrib[f"{XML_NS}lang"] = language
        if self.content:
            el.attrib[f"{ATOM_NS}type"] = "html"
        return item


def _child(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.Element(f"{ATOM_NS}{tag}")
    if text is not None:
        el.text = text
    parent.append(el)
    return el


def write_atom(dest: Path, entries: Sequence[FeedEntry], *, author: str, title: str,
               address: str, language: str = "en") -> None:
    """asv's ``write_atom(dest, entries, author, title, address)``."""
    updated = (max(e.updated for e in entries) if entries
               else datetime.datetime.now(datetime.UTC))
    root = ET.Element(f"{ATOM_NS}feed")
    _child(root, "id", _get_id(address, None, ["feed", author, title]))
    _child(_child(root, "author"), "name", author)
    _child(root, "title", title).attrib[f"{XML_NS}lang"] = language
    _child(root, "updated", updated.strftime("%Y-%m-%dT%H:%M:%SZ"))
    for entry in entries:
        root.append(entry.element(address, language))
    with open(dest, "wb") as f:
        ET.ElementTree(root).write(f, xml_declaration=True, default_namespace=ATOM_NS[1:-1],
                                   encoding="utf-8")


def _get_id(owner: str, date: datetime.datetime | None, content: Sequence[str | None]) -> str:
    h = hashlib.sha256()
    h.update(b"github.com/spacetelescope/asv")  # asv keeps its original project url here
    for x in content:
        h.update(b"," if x is None else x.encode("utf-8"))
        h.update(b",")
    if date is None:
        date = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return f"tag:{owner},{date.strftime('%Y-%m-%d')}:/{h.hexdigest()}"
