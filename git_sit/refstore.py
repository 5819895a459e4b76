"""Reading the SIT repository on many refs at once, reducing each distinct item only once.

One git repository is discovered, its refs are listed, and each ref's root tree
is opened as a ``Store`` (found from the current directory as ``--rev`` would find
it); a ref without a SIT repository simply has no items. Reductions go through a
memo keyed by the item's content (``Store.item_key``: the git object IDs of its
directories), so an item whose subtree is identical on twenty branches is reduced
once. The memo is a small protocol so that a persistent cache keyed the same way
can stand in for the in-memory dict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from git_sit.errors import SitError
from git_sit.locate import Options, has_sit, locate_in, store_of
from git_sit.reduce import ReducerSet, State
from git_sit.status import Change, change_of
from git_sit.storage import GitRef, GitRepo, RefKind, current_branch, list_refs
from git_sit.store import Store
from git_sit.view import Node


class Memo(Protocol):
    """Where reduced states are kept between refs (and, for a persistent cache, runs)."""

    def get(self, key: str) -> State | None: ...

    def put(self, key: str, state: State) -> None: ...


@dataclass
class DictMemo:
    """An in-memory memo for one command; counts how often it had to reduce."""

    states: dict[str, State] = field(default_factory=dict)
    reductions: int = 0

    def get(self, key: str) -> State | None:
        return self.states.get(key)

    def put(self, key: str, state: State) -> None:
        self.reductions += 1
        self.states[key] = state


def memo_key(store: Store, item_id: str) -> str | None:
    """What fixes an item's reduced state: reducers, integrity, item ID and its trees' IDs."""
    key = store.item_key(item_id)
    if key is None:
        return None
    # The item ID is part of the state ({"id": ...}) but not of its directories' object IDs;
    # the hash algorithm decides which records pass the integrity check.
    config = store.config
    check = f"{config.digest}-{config.digest_size}" if store.integrity else "unchecked"
    return f"{store.reducers.fingerprint}|{store.trust_fingerprint}|{check}|{item_id}|{key}"


def reduce_cached(store: Store, item_id: str, memo: Memo) -> State:
    """The item's reduced state, from the memo when the same item content was reduced before."""
    key = memo_key(store, item_id)
    if key is not None:
        cached = memo.get(key)
        if cached is not None:
            return cached
    state = store.reduce(item_id)
    if key is not None:
        memo.put(key, state)
    return state


@dataclass(frozen=True, slots=True)
class RefStore:
    """A ref and the SIT repository in its tree (``None``: the ref has no SIT repository)."""

    ref: GitRef
    store: Store | None

    @property
    def name(self) -> str:
        return self.ref.name

    def item_ids(self) -> list[str]:
        return self.store.item_ids() if self.store is not None else []

    def has_item(self, item_id: str) -> bool:
        return self.store is not None and item_id in self.store.items()

    def state(self, item_id: str, memo: Memo) -> State | None:
        """The item's reduced state on this ref, ``None`` when the item is absent."""
        if self.store is None or not self.has_item(item_id):
            return None
        return reduce_cached(self.store, item_id, memo)


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


def item_union(ref_stores: Iterable[RefStore]) -> list[str]:
    """Every item ID present on at least one of the refs, sorted."""
    found: set[str] = set()
    for ref_store in ref_stores:
        found.update(ref_store.item_ids())
    return sorted(found)


def store_changes(before: Store | None, after: Store | None, memo: Memo) -> list[Change]:
    """What changed between two stores, item by item; items with equal content are not reduced."""
    old = before.items() if before is not None else {}
    new = after.items() if after is not None else {}
    changes = []
    for item_id in sorted(old.keys() | new.keys()):
        if item_id in old and item_id in new:
            assert before is not None and after is not None
            key = memo_key(before, item_id)
            if key is not None and key == memo_key(after, item_id):
                continue
        old_state = _state_in(before, old, item_id, memo)
        new_state = _state_in(after, new, item_id, memo)
        change = change_of(item_id, old_state, new_state)
        if change is not None:
            changes.append(change)
    return changes


def _state_in(store: Store | None, items: Mapping[str, object], item_id: str, memo: Memo) -> State | None:
    return reduce_cached(store, item_id, memo) if store is not None and item_id in items else None


def states_by_ref(
    ref_stores: Sequence[RefStore], item_ids: Iterable[str], memo: Memo,
) -> dict[str, dict[str, State | None]]:
    """Item ID → ref name → reduced state (``None`` where absent), reducing only these items."""
    return {
        item_id: {rs.name: rs.state(item_id, memo) for rs in ref_stores} for item_id in item_ids
    }

