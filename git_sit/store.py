"""The record store: a SIT repository's items, records and reduced states.

A ``Store`` wraps one ``Layout`` (a git tree at some revision, or the work tree)
with the repository's configuration. It resolves item IDs (exact or a unique
prefix), reads and verifies records, orders them (§5.2) and reduces them. It never
prints: problems with single records go to the ``warn`` callback and the record is
skipped, as SIT skips records that fail integrity.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from git_sit import bulk
from git_sit.config import RepoConfig
from git_sit.errors import InvalidRecord, MissingObject, SitError, UnknownItem
from git_sit.layout import RECORDS_DIR, ItemDir, ItemEntries, Layout, Problem
from git_sit.options import Warn, ignore
from git_sit.order import leaves, reduction_order
from git_sit.record import Record, encode_id, is_record_id, split_path
from git_sit.reduce import NativeReducers, ReducerSet, State
from git_sit.statecache import StateCache
from git_sit.view import Kind, Node, is_utf8_name


class RecordFilter(Protocol):
    """Which verified records count (e.g. only those a trusted key signed); False skips one.

    Skipped records still take part in ordering, like integrity failures (§5.2), so
    their children are reduced. ``fingerprint`` names what the decisions depend on
    (e.g. a trusted keyring's content): any cache of reduced states must key on it.
    """

    fingerprint: str

    def __call__(self, record: Record, item_id: str | None, /) -> bool: ...


@dataclass(slots=True)
class LoadedItem:
    """An item's records: every resolvable one (for ordering) and which of them are usable."""

    item_id: str
    records: dict[str, Record | None] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)

    def parents(self) -> dict[str, frozenset[str]]:
        return {rid: (r.prev if r else frozenset()) for rid, r in self.records.items()}

    def ordered(self, roots: Collection[str] | None = None) -> list[Record]:
        """Records in reduction order, without those that failed to read or verify, or were skipped.

        ``roots``: only those records and the ones that follow them (fixed roots, §5.1).
        """
        drop = self.bad | self.skipped
        return [r for rid in reduction_order(self.parents(), roots)
                if rid not in drop and (r := self.records[rid]) is not None]


