"""Helpers for reducer and module tests: an issue-tracking-style module, repositories using it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pygit2

from tests.helpers import git

DATA = Path(__file__).resolve().parent / "data"
ITS_MODULE = DATA / "issue-tracking-style"
ITS_NAMES = ("Commented.js", "DetailsChanges.js", "MergeRequested.js", "Merged.js", "State.js",
             "SummaryChanged.js", "activity.js")


def module_files(prefix: str, source: Path = ITS_MODULE) -> dict[str, bytes]:
    """Paths (under ``prefix``) → bytes of every file of a module directory."""
    return {
        f"{prefix}/{path.relative_to(source).as_posix()}": path.read_bytes()
        for path in sorted(source.rglob("*")) if path.is_file()
    }


def write_files(top: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative path → bytes) below ``top``."""
    for name, data in files.items():
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def module_repository(path: Path, source: Path = ITS_MODULE) -> Path:
    """A git repository at ``path`` whose one commit holds the module in ``source``."""
    shutil.copytree(source, path)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "module")
    return path


def add_submodule(workdir: Path, url: Path, where: str) -> str:
    """``git submodule add`` a local repository at ``where``; return the pinned commit."""
    git(workdir, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(url), where)
    return git(workdir / where, "rev-parse", "HEAD").strip()


def commit_tree(repo: pygit2.Repository, files: dict[str, bytes], message: str = "commit") -> pygit2.Oid:
    """Commit ``files`` as the whole tree of a new ``HEAD`` commit (fast for thousands of files)."""
    nested: dict[str, Any] = {}
    for path, data in files.items():
        *dirs, name = path.split("/")
        node = nested
        for part in dirs:
            node = node.setdefault(part, {})
        node[name] = data
    sig = pygit2.Signature("Test Author", "author@example.com", 1767323045, 0)
    parents = [] if repo.head_is_unborn else [repo.head.target]
    return repo.create_commit("HEAD", sig, sig, message, _build(repo, nested), parents)


def _build(repo: pygit2.Repository, node: dict[str, Any]) -> pygit2.Oid:
    builder = repo.TreeBuilder()
    for name, value in node.items():
        if isinstance(value, dict):
            builder.insert(name, _build(repo, value), pygit2.enums.FileMode.TREE)
        else:
            builder.insert(name, repo.create_blob(value), pygit2.enums.FileMode.BLOB)
    return builder.write()
