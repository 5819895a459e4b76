"""Content keys for cached item states: what exactly decides an item's reduced state.

An item's state is a function of the settings (git-sit version, reducer set
fingerprint, whether integrity is checked and with which hash, the record filter's
fingerprint, e.g. a trusted keyring), the item's ID
(it is in the initial state) and the content of each record directory its entries
resolve to. The **state key** hashes exactly that: in git trees each resolved
directory is named by its tree object ID, which fixes every byte below it; in the
work tree by a stat signature of every file below it (size, mtime, ctime, inode),
and only when no file changed in the last ``RACY_SECONDS`` (a rewrite within the
file system's timestamp granularity could otherwise go unnoticed, git's "racy
clean" problem). A link that does not resolve is simply absent, so a record
directory appearing later changes the key. Items with problems never get a key.

Computing the state key needs each link resolved, sixteen tree levels deep. The
**quick key** avoids that in git trees: it hashes the item directories' object IDs
(which fix every link file's name and content) and, for each link, the object ID
of the ``records/XX/YY`` subtree holding the canonical path of its name. An alias
quick key → state key is only recorded for items whose every link consulted just
that canonical path (``ItemEntries.simple``), so equal quick keys imply equal
resolution and equal records.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterable

from git_sit import __version__, snapshot
from git_sit.layout import ItemDir, ItemEntries, Layout
from git_sit.view import Kind, Node

# Bumped when what a read yields changes within one version: 2, a symlinked item link warns;
# 3, a read whose item listing warned leaves no snapshot (one could be served silently);
# 4, a symlinked record directory warns. Bump ``warm.MEMO_FORMAT`` with it.
KEY_FORMAT = "git-sit state key 4"
RACY_SECONDS = 2.0


def digest(parts: Iterable[str]) -> bytes:
    """An unambiguous 20-byte digest of a sequence of strings."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8", "surrogateescape")
        h.update(b"%d:" % len(data))
        h.update(data)
    return h.digest()


def settings_key(fingerprint: str, integrity: bool, hashing: str, trust: str = "") -> bytes:
    """Everything besides the records that decides a state: version, reducers, integrity, trust."""
    check = f"checked:{hashing}" if integrity else "unchecked"
    return digest([KEY_FORMAT, __version__, fingerprint, check, trust])


def snapshot_settings(settings: bytes) -> bytes:
    """The settings snapshots are filed under: also what their link hashes mean (``snapshot.FORMAT``)."""
    return digest(["snapshot settings", snapshot.FORMAT, settings.hex()])


def snapshot_key(settings: bytes, sit_tree: str) -> bytes:
    """The key of a revision's list of items and state keys (its SIT tree fixes it)."""
    return digest(["snapshot", settings.hex(), sit_tree])


def quick_key(settings: bytes, layout: Layout, item_id: str, dirs: list[ItemDir],
              listed: list[list[Node]]) -> bytes | None:
    """The cheap key of an item in a git tree (``None`` on disk); ``listed``: ``Layout.list_item``."""
    parts = ["quick", settings.hex(), item_id]
    for (parent, node), children in zip(dirs, listed, strict=True):
        if node.key is None:
            return None
        parts += [parent, node.key]
        for child in children:
            if child.kind is Kind.FILE and len(child.name) >= 8:
                parts += [child.name, layout.bucket_key(child.name)]
    return digest(parts)


def state_key(settings: bytes, item_id: str, entries: ItemEntries) -> bytes | None:
    """The exact key of an item's state from its resolved entries; ``None`` if not cacheable."""
    if entries.problems:
        return None
    parts = ["state", settings.hex(), item_id]
    for record_id, node in sorted(entries.nodes.items()):
        if node.key is not None:
            signature = node.key
        elif isinstance(node.handle, str):
            found = disk_signature(node.handle)
            if found is None:
                return None
            signature = found
        else:
            return None
        parts += [record_id, signature]
    return digest(parts)


def disk_signature(path: str) -> str | None:
    """A stat signature of every entry below ``path``; ``None`` if anything changed just now."""
    lines: list[str] = []
    newest = 0
    try:
        for top, dirs, files in os.walk(path):
            dirs.sort()
            rel = os.path.relpath(top, path)
            for name in sorted(files):
                info = os.lstat(os.path.join(top, name))
                kind = "f" if stat.S_ISREG(info.st_mode) else "o"
                lines.append(f"{rel}/{name}:{kind}:{info.st_size}:{info.st_mtime_ns}:"
                             f"{info.st_ctime_ns}:{info.st_ino}:{info.st_mode}")
                newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
            for name in dirs:
                info = os.lstat(os.path.join(top, name))
                lines.append(f"{rel}/{name}/:{info.st_mode}:{info.st_ino}")
    except OSError:
        return None
    if newest > (time.time() - RACY_SECONDS) * 1e9:
        return None
    return digest(lines).hex()
