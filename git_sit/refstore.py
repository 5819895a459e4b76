"""Reading the SIT repository on many refs at once, reducing each distinct item only once.

One git repository is discovered, its refs are listed, and each ref's root tree
is opened as a ``Store`` (found from the current directory as ``--rev`` would find
it); a ref without a SIT repository simply has no items. The refs' items are read
with ``crossref``: one ref at a time, each distinct item content (exact state key)
reduced at most once, keeping only what the command shows of each state.
``diff`` compares two revisions' state keys and reads full states only for the
items whose keys differ.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from git_sit.bulk import Reader
from git_sit.crossref import cross_reader, rows
from git_sit.errors import SitError
from git_sit.locate import Options, has_sit, locate_in, store_of
from git_sit.reduce import ReducerSet, State
from git_sit.status import Change, change_of
from git_sit.storage import GitRef, GitRepo, RefKind, current_branch, list_refs
from git_sit.store import Store, Warn
from git_sit.view import Node

V = TypeVar("V")
CHUNK = 256  # items whose full states ``diff`` holds at once


@dataclass(frozen=True, slots=True)
class RefStore:
    """A ref and the SIT repository in its tree (``None``: the ref has no SIT repository)."""

    ref: GitRef
    store: Store | None

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

    @classmethod
    def discover(cls, cwd: str, options: Options) -> RefReader:
        return cls(GitRepo.discover(cwd), cwd, options)

    def refs(self, kinds: Sequence[RefKind]) -> list[GitRef]:
        return list_refs(self.repo, kinds, self.options.warn)

    def current_branch(self) -> str | None:
        return current_branch(self.repo)

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
                store = self.tree_store(ref.root, ref.name)
            except SitError as exc:
                self.options.warn(f"ref {ref.name}: {exc}")
                store = None
            result.append(RefStore(ref, store))
        return result

    def rev_store(self, rev: str) -> Store | None:
        """The store at a revision (``UnknownRevision`` if it does not resolve)."""
        return self.tree_store(self.repo.root_tree(rev), rev)


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

    Refs are read one at a time; each distinct item content is reduced at most once.
    """
    with cross_reader([rs.store for rs in ref_stores], project, warn) as cross:
        columns = [
            cross.column(rs.name, cross.prepare(rs.store) if rs.store is not None else None, only)
            for rs in ref_stores
        ]
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
