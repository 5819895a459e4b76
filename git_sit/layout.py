"""Where records are: SIT's repository layouts, read through any ``View`` (SIT-FORMAT §3).

Items are the union of ``items/*`` and legacy ``issues/*``. An item entry is a
legacy record directory or a link file; link files are resolved lexically inside
the repository and fall back to the canonical flat location (§3.3). Record files
are every regular file below the record directory; a symlink, submodule or
non-UTF-8 name makes the record unreadable. Problems are collected, never raised,
so one bad record does not hide the others.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from git_sit.errors import InvalidRecord, MissingObject
from git_sit.record import Record, is_record_id, normalise_name, split_path
from git_sit.view import Kind, Node, View, is_utf8_name, not_a_file

ITEM_DIRS = ("items", "issues")
RECORDS_DIR = "records"
MAX_LINK_DEPTH = 8
LINK_WHITESPACE = " \t\r\n\v\f\ufeff"
# Every 32-character string over the base32 alphabet decodes to 20 bytes with no spare bits.
# (32 characters with '-' padding are IDs too: 16 to 19 byte digests.)
_ID32 = re.compile("[A-Z2-7]{32}")

ItemDir = tuple[str, Node]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one record or link, reported and skipped."""

    record_id: str
    item_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f" of item {self.item_id}" if self.item_id else ""
        return f"record {self.record_id}{where}: {self.reason}"


@dataclass(slots=True)
class ItemEntries:
    """An item's record directories by record ID, and what could not be resolved.

    ``simple`` stays true while every entry is a record directory inside the item or a
    link file whose resolution consulted only the canonical ``records/<split>`` path
    (and found a directory there, or nothing): then the item's directories plus the
    ``records/XX/YY`` subtrees holding those paths fix the result (see ``bucket_key``).
    """

    nodes: dict[str, Node] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    simple: bool = True


