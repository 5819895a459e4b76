"""Revision snapshots (pure parts and the records/ diff) and the ordered worker pool."""

from __future__ import annotations

import os
import signal

import pytest

from git_sit.errors import SitError, UnknownItem
from git_sit.layout import Layout
from git_sit.parallel import ordered_map
from git_sit.record import compute_id, split_path
from git_sit.snapshot import (
    Builder,
    Entry,
    Snapshot,
    _differing,
    bucket,
    changed_buckets,
    decode,
    dirs_signature,
    encode,
    encode_delta,
    name_hash,
    reusable,
)
from git_sit.storage import GitRepo
from git_sit.view import Kind, Node
from tests.helpers import commit_files, record_files, sit_tree_files


def entry(item: str, key: bytes | None = b"k" * 20, dirs: str = "items:1", links=(1, 2)) -> Entry:
    return Entry(item, key, dirs, links)


def test_full_and_delta_round_trip():
    base = Snapshot.of("r1", [entry(f"i{n:02}") for n in range(20)])
    assert decode(encode(base), None) == base
    changed = [entry("i03", b"x" * 20), entry("j", None, links=None)]
    data = encode_delta("r2", changed, ["i05"])
    expected = {e.item_id: e for e in base.entries()}
    del expected["i05"]
    expected.update((e.item_id, e) for e in changed)
    assert decode(data, base) == Snapshot.of("r2", [expected[i] for i in sorted(expected)])
    with pytest.raises(ValueError):
        decode(data, None)


@pytest.mark.parametrize("count", [0, 1, 3, 4, 7, 9])
def test_builder_stores_what_encode_stores(count, monkeypatch):
    monkeypatch.setattr(Builder, "CHUNK", 3)  # chunk boundaries at every place
    entries = [entry(f"i{n}", bytes([n]) * 20 if n % 3 else None, f"items:{n}", (n, n + 1) if n % 2 else None)
               for n in range(count)]
    builder = Builder("r")
    for item in entries:
        builder.add(item)
    assert builder.encode() == encode(Snapshot.of("r", entries))
    assert decode(builder.encode(), None) == Snapshot.of("r", entries)


def test_round_trip_of_odd_names_and_empty_snapshots():
    odd = Snapshot.of("r", [entry("a\nb"), entry("caf\udce9", None, "", None), entry("z", links=())])
    assert decode(encode(odd), None) == odd
    for entries in ([], [entry("", None, "", ())]):  # nothing, and one item of empty values
        snapshot = Snapshot.of("r", entries)
        assert decode(encode(snapshot), None) == snapshot


_GOOD = encode(Snapshot.of("r1", [entry("a"), entry("b")]))


@pytest.mark.parametrize("data", [
    b"{}", b"[]", b"not json", b'{"records": "r"}\n', b'{"records": "r", "count": 1, "columns": [1, 1, 1]}\na\nb\nc',
    b'{"records": "r", "items": ["a"], "keys": [], "dirs": [], "links": []}',  # an older format
    _GOOD[:-3],  # truncated
    _GOOD + b"x",  # longer than its columns
    _GOOD.replace(b"\0", b"", 1),  # one column with a value fewer
], ids=range(9))
def test_malformed_snapshots_are_errors(data):
    with pytest.raises((ValueError, KeyError, TypeError, AttributeError)):
        decode(data, None)


def _dirs(key: str) -> list[tuple[str, Node]]:
    return [("items", Node("x", Kind.TREE, None, key))]


@pytest.mark.parametrize("case, kept", [
    ("same", True),
    ("other-dirs", False),
    ("changed-record", False),
    ("no-key", False),
    ("not-canonical", False),
    ("new-item", False),
])
def test_reusable(case, kept):
    base = Snapshot.of("r", [entry("a", dirs="items:k1", links=(11, 12))])
    dirs = _dirs("k2" if case == "other-dirs" else "k1")
    changed = {12} if case == "changed-record" else {99}
    if case == "no-key":
        base = Snapshot.of("r", [entry("a", None, dirs="items:k1")])
    if case == "not-canonical":
        base = Snapshot.of("r", [entry("a", dirs="items:k1", links=None)])
    items = {"b" if case == "new-item" else "a": dirs}
    keep, pending = reusable(base, items, changed)
    assert (bool(keep), bool(pending)) == (kept, not kept)
    assert dirs_signature(dirs) == "items:k2" if case == "other-dirs" else "items:k1"


