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
makes the next read of the same revision a pair of lookups.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from git_sit.cachekey import quick_key, settings_key, snapshot_key, state_key
from git_sit.errors import SitError
from git_sit.parallel import ordered_map
from git_sit.reduce import State
from git_sit.statecache import StateCache
from git_sit.storage import bulk_mode

if TYPE_CHECKING:
    from git_sit.store import Store

BLOCK = 64
MIN_PARALLEL = 256  # below this many items to compute, forking costs more than it saves
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


def default_jobs() -> int:
    """Worker processes for bulk reads: the usable cores, unless ``GIT_SIT_JOBS`` says otherwise."""
    text = os.environ.get("GIT_SIT_JOBS", "")
    if text.isdigit():
        return int(text)
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
        )

    def block(self, item_ids: Sequence[str]) -> list[ItemResult]:
        """Results for a block of items, in the given order."""
        results = [ItemResult(item_id) for item_id in item_ids]
        pending = results
        if self.cache is not None:
            pending = self._from_quick_keys(results)
        for result in pending:
            self._compute(result)
        return results

    def _from_quick_keys(self, results: list[ItemResult]) -> list[ItemResult]:
        assert self.cache is not None
        items = self.store.items()
        layout = self.store.layout
        quick: dict[str, bytes] = {}
        for result in results:
            try:
                key = quick_key(self.settings, layout, result.item_id, items[result.item_id])
            except SitError:
                key = None  # e.g. a missing object: the full path reports it
            if key is not None:
                quick[result.item_id] = key
        aliases = self.cache.aliases(list(set(quick.values())))
        states = self.cache.states(list(set(aliases.values())))
        pending = []
        for result in results:
            full = aliases.get(quick.get(result.item_id, b""))
            if full is not None and full in states:
                result.state_json = states[full].decode("utf-8")
                result.key = full
            else:
                result.alias = quick.get(result.item_id)
                pending.append(result)
        return pending

    def _compute(self, result: ItemResult) -> None:
        store = self.store
        real_warn = store.warn
        store.warn = result.warnings.append
        try:
            self._compute_with(result)
        except SitError as exc:
            result.error = exc
        finally:
            store.warn = real_warn

    def _compute_with(self, result: ItemResult) -> None:
        store = self.store
        item_id = result.item_id
        entries = store.item_entries(item_id)
        key = state_key(self.settings, item_id, entries) if self.cache is not None else None
        if not entries.simple:
            result.alias = None
        if key is not None and self.cache is not None:
            cached = self.cache.states([key]).get(key)
            if cached is not None:
                result.state_json = cached.decode("utf-8")
                result.key = key
                return
        state = store.reducers.reduce(store.load_entries(item_id, entries).ordered(), {"id": item_id})
        result.state_json = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
        if key is not None and not result.warnings:
            result.key, result.computed = key, True
        else:
            result.alias = None


class Writer:
    """Collects new cache entries and writes them in short batches."""

    def __init__(self, cache: StateCache | None) -> None:
        self.cache = cache
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
            self.cache.put(self.states, self.aliases)
        self.states, self.aliases = [], []


def results(store: Store, item_ids: Sequence[str], jobs: int | None = None) -> Iterator[ItemResult]:
    """Every item's result in the given order; warnings are replayed, errors raised, cache filled."""
    reader = Reader(store)
    writer = Writer(store.cache)
    blocks = [item_ids[i:i + BLOCK] for i in range(0, len(item_ids), BLOCK)]
    jobs = default_jobs() if jobs is None else jobs
    produced: Iterator[list[ItemResult]]
    if jobs > 1 and len(item_ids) >= MIN_PARALLEL:
        produced = ordered_map(reader.block, blocks, jobs, bulk_mode)
    else:
        produced = (_in_process(reader, block) for block in blocks)
    try:
        for block in produced:
            for result in block:
                for message in result.warnings:
                    store.warn(message)
                if result.error is not None:
                    raise result.error
                writer.add(result)
                yield result
    finally:
        writer.flush()


def _in_process(reader: Reader, block: Sequence[str]) -> list[ItemResult]:
    bulk_mode(True)
    try:
        return reader.block(block)
    finally:
        bulk_mode(False)


def states(store: Store, jobs: int | None = None) -> Iterator[State]:
    """Every item's state in ascending item ID order, from the revision's snapshot if recorded."""
    cache = store.cache
    root_key = store.layout.root.key
    snap = None
    if cache is not None and root_key is not None:
        snap = snapshot_key(Reader(store).settings, root_key)
        recorded = cache.snapshot(snap)
        if recorded is not None:
            yield from _from_snapshot(store, cache, recorded)
            return
    keys: list[tuple[str, bytes | None]] = []
    for result in results(store, store.item_ids(), jobs):
        keys.append((result.item_id, result.key))
        yield json.loads(result.state_json)
    if cache is not None and snap is not None:
        cache.put_snapshot(snap, keys)


def _from_snapshot(store: Store, cache: StateCache,
                   recorded: list[tuple[str, bytes | None]]) -> Iterator[State]:
    for start in range(0, len(recorded), 1024):
        chunk = recorded[start:start + 1024]
        found = cache.states([key for _, key in chunk if key is not None])
        for item_id, key in chunk:
            data = found.get(key) if key is not None else None
            if data is not None:
                yield json.loads(data)
            else:  # never cached (it had warnings) or dropped since: reduce it again
                yield store.reduce(item_id)


def reduce_one(store: Store, item_id: str) -> State:
    """One item's state through the cache (warnings go to ``store.warn``)."""
    for result in results(store, [item_id], jobs=1):
        state: State = json.loads(result.state_json)
        return state
    raise AssertionError("results() yields one result per item")