class Layout:
    """The SIT repository rooted at ``root`` in ``view``."""

    def __init__(self, view: View, root: Node) -> None:
        self.view = view
        self.root = root
        # records/XX subtrees, held: every record lookup starts below one of them, and
        # libgit2 does not cache trees as large as records/ (over 4 KiB), so without
        # this each lookup would parse the whole records/ tree again.
        self._held: dict[str, Node | None] = {}

    def file(self, path: str) -> bytes | None:
        """A file's bytes by path inside the repository, or ``None`` if absent."""
        node = self.view.lookup(self.root, path)
        if node is None or node.kind is not Kind.FILE:
            return None
        return self.view.read(node)

    def item_dirs(self) -> dict[str, list[ItemDir]]:
        """Item ID → its directories (``items/ID`` and/or ``issues/ID``)."""
        result: dict[str, list[ItemDir]] = {}
        for parent in ITEM_DIRS:
            top = self.view.lookup(self.root, parent)
            if top is None or top.kind is not Kind.TREE:
                continue
            for node in self.view.children(top):
                if node.kind is Kind.TREE:
                    result.setdefault(node.name, []).append((parent, node))
        return dict(sorted(result.items()))

    def list_item(self, dirs: list[ItemDir]) -> list[list[Node]]:
        """The entries of each of an item's directories."""
        return [self.view.children(directory) for _, directory in dirs]

    def item_entries(self, item_id: str, dirs: list[ItemDir],
                     listed: list[list[Node]] | None = None) -> ItemEntries:
        """Resolve every record entry of an item's directories (``listed``: ``list_item``'s result)."""
        entries = ItemEntries()
        if listed is None:
            listed = self.list_item(dirs)
        for (parent, directory), children in zip(dirs, listed, strict=True):
            if directory.key:
                entries.keys.append(directory.key)
            base = [parent, directory.name]
            for node in children:
                if node.name in entries.nodes or not is_id(node.name):
                    continue
                self._add_entry(entries, item_id, base, node)
        return entries

    def _add_entry(self, entries: ItemEntries, item_id: str, base: list[str], node: Node) -> None:
        try:
            target = self._resolve_entry(base, node, entries)
        except (InvalidRecord, MissingObject) as exc:
            entries.problems.append(Problem(node.name, item_id, str(exc)))
            entries.simple = False
            return
        if target is not None:
            entries.nodes[node.name] = target

    def _resolve_entry(self, base: list[str], node: Node, entries: ItemEntries) -> Node | None:
        if node.kind is Kind.TREE:
            return node
        if node.kind is not Kind.FILE:
            # A symlink (or gitlink...) where SIT writes a link file: SIT would follow a
            # symlink on disk, git holds only its target's name. Skipped alike from both.
            raise InvalidRecord(f"link file {'/'.join([*base, node.name])} is not a regular file "
                                f"({node.kind.value}); skipped")
        target, direct = self._resolve_link(base, node)
        if not direct:
            entries.simple = False
        return target or self._canonical_record(node.name)

    def _canonical_record(self, record_id: str) -> Node | None:
        """``record_node``, saying why a record there is not read (a symlink is not followed)."""
        parts = [RECORDS_DIR, *split_path(record_id).split("/")]
        node = self.lookup_parts(parts)
        if node is not None and node.kind not in (Kind.TREE, Kind.FILE):
            raise InvalidRecord(_not_a_directory(parts, node))
        return node if node is not None and node.kind is Kind.TREE else None

    def _resolve_link(self, base: list[str], link: Node) -> tuple[Node | None, bool]:
        """The link's target, and whether only the canonical path of its name was consulted."""
        canonical_key, canonical = canonical_link(link.name)
        direct = True
        for _ in range(MAX_LINK_DEPTH):
            if len(base) == 2 and link.key is not None and link.key == canonical_key:
                # Exactly what SIT writes (known blob ID): no need to read or parse it.
                parts = canonical
            else:
                text = self.view.read(link).decode("utf-8", errors="replace").strip(LINK_WHITESPACE)
                if not text or text.startswith(("/", "\\")) or text[1:3] in (":\\", ":/"):
                    return None, direct  # absolute: not resolvable inside git, use the canonical place
                found = resolve_relative(base, text)
                if found is None:
                    raise InvalidRecord(f"link file points outside the repository ({text!r})")
                parts = found
            direct = direct and parts == canonical
            target = self.lookup_parts(parts)
            if target is None:
                return None, direct
            if target.kind not in (Kind.TREE, Kind.FILE):
                # SIT would follow a symlink on disk; git holds only its target's name.
                raise InvalidRecord(_not_a_directory(parts, target))
            if target.kind is Kind.TREE:
                return target, direct
            base, link, direct = parts[:-1], target, False
            canonical_key, canonical = canonical_link(link.name)
        raise InvalidRecord("link files nest too deeply")

    def lookup_parts(self, parts: list[str]) -> Node | None:
        """The node at ``parts`` below the root; paths below ``records/XX/`` start from a held subtree."""
        if len(parts) > 2 and parts[0] == RECORDS_DIR:
            top = self._records_subtree(parts[1])
            return self.view.lookup(top, "/".join(parts[2:])) if top is not None else None
        return self.view.lookup(self.root, "/".join(parts))

    def records_tree(self) -> Node | None:
        """The ``records/`` tree (held for the life of the layout), if there is one."""
        if "" not in self._held:
            node = self.view.lookup(self.root, RECORDS_DIR)
            self._held[""] = node if node is not None and node.kind is Kind.TREE else None
        return self._held[""]

    def _records_subtree(self, name: str) -> Node | None:
        if not name:
            return None  # "" is where records_tree() is held
        if name not in self._held:
            top = self.records_tree()
            node = self.view.lookup(top, name) if top is not None else None
            self._held[name] = node if node is not None and node.kind is Kind.TREE else None
        return self._held[name]

    def record_node(self, record_id: str) -> Node | None:
        """The canonical flat record directory of ``record_id``, if present."""
        node = self.lookup_parts([RECORDS_DIR, *split_path(record_id).split("/")])
        return node if node is not None and node.kind is Kind.TREE else None

    def bucket_key(self, record_id: str) -> str:
        """The object ID of ``records/XX/YY`` holding ``record_id``'s canonical path ('-' if none).

        With ``ItemEntries.simple``, these keys and the item directories' keys fix what the
        item's entries resolve to, without looking the sixteen levels up.
        """
        top = self._records_subtree(record_id[:2])
        node = self.view.lookup(top, record_id[2:4]) if top is not None else None
        return (node.key or "-") if node is not None else "-"

    def repository_records(self) -> tuple[dict[str, Node], list[Problem]]:
        """Every record of the repository: canonical flat records plus legacy item records."""
        found: dict[str, Node] = {}
        problems: list[Problem] = []
        top = self.view.lookup(self.root, RECORDS_DIR)
        if top is not None and top.kind is Kind.TREE:
            for path, node in self._walk_record_dirs(top, []):
                if node.kind is not Kind.TREE:
                    # SIT's walk resolves a link file here (§3.1); git-sit reports it (§9.14).
                    problems.append(Problem(node.name, None, _not_a_directory([RECORDS_DIR, path], node)))
                elif path == split_path(node.name):
                    found.setdefault(node.name, node)
                else:
                    problems.append(Problem(node.name, None, f"misplaced at records/{path}"))
        for dirs in self.item_dirs().values():
            for _, directory in dirs:
                for node in self.view.children(directory):
                    if node.kind is Kind.TREE and is_record_id(node.name):
                        found.setdefault(node.name, node)
        return dict(sorted(found.items())), problems

    def _walk_record_dirs(self, node: Node, above: list[str]) -> Iterator[tuple[str, Node]]:
        """Every entry below ``records/`` named by a record ID (directories or not), with its path."""
        for child in self.view.children(node):
            path = [*above, child.name]
            if is_record_id(child.name):
                yield "/".join(path), child
            elif child.kind is Kind.TREE and len(child.name) <= 2 and len(path) < 64:
                yield from self._walk_record_dirs(child, path)

    def read_record(self, record_id: str, node: Node) -> Record:
        """Read a record's files; ``InvalidRecord`` if git-sit cannot read it faithfully."""
        read_files = getattr(self.view, "read_files", None)  # a view's faster walk, if it has one
        if read_files is not None:
            return Record(record_id, read_files(node))
        files: dict[str, bytes] = {}
        self._collect(node, "", files)
        return Record(record_id, files)

    def _collect(self, node: Node, prefix: str, files: dict[str, bytes]) -> None:
        for child in self.view.children(node):
            name = prefix + child.name
            if not is_utf8_name(name):
                raise InvalidRecord(f"file name {name!r} is not valid UTF-8")
            if child.kind is Kind.TREE:
                self._collect(child, name + "/", files)
            elif child.kind is Kind.FILE:
                files[normalise_name(name)] = self.view.read(child)
            else:
                raise InvalidRecord(not_a_file(name, child.kind))


def _not_a_directory(parts: list[str], node: Node) -> str:
    """Why a record where a directory should be is skipped (as ``repository_records`` says it)."""
    return f"{'/'.join(parts)} is not a directory ({node.kind.value}); skipped"


def canonical_link(record_id: str) -> tuple[str, list[str]]:
    """The git blob ID (SHA-1) of the link file SIT writes for ``record_id``, and its target."""
    split = split_path(record_id)
    data = f"../../{RECORDS_DIR}/{split}".encode("utf-8", "surrogateescape")
    blob_id = hashlib.sha1(b"blob %d\0%s" % (len(data), data)).hexdigest()
    return blob_id, [RECORDS_DIR, *split.split("/")]


def is_id(name: str) -> bool:
    """``is_record_id``, with a fast path for the usual 32-character IDs."""
    if len(name) == 32 and _ID32.fullmatch(name) is not None:
        return True
    return is_record_id(name)


def resolve_relative(base: list[str], text: str) -> list[str] | None:
    """Join a link's relative path to ``base`` lexically; ``None`` if it escapes the root."""
    parts = list(base)
    for part in text.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return parts
