"""Finding the SIT repository for a command: on disk, or in a git tree at ``--rev``.

Discovery follows SIT (SIT-FORMAT §1.2) but stops at the git work tree's top:
from the current directory upwards, a ``.sit`` directory we are inside of, or a
``.sit`` directory next to us, is the repository; a ``.sit`` without
``config.json`` stops the search with an error, one that is not a directory (a
symbolic link is not followed) is named in the error if nothing else is found.
Without ``--rev`` in a work tree the files on disk are read; with ``--rev`` (or in a
bare repository, at ``HEAD``) the same rules are applied to the revision's tree and
nothing on disk is touched.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from git_sit import warm
from git_sit.config import parse_config
from git_sit.errors import NoSitRepository, NotARepository, SitError
from git_sit.jsreduce import LazyReducers, select_reducers
from git_sit.layout import Layout
from git_sit.modules import Module, Site, find_modules, parse_gitmodules, reducer_roots
from git_sit.options import Options, Warn, candidates
from git_sit.reduce import ReducerSet
from git_sit.statecache import StateCache, cache_path
from git_sit.storage import GitRepo, GitSubmodules
from git_sit.store import Store
from git_sit.view import DiskView, Kind, Node, View


def relative_parts(cwd: str, top: str | None) -> list[str]:
    """``cwd`` relative to the work tree's top, as components ([] outside or when bare)."""
    if top is None:
        return []
    rel = os.path.relpath(os.path.realpath(cwd), os.path.realpath(top))
    if rel == "." or rel.startswith(".."):
        return []
    return rel.split(os.sep)


# What a candidate ``.sit`` that is not a directory is, for the message saying so.
_NOT_A_DIRECTORY = {
    Kind.SYMLINK: "a symbolic link, which git-sit does not follow",
    Kind.FILE: "a regular file, not a directory",
    Kind.SUBMODULE: "a submodule, not a directory",
}


def find_sit(view: View, top: Node, parts: list[str], where: str) -> tuple[str, Node]:
    """The first candidate SIT directory that exists; it must hold ``config.json``.

    Candidates that are not directories are passed over, as SIT passes over files,
    and the nearest of them is named if no SIT repository is found. Unlike SIT,
    git-sit does not follow a symbolic link: git stages nothing beyond one, and a
    revision's tree holds the link, not what it names. (Passing over, rather than
    stopping at, a link keeps this the choice ``storage.probe`` makes for warm reads.)
    """
    passed: tuple[str, Node] | None = None
    for path in candidates(parts):
        node = view.lookup(top, path)
        if node is None:
            continue
        if node.kind is not Kind.TREE:
            passed = passed or (path, node)
            continue
        if view.lookup(node, "config.json") is None:
            raise NoSitRepository(f"{where}: {path} has no config.json; run 'git sit init'.")
        return path, node
    if passed is not None:
        path, node = passed
        what = _NOT_A_DIRECTORY.get(node.kind, "a special file, not a directory")
        raise NotARepository(f"{where}: {path} is {what}; no SIT repository (.sit) found.")
    raise NoSitRepository(f"{where}: no SIT repository (.sit) found; run 'git sit init'.")


@dataclass(frozen=True, slots=True)
class Located:
    """A SIT repository found for a command: where it is, and how to name it in messages."""

    repo: GitRepo
    site: Site
    label: str
    display: str


def locate(cwd: str, rev: str | None = None) -> Located:
    """Find the SIT repository a command run in ``cwd`` reads (the work tree, or ``rev``)."""
    repo = GitRepo.discover(cwd)
    if rev is None and repo.workdir is not None:
        view = DiskView()
        top = view.node(repo.workdir)
        assert top is not None
        with _sparse_hint(repo, cwd):
            return locate_in(repo, view, top, cwd, "work tree", repo.workdir)
    rev = rev or "HEAD"
    git_view, top = repo.view(), repo.root_tree(rev)
    try:
        return locate_in(repo, git_view, top, cwd, f"revision {rev}", f"{rev}:")
    except NoSitRepository as exc:
        hint = _rev_hint(rev, git_view.lookup(top, "config.json") is not None)
        if hint is None:
            raise
        raise NoSitRepository(f"{str(exc).removesuffix(_INIT)}; {hint}") from None


_INIT = "; run 'git sit init'."


def _rev_hint(rev: str, sit_itself: bool) -> str | None:
    """What to say instead of "run 'git sit init'" when ``rev`` names a tree, or None.

    ``git sit init`` writes the work tree, and cannot help a revision such as
    ``HEAD:.sit``, which names the SIT directory itself where its parent was meant.
    """
    split = _path_of(rev)
    if split is None and not sit_itself:
        return None
    accepts = "--rev takes a commit (a branch, tag, HEAD~3...) or a tree that holds .sit"
    if not sit_itself:
        return f"{accepts}, and this tree has none."
    if split is None or not split[0]:
        return f"{accepts}, and this is a SIT directory itself."
    commit, path = split
    parent = path.strip("/").rpartition("/")[0]
    return f"{accepts}, and this is a SIT directory itself: use --rev {commit}:{parent}." if parent else \
        f"{accepts}, and this is a SIT directory itself: use --rev {commit}."


