"""A SIT repository with every awkward case the readers must agree on, as a file map.

Values are bytes (a regular file) or ``("link", target)`` (a symbolic link). The
items cover: the flat layout, legacy ``items/<id>/<record>/`` and ``issues/``
directories (merged with a flat item of the same ID), a dangling link, a record
failing integrity that still unblocks its child, a cross-item ``.prev``, link files
with non-canonical content, a link pointing outside the repository, a chain of
links, an absolute link, a record holding a symbolic link, an item with no records,
and enough plain items to fill several blocks of the bulk reader.
"""

from __future__ import annotations

import os
from pathlib import Path

import pygit2

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.record import compute_id, link_content, split_path
from tests.helpers import record_files

Files = dict[str, "bytes | tuple[str, str]"]
SIT = ".sit"


def _rec(item: str, n: int, types: tuple[str, ...] = ("Commented",), prev: tuple[str, ...] = ()
         ) -> dict[str, bytes]:
    return record_files(types, f"{item} text {n}\n", f"Author {n} <a{n}@example.com>",
                        f"2024-01-{n % 28 + 1:02}T00:00:00Z", prev)


def _flat(files: Files, item: str, record: dict[str, bytes], link: bytes | None = None) -> str:
    rid = compute_id(record.items())
    for name, data in record.items():
        files[f"{SIT}/records/{split_path(rid)}/{name}"] = data
    files[f"{SIT}/items/{item}/{rid}"] = link_content(rid) if link is None else link
    return rid


def _chain(files: Files, item: str, first: int, count: int) -> list[str]:
    ids: list[str] = []
    for n in range(first, first + count):
        types = ("SummaryChanged",) if n == first else ("Commented",)
        ids.append(_flat(files, item, _rec(item, n, types, tuple(ids[-1:]))))
    return ids


def tricky_files(plain_items: int = 24) -> Files:
    """Paths (below the work tree) → content of the awkward repository."""
    files: Files = {f"{SIT}/config.json": DEFAULT_CONFIG_BYTES}
    a = _chain(files, "a-flat", 1, 3)
    # Legacy record directories inside items/ and issues/; issues/c also has a flat link.
    for parent, item in (("items", "b-legacy"), ("issues", "c-merged")):
        record = _rec(item, 10, ("SummaryChanged",))
        rid = compute_id(record.items())
        for name, data in record.items():
            files[f"{SIT}/{parent}/{item}/{rid}/{name}"] = data
    _flat(files, "c-merged", _rec("c-merged", 11, ("Closed",)))
    # A dangling link next to a good record.
    _chain(files, "d-dangling", 20, 1)
    files[f"{SIT}/items/d-dangling/{'D' * 32}"] = link_content("D" * 32)
    # A record whose content does not match its ID, followed by a good child.
    bad = _rec("e-integrity", 30, ("SummaryChanged",))
    bad_id = compute_id(bad.items())
    for name, data in {**bad, "text": b"tampered\n"}.items():
        files[f"{SIT}/records/{split_path(bad_id)}/{name}"] = data
    files[f"{SIT}/items/e-integrity/{bad_id}"] = link_content(bad_id)
    _flat(files, "e-integrity", _rec("e-integrity", 31, ("Closed",), (bad_id,)))
    # Cross-item .prev (ignored for ordering).
    _flat(files, "f-cross", _rec("f-cross", 40, ("SummaryChanged",), (a[-1],)))
    _flat(files, "f-cross", _rec("f-cross", 41, ("Commented",)))
    # Non-canonical link contents: trailing newline, Windows separators.
    rid = compute_id(_rec("g-links", 50).items())
    _flat(files, "g-links", _rec("g-links", 50), link_content(rid) + b"\n")
    rid = compute_id(_rec("g-links", 51).items())
    _flat(files, "g-links", _rec("g-links", 51), link_content(rid).replace(b"/", b"\\"))
    # A link pointing outside the repository; an absolute link (canonical fallback).
    _flat(files, "h-outside", _rec("h-outside", 60), b"../../../../etc/passwd")
    _flat(files, "h-outside", _rec("h-outside", 61), b"/somewhere/else")
    # A chain: the link names a file under links/ that names the record directory.
    rid = _flat(files, "i-chain", _rec("i-chain", 70), f"../../links/{'X' * 8}".encode())
    files[f"{SIT}/links/{'X' * 8}"] = f"../records/{split_path(rid)}".encode()
    # A record holding a symbolic link: unreadable for git-sit.
    rid = _flat(files, "j-symlink", _rec("j-symlink", 80))
    files[f"{SIT}/records/{split_path(rid)}/evil"] = ("link", "../../etc/passwd")
    _flat(files, "j-symlink", _rec("j-symlink", 81, ("Closed",)))
    # An item with no records at all.
    files[f"{SIT}/items/k-empty/README"] = b"not a record\n"
    for index in range(plain_items):
        _chain(files, f"p{index:03}", 100 + index * 5, 1 + index % 4)
    return files


def write_tree(repo: pygit2.Repository, files: Files) -> pygit2.Oid:
    """A git tree holding ``files`` (symbolic links as mode 120000)."""
    index = pygit2.Index()
    for path, data in files.items():
        if isinstance(data, tuple):
            blob, mode = repo.create_blob(data[1].encode()), pygit2.enums.FileMode.LINK
        else:
            blob, mode = repo.create_blob(data), pygit2.enums.FileMode.BLOB
        index.add(pygit2.IndexEntry(path, blob, mode))
    return index.write_tree(repo)


def commit(repo: pygit2.Repository, files: Files, ref: str = "refs/heads/main") -> pygit2.Oid:
    """Commit exactly ``files`` on ``ref`` (parent: the ref's current commit, if any)."""
    sig = pygit2.Signature("Test", "test@example.com", 1767323045, 0)
    try:
        parents = [repo.references[ref].peel(pygit2.Commit).id]
    except KeyError:
        parents = []
    return repo.create_commit(ref, sig, sig, "tricky", write_tree(repo, files), parents)


def write_disk(top: Path, files: Files) -> None:
    """Write ``files`` into a work tree."""
    for path, data in files.items():
        target = top / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, tuple):
            os.symlink(data[1], target)
        else:
            target.write_bytes(data)
