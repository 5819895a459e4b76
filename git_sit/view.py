"""Read-only views of a directory tree: the one protocol both sources implement.

A SIT repository is read the same way whether it comes from a git tree at some
revision (``storage.GitView``) or from the files on disk (``DiskView``, here): a
``View`` lists a node's children, looks up a relative path and reads a file. The
layout rules (``layout.py``) are written once against this protocol. Nodes carry
an optional content key (the git object ID) so callers can tell unchanged
subtrees apart without reading them.
"""

from __future__ import annotations

import enum
import os
import stat
from typing import NamedTuple, Protocol

from git_sit.errors import InvalidRecord


class Kind(enum.Enum):
    """What a node is; only trees and files carry SIT data.

    The value is the noun phrase messages use: "X is not a regular file (a FIFO)".
    """

    TREE = "a directory"
    FILE = "a regular file"
    SYMLINK = "a symlink"
    SUBMODULE = "a submodule"
    FIFO = "a FIFO"
    SOCKET = "a socket"
    DEVICE = "a device"
    OTHER = "of an unknown type"


def not_a_file(name: str, kind: Kind) -> str:
    """Why a node that should be a regular file is not used: "x is not a regular file (a FIFO)"."""
    return f"{name} is not a regular file ({kind.value})"


class Node(NamedTuple):
    """One entry of a view. ``name`` holds undecodable bytes as surrogates.

    A named tuple rather than a frozen dataclass: a repository read makes a node per
    entry (hundreds of thousands), and a tuple is made in half the time.
    """

    name: str
    kind: Kind
    handle: object
    key: str | None = None


class View(Protocol):
    """Read-only access to a tree of nodes."""

    def children(self, node: Node) -> list[Node]:
        """The node's entries (empty for a non-tree)."""
        ...

    def lookup(self, node: Node, path: str) -> Node | None:
        """The node at ``path`` ('/'-separated, relative to ``node``), or ``None``."""
        ...

    def read(self, node: Node) -> bytes:
        """A file's bytes."""
        ...


def is_utf8_name(name: str) -> bool:
    """False if the name held bytes that are not UTF-8 (decoded as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _kind_of_mode(mode: int) -> Kind:
    if stat.S_ISDIR(mode):
        return Kind.TREE
    if stat.S_ISREG(mode):
        return Kind.FILE
    if stat.S_ISLNK(mode):
        return Kind.SYMLINK
    if stat.S_ISFIFO(mode):
        return Kind.FIFO
    if stat.S_ISSOCK(mode):
        return Kind.SOCKET
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Kind.DEVICE
    return Kind.OTHER


def _order(node: Node) -> bytes:
    """How git orders tree entries: by name bytes, a directory's name as if it ended in '/'.

    Listing a directory on disk in this order reads a record (and walks the files
    below it) in the same order as its git tree, whatever order the file system keeps.
    """
    name = node.name.encode("utf-8", "surrogateescape")
    return name + b"/" if node.kind is Kind.TREE else name


class DiskView:
    """A view of a directory on disk; nodes' handles are absolute paths."""

    def node(self, path: str) -> Node | None:
        """The node for an absolute path, or ``None`` if nothing is there."""
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, ValueError):
            # ValueError: a NUL in the name (a link file's text can hold one), which no
            # file system, and no git tree, has an entry for.
            return None
        except OSError as exc:
            raise InvalidRecord(f"cannot read {path}: {exc.strerror}.") from None
        return Node(os.path.basename(path), _kind_of_mode(mode), path)

    def children(self, node: Node) -> list[Node]:
        if node.kind is not Kind.TREE:
            return []
        path = str(node.handle)
        try:
            with os.scandir(path) as entries:
                nodes = [
                    Node(e.name, _kind_of_mode(e.stat(follow_symlinks=False).st_mode), e.path)
                    for e in entries
                ]
        except OSError as exc:
            raise InvalidRecord(f"cannot list {path}: {exc.strerror}.") from None
        nodes.sort(key=_order)
        return nodes

    def lookup(self, node: Node, path: str) -> Node | None:
        parts = [p for p in path.split("/") if p]
        current: Node | None = node
        for part in parts:
            if current is None or current.kind is not Kind.TREE:
                return None
            current = self.node(os.path.join(str(current.handle), part))
        return current

    def read(self, node: Node) -> bytes:
        try:
            with open(str(node.handle), "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise InvalidRecord(f"cannot read {node.handle}: {exc.strerror}.") from None
