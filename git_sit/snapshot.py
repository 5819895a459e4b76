"""Revision snapshots: which state key each item of a revision had, and how to reuse them.

A snapshot is recorded after a complete read of a revision in git: per item, its
state key, its directories' object IDs and (for items whose links resolve only to
their canonical ``records/`` paths) a CRC-32 of each link's *bucket*: the first
``BUCKET_DEPTH`` directories of the link name's canonical path (``records/XX/YY/ZZ``).
Reading the same revision again needs only the snapshot. Reading another revision
starts from the most recent snapshot as a base: an item keeps its base state key if
its directories are unchanged, its resolution was canonical and none of its links'
buckets differs between the two ``records/`` trees. A canonical resolution looks
only below its bucket, so an unchanged bucket resolves the same. Comparing buckets
is a tree diff pruned at that depth (a few thousand trees for a thousand changed
records, not the sixteen levels down to each record). Everything else is computed.
A snapshot close to its base is stored as a delta against it. Pure apart from the
tree diff, which reads through a ``View``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from git_sit.layout import ItemDir
from git_sit.view import Kind, Node, View

DELTA_LIMIT = 0.25  # reuse a base (and store a delta) while at most this share of items changed
BUCKET_DEPTH = 3  # records/XX/YY/ZZ: over a billion buckets, so another record rarely shares one
FORMAT = "links by bucket 3, text columns"  # how snapshots are stored; others are never used
_SEP = "\0"  # between the values of a stored column: no git tree entry name holds it


class Entry(NamedTuple):
    """One item in a snapshot."""

    item_id: str
    key: bytes | None  # state key; None: the item is recomputed every time
    dirs: str  # the item directories' object IDs
    links: tuple[int, ...] | None  # CRC-32 of link names; None: not canonically resolved


@dataclass(slots=True)
class Snapshot:
    """A revision's ``records/`` tree and its items (ascending ID), held as columns.

    Columns rather than an object per item, stored as one string each, and the link
    hashes kept as text until an item's are asked for: a warm read of a revision
    needs only the items and keys of its snapshot, in a few milliseconds at 10,000
    items.
    """

    records: str
    items: list[str]
    keys: list[bytes | None]
    dirs: list[str]
    links: list[str]  # each item's link hashes as text (``links_text``), parsed by ``links_at``

    @classmethod
    def of(cls, records: str, entries: Iterable[Entry]) -> Snapshot:
        """A snapshot of entries (in ascending item order)."""
        snapshot = cls(records, [], [], [], [])
        for entry in entries:
            snapshot.add(entry)
        return snapshot

    def add(self, entry: Entry) -> None:
        """Append an entry (after every item it holds)."""
        self.items.append(entry.item_id)
        self.keys.append(entry.key)
        self.dirs.append(entry.dirs)
        self.links.append(links_text(entry.links))

    def links_at(self, index: int) -> tuple[int, ...] | None:
        """The link hashes of the item at ``index``."""
        text = self.links[index]
        return None if text == "-" else tuple(map(int, text.split()))

    def entry_at(self, index: int) -> Entry:
        return Entry(self.items[index], self.keys[index], self.dirs[index], self.links_at(index))

    def entries(self) -> Iterator[Entry]:
        """The items one by one."""
        return map(self.entry_at, range(len(self.items)))


def links_text(links: tuple[int, ...] | None) -> str:
    """Link hashes as a snapshot holds them ("-" for ``None``)."""
    return "-" if links is None else " ".join(map(str, links))


def dirs_signature(dirs: list[ItemDir]) -> str:
    """The item directories' object IDs as one string."""
    if len(dirs) == 1:  # nearly every item: without a generator (once per item of a comparison)
        parent, node = dirs[0]
        return f"{parent}:{node.key}"
    return " ".join(f"{parent}:{node.key}" for parent, node in dirs)


def name_hash(name: str) -> int:
    return zlib.crc32(name.encode("utf-8", "surrogateescape"))


def bucket(name: str) -> str:
    """The first ``BUCKET_DEPTH`` directories of a link name's canonical path below ``records/``."""
    return "/".join(name[i:i + 2] for i in range(0, 2 * BUCKET_DEPTH, 2))


def link_hashes(listed: list[list[Node]]) -> tuple[int, ...]:
    """The hashes of the buckets of every name an item's links could resolve through.

    Names shorter than 8 characters are never record IDs (whose canonical paths have at
    least ``BUCKET_DEPTH`` directories), so they cannot resolve canonically.
    """
    return tuple(name_hash(bucket(node.name)) for children in listed for node in children
                 if node.kind is Kind.FILE and len(node.name) >= 8)


def encode(snapshot: Snapshot) -> bytes:
    """The stored form of a complete snapshot."""
    return _pack({"records": snapshot.records}, len(snapshot.items), _encoded_columns(snapshot))


def encode_delta(records: str, changed: list[Entry], removed: list[str]) -> bytes:
    """The stored form of a snapshot as changes to its base."""
    columns = _encoded_columns(Snapshot.of(records, changed))
    return _pack({"records": records, "removed": removed}, len(changed), columns)


# Stored form: a JSON header line, then the four columns, each one string of values joined
# by ``_SEP`` in UTF-8 (byte lengths in the header). No JSON escaping of the columns, and
# only their bytes are held: a snapshot of 100,000 items is about 20 MB.
_COLUMNS = ("items", "keys", "dirs", "links")


def _encoded_columns(snapshot: Snapshot) -> list[bytes]:
    keys = (k.hex() if k else "" for k in snapshot.keys)
    return [_SEP.join(values).encode("utf-8", "surrogateescape")
            for values in (snapshot.items, keys, snapshot.dirs, snapshot.links)]


