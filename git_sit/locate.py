"""Finding the SIT repository for a command: on disk, or in a git tree at ``--rev``.

Discovery follows SIT (SIT-FORMAT §1.2) but stops at the git work tree's top:
from the current directory upwards, a ``.sit`` directory we are inside of, or a
``.sit`` directory next to us, is the repository; a ``.sit`` without
``config.json`` stops the search with an error. Without ``--rev`` in a work tree
the files on disk are read; with ``--rev`` (or in a bare repository, at ``HEAD``)
the same rules are applied to the revision's tree and nothing on disk is touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from git_sit.config import parse_config
from git_sit.errors import NotARepository
from git_sit.layout import Layout
from git_sit.statecache import StateCache, cache_path
from git_sit.storage import GitRepo
from git_sit.store import Store, Warn, _ignore
from git_sit.view import DiskView, Kind, Node, View

SIT_DIR = ".sit"


@dataclass(frozen=True, slots=True)
class Options:
    """How to open the store: which revision, integrity checking, where warnings go, the cache."""

    rev: str | None = None
    integrity: bool = True
    warn: Warn = _ignore
    cache: bool = True


def candidates(parts: list[str]) -> list[str]:
    """Candidate SIT directories for a directory at ``parts`` below the top, nearest first."""
    result: list[str] = []
    for depth in range(len(parts), -1, -1):
        here = parts[:depth]
        if here and here[-1] == SIT_DIR:
            result.append("/".join(here))
        result.append("/".join([*here, SIT_DIR]))
    return result


def relative_parts(cwd: str, top: str | None) -> list[str]:
    """``cwd`` relative to the work tree's top, as components ([] outside or when bare)."""
    if top is None:
        return []
    rel = os.path.relpath(os.path.realpath(cwd), os.path.realpath(top))
    if rel == "." or rel.startswith(".."):
        return []
    return rel.split(os.sep)


def find_sit(view: View, top: Node, parts: list[str], where: str) -> tuple[str, Node]:
    """The first candidate SIT directory that exists; it must hold ``config.json``."""
    for path in candidates(parts):
        node = view.lookup(top, path)
        if node is None or node.kind is not Kind.TREE:
            continue
        if view.lookup(node, "config.json") is None:
            raise NotARepository(f"{where}: {path} has no config.json; run 'git sit init'.")
        return path, node
    raise NotARepository(f"{where}: no SIT repository (.sit) found; run 'git sit init'.")


def open_store(cwd: str, options: Options | None = None) -> Store:
    """The store a command run in ``cwd`` reads."""
    options = options or Options()
    repo = GitRepo.discover(cwd)
    parts = relative_parts(cwd, repo.workdir)
    view: View
    if options.rev is None and repo.workdir is not None:
        view = DiskView()
        top = view.node(repo.workdir)
        assert top is not None
        where, label = "work tree", repo.workdir
    else:
        rev = options.rev or "HEAD"
        view = repo.view()
        top = repo.root_tree(rev)
        where, label = f"revision {rev}", f"{rev}:"
    path, node = find_sit(view, top, parts, where)
    layout = Layout(view, node)
    config = parse_config(layout.file("config.json") or b"", f"{label}{path}/config.json")
    display = os.path.join(label, path) if options.rev is None and repo.workdir else label + path
    store = Store(layout, config, display, options.integrity, options.warn)
    if options.cache:
        store.cache = StateCache(cache_path(repo.common_dir), options.warn)
    return store


def sit_dir_on_disk(cwd: str) -> tuple[GitRepo, str]:
    """For writing: the repository and the absolute path of its SIT directory on disk."""
    repo = GitRepo.discover(cwd)
    if repo.workdir is None:
        raise NotARepository("writing records needs a work tree; this repository is bare.")
    view = DiskView()
    top = view.node(repo.workdir)
    assert top is not None
    path, _ = find_sit(view, top, relative_parts(cwd, repo.workdir), "work tree")
    return repo, os.path.join(repo.workdir, path)
