"""Revision snapshots: which state key each item of a revision had, and how to reuse them.

A snapshot is recorded after a complete read of a revision in git: per item, its
state key, its directories' object IDs and (for items whose links resolve only to
their canonical ``records/`` paths) a CRC-32 of each link file's name. Reading the
same revision again needs only the snapshot. Reading another revision starts from
the most recent snapshot as a base: an item keeps its base state key if its
directories are unchanged, its resolution was canonical and none of its link names
is among the record directories that differ between the two ``records/`` trees
(a pruned tree diff, cheap when few records differ). Everything else is computed.
A snapshot close to its base is stored as a delta against it. Pure apart from the
tree diff, which reads through a ``View``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from git_sit.layout import ItemDir, is_id
from git_sit.view import Kind, Node, View

DELTA_LIMIT = 0.25  # store a delta when at most this share of the items changed


class Entry(NamedTuple):
    """One item in a snapshot (a tuple: there are as many as items)."""

    item_id: str
    key: bytes | None  # state key; None: the item is recomputed every time
    dirs: str  # the item directories' object IDs
    links: tuple[int, ...] | None  # CRC-32 of link names; None: not canonically resolved


@dataclass(slots=True)
class Snapshot:
    """A revision's items (ascending ID) and its ``records/`` tree."""

    records: str
    entries: dict[str, Entry]


def dirs_signature(dirs: list[ItemDir]) -> str:
    """The item directories' object IDs as one string."""
    return " ".join(f"{parent}:{node.key}" for parent, node in dirs)


def name_hash(name: str) -> int:
    return zlib.crc32(name.encode("utf-8", "surrogateescape"))


def link_hashes(listed: list[list[Node]]) -> tuple[int, ...]:
    """The hashes of every name an item's links could resolve through."""
    return tuple(name_hash(node.name) for children in listed for node in children
                 if node.kind is Kind.FILE and len(node.name) >= 8)


def encode(snapshot: Snapshot, base: Snapshot | None) -> tuple[bytes, bool]:
    """The stored form, as a delta against ``base`` when that is small; and whether it is one."""
    rows = _rows(snapshot.entries.values())
    if base is not None:
        changed = [e for item, e in snapshot.entries.items() if base.entries.get(item) != e]
        removed = [item for item in base.entries if item not in snapshot.entries]
        if len(changed) + len(removed) <= DELTA_LIMIT * max(len(snapshot.entries), 1):
            body = {"records": snapshot.records, "changed": list(_rows(changed)), "removed": removed}
            return json.dumps(body).encode(), True
    return json.dumps({"records": snapshot.records, "items": list(rows)}).encode(), False


def _rows(entries: Iterable[Entry]) -> Iterator[list[object]]:
    for e in entries:
        yield [e.item_id, e.key.hex() if e.key else "", e.dirs,
               list(e.links) if e.links is not None else None]


def decode(data: bytes, base: Snapshot | None) -> Snapshot:
    """A stored snapshot (a delta needs its ``base``); ``ValueError`` if malformed."""
    body = json.loads(data)
    if "items" in body:
        return Snapshot(str(body["records"]), _entries(body["items"]))
    if base is None:
        raise ValueError("a delta snapshot without its base")
    entries = dict(base.entries)
    for item in body["removed"]:
        entries.pop(item, None)
    entries.update(_entries(body["changed"]))
    return Snapshot(str(body["records"]), dict(sorted(entries.items())))


def _entries(rows: list[list[object]]) -> dict[str, Entry]:
    result: dict[str, Entry] = {}
    for item, key, dirs, links in rows:
        assert isinstance(item, str) and isinstance(key, str) and isinstance(dirs, str)
        hashes = tuple(int(h) for h in links) if isinstance(links, list) else None
        result[item] = Entry(item, bytes.fromhex(key) if key else None, dirs, hashes)
    return result


def reusable(base: Snapshot, items: dict[str, list[ItemDir]], changed: set[int]
             ) -> tuple[dict[str, bytes], list[str]]:
    """State keys that carry over from ``base`` to these items, and the items to compute."""
    keep: dict[str, bytes] = {}
    pending: list[str] = []
    for item_id, dirs in items.items():
        entry = base.entries.get(item_id)
        if (entry is not None and entry.key is not None and entry.links is not None
                and entry.dirs == dirs_signature(dirs)
                and not any(h in changed for h in entry.links)):
            keep[item_id] = entry.key
        else:
            pending.append(item_id)
    return keep, pending


def changed_records(view: View, old: Node | None, new: Node | None, limit: int) -> set[int] | None:
    """Hashes of the record IDs whose directories differ between two ``records/`` trees.

    Subtrees with equal object IDs are skipped. ``None`` if more than ``limit`` differ.
    """
    found: set[int] = set()
    stack = [(old, new)]
    while stack:
        a, b = stack.pop()
        before = {n.name: n for n in view.children(a)} if a is not None else {}
        after = {n.name: n for n in view.children(b)} if b is not None else {}
        for name in before.keys() | after.keys():
            x, y = before.get(name), after.get(name)
            if x is not None and y is not None and x.key == y.key:
                continue
            if is_id(name):
                found.add(name_hash(name))
                if len(found) > limit:
                    return None
            else:
                x = x if x is not None and x.kind is Kind.TREE else None
                y = y if y is not None and y.kind is Kind.TREE else None
                if x is not None or y is not None:
                    stack.append((x, y))
    return found
