"""GitView lookups: the same answers as pygit2's path lookup, without keeping the path alive."""

from __future__ import annotations

import sys

import pygit2
import pytest

from git_sit.record import split_path
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
