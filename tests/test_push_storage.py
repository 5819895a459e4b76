"""Storage queries for the inbox over real repositories: diffs, new commits, snapshots."""

from __future__ import annotations

import pygit2
import pytest

from git_sit.errors import NotARepository, UnknownRevision
from git_sit.inbox import MODE_EXECUTABLE, MODE_FILE, MODE_SUBMODULE, MODE_SYMLINK, MODE_TREE, Change, Entry
from git_sit.storage.push import PushRepo, open_repository

BLOB = pygit2.enums.FileMode.BLOB


def tree(repo: pygit2.Repository, files: dict[bytes, tuple[int, bytes | str]]) -> pygit2.Oid:
    builder = pygit2.Index()
    for path, (mode, data) in files.items():
        oid = pygit2.Oid(hex=data) if isinstance(data, str) else repo.create_blob(data)
        builder.add(pygit2.IndexEntry(path.decode("utf-8", "surrogateescape"), oid,
                                      pygit2.enums.FileMode(mode)))
    return builder.write_tree(repo)


def commit(repo: pygit2.Repository, files, parents=(), ref: str | None = None) -> str:
    sig = pygit2.Signature("T", "t@example.com", 1767323045, 0)
    return str(repo.create_commit(ref, sig, sig, "m", tree(repo, files), list(parents)))


@pytest.fixture
def bare(tmp_path) -> pygit2.Repository:
    return pygit2.init_repository(str(tmp_path / "b.git"), bare=True, initial_head="main")


def blob_id(repo, data: bytes) -> str:
    return str(repo.create_blob(data))


def test_changes_for_every_kind_of_difference(bare):
    base = {b"a/keep": (BLOB, b"same"), b"a/edit": (BLOB, b"old"), b"gone": (BLOB, b"x"),
            b"mode": (BLOB, b"m"), b"becomes-dir": (BLOB, b"d")}
    c1 = commit(bare, base)
    after = {b"a/keep": (BLOB, b"same"), b"a/edit": (BLOB, b"new"), b"mode": (MODE_EXECUTABLE, b"m"),
             b"becomes-dir/f": (BLOB, b"d"), b"link": (MODE_SYMLINK, b"a/keep"),
             b"sub": (MODE_SUBMODULE, "1" * 40), b"caf\xe9": (BLOB, b"")}
    c2 = commit(bare, after, [c1])
    empty = commit(bare, after, [c2])
    repo = PushRepo(open_repository(bare.path))
    found = repo.changes([(c2, empty), (c1, c2), (c2, c2)])
    assert found[(c2, empty)] == [] and found[(c2, c2)] == []
    contents = {"old": b"old", "new": b"new", "x": b"x", "m": b"m", "d": b"d", "l": b"a/keep", "e": b""}
    ids = {name: blob_id(bare, data) for name, data in contents.items()}
    trees = {(c, name): str(bare[c].tree[name].id) for c, name in [(c1, "a"), (c2, "a"), (c2, "becomes-dir")]}
    assert sorted(found[(c1, c2)], key=lambda c: (c.path, c.old is None)) == sorted([
        Change("a", Entry(MODE_TREE, trees[c1, "a"]), Entry(MODE_TREE, trees[c2, "a"])),  # directories too
        Change("becomes-dir", None, Entry(MODE_TREE, trees[c2, "becomes-dir"])),
        Change("a/edit", Entry(MODE_FILE, ids["old"]), Entry(MODE_FILE, ids["new"])),
        Change("becomes-dir", Entry(MODE_FILE, ids["d"]), None),
        Change("becomes-dir/f", None, Entry(MODE_FILE, ids["d"])),
        Change("caf\udce9", None, Entry(MODE_FILE, ids["e"])),
        Change("gone", Entry(MODE_FILE, ids["x"]), None),
        Change("link", None, Entry(MODE_SYMLINK, ids["l"])),
        Change("mode", Entry(MODE_FILE, ids["m"]), Entry(MODE_EXECUTABLE, ids["m"])),
        Change("sub", None, Entry(MODE_SUBMODULE, "1" * 40)),
    ], key=lambda c: (c.path, c.old is None))


def test_new_commits_ancestry_and_refs(bare):
    root = commit(bare, {b"f": (BLOB, b"1")}, ref="refs/heads/main")
    mid = commit(bare, {b"f": (BLOB, b"2")}, [root])
    side = commit(bare, {b"f": (BLOB, b"3")}, [root])
    merge = commit(bare, {b"f": (BLOB, b"4")}, [mid, side])
    bare.references.create("refs/tags/t", pygit2.Oid(hex=side))
    repo = PushRepo(open_repository(bare.path))
    assert repo.ref_tips() == sorted([root, side])
    assert repo.new_commits(merge, repo.ref_tips()) == [mid, merge]
    assert repo.new_commits(merge, [root])[-1] == merge and len(repo.new_commits(merge, [root])) == 3
    assert repo.is_ancestor(root, merge) and repo.is_ancestor(merge, merge)
    assert not repo.is_ancestor(side, mid)
    assert repo.parents(merge) == [mid, side]
    assert repo.kind(merge) == "commit" and repo.kind("f" * 40) is None
    assert repo.resolve("main") == root
    with pytest.raises(UnknownRevision):
        repo.resolve("nope")


def test_snapshot(bare):
    c = commit(bare, {b"d/a": (BLOB, b"hello"), b"d/e/b": (MODE_EXECUTABLE, b"x")})
    snap = PushRepo(open_repository(bare.path)).snapshot(c)
    a = snap.entry("d/a")
    assert a == Entry(MODE_FILE, blob_id(bare, b"hello"))
    assert snap.read(a) == b"hello" and snap.size(a) == 5
    d = snap.entry("d")
    assert d is not None and d.mode == MODE_TREE
    assert snap.entry("d/missing") is None and snap.entry("caf\udce9") is None
    assert snap.files("d") == [("a", a), ("e/b", Entry(MODE_EXECUTABLE, blob_id(bare, b"x")))]


def test_open_repository_needs_a_repository(tmp_path):
    with pytest.raises(NotARepository):
        open_repository(str(tmp_path))
