"""The storage layer: the only part of git-sit that imports pygit2.

``repo`` opens repositories (discovered from a directory, or from the hook
environment so that quarantined objects are visible), resolves revisions and
reads git config; ``gitview`` exposes a git tree as a read-only ``View``; ``refs``
lists branches and tags with their root trees; ``submodule`` reads the trees of
git submodules at their pinned commits; ``branch`` commits new files onto a
branch without a work tree (``--on``); ``probe`` asks the ``git`` command where a
revision's SIT directory is, without pygit2. The names below are imported from
their modules when first used, so that importing ``git_sit.storage.probe`` (a warm
read) does not load pygit2, which takes longer than the rest of such a read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from git_sit.storage.branch import BranchMoved, BranchWriter
    from git_sit.storage.gitview import GitView, bulk_mode
    from git_sit.storage.refs import DetachedHead, GitRef, RefKind, current_branch, detached_head, list_refs
    from git_sit.storage.repo import GitRepo
    from git_sit.storage.submodule import GitSubmodules

_MODULE_OF = {
    "BranchMoved": "branch", "BranchWriter": "branch", "GitView": "gitview", "bulk_mode": "gitview",
    "GitRef": "refs", "RefKind": "refs", "current_branch": "refs", "list_refs": "refs",
    "DetachedHead": "refs", "detached_head": "refs",
    "GitRepo": "repo", "GitSubmodules": "submodule",
}

__all__ = [
    "BranchMoved", "BranchWriter", "DetachedHead", "GitRef", "GitRepo", "GitSubmodules", "GitView",
    "RefKind", "bulk_mode", "current_branch", "detached_head", "list_refs",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
