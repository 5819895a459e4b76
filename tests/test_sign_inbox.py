"""An inbox that requires signatures, end to end: real gpg, real `git push`, the installed hook.

The server trusts Alice's exported public key (``sit.inbox.trustedKeys``, a path
relative to the bare repository); the pusher has both Alice's and Mallory's
secret keys. Every rejection also checks that the server's refs did not move.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from git_sit import gpg
from git_sit.record import compute_id, split_path
from git_sit.signature import Sign, signed_files
from tests.gpgkeys import Keys, fixture_gpg_session, fixture_keys  # noqa: F401
from tests.helpers import git, record_files, sit
from tests.test_hook import ITEM, SEED_ID, SHORT, Inbox, assert_rejected, make_inbox, remote_lines

RULE = ("; this inbox accepts only records signed by its trusted keys: write it again signed by one, "
        "with --sign or --signing-key KEY")
CANNOT = r"sit inbox: cannot check signatures \(sit\.inbox\.requireSignature is set\), so the push is rejected: "


@pytest.fixture
def inbox(tmp_path: Path, keys: Keys) -> Inbox:
    inbox = make_inbox(tmp_path)
    shutil.copy(keys.alice_asc, inbox.server / "maintainers.asc")
    git(inbox.server, "config", "sit.inbox.requireSignature", "true")
    git(inbox.server, "config", "sit.inbox.trustedKeys", "maintainers.asc")
    return inbox


def comment(inbox: Inbox, text: str, *sign: str) -> str:
    """Comment on the seed issue with the real CLI and commit; return the record ID."""
    run = sit(inbox.work, "issue", "comment", ITEM[:8], "-m", text, *sign)
    assert run.code == 0, run.err
    git(inbox.work, "commit", "-qm", text)
    return run.out.strip()


def record_path(rid: str) -> str:
    return re.escape(f".sit/records/{split_path(rid)}")


def test_signed_by_a_trusted_key_is_accepted(inbox: Inbox, keys: Keys):
    comment(inbox, "signed by the maintainer", "--sign", "--signing-key", keys.alice)
    new = sit(inbox.work, "issue", "new", "-s", "A new issue", "--signing-key", keys.alice)
    assert new.code == 0, new.err
    git(inbox.work, "commit", "-qm", "new issue")
    run = inbox.push("origin", "HEAD:main")
    assert run.code == 0, run.err
    assert inbox.head() == git(inbox.work, "rev-parse", "HEAD").strip()


def test_unsigned_is_rejected(inbox: Inbox):
    before = inbox.refs()
    rid = comment(inbox, "not signed")
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: {record_path(rid)}: not signed{RULE}")
    assert len(remote_lines(run)) == 1


def test_signed_by_a_foreign_key_is_rejected(inbox: Inbox, keys: Keys):
    before = inbox.refs()
    comment(inbox, "fine", "--signing-key", keys.alice)
    rid = comment(inbox, "by someone else", "--signing-key", keys.mallory)
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: {record_path(rid)}: signed by "
                                        rf"{keys.mallory} which is not in the trusted keyring{RULE}")
    assert len(remote_lines(run)) == 1


def _alice(keys: Keys) -> Sign:
    tool = gpg.Gpg()
    return lambda message: tool.sign(message, keys.alice)


def _changed_after_signing(keys: Keys) -> dict[str, bytes]:
    good = signed_files(record_files(["Commented"], "Approved\n", prev=[SEED_ID]), _alice(keys))
    return {**good, "text": b"Approved, and also this\n"}


def _signature_of_another_record(keys: Keys) -> dict[str, bytes]:
    other = signed_files(record_files(["Commented"], "Harmless\n"), _alice(keys))
    return {**record_files(["Closed"], prev=[SEED_ID]), ".signature": other[".signature"]}


def _corrupted_signature(keys: Keys) -> dict[str, bytes]:
    good = signed_files(record_files(["Closed"], prev=[SEED_ID]), _alice(keys))
    armour = good[".signature"].decode().splitlines()
    body = next(i for i, line in enumerate(armour) if line == "") + 1  # first base64 line
    armour[body] = armour[body][:20] + ("A" if armour[body][20] != "A" else "B") + armour[body][21:]
    return {**good, ".signature": ("\n".join(armour) + "\n").encode()}


@pytest.mark.parametrize("make", [_changed_after_signing, _signature_of_another_record, _corrupted_signature],
                         ids=["content changed after signing", "signature of another record",
                              "corrupted signature"])
def test_tampered_signatures_are_rejected(inbox: Inbox, keys: Keys, make):
    files = make(keys)  # the record is re-hashed: only the signature can tell
    before = inbox.refs()
    rid = inbox.add_record(files, ITEM)
    assert rid == compute_id(files.items())
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: {record_path(rid)}: bad signature.*{RULE}")


def _gpg_output(keys: Keys, *how: str) -> bytes:
    result = subprocess.run(["gpg", "--batch", "--armor", *how, "--local-user", keys.alice],
                            input=b"hello\n", capture_output=True, check=True)
    return result.stdout


# gpg finds no detached signature in the last two and reports nothing on --status-fd.
NOT_DETACHED = {"junk": lambda keys: b"junk\n",
                "clear-signed": lambda keys: _gpg_output(keys, "--clearsign"),
                "inline-signed": lambda keys: _gpg_output(keys, "--sign")}


@pytest.mark.parametrize("make", NOT_DETACHED.values(), ids=NOT_DETACHED.keys())
def test_a_signature_that_is_not_detached_is_bad_and_the_rest_is_reported(inbox: Inbox, keys: Keys, make):
    files = {**record_files(["Commented"], "Approved\n", prev=[SEED_ID]), ".signature": make(keys)}
    before = inbox.refs()
    (inbox.work / "README").write_text("Changed in the same commit\n")
    rid = inbox.add_record(files, ITEM)
    assert rid == compute_id(files.items())
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: {record_path(rid)}: bad signature{RULE}",
                    rf"refs/heads/main {SHORT}: README: modified; existing files may not change")
    assert len(remote_lines(run)) == 2


def test_records_the_server_already_has_are_not_judged_again(inbox: Inbox):
    # The seed record is unsigned; a new link to it in another item adds no new record.
    inbox.commit({f".sit/items/9e8d7c6b-5a4f-4e3d-b2c1-0f9e8d7c6b5a/{SEED_ID}":
                  f"../../records/{split_path(SEED_ID)}".encode()})
    run = inbox.push("origin", "HEAD:main")
    assert run.code == 0, run.err


# A gpg that imports keys but fails to verify anything.
FAILING_VERIFY = """#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = --verify ]; then echo "gpg: out of cheese" >&2; exit 2; fi
done
exec gpg "$@"
"""


@pytest.mark.parametrize(("program", "message"), [
    ("no-such-gpg", CANNOT + r"cannot run gpg program '.*no-such-gpg' \(No such file or directory\); "
                             r"install GnuPG or point git config gpg\.program at it\."),
    ("/bin/false", CANNOT + r"gpg program '/bin/false' failed to import .*maintainers\.asc: no output"),
    ("failing-verify", CANNOT + r"gpg failed to verify a signature: gpg: out of cheese"),
])
def test_missing_or_broken_gpg_rejects_the_push(inbox: Inbox, keys: Keys, tmp_path: Path,
                                                program: str, message: str):
    script = tmp_path / "failing-verify"
    script.write_text(FAILING_VERIFY)
    script.chmod(0o755)
    git(inbox.server, "config", "gpg.program", str(tmp_path / program) if "/" not in program else program)
    before = inbox.refs()
    comment(inbox, "signed, but the server cannot check", "--signing-key", keys.alice)
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, message)


def test_unusable_trusted_keyring_rejects_the_push(inbox: Inbox, keys: Keys):
    before = inbox.refs()
    comment(inbox, "signed", "--signing-key", keys.alice)
    (inbox.server / "maintainers.asc").unlink()
    assert_rejected(inbox, before, inbox.push("origin", "HEAD:main"),
                    CANNOT + r"cannot read the trusted keyring .*maintainers\.asc: No such file or directory\.")
    git(inbox.server, "config", "--unset", "sit.inbox.trustedKeys")
    assert_rejected(inbox, before, inbox.push("origin", "HEAD:main"),
                    r"sit inbox: invalid configuration, every push is rejected until it is fixed: "
                    r"sit\.inbox\.requireSignature is true but sit\.inbox\.trustedKeys is not set; .*")


def test_absolute_keyring_path_and_signatures_off(inbox: Inbox, keys: Keys):
    git(inbox.server, "config", "sit.inbox.trustedKeys", str(keys.both_asc))
    comment(inbox, "by Mallory, trusted now", "--signing-key", keys.mallory)
    assert inbox.push("origin", "HEAD:main").code == 0
    git(inbox.server, "config", "sit.inbox.requireSignature", "false")
    comment(inbox, "unsigned, and signatures are off")
    assert inbox.push("origin", "HEAD:main").code == 0


def test_inbox_check_applies_the_signature_rule(inbox: Inbox, keys: Keys):
    shutil.copy(keys.alice_asc, inbox.work / ".git" / "maintainers.asc")
    git(inbox.work, "config", "sit.inbox.trustedKeys", "maintainers.asc")
    comment(inbox, "signed", "--signing-key", keys.alice)
    assert sit(inbox.work, "inbox", "check", "origin/main", "HEAD").code == 0
    rid = comment(inbox, "unsigned")
    run = sit(inbox.work, "inbox", "check", "origin/main", "HEAD")
    assert run.code == 1
    assert re.fullmatch(rf"{SHORT}: {record_path(rid)}: not signed{RULE}\n", run.out), run.out
