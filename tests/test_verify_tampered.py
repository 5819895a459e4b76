"""``verify`` and ``--trusted`` on what a checker must not let pass (real gpg, throwaway GNUPGHOME).

Records changed after they were written (their content no longer matches their ID),
empty ``--trusted``/``--signing-key`` values (an unset shell variable), a
``.signature`` holding two signatures, and how ``--explain`` words a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pygit2
import pytest

from git_sit import gpg
from git_sit.record import split_path
from git_sit.signature import check_record_signature, message
from tests.gpgkeys import ALICE, Keys, fixture_gpg_session, fixture_keys  # noqa: F401
from tests.helpers import commit_files, git, parse_blocks, record_files, sit, sit_tree_files

ITEM = "0b1c9a52-8d3e-4c7e-9b1a-2f5d6e7a8b9c"
TAMPERED = "tampered - content does not match its ID"


def _record(workdir: Path, text: str, *args: str) -> str:
    (workdir / "text").write_text(text)
    run = sit(workdir, "record", "-t", "Commented", *args, ITEM, "text")
    assert run.code == 0, run.err
    return run.out.strip()


def _record_dir(workdir: Path, record_id: str) -> Path:
    return workdir / ".sit" / "records" / split_path(record_id)


def _flip_one_character(signature: Path) -> None:
    lines = signature.read_text().splitlines(keepends=True)
    body = next(i for i, line in enumerate(lines) if len(line.strip()) > 40)  # a base64 line
    middle = len(lines[body]) // 2
    flipped = "A" if lines[body][middle] != "A" else "B"
    lines[body] = lines[body][:middle] + flipped + lines[body][middle + 1:]
    signature.write_text("".join(lines))


@pytest.fixture
def tampered(workdir: Path, keys: Keys) -> dict[str, str]:
    """Five records of ITEM: text changed, .signature changed, unsigned changed, two fine ones."""
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "item", "--id", ITEM).code == 0
    ids = {
        "text": _record(workdir, "Signed\n", "--signing-key", keys.alice),
        "signature": _record(workdir, "Signed too\n", "--signing-key", keys.alice),
        "unsigned": _record(workdir, "Unsigned\n"),
        "good": _record(workdir, "Fine\n", "--signing-key", keys.alice),
        "plain": _record(workdir, "Fine, unsigned\n"),
    }
    (_record_dir(workdir, ids["text"]) / "text").write_text("Forged\n")
    _flip_one_character(_record_dir(workdir, ids["signature"]) / ".signature")
    (_record_dir(workdir, ids["unsigned"]) / "text").write_text("Forged too\n")
    return ids


def _expected(ids: dict[str, str], keys: Keys, item: str | None = None) -> str:
    good = f"good (A) key {keys.alice} {ALICE}"
    statuses = [TAMPERED, TAMPERED, TAMPERED, good, "unsigned"]
    prefix = f"{item} " if item else ""
    return "".join(f"{prefix}{rid} {status}\n" for rid, status in zip(ids.values(), statuses, strict=True))


def test_verify_lists_records_changed_after_writing_and_exits_1(workdir: Path, keys: Keys,
                                                                tampered: dict[str, str]):
    cases: list[tuple[list[str], str | None]] = [
        ([], None), ([ITEM], ITEM), ([ITEM[:6]], ITEM), (["--trusted", str(keys.alice_asc)], None)]
    for args, item in cases:
        run = sit(workdir, "verify", *args)
        assert (run.code, run.out, run.err) == (1, _expected(tampered, keys, item), ""), args
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "tampered")
    for args, item in [(["--rev", "HEAD"], None), (["--rev", "HEAD", ITEM], ITEM)]:
        run = sit(workdir, "verify", *args)
        assert (run.code, run.out, run.err) == (1, _expected(tampered, keys, item), ""), args


def test_verify_json_of_a_tampered_record(workdir: Path, keys: Keys, tampered: dict[str, str]):
    run = sit(workdir, "verify", "--json", ITEM)
    assert run.code == 1, run.err
    values = parse_blocks(run.out)
    assert [v["record"] for v in values] == list(tampered.values())
    assert values[0] == {"item": ITEM, "record": tampered["text"], "verification": {
        "success": False, "output": "git-sit: content does not match its ID\n", "status": "tampered",
        "variant": None, "fingerprint": None, "signing_key": None, "key_id": None, "signer": None}}
    assert [v["verification"]["status"] for v in values] == [
        "tampered", "tampered", "tampered", "good", "unsigned"]


def test_verify_without_integrity_checks_the_signature_as_it_is(workdir: Path, keys: Keys,
                                                                tampered: dict[str, str]):
    run = sit(workdir, "-i", "verify")
    assert run.code == 1, run.err
    lines = dict(line.split(" ", 1) for line in run.out.splitlines())
    assert lines[tampered["text"]] == f"bad key {keys.alice[-16:]} {ALICE}"
    assert lines[tampered["unsigned"]] == "unsigned"
    assert lines[tampered["good"]] == f"good (A) key {keys.alice} {ALICE}"


def test_verify_of_untouched_records_still_exits_0(workdir: Path, keys: Keys):
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "item", "--id", ITEM).code == 0
    signed, plain = _record(workdir, "A\n", "--signing-key", keys.alice), _record(workdir, "B\n")
    run = sit(workdir, "verify")
    assert (run.code, run.err) == (0, "")
    assert run.out == f"{signed} good (A) key {keys.alice} {ALICE}\n{plain} unsigned\n"


EMPTY_TRUSTED = "Error: Invalid value for '--trusted': the file name is empty; " \
                "name a file of trusted public keys."


@pytest.mark.parametrize("args", [
    ["items", "--trusted", ""], ["items", "--trusted="], ["reduce", ITEM, "--trusted", ""],
    ["status", ITEM, "--trusted", ""], ["diff", "HEAD", "HEAD", "--trusted", ""],
    ["issue", "list", "--trusted", ""], ["issue", "show", ITEM, "--trusted", ""],
    ["verify", "--trusted", ""], ["verify", ITEM, "--rev", "HEAD", "--trusted", ""],
], ids=lambda args: " ".join(a for a in args if a not in (ITEM, "HEAD")))
def test_an_empty_trusted_keyring_is_a_usage_error(workdir: Path, args: list[str]):
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "item", "--id", ITEM).code == 0
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "init")
    run = sit(workdir, *args)
    assert (run.code, run.out) == (2, "")
    assert run.err.splitlines()[-1] == EMPTY_TRUSTED
    assert [line for line in run.err.splitlines() if line.startswith("Error")] == [EMPTY_TRUSTED]


EMPTY_KEY = "Error: Invalid value for '--signing-key': the key is empty; " \
            "name a gpg key, or leave the option out."


@pytest.mark.parametrize("args", [
    ["record", "-t", "Commented", "--signing-key", "", ITEM, "text"],
    ["record", "-t", "Commented", "--signing-key=", "--sign", ITEM, "text"],
    ["record", "-t", "Commented", "--signing-key", " ", ITEM, "text"],
    ["issue", "comment", ITEM, "-m", "x", "--signing-key", ""],
    ["issue", "new", "-s", "Title", "--signing-key", ""],
    ["issue", "close", ITEM, "--signing-key", ""],
], ids=["record", "record --signing-key= --sign", "record blank key", "issue comment", "issue new",
        "issue close"])
def test_an_empty_signing_key_is_a_usage_error_and_writes_nothing(workdir: Path, keys: Keys,
                                                                  args: list[str]):
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "item", "--id", ITEM).code == 0
    (workdir / "text").write_text("x\n")
    before = sorted(os.walk(workdir / ".sit"))
    run = sit(workdir, *args)
    assert (run.code, run.out) == (2, "")
    assert run.err.splitlines()[-1] == EMPTY_KEY
    assert sorted(os.walk(workdir / ".sit")) == before


def _gpg(*args: str, input: bytes) -> bytes:
    result = subprocess.run(["gpg", "--batch", *args], input=input, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def _two_signatures(keys: Keys) -> dict[str, dict[str, bytes]]:
    """Records whose .signature holds two signatures, each kind the tester found."""
    cases = {}
    for name, text in (("foreign and misfit", "One\n"), ("two good ones", "Two\n"),
                       ("good and misfit", "Three\n")):
        files = record_files(["Commented"], text)
        over_record = message(files, "A")
        if name == "foreign and misfit":  # Mallory's fits, Alice's is over something else
            signature = _gpg("--armor", "--detach-sign", "-u", keys.mallory, input=over_record) + \
                _gpg("--armor", "--detach-sign", "-u", keys.alice, input=b"other")
        elif name == "two good ones":  # one armour block, two signature packets
            signature = _gpg("--armor", "--detach-sign", "-u", keys.alice, "-u", keys.mallory,
                             input=over_record)
        else:
            signature = _gpg("--armor", "--detach-sign", "-u", keys.alice, input=over_record) + \
                _gpg("--armor", "--detach-sign", "-u", keys.mallory, input=b"other")
        cases[name] = {**files, ".signature": signature}
    return cases


MORE_THAN_ONE = "bad - .signature holds 2 signatures, not one"


def test_a_signature_file_with_two_signatures_is_bad(workdir: Path, keys: Keys,
                                                     repo: pygit2.Repository):
    cases = _two_signatures(keys)
    alone = record_files(["Commented"], "Alone\n")
    fine = {**alone, ".signature": _gpg("--armor", "--detach-sign", "-u", keys.alice,
                                        input=message(alone, "A"))}
    tree, ids = sit_tree_files({ITEM: [*cases.values(), fine]})
    commit_files(repo, tree)
    *doubled, single = ids[ITEM]
    for keyring in (None, keys.alice_asc, keys.mallory_asc):
        run = sit(workdir, "verify", "--rev", "HEAD", *(["--trusted", str(keyring)] if keyring else []))
        assert run.code == 1, run.err
        lines = dict(line.split(" ", 1) for line in run.out.splitlines())
        assert [lines[rid] for rid in doubled] == [MORE_THAN_ONE] * 3, keyring
        if keyring != keys.mallory_asc:
            assert lines[single] == f"good (A) key {keys.alice} {ALICE}"
    values = parse_blocks(sit(workdir, "verify", "--rev", "HEAD", "--json").out)
    entry = next(v["verification"] for v in values if v["record"] == doubled[0])
    assert {k: entry[k] for k in ("status", "variant", "fingerprint", "signing_key", "signer")} == {
        "status": "bad", "variant": None, "fingerprint": None, "signing_key": None, "signer": None}
    assert entry["output"].endswith("git-sit: .signature holds 2 signatures, not one\n")

    run = sit(workdir, "reduce", ITEM, "--rev", "HEAD", "--trusted", str(keys.alice_asc),
              "--explain", "-q", "length(comments)")
    assert (run.code, run.out) == (0, "1\n")
    assert sorted(run.err.splitlines()) == sorted(
        f"explain: record {rid} of item {ITEM}: skipped: bad signature: .signature holds 2 "
        "signatures, not one" for rid in doubled)

    tool = gpg.trusted(str(keys.alice_asc))
    try:  # the inbox's check
        reasons = [check_record_signature(files, tool.verify) for files in cases.values()]
    finally:
        tool.close()
    assert reasons == ["bad signature: .signature holds 2 signatures, not one"] * 3


def _extra_key(uid: str, *how: str) -> str:
    """A key made in the test's GNUPGHOME (its agent is stopped with the ``keys`` fixture's)."""
    _gpg("--passphrase", "", *how, input=b"")
    listing = _gpg("--with-colons", "--list-keys", uid, input=b"").decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def test_explain_words_each_reason_as_a_sentence(workdir: Path, keys: Keys, repo: pygit2.Repository,
                                                 tmp_path: Path):
    past = ("--faked-system-time", "20200101T000000")
    expired = _extra_key("<e@example.com>", *past, "--quick-gen-key", "E <e@example.com>", "ed25519",
                         "sign", "1d")
    old = _extra_key("<s@example.com>", *past, "--quick-gen-key", "S <s@example.com>", "ed25519",
                     "sign", "never")
    revoked = _extra_key("<r@example.com>", "--quick-gen-key", "R <r@example.com>", "ed25519",
                         "sign", "never")
    then = ("--faked-system-time", "20200101T120000")
    signers = [(expired, (*then,)), (old, (*then, "--default-sig-expire", "1d")), (revoked, ()),
               (keys.alice, ())]
    records = []
    for n, (key, how) in enumerate(signers):
        files = record_files(["Commented"], f"Comment {n}\n")
        signature = _gpg("--armor", "--detach-sign", *how, "-u", key, input=message(files, "A"))
        records.append({**files, ".signature": signature})
    records.append({**records[3], "text": b"Changed after signing\n"})  # re-hashed: only bad
    home = Path(os.environ["GNUPGHOME"])
    certificate = (home / "openpgp-revocs.d" / f"{revoked}.rev").read_text()
    _gpg("--import", input=certificate.replace(":-----BEGIN", "-----BEGIN").encode())
    keyring = tmp_path / "keys.asc"
    keyring.write_bytes(_gpg("--armor", "--export", expired, old, revoked, keys.alice, input=b""))
    tree, ids = sit_tree_files({ITEM: records})
    commit_files(repo, tree)

    run = sit(workdir, "reduce", ITEM, "--rev", "HEAD", "--trusted", str(keyring), "--explain",
              "-q", "length(comments)")
    assert (run.code, run.out) == (0, "1\n"), run.err
    alice_id = keys.alice[-16:]
    reasons = [f"signature by E <e@example.com> (key {expired}): key expired",
               f"signature by S <s@example.com> (key {old}): signature expired",
               f"signature by R <r@example.com> (key {revoked}): key revoked",
               f"bad signature by {ALICE} (key {alice_id})"]
    wanted = [f"explain: record {rid} of item {ITEM}: skipped: {reason}"
              for rid, reason in zip([*ids[ITEM][:3], ids[ITEM][4]], reasons, strict=True)]
    assert sorted(run.err.splitlines()) == sorted(wanted)

    run = sit(workdir, "verify", "--rev", "HEAD", "--trusted", str(keyring), "--json")
    statuses = [v["verification"]["status"] for v in parse_blocks(run.out)]
    assert (run.code, sorted(statuses)) == (1, sorted(
        ["expired-key", "expired-signature", "revoked-key", "good", "bad"]))
    assert json.loads(sit(workdir, "reduce", ITEM, "--rev", "HEAD", "-q", "length(comments)").out) == 5


def test_verify_fails_on_records_it_cannot_read(workdir: Path):
    """A record whose blob is missing (at --rev) or that git-sit cannot read (on disk) is not verified."""
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "item", "--id", ITEM).code == 0
    lost, odd, fine = (_record(workdir, text) for text in ("Lost\n", "Odd\n", "Fine\n"))
    git(workdir, "commit", "-q", "-m", "records")
    blob = git(workdir, "rev-parse", f"HEAD:.sit/records/{split_path(lost)}/text").strip()
    (workdir / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    at_rev = sit(workdir, "verify", "--rev", "HEAD")
    assert at_rev.code == 1
    assert at_rev.out.splitlines() == [f"{odd} unsigned", f"{fine} unsigned"]  # reduction order
    assert at_rev.err.splitlines() == [
        f"warning: record {lost}: git object {blob} is missing (partial or damaged clone?); skipped",
        f"Error: 1 record could not be read, so not verified: {lost}.",
    ]
    (_record_dir(workdir, odd) / "link").symlink_to("text")  # git-sit reads no symlinks in records
    on_disk = sit(workdir, "verify", ITEM)
    assert on_disk.code == 1
    assert on_disk.out.splitlines() == [f"{ITEM} {lost} unsigned", f"{ITEM} {fine} unsigned"]
    assert on_disk.err.splitlines()[-1] == f"Error: 1 record could not be read, so not verified: {odd}."
    assert len(on_disk.err.splitlines()) == 2 and odd in on_disk.err.splitlines()[0]