def _path_of(rev: str) -> tuple[str, str] | None:
    """``REV:PATH`` split in two; None without a path (a colon inside ``@{...}`` is a time)."""
    depth = 0
    for index, char in enumerate(rev):
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == ":" and depth == 0:
            return rev[:index], rev[index + 1:]
    return None


def locate_in(repo: GitRepo, view: View, top: Node, cwd: str, where: str, label: str) -> Located:
    """Find the SIT repository in one tree (the work tree on disk, or a git tree)."""
    on_disk = isinstance(view, DiskView)
    path, node = find_sit(view, top, relative_parts(cwd, repo.workdir), where)
    gitmodules = view.lookup(top, ".gitmodules")
    names = parse_gitmodules(view.read(gitmodules).decode("utf-8", "replace")) if (
        gitmodules is not None and gitmodules.kind is Kind.FILE) else {}
    submodules = GitSubmodules(repo, names, use_index=on_disk)
    display = os.path.join(label, path) if on_disk else label + path
    return Located(repo, Site(view, top, path, node, submodules), label, display)


def has_sit(view: View, top: Node, cwd: str, workdir: str | None) -> bool:
    """True if any candidate SIT directory (or a symbolic link there) exists in the tree.

    It may still be invalid, or only a link: ``find_sit`` then says why.
    """
    for path in candidates(relative_parts(cwd, workdir)):
        node = view.lookup(top, path)
        if node is not None and node.kind in (Kind.TREE, Kind.SYMLINK):
            return True
    return False


def work_tree_has_sit(repo: GitRepo, cwd: str) -> bool:
    """True if the work tree on disk has a SIT repository found from ``cwd`` (``find_sit``)."""
    if repo.workdir is None:
        return False
    view = DiskView()
    top = view.node(repo.workdir)
    if top is None:
        return False
    try:
        find_sit(view, top, relative_parts(cwd, repo.workdir), "work tree")
    except NotARepository:
        return False
    return True


def open_store(cwd: str, options: Options | None = None) -> Store:
    """The store a command run in ``cwd`` reads."""
    options = options or Options()
    return store_of(locate(cwd, options.rev), options)


def store_of(found: Located, options: Options) -> Store:
    """The store for a located SIT repository, with the reducers it defines."""
    site = found.site
    layout = Layout(site.view, site.sit)
    config = parse_config(layout.file("config.json") or b"", f"{found.display}/config.json")
    store = Store(layout, config, found.display, options.integrity, options.warn)
    modules = functools.cache(lambda: find_modules(site))  # for the reducers and the memo, looked up once
    store.reducers = repository_reducers(site, options, modules)
    if options.cache:
        store.cache = StateCache(cache_path(found.repo.common_dir), options.warn)
        if site.sit.key is not None:
            store.memo = memo_of(site, options, modules)
    return store


def memo_of(site: Site, options: Options, modules: Callable[[], list[Module]]
            ) -> Callable[[bool], bytes | None]:
    """The memo key of a SIT tree read with ``options``, if its modules all lie inside the tree."""
    sit_tree = site.sit.key
    assert sit_tree is not None

    def key(keeps_id: bool) -> bytes | None:
        inside = site.sit_path + "/"
        try:
            found = modules()
        except SitError:
            return None
        if any(module.commit is not None or not module.path.startswith(inside) for module in found):
            return None  # a submodule, or a module elsewhere in the repository
        return warm.memo_key(site.sit_path, sit_tree, warm.context(options), keeps_id)

    return key


def repository_reducers(site: Site, options: Options, modules: Callable[[], list[Module]]) -> LazyReducers:
    """The reducers the repository defines (§5.3, ``modules``: ``find_modules``), loaded when first used."""
    def build(warn: Warn) -> ReducerSet:
        # The built-in set needs no module: a broken one must not stop --reducers native.
        roots = [] if options.reducers == "native" else reducer_roots(site, modules())
        return select_reducers(roots, options.reducers, options.limits, warn)

    return LazyReducers(build, options.warn)


def sit_dir_on_disk(cwd: str) -> tuple[GitRepo, str]:
    """For writing: the repository and the absolute path of its SIT directory on disk."""
    repo = GitRepo.discover(cwd)
    if repo.workdir is None:
        raise NotARepository("writing records needs a work tree; this repository is bare.")
    view = DiskView()
    top = view.node(repo.workdir)
    assert top is not None
    with _sparse_hint(repo, cwd):
        path, _ = find_sit(view, top, relative_parts(cwd, repo.workdir), "work tree")
    return repo, os.path.join(repo.workdir, path)


@contextlib.contextmanager
def _sparse_hint(repo: GitRepo, cwd: str) -> Iterator[None]:
    """Say so when no SIT repository is on disk because the index has it outside the checkout.

    A sparse checkout (or a deleted .sit) would otherwise read as "run 'git sit init'".
    """
    try:
        yield
    except NoSitRepository:  # not a link or a file named .sit
        for path in candidates(relative_parts(cwd, repo.workdir)):
            if repo.in_index(f"{path}/config.json"):
                raise NotARepository(
                    f"work tree: {path}/config.json is in the git index but not on disk (a sparse "
                    "checkout?); read it with --rev HEAD, or check it out with "
                    f"'git sparse-checkout add {path}'."
                ) from None
        raise
