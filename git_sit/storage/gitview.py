"""A git tree as a read-only ``View``: nodes are pygit2 objects, keys their object IDs.

Object reads happen lazily, when a node's children or bytes are asked for. A
missing object (a partial or damaged clone) becomes ``MissingObject``, which the
layout reports against the record it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pygit2

from git_sit.errors import InvalidRecord, MissingObject
from git_sit.record import normalise_name
from git_sit.view import Kind, Node, not_a_file

_KINDS = {
    pygit2.enums.FileMode.TREE: Kind.TREE,
    pygit2.enums.FileMode.BLOB: Kind.FILE,
    pygit2.enums.FileMode.BLOB_EXECUTABLE: Kind.FILE,
    pygit2.enums.FileMode.LINK: Kind.SYMLINK,
    pygit2.enums.FileMode.COMMIT: Kind.SUBMODULE,
}


DAMAGED = "(partial or damaged clone?)"
Hint = Callable[[], str]


def partial_clone_hint(repo: pygit2.Repository | None) -> str:
    """What to say after "git object X is missing": how to fetch it, in a partial clone.

    libgit2 cannot fetch a promisor remote's objects on demand, as git does; git can.
    ``--refetch`` (git 2.36) with ``--no-filter`` fetches every object, blobs included.
    """
    remote = _promisor_remote(repo) if repo is not None else None
    if remote is None:
        return DAMAGED
    return f"(partial clone; 'git fetch --refetch --no-filter {remote}' fetches the missing objects)"


def _promisor_remote(repo: pygit2.Repository) -> str | None:
    """The remote a partial clone fetches missing objects from (``git clone --filter`` sets it)."""
    try:
        config = repo.config
        if "extensions.partialclone" in config:
            return str(config["extensions.partialclone"])
        for entry in config:
            name = entry.name
            if name.startswith("remote.") and name.endswith(".promisor") and config.get_bool(name):
                return str(name[len("remote."):-len(".promisor")])
    except (KeyError, ValueError, UnicodeDecodeError, pygit2.GitError):
        pass
    return None


def _missing(obj: pygit2.Object, hint: Hint) -> MissingObject:
    return MissingObject(f"git object {obj.id} is missing {hint()}")


def _unreadable(key: str | None, exc: Exception, hint: Hint) -> MissingObject:
    if isinstance(exc, KeyError):  # NotFoundError too
        return MissingObject(f"git object {key} is missing {hint()}")
    return MissingObject(f"git object {key} cannot be read: {str(exc).removeprefix(f'{key}: ')} "
                         "(damaged clone?)")


EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # git hash-object /dev/null
_EMPTY_OID = pygit2.hash(b"")
_TREE = int(pygit2.enums.ObjectType.TREE)
_BLOB = int(pygit2.enums.ObjectType.BLOB)
_ODD_NAMES = (b"", b".", b"..")  # names that normalise_name would change
_FILE_MODES = (pygit2.enums.FileMode.BLOB, pygit2.enums.FileMode.BLOB_EXECUTABLE)
_TREE_MODE = b"40000"  # as raw tree objects spell it
_RAW_ENTRIES: dict[int, re.Pattern[bytes]] = {}  # by object ID size
# Entries of trees wider than this become nodes without a pygit2 object (looked up by key
# when used): a store holds the nodes of ``.sit/items`` for a whole run, and a pygit2
# object costs about 150 bytes an item.
WIDE = 256


def bulk_mode(on: bool = True) -> None:
    """Around a bulk read in this process: switch libgit2's object cache and re-hashing off (and back on).

    Every object is read once in a bulk pass, so caching only costs time and memory
    (callers hold on to the few trees they reuse, see ``Layout``). libgit2 also hashes
    every object it reads again by default; git itself does not (only ``fsck`` does),
    and records are checked against their own IDs anyway, so a bulk read skips that
    (about a fifth of the time spent reading objects).
    """
    pygit2.settings.enable_caching(not on)
    pygit2.settings.enable_strict_hash_verification(not on)


def node_of(obj: pygit2.Object, name: str | None = None, hold: bool = True) -> Node:
    """Wrap a pygit2 object (a tree entry, or a root tree) as a node (``hold``: keep the object)."""
    if name is None:
        raw = obj.raw_name
        name = raw.decode("utf-8", "surrogateescape") if raw is not None else ""
    if obj.type == _TREE:
        kind = Kind.TREE  # also a root tree, which has no file mode
    else:
        mode = obj.filemode  # made anew on every access (an enum member): once
        kind = _KINDS.get(mode, Kind.OTHER) if mode else Kind.TREE
    return Node(name, kind, obj if hold else None, str(obj.id))


class GitView:
    """Read-only access to git trees through pygit2."""

    def __init__(self, repo: pygit2.Repository | None = None) -> None:
        self._repo = repo
        self._hint_text: str | None = None

    def _hint(self) -> str:
        # Looked up only once something is missing: most views never need it.
        if self._hint_text is None:
            self._hint_text = partial_clone_hint(self._repo)
        return self._hint_text

    def node_by_key(self, key: str) -> Node | None:
        """The tree with this object ID, if the repository has it."""
        if self._repo is None:
            return None
        try:
            obj = self._repo[key]
        except (KeyError, ValueError, pygit2.GitError):
            return None
        return node_of(obj, "") if isinstance(obj, pygit2.Tree) else None

    def children(self, node: Node) -> list[Node]:
        if node.kind is not Kind.TREE:
            return []
        try:
            tree = self._transient(node.handle) if node.handle is not None else self._tree(node)
            hold = self._repo is None or len(tree) <= WIDE  # without a repository, nothing to look up by key
            return [node_of(entry, hold=hold) for entry in tree]
        except (KeyError, pygit2.GitError) as exc:  # missing, or corrupt ("failed to inflate")
            raise _unreadable(node.key, exc, self._hint) from None

    def _object(self, node: Node) -> pygit2.Object:
        """The node's pygit2 object: its handle, or looked up by key (entries of wide trees)."""
        if node.handle is not None:
            return node.handle  # type: ignore[return-value]
        assert self._repo is not None and node.key is not None
        try:
            return self._repo[node.key]
        except (KeyError, ValueError):
            raise MissingObject(f"git object {node.key} is missing {self._hint()}") from None

    def _tree(self, node: Node) -> pygit2.Tree:
        tree = self._object(node)
        assert isinstance(tree, pygit2.Tree)
        return tree

    def _transient(self, handle: object) -> pygit2.Tree:
        """A copy of a node's tree to read and drop, so the node's own handle is never loaded.

        A pygit2 object keeps its parsed contents for as long as it lives once read, and
        nodes live long: a store holds every item directory's node for the whole run,
        which would keep every item tree read in memory (about 1 KB an item).
        """
        assert isinstance(handle, pygit2.Tree)
        if self._repo is None:
            return handle
        copy = self._repo.get(handle.id)
        return copy if isinstance(copy, pygit2.Tree) else handle

    def lookup(self, node: Node, path: str) -> Node | None:
        if node.kind is not Kind.TREE:
            return None
        tree = self._tree(node)
        try:
            entry = _walk(tree, path)
        except pygit2.GitError as exc:  # also NotFoundError (a KeyError): a tree on the way is missing
            reason = exc.args[0] if exc.args else exc
            raise MissingObject(f"cannot look up {path}: {reason} {self._hint()}") from None
        except KeyError:  # no such entry
            return None
        return node_of(entry) if entry is not None else None

    def differing_entries(self, old: Node | None, new: Node | None
                          ) -> list[tuple[str, Node | None, Node | None]]:
        """The entries of two trees whose object IDs differ (or that one lacks), paired by name.

        What comparing ``children`` of both by name and key gives, with a node only for the
        entries that differ: wide trees that differ in a few entries cost little.
        """
        trees = [self._tree_of(old), self._tree_of(new)]
        try:
            before = {entry.raw_name or b"": entry for entry in trees[0]} if trees[0] is not None else {}
            after = {entry.raw_name or b"": entry for entry in trees[1]} if trees[1] is not None else {}
        except (KeyError, pygit2.GitError):
            raise _missing(next(tree for tree in trees if tree is not None), self._hint) from None
        result = []
        for raw in sorted(before.keys() | after.keys()):
            x, y = before.get(raw), after.get(raw)
            if x is None or y is None or x.id != y.id:
                name = raw.decode("utf-8", "surrogateescape")
                result.append((name, node_of(x, name) if x is not None else None,
                               node_of(y, name) if y is not None else None))
        return result

    def read_files(self, node: Node) -> dict[str, bytes]:
        """Every file below a tree by normalised name, as ``Layout.read_record`` collects them.

        The same walk as the generic one over ``children``/``read``, without building a
        node per entry: this is the innermost loop of reading a repository.
        """
        files: dict[str, bytes] = {}
        _collect(self._tree(node), "", files, self._hint)
        return files

    def differing_names(self, old: Node | None, new: Node | None, stop: Callable[[str], bool],
                        limit: int) -> list[str] | None:
        """The entry names at which two trees differ, looking into subtrees until ``stop(name)``.

        Entries with equal object IDs are skipped unread; a differing name that ``stop``
        accepts is reported and not looked into; other differing subtrees are compared
        in turn (against nothing when the other side has no tree there). ``None`` when
        more than ``limit`` names differ. Raw tree objects are compared, without a node
        per entry: wide trees that differ in a few entries cost little.
        """
        found: list[str] = []
        stack = [(self._raw_id(old), self._raw_id(new))]
        while stack:
            a, b = stack.pop()
            entries_a, entries_b = self._raw_entries(a), self._raw_entries(b)
            # Set differences leave the few entries that changed, without a loop over the others.
            before = {name: (mode, ident) for mode, name, ident in entries_a - entries_b}
            after = {name: (mode, ident) for mode, name, ident in entries_b - entries_a}
            for name in before.keys() | after.keys():
                x, y = before.get(name), after.get(name)
                if x is not None and y is not None and x[1] == y[1]:
                    continue  # only the mode differs
                text = name.decode("utf-8", "surrogateescape")
                if stop(text):
                    found.append(text)
                    if len(found) > limit:
                        return None
                    continue
                below = (x[1] if x is not None and x[0] == _TREE_MODE else None,
                         y[1] if y is not None and y[0] == _TREE_MODE else None)
                if below != (None, None):
                    stack.append(below)
        return found

    def _tree_of(self, node: Node | None) -> pygit2.Tree | None:
        return self._tree(node) if node is not None and node.kind is Kind.TREE else None

    def _raw_id(self, node: Node | None) -> bytes | None:
        tree = self._tree_of(node)
        return tree.id.raw if tree is not None else None

    def _raw_entries(self, raw_id: bytes | None) -> set[tuple[bytes, bytes, bytes]]:
        """A tree's entries: (mode, name, raw object ID)."""
        if raw_id is None:
            return set()
        assert self._repo is not None
        oid = pygit2.Oid(raw=raw_id)
        try:
            _, data = self._repo.odb.read(oid)
        except (KeyError, ValueError, pygit2.GitError):
            raise MissingObject(f"git object {oid} is missing {self._hint()}") from None
        pattern = _RAW_ENTRIES.get(len(raw_id))
        if pattern is None:
            pattern = re.compile(rb"(\d+) ([^\0]*)\0(.{%d})" % len(raw_id), re.DOTALL)
            _RAW_ENTRIES[len(raw_id)] = pattern
        return set(pattern.findall(data))

    def read(self, node: Node) -> bytes:
        if node.key == EMPTY_BLOB:
            return b""  # .type/* and .prev/* files: no need to look the object up
        blob = self._object(node)
        assert isinstance(blob, pygit2.Blob)
        try:
            return bytes(blob.data)
        except (KeyError, pygit2.GitError):
            raise _missing(blob, self._hint) from None


