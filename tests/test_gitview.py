"""GitView lookups: the same answers as pygit2's path lookup, without keeping the path alive."""

from __future__ import annotations

import sys

import pygit2
import pytest

from git_sit.record import split_path
from git_sit.storage import gitview
from git_sit.storage.gitview import GitView, node_of
from tests.helpers import commit_files

RID = "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"


@pytest.fixture
def tree(repo: pygit2.Repository) -> pygit2.Tree:
    files = {f".sit/records/{split_path(RID)}/text": b"x", ".sit/config.json": b"{}"}
    files.update({f"wide/{n:03d}": b"" for n in range(40)})
    files["wide/long-name-that-is-not-shared-at-all"] = b"y"
    return repo[commit_files(repo, files)].peel(pygit2.Tree)


@pytest.mark.parametrize("path", [
    f".sit/records/{split_path(RID)}", f".sit/records/{split_path(RID)}/text", ".sit/config.json",
    ".sit/records/7T", "wide/long-name-that-is-not-shared-at-all", "wide/007",
    f".sit/records/{split_path(RID)}X", ".sit/config.json/below", "missing", "wide/nope-not-there-either",
])
def test_lookup_agrees_with_pygit2(tree: pygit2.Tree, path: str):
    view = GitView()
    got = view.lookup(node_of(tree, ""), path)
    try:
        expected = tree[path]
    except KeyError:
        expected = None
    assert (got.key if got else None) == (str(expected.id) if expected is not None else None)


def test_lookup_does_not_keep_a_records_path_alive(tree: pygit2.Tree):
    view = GitView()
    path = "".join([".sit/records/", split_path(RID)])  # a new string object
    before = sys.getrefcount(path)
    for _ in range(10):
        assert view.lookup(node_of(tree, ""), path) is not None
    assert sys.getrefcount(path) == before


@pytest.mark.parametrize("with_repo", [True, False])
def test_children_of_wide_trees(repo: pygit2.Repository, tree: pygit2.Tree, with_repo: bool,
                                monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gitview, "WIDE", 10)  # wide/ has 41 entries
    view = GitView(repo if with_repo else None)
    root = node_of(tree, "")
    wide, sit = view.lookup(root, "wide"), view.lookup(root, ".sit")
    assert wide is not None and sit is not None
    children = view.children(wide)
    assert [c.name for c in children] == [e.name for e in tree["wide"].peel(pygit2.Tree)]
    # Without a repository there is nothing to look an object up in, so nodes keep theirs.
    assert all((c.handle is None) == with_repo for c in children)
    by_name = {c.name: c for c in children}
    assert view.read(by_name["long-name-that-is-not-shared-at-all"]) == b"y"
    assert view.children(sit)[0].handle is not None  # a narrow tree