def test_reusable_checks_every_directory_and_only_the_items_a_changed_bucket_touches():
    both = "items:k1 issues:k3"
    base = Snapshot.of("r", [entry("a", dirs=both, links=(11,)), entry("b", dirs="items:k2", links=(12, 13)),
                             entry("c", dirs=both, links=(14,))])
    items = {
        "a": [("items", Node("a", Kind.TREE, None, "k1")), ("issues", Node("a", Kind.TREE, None, "k3"))],
        "b": _dirs("k2"),
        "c": [("items", Node("c", Kind.TREE, None, "k1")), ("issues", Node("c", Kind.TREE, None, "k4"))],
    }
    keep, pending = reusable(base, items, {13, 99})
    assert (sorted(keep), pending) == (["a"], ["b", "c"])  # b: bucket 13 changed; c: issues/c differs
    keep, pending = reusable(base, items, set())
    assert (sorted(keep), pending) == (["a", "b"], ["c"])


def test_changed_buckets_finds_added_removed_and_modified(repo):
    def rec(n: int) -> dict[str, bytes]:
        return record_files(["Commented"], f"text {n}")

    files, ids = sit_tree_files({f"item{n}": [rec(n)] for n in range(6)})
    first = commit_files(repo, files, ref="main")
    added = sit_tree_files({"new": [rec(100)]})[0]
    removed = ids["item1"][0]
    gone = {path: None for path in files if f"/{removed}/" in path}
    modified = ids["item2"][0]
    tampered = {f".sit/records/{split_path(modified)}/text": b"changed"}
    second = commit_files(repo, {**added, **gone, **tampered}, ref="other", parents=[first])
    git_repo = GitRepo(repo)
    view = git_repo.view()
    nodes = [Layout(view, view.lookup(git_repo.root_tree(str(c)), ".sit")).lookup_parts(["records"])
             for c in (first, second)]
    found = changed_buckets(view, nodes[0], nodes[1], 100)
    new_id = compute_id(rec(100).items())
    assert bucket(new_id) == "/".join(split_path(new_id).split("/")[:3])
    assert found == {name_hash(bucket(new_id)), name_hash(bucket(removed)), name_hash(bucket(modified))}
    assert changed_buckets(view, nodes[0], nodes[0], 100) == set()
    assert changed_buckets(view, nodes[0], nodes[1], 2) is None
    every = {name_hash(bucket(record)) for records in ids.values() for record in records}
    assert changed_buckets(view, None, nodes[1], 100) == every - {name_hash(bucket(removed))} | {
        name_hash(bucket(new_id))}


def test_ordered_map_keeps_order_across_workers():
    blocks = [list(range(n, n + 3)) for n in range(0, 60, 3)]
    results = list(ordered_map(lambda block: [x * 2 for x in block], blocks, 3))
    assert results == [[x * 2 for x in block] for block in blocks]


def test_ordered_map_raises_at_the_failing_block():
    def work(block: list[int]) -> list[int]:
        if block[0] == 9:
            raise UnknownItem("no item 9")
        return block

    seen = []
    with pytest.raises(UnknownItem, match="no item 9"):
        for block in ordered_map(work, [[n] for n in range(20)], 2):
            seen.append(block[0])
    assert seen == list(range(9))


def test_ordered_map_stops_its_workers_when_abandoned():
    pids: list[int] = []

    def work(block: list[int]) -> int:
        return os.getpid()

    results = ordered_map(work, [[n] for n in range(1000)], 2)
    pids.append(next(results))
    pids.append(next(results))
    results.close()
    for pid in set(pids):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _kill_self_at(number: int, signum: int):
    def work(block: list[int]) -> list[int]:
        if block[0] == number:
            os.kill(os.getpid(), signum)
        return block

    return work


def test_a_worker_stopped_by_a_signal_is_a_one_line_error():
    with pytest.raises(SitError, match=r"^a worker process was stopped by SIGKILL\.$"):
        list(ordered_map(_kill_self_at(5, signal.SIGKILL), [[n] for n in range(20)], 2))


@pytest.mark.parametrize("ignored", [True, False])
def test_workers_ignore_sigint_when_the_parent_does(ignored):
    # A background job or nohup ignores SIGINT: its workers must not die of it either.
    before = signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.default_int_handler)
    try:
        run = ordered_map(_kill_self_at(5, signal.SIGINT), [[n] for n in range(20)], 2)
        if ignored:
            assert list(run) == [[n] for n in range(20)]
        else:
            with pytest.raises(SitError, match="stopped by SIGINT"):
                list(run)
    finally:
        signal.signal(signal.SIGINT, before)