# pygit2 (1.21) keeps a reference to every path string given to Tree lookups (its
# fs-path borrowing never releases PyOS_FSPath's result), so each distinct string
# passed lives forever: about 170 bytes per record read. Short names (the split
# directories of flat records, fixed names) are passed as shared objects, and a
# record's own long name is matched by iterating its small parent tree instead.
_SHARED: dict[str, str] = {}
_SHARED_MAX = 4096
_SCAN_MAX = 16  # parents with at most this many entries are scanned, not looked up


def _shared(part: str) -> str | None:
    shared = _SHARED.get(part)
    if shared is None and len(part) <= 24 and len(_SHARED) < _SHARED_MAX:
        shared = _SHARED[part] = part
    return shared


def _walk(tree: pygit2.Tree, path: str) -> pygit2.Object | None:
    """``tree[path]`` one component at a time, without handing pygit2 unique strings."""
    obj: pygit2.Object = tree
    for part in path.split("/"):
        if not part:
            continue
        if not isinstance(obj, pygit2.Tree):
            return None
        shared = _shared(part)
        if shared is not None:
            obj = obj / shared
        elif len(obj) <= _SCAN_MAX:
            raw = part.encode("utf-8", "surrogateescape")
            found = next((entry for entry in obj if entry.raw_name == raw), None)
            if found is None:
                return None
            obj = found
        else:
            obj = obj / part
    return obj


