"""Listing refs with their root trees: branches, (annotated, nested) tags, remotes, HEAD."""

from __future__ import annotations

import pygit2

from git_sit.storage import GitRepo, RefKind, current_branch, list_refs
from tests.helpers import commit_files, git

ALL = (RefKind.BRANCH, RefKind.REMOTE, RefKind.TAG)


def _build(repo: pygit2.Repository) -> tuple[pygit2.Oid, pygit2.Oid]:
    first = commit_files(repo, {"a": b"1"}, ref="main")
    second = commit_files(repo, {"a": b"2"}, ref="main")
    repo.create_branch("release", repo[first].peel(pygit2.Commit))
    workdir = repo.workdir
    git(workdir, "tag", "light", str(first))
    git(workdir, "tag", "-a", "-m", "annotated", "v1", str(first))
    git(workdir, "tag", "-a", "-m", "nested", "v1-again", "v1")
    git(workdir, "tag", "tree-tag", f"{second}^{{tree}}")
    blob = git(workdir, "hash-object", "-w", "--stdin", input="data").strip()
    git(workdir, "tag", "-a", "-m", "a blob", "blob-tag", blob)
    git(workdir, "update-ref", "refs/remotes/origin/main", str(second))
    git(workdir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    return first, second


def test_list_refs_peels_tags_and_skips_blobs_and_symbolic_refs(repo):
    first, second = _build(repo)
    warnings: list[str] = []
    refs = list_refs(GitRepo(repo), ALL, warnings.append)
    found = {ref.name: (ref.kind, ref.target) for ref in refs}
    tree = str(repo[second].peel(pygit2.Tree).id)
    assert found == {
        "refs/heads/main": (RefKind.BRANCH, str(second)),
        "refs/heads/release": (RefKind.BRANCH, str(first)),
        "refs/remotes/origin/main": (RefKind.REMOTE, str(second)),
        "refs/tags/light": (RefKind.TAG, str(first)),
        "refs/tags/tree-tag": (RefKind.TAG, tree),
        "refs/tags/v1": (RefKind.TAG, str(first)),
        "refs/tags/v1-again": (RefKind.TAG, str(first)),
    }
    assert [ref.name for ref in refs][:3] == [
        "refs/heads/main", "refs/heads/release", "refs/remotes/origin/main",
    ]
    assert warnings == ["ref refs/tags/blob-tag skipped: it points at neither a commit nor a tree."]
    by_name = {ref.name: ref for ref in refs}
    assert by_name["refs/tags/v1"].root.key == str(repo[first].peel(pygit2.Tree).id)
    assert by_name["refs/tags/tree-tag"].root.key == tree


def test_list_refs_only_the_kinds_asked_for_in_that_order(repo):
    _build(repo)
    refs = list_refs(GitRepo(repo), (RefKind.TAG, RefKind.BRANCH), lambda _: None)
    assert [ref.kind for ref in refs] == [RefKind.TAG] * 4 + [RefKind.BRANCH] * 2


def test_list_refs_peels_and_warns_about_wanted_refs_only(repo):
    _build(repo)
    warnings: list[str] = []
    refs = list_refs(GitRepo(repo), ALL, warnings.append, lambda name: not name.startswith("refs/tags/"))
    assert [ref.name for ref in refs] == [
        "refs/heads/main", "refs/heads/release", "refs/remotes/origin/main"]
    assert warnings == []
    list_refs(GitRepo(repo), ALL, warnings.append, lambda name: name.endswith("blob-tag"))
    assert warnings == ["ref refs/tags/blob-tag skipped: it points at neither a commit nor a tree."]


def test_current_branch(repo):
    assert current_branch(GitRepo(repo)) == "refs/heads/main"  # unborn, still the branch
    first, _ = _build(repo)
    assert current_branch(GitRepo(repo)) == "refs/heads/main"
    repo.set_head("refs/heads/release")
    assert current_branch(GitRepo(repo)) == "refs/heads/release"
    repo.set_head(first)
    assert current_branch(GitRepo(repo)) is None


def test_bare_repository(repo, tmp_path):
    _build(repo)
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", repo.workdir, str(bare))
    opened = GitRepo.discover(str(bare))
    names = [ref.name for ref in list_refs(opened, ALL, lambda _: None)]
    assert "refs/heads/release" in names and "refs/tags/v1" in names
    assert current_branch(opened) == "refs/heads/main"
