"""Listing a repository's refs with their root trees, for reading every branch and tag at once.

Local branches, tags and remote-tracking branches are listed by full ref name.
Annotated (and nested) tags are peeled to the commit or tree they name; a tag of
a blob, or a ref whose object is missing, cannot hold a SIT repository and is
skipped with a warning. Symbolic refs (``refs/remotes/origin/HEAD``) are skipped:
their target is listed on its own. Where HEAD is (a branch, or detached at a commit
checked out from some ref) decides which ref is marked current. Nothing is checked out; bare repositories work
the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass

import pygit2

from git_sit.errors import SitError
from git_sit.storage.gitview import node_of
from git_sit.storage.repo import GitRepo
from git_sit.view import Node


class RefKind(enum.Enum):
    """Which namespace a ref lives in."""

    BRANCH = "refs/heads/"
    TAG = "refs/tags/"
    REMOTE = "refs/remotes/"


@dataclass(frozen=True, slots=True)
class GitRef:
    """One ref: its full name, its kind, the commit (or tree) it peels to and that root tree."""

    name: str
    kind: RefKind
    target: str
    root: Node


def _kind_of(name: str) -> RefKind | None:
    for kind in RefKind:
        if name.startswith(kind.value):
            return kind
    return None


def _peel(repo: pygit2.Repository, ref: pygit2.Reference) -> tuple[str, pygit2.Tree] | str:
    """The commit (or tree) ID and root tree a ref names, or why it cannot be read."""
    try:
        obj = repo[ref.target]
    except (KeyError, ValueError, pygit2.GitError):
        return f"object {ref.target} is missing"
    try:
        tree = obj.peel(pygit2.Tree)
    except (ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        return "it points at neither a commit nor a tree"
    try:
        target = str(obj.peel(pygit2.Commit).id)
    except (ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        target = str(tree.id)
    return target, tree


def all_references(repo: GitRepo) -> list[pygit2.Reference]:
    """Every ref of the repository; a packed-refs file libgit2 cannot parse is one clear error.

    A lookup by name may pass over the bad line (or be sent astray by it, in a file
    marked sorted), so a writer checks here before trusting a lookup's "no such ref".
    """
    try:
        return list(repo.repo.references.iterator())
    except pygit2.GitError as exc:  # e.g. a line in packed-refs that libgit2 cannot parse
        raise SitError(f"cannot list the refs of {repo.common_dir}: {str(exc).rstrip('.')}.") from None


def list_refs(
    repo: GitRepo, kinds: Collection[RefKind], warn: Callable[[str], None],
    wanted: Callable[[str], bool] | None = None,
) -> list[GitRef]:
    """The repository's refs of the given kinds (and ``wanted`` names), by kind (as listed) then name.

    Only those refs are peeled, so only they are warned about.
    """
    found: list[GitRef] = []
    for ref in all_references(repo):
        kind = _kind_of(ref.name)
        if kind is None or kind not in kinds or ref.type != pygit2.enums.ReferenceType.DIRECT:
            continue
        if wanted is not None and not wanted(ref.name):
            continue
        peeled = _peel(repo.repo, ref)
        if isinstance(peeled, str):
            warn(f"ref {ref.name} skipped: {peeled}.")
            continue
        target, tree = peeled
        found.append(GitRef(ref.name, kind, target, node_of(tree, "")))
    order = {kind: index for index, kind in enumerate(kinds)}
    return sorted(found, key=lambda r: (order[r.kind], r.name))


@dataclass(frozen=True, slots=True)
class DetachedHead:
    """A detached HEAD: its commit, and the ref named by the checkout that detached it, if any."""

    commit: str
    checked_out: str | None  # a full ref name, as 'git status' reads it from HEAD's reflog


def detached_head(repo: GitRepo) -> DetachedHead | None:
    """Where a detached HEAD is (``None``: HEAD is on a branch, unborn, or unreadable)."""
    try:
        head = repo.repo.references.get("HEAD")
        if head is None or head.type != pygit2.enums.ReferenceType.DIRECT:
            return None
        commit = str(head.peel(pygit2.Commit).id)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        return None
    return DetachedHead(commit, _checked_out(repo.repo, head))


def _checked_out(repo: pygit2.Repository, head: pygit2.Reference) -> str | None:
    """The full name of the ref the latest checkout in HEAD's reflog moved to, if it is one."""
    try:
        entries = head.log()  # newest first
        message = next((e.message for e in entries if e.message.startswith(_CHECKOUT)), None)
    except (KeyError, ValueError, pygit2.GitError):  # no reflog (core.logAllRefUpdates), or unreadable
        return None
    _, found, target = (message or "")[len(_CHECKOUT):].partition(" to ")
    if not found or not target.strip():
        return None
    try:
        return repo.lookup_reference_dwim(target.strip()).name
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        return None  # a commit ID, HEAD~2, a ref deleted since


_CHECKOUT = "checkout: moving from "


def current_branch(repo: GitRepo) -> str | None:
    """The full name of the branch HEAD points at (even if unborn); ``None`` when detached."""
    try:
        head = repo.repo.references.get("HEAD")
    except pygit2.GitError:  # a corrupted HEAD file: no branch to call current
        return None
    if head is None or head.type != pygit2.enums.ReferenceType.SYMBOLIC:
        return None
    target = head.target
    return target if isinstance(target, str) else None
