"""Anchors: a ref whose every item's state key is known, and which items of other refs keep those keys.

When many refs are read in one command, each is compared with an anchor instead of
being read item by item. Let ``changed(r)`` be the buckets (``records/XX/YY/ZZ``,
``snapshot.bucket``) holding a record directory that differs between the
``records/`` trees of ref ``r`` and of the anchor. An item of ref ``r`` has the
anchor's state key if its directories are the same as on the anchor, it resolved
canonically there, and none of its links' buckets is in ``changed(r)``
(``snapshot.reusable``).

Refs usually differ from each other in a few items each, and an item that differs
between the anchor and ``r`` is often the same on ``r`` as on another ref ``s`` read
before (the anchor is the one that differs). So the anchor also remembers the other
contents of its items seen on the refs read since, with ``changed(s)``: an item of
``r`` has the state key it had on ``s`` if its directories are the same as there,
it resolved canonically there, and none of its links' buckets is in ``changed(s)``
or ``changed(r)``. That is exact: a record directory that differs between ``s`` and
``r`` differs from the anchor's on ``s`` or on ``r``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from git_sit.layout import ItemDir
from git_sit.snapshot import Entry, Snapshot, dirs_signature, reusable

KEEP_OTHERS = 8  # other contents remembered per item


@dataclass(slots=True)
class Reuse:
    """What a ref keeps: the anchor's keys, other refs' entries, and the items left to read."""

    keep: dict[str, bytes]
    others: dict[str, Entry]
    pending: list[str]


class Anchor:
    """A ref's complete snapshot, and its items' other contents seen on refs read since."""

    def __init__(self, snapshot: Snapshot, stored: bytes | None) -> None:
        self.snapshot = snapshot
        self.stored = stored  # the key it is stored under in the cache, complete (not a delta)
        self._index: dict[str, int] | None = None
        self._others: dict[str, list[tuple[Entry, set[int]]]] = {}

    def entry(self, item_id: str) -> Entry:
        """The item's entry on the anchor (the item must be there)."""
        if self._index is None:
            self._index = {item: i for i, item in enumerate(self.snapshot.items)}
        return self.snapshot.entry_at(self._index[item_id])

    def reuse(self, items: dict[str, list[ItemDir]], changed: set[int]) -> Reuse:
        """What a ref with these items keeps; ``changed``: its record IDs' hashes that differ."""
        keep, pending = reusable(self.snapshot, items, changed)
        others: dict[str, Entry] = {}
        left: list[str] = []
        for item in pending:
            other = self._other(item, items[item], changed)
            if other is not None:
                others[item] = other
            else:
                left.append(item)
        return Reuse(keep, others, left)

    def remember(self, entries: Iterable[Entry], changed: set[int]) -> None:
        """Entries computed on a ref whose ``changed`` record hashes are given, for later refs."""
        for entry in entries:
            if entry.key is None or entry.links is None:
                continue
            versions = self._others.setdefault(entry.item_id, [])
            if len(versions) < KEEP_OTHERS:
                versions.append((entry, changed))

    def _other(self, item_id: str, dirs: list[ItemDir], changed: set[int]) -> Entry | None:
        versions = self._others.get(item_id)
        if not versions:
            return None
        signature = dirs_signature(dirs)
        for entry, since in versions:
            assert entry.links is not None
            if entry.dirs == signature and not any(h in changed or h in since for h in entry.links):
                return entry
        return None