def _pack(header: dict[str, Any], count: int, columns: list[bytes]) -> bytes:
    header["count"] = count
    header["columns"] = [len(column) for column in columns]
    return b"\n".join([json.dumps(header).encode(), *columns])


class Builder:
    """A complete snapshot built item by item, held in its stored form.

    What ``encode(Snapshot.of(records, entries))`` gives, while holding about 170 bytes
    an item instead of an object per value (a third of the memory).
    """

    CHUNK = 1024

    def __init__(self, records: str) -> None:
        self.records = records
        self._pending: list[Entry] = []
        self._chunks: list[list[bytes]] = [[] for _ in _COLUMNS]
        self._count = 0

    def add(self, entry: Entry) -> None:
        """Append an entry (after every item added before)."""
        self._pending.append(entry)
        self._count += 1
        if len(self._pending) == self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            columns = _encoded_columns(Snapshot.of(self.records, self._pending))
            for chunks, column in zip(self._chunks, columns, strict=True):
                chunks.append(column)
            self._pending = []

    def encode(self) -> bytes:
        """The stored form of the snapshot of every entry added."""
        self._flush()
        columns = [_SEP.encode().join(chunks) for chunks in self._chunks]
        return _pack({"records": self.records}, self._count, columns)


def _unpack(data: bytes) -> tuple[dict[str, Any], list[list[str]]]:
    end = data.index(b"\n")  # ValueError if absent: malformed
    header = json.loads(data[:end])
    count, lengths = header["count"], header["columns"]
    if not isinstance(count, int) or len(lengths) != len(_COLUMNS):
        raise ValueError("a snapshot header without its columns")
    columns: list[list[str]] = []
    offset = end + 1
    for length in lengths:
        text = data[offset:offset + length].decode("utf-8", "surrogateescape")
        columns.append(text.split(_SEP) if count else [])  # one empty value is an empty text too
        offset += length + 1
    if offset != len(data) + 1 or any(len(column) != count for column in columns):
        raise ValueError("snapshot columns of different lengths")
    return header, columns


def decode(data: bytes, base: Snapshot | None) -> Snapshot:
    """A stored snapshot (a delta needs its ``base``); ``ValueError`` if malformed."""
    header, (items, keys, dirs, links) = _unpack(data)
    records = str(header["records"])
    snapshot = Snapshot(records, items, [bytes.fromhex(k) if k else None for k in keys], dirs, links)
    if "removed" not in header:
        return snapshot
    if base is None:
        raise ValueError("a delta snapshot without its base")
    return merge(base, snapshot, header["removed"])


def merge(base: Snapshot, changed: Snapshot, removed: Iterable[str]) -> Snapshot:
    """``base`` with the items of ``changed`` changed or added and ``removed`` removed."""
    rows = dict(zip(base.items, zip(base.keys, base.dirs, base.links, strict=True), strict=True))
    for item in removed:
        rows.pop(item, None)
    rows.update(zip(changed.items, zip(changed.keys, changed.dirs, changed.links, strict=True), strict=True))
    merged = Snapshot(changed.records, sorted(rows), [], [], [])
    for item in merged.items:
        key, dirs, links = rows[item]
        merged.keys.append(key)
        merged.dirs.append(dirs)
        merged.links.append(links)
    return merged


def reusable(base: Snapshot, items: dict[str, list[ItemDir]], changed: set[int]
             ) -> tuple[dict[str, bytes], list[str]]:
    """State keys that carry over from ``base`` to these items, and the items to compute."""
    index = dict(zip(base.items, range(len(base.items)), strict=True))
    changed_text = {str(h) for h in changed}  # compared as the snapshot holds them, unparsed
    # The changed buckets that any item of the base links into: usually none, as new records
    # land in buckets of their own; then no item's links need to be looked at one by one.
    touched = changed_text.intersection(" ".join(base.links).split())
    keys, base_dirs, base_links = base.keys, base.dirs, base.links
    keep: dict[str, bytes] = {}
    pending: list[str] = []
    for item_id, dirs in items.items():
        i = index.get(item_id)
        if i is not None and (key := keys[i]) is not None:
            links = base_links[i]
            if base_dirs[i] == dirs_signature(dirs) and links != "-" and (
                    not touched or touched.isdisjoint(links.split())):
                keep[item_id] = key
                continue
        pending.append(item_id)
    return keep, pending


def _differing(view: View, a: Node | None, b: Node | None) -> Iterator[tuple[str, Node | None, Node | None]]:
    before = {n.name: n for n in view.children(a)} if a is not None else {}
    after = {n.name: n for n in view.children(b)} if b is not None else {}
    for name in before.keys() | after.keys():
        x, y = before.get(name), after.get(name)
        if x is None or y is None or x.key != y.key:
            yield name, x, y


def changed_buckets(view: View, old: Node | None, new: Node | None, limit: int) -> set[int] | None:
    """Hashes of the buckets (``XX/YY/ZZ``) whose entries differ between two ``records/`` trees.

    Subtrees with equal object IDs are skipped; a directory that is not a tree on one side
    counts as empty there. ``None`` if more than ``limit`` buckets differ.
    """
    found: set[int] = set()
    stack: list[tuple[Node | None, Node | None, str]] = [(old, new, "")]
    differing = getattr(view, "differing_entries", None)  # a view's faster comparison, if it has one
    while stack:
        a, b, above = stack.pop()
        for name, x, y in differing(a, b) if differing is not None else _differing(view, a, b):
            path = above + name
            if path.count("/") == BUCKET_DEPTH - 1:
                found.add(name_hash(path))
                if len(found) > limit:
                    return None
                continue
            x = x if x is not None and x.kind is Kind.TREE else None
            y = y if y is not None and y.kind is Kind.TREE else None
            if x is not None or y is not None:
                stack.append((x, y, path + "/"))
    return found
