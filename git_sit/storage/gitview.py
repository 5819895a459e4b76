"""A git tree as a read-only ``View``: nodes are pygit2 objects, keys their object IDs.

Object reads happen lazily, when a node's children or bytes are asked for. A
missing object (a partial or damaged clone) becomes ``MissingObject``, which the
layout reports against the record it belongs to.
"""

from __future__ import annotations

import pygit2

from git_sit.errors import MissingObject
from git_sit.view import Kind, Node

_KINDS = {
    pygit2.enums.FileMode.TREE: Kind.TREE,
    pygit2.enums.FileMode.BLOB: Kind.FILE,
    pygit2.enums.FileMode.BLOB_EXECUTABLE: Kind.FILE,
    pygit2.enums.FileMode.LINK: Kind.SYMLINK,
    pygit2.enums.FileMode.COMMIT: Kind.SUBMODULE,
}


def _missing(obj: pygit2.Object) -> MissingObject:
    return MissingObject(f"git object {obj.id} is missing (partial or damaged clone?)")


def node_of(obj: pygit2.Object, name: str | None = None) -> Node:
    """Wrap a pygit2 object (a tree entry, or a root tree) as a node."""
    if name is None:
        raw = obj.raw_name
        name = raw.decode("utf-8", "surrogateescape") if raw is not None else ""
    kind = _KINDS.get(obj.filemode, Kind.OTHER) if obj.filemode else Kind.TREE
    return Node(name, kind, obj, str(obj.id))


class GitView:
    """Read-only access to git trees through pygit2."""

    def children(self, node: Node) -> list[Node]:
        if node.kind is not Kind.TREE:
            return []
        tree = node.handle
        assert isinstance(tree, pygit2.Tree)
        try:
            return [node_of(entry) for entry in tree]
        except (KeyError, pygit2.GitError):
            raise _missing(tree) from None

    def lookup(self, node: Node, path: str) -> Node | None:
        if node.kind is not Kind.TREE:
            return None
        tree = node.handle
        assert isinstance(tree, pygit2.Tree)
        try:
            entry = tree[path]
        except KeyError:
            return None
        except pygit2.GitError as exc:
            raise MissingObject(f"cannot look up {path}: {exc} (partial or damaged clone?)") from None
        return node_of(entry)

    def read(self, node: Node) -> bytes:
        blob = node.handle
        assert isinstance(blob, pygit2.Blob)
        try:
            return bytes(blob.data)
        except (KeyError, pygit2.GitError):
            raise _missing(blob) from None
