"""A SIT repository's modules and reducer sources (SIT-FORMAT §3.4, §5.3).

A module is an entry of ``modules/``: a directory, a link file or symlink whose
content is a path (relative to ``modules/``, or absolute on disk), or a git
submodule (a gitlink), whose files live in the submodule's own repository at
the pinned commit. Reducer roots are ``reducers/`` and then each module's
``reducers/``, modules sorted by entry name; a root's reducers are its top-level
``*.js`` files sorted by name, and every file below the root is kept for
``require``. Symlinks below a root are not followed, on disk as in a revision
(where git keeps only the target's name): they are listed so that a reducer that
is one is skipped with a warning and ``require`` of one says why. Everything is
read through ``View``s; the ``Submodules`` callback (implemented in ``storage``)
opens submodule repositories.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from git_sit.errors import SitError
from git_sit.layout import LINK_WHITESPACE, resolve_relative
from git_sit.view import DiskView, Kind, Node, View

MODULES_DIR = "modules"
REDUCERS_DIR = "reducers"


class Submodules(Protocol):
    """Access to the submodules of the repository being read."""

    def pinned(self, path: str) -> str | None:
        """The commit the index pins at ``path`` (work-tree reads), or ``None`` if not a gitlink."""
        ...

    def open(self, path: str, commit: str) -> tuple[View, Node] | None:
        """The root tree of the submodule at ``path`` at ``commit``, or ``None`` if unavailable."""
        ...


@dataclass(frozen=True, slots=True)
class Site:
    """Where a SIT repository is: its view, the top of the tree, and the SIT directory in it."""

    view: View
    top: Node
    sit_path: str
    sit: Node
    submodules: Submodules


@dataclass(frozen=True, slots=True)
class Module:
    """One module entry, resolved. ``root`` is ``None`` for a submodule that is not available."""

    name: str
    path: str
    view: View
    root: Node | None
    commit: str | None = None


@dataclass(frozen=True, slots=True)
class ReducerRoot:
    """A directory of reducers: its label (relative to the SIT directory), its files, its symlinks."""

    label: str
    files: dict[str, bytes]
    reducers: tuple[str, ...]
    module: Module | None = None
    links: tuple[str, ...] = ()
    linked: bool = False  # the directory itself is a symlink: SIT would follow it, git-sit does not

    @property
    def linked_reducers(self) -> tuple[str, ...]:
        """The top-level ``*.js`` entries that are symlinks: SIT would run them, git-sit does not."""
        return tuple(sorted((name for name in self.links if _is_reducer(name)), key=name_key))

    @property
    def unavailable(self) -> bool:
        return self.module is not None and self.module.root is None


def name_key(name: str) -> bytes:
    """Byte order of a file name (git-sit sorts modules and reducers by it)."""
    return name.encode("utf-8", "surrogateescape")


def parse_gitmodules(text: str) -> dict[str, str]:
    """Submodule path → name from a ``.gitmodules`` file."""
    names: dict[str, str] = {}
    name: str | None = None
    for line in text.splitlines():
        line = line.strip()
        section = re.fullmatch(r'\[\s*submodule\s+"(.*)"\s*\]', line)
        if section:
            name = section.group(1)
            continue
        if line.startswith("["):
            name = None
            continue
        setting = re.fullmatch(r"path\s*=\s*(.*)", line)
        if setting and name is not None:
            names[setting.group(1).strip().strip('"').strip("/")] = name
    return names


def find_modules(site: Site) -> list[Module]:
    """Every module of the repository, sorted by entry name; a broken entry is an error."""
    directory = site.view.lookup(site.sit, MODULES_DIR)
    if directory is None or directory.kind is not Kind.TREE:
        return []
    base = _join(site.sit_path, MODULES_DIR)
    entries = sorted(site.view.children(directory), key=lambda node: name_key(node.name))
    return [_resolve(site, directory, base, entry) for entry in entries]


def _join(*parts: str) -> str:
    return "/".join(part for part in parts if part)


def _resolve(site: Site, directory: Node, base: str, entry: Node) -> Module:
    path = _join(base, entry.name)
    if entry.kind is Kind.SUBMODULE and entry.key:
        return _gitlink(site, entry.name, path, entry.key)
    if entry.kind is Kind.TREE:
        return _tree_module(site, entry.name, path, entry)
    if entry.kind in (Kind.FILE, Kind.SYMLINK):
        return _linked(site, directory, base, entry)
    raise SitError(f"module entry {path} is neither a directory, a link nor a submodule; remove it.")


def _tree_module(site: Site, name: str, path: str, node: Node) -> Module:
    # A submodule that was never checked out is an empty directory in the work tree.
    if node.key is None and not site.view.children(node):
        commit = site.submodules.pinned(path)
        if commit is not None:
            return _gitlink(site, name, path, commit)
    return Module(name, path, site.view, node)


def _gitlink(site: Site, name: str, path: str, commit: str) -> Module:
    opened = site.submodules.open(path, commit)
    if opened is None:
        return Module(name, path, site.view, None, commit)
    view, root = opened
    return Module(name, path, view, root, commit)


def _linked(site: Site, directory: Node, base: str, entry: Node) -> Module:
    target = _link_target(site.view, entry)
    where = _join(base, entry.name)
    if isinstance(directory.handle, str):  # on disk: resolve as the file system would
        absolute = os.path.normpath(os.path.join(directory.handle, target))
        node = DiskView().node(os.path.realpath(absolute))
        top = str(site.top.handle)
        inside = os.path.relpath(absolute, top)
        path = absolute if inside.startswith("..") else inside.replace(os.sep, "/")
    else:
        parts = None if target.startswith(("/", "\\")) else resolve_relative(base.split("/"), target)
        if parts is None:
            raise SitError(f"module {where} points to {target!r}, which is not in the repository.")
        path = "/".join(parts)
        node = site.view.lookup(site.top, path)
    if node is not None and node.kind is Kind.SUBMODULE and node.key:
        return _gitlink(site, entry.name, path, node.key)
    if node is None or node.kind is not Kind.TREE:
        raise SitError(f"module {where} points to {target!r}, which is not a directory; fix or remove it.")
    return _tree_module(site, entry.name, path, node)


def _link_target(view: View, entry: Node) -> str:
    if entry.kind is Kind.SYMLINK and isinstance(entry.handle, str):
        return os.readlink(entry.handle)
    return view.read(entry).decode("utf-8", errors="replace").strip(LINK_WHITESPACE)


def reducer_roots(site: Site, modules: list[Module]) -> list[ReducerRoot]:
    """The reducer directories in SIT's order, each with all of its files read."""
    roots: list[ReducerRoot] = []
    local = _read_root(site.view, site.sit, REDUCERS_DIR, None)
    if local is not None:
        roots.append(local)
    for module in modules:
        label = _join(MODULES_DIR, module.name, REDUCERS_DIR)
        if module.root is None:
            roots.append(ReducerRoot(label, {}, (), module))
            continue
        root = _read_root(module.view, module.root, label, module)
        if root is not None:
            roots.append(root)
    return roots


