"""Reading the SIT repository on many refs at once, reducing each distinct item only once.

One git repository is discovered, its refs are listed, and each ref's root tree
is opened as a ``Store`` (found from the current directory as ``--rev`` would find
it); a ref without a SIT repository simply has no items. The refs' items are read
with ``crossref``: ref by ref (several at once in forked workers), each distinct item
content (exact state key) reduced at most once per process, keeping only what the
command shows of each state.
``diff`` compares two revisions' state keys and reads full states only for the
items whose keys differ.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from git_sit.bulk import Reader
from git_sit.columns import Table, rows
from git_sit.crossref import CrossReader
from git_sit.errors import NotARepository, SitError
from git_sit.locate import Options, has_sit, locate_in, store_of, work_tree_has_sit
from git_sit.reduce import ReducerSet, State
from git_sit.statecache import StateCache
from git_sit.status import Change, change_of, current_ref
from git_sit.storage import GitRef, GitRepo, RefKind, bulk_mode, current_branch, detached_head, list_refs
from git_sit.store import Store, Warn
from git_sit.view import Node

V = TypeVar("V")
CHUNK = 256  # items whose full states ``diff`` holds at once


@dataclass(frozen=True, slots=True)
class RefStore:
    """A ref and the SIT repository in its tree (``None``: the ref has none, or it is ``unreadable``)."""

    ref: GitRef
    store: Store | None
    unreadable: bool = False  # a SIT repository is there, but reading it failed (warned about)

    @property
    def name(self) -> str:
        return self.ref.name


@dataclass(slots=True)
class RefReader:
    """One discovered git repository, and the directory a command runs in."""

    repo: GitRepo
    cwd: str
    options: Options
    reducers: ReducerSet | None = None  # None: each ref's own (§5.3)
    configure: Callable[[Store], None] | None = None  # e.g. a trust filter for every store

    def __post_init__(self) -> None:
        # Every ref's (or both revisions') store says what is wrong with the whole
        # repository (a symlinked reducer, say) again: said once is enough.
        self.options = dataclasses.replace(self.options, warn=_once(self.options.warn))

    @classmethod
    def discover(cls, cwd: str, options: Options) -> RefReader:
        return cls(GitRepo.discover(cwd), cwd, options)

    def refs(self, kinds: Sequence[RefKind], wanted: Callable[[str], bool] | None = None) -> list[GitRef]:
        """The refs of these kinds (and ``wanted`` names); only they are warned about."""
        return list_refs(self.repo, kinds, self.options.warn, wanted)

    def work_tree_has_sit(self) -> bool:
        """True if the work tree on disk has a SIT directory where ``cwd`` finds one."""
        return work_tree_has_sit(self.repo, self.cwd)

    def current_ref(self, refs: Iterable[GitRef]) -> str | None:
        """The ref to mark current among ``refs``: HEAD's branch, or where it is detached."""
        branch = current_branch(self.repo)
        head = detached_head(self.repo) if branch is None else None
        detached = (head.commit, head.checked_out) if head is not None else None
        return current_ref(branch, detached, {ref.name: ref.target for ref in refs})

    def tree_store(self, top: Node, label: str) -> Store | None:
        """The store in a git tree (found from ``cwd`` as ``--rev`` finds it), ``None`` if none."""
        view = self.repo.view()
        if not has_sit(view, top, self.cwd, self.repo.workdir):
            return None
        found = locate_in(self.repo, view, top, self.cwd, f"revision {label}", f"{label}:")
        store = store_of(found, self.options)
        if self.reducers is not None:
            store.reducers = self.reducers
        if self.configure is not None:
            self.configure(store)
        return store

    def ref_stores(self, refs: Iterable[GitRef]) -> list[RefStore]:
        """A store per ref; a ref whose SIT repository cannot be read is warned about and empty."""
        result = []
        for ref in refs:
            try:
                result.append(RefStore(ref, self.tree_store(ref.root, ref.name)))
            except NotARepository as exc:  # a .sit that is no SIT repository (a link...): as good as none
                self.options.warn(f"ref {ref.name}: {exc}")
                result.append(RefStore(ref, None))
            except SitError as exc:  # e.g. a missing object: what it holds is unknown, not nothing
                self.options.warn(f"ref {ref.name} skipped: {exc}")
                result.append(RefStore(ref, None, unreadable=True))
        return result

    def rev_store(self, rev: str) -> Store | None:
        """The store at a revision (``UnknownRevision`` if it does not resolve)."""
        return self.tree_store(self.repo.root_tree(rev), rev)


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


def matching_items(ref_stores: Iterable[RefStore], texts: Collection[str]) -> list[str]:
    """The item IDs on any of the refs that start with one of ``texts``, sorted.

    Enough to resolve those texts as exact IDs or unique prefixes; each ref's listing
    is dropped once searched.
    """
    found: set[str] = set()
    for ref_store in ref_stores:
        if ref_store.store is not None:
            items = ref_store.store.reopened().item_ids()
            found.update(item for item in items if any(item.startswith(text) for text in texts))
    return sorted(found)


def ref_states(
    ref_stores: Sequence[RefStore], project: Callable[[State], V], warn: Warn,
    only: Collection[str] | None = None,
) -> Iterator[tuple[str, dict[str, V | None]]]:
    """Every item (or only these), ascending, with ``project(state)`` on each ref (``None``: absent).

    Refs are taken in order (``CrossReader.columns``); each distinct item content is reduced
    at most once in each process.
    """
    with cross_reader([rs.store for rs in ref_stores], project, warn) as cross:
        columns = cross.columns(  # a generator: each prepared store is let go once read
            ((rs.name, cross.prepare(rs.store) if rs.store is not None else None) for rs in ref_stores), only)
        values = cross.table.values
        for item, slots in rows(columns):
            yield item, {
                rs.name: values[slot] if slot is not None else None
                for rs, slot in zip(ref_stores, slots, strict=True)
            }


def store_changes(before: Store | None, after: Store | None, warn: Warn) -> list[Change]:
    """What changed between two stores, item by item; items with equal state keys are not compared."""
    if before is not None and after is not None and _same(before, after):
        return []
    changes: list[Change] = []
    with cross_reader([before, after], _nothing, warn) as cross:
        old = cross.prepare(before) if before is not None else None
        new = cross.prepare(after) if after is not None else None
        columns = [cross.column("before", old), cross.column("after", new)]
        differ = ((item, a, b) for item, (a, b) in rows(columns) if a is None or a != b)
        while chunk := list(itertools.islice(differ, CHUNK)):
            old_states = cross.states(old, {item: a for item, a, _ in chunk})
            new_states = cross.states(new, {item: b for item, _, b in chunk})
            for item, _, _ in chunk:
                change = change_of(item, old_states[item], new_states[item])
                if change is not None:
                    changes.append(change)
    return changes


def _same(before: Store, after: Store) -> bool:
    """True if both stores are the same SIT tree read with the same settings (reducers, trust...)."""
    key = before.layout.root.key
    return key is not None and key == after.layout.root.key \
        and Reader(before).settings == Reader(after).settings


def _nothing(state: State) -> None:
    """Keep nothing of a state (``diff`` compares state keys, then reads the states that differ)."""
