"""Signed records: what a record's OpenPGP signature covers and what a check of it means.

A record may carry ``.signature``, an ASCII-armoured detached OpenPGP signature
whose message is the ASCII record ID of a subset of the record's files
(SIT-FORMAT §4.3–§4.5): variant A covers every file but ``.signature``; variant B
(written by SIT from May 2018 on) also leaves out the ``.prev/*`` links. This
module is pure: it computes the messages, runs the §4.5 procedure over a given
``verify`` function (gpg in practice, see ``git_sit.gpg``), adds a signature to a
new record (variant A), and turns the outcome into JSON and one-line reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from git_sit.openpgp import digest_matches
from git_sit.record import DEFAULT_HASHER, PREV_PREFIX, Hasher, compute_id

SIGNATURE = ".signature"

# Outcomes of checking one signature (``Check.status``) and of a record (``Verification.status``).
UNSIGNED = "unsigned"
GOOD = "good"
BAD = "bad"
UNKNOWN_KEY = "unknown-key"
EXPIRED_KEY = "expired-key"
EXPIRED_SIGNATURE = "expired-signature"
REVOKED_KEY = "revoked-key"
ERROR = "error"

# The signature matches the message; only the key's standing differs.
MATCHING = frozenset({GOOD, EXPIRED_KEY, EXPIRED_SIGNATURE, REVOKED_KEY})
# gpg could not tell whether the signature matches (no key, unsupported algorithm...).
UNCHECKED = frozenset({UNKNOWN_KEY, ERROR})


@dataclass(frozen=True, slots=True)
class Check:
    """What the verifier said about one detached signature over one message."""

    status: str
    fingerprint: str | None = None  # the signing (sub)key's fingerprint
    primary_fingerprint: str | None = None  # its primary key's fingerprint
    key_id: str | None = None
    signer: str | None = None  # user ID of the key, or the signer's UID from the signature
    output: str = ""  # gpg's human-readable report


Verify = Callable[[bytes, bytes], Check]  # (message, armoured signature) -> Check
Sign = Callable[[bytes], bytes]  # message -> armoured detached signature


@dataclass(frozen=True, slots=True)
class Verification:
    """A record's signature status: unsigned, or a check and which variant it matched."""

    status: str
    variant: str | None = None  # "A" or "B" when known
    check: Check | None = None
    note: str = ""  # why the outcome is what it is, when gpg alone does not say

    @property
    def success(self) -> bool:
        """True only for a good signature by a usable key."""
        return self.status == GOOD


def message(files: Mapping[str, bytes], variant: str, hasher: Hasher = DEFAULT_HASHER) -> bytes:
    """The signed message of a variant: the ASCII ID of the covered files, no newline (§4.4)."""
    covered = [
        (name, data) for name, data in files.items()
        if name != SIGNATURE and not (variant == "B" and name.startswith(PREV_PREFIX))
    ]
    return compute_id(covered, hasher).encode("ascii")


def has_prev(files: Mapping[str, bytes]) -> bool:
    return any(name.startswith(PREV_PREFIX) for name in files)


def verify_record(files: Mapping[str, bytes], verify: Verify,
                  hasher: Hasher = DEFAULT_HASHER) -> Verification:
    """The §4.5 procedure: unsigned, or variant A, else variant B, else bad."""
    signature = files.get(SIGNATURE)
    if signature is None:
        return Verification(UNSIGNED)
    first = verify(message(files, "A", hasher), signature)
    if first.status in MATCHING:
        return Verification(first.status, "A", first)
    if first.status in UNCHECKED:
        return _unchecked(files, signature, first, hasher)
    if not has_prev(files):
        return Verification(BAD, None, first)
    second = verify(message(files, "B", hasher), signature)
    if second.status in MATCHING:
        return Verification(second.status, "B", second)
    return Verification(BAD, None, first)


def _unchecked(files: Mapping[str, bytes], signature: bytes, check: Check,
               hasher: Hasher) -> Verification:
    """Without the key, the signature's 16-bit digest prefix still tells the variant (or a misfit)."""
    variants = ("A", "B") if has_prev(files) else ("A",)
    verdicts = [digest_matches(signature, message(files, v, hasher)) for v in variants]
    for variant, verdict in zip(variants, verdicts, strict=True):
        if verdict:
            return Verification(check.status, variant, check)
    if verdicts and all(v is False for v in verdicts):
        note = "the signature's digest does not match this record's content"
        return Verification(BAD, None, check, note)
    return Verification(check.status, None, check)


def signed_files(files: Mapping[str, bytes], sign: Sign,
                 hasher: Hasher = DEFAULT_HASHER) -> dict[str, bytes]:
    """``files`` plus a variant A ``.signature`` (pass the complete file set, ``.prev`` included)."""
    if SIGNATURE in files:
        raise ValueError("the record already has a .signature")
    return {**files, SIGNATURE: sign(message(files, "A", hasher))}


def describe(verification: Verification) -> str:
    """One line for people: ``good (A) by FINGERPRINT Signer`` and the like."""
    v = verification
    if v.status == UNSIGNED or v.check is None:
        return v.status
    parts = [v.status if v.variant is None else f"{v.status} ({v.variant})"]
    key = v.check.primary_fingerprint or v.check.fingerprint or v.check.key_id
    if key:
        parts.append(f"key {key}")
    if v.check.signer:
        parts.append(v.check.signer)
    if v.note:
        parts.append(f"- {v.note}")
    return " ".join(parts)


def verification_json(verification: Verification) -> dict[str, object]:
    """The record JSON's ``"verification"`` entry: SIT's ``success`` and ``output``, and more."""
    v = verification
    check = v.check or Check(v.status)
    output = check.output + (f"git-sit: {v.note}\n" if v.note else "")
    return {
        "success": v.success,
        "output": output,
        "status": v.status,
        "variant": v.variant,
        "fingerprint": check.primary_fingerprint or check.fingerprint,
        "signing_key": check.fingerprint,
        "key_id": check.key_id,
        "signer": check.signer,
    }


def untrusted_reason(verification: Verification) -> str | None:
    """Why a record does not count under a trusted keyring; None if it does."""
    v = verification
    if v.success:
        return None
    if v.status == UNSIGNED:
        return "not signed"
    if v.status == UNKNOWN_KEY:
        key = v.check.fingerprint or v.check.key_id if v.check else None
        return f"signed by {key or 'a key'} which is not in the trusted keyring"
    return f"signature is {describe(v)}"


def check_record_signature(files: Mapping[str, bytes], trusted_verify: Verify,
                           hasher: Hasher = DEFAULT_HASHER) -> str | None:
    """For the inbox: why a new record must be rejected under a trusted keyring, or None."""
    return untrusted_reason(verify_record(files, trusted_verify, hasher))
