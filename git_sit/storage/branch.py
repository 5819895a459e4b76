"""Committing new files onto a branch without a work tree or index (``--on BRANCH``).

The new tree is the branch's tree plus the given files; only the trees along the
new paths are rebuilt, so the work is proportional to what is added. An existing
path must already hold the same bytes (a record with the same ID is the same
record) or the commit is refused. The branch moves with a compare-and-swap: if
someone else moved it since we read it, nothing is lost and the write fails.
Works in bare repositories; refuses a branch checked out in any work tree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pygit2

from git_sit.errors import SitError, WriteError
from git_sit.storage.refs import all_references
from git_sit.storage.repo import GitRepo

HEADS = "refs/heads/"
Nested = dict[str, Any]


def branch_ref_name(branch: str) -> str:
    """``main`` or ``refs/heads/main`` → ``refs/heads/main``; anything else is refused."""
    name = branch if branch.startswith(HEADS) else HEADS + branch
    if branch in ("", "HEAD") or not pygit2.reference_is_valid_name(name):
        raise SitError(f"{branch!r} is not a branch name; --on takes a branch (refs/heads/...).")
    return name


def _remote_hint(repo: pygit2.Repository, branch: str) -> str:
    """How to get a local branch when ``branch`` names a remote-tracking one (``origin/main``)."""
    short = branch.removeprefix("refs/remotes/")
    try:
        tracking = repo.branches.remote[short]
        if tracking.type == pygit2.enums.ReferenceType.SYMBOLIC:  # origin/HEAD: the branch it names
            short = tracking.resolve().shorthand
            tracking = repo.branches.remote[short]
        remote = tracking.remote_name
    except (KeyError, ValueError, pygit2.GitError):
        return ""
    local = short[len(remote) + 1:] if short.startswith(remote + "/") else short.rpartition("/")[2]
    if local in repo.branches.local:
        return (f"; {short} is a remote-tracking branch: write on the local branch (--on {local}), "
                f"then push it")
    return (f"; {short} is a remote-tracking branch: create a local one with "
            f"'git branch {local} {short}', then use --on {local}")


class BranchMoved(WriteError):
    """The branch moved between reading it and writing to it; nothing was changed."""


class BranchWriter:
    """One branch, pinned at the commit it had when opened; ``commit`` moves it by CAS."""

    def __init__(self, git: GitRepo, branch: str) -> None:
        self.git = git
        self.name = branch_ref_name(branch)
        self.branch = self.name[len(HEADS):]
        repo = git.repo
        all_references(git)  # a corrupted packed-refs: said as such, not as "no branch" or "moved"
        try:
            self._ref = repo.references[self.name]
        except KeyError:
            hint = _remote_hint(repo, branch)
            raise SitError(f"no branch {self.branch!r} in this repository{hint}.") from None
        except pygit2.GitError as exc:  # e.g. a loose ref file that holds no object ID
            raise SitError(f"cannot read branch {self.branch!r}: {str(exc).rstrip('.')}.") from None
        if self._ref.type != pygit2.enums.ReferenceType.DIRECT:
            raise SitError(f"branch {self.branch!r} is a symbolic reference; name its target.")
        self.tip = str(self._ref.target)
        if repo.branches.local[self.branch].is_checked_out():  # in any work tree
            raise SitError(
                f"branch {self.branch!r} is checked out; write without --on (records are "
                "staged in the work tree) or name another branch."
            )
        busy = busy_with(git, self.name)
        if busy is not None:
            raise SitError(f"branch {self.branch!r} is in use by {busy}; name another branch.")

    def commit(self, files: Mapping[str, bytes], message: str) -> str:
        """Commit ``files`` (path → bytes) on top of the branch; return the new commit ID."""
        repo = self.git.repo
        parent = repo[pygit2.Oid(hex=self.tip)].peel(pygit2.Commit)
        tree = _build(repo, parent.tree, _nest(files), "")
        signature = identity(self.git)
        oid = repo.create_commit(None, signature, signature, message, tree, [parent.id])
        try:
            self._ref.set_target(oid, f"git sit: {message.splitlines()[0]}")
        except pygit2.GitError as exc:
            raise BranchMoved(
                f"branch {self.branch!r} moved while the records were written ({exc}); "
                "nothing was changed, run the command again."
            ) from None
        except OSError as exc:  # e.g. the ref is locked by another git process
            raise SitError(f"cannot update branch {self.branch!r} ({exc}); nothing was changed, "
                           "run the command again.") from None
        return str(oid)


def busy_with(git: GitRepo, ref_name: str) -> str | None:
    """What holds ``ref_name`` that libgit2's ``is_checked_out`` passes over, as git counts it.

    A linked work tree whose directory is gone (on a drive that is not mounted, say) until
    'git worktree prune', and a rebase in progress, which sets the branch when it ends.
    """
    linked = os.path.join(git.common_dir, "worktrees")
    try:
        names = sorted(os.listdir(linked))
    except OSError:
        names = []
    for admin in [git.common_dir, *(os.path.join(linked, name) for name in names)]:
        where = "the main work tree" if admin == git.common_dir else _work_tree_of(admin)
        if any(_read(os.path.join(admin, rebase, "head-name")) == ref_name
               for rebase in ("rebase-merge", "rebase-apply")):
            return f"a rebase in progress in {where}"
        if admin != git.common_dir and _read(os.path.join(admin, "HEAD")) == f"ref: {ref_name}" \
                and not os.path.exists(os.path.join(where, ".git")):
            return f"the work tree {where}, which is missing ('git worktree prune' forgets it)"
    return None


def _work_tree_of(admin: str) -> str:
    """A linked work tree's directory, from its ``gitdir`` file (the path of its ``.git``)."""
    return os.path.dirname(_read(os.path.join(admin, "gitdir")) or admin)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def identity(git: GitRepo) -> pygit2.Signature:
    """Author and committer: ``user.name``/``user.email`` from git config, now."""
    name, email = git.config_value("user.name"), git.config_value("user.email")
    if not name or not email:
        raise SitError("set git config user.name and user.email to commit with --on.")
    return pygit2.Signature(name, email)


def _nest(files: Mapping[str, bytes]) -> Nested:
    root: Nested = {}
    for path, data in files.items():
        *dirs, name = path.split("/")
        node = root
        for part in dirs:
            node = node.setdefault(part, {})
        node[name] = data
    return root


def _build(repo: pygit2.Repository, base: pygit2.Tree | None, nested: Nested, where: str) -> pygit2.Oid:
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    for name, value in nested.items():
        existing = base[name] if base is not None and name in base else None
        path = where + name
        if isinstance(value, dict):
            if existing is not None and not isinstance(existing, pygit2.Tree):
                raise WriteError(f"{path} exists on the branch and is not a directory.")
            sub = _build(repo, existing, value, path + "/")
            builder.insert(name, sub, pygit2.enums.FileMode.TREE)
            continue
        blob = repo.create_blob(value)
        if existing is not None:
            if existing.id == blob and existing.filemode == pygit2.enums.FileMode.BLOB:
                continue  # the same record again: records are content-addressed
            raise WriteError(f"{path} already exists on the branch; records are never overwritten.")
        builder.insert(name, blob, pygit2.enums.FileMode.BLOB)
    return builder.write()
