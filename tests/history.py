"""A history with release branches and tags for the status and diff tests.

``v0.9`` (annotated) predates the crash issue X; X is filed, then ``release-1.0``
and the annotated tag ``v1.0`` branch off; ``main`` closes X, renames B and files
Z (lightweight tag ``v1.1``); ``hotfix`` reopens X. Built in-process with pygit2;
nothing is checked out.
"""

from __future__ import annotations

from collections.abc import Sequence

import pygit2

from git_sit.record import compute_id
from tests.helpers import commit_files, record_files, sit_tree_files

X = "1a2b3c4d-0000-4000-8000-000000000001"  # crash: closed on main, reopened on hotfix
B = "1a2bffff-0000-4000-8000-000000000002"  # docs: open everywhere, renamed on main
Z = "9f000000-0000-4000-8000-000000000003"  # new on main after v1.0
AUTHOR = "Ann <ann@example.com>"


def _rec(types: list[str], text: str, ts: str, prev: Sequence[dict[str, bytes]] = ()) -> dict[str, bytes]:
    ids = [compute_id(p.items()) for p in prev]
    return record_files(types, text, authors=AUTHOR, timestamp=ts, prev=ids)


X0 = _rec(["SummaryChanged"], "Crash on empty input", "2026-01-02T00:00:00Z")
X1 = _rec(["Commented", "Closed"], "Fixed.", "2026-01-04T00:00:00Z", [X0])
X2 = _rec(["Reopened"], "Not fixed.", "2026-01-05T00:00:00Z", [X1])
B0 = _rec(["SummaryChanged"], "Document the config", "2026-01-01T00:00:00Z")
B1 = _rec(["SummaryChanged"], "Document config.json", "2026-01-03T00:00:00Z", [B0])
Z0 = _rec(["SummaryChanged"], "Add a --quiet flag", "2026-01-03T00:00:00Z")


def _commit(repo: pygit2.Repository, items: dict[str, list[dict[str, bytes]]], ref: str) -> pygit2.Oid:
    files, _ = sit_tree_files(items)
    return commit_files(repo, files, ref=ref)


def _tag(repo: pygit2.Repository, name: str, target: pygit2.Oid) -> None:
    sig = pygit2.Signature("Tagger", "tagger@example.com", 1767323045, 0)
    repo.create_tag(name, target, pygit2.enums.ObjectType.COMMIT, sig, f"Release {name}")


def build_history(repo: pygit2.Repository) -> None:
    """The history described in the module docstring, on ``repo`` (HEAD → main)."""
    c0 = _commit(repo, {B: [B0]}, "main")
    _tag(repo, "v0.9", c0)
    c1 = _commit(repo, {B: [B0], X: [X0]}, "main")
    repo.create_branch("release-1.0", repo[c1].peel(pygit2.Commit))
    _tag(repo, "v1.0", c1)
    c2 = _commit(repo, {B: [B0, B1], X: [X0, X1], Z: [Z0]}, "main")
    repo.references.create("refs/tags/v1.1", c2)
    repo.create_branch("hotfix", repo[c2].peel(pygit2.Commit))
    _commit(repo, {B: [B0, B1], X: [X0, X1, X2], Z: [Z0]}, "hotfix")
