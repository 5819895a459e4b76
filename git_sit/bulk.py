"""Reducing many items fast: the state cache, forked workers and streaming, for ``Store``.

Items are handled in blocks of ``BLOCK``. For a block, the quick keys (git trees
only) are looked up in the cache in one query each for aliases and states; every
item left over has its entries resolved, its exact state key looked up, and only
then its records read, verified and reduced. Results carry the warnings the item
produced (replayed in order by the parent, so output and stderr are those of the
one-by-one path), the state as JSON, and what to add to the cache. Only items that
reduced without any warning are cached.

With enough items to pay for it, blocks go to forked workers (``parallel``) with
libgit2's object cache switched off for the bulk pass; the parent writes new
cache entries in short batches and streams states out in ascending item ID order.
A revision read completely leaves a snapshot (its items and state keys), which
makes the next read of the same revision a pair of lookups, and a memo of its
settings that lets ``warm`` make them without opening the repository.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from git_sit.cachekey import quick_key, settings_key, snapshot_key, snapshot_settings, state_key
from git_sit.errors import SitError
from git_sit.layout import ItemEntries
from git_sit.options import jobs_from_env
from git_sit.parallel import ordered_map
from git_sit.reduce import State
from git_sit.snapshot import (
    DELTA_LIMIT,
    Builder,
    Entry,
    Snapshot,
    changed_buckets,
    decode,
    dirs_signature,
    encode_delta,
    link_hashes,
    reusable,
)
from git_sit.statecache import StateCache
from git_sit.storage import bulk_mode
from git_sit.view import Node
from git_sit.warm import remember, snapshot_of, stream, value_of

if TYPE_CHECKING:
    from git_sit.store import Store

BLOCK = 64
# json.dumps(state, ensure_ascii=False, separators=(",", ":")), without a new encoder per call
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
MIN_PARALLEL = 64  # below this many items to compute, forking costs more than it saves
WRITE_EVERY = 2048


@dataclass(slots=True)
class ItemResult:
    """One item's outcome, as produced in a worker or in-process."""

    item_id: str
    state_json: str = ""
    warnings: list[str] = field(default_factory=list)
    key: bytes | None = None  # the state key, if the state may be cached under it
    computed: bool = False  # reduced now (not found in the cache): store it
    alias: bytes | None = None  # quick key to record as an alias of ``key``
    error: SitError | None = None
    dirs: str = ""  # the item directories' object IDs (for snapshots)
    links: tuple[int, ...] | None = None  # link name hashes, if resolution was canonical


