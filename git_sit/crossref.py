"""Reading every item on many refs (``status``, ``diff``): each distinct state once, in bounded memory.

An item's state is fixed by its exact state key (``cachekey``: the settings, the item
ID and the object IDs of the record directories its entries resolve to). Refs are
read one after the other through ``bulk.results`` (the cache, forked workers), and
what the command needs of each distinct state (a projection, e.g. status and
summary) is kept once, by key, in a ``Table``. A ref leaves only a ``Column``: its
item IDs and, per item, a slot in that table; its store (with its listing and git
objects) is dropped once read.

Most items are the same on most refs, and most refs need not be read item by item.
A ref's snapshot in the cache gives every item's key at once. Otherwise the ref is
compared with an *anchor*, a ref whose every key is known (the first ref read, or
the cache's latest complete snapshot): an item whose directories are the same and
none of whose records differ between the two ``records/`` trees has the anchor's key,
and likewise an item that is the same as on a ref compared before (``anchor``). Only
the other items are read (in this process when they are few), and those whose key
an earlier ref already had are found in the cache instead of being reduced again.
Snapshots of the refs read are recorded as ``Store.states`` records them (complete,
or as deltas against a complete one), so later commands find them. With
``--no-cache`` a temporary cache, removed at the end, stands in for the repository's
(which is neither read nor written), so identical items are still reduced once.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from array import array
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from git_sit.anchor import Anchor, Reuse
from git_sit.bulk import entry_of, records_key, reducers_keep_id, remember_memo, results, revision_settings
from git_sit.cachekey import snapshot_key
from git_sit.errors import SitError
from git_sit.layout import is_id
from git_sit.reduce import State
from git_sit.snapshot import (
    DELTA_LIMIT,
    Entry,
    Snapshot,
    bucket,
    changed_buckets,
    decode,
    encode,
    encode_delta,
    name_hash,
)
from git_sit.statecache import StateCache
from git_sit.storage import bulk_mode
from git_sit.store import Store, Warn

V = TypeVar("V")
FETCH = 1024  # state keys per cache query
# At most this many items of a ref compared with an anchor are read in this process: as
# fast as two workers (most of the time goes to comparing the ref with the anchor), and
# forked workers would each count this process's table and columns again.
IN_PROCESS = 2048


class Table(Generic[V]):
    """What a command keeps of each distinct state (``project(state)``), by exact state key.

    A state without a key (its item had problems or warnings) gets a slot of its own.
    """

    def __init__(self, project: Callable[[State], V]) -> None:
        self.project = project
        self.values: list[V] = []
        self.keys: list[bytes | None] = []
        self._slots: dict[bytes, int] = {}

    def find(self, key: bytes) -> int | None:
        """The slot of the state with this key, if it is in the table."""
        return self._slots.get(key)

    def add(self, key: bytes | None, state_json: str | bytes) -> int:
        """The slot of a state (given as JSON), added unless its key is already there."""
        if key is not None:
            slot = self._slots.get(key)
            if slot is not None:
                return slot
            self._slots[key] = len(self.values)
        self.values.append(self.project(json.loads(state_json)))
        self.keys.append(key)
        return len(self.values) - 1


@dataclass(slots=True)
class Column:
    """One ref's item IDs (ascending) and the table slot of each item's state."""

    name: str
    items: list[str] = field(default_factory=list)
    slots: array[int] = field(default_factory=lambda: array("i"))


class CrossReader(Generic[V]):
    """Reads many refs' items into columns over one table, through one shared state cache."""

    def __init__(self, table: Table[V], cache: StateCache, persistent: bool, warn: Warn) -> None:
        self.table = table
        self.cache = cache
        self.persistent = persistent  # the repository's cache: read and record snapshots
        self.warn = warn
        self._anchors: dict[bytes, Anchor | None] = {}
        self._complete: dict[bytes, Snapshot] = {}  # complete stored snapshots, by key
        self._names: dict[str, str] = {}  # one string per item ID, shared by the columns

    def prepare(self, store: Store) -> Store:
        """A copy of ``store`` with nothing read yet, using the shared cache and warnings."""
        fresh = store.reopened()
        fresh.cache = self.cache
        fresh.warn = self.warn
        return fresh

    def column(self, name: str, store: Store | None, only: Collection[str] | None = None) -> Column:
        """A ref's column (``store``: prepared; ``only``: just these items, without snapshots)."""
        if store is None:
            return Column(name)
        if only is not None:
            wanted = [item for item in store.items() if item in only]
            return self._column(name, store, wanted, {}, self._compute(store, wanted))
        settings = revision_settings(store)  # a ref status has read is a snapshot for items --rev
        root = store.layout.root.key
        key = snapshot_key(settings, root) if root is not None else None
        recorded = self._load(key) if key is not None and self.persistent else None
        if recorded is not None:
            known = dict(zip(recorded.items, recorded.keys, strict=True))
            column = self._column(name, store, recorded.items, known, {})
        else:
            column = self._read(name, store, settings, key)
        if self.persistent and key is not None:  # the ref's snapshot is recorded: a warm read can find it
            remember_memo(store, self.cache, settings, reducers_keep_id(store))
        return column

    def _read(self, name: str, store: Store, settings: bytes, key: bytes | None) -> Column:
        """A ref without a snapshot: keep the keys the anchor proves, read the other items."""
        items = store.items()
        limit = int(DELTA_LIMIT * len(items))
        anchor = self._anchor(settings)
        changed = self._changed(store, anchor, limit) if anchor is not None else None
        if anchor is not None and changed is not None:
            reuse = anchor.reuse(items, changed)
        else:
            reuse = Reuse({}, {}, list(items))
        entries = dict(reuse.others)
        computed: dict[str, int] = {}
        jobs = 1 if anchor is not None and len(reuse.pending) <= IN_PROCESS else store.jobs
        for result in results(store, reuse.pending, jobs):
            computed[result.item_id] = self.table.add(result.key, result.state_json)
            entries[result.item_id] = entry_of(result)
        known: dict[str, bytes | None] = dict(reuse.keep)
        known.update((item, entry.key) for item, entry in reuse.others.items())
        column = self._column(name, store, items, known, computed)
        if anchor is None or changed is None or len(entries) > limit or (
                self.persistent and anchor.stored is None):
            complete = Snapshot.of(records_key(store), _complete(items, entries, anchor))
            self._anchors[settings] = self._store_complete(key, settings, complete)
            return column
        anchor.remember((entries[item] for item in reuse.pending), changed)
        if self.persistent and key is not None and anchor.stored is not None:
            removed = [item for item in anchor.snapshot.items if item not in items]
            delta = encode_delta(records_key(store), list(entries.values()), removed)
            self.cache.put_snapshot(key, settings, delta, anchor.stored)
        return column

    def _compute(self, store: Store, items: Sequence[str]) -> dict[str, int]:
        return {r.item_id: self.table.add(r.key, r.state_json) for r in results(store, items, store.jobs)}

    def _column(self, name: str, store: Store, items: Collection[str], known: Mapping[str, bytes | None],
                computed: dict[str, int]) -> Column:
        """The column of ``items``: computed slots, else the known keys' (fetched, else recomputed)."""
        table = self.table
        self._fetch([key for key in known.values() if key is not None and table.find(key) is None])
        again = [item for item, key in known.items()
                 if item not in computed and (key is None or table.find(key) is None)]
        computed.update(self._compute(store, again))
        column = Column(name)
        names = self._names
        for item in items:
            slot = computed.get(item)
            if slot is None:
                slot = table.find(known[item])  # type: ignore[arg-type]
            assert slot is not None
            column.items.append(names.setdefault(item, item))
            column.slots.append(slot)
        return column

    def states(self, store: Store | None, slots: Mapping[str, int | None]) -> dict[str, State | None]:
        """Full states of items by their slots (``None``: absent): from the cache, else read again."""
        keys = [key for slot in slots.values() if slot is not None and (key := self.table.keys[slot])]
        found = self.cache.states(keys)
        states: dict[str, State | None] = {}
        again = []
        for item, slot in slots.items():
            key = self.table.keys[slot] if slot is not None else None
            data = found.get(key) if key is not None else None
            if slot is None:
                states[item] = None
            elif data is not None:
                states[item] = json.loads(data)
            else:
                again.append(item)
        if again:
            assert store is not None
            for result in results(store, again, store.jobs):
                states[result.item_id] = json.loads(result.state_json)
        return states

    def _fetch(self, keys: list[bytes]) -> None:
        for start in range(0, len(keys), FETCH):
            for key, data in self.cache.states(keys[start:start + FETCH]).items():
                self.table.add(key, data)

    # --- anchors and snapshots ---

    def _anchor(self, settings: bytes) -> Anchor | None:
        """The anchor for these settings: one read before, or the cache's latest complete snapshot."""
        if settings not in self._anchors:
            found = self.cache.latest_full(settings) if self.persistent else None
            snapshot = self._decode(found[1], None) if found is not None else None
            self._anchors[settings] = Anchor(snapshot, found[0]) if snapshot and found else None
        return self._anchors[settings]

    def _changed(self, store: Store, anchor: Anchor, limit: int) -> set[int] | None:
        """The hashes of the buckets that differ from the anchor's; ``None``: too many (or unknown).

        A bucket is what snapshots key links by (``snapshot.bucket``); a record directory
        that differs marks its bucket as changed.
        """
        view = store.layout.view
        node_by_key = getattr(view, "node_by_key", None)
        if node_by_key is None:
            return None
        records = anchor.snapshot.records
        try:
            old, new = node_by_key(records) if records else None, store.layout.records_tree()
            differing = getattr(view, "differing_names", None)
            if differing is None:
                return changed_buckets(view, old, new, limit)
            names = differing(old, new, is_id, limit)
        except SitError:
            return None
        return {name_hash(bucket(name)) for name in names} if names is not None else None

    def _store_complete(self, key: bytes | None, settings: bytes, snapshot: Snapshot) -> Anchor:
        if not self.persistent or key is None:
            return Anchor(snapshot, None)
        self.cache.put_snapshot(key, settings, encode(snapshot), None)
        self._complete[key] = snapshot
        return Anchor(snapshot, key)

    def _load(self, key: bytes) -> Snapshot | None:
        """A recorded snapshot (a delta is applied to its complete base), if the cache has it."""
        found = self.cache.snapshot(key)
        if found is None:
            return None
        payload, base_key = found
        if base_key is None:
            return self._decode(payload, None)
        base = self._complete.get(base_key)
        if base is None:
            stored = self.cache.snapshot(base_key)
            if stored is None or stored[1] is not None:
                return None  # its base was dropped (or is not complete)
            base = self._decode(stored[0], None)
            if base is None:
                return None
            self._complete[base_key] = base
        return self._decode(payload, base)

    def _decode(self, payload: bytes, base: Snapshot | None) -> Snapshot | None:
        try:
            return decode(payload, base)
        except (ValueError, TypeError, KeyError, AttributeError):
            self.warn(f"the git-sit cache {self.cache.path} holds a malformed snapshot; ignoring it.")
            return None


