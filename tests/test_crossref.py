"""Reading many refs at once: the raw records/ diff, anchors, and states against a one-by-one oracle.

The oracle reduces every item of every ref on its own (``Store.reduce_uncached``),
without the cache, anchors or snapshots; the cross-ref reader must agree with it
cold, warm and with ``--no-cache``, and must reduce each distinct item content once.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass
from typing import Any

import pygit2
import pytest

from git_sit import crossref, parallel
from git_sit.anchor import Anchor
from git_sit.bulk import revision_settings
from git_sit.cachekey import snapshot_key
from git_sit.columns import Column, Table, rows
from git_sit.layout import is_id
from git_sit.locate import Options
from git_sit.record import compute_id, split_path
from git_sit.reduce import NativeReducers, State
from git_sit.refstore import RefReader, ref_states
from git_sit.snapshot import Entry, Snapshot, bucket, changed_buckets, name_hash
from git_sit.storage import GitRepo, RefKind
from git_sit.view import Kind, Node
from tests.helpers import commit_files, record_files, sit, sit_tree_files


def rec(n: int, *types: str, prev: dict[str, bytes] | None = None) -> dict[str, bytes]:
    prevs = [compute_id(prev.items())] if prev is not None else []
    return record_files(list(types) or ["Commented"], f"text {n}", authors="Ann <a@example.com>",
                        timestamp=f"2026-01-{n % 28 + 1:02}T00:00:00Z", prev=prevs)


# --- the table of distinct states and the columns over it ---

def test_table_keeps_each_keyed_state_once():
    parsed: list[State] = []
    table = Table(lambda state: parsed.append(state) or state["state"])
    first = table.add(b"k" * 20, '{"id": "a", "state": "open"}')
    assert table.add(b"k" * 20, '{"id": "a", "state": "ignored: the key is known"}') == first
    unkeyed = [table.add(None, '{"id": "b", "state": "closed"}') for _ in range(2)]
    assert len(set(unkeyed)) == 2 and first not in unkeyed  # no key: a slot each time
    assert table.values == ["open", "closed", "closed"]
    assert table.keys == [b"k" * 20, None, None]
    assert table.find(b"k" * 20) == first and table.find(b"x" * 20) is None
    assert len(parsed) == 3


def test_rows_merge_columns_in_item_order():
    def column(name: str, cells: dict[str, int]) -> Column:
        return Column(name, list(cells), array("i", cells.values()))

    columns = [column("a", {"i1": 0, "i3": 1}), column("b", {}), column("c", {"i2": 2, "i3": 1})]
    assert list(rows(columns)) == [
        ("i1", [0, None, None]), ("i2", [None, None, 2]), ("i3", [1, None, 1]),
    ]
    assert list(rows([])) == []


# --- the records/ diff on raw tree objects ---

def _records(repo: pygit2.Repository, commit: pygit2.Oid) -> Node | None:
    view = GitRepo(repo).view()
    return view.lookup(GitRepo(repo).root_tree(str(commit)), ".sit/records")


def _with_mode(repo: pygit2.Repository, base: pygit2.Oid, path: str) -> pygit2.Oid:
    """A commit like ``base`` with the file at ``path`` made executable (same blob)."""
    index = pygit2.Index()
    index.read_tree(repo[base].peel(pygit2.Tree))
    entry = index[path]
    index.add(pygit2.IndexEntry(path, entry.id, pygit2.enums.FileMode.BLOB_EXECUTABLE))
    sig = pygit2.Signature("T", "t@example.com", 1767323045, 0)
    return repo.create_commit(None, sig, sig, "mode", index.write_tree(repo), [base])


@pytest.mark.parametrize("case", [
    "same", "added", "removed", "modified", "dir-to-file", "mode-only", "other-file", "no-records",
])
def test_differing_names_agrees_with_the_generic_walk(repo, case):
    files, ids = sit_tree_files({f"item{n}": [rec(n)] for n in range(6)})
    files[".sit/records/README"] = b"not a record"
    first = commit_files(repo, files, ref="main")
    one, two = ids["item1"][0], ids["item2"][0]
    new_id = compute_id(rec(100).items())
    changes, expected = {
        "same": ({}, set()),
        "added": (sit_tree_files({"new": [rec(100)]})[0], {new_id}),
        "removed": ({p: None for p in files if f"/{one}/" in p}, {one}),
        "modified": ({f".sit/records/{split_path(two)}/text": b"changed"}, {two}),
        "dir-to-file": ({**{p: None for p in files if f"/{one}/" in p},
                         f".sit/records/{split_path(one)}": b"a file"}, {one}),
        "other-file": ({".sit/records/README": b"changed"}, set()),
        "mode-only": ({}, set()),  # of records/README: the same blob
        "no-records": ({p: None for p in files if p.startswith(".sit/records/")},
                       {rid for rids in ids.values() for rid in rids}),
    }[case]
    second = commit_files(repo, changes, ref="other", parents=[first])
    if case == "mode-only":
        second = _with_mode(repo, first, ".sit/records/README")
    old, new = _records(repo, first), _records(repo, second)
    view = GitRepo(repo).view()
    names = view.differing_names(old, new, is_id, 100)
    assert names is not None and sorted(names) == sorted(expected)
    assert {name_hash(bucket(name)) for name in names} == changed_buckets(view, old, new, 100)
    assert sorted(view.differing_names(new, old, is_id, 100) or []) == sorted(expected)
    if expected:
        assert view.differing_names(old, new, is_id, len(expected) - 1) is None


# --- anchors: which items keep a known state key ---

def _dirs(key: str) -> list[tuple[str, Node]]:
    return [("items", Node("x", Kind.TREE, None, key))]


KEY_A, KEY_B, KEY_C = b"a" * 20, b"b" * 20, b"c" * 20


@pytest.mark.parametrize(("dirs", "changed", "since", "expected"), [
    ("k1", {99}, {98}, ("keep", KEY_A)),     # as on the anchor
    ("k1", {11}, {98}, ("pending", None)),   # one of its records differs from the anchor's
    ("k2", {99}, {98}, ("other", KEY_B)),    # as on the ref read before
    ("k2", {21}, {98}, ("pending", None)),   # ... but a record differs from the anchor's here
    ("k2", {99}, {22}, ("pending", None)),   # ... or differed there
    ("k3", {99}, {98}, ("pending", None)),   # content never seen
])
def test_anchor_reuse(dirs, changed, since, expected):
    anchor = Anchor(Snapshot.of("r", [Entry("i", KEY_A, "items:k1", (11, 12))]), None)
    anchor.remember([Entry("i", KEY_B, "items:k2", (21, 22)),
                     Entry("j", KEY_C, "items:k9", None)], since)  # not canonical: not kept
    reuse = anchor.reuse({"i": _dirs(dirs), "j": _dirs("k9")}, changed)
    found = ("keep", reuse.keep.get("i")) if "i" in reuse.keep else (
        ("other", reuse.others["i"].key) if "i" in reuse.others else ("pending", None))
    assert found == expected
    assert "j" in reuse.pending


# --- many refs against the oracle ---

@dataclass
class CountingReducers:
    """The native reducers, counting which item each reduction was for."""

    calls: list[str]
    fingerprint: str = NativeReducers.fingerprint

    def reduce(self, records, initial: State) -> State:
        self.calls.append(initial["id"])
        return NativeReducers().reduce(records, initial)


ITEMS = [f"{n:02}000000-0000-4000-8000-000000000000" for n in range(12)]


def _history(repo: pygit2.Repository) -> None:
    """Branches that differ from main in one item each."""
    base = {item: [rec(n, "SummaryChanged")] for n, item in enumerate(ITEMS)}
    closed = {ITEMS[1]: [*base[ITEMS[1]], rec(41, "Closed", prev=base[ITEMS[1]][0])]}
    files, _ = sit_tree_files(base)
    main = commit_files(repo, files, ref="main")
    commit_files(repo, sit_tree_files(closed)[0], ref="a-closes-1", parents=[main])
    other = {ITEMS[2]: [*base[ITEMS[2]], rec(42, prev=base[ITEMS[2]][0])]}
    commit_files(repo, sit_tree_files(other)[0], ref="b-comments-2", parents=[main])
    # The same item directory as on a-closes-1, but the Closed record is missing: a link
    # that resolves to nothing here.
    dangling, dangling_ids = sit_tree_files(closed)
    missing = f".sit/records/{split_path(dangling_ids[ITEMS[1]][1])}/"
    commit_files(repo, {p: d for p, d in dangling.items() if not p.startswith(missing)},
                 ref="c-dangling-1", parents=[main])
    gone: Any = {p: None for p in files if f"/{ITEMS[11]}/" in p}  # None removes a path
    commit_files(repo, gone, ref="d-without-11", parents=[main])
    repo.set_head("refs/heads/main")


def _oracle(reader: RefReader) -> dict[str, dict[str, State | None]]:
    stores = reader.ref_stores(reader.refs([RefKind.BRANCH]))
    result: dict[str, dict[str, State | None]] = {}
    for rs in stores:
        assert rs.store is not None
        for item in rs.store.item_ids():
            result.setdefault(item, {})[rs.name] = rs.store.reduce_uncached(item)
    return {item: {rs.name: per_ref.get(rs.name) for rs in stores}
            for item, per_ref in sorted(result.items())}


@pytest.mark.parametrize("cache", [True, False])
def test_many_refs_agree_with_reducing_each_item_on_its_own(repo, cache):
    _history(repo)
    assert repo.workdir is not None
    calls: list[str] = []
    reader = RefReader(GitRepo(repo), repo.workdir, Options(cache=cache), CountingReducers(calls))
    expected = _oracle(reader)
    assert expected[ITEMS[1]]["refs/heads/a-closes-1"]["state"] == "closed"
    assert expected[ITEMS[1]]["refs/heads/c-dangling-1"]["state"] == "open"
    assert expected[ITEMS[11]]["refs/heads/d-without-11"] is None
    for run in range(2):
        calls.clear()
        stores = reader.ref_stores(reader.refs([RefKind.BRANCH]))
        found = dict(ref_states(stores, lambda state: state, reader.options.warn))
        assert found == expected
        # Each distinct content once: the twelve items, and item 1 closed and item 2
        # commented on their branches (item 1 on c-dangling-1 has main's records only).
        # Warm, the refs' snapshots and the cache leave nothing to reduce.
        distinct = sorted([*ITEMS, ITEMS[1], ITEMS[2]])
        assert sorted(calls) == ([] if cache and run else distinct)


def test_status_after_items_starts_from_its_snapshot(repo):
    _history(repo)
    assert repo.workdir is not None
    calls: list[str] = []
    reader = RefReader(GitRepo(repo), repo.workdir, Options(), CountingReducers(calls))
    expected = _oracle(reader)
    calls.clear()
    main = reader.rev_store("main")
    assert main is not None
    assert len(list(main.states())) == 12  # records main's complete snapshot in the cache
    assert main.cache is not None
    main.cache.flush()  # as at the end of a command
    assert len(calls) == 12
    calls.clear()
    stores = reader.ref_stores(reader.refs([RefKind.BRANCH]))
    found = dict(ref_states(stores, lambda state: state, reader.options.warn))
    assert found == expected
    assert sorted(calls) == sorted([ITEMS[1], ITEMS[2]])  # only what differs from main


# --- refs compared and read by forked workers ---

def _more_history(repo: pygit2.Repository) -> None:
    """``_history``, plus a ref with a record that does not match its ID and one far from main."""
    _history(repo)
    base = {item: [rec(n, "SummaryChanged")] for n, item in enumerate(ITEMS)}
    main = repo.revparse_single("main").id
    files, ids = sit_tree_files({ITEMS[3]: [*base[ITEMS[3]], rec(43, prev=base[ITEMS[3]][0])]})
    tampered = {path: (b"not what was recorded" if path.endswith("/text") and ids[ITEMS[3]][1] in path else data)
                for path, data in files.items()}
    commit_files(repo, tampered, ref="e-tampered-3", parents=[main])
    far = {item: [*base[item], rec(50 + n, prev=base[item][0])] for n, item in enumerate(ITEMS[:10])}
    commit_files(repo, sit_tree_files(far)[0], ref="f-far-from-main", parents=[main])
    repo.set_head("refs/heads/main")


def _read_all_refs(reader: RefReader) -> tuple[dict[str, dict[str, State | None]], list[str]]:
    warnings: list[str] = []
    stores = reader.ref_stores(reader.refs([RefKind.BRANCH]))
    return dict(ref_states(stores, lambda state: state, warnings.append)), warnings


@pytest.mark.parametrize("cache", [True, False])
def test_refs_fanned_out_to_workers_read_as_one_by_one(repo, monkeypatch, cache):
    _more_history(repo)
    assert repo.workdir is not None
    monkeypatch.setenv("GIT_SIT_JOBS", "2")
    one_by_one = RefReader(GitRepo(repo), repo.workdir, Options(cache=False))
    expected = _oracle(one_by_one)
    monkeypatch.setattr(crossref, "FAN_OUT_ITEMS", 10**9)  # never: every ref in this process
    sequential, sequential_warnings = _read_all_refs(one_by_one)
    assert sequential == expected
    assert any("does not match its ID" in message for message in sequential_warnings)
    fanned: list[int] = []

    def spy(work, blocks, jobs, *args):
        fanned.append(len(blocks))
        return parallel.ordered_map(work, blocks, jobs, *args)

    monkeypatch.setattr(crossref, "FAN_OUT_ITEMS", 1)
    monkeypatch.setattr(crossref, "ordered_map", spy)
    reader = RefReader(GitRepo(repo), repo.workdir, Options(cache=cache))
    found, warnings = _read_all_refs(reader)
    # Every ref after the first (the anchor) in one batch; the far one is read here.
    assert fanned == [len(sequential[ITEMS[0]]) - 1]
    assert found == expected
    assert warnings == sequential_warnings
    if cache:  # each ref's snapshot is recorded, as one by one: a read of it is warm and the same
        for rs in reader.ref_stores(reader.refs([RefKind.BRANCH])):
            assert rs.store is not None and rs.store.cache is not None
            key = snapshot_key(revision_settings(rs.store), rs.store.layout.root.key)
            assert rs.store.cache.has_snapshot(key), rs.name
            assert {s["id"]: s for s in rs.store.states()} == {
                item: per_ref[rs.name] for item, per_ref in expected.items() if per_ref[rs.name] is not None}


# --- the fan-out at its real size, through the CLI ---

SYMLINK_WARNING = "warning: reducer reducers/only.js is a symlink, which git-sit does not follow; not run."


def _large_history(repo: pygit2.Repository) -> list[str]:
    """main with FAN_OUT_ITEMS + 50 items and a reducer that is a symlink; three branches off it.

    Each branch changes one item; p2's new record does not match its ID (an item's own warning).
    """
    items = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(crossref.FAN_OUT_ITEMS + 50)]
    base = {item: [rec(n, "SummaryChanged")] for n, item in enumerate(items)}
    files, _ = sit_tree_files(base)
    index = pygit2.Index()
    for path, data in files.items():
        index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
    # The reducers directory's only reducer is a symlink: a warning about the whole repository.
    index.add(pygit2.IndexEntry(".sit/reducers/only.js", repo.create_blob(b"/nowhere/only.js"),
                                pygit2.enums.FileMode.LINK))
    sig = pygit2.Signature("Test Author", "author@example.com", 1767323045, 0)
    main = repo.create_commit("refs/heads/main", sig, sig, "many", index.write_tree(repo), [])
    for n, name in enumerate(["p1", "p2", "p3"]):
        item = items[100 * n]
        changed, ids = sit_tree_files({item: [*base[item], rec(60 + n, "Closed", prev=base[item][0])]})
        if name == "p2":
            changed = {p: (b"tampered" if p.endswith("/text") and ids[item][1] in p else d)
                       for p, d in changed.items()}
        commit_files(repo, changed, ref=name, parents=[main])
    repo.set_head("refs/heads/main")
    return items


def test_status_fanned_out_at_full_size_warns_once_and_reads_as_one_worker(repo, monkeypatch):
    items = _large_history(repo)
    assert repo.workdir is not None
    workdir = repo.workdir
    # In this process first: the three branches really go to forked workers, in one batch.
    fanned: list[int] = []

    def spy(work, blocks, jobs, *args):
        fanned.append(len(blocks))
        return parallel.ordered_map(work, blocks, jobs, *args)

    monkeypatch.setattr(crossref, "ordered_map", spy)
    monkeypatch.setenv("GIT_SIT_JOBS", "2")
    found, warnings = _read_all_refs(RefReader(GitRepo(repo), workdir, Options(cache=False)))
    assert fanned == [3]
    assert found[items[0]]["refs/heads/p1"]["state"] == "closed"
    assert found[items[100]]["refs/heads/p2"]["state"] == "open"  # its Closed record is skipped
    monkeypatch.setenv("GIT_SIT_JOBS", "1")  # one worker: never fanned out
    fanned.clear()
    assert _read_all_refs(RefReader(GitRepo(repo), workdir, Options(cache=False))) == (found, warnings)
    assert fanned == []
    # Then through the CLI: fanned out (cold, warm, without the cache) as with one worker.
    tampered = [line for line in warnings if "does not match its ID" in line]
    assert len(tampered) == 1
    one = sit(workdir, "--no-cache", "status", "--json", env={"GIT_SIT_JOBS": "1"})
    assert one.code == 0
    assert one.err.splitlines() == [SYMLINK_WARNING, f"warning: {tampered[0]}"]
    assert json.loads(one.out)["refs"]["refs/heads/p1"]["closed"] == 1
    for cache in (("--no-cache",), (), ()):  # without the cache, then cold and warm
        run = sit(workdir, *cache, "status", "--json", env={"GIT_SIT_JOBS": "2"})
        assert (run.code, run.out, run.err) == (one.code, one.out, one.err), cache