def _collect(tree: pygit2.Tree, prefix: str, files: dict[str, bytes], hint: Hint, odd: bool = False) -> None:
    """Add the files below ``tree``; ``odd``: some directory above needs ``normalise_name``."""
    try:
        entries = list(tree)
    except (KeyError, pygit2.GitError):
        raise _missing(tree, hint) from None
    for entry in entries:
        raw = entry.raw_name or b""
        try:
            name = prefix + raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = prefix + raw.decode("utf-8", "surrogateescape")
            raise InvalidRecord(f"file name {shown!r} is not valid UTF-8") from None
        kind = entry.type
        odd_here = odd or b"\\" in raw or raw in _ODD_NAMES
        if kind == _TREE:
            _collect(entry, name + "/", files, hint, odd_here)  # type: ignore[arg-type]
            continue
        mode = entry.filemode if kind == _BLOB else None
        if mode not in _FILE_MODES:
            what = _KINDS.get(mode, Kind.OTHER) if mode is not None else Kind.SUBMODULE
            raise InvalidRecord(not_a_file(name, what))
        if odd_here:
            name = normalise_name(name)
        files[name] = b"" if entry.id == _EMPTY_OID else _data(entry, hint)


def _data(blob: pygit2.Object, hint: Hint) -> bytes:
    try:
        return bytes(blob.data)  # type: ignore[attr-defined]
    except (KeyError, pygit2.GitError):
        raise _missing(blob, hint) from None