def default_jobs() -> int:
    """Worker processes for bulk reads: the usable cores, unless ``GIT_SIT_JOBS`` says otherwise."""
    jobs = jobs_from_env(os.environ)
    if jobs is not None:
        return jobs
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Reader:
    """Computes item results for one store, using its cache if it has one."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cache: StateCache | None = store.cache
        config = store.config
        self.settings = settings_key(
            store.reducers.fingerprint, store.integrity, f"{config.digest}-{config.digest_size}",
            store.trust_fingerprint,
        )

    def block(self, item_ids: Sequence[str]) -> list[ItemResult]:
        """Results for a block of items, in the given order.

        Three passes, each with one cache query for the whole block: quick keys, then
        state keys of what is left, then reading and reducing what is still left.
        """
        results = [ItemResult(item_id) for item_id in item_ids]
        listings = {result.item_id: self._listing(result) for result in results}
        pending = [result for result in results if result.error is None]
        if self.cache is not None:
            pending = self._from_quick_keys(pending, listings)
        resolved = self._resolve(pending, listings)
        if self.cache is not None:
            resolved = self._from_state_keys(resolved)
        for result, entries in resolved:
            self._reduce(result, entries)
        return results

    def _listing(self, result: ItemResult) -> list[list[Node]]:
        dirs = self.store.items()[result.item_id]
        try:
            listed = self.store.layout.list_item(dirs)
        except SitError as exc:
            result.error = exc
            return []
        result.dirs = dirs_signature(dirs)
        result.links = link_hashes(listed)
        return listed

    def _from_quick_keys(self, results: list[ItemResult], listings: dict[str, list[list[Node]]]
                         ) -> list[ItemResult]:
        assert self.cache is not None
        items = self.store.items()
        layout = self.store.layout
        for result in results:
            try:
                result.alias = quick_key(self.settings, layout, result.item_id,
                                         items[result.item_id], listings[result.item_id])
            except SitError:
                result.alias = None  # e.g. a missing object: the full path reports it
        aliases = self.cache.aliases(list({r.alias for r in results if r.alias is not None}))
        states = self.cache.states(list(set(aliases.values())))
        pending = []
        for result in results:
            full = aliases.get(result.alias) if result.alias is not None else None
            if full is not None and full in states:
                result.state_json = states[full].decode("utf-8")
                result.key, result.alias = full, None
            else:
                pending.append(result)
        return pending

    def _resolve(self, results: list[ItemResult], listings: dict[str, list[list[Node]]]
                 ) -> list[tuple[ItemResult, ItemEntries]]:
        resolved = []
        items = self.store.items()
        for result in results:
            try:
                entries = self.store.layout.item_entries(
                    result.item_id, items[result.item_id], listings[result.item_id])
            except SitError as exc:
                result.error = exc
                continue
            if self.cache is not None:
                result.key = state_key(self.settings, result.item_id, entries)
            if not entries.simple or result.key is None:
                result.alias = result.links = None
            resolved.append((result, entries))
        return resolved

    def _from_state_keys(self, resolved: list[tuple[ItemResult, ItemEntries]]
                         ) -> list[tuple[ItemResult, ItemEntries]]:
        assert self.cache is not None
        states = self.cache.states([r.key for r, _ in resolved if r.key is not None])
        pending = []
        for result, entries in resolved:
            cached = states.get(result.key) if result.key is not None else None
            if cached is not None:
                result.state_json = cached.decode("utf-8")
            else:
                pending.append((result, entries))
        return pending

    def _reduce(self, result: ItemResult, entries: ItemEntries) -> None:
        store = self.store
        real_warn = store.warn
        store.warn = result.warnings.append
        try:
            loaded = store.load_entries(result.item_id, entries)
            state = store.reducers.reduce(loaded.ordered(), {"id": result.item_id})
        except SitError as exc:
            result.error = exc
            return
        finally:
            store.warn = real_warn
        result.state_json = _encode(state)
        if result.key is not None and not result.warnings:
            result.computed = True
        else:
            result.key = result.alias = result.links = None


class Writer:
    """Collects new cache entries and writes them in short batches."""

    def __init__(self, cache: StateCache | None, defer: bool = False) -> None:
        self.cache = cache
        self.defer = defer
        self.states: list[tuple[bytes, bytes]] = []
        self.aliases: list[tuple[bytes, bytes]] = []

    def add(self, result: ItemResult) -> None:
        if self.cache is None or result.key is None:
            return
        if result.computed:
            self.states.append((result.key, result.state_json.encode("utf-8")))
        if result.alias is not None:
            self.aliases.append((result.alias, result.key))
        if len(self.states) + len(self.aliases) >= WRITE_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.cache is not None and (self.states or self.aliases):
            self.cache.put(self.states, self.aliases, self.defer)
        self.states, self.aliases = [], []


def results(store: Store, item_ids: Sequence[str], jobs: int | None = None) -> Iterator[ItemResult]:
    """Every item's result in the given order; warnings are replayed, errors raised, cache filled.

    New entries for fewer than a block of items are written in batches across calls (one
    transaction per ``reduce`` would make a caller reducing items one by one slow).
    """
    reader = Reader(store)
    jobs = default_jobs() if jobs is None else jobs
    size = block_size(len(item_ids), jobs)
    blocks = [item_ids[i:i + size] for i in range(0, len(item_ids), size)]
    produced: Iterator[list[ItemResult]]
    if jobs > 1 and len(item_ids) >= MIN_PARALLEL:
        produced = ordered_map(reader.block, blocks, jobs, bulk_mode)
    else:
        produced = (_in_process(reader, block) for block in blocks)
    yield from replay(store, (result for block in produced for result in block), len(item_ids) < BLOCK)


def compute(store: Store, item_ids: Sequence[str]) -> list[ItemResult]:
    """Every item's result, computed here in bulk mode (left on) and not yet replayed (``replay``)."""
    reader = Reader(store)
    bulk_mode(True)
    return [result for i in range(0, len(item_ids), BLOCK) for result in reader.block(item_ids[i:i + BLOCK])]


def replay(store: Store, produced: Iterable[ItemResult], defer: bool = False) -> Iterator[ItemResult]:
    """Results as ``results`` yields them: warnings replayed, errors raised, the cache filled."""
    writer = Writer(store.cache, defer)
    try:
        for result in produced:
            for message in result.warnings:
                store.warn(message)
            if result.error is not None:
                raise result.error
            writer.add(result)
            yield result
    finally:
        writer.flush()