@dataclass(slots=True)
class Store:
    """A SIT repository at one revision (or the work tree)."""

    layout: Layout
    config: RepoConfig
    path: str
    integrity: bool = True
    warn: Warn = ignore
    reducers: ReducerSet = field(default_factory=NativeReducers)
    record_filter: RecordFilter | None = None
    _items: dict[str, list[ItemDir]] | None = None
    cache: StateCache | None = None
    jobs: int | None = None
    # The key of this revision's memo (``warm``), given whether the reducers keep "id";
    # None, or a None answer, where something outside the SIT tree decides the settings.
    memo: Callable[[bool], bytes | None] | None = None
    _listing_warned: bool = False
    # Records that could not be read (warned about and skipped), for callers that must
    # not pass over them silently, such as verify.
    unreadable: set[str] = field(default_factory=set)

    def reopened(self) -> Store:
        """This store as if just opened: nothing listed or held yet.

        For a caller going through many revisions: dropping each copy when done keeps
        only one revision's git objects in memory.
        """
        return replace(self, layout=Layout(self.layout.view, self.layout.root), _items=None,
                       _listing_warned=False, unreadable=set())

    def items(self) -> dict[str, list[ItemDir]]:
        """Item ID → directories, in ascending ID order."""
        if self._items is None:
            self._items = _utf8_items(self.layout.item_dirs(), self._warn_listing)
        return self._items

    def _warn_listing(self, message: str) -> None:
        self._listing_warned = True
        self.warn(message)

    @property
    def quiet_listing(self) -> bool:
        """Whether listing the items (if done) warned of nothing.

        A read served from a snapshot lists no items: only the items' own warnings come
        back (their states are never cached), so only a quiet listing may leave one.
        """
        return not self._listing_warned

    @property
    def trust_fingerprint(self) -> str:
        """What the record filter's decisions depend on ("" without one); part of cache keys."""
        return self.record_filter.fingerprint if self.record_filter is not None else ""

    def item_ids(self) -> list[str]:
        return list(self.items())

    def resolve_item(self, text: str) -> str:
        """An item ID from a full ID or a unique prefix."""
        items = self.items()
        if text in items:
            return text
        matches = [item for item in items if item.startswith(text)] if text else []
        if not matches:
            raise UnknownItem(f"no item {text!r} in {self.path}.")
        if len(matches) > 1:
            shown = ", ".join(matches[:10]) + (", ..." if len(matches) > 10 else "")
            raise UnknownItem(f"item ID prefix {text!r} is ambiguous: {shown}.")
        return matches[0]

    def item_key(self, item_id: str) -> str | None:
        """A key that fixes the item's records: its directories' git object IDs (None on disk).

        Records are content-addressed, so the same item trees always reduce to the same
        state under the same reducers and integrity setting.
        """
        keys = [f"{parent}:{node.key}" for parent, node in self.items()[item_id] if node.key]
        if len(keys) != len(self.items()[item_id]):
            return None
        return " ".join(keys)

    def item_entries(self, item_id: str) -> ItemEntries:
        """Resolve an item's entries to record directories (nothing read yet)."""
        return self.layout.item_entries(item_id, self.items()[item_id])

    def load_item(self, item_id: str) -> LoadedItem:
        """Read and verify all of an item's records."""
        return self.load_entries(item_id, self.item_entries(item_id))

    def load_entries(self, item_id: str, entries: ItemEntries) -> LoadedItem:
        """Read and verify the records of resolved entries (problems go to ``warn``)."""
        loaded = LoadedItem(item_id, keys=entries.keys)
        self._report(entries.problems)
        for record_id, node in sorted(entries.nodes.items()):
            record = self._read(record_id, node, item_id)
            loaded.records[record_id] = record
            if record is None:
                loaded.bad.add(record_id)
            elif self.integrity and not record.verifies(self.config.hasher):
                self.warn(str(Problem(record_id, item_id, "content does not match its ID; skipped")))
                loaded.bad.add(record_id)
            elif self.record_filter is not None and not self.record_filter(record, item_id):
                loaded.skipped.add(record_id)
        return loaded

    def _read(self, record_id: str, node: Node, item_id: str | None) -> Record | None:
        try:
            return self.layout.read_record(record_id, node)
        except (InvalidRecord, MissingObject) as exc:
            self.warn(str(Problem(record_id, item_id, f"{exc}; skipped")))
            self.unreadable.add(record_id)
            return None

    def _report(self, problems: list[Problem]) -> None:
        for problem in problems:
            self.warn(str(problem))

    def item_records(self, item_id: str) -> list[Record]:
        """An item's usable records in reduction order."""
        return self.load_item(item_id).ordered()

    def item_leaves(self, item_id: str) -> list[str]:
        """Records of the item that no other of its records follows (automatic ``.prev``)."""
        if item_id not in self.items():
            return []
        loaded = self.load_item(item_id)
        return leaves({rid: p & loaded.records.keys() for rid, p in loaded.parents().items()})

    def reduce(self, item_id: str) -> State:
        """The reduced state of one item (initial state ``{"id": ITEM}``), through the cache."""
        if self.cache is None:
            return self.reduce_uncached(item_id)
        return bulk.reduce_one(self, item_id)

    def reduce_uncached(self, item_id: str) -> State:
        """The reduced state of one item, read and reduced now."""
        return self.reducers.reduce(self.item_records(item_id), {"id": item_id})

    def states(self, field: str | None = None) -> Iterator[Any]:
        """Every item's reduced state, in ascending item ID order, one at a time.

        Uses the cache and, for many items, forked workers (``jobs``; ``None``: one
        per core); the result is the same as reducing each item in turn. With ``field``,
        only that top-level field of each state (``None`` where absent), read from the
        cache without decoding the rest.
        """
        if self.cache is None and self.jobs == 1:
            for item_id in self.items():
                state = self.reduce_uncached(item_id)
                yield state if field is None else state.get(field)
            return
        yield from bulk.states(self, self.jobs, field)

    def reduce_many(self, item_ids: Sequence[str]) -> Iterator[tuple[str, State]]:
        """``(item ID, state)`` for each of ``item_ids`` in that order, as ``states()`` reads them."""
        for result in bulk.results(self, item_ids, self.jobs):
            yield result.item_id, json.loads(result.state_json)

    def repository_records(self, roots: Collection[str] | None = None) -> tuple[list[Record], list[str]]:
        """All records of the repository in reduction order, and the IDs that failed integrity.

        ``roots``: only those records and the ones that follow them (fixed roots, §5.1).
        """
        nodes, problems = self.layout.repository_records()
        self._report(problems)
        records = {rid: self._read(rid, node, None) for rid, node in nodes.items()}
        bad = [rid for rid, r in records.items() if r is None or not r.verifies(self.config.hasher)]
        parents = {rid: (r.prev if r else frozenset()) for rid, r in records.items()}
        skip = set(bad) if self.integrity else {rid for rid, r in records.items() if r is None}
        if self.record_filter is not None:
            keep = self.record_filter
            skip |= {rid for rid, r in records.items() if rid not in skip and r and not keep(r, None)}
        ordered = [r for rid in reduction_order(parents, roots) if rid not in skip and (r := records[rid])]
        return ordered, bad

    def record_path(self, record_id: str) -> str:
        """A record's directory, relative to the repository: its flat place, else a legacy item's.

        Only a full record ID of this repository's length names a record; anything else
        ('', '.', '..', a split directory like 'IC') is refused before any lookup.
        """
        length = len(encode_id(bytes(self.config.digest_size)))
        if len(record_id) != length or not is_record_id(record_id):
            raise SitError(f"{record_id!r} is not a record ID: this repository's are "
                           f"{length} base32 characters.")
        if self.layout.record_node(record_id) is not None:
            return f"{RECORDS_DIR}/{split_path(record_id)}"
        for item_id, dirs in self.items().items():
            for parent, directory in dirs:
                node = self.layout.view.lookup(directory, record_id)
                if node is not None and node.kind is Kind.TREE:
                    return f"{parent}/{item_id}/{record_id}"
        raise SitError(f"record {record_id} not found.")

    def reduce_repository(self, initial: State | None = None, roots: Collection[str] | None = None) -> State:
        """The repository container's state (every record, initial state ``{}``, or ``initial``)."""
        records, _ = self.repository_records(roots)
        return self.reducers.reduce(records, dict(initial or {}))

    def reduce_from(self, item_id: str, initial: State, roots: Collection[str] | None = None) -> State:
        """One item reduced from ``initial`` (its ``id`` set on top, §5.1), from ``roots`` if given.

        Never cached: the cache knows only the usual start and every record.
        """
        records = self.load_item(item_id).ordered(roots)
        return self.reducers.reduce(records, {**initial, "id": item_id})

    def named_expression(self, directory: str, name: str) -> str | None:
        """A named filter or query stored in the repository (``.items/filters/NAME``...)."""
        if "/" in name or name in ("", ".", ".."):
            return None
        data = self.layout.file(f"{directory}/{name}")
        return data.decode("utf-8", errors="replace") if data is not None else None


def _utf8_items(items: dict[str, list[ItemDir]], warn: Warn) -> dict[str, list[ItemDir]]:
    """The items whose directory names are UTF-8; the others are warned about and left out.

    An item ID is text in every state and line of output; a name that is not UTF-8
    (another tool may write one) cannot be.
    """
    try:
        "".join(items).encode("utf-8")  # one check for the usual case
        return items
    except UnicodeEncodeError:
        pass
    kept = {}
    for item_id, dirs in items.items():
        if is_utf8_name(item_id):
            kept[item_id] = dirs
        else:
            warn(f"item directory {item_id!r} is not a valid UTF-8 name; skipped")
    return kept
