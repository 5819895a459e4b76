"""The inbox's vocabulary: tree entries, differences, snapshots, rules and verdicts.

Plain values and helpers shared by the rules engine (``inbox``), the inbox
configuration (``inboxconfig``), the hook driver and the storage layer's git
snapshots: git's tree-entry modes, an ``Entry`` (mode and object ID), a ``Change``
(one path that differs from a parent), the read-only ``Snapshot`` protocol a tree is
judged through, the configurable ``Rules`` with their defaults, a ``Violation``, a
commit's ``Verdict``, the ``Budget`` of record bytes one push may read, and the
helpers that place a path in a configured SIT repository (``join``, ``repo_of``,
``id_length``). Nothing here touches git, gpg or the disk.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from git_sit.config import RepoConfig
from git_sit.record import encode_id

MODE_TREE = 0o040000
MODE_FILE = 0o100644
MODE_EXECUTABLE = 0o100755
MODE_SYMLINK = 0o120000
MODE_SUBMODULE = 0o160000

# The empty tree's object ID (SHA-1 and SHA-256): git keeps an empty directory that way.
EMPTY_TREES = frozenset({"4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                         "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"})
EMPTY_DIRECTORY = "an empty directory; git keeps it, but it holds no record files: remove it from the commit"

UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
DEFAULT_MAX_BLOB = 10 * 1024 * 1024
DEFAULT_MAX_RECORDS = 10_000
DEFAULT_MAX_RECORD_SIZE = 32 * 1024 * 1024
# Record bytes read (and hashed) in one push, over all its refs: 10,000 records at the
# record-size limit would be 312 GiB, hours of a server's time. 256 MiB is a second or
# two of reading and hashing, yet 8 records at that limit, or 10,000 records of 26 KiB
# (issue records are mostly well under 1 KiB): more than anyone pushes to an inbox at once.
DEFAULT_MAX_PUSH_SIZE = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """A tree entry: its git mode and object ID."""

    mode: int
    oid: str


@dataclass(frozen=True, slots=True)
class Change:
    """One path that differs between the parent and the commit (``None`` = absent there)."""

    path: str
    old: Entry | None
    new: Entry | None


class Snapshot(Protocol):
    """A read-only view of one commit's tree, by '/'-separated path from the root."""

    def entry(self, path: str) -> Entry | None:
        """The entry (file, tree, symlink, submodule) at ``path``, or ``None``."""
        ...

    def files(self, path: str) -> list[tuple[str, Entry]]:
        """Every non-tree entry below the tree at ``path``, with names relative to it."""
        ...

    def read(self, entry: Entry) -> bytes:
        """A blob's bytes."""
        ...

    def size(self, entry: Entry) -> int:
        """A blob's size in bytes, without reading it if possible."""
        ...


@dataclass(frozen=True, slots=True)
class Violation:
    """A path that breaks the rules, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        text = f"{self.path}: {self.reason}" if self.path else self.reason
        # Paths that are not UTF-8 arrive as surrogates; show them without failing to print.
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Rules:
    """The configurable part of the rules (``sit.inbox.*``)."""

    sit_paths: tuple[str, ...] = (".sit",)
    item_pattern: re.Pattern[str] = re.compile(UUID_PATTERN)
    max_blob: int = DEFAULT_MAX_BLOB
    max_records: int = DEFAULT_MAX_RECORDS
    max_record_size: int = DEFAULT_MAX_RECORD_SIZE  # the sum of a record's file sizes
    max_push_size: int = DEFAULT_MAX_PUSH_SIZE  # record blobs read in one push (``Budget``)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one commit does relative to one parent: its violations and its new record IDs."""

    violations: tuple[Violation, ...]
    records: frozenset[str]


@dataclass(slots=True)
class Budget:
    """The bytes of record blobs one push may read, shared by every commit of every ref.

    A read that would go over ``limit`` is not made, and from then on nothing more
    is: ``exceeded`` stays set, and whoever holds the budget must refuse the push.
    """

    limit: int
    used: int = 0
    exceeded: bool = False

    def take(self, size: int) -> bool:
        """Whether ``size`` more bytes may be read; if so they are counted as read."""
        if self.exceeded or self.used + size > self.limit:
            self.exceeded = True
            return False
        self.used += size
        return True


def join(*parts: str) -> str:
    """Join path parts, dropping empty ones (the repository path ``.`` is the root)."""
    return "/".join(p for p in parts if p)


def repo_of(path: str, sit_paths: Iterable[str]) -> tuple[str, list[str]] | None:
    """The SIT repository a path belongs to (longest match by components) and the rest of it."""
    parts = path.split("/")
    best: list[str] | None = None
    for repo in sit_paths:
        prefix = [] if repo in ("", ".") else repo.split("/")
        inside = parts[: len(prefix)] == prefix and len(parts) > len(prefix)
        if inside and (best is None or len(prefix) > len(best)):
            best = prefix
    return None if best is None else ("/".join(best), parts[len(best):])


def id_length(config: RepoConfig) -> int:
    """The length of a record ID in a repository (for the depth of ``records/``)."""
    return _encoded_length(config.digest_size)


@functools.cache
def _encoded_length(digest_size: int) -> int:
    return len(encode_id(bytes(digest_size)))