def _read_root(view: View, parent: Node, label: str, module: Module | None) -> ReducerRoot | None:
    node = view.lookup(parent, REDUCERS_DIR)
    if node is not None and node.kind is Kind.SYMLINK:
        return ReducerRoot(label, {}, (), module, linked=True)
    if node is None or node.kind is not Kind.TREE:
        return None
    return _root_of(view, node, label, module)


def _root_of(view: View, directory: Node, label: str, module: Module | None = None) -> ReducerRoot:
    """A reducer directory with every file below it read; its reducers are its top-level ``*.js``."""
    files: dict[str, bytes] = {}
    links: list[str] = []
    _collect(view, directory, "", files, links, 0)
    reducers = tuple(sorted((name for name in files if _is_reducer(name)), key=name_key))
    return ReducerRoot(label, files, reducers, module, tuple(sorted(links, key=name_key)))


def _is_reducer(name: str) -> bool:
    return "/" not in name and name.endswith(".js")


def _collect(view: View, node: Node, prefix: str, files: dict[str, bytes], links: list[str],
             depth: int) -> None:
    for child in view.children(node):
        if child.kind is Kind.FILE:
            files[prefix + child.name] = view.read(child)
        elif child.kind is Kind.SYMLINK:
            links.append(prefix + child.name)
        elif child.kind is Kind.TREE and depth < 32:
            _collect(view, child, f"{prefix}{child.name}/", files, links, depth + 1)


def named_roots(targets: Sequence[str], cwd: str, sit_reducers: Callable[[str], Node | None],
                sit_view: View) -> list[ReducerRoot]:
    """The reducer roots of ``sit reduce -r X...`` (§5.3), which replace the repository's list.

    Each ``X`` is, as SIT tries them: a file on disk (alone: ``require`` finds nothing
    beside it); a directory ``.sit/reducers/X`` (``sit_reducers`` looks it up, in the
    revision read); or a directory on disk, every ``*.js`` in it run in name order.
    """
    disk = DiskView()
    roots = []
    for target in targets:
        path = os.path.realpath(os.path.join(cwd, target))
        node = disk.node(path) if target else None
        if node is not None and node.kind is Kind.FILE:
            # Just the file: its directory may be a whole project, not a reducer root.
            label = os.path.dirname(target) or "."
            roots.append(ReducerRoot(label, {node.name: disk.read(node)}, (node.name,)))
            continue
        inside = sit_reducers(target) if target not in ("", ".", "..") else None
        if inside is not None and inside.kind is Kind.TREE:
            roots.append(_root_of(sit_view, inside, f"{REDUCERS_DIR}/{target}"))
        elif node is not None and node.kind is Kind.TREE:
            roots.append(_root_of(disk, node, target))
        else:
            raise SitError(f"reducer {target!r} not found: it is neither a file, nor a directory "
                           f"{REDUCERS_DIR}/{target} of the repository, nor a directory.")
    return roots

