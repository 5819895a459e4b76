"""Records: SIT's content-addressed record identity, with no I/O.

A record is a set of named files; its ID is a hash of those files computed exactly
as SIT computes it (SIT-FORMAT §2), including the reused 4096-byte buffer that
makes the obvious recipe wrong. This module also owns the base32 flavour SIT uses,
the split directory path of a flat record (§3.1), the link-file content, and file
name normalisation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


class HashObject(Protocol):
    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...
    def digest(self) -> bytes: ...


Hasher = Callable[[], HashObject]

BUFFER_SIZE = 4096
TYPE_PREFIX = ".type/"
PREV_PREFIX = ".prev/"


def blake2b_hasher(size: int) -> Hasher:
    """A BLAKE2b hasher factory with digest length ``size`` bytes (not truncated)."""
    return lambda: hashlib.blake2b(digest_size=size)


def sha1_hasher() -> HashObject:
    return hashlib.sha1()


DEFAULT_HASHER: Hasher = blake2b_hasher(20)


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # every 10-bit group as two characters


def encode_id(digest: bytes) -> str:
    """Base32 as SIT writes it: upper case, ``-`` as the padding character."""
    if len(digest) == 20:  # the usual size: 160 bits are 16 groups of 10, no padding
        n = int.from_bytes(digest, "big")
        return "".join([_PAIRS[(n >> shift) & 1023] for shift in range(150, -1, -10)])
    return base64.b32encode(digest).decode("ascii").replace("=", "-")


def decode_id(text: str) -> bytes | None:
    """Strictly decode a record ID; ``None`` if it is not one SIT could have written."""
    if not text or len(text) % 8 or not text.isascii():
        return None
    try:
        digest = base64.b32decode(text.replace("-", "="))
    except (binascii.Error, ValueError):
        return None
    # Re-encoding rejects lower case, misplaced padding and non-zero trailing bits.
    return digest if encode_id(digest) == text else None


def is_record_id(text: str) -> bool:
    """True if ``text`` is a valid base32 record ID."""
    return decode_id(text) is not None


def normalise_name(name: str) -> str:
    """Normalise a file name inside a record as SIT does before hashing (§2.1)."""
    parts: list[str] = []
    for part in name.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _name_key(item: tuple[str, bytes]) -> bytes:
    return item[0].encode("utf-8")


def compute_id(files: Iterable[tuple[str, bytes]], hasher: Hasher = DEFAULT_HASHER) -> str:
    """Hash a record's files into its ID, reproducing SIT's buffer reuse (§2.2).

    Names must already be normalised. Each file feeds its name, then the whole
    4096-byte buffer once per chunk (only the chunk's prefix is overwritten, the
    tail keeps older bytes), then the whole buffer once more for the final empty read.
    """
    h = hasher()
    buf = bytearray(BUFFER_SIZE)
    ordered = sorted(files, key=_name_key)
    rest = ordered
    if ordered and len(ordered[0][1]) <= BUFFER_SIZE:
        h, rest = _after_first(h, buf, ordered)
    for name, data in rest:
        _feed(h, buf, name, data)
    return encode_id(h.digest())


def _feed(h: HashObject, buf: bytearray, name: str, data: bytes) -> None:
    update = h.update
    update(name.encode("utf-8"))
    size = len(data)
    if size <= BUFFER_SIZE:  # the usual case: at most one chunk, then the final read
        if size:
            buf[:size] = data
            update(buf)
        update(buf)
        return
    view = memoryview(data)
    for offset in range(0, size, BUFFER_SIZE):
        chunk = view[offset : offset + BUFFER_SIZE]
        buf[: len(chunk)] = chunk
        update(buf)
    update(buf)


# The hash state after a record's first file, by hasher and file. The buffer is still all
# zeros then, so what the first file feeds depends on its name and bytes alone; nearly every
# record starts with ``.authors``, and a repository has few authors: a copy of the state
# replaces hashing 8 KiB, about a fifth of a typical record's hashing.
_FIRST_FILE: dict[tuple[object, ...], HashObject] = {}
_FIRST_FILE_LIMIT = 4096


def _after_first(h: HashObject, buf: bytearray, ordered: list[tuple[str, bytes]]
                 ) -> tuple[HashObject, list[tuple[str, bytes]]]:
    """The state after the first file (at most one chunk long) and the files still to feed."""
    copy = getattr(h, "copy", None)
    if copy is None:
        return h, ordered
    name, data = ordered[0]
    # What the hasher is: its type and a digest of nothing (differs with any key, salt or size).
    key = (type(h), copy().digest(), name, bytes(data))
    found = _FIRST_FILE.get(key)
    if found is None:
        _feed(h, buf, name, data)
        if len(_FIRST_FILE) < _FIRST_FILE_LIMIT:
            _FIRST_FILE[key] = h.copy()  # type: ignore[attr-defined]
        return h, ordered[1:]
    buf[:len(data)] = data
    return found.copy(), ordered[1:]  # type: ignore[attr-defined]


def split_path(record_id: str) -> str:
    """The path of a flat record below ``records/``: 2-character chunks, last dropped, then the ID."""
    chunks = [record_id[i : i + 2] for i in range(0, len(record_id), 2)]
    return "/".join([*chunks[:-1], record_id])


def link_content(record_id: str) -> bytes:
    """The exact content SIT writes into ``items/<ITEM>/<ID>`` (no trailing newline)."""
    return f"../../records/{split_path(record_id)}".encode("ascii")


@dataclass(frozen=True, slots=True)
class Record:
    """One record: its ID and its files (normalised name → raw bytes)."""

    id: str
    files: Mapping[str, bytes] = field(repr=False)

    @property
    def prev(self) -> frozenset[str]:
        """Names of the records this one follows (``.prev/<ID>``)."""
        return frozenset(
            name[len(PREV_PREFIX) :]
            for name in self.files
            if name.startswith(PREV_PREFIX) and "/" not in name[len(PREV_PREFIX) :]
        )

    @property
    def types(self) -> frozenset[str]:
        """The record's types (``.type/<TYPE>``), exact names."""
        return frozenset(
            name[len(TYPE_PREFIX) :] for name in self.files if name.startswith(TYPE_PREFIX)
        )

    def verifies(self, hasher: Hasher = DEFAULT_HASHER) -> bool:
        """True if the files hash to the record's ID."""
        return compute_id(self.files.items(), hasher) == self.id


def record_json(record: Record) -> dict[str, object]:
    """A record as ``sit records`` shows it: text files as strings, others marked binary (§6)."""
    files: dict[str, object] = {}
    for name, data in record.files.items():
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            files[name] = {"type": "binary"}
    return {"hash": record.id, "files": files}
