"""Signed records: what a record's OpenPGP signature covers and what a check of it means.

A record may carry ``.signature``, an ASCII-armoured detached OpenPGP signature
whose message is the ASCII record ID of a subset of the record's files
(SIT-FORMAT §4.3–§4.5): variant A covers every file but ``.signature``; variant B
(written by SIT from May 2018 on) also leaves out the ``.prev/*`` links. This
module is pure: it computes the messages, runs the §4.5 procedure over a given
``verify`` function (gpg in practice, see ``git_sit.gpg``), adds a signature to a
new record (variant A), and turns the outcome into JSON and one-line reasons.
A ``.signature`` holding more than one signature is bad: the verdict must be one
signature's, not a mix of two. ``tampered`` is ``verify``'s word for a record whose
content does not match its ID, before any signature is looked at.
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
# Not a signature's outcome: the record's content does not match its ID (``verify``).
TAMPERED = "tampered"

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
    signatures: int = 1  # how many signatures gpg found (the fields above may mix them)


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


def tampered() -> Verification:
    """The verification of a record whose content does not match its ID: its signature is moot."""
    return Verification(TAMPERED, note="content does not match its ID")


def has_prev(files: Mapping[str, bytes]) -> bool:
    return any(name.startswith(PREV_PREFIX) for name in files)


def verify_record(files: Mapping[str, bytes], verify: Verify,
                  hasher: Hasher = DEFAULT_HASHER) -> Verification:
    """The §4.5 procedure: unsigned, or variant A, else variant B, else bad."""
    signature = files.get(SIGNATURE)
    if signature is None:
        return Verification(UNSIGNED)
    first = verify(message(files, "A", hasher), signature)
    if first.signatures > 1:
        # One coherent verdict or none: which key signed, and which variant, is moot.
        note = f".signature holds {first.signatures} signatures, not one"
        return Verification(BAD, None, Check(BAD, output=first.output, signatures=first.signatures),
                            note)
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
    parts = [v.status if v.variant is None else f"{v.status} ({v.variant})"]
    key = _key(v.check)
    if key:
        parts.append(f"key {key}")
    if v.check is not None and v.check.signer:
        parts.append(v.check.signer)
    if v.note:
        parts.append(f"- {v.note}")
    return " ".join(parts)


def _key(check: Check | None) -> str | None:
    """The fingerprint (primary key's, else the signing key's) or key ID a check names."""
    if check is None:
        return None
    return check.primary_fingerprint or check.fingerprint or check.key_id


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


# What a signature that fits its record lacks, by status.
_STANDING = {EXPIRED_KEY: "key expired", EXPIRED_SIGNATURE: "signature expired",
             REVOKED_KEY: "key revoked"}


def skip_reason(verification: Verification) -> str | None:
    """``untrusted_reason`` as ``--explain`` phrases it: ``signature by S (key K): key revoked``."""
    v = verification
    if v.success or v.status in (UNSIGNED, UNKNOWN_KEY):
        return untrusted_reason(v)
    by = _by(v.check)
    if v.status in _STANDING:
        return f"signature{by}: {_STANDING[v.status]}"
    if v.status == BAD:
        return f"bad signature{by}" + (f": {v.note}" if v.note else "")
    if v.status == ERROR:
        return f"gpg could not check the signature{by}"
    return describe(v)


def _by(check: Check | None) -> str:
    """`` by SIGNER (key KEY)``, or as much of it as ``check`` names."""
    key = _key(check)
    signer = check.signer if check is not None else None
    if signer and key:
        return f" by {signer} (key {key})"
    if signer or key:
        return f" by {signer}" if signer else f" by key {key}"
    return ""


def check_record_signature(files: Mapping[str, bytes], trusted_verify: Verify,
                           hasher: Hasher = DEFAULT_HASHER) -> str | None:
    """For the inbox: why a new record must be rejected under a trusted keyring, or None."""
    return skip_reason(verify_record(files, trusted_verify, hasher))