def _complete(items: Collection[str], entries: dict[str, Entry], anchor: Anchor | None
              ) -> Iterator[Entry]:
    """Every item's entry: read now, or else (kept) the anchor's."""
    for item in items:
        entry = entries.get(item)
        if entry is None:
            assert anchor is not None, "an item neither read nor kept"
            entry = anchor.entry(item)
        yield entry


def _once(warn: Warn) -> Warn:
    """``warn``, saying each message only once (the same record is read on many refs)."""
    seen: set[str] = set()

    def once(message: str) -> None:
        if message not in seen:
            seen.add(message)
            warn(message)

    return once


@contextlib.contextmanager
def cross_reader(stores: Sequence[Store | None], project: Callable[[State], V], warn: Warn
                 ) -> Iterator[CrossReader[V]]:
    """A reader over the stores' cache or, with ``--no-cache``, a temporary one removed at the end."""
    # Every ref's trees are read once or twice: libgit2's object cache would only grow.
    bulk_mode(True)
    try:
        with _shared_cache(stores, warn) as (cache, persistent):
            yield CrossReader(Table(project), cache, persistent, _once(warn))
    finally:
        bulk_mode(False)


@contextlib.contextmanager
def _shared_cache(stores: Sequence[Store | None], warn: Warn) -> Iterator[tuple[StateCache, bool]]:
    cache = next((s.cache for s in stores if s is not None and s.cache is not None), None)
    if cache is not None:
        try:
            yield cache, True
        finally:
            cache.flush()  # what one-by-one reads deferred: for the next command to find
        return
    with tempfile.TemporaryDirectory(prefix="git-sit-") as directory:
        temporary = StateCache(os.path.join(directory, "states.sqlite"), warn)
        temporary.states([])  # create it now, not in every forked worker at once
        try:
            yield temporary, False
        finally:
            temporary.flush()  # nothing left to write at exit, into a directory that is gone
            temporary.clear()


def rows(columns: Sequence[Column]) -> Iterator[tuple[str, list[int | None]]]:
    """Every item of any column, ascending, with its slot in each column (``None``: absent)."""
    union = sorted(set().union(*(column.items for column in columns)))
    at = [0] * len(columns)
    for item in union:
        row: list[int | None] = []
        for i, column in enumerate(columns):
            position = at[i]
            if position < len(column.items) and column.items[position] == item:
                row.append(column.slots[position])
                at[i] = position + 1
            else:
                row.append(None)
        yield item, row
