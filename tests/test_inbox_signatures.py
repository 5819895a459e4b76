"""The inbox's signature rule, table-driven with a fake verify function (no gpg, no git).

The fake "signature" names a key and the message it signed; the fake verifier
trusts only ALICE, as gpg confined to a trusted keyring would. Expected messages
are computed here from the record's files (SIT-FORMAT §4.4), not by the code
under test.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from git_sit.inbox import Rules, check_commit
from git_sit.record import compute_id, split_path
from git_sit.signature import BAD, EXPIRED_KEY, GOOD, UNKNOWN_KEY, Check
from tests.helpers import record_files
from tests.test_inbox import BASE, ITEM, NEW_ITEM, R1, DictSnapshot, Files, diff, flat, link

ALICE = "A" * 40
MALLORY = "M" * 40
EXPIRED = "E" * 40
TRUSTED = {ALICE: GOOD, EXPIRED: EXPIRED_KEY}
RULE = ("; this inbox accepts only records signed by its trusted keys: write it again signed by one, "
        "with --sign or --signing-key KEY")


def fake_verify(message: bytes, signature: bytes) -> Check:
    """``sig KEY MESSAGE``: good if KEY is trusted and MESSAGE is the one given."""
    _, key, signed = signature.decode().split(" ")
    if key not in TRUSTED:
        return Check(UNKNOWN_KEY, fingerprint=key)
    if signed.encode() != message:
        return Check(BAD, fingerprint=key, primary_fingerprint=key)
    return Check(TRUSTED[key], fingerprint=key, primary_fingerprint=key)


def signed(files: Mapping[str, bytes], key: str, variant: str = "A") -> dict[str, bytes]:
    covered = [(n, d) for n, d in files.items() if variant == "A" or not n.startswith(".prev/")]
    return {**files, ".signature": f"sig {key} {compute_id(covered)}".encode()}


def record(key: str | None, text: str = "A comment\n", variant: str = "A",
           prev: tuple[str, ...] = (R1,)) -> dict[str, bytes]:
    files = record_files(types=["Commented"], text=text, authors="A <a@example.com>", prev=prev)
    return files if key is None else signed(files, key, variant)


def added(files: Mapping[str, bytes], item: str = ITEM) -> Files:
    rid = compute_id(files.items())
    return {**flat(files, rid), **link(item, rid)}


def tampered() -> dict[str, bytes]:
    """Signed by Alice, then the text was changed (and the record re-hashed to match)."""
    return {**record(ALICE), "text": b"Something else\n"}


def judge(new: Files, base: Files = BASE):
    parent, commit = DictSnapshot(base), DictSnapshot({**base, **new})
    return check_commit(parent, commit, diff(parent, commit), Rules(), fake_verify)


def record_dir(files: Mapping[str, bytes]) -> str:
    return f".sit/records/{split_path(compute_id(files.items()))}"


CASES: list[tuple[str, dict[str, bytes], str | None]] = [
    ("good, variant A", record(ALICE), None),
    ("good, variant B", record(ALICE, variant="B"), None),
    ("good, no .prev", record(ALICE, prev=()), None),
    ("unsigned", record(None), "not signed"),
    ("foreign key", record(MALLORY), f"signed by {MALLORY} which is not in the trusted keyring"),
    ("tampered", tampered(), f"bad signature by key {ALICE}"),
    ("expired key", record(EXPIRED), f"signature by key {EXPIRED}: key expired"),
]


@pytest.mark.parametrize(("files", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_signature_rule(files: dict[str, bytes], reason: str | None):
    verdict = judge(added(files))
    rid = compute_id(files.items())
    if reason is None:
        assert verdict.violations == ()
        assert verdict.records == {rid}
    else:
        # One line for the record; its link does not add a second one.
        assert [str(v) for v in verdict.violations] == [f"{record_dir(files)}: {reason}{RULE}"]
        assert verdict.records == frozenset()


def test_without_verify_unsigned_records_pass():
    parent = DictSnapshot(BASE)
    commit = DictSnapshot({**BASE, **added(record(None))})
    assert check_commit(parent, commit, diff(parent, commit), Rules()).violations == ()


def test_links_to_records_the_server_has_are_not_judged_again():
    assert judge(link(NEW_ITEM, R1)).violations == ()  # R1 is unsigned but already there


def test_every_bad_record_of_a_commit_is_reported():
    bad = [record(None, "one\n"), record(MALLORY, "two\n"), record(ALICE, "three\n")]
    verdict = judge({k: v for files in bad for k, v in added(files).items()})
    assert sorted(v.path for v in verdict.violations) == sorted(record_dir(f) for f in bad[:2])


def test_legacy_layout_records_are_judged_too():
    config = b'{"hashing_algorithm": {"blake2b": {"size": 20}}, "encoding": "base32", ' \
             b'"id_generator": "uuiv4", "version": "1"}'
    base = {".sit/config.json": config}
    files = record(None, prev=())
    rid = compute_id(files.items())
    new = {f".sit/items/{ITEM}/{rid}/{name}": data for name, data in files.items()}
    verdict = judge(new, base)
    assert [str(v) for v in verdict.violations] == [f".sit/items/{ITEM}/{rid}: not signed{RULE}"]
    good = record(ALICE, prev=())
    rid = compute_id(good.items())
    assert judge({f".sit/items/{ITEM}/{rid}/{n}": d for n, d in good.items()}, base).violations == ()
