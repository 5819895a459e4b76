"""Reading every item on many refs (``status``, ``diff``): each distinct state once, in bounded memory.

An item's state is fixed by its exact state key (``cachekey``: the settings, the item
ID and the object IDs of the record directories its entries resolve to). Refs are
taken in order, and what the command needs of each distinct state (a projection,
e.g. status and summary) is kept once, by key, in a ``columns.Table``. A ref leaves
only a ``Column``: its item IDs and, per item, a slot in that table; its store (with
its listing and git objects) is dropped once read.

Most items are the same on most refs, and most refs need not be read item by item.
A ref's snapshot in the cache gives every item's key at once. Otherwise the ref is
compared with an *anchor*, a ref whose every key is known (the first ref read, or
the cache's latest complete snapshot): an item whose directories are the same and
none of whose records differ between the two ``records/`` trees has the anchor's key,
and likewise an item that is the same as on a ref compared before (``anchor``). Only
the other items are read (in this process when they are few), and those whose key
an earlier ref already had are found in the cache instead of being reduced again.
Consecutive refs compared with a large anchor are compared and read in forked
workers, a ref each, and replayed here in order (``CrossReader.columns``). Snapshots
of the refs read are recorded as ``Store.states`` records them (complete, or as
deltas against a complete one), so later commands find them. With
``--no-cache`` a temporary cache, removed at the end, stands in for the repository's
(which is neither read nor written), so identical items are still reduced once (in
each process).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from git_sit.anchor import Anchor, Reuse
from git_sit.bulk import (
    ItemResult,
    compute,
    default_jobs,
    entry_of,
    records_key,
    reducers_keep_id,
    remember_memo,
    replay,
    results,
    revision_settings,
)
from git_sit.cachekey import snapshot_key
from git_sit.columns import Column, Table
from git_sit.errors import SitError
from git_sit.layout import is_id
from git_sit.parallel import ordered_map
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
# Refs compared with an anchor of at least this many items are compared and read in
# forked workers, a ref each, when there are several in a row: one ref's comparison
# and reading are mostly this process's work, and the refs are independent.
FAN_OUT_ITEMS = 2048


@dataclass(slots=True)
class Plan:
    """A ref compared with its anchor: the keys it keeps, the items left to read, its items."""

    anchor: Anchor | None
    changed: set[int] | None  # the buckets that differ from the anchor's (None: not compared)
    reuse: Reuse
    items: list[str]  # ascending
    records: str  # its records/ tree (``bulk.records_key``)
    quiet: bool = True  # listing its items warned of nothing (``Store.quiet_listing``): a snapshot may stand

    @property
    def near(self) -> bool:
        """Compared, and few enough items differ to keep a delta against the anchor."""
        differing = len(self.reuse.others) + len(self.reuse.pending)
        return self.changed is not None and differing <= int(DELTA_LIMIT * len(self.items))


@dataclass(slots=True)
class Compared:
    """What a worker sends back for a ref: its plan (without the anchor) and the results read."""

    plan: Plan
    results: list[ItemResult]


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

    def columns(self, refs: Iterable[tuple[str, Store | None]], only: Collection[str] | None = None
                ) -> list[Column]:
        """Every ref's column (stores prepared), in order, as ``column`` gives each.

        Consecutive refs that will be compared with a large anchor are compared and read
        in forked workers, a ref each (``_fan_out``); the rest, one by one here. ``refs``
        is taken one at a time, and a store read is let go, so that one ref's listing and
        git objects are held at a time (the fan-out reads fresh copies of its stores).
        """
        if only is not None:
            return [self.column(name, store, only) for name, store in refs]
        columns: list[Column] = []
        batch: list[tuple[str, Store, bytes, bytes]] = []
        for name, store in refs:
            ready = self._comparable(store) if store is not None else None
            if ready is not None:
                assert store is not None
                batch.append((name, store, *ready))
                continue
            columns.extend(self._fan_out(batch))
            batch = []
            columns.append(self.column(name, store))
        columns.extend(self._fan_out(batch))
        return columns

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
        self._remember_memo(store, settings, key)
        return column

    def _remember_memo(self, store: Store, settings: bytes, key: bytes | None) -> None:
        if self.persistent and key is not None:  # the ref's snapshot is recorded: a warm read can find it
            remember_memo(store, self.cache, settings, reducers_keep_id(store))

    def _read(self, name: str, store: Store, settings: bytes, key: bytes | None) -> Column:
        """A ref without a snapshot: keep the keys the anchor proves, read the other items."""
        plan = self._plan(store, self._anchor(settings))
        pending = plan.reuse.pending
        jobs = 1 if plan.anchor is not None and len(pending) <= IN_PROCESS else store.jobs
        return self._finish(name, store, settings, key, plan, results(store, pending, jobs))

    def _plan(self, store: Store, anchor: Anchor | None) -> Plan:
        """Compare the ref with the anchor (if any, and if close enough to it)."""
        items = store.items()
        changed = self._changed(store, anchor, int(DELTA_LIMIT * len(items))) if anchor is not None else None
        if anchor is not None and changed is not None:
            reuse = anchor.reuse(items, changed)
        else:
            reuse = Reuse({}, {}, list(items))
        return Plan(anchor, changed, reuse, list(items), records_key(store), store.quiet_listing)

    def _finish(self, name: str, store: Store, settings: bytes, key: bytes | None, plan: Plan,
                produced: Iterable[ItemResult]) -> Column:
        """The ref's column from its plan and the results of its pending items; its snapshot recorded."""
        anchor, changed, reuse = plan.anchor, plan.changed, plan.reuse
        entries = dict(reuse.others)
        computed: dict[str, int] = {}
        for result in produced:
            computed[result.item_id] = self.table.add(result.key, result.state_json)
            entries[result.item_id] = entry_of(result)
        known: dict[str, bytes | None] = dict(reuse.keep)
        known.update((item, entry.key) for item, entry in reuse.others.items())
        column = self._column(name, store, plan.items, known, computed)
        if not (plan.quiet and store.quiet_listing):
            key = None  # a read served from a snapshot would not say its warnings again
        if anchor is None or changed is None or not plan.near or (self.persistent and anchor.stored is None):
            complete = Snapshot.of(plan.records, _complete(plan.items, entries, anchor))
            self._anchors[settings] = self._store_complete(key, settings, complete)
            return column
        anchor.remember((entries[item] for item in reuse.pending), changed)
        if self.persistent and key is not None and anchor.stored is not None:
            present = set(plan.items)
            removed = [item for item in anchor.snapshot.items if item not in present]
            delta = encode_delta(plan.records, list(entries.values()), removed)
            self.cache.put_snapshot(key, settings, delta, anchor.stored)
        return column

    # --- several refs at once ---

    def _comparable(self, store: Store) -> tuple[bytes, bytes] | None:
        """``(settings, snapshot key)`` if the ref would be compared with a large anchor now."""
        root = store.layout.root.key
        if root is None or (store.jobs or default_jobs()) < 2 or store.record_filter is not None:
            return None  # a trust filter's explanations are printed as they come: kept in ref order
        settings = revision_settings(store)
        anchor = self._anchors.get(settings)
        key = snapshot_key(settings, root)
        if anchor is None or len(anchor.snapshot.items) < FAN_OUT_ITEMS:
            return None
        if self.persistent and (anchor.stored is None or self.cache.has_snapshot(key)):
            return None  # a recorded snapshot is read here; without a stored anchor, no delta
        return settings, key

    def _fan_out(self, batch: Sequence[tuple[str, Store, bytes, bytes]]) -> list[Column]:
        """The columns of refs to compare with their anchors, compared and read by forked workers.

        A worker sends back each ref's plan and results, which are replayed here in ref
        order, as ``_read`` would: warnings, errors, the cache, the table, snapshots. A ref
        too far from the anchor, or with more than ``IN_PROCESS`` items to read, comes back
        without a plan and is read here at its turn.
        """
        if len(batch) < 2:
            return [self.column(name, store) for name, store, _, _ in batch]
        anchors = [self._anchors[settings] for _, _, settings, _ in batch]
        jobs = min(len(batch), batch[0][1].jobs or default_jobs())
        columns = []
        with contextlib.closing(ordered_map(self._compare, list(batch), jobs, bulk_mode)) as produced:
            for (name, store, settings, key), anchor, compared in zip(batch, anchors, produced, strict=True):
                fresh = store.reopened()  # let go once this ref is done; the batch keeps its unread copy
                if compared is None:
                    columns.append(self._read(name, fresh, settings, key))
                else:
                    compared.plan.anchor = anchor
                    replayed = replay(fresh, compared.results)
                    columns.append(self._finish(name, fresh, settings, key, compared.plan, replayed))
                self._remember_memo(fresh, settings, key)
        return columns

    def _compare(self, ref: tuple[str, Store, bytes, bytes]) -> Compared | None:  # in a worker
        """A ref's plan against its anchor and its pending items' results (``None``: too far)."""
        store = ref[1].reopened()  # read a copy: the batch's store stays unread, its listing is let go
        settings = ref[2]
        anchor = self._anchors[settings]
        assert anchor is not None, "only refs with an anchor are fanned out"
        plan = self._plan(store, anchor)
        reuse = plan.reuse
        if plan.changed is None or not plan.near or len(reuse.pending) > IN_PROCESS:
            return None  # read in the parent: as the anchor it makes, or streamed from workers
        found = compute(store, reuse.pending)
        anchor.remember((entry_of(result) for result in found if result.error is None), plan.changed)
        plan.anchor = None  # the worker's copy stays here: the parent has its own
        return Compared(plan, found)

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
