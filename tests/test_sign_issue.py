"""Signed ``git sit issue`` records (real gpg, throwaway GNUPGHOME) and trusted issue views.

Each signature is checked here with gpg directly against the message SIT-FORMAT
§4.4 defines for variant A (the ID of every file but ``.signature``, ``.prev``
links included), computed in the test, not by the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from git_sit import gpg
from git_sit.issue import Draft
from git_sit.locate import Options
from git_sit.record import PREV_PREFIX, Record, compute_id
from git_sit.signature import GOOD
from git_sit.target import Branch, write_drafts
from tests.gpgkeys import Keys, fixture_gpg_session, fixture_keys  # noqa: F401
from tests.helpers import commit_files, git, record_files, sit, sit_tree_files
from tests.test_issue_cli import fails, new_issue, ok, records_at, records_on_disk, snapshot

ALICE_UID = "Alice Maintainer <alice@example.com>"


@pytest.fixture
def project(workdir: Path, keys: Keys) -> Path:
    assert sit(workdir, "init").code == 0
    git(workdir, "commit", "-qm", "init")
    return workdir


def assert_signed_a(record: Record, fingerprint: str) -> None:
    """The record's ID covers .signature, and gpg calls it good over the variant A message."""
    assert record.id == compute_id(record.files.items())
    covered = [(n, d) for n, d in record.files.items() if n != ".signature"]
    check = gpg.Gpg().verify(compute_id(covered).encode("ascii"), record.files[".signature"])
    assert (check.status, check.primary_fingerprint) == (GOOD, fingerprint)
    if record.prev:  # variant B (no .prev) must not fit: the links are covered
        without_prev = [(n, d) for n, d in covered if not n.startswith(PREV_PREFIX)]
        assert gpg.Gpg().verify(compute_id(without_prev).encode(), record.files[".signature"]).status != GOOD


def test_new_comment_close_sign_in_the_work_tree(project: Path, keys: Keys):
    item = new_issue(project, "Signed", "-d", "details", "--sign", "--signing-key", keys.alice)
    ok(project, "comment", item, "-m", "signed comment", "--signing-key", "alice@example.com")
    ok(project, "close", item, "--sign", "--signing-key", keys.alice)
    ok(project, "reopen", item)  # not asked to sign: unsigned
    records = records_on_disk(project, item)
    assert len(records) == 5
    unsigned = [r for r in records.values() if ".signature" not in r.files]
    assert [r.types for r in unsigned] == [{"Reopened"}]
    for record in records.values():
        if record not in unsigned:
            assert_signed_a(record, keys.alice)
    assert sum(bool(r.prev) for r in records.values()) == 4
    staged = git(project, "diff", "--cached", "--name-only").split()
    assert sum(path.endswith("/.signature") for path in staged) == 4
    run = sit(project, "verify", item)
    assert run.code == 0, run.err
    assert run.out.count(f"good (A) key {keys.alice} {ALICE_UID}") == 4


def test_sign_with_on_commits_signed_records(project: Path, keys: Keys):
    git(project, "branch", "inbox")
    before = snapshot(project)
    item = new_issue(project, "On a branch", "--on", "inbox", "--signing-key", keys.alice)
    ok(project, "comment", item, "-m", "hi", "--on", "inbox", "--sign", "--signing-key", keys.alice)
    ok(project, "close", item, "--on", "inbox", "--signing-key", keys.alice)
    ok(project, "label", item, "+bug", "--on", "inbox", "--signing-key", keys.alice)
    assert snapshot(project) == before
    records = records_at(project, "inbox", item)
    assert len(records) == 5
    for record in records.values():
        assert_signed_a(record, keys.alice)
    assert sit(project, "verify", "--rev", "inbox").out.count("good (A)") == 5


def test_sit_sign_signs_every_writing_command_by_default(project: Path, keys: Keys):
    git(project, "config", "sit.sign", "true")
    git(project, "config", "user.signingkey", keys.mallory)
    item = new_issue(project, "Default")
    commands = [
        ("comment", item, "-m", "c"), ("close", item), ("reopen", item),
        ("edit", item, "-s", "Renamed"), ("label", item, "+bug"), ("assign", item, "+alice"),
        ("milestone", item, "v1"),
    ]
    for command in commands:
        assert ok(project, *command).strip(), command
    opted_out = ok(project, "comment", item, "-m", "mine", "--no-sign").strip()
    records = records_on_disk(project, item)
    assert len(records) == 2 + len(commands) + 1
    assert ".signature" not in records[opted_out].files
    for rid, record in records.items():
        if rid != opted_out:
            assert_signed_a(record, keys.mallory)
    git(project, "config", "sit.sign", "false")
    unsigned = ok(project, "comment", item, "-m", "x").strip()
    assert ".signature" not in records_on_disk(project, item)[unsigned].files


def test_label_values_are_not_taken_for_sign_options(project: Path, keys: Keys):
    item = new_issue(project, "Ops")
    (added,) = ok(project, "label", item, "+s").split()
    (rid,) = ok(project, "label", item, "-s", "+sign", "--signing-key", keys.alice, "+x").split()
    record = records_on_disk(project, item)[rid]
    assert json.loads(record.files["labels.json"]) == {"add": ["sign", "x"], "remove": {"s": [added]}}
    assert_signed_a(record, keys.alice)


