"""Signing and verifying records with a real gpg and throwaway keys (both variants, tampering)."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from git_sit import gpg
from git_sit.errors import SitError
from git_sit.record import compute_id
from git_sit.signature import (
    BAD,
    GOOD,
    UNKNOWN_KEY,
    check_record_signature,
    message,
    signed_files,
    verify_record,
)
from tests.gpgkeys import Keys, fixture_gpg_session, fixture_keys  # noqa: F401
from tests.helpers import record_files

PARENT = "OU6DLR5CV5V3RD62QIG5GXKWTQIWPHPR"


def record(prev: tuple[str, ...] = (PARENT,)) -> dict[str, bytes]:
    return record_files(["SummaryChanged"], "Crash on empty input\n", "Alice <alice@example.com>",
                        "2026-01-02T03:04:05.000000000Z", prev)


def variant_b(files: dict[str, bytes], key: str) -> dict[str, bytes]:
    """As SIT wrote records from May 2018: sign the ID without ``.prev``, then add ``.prev``."""
    payload = {n: d for n, d in files.items() if not n.startswith(".prev/")}
    signature = gpg.Gpg().sign(compute_id(payload.items()).encode(), key)
    return {**files, ".signature": signature}


def test_sign_then_verify_good_variant_a(keys: Keys):
    tool = gpg.Gpg()
    files = signed_files(record(), lambda m: tool.sign(m, keys.alice))
    assert files[".signature"].startswith(b"-----BEGIN PGP SIGNATURE-----")
    result = verify_record(files, tool.verify)
    assert (result.status, result.variant) == (GOOD, "A")
    assert result.check is not None
    assert result.check.primary_fingerprint == keys.alice
    assert result.check.signer == "Alice Maintainer <alice@example.com>"
    assert "Good signature" in result.check.output


def test_variant_b_verifies_as_b(keys: Keys):
    tool = gpg.Gpg()
    files = variant_b(record(), keys.mallory)
    result = verify_record(files, tool.verify)
    assert (result.status, result.variant) == (GOOD, "B")
    assert result.check is not None and result.check.primary_fingerprint == keys.mallory


def test_tampered_record_is_bad(keys: Keys):
    tool = gpg.Gpg()
    files = signed_files(record(), lambda m: tool.sign(m, keys.alice))
    tampered = {**files, "text": b"Not a crash at all\n"}
    result = verify_record(tampered, tool.verify)
    assert result.status == BAD and not result.success
    parentless = signed_files(record(prev=()), lambda m: tool.sign(m, keys.alice))
    assert verify_record({**parentless, ".type/Closed": b""}, tool.verify).status == BAD


def test_unknown_key_is_not_bad_and_still_names_the_variant(keys: Keys, tmp_path: Path):
    signing = gpg.Gpg()
    a = signed_files(record(), lambda m: signing.sign(m, keys.alice))
    b = variant_b(record(), keys.alice)
    empty = tmp_path / "empty-gnupg"
    empty.mkdir(mode=0o700)
    stranger = gpg.Gpg(home=str(empty))
    for files, variant in ((a, "A"), (b, "B")):
        result = verify_record(files, stranger.verify)
        assert (result.status, result.variant) == (UNKNOWN_KEY, variant)
        assert result.check is not None and result.check.fingerprint == keys.alice
    # The stored digest prefix fits neither variant: bad even without the key.
    tampered = verify_record({**a, "text": b"changed\n"}, stranger.verify)
    assert tampered.status == BAD and "digest" in tampered.note


@pytest.mark.parametrize("keyring", ["alice_asc", "alice_gpg", "session_kbx"])
def test_trusted_keyring_accepts_only_its_keys(keys: Keys, keyring: str, tmp_path: Path):
    path = keys.home / "pubring.kbx" if keyring == "session_kbx" else getattr(keys, keyring)
    if keyring == "session_kbx":  # a keyring file holding both keys, read as --keyring
        path = tmp_path / "pubring.kbx"
        path.write_bytes((keys.home / "pubring.kbx").read_bytes())
    signing = gpg.Gpg()
    by_alice = signed_files(record(), lambda m: signing.sign(m, keys.alice))
    by_mallory = signed_files(record(), lambda m: signing.sign(m, keys.mallory))
    trusted = gpg.trusted(str(path))
    try:
        assert trusted.fingerprint.startswith("keyring:sha256:")
        assert verify_record(by_alice, trusted.verify).status == GOOD
        expected = GOOD if keyring == "session_kbx" else UNKNOWN_KEY
        assert verify_record(by_mallory, trusted.verify).status == expected
    finally:
        trusted.close()
    assert trusted.home is not None and not os.path.exists(trusted.home)


def test_inbox_check_with_a_trusted_keyring(keys: Keys):
    signing = gpg.Gpg()
    trusted = gpg.trusted(str(keys.alice_asc))
    try:
        check = trusted.verify
        by_alice = signed_files(record(), lambda m: signing.sign(m, keys.alice))
        assert check_record_signature(by_alice, check) is None
        assert check_record_signature(variant_b(record(), keys.alice), check) is None
        assert check_record_signature(record(), check) == "not signed"
        foreign = check_record_signature(
            signed_files(record(), lambda m: signing.sign(m, keys.mallory)), check)
        assert foreign == f"signed by {keys.mallory} which is not in the trusted keyring"
        bad = check_record_signature({**by_alice, "text": b"changed\n"}, check)
        assert bad is not None and bad.startswith("bad signature")
    finally:
        trusted.close()


def test_keyring_without_keys_is_an_error(tmp_path: Path, gpg_session: Keys):
    empty = tmp_path / "empty.asc"
    empty.write_text("nothing here\n")
    with pytest.raises(SitError, match="holds no OpenPGP public keys"):
        gpg.trusted(str(empty))
    with pytest.raises(SitError, match="cannot read the trusted keyring"):
        gpg.trusted(str(tmp_path / "missing.asc"))


def test_missing_or_broken_gpg_is_a_clear_error(tmp_path: Path):
    missing = gpg.Gpg(str(tmp_path / "no-such-gpg"))
    with pytest.raises(gpg.GpgError, match=r"cannot run gpg program .*no-such-gpg"):
        missing.sign(b"MESSAGE")
    with pytest.raises(gpg.GpgError, match="cannot run gpg program"):
        missing.verify(b"MESSAGE", b"sig")
    broken = tmp_path / "broken-gpg"
    broken.write_text("#!/bin/sh\necho 'gpg: out of order' >&2\nexit 2\n")
    broken.chmod(0o755)
    with pytest.raises(gpg.GpgError, match="failed to sign the record: gpg: out of order"):
        gpg.Gpg(str(broken)).sign(b"MESSAGE")
    with pytest.raises(gpg.GpgError, match="failed to verify a signature: gpg: out of order"):
        gpg.Gpg(str(broken)).verify(b"MESSAGE", _armour("SIGNATURE", SIGNATURE_PACKET))
    # Over something that is no detached signature, silence is that signature's fault.
    junk = gpg.Gpg(str(broken)).verify(b"MESSAGE", b"sig")
    assert junk.status == BAD and "out of order" in junk.output


def test_signing_with_an_unknown_key_fails(keys: Keys):
    with pytest.raises(gpg.GpgError, match="failed to sign"):
        gpg.Gpg().sign(message(record(), "A"), "nobody@example.com")


def _armour(kind: str, data: bytes) -> bytes:
    return f"-----BEGIN PGP {kind}-----\n\n{base64.b64encode(data).decode()}\n-----END PGP {kind}-----\n".encode()


SIGNATURE_PACKET = bytes([0xC2, 3, 4, 0, 0])  # new-format tag 2; the body does not matter here
ONE_PASS_PACKET = bytes([0xC4, 3, 3, 0, 0])  # tag 4, how an inline-signed message starts


@pytest.mark.parametrize(("signature", "detached"), [
    (_armour("SIGNATURE", SIGNATURE_PACKET), True),
    (b"leading text\n" + _armour("SIGNATURE", SIGNATURE_PACKET), True),
    (SIGNATURE_PACKET, True),
    (bytes([0x88, 3, 4, 0, 0]), True),  # old-format tag 2
    (b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhello\n" + _armour("SIGNATURE", SIGNATURE_PACKET),
     False),
    (_armour("MESSAGE", ONE_PASS_PACKET), False),
    (_armour("SIGNATURE", ONE_PASS_PACKET), False),
    (_armour("PUBLIC KEY BLOCK", bytes([0xC6, 1, 4])), False),
    (b"junk\n", False),
    (b"", False),
], ids=["armoured", "after text", "binary", "old format", "clear-signed", "inline-signed",
        "not a signature packet", "a key", "junk", "empty"])
def test_is_detached_signature(signature, detached):
    assert gpg.is_detached_signature(signature) is detached


def _gpg_output(keys: Keys, data: bytes, *how: str) -> bytes:
    result = subprocess.run(["gpg", "--batch", *how, "--local-user", keys.alice], input=data,
                            capture_output=True, check=True)
    return result.stdout


NOT_DETACHED = {"clear-signed": ("--armor", "--clearsign"), "inline-signed": ("--armor", "--sign"),
                "inline-signed, binary": ("--sign",)}


@pytest.mark.parametrize("how", NOT_DETACHED.values(), ids=NOT_DETACHED.keys())
def test_a_signature_that_is_not_detached_is_bad(keys: Keys, how: tuple[str, ...]):
    # Made by a trusted key over the very message: still no detached signature, so bad.
    files = record()
    signature = _gpg_output(keys, message(files, "A"), *how)
    trusted = gpg.trusted(str(keys.alice_asc))
    try:
        for tool in (gpg.Gpg(), trusted):
            check = tool.verify(message(files, "A"), signature)
            assert check.status == BAD
            assert "not a detached signature" in check.output
            assert verify_record({**files, ".signature": signature}, tool.verify).status == BAD
        reason = check_record_signature({**files, ".signature": signature}, trusted.verify)
        assert reason is not None and reason.startswith("bad signature")
    finally:
        trusted.close()
