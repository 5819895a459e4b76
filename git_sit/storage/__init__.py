"""The storage layer: the only part of git-sit that imports pygit2.

``repo`` opens repositories (discovered from a directory, or from the hook
environment so that quarantined objects are visible), resolves revisions and
reads git config; ``gitview`` exposes a git tree as a read-only ``View``.
"""

from git_sit.storage.gitview import GitView, bulk_mode
from git_sit.storage.repo import GitRepo

__all__ = ["GitRepo", "GitView", "bulk_mode"]
