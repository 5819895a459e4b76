"""The pure signature logic: messages (§4.4), the §4.5 procedure, status parsing, settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from git_sit.errors import SitError
from git_sit.gpg import parse_status
from git_sit.openpgp import digest_matches
from git_sit.record import compute_id
from git_sit.signature import (
    BAD,
    ERROR,
    EXPIRED_KEY,
    EXPIRED_SIGNATURE,
    GOOD,
    REVOKED_KEY,
    UNKNOWN_KEY,
    UNSIGNED,
    Check,
    Verification,
    check_record_signature,
    describe,
    message,
    signed_files,
    skip_reason,
    tampered,
    verification_json,
    verify_record,
)
from git_sit.signing import parse_bool, signing_settings
from tests.helpers import FIXTURE

HELLO = "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"  # SIT-FORMAT §2.4: `test` = `hello`
PARENT = "OU6DLR5CV5V3RD62QIG5GXKWTQIWPHPR"


def test_messages_leave_out_signature_and_for_b_the_parent_links():
    signed = {"test": b"hello", ".signature": b"sig"}
    assert message(signed, "A") == HELLO.encode()
    assert message(signed, "B") == HELLO.encode()
    with_prev = {**signed, f".prev/{PARENT}": b""}
    assert message(with_prev, "B") == HELLO.encode()
    assert message(with_prev, "A") == compute_id([("test", b"hello"), (f".prev/{PARENT}", b"")]).encode()
    assert message(with_prev, "A") != message(with_prev, "B")


class FakeVerify:
    """A verifier answering by message, recording what it was asked."""

    def __init__(self, answers: Mapping[bytes, str]) -> None:
        self.answers = answers
        self.asked: list[bytes] = []

    def __call__(self, msg: bytes, signature: bytes) -> Check:
        self.asked.append(msg)
        return Check(self.answers.get(msg, BAD), fingerprint="F" * 40, signer="Someone")


WITH_PREV = {"test": b"hello", f".prev/{PARENT}": b"", ".signature": b"not armoured"}
A = message(WITH_PREV, "A")
B = message(WITH_PREV, "B")


@pytest.mark.parametrize(("answers", "status", "variant", "asked"), [
    ({A: GOOD}, GOOD, "A", [A]),
    ({A: BAD, B: GOOD}, GOOD, "B", [A, B]),
    ({A: BAD, B: BAD}, BAD, None, [A, B]),
    ({A: EXPIRED_KEY}, EXPIRED_KEY, "A", [A]),
    ({A: BAD, B: EXPIRED_KEY}, EXPIRED_KEY, "B", [A, B]),
    # gpg cannot check: asking again for B would not help; an unparseable signature keeps no variant
    ({A: UNKNOWN_KEY}, UNKNOWN_KEY, None, [A]),
    ({A: ERROR}, ERROR, None, [A]),
])
def test_verification_procedure(answers, status, variant, asked):
    verify = FakeVerify(answers)
    result = verify_record(WITH_PREV, verify)
    assert (result.status, result.variant, verify.asked) == (status, variant, asked)
    assert result.success == (status == GOOD)


def test_unsigned_records_are_not_checked():
    verify = FakeVerify({})
    assert verify_record({"test": b"hello"}, verify).status == UNSIGNED
    assert verify.asked == []


def test_without_prev_links_variant_b_is_not_tried():
    verify = FakeVerify({})
    assert verify_record({"test": b"hello", ".signature": b"x"}, verify).status == BAD
    assert verify.asked == [HELLO.encode()]


def test_signed_files_sign_every_file_including_prev_links() -> None:
    seen: list[bytes] = []

    def sign(msg: bytes) -> bytes:
        seen.append(msg)
        return b"SIGNATURE"

    files = {"test": b"hello", f".prev/{PARENT}": b""}
    result = signed_files(files, sign)
    assert seen == [compute_id(files.items()).encode()]
    assert result == {**files, ".signature": b"SIGNATURE"}
    with pytest.raises(ValueError):
        signed_files(result, sign)


def test_verification_json_keeps_sits_keys():
    good = verify_record(WITH_PREV, FakeVerify({A: GOOD}))
    value = verification_json(good)
    assert value["success"] is True and isinstance(value["output"], str)
    assert (value["status"], value["variant"], value["fingerprint"], value["signer"]) == (
        GOOD, "A", "F" * 40, "Someone")
    assert verification_json(verify_record({"t": b""}, FakeVerify({})))["status"] == UNSIGNED


@pytest.mark.parametrize(("answers", "files", "reason"), [
    ({A: GOOD}, WITH_PREV, None),
    ({}, {"test": b"hello"}, "not signed"),
    ({A: UNKNOWN_KEY}, WITH_PREV, "which is not in the trusted keyring"),
    ({A: BAD, B: BAD}, WITH_PREV, "bad signature"),
    ({A: EXPIRED_KEY}, WITH_PREV, ": key expired"),
])
def test_inbox_reasons(answers, files, reason):
    found = check_record_signature(files, FakeVerify(answers))
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found


# Status text as gpg 2.2 writes it with --status-fd (captured from real runs).
GOOD_STATUS = """[GNUPG:] NEWSIG
[GNUPG:] KEY_CONSIDERED 3EA59AB2E7673D63B33DF8D0FDE9C32F2FF19E3D 0
[GNUPG:] SIG_ID u4g5wupSCHKP4TMbHKMjBXsJWKc 2026-11-22 1795317788
[GNUPG:] GOODSIG FDE9C32F2FF19E3D Alice <alice@example.com>
[GNUPG:] VALIDSIG 3EA59AB2E7673D63B33DF8D0FDE9C32F2FF19E3D 2026-11-22 1795317788 0 4 0 22 8 00 \
3EA59AB2E7673D63B33DF8D0FDE9C32F2FF19E3D
[GNUPG:] TRUST_ULTIMATE 0 pgp
"""
BAD_STATUS = """[GNUPG:] NEWSIG
[GNUPG:] BADSIG FDE9C32F2FF19E3D Alice <alice@example.com>
"""
NO_KEY_STATUS = """[GNUPG:] NEWSIG me@yrashk.com
[GNUPG:] ERRSIG 1D60D7CFD80845FF 1 8 00 1524087317 9 8E691A14E6AC91CB3BB3A83C1D60D7CFD80845FF
[GNUPG:] NO_PUBKEY 1D60D7CFD80845FF
"""


@pytest.mark.parametrize(("text", "status", "fingerprint", "key_id", "signer"), [
    (GOOD_STATUS, GOOD, "3EA59AB2E7673D63B33DF8D0FDE9C32F2FF19E3D", "FDE9C32F2FF19E3D",
     "Alice <alice@example.com>"),
    (BAD_STATUS, BAD, None, "FDE9C32F2FF19E3D", "Alice <alice@example.com>"),
    (NO_KEY_STATUS, UNKNOWN_KEY, "8E691A14E6AC91CB3BB3A83C1D60D7CFD80845FF", "1D60D7CFD80845FF",
     "me@yrashk.com"),
    ("[GNUPG:] NODATA 1\n[GNUPG:] NODATA 2\n", BAD, None, None, None),
    (GOOD_STATUS + BAD_STATUS, BAD, "3EA59AB2E7673D63B33DF8D0FDE9C32F2FF19E3D", "FDE9C32F2FF19E3D",
     "Alice <alice@example.com>"),
])
def test_parse_status(text, status, fingerprint, key_id, signer):
    check = parse_status(text, "human text")
    assert check is not None
    assert (check.status, check.fingerprint, check.key_id, check.signer) == (
        status, fingerprint, key_id, signer)
    assert check.output == "human text"


@pytest.mark.parametrize(("text", "count"), [
    (GOOD_STATUS, 1), (BAD_STATUS, 1), (NO_KEY_STATUS, 1), ("[GNUPG:] NODATA 1\n", 1),
    (GOOD_STATUS + BAD_STATUS, 2), (NO_KEY_STATUS + GOOD_STATUS + BAD_STATUS, 3),
    (GOOD_STATUS.replace("[GNUPG:] NEWSIG\n", ""), 1),  # no NEWSIG (older gpg): outcome lines count
])
def test_parse_status_counts_signatures(text, count):
    check = parse_status(text)
    assert check is not None and check.signatures == count


def test_two_signatures_are_bad_whatever_each_says():
    def verify(msg: bytes, signature: bytes) -> Check:
        return Check(GOOD, "F" * 40, "F" * 40, "F" * 16, "Someone", "gpg said\n", signatures=2)

    result = verify_record(WITH_PREV, verify)
    assert (result.status, result.variant, result.success) == (BAD, None, False)
    assert describe(result) == "bad - .signature holds 2 signatures, not one"
    value = verification_json(result)
    assert (value["fingerprint"], value["signer"], value["output"]) == (
        None, None, "gpg said\ngit-sit: .signature holds 2 signatures, not one\n")
    assert check_record_signature(WITH_PREV, verify) == \
        "bad signature: .signature holds 2 signatures, not one"


def test_tampered_records():
    assert describe(tampered()) == "tampered - content does not match its ID"
    value = verification_json(tampered())
    assert (value["success"], value["status"], value["output"]) == (
        False, "tampered", "git-sit: content does not match its ID\n")


KEY = "F" * 40


@pytest.mark.parametrize(("verification", "reason"), [
    (Verification(GOOD, "A", Check(GOOD, KEY, KEY, signer="S")), None),
    (Verification(UNSIGNED), "not signed"),
    (Verification(UNKNOWN_KEY, "A", Check(UNKNOWN_KEY, KEY, key_id="F" * 16)),
     f"signed by {KEY} which is not in the trusted keyring"),
    (Verification(EXPIRED_KEY, "A", Check(EXPIRED_KEY, KEY, KEY, signer="S <s@e>")),
     f"signature by S <s@e> (key {KEY}): key expired"),
    (Verification(EXPIRED_SIGNATURE, "B", Check(EXPIRED_SIGNATURE, KEY, KEY, signer="S <s@e>")),
     f"signature by S <s@e> (key {KEY}): signature expired"),
    (Verification(REVOKED_KEY, "A", Check(REVOKED_KEY, KEY, "E" * 40, signer="S <s@e>")),
     f"signature by S <s@e> (key {'E' * 40}): key revoked"),
    (Verification(BAD, None, Check(BAD, key_id="F" * 16, signer="S <s@e>")),
     f"bad signature by S <s@e> (key {'F' * 16})"),
    (Verification(BAD, None, Check(BAD)), "bad signature"),
    (Verification(BAD, None, Check(UNKNOWN_KEY, key_id="F" * 16), "it fits no variant"),
     f"bad signature by key {'F' * 16}: it fits no variant"),
    (Verification(ERROR, None, Check(ERROR, key_id="F" * 16)),
     f"gpg could not check the signature by key {'F' * 16}"),
])
def test_skip_reasons_read_as_sentences(verification, reason):
    assert skip_reason(verification) == reason


def test_parse_status_without_status_lines_is_none():
    assert parse_status("") is None
    assert parse_status("gpg: something odd\n") is None


def test_describe():
    good = verify_record(WITH_PREV, FakeVerify({A: BAD, B: GOOD}))
    assert describe(good) == f"good (B) key {'F' * 40} Someone"
    assert describe(verify_record({"t": b""}, FakeVerify({}))) == "unsigned"


def _fixture_signed_records() -> list[dict[str, bytes]]:
    found = []
    for dirpath, _, names in os.walk(FIXTURE / ".sit" / "records"):
        if ".signature" in names:
            base = Path(dirpath)
            found.append({str(p.relative_to(base)): p.read_bytes()
                          for p in base.rglob("*") if p.is_file()})
    return found


def test_digest_prefix_names_the_variant_of_real_sit_signatures(fixture_dir):
    """SIT-FORMAT §4.5 evidence: every real signature fits variant A or B (or both without .prev)."""
    records = _fixture_signed_records()
    assert len(records) == 59
    seen = {"A": 0, "B": 0}
    for files in records:
        a = digest_matches(files[".signature"], message(files, "A"))
        b = digest_matches(files[".signature"], message(files, "B"))
        assert a or b
        if any(name.startswith(".prev/") for name in files):
            assert a != b
            seen["A" if a else "B"] += 1
            # §4.5: variant A until 2018-05-02, variant B from 2018-05-20 on
            assert bool(b) == (files[".timestamp"].decode() >= "2018-05-20")
        assert digest_matches(files[".signature"], b"SOME OTHER MESSAGE") is False
    assert seen["A"] and seen["B"]


def test_digest_prefix_of_something_else_is_unknown():
    assert digest_matches(b"not armoured at all", b"x") is None
    assert digest_matches(b"-----BEGIN PGP SIGNATURE-----\n\n!!!!\n-----END PGP SIGNATURE-----\n",
                          b"x") is None


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("true", True), ("Yes", True), ("on", True), ("1", True),
    ("false", False), ("no", False), ("off", False), ("0", False), ("", False),
])
def test_parse_bool(value, expected):
    assert parse_bool(value, "sit.sign") is expected


def test_parse_bool_rejects_other_words():
    with pytest.raises(SitError, match=r"sit\.sign"):
        parse_bool("maybe", "sit.sign")


@pytest.mark.parametrize(("sign", "key", "git", "user", "expected"), [
    (None, None, {}, {}, (False, None, "gpg")),
    (None, None, {"sit.sign": "true", "user.signingkey": "K"}, {}, (True, "K", "gpg")),
    (False, None, {"sit.sign": "true"}, {}, (False, None, "gpg")),
    (None, "K2", {"user.signingkey": "K"}, {}, (True, "K2", "gpg")),
    (None, None, {"gpg.program": "gpg2", "gpg.openpgp.program": "my-gpg"}, {}, (False, None, "my-gpg")),
    (None, None, {}, {"signing": {"enabled": True, "key": "S", "gnupg": "sitgpg"}}, (True, "S", "sitgpg")),
    (None, None, {"sit.sign": "false"}, {"signing": {"enabled": True}}, (False, None, "gpg")),
])
def test_signing_settings(sign, key, git, user, expected):
    settings = signing_settings(sign, key, git.get, user)
    assert (settings.enabled, settings.key, settings.program) == expected
