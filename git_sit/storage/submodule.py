"""Reading git submodules: the pinned commit of a gitlink, and its tree from the submodule's repository.

A submodule's objects are not in the superproject: they live in
``<git-dir>/modules/<name>`` (a clone git keeps for the submodule) or in the
submodule's work tree. Either is opened read-only; if neither has the pinned
commit, the submodule is unavailable and the caller decides what to do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pygit2
from pygit2.enums import RepositoryOpenFlag

from git_sit.storage.gitview import GitView, node_of
from git_sit.storage.repo import GitRepo
from git_sit.view import Node, View

GITLINK_MODE = 0o160000


class GitSubmodules:
    """The submodules of one repository; ``names`` maps submodule paths to names (``.gitmodules``)."""

    def __init__(self, repo: GitRepo, names: Mapping[str, str], use_index: bool) -> None:
        self._repo = repo
        self._names = names
        self._use_index = use_index

    def pinned(self, path: str) -> str | None:
        """The commit the index records for a gitlink at ``path`` (work-tree reads only)."""
        if not self._use_index:
            return None
        try:
            index = self._repo.repo.index
            entry = index[path]
        except (KeyError, OSError, pygit2.GitError):
            return None
        return str(entry.id) if entry.mode == GITLINK_MODE else None

    def open(self, path: str, commit: str) -> tuple[View, Node] | None:
        """The submodule's tree at ``commit``, from the first of its repositories that has it."""
        for candidate in self._candidates(path):
            tree = _tree_at(candidate, commit)
            if tree is not None:
                return GitView(), node_of(tree, "")
        return None

    def _candidates(self, path: str) -> list[str]:
        name = self._names.get(path, path)
        git_dirs = [self._repo.git_dir]
        common = os.path.join(self._repo.git_dir, "commondir")
        if os.path.isfile(common):  # a linked work tree keeps modules/ in the common directory
            with open(common, encoding="utf-8") as handle:
                git_dirs.insert(0, os.path.normpath(os.path.join(self._repo.git_dir, handle.read().strip())))
        found = [os.path.join(git_dir, "modules", name) for git_dir in git_dirs]
        if self._repo.workdir is not None:
            found.append(os.path.join(self._repo.workdir, path))
        return [candidate for candidate in found if os.path.exists(candidate)]


def _tree_at(location: str, commit: str) -> pygit2.Tree | None:
    try:
        repo = pygit2.Repository(location, RepositoryOpenFlag.NO_SEARCH)
        obj = repo.get(commit)
        return obj.peel(pygit2.Tree) if obj is not None else None
    except (KeyError, ValueError, pygit2.GitError):
        return None