def block_size(count: int, jobs: int) -> int:
    """Items per block: at most ``BLOCK``, and as many blocks for each of ``jobs`` workers.

    Workers take blocks in turn, so 100 items in blocks of 64 would leave one worker
    with 64 and the other with 36, and the read would last as long as the 64 take.
    """
    jobs = max(jobs, 1)
    rounds = max(1, -(-count // (jobs * BLOCK)))  # blocks each worker takes
    return max(1, -(-count // (jobs * rounds)))


def _in_process(reader: Reader, block: Sequence[str]) -> list[ItemResult]:
    bulk_mode(True)
    try:
        return reader.block(block)
    finally:
        bulk_mode(False)


def states(store: Store, jobs: int | None = None, field: str | None = None) -> Iterator[Any]:
    """Every item's state (or its ``field``) in ascending item ID order, reusing snapshots where possible."""
    cache = store.cache
    root_key = store.layout.root.key
    if cache is None or root_key is None:
        for result in results(store, store.item_ids(), jobs):
            yield value_of(result.state_json, field)
        return
    settings = revision_settings(store)
    key = snapshot_key(settings, root_key)
    keeps_id = reducers_keep_id(store)
    recorded = snapshot_of(cache, key)
    if recorded is not None:
        remember_memo(store, cache, settings, keeps_id)
        yield from stream(cache, zip(recorded.items, recorded.keys, strict=True), {}, field, keeps_id,
                          store.reduce)
        return
    base = _base(store, cache, settings)
    records = records_key(store)
    if base is None:
        builder = Builder(records)
        for result in results(store, store.item_ids(), jobs):
            builder.add(entry_of(result))
            yield value_of(result.state_json, field)
        if store.quiet_listing:
            cache.put_snapshot(key, settings, builder.encode(), None)
            remember_memo(store, cache, settings, keeps_id)
        return
    base_key, base_snapshot, keep, pending = base
    computed = {r.item_id: r for r in results(store, pending, jobs)}
    order = ((item, keep.get(item)) for item in store.items())
    yield from stream(cache, order, {item: r.state_json for item, r in computed.items()}, field, keeps_id,
                      store.reduce)
    changed = [entry_of(computed[item]) for item in pending]
    removed = [item for item in base_snapshot.items if item not in store.items()]
    if store.quiet_listing:
        cache.put_snapshot(key, settings, encode_delta(records, changed, removed), base_key)
        remember_memo(store, cache, settings, keeps_id)


def revision_settings(store: Store) -> bytes:
    """What a revision's snapshot and memo are filed under: ``items --rev`` and status share them."""
    return snapshot_settings(Reader(store).settings)


def reducers_keep_id(store: Store) -> bool:
    """Whether the store's reducers never change ``id`` (then a state's ID is its item's)."""
    return bool(getattr(store.reducers, "keeps_id", False))


def remember_memo(store: Store, cache: StateCache, settings: bytes, keeps_id: bool) -> None:
    """Memorise the settings of a read whose settings follow from its SIT tree (``warm``).

    A warm read loads no reducers: none is memorised where loading them warned.
    """
    if (store.memo is None or store.trust_fingerprint or not store.quiet_listing
            or getattr(store.reducers, "warned", False)):
        return
    key = store.memo(keeps_id)
    if key is not None:
        remember(cache, key, settings)


def entry_of(result: ItemResult) -> Entry:
    """The snapshot entry of a result (link hashes only with a state key to reuse)."""
    return Entry(result.item_id, result.key, result.dirs, result.links if result.key else None)


def _base(store: Store, cache: StateCache, settings: bytes
          ) -> tuple[bytes, Snapshot, dict[str, bytes], list[str]] | None:
    """The latest complete snapshot, and what carries over from it to this revision."""
    found = cache.latest_full(settings)
    node_by_key = getattr(store.layout.view, "node_by_key", None)
    if found is None or node_by_key is None:
        return None
    try:
        base = decode(found[1], None)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    items = store.items()
    limit = int(DELTA_LIMIT * len(items))
    bulk_mode(True)  # every tree of the comparison is read once
    try:
        old = node_by_key(base.records) if base.records else None
        changed = changed_buckets(store.layout.view, old, store.layout.records_tree(), limit)
    except SitError:
        return None
    finally:
        bulk_mode(False)
    if changed is None:
        return None
    keep, pending = reusable(base, items, changed)
    if len(pending) > limit:
        return None
    return found[0], base, keep, pending


def records_key(store: Store) -> str:
    """The object ID of the store's ``records/`` tree ("" without one): what snapshots are of."""
    node = store.layout.records_tree()
    return node.key or "" if node is not None else ""


def reduce_one(store: Store, item_id: str) -> State:
    """One item's state through the cache (warnings go to ``store.warn``)."""
    for result in results(store, [item_id], jobs=1):
        state: State = json.loads(result.state_json)
        return state
    raise AssertionError("results() yields one result per item")