def test_missing_gpg_fails_only_when_signing_and_writes_nothing(project: Path, keys: Keys, tmp_path: Path):
    item = new_issue(project, "No gpg")
    git(project, "commit", "-qm", "issue")
    git(project, "branch", "inbox")
    git(project, "config", "gpg.program", str(tmp_path / "no-such-gpg"))
    before, tip = snapshot(project), git(project, "rev-parse", "inbox")
    assert "cannot run gpg program" in fails(project, "comment", item, "-m", "x", "--sign")
    assert "cannot run gpg program" in fails(project, "new", "-s", "x", "--on", "inbox", "--sign")
    assert snapshot(project) == before and git(project, "rev-parse", "inbox") == tip
    ok(project, "comment", item, "-m", "unsigned is fine", "--on", "inbox")
    ok(project, "comment", item, "-m", "here too")


def test_records_composed_again_after_the_branch_moved_are_signed_again(project: Path, keys: Keys):
    """Someone adds a record to the item while we sign: the retry links to it and re-signs."""
    item = "0a5c8b68-994b-4156-967d-4a88807545c4"
    root = record_files(["SummaryChanged"], text="Title\n")
    files, ids = sit_tree_files({item: [root]})
    commit_files(pygit2.Repository(str(project)), files, ref="refs/heads/inbox")
    intruder = record_files(["Commented"], text="meanwhile\n", prev=ids[item])
    moved, _ = sit_tree_files({item: [root, intruder]})
    target = Branch(str(project), "inbox", Options())
    tool = gpg.Gpg()
    signed: list[bytes] = []

    def sign(message: bytes) -> bytes:
        if not signed:  # the first signature is made while the branch moves on
            commit_files(pygit2.Repository(str(project)), moved, ref="refs/heads/inbox")
        signed.append(message)
        return tool.sign(message, keys.alice)

    drafts = [Draft(("Commented",), {"text": b"one\n"}), Draft(("Closed",))]
    pending, commit = write_drafts(target, item, drafts, "A <a@example.com>", "Two records", sign)
    assert commit is not None and len(signed) == 4  # two records, composed and signed twice
    records = records_at(project, "inbox", item)
    first, second = (records[p.record_id] for p in pending)
    assert first.prev == {compute_id(intruder.items())} and second.prev == {first.id}
    for record in (first, second):
        assert_signed_a(record, keys.alice)


def test_issue_list_and_show_trusted_ignore_an_untrusted_close(project: Path, keys: Keys):
    item = new_issue(project, "Keep me open", "--signing-key", keys.alice)
    closed = ok(project, "close", item, "--signing-key", keys.mallory).strip()
    ok(project, "comment", item, "-m", "unsigned", "--no-sign")
    git(project, "commit", "-qm", "issue")
    trusted = ("--trusted", str(keys.alice_asc))

    def states(*args: str) -> dict[str, str]:
        return {s["id"]: s["state"] for s in json.loads(ok(project, "list", "--json", *args))}

    assert states("--state", "all") == {item: "closed"}
    assert states("--state", "all", *trusted) == {item: "open"}
    assert states(*trusted) == {item: "open"} and states() == {}
    assert item[:8] in ok(project, "list", *trusted)
    run = sit(project, "issue", "show", item[:8], "--json", *trusted, "--explain")
    assert run.code == 0, run.err
    shown = json.loads(run.out)
    assert (shown["state"], shown["summary"], shown.get("comments", [])) == ("open", "Keep me open", [])
    lines = run.err.splitlines()
    assert f"explain: record {closed} of item {item}: skipped: signed by {keys.mallory} " \
           "which is not in the trusted keyring" in lines
    assert len(lines) == 2 and "skipped: not signed" in lines[0] + lines[1]
    assert json.loads(ok(project, "show", item, "--json"))["state"] == "closed"
    plain = ok(project, "show", item, *trusted)
    assert "Keep me open" in plain and "open" in plain


def test_an_issue_with_no_trusted_record_is_unknown_not_open(project: Path, keys: Keys):
    trusted_item = new_issue(project, "Signed by Alice", "--signing-key", keys.alice)
    stranger = new_issue(project, "Signed by Mallory", "--signing-key", keys.mallory)
    git(project, "commit", "-qm", "issues")
    trusted = ("--trusted", str(keys.alice_asc))

    def states(*args: str) -> dict[str, str | None]:
        return {s["id"]: s.get("state") for s in json.loads(ok(project, "list", "--json", *args))}

    assert states(*trusted) == {trusted_item: "open"}  # the default, open, leaves it out
    assert states("--state", "unknown", *trusted) == {stranger: None}
    assert states("--state", "all", *trusted) == {trusted_item: "open", stranger: None}
    assert states("--state", "unknown") == {}
    rows = {line.split()[0]: line.split()[1] for line in ok(project, "list", "--state", "all", *trusted).splitlines()}
    assert rows == {trusted_item[:8]: "open", stranger[:8]: "unknown"}
    assert ok(project, "show", stranger, *trusted).splitlines()[1].startswith("unknown · ")
    status = sit(project, "status", stranger, *trusted)
    assert status.code == 0, status.err
    assert "unknown" in status.out
