"""The storage layer: the only part of git-sit that imports pygit2.

``repo`` opens repositories (discovered from a directory, or from the hook
environment so that quarantined objects are visible), resolves revisions and
reads git config; ``gitview`` exposes a git tree as a read-only ``View``; ``refs``
lists branches and tags with their root trees; ``submodule`` reads the trees of
git submodules at their pinned commits; ``branch`` commits new files onto a
branch without a work tree (``--on``).
"""

from git_sit.storage.branch import BranchMoved, BranchWriter
from git_sit.storage.gitview import GitView, bulk_mode
from git_sit.storage.refs import GitRef, RefKind, current_branch, list_refs
from git_sit.storage.repo import GitRepo
from git_sit.storage.submodule import GitSubmodules

__all__ = [
    "BranchMoved", "BranchWriter", "GitRef", "GitRepo", "GitSubmodules", "GitView", "RefKind",
    "bulk_mode", "current_branch", "list_refs",
]