class _PlainView:
    """A view with only the protocol's methods (no fast comparison)."""

    def __init__(self, view):
        self.view = view

    def children(self, node):
        return self.view.children(node)

    def lookup(self, node, path):
        return self.view.lookup(node, path)

    def read(self, node):
        return self.view.read(node)


def _tree(repo, entries):
    builder = repo.TreeBuilder()
    for name, oid, mode in entries:
        builder.insert(name, oid, mode)
    return builder.write()


def _pairs(pairs):
    return sorted((name, x.key if x else None, y.key if y else None) for name, x, y in pairs)


def test_the_fast_comparison_finds_what_comparing_children_finds(repo):
    import pygit2

    blob, other = repo.create_blob(b"x"), repo.create_blob(b"y")
    ids = [compute_id([("n", bytes([n]))]) for n in range(6)]
    rec = [_tree(repo, [("text", blob if n % 2 else other, pygit2.GIT_FILEMODE_BLOB)]) for n in range(6)]
    tree_mode, blob_mode, exe = pygit2.GIT_FILEMODE_TREE, pygit2.GIT_FILEMODE_BLOB, pygit2.GIT_FILEMODE_BLOB_EXECUTABLE
    old_inner = _tree(repo, [(ids[0], rec[0], tree_mode), (ids[1], rec[1], tree_mode), (ids[2], blob, blob_mode),
                             (ids[4], rec[4], tree_mode)])
    new_inner = _tree(repo, [(ids[0], rec[0], tree_mode), (ids[1], rec[2], tree_mode), (ids[2], blob, exe),
                             (ids[3], rec[3], tree_mode), (ids[4], blob, blob_mode)])
    old = _tree(repo, [("AB", old_inner, tree_mode), ("CD", old_inner, tree_mode), ("x", blob, blob_mode)])
    added = _tree(repo, [(ids[5], rec[5], tree_mode)])
    new = _tree(repo, [("AB", new_inner, tree_mode), ("CD", old_inner, tree_mode), ("EF", added, tree_mode),
                       ("x", other, blob_mode)])
    view = GitRepo(repo).view()
    nodes = [view.node_by_key(str(oid)) for oid in (old, new)]
    for a, b in [(nodes[0], nodes[1]), (nodes[1], nodes[0]), (None, nodes[1]), (nodes[0], None),
                 (nodes[0], nodes[0])]:
        assert _pairs(view.differing_entries(a, b)) == _pairs(_differing(view, a, b))
        assert changed_buckets(view, a, b, 100) == changed_buckets(_PlainView(view), a, b, 100)
    # AB/ids[1] modified, AB/ids[3] added, AB/ids[4] turned into a file, EF added, x changed;
    # AB/ids[2] only changed its mode, CD is the same
    assert [name for name, _, _ in view.differing_entries(*nodes)] == ["AB", "EF", "x"]
    inner = [view.lookup(node, "AB") for node in nodes]
    assert [name for name, _, _ in view.differing_entries(*inner)] == sorted([ids[1], ids[3], ids[4]])
    assert changed_buckets(view, nodes[0], nodes[1], 100) == {
        name_hash(f"AB/{ids[n]}/text") for n in (1, 3, 4)} | {name_hash(f"EF/{ids[5]}/text")}


def test_the_fast_comparison_handles_names_that_are_not_utf8(repo):
    import subprocess

    blob, other = repo.create_blob(b"x"), repo.create_blob(b"y")

    def mktree(entries: list[tuple[bytes, object]]) -> str:
        lines = b"".join(b"100644 blob %s\t%s\n" % (str(oid).encode(), name) for name, oid in entries)
        return subprocess.run(["git", "mktree"], cwd=repo.workdir, input=lines, capture_output=True,
                              check=True).stdout.decode().strip()

    inner = [compute_id([("n", b"1")]).encode(), compute_id([("n", b"2")]).encode()]
    old = mktree([(b"\xff\xfe", blob), (inner[0], blob), (inner[1], blob)])
    new = mktree([(b"\xff\xfe", other), (inner[0], other), (inner[1], blob)])
    view = GitRepo(repo).view()
    a, b = view.node_by_key(old), view.node_by_key(new)
    pairs = view.differing_entries(a, b)
    assert [name for name, _, _ in pairs] == sorted([inner[0].decode(), "\udcff\udcfe"])
    assert all(x is not None and y is not None and x.key != y.key for _, x, y in pairs)
    assert _pairs(pairs) == _pairs(_differing(view, a, b))
