"""Just enough OpenPGP (RFC 4880) to tell which message a signature was made over, without its key.

Every OpenPGP signature packet stores the first 16 bits of the digest it signs.
Recomputing that digest over a candidate message plus the packet's hashed trailer
and comparing the two bytes says "this signature was not made over that message"
with certainty, and "it probably was" with a 1 in 65,536 chance of a false match.
git-sit uses this only to name the variant (SIT-FORMAT §4.4) of signatures by keys
it does not have, and to call those that fit neither variant bad; checking a
signature's authenticity is always gpg's job.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator

_HASHES = {1: "md5", 2: "sha1", 3: "ripemd160", 8: "sha256", 9: "sha384", 10: "sha512",
           11: "sha224", 12: "sha3_256", 14: "sha3_512"}
_SIGNATURE_TAG = 2


def dearmor(text: bytes) -> bytes | None:
    """The binary packets of an ASCII-armoured block (any ``-----BEGIN PGP ...``), or None."""
    lines = text.decode("ascii", errors="replace").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN PGP "))
    except StopIteration:
        return None
    body: list[str] = []
    in_headers = True
    for line in lines[start + 1 :]:
        line = line.strip()
        if in_headers:
            in_headers = bool(line) and ":" in line
            if in_headers or not line:
                continue
        if line.startswith("-----END ") or line.startswith("="):
            break
        body.append(line)
    try:
        return base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        return None


def packets(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(tag, body) of each packet; stops quietly at anything malformed or partial."""
    pos = 0
    while pos < len(data):
        first = data[pos]
        if not first & 0x80:
            return
        if first & 0x40:  # new format
            tag, (length, pos) = first & 0x3F, _new_length(data, pos + 1)
        else:
            tag, (length, pos) = (first >> 2) & 0x0F, _old_length(data, pos + 1, first & 0x03)
        if length < 0 or pos + length > len(data):
            return
        yield tag, data[pos : pos + length]
        pos += length


def _new_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        return -1, pos
    o1 = data[pos]
    if o1 < 192:
        return o1, pos + 1
    if o1 < 224 and pos + 1 < len(data):
        return ((o1 - 192) << 8) + data[pos + 1] + 192, pos + 2
    if o1 == 255 and pos + 4 < len(data):
        return int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
    return -1, pos  # partial body lengths never occur in signature packets


def _old_length(data: bytes, pos: int, kind: int) -> tuple[int, int]:
    if kind == 3:
        return len(data) - pos, pos
    size = (1, 2, 4)[kind]
    if pos + size > len(data):
        return -1, pos
    return int.from_bytes(data[pos : pos + size], "big"), pos + size


def _signed_digest(body: bytes, message: bytes) -> tuple[bytes, bytes] | None:
    """(computed digest, stored 16-bit prefix) for a v3 or v4 signature packet body."""
    if len(body) >= 19 and body[0] == 3 and body[1] == 5:
        hash_algo, material, left = body[16], body[2:7], body[17:19]
        trailer = b""
    elif len(body) >= 6 and body[0] == 4:
        hashed_len = int.from_bytes(body[4:6], "big")
        end = 6 + hashed_len
        if len(body) < end + 2:
            return None
        unhashed_len = int.from_bytes(body[end : end + 2], "big")
        left = body[end + 2 + unhashed_len : end + 4 + unhashed_len]
        hash_algo, material = body[3], body[:end]
        trailer = b"\x04\xff" + len(material).to_bytes(4, "big")
    else:
        return None
    name = _HASHES.get(hash_algo)
    if name is None or len(left) != 2:
        return None
    try:
        h = hashlib.new(name)
    except ValueError:
        return None
    h.update(message + material + trailer)
    return h.digest(), left


def digest_matches(armoured: bytes, message: bytes) -> bool | None:
    """True if some signature in ``armoured`` hashes ``message`` to its stored prefix.

    False if every signature packet was understood and none fits; None if there was
    nothing to understand (not OpenPGP, unknown version or hash algorithm).
    """
    data = dearmor(armoured)
    if data is None:
        return None
    results = [
        found[0][:2] == found[1]
        for tag, body in packets(data)
        if tag == _SIGNATURE_TAG and (found := _signed_digest(body, message)) is not None
    ]
    if not results:
        return None
    return any(results)
