"""Signed records end to end through ``git sit``: record --sign, verify, records --verify, --trusted."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pygit2
import pytest

from git_sit import gpg
from git_sit.record import compute_id, split_path
from git_sit.signature import message, signed_files
from tests.gpgkeys import Keys, fixture_gpg_session, fixture_keys, kill_agent  # noqa: F401
from tests.helpers import commit_files, copy_fixture, git, parse_blocks, record_files, sit, sit_tree_files

ITEM = "0b1c9a52-8d3e-4c7e-9b1a-2f5d6e7a8b9c"


def _init_item(workdir: Path) -> str:
    assert sit(workdir, "init").code == 0
    run = sit(workdir, "item", "--id", ITEM)
    assert run.code == 0, run.err
    return ITEM


def _record(workdir: Path, text: str, *args: str, types: str = "SummaryChanged") -> str:
    (workdir / "text").write_text(text)
    run = sit(workdir, "record", "-t", types, *args, ITEM, "text")
    assert run.code == 0, run.err
    return run.out.strip()


def _record_dir(workdir: Path, record_id: str) -> Path:
    return workdir / ".sit" / "records" / split_path(record_id)


def test_record_sign_writes_a_variant_a_signature_that_verifies(workdir: Path, keys: Keys):
    _init_item(workdir)
    first = _record(workdir, "Title\n", "--sign", "--signing-key", keys.alice)
    second = _record(workdir, "A comment\n", "--signing-key", "mallory@example.com",
                     types="Commented")
    third = _record(workdir, "Unsigned\n", types="Commented")
    assert (_record_dir(workdir, first) / ".signature").is_file()
    assert (_record_dir(workdir, second) / f".prev/{first}").is_file()
    assert not (_record_dir(workdir, third) / ".signature").exists()
    staged = git(workdir, "diff", "--cached", "--name-only")
    assert f"{split_path(second)}/.signature" in staged

    run = sit(workdir, "verify")
    assert run.code == 0, run.err
    lines = dict(line.split(" ", 1) for line in run.out.splitlines())
    assert lines[first] == f"good (A) key {keys.alice} Alice Maintainer <alice@example.com>"
    assert lines[second] == f"good (A) key {keys.mallory} Mallory Outsider <mallory@example.com>"
    assert lines[third] == "unsigned"

    run = sit(workdir, "verify", ITEM[:8], "--json")
    assert run.code == 0, run.err
    values = parse_blocks(run.out)
    assert [v["record"] for v in values] == [first, second, third]
    assert {v["item"] for v in values} == {ITEM}
    assert values[1]["verification"]["variant"] == "A"
    assert values[1]["verification"]["fingerprint"] == keys.mallory
    assert values[2]["verification"]["status"] == "unsigned"


def test_records_verify_adds_sits_verification_entry(workdir: Path, keys: Keys):
    _init_item(workdir)
    signed = _record(workdir, "Title\n", "--signing-key", keys.alice)
    _record(workdir, "Unsigned\n", types="Commented")
    run = sit(workdir, "records", ITEM, "--verify", "-q", "@")
    assert run.code == 0, run.err
    first, second = parse_blocks(run.out)
    assert first["hash"] == signed
    assert first["verification"]["success"] is True
    assert "Good signature" in first["verification"]["output"]
    assert first["verification"]["status"] == "good"
    assert "verification" not in second  # as SIT: only signed records get the entry
    plain = parse_blocks(sit(workdir, "records", ITEM, "-q", "@").out)
    assert all("verification" not in value for value in plain)


def test_sit_sign_config_signs_by_default(workdir: Path, keys: Keys):
    _init_item(workdir)
    git(workdir, "config", "sit.sign", "true")
    git(workdir, "config", "user.signingkey", keys.mallory)
    by_default = _record(workdir, "Title\n")
    opted_out = _record(workdir, "Comment\n", "--no-sign", types="Commented")
    assert (_record_dir(workdir, by_default) / ".signature").is_file()
    assert not (_record_dir(workdir, opted_out) / ".signature").exists()
    assert f"key {keys.mallory}" in sit(workdir, "verify").out
    git(workdir, "config", "sit.sign", "maybe")
    run = sit(workdir, "record", "-t", "Commented", ITEM, "text")
    assert run.code == 1 and "sit.sign" in run.err


def test_bad_signature_exits_1(workdir: Path, keys: Keys, repo: pygit2.Repository):
    tool = gpg.Gpg()
    good = signed_files(record_files(["SummaryChanged"], "Title\n"), lambda m: tool.sign(m, keys.alice))
    # The content changed after signing, and the record was re-hashed to match: integrity passes.
    forged = {**good, "text": b"Forged title\n"}
    files, ids = sit_tree_files({ITEM: [good, forged]})
    commit_files(repo, files)
    run = sit(workdir, "verify", "--rev", "HEAD")
    assert run.code == 1
    lines = dict(line.split(" ", 1) for line in run.out.splitlines())
    assert lines[ids[ITEM][0]].startswith("good (A)")
    assert lines[ids[ITEM][1]].startswith("bad")


@pytest.mark.parametrize("how", [("--armor", "--clearsign"), ("--armor", "--sign"), ("--sign",)],
                         ids=["clear-signed", "inline-signed", "inline-signed, binary"])
def test_a_signature_that_is_not_detached_is_bad(workdir: Path, keys: Keys, repo: pygit2.Repository,
                                                 how: tuple[str, ...]):
    # Alice's key over the record's own message, but no detached signature: gpg reports
    # nothing on --status-fd ("not a detached signature"), and that is a bad signature.
    files = record_files(["SummaryChanged"], "Title\n")
    signature = subprocess.run(["gpg", "--batch", *how, "--local-user", keys.alice],
                               input=message(files, "A"), capture_output=True, check=True).stdout
    good = signed_files(record_files(["Commented"], "Fine\n"), lambda m: gpg.Gpg().sign(m, keys.alice))
    tree, ids = sit_tree_files({ITEM: [{**files, ".signature": signature}, good]})
    commit_files(repo, tree)
    for trusted in ((), ("--trusted", str(keys.alice_asc))):
        run = sit(workdir, "verify", "--rev", "HEAD", *trusted)
        assert run.code == 1, run.err
        lines = dict(line.split(" ", 1) for line in run.out.splitlines())
        assert lines[ids[ITEM][0]] == "bad", run.out
        assert lines[ids[ITEM][1]].startswith("good (A)")
    run = sit(workdir, "records", "--rev", "HEAD", ITEM, "--verify", "-q", "@")
    assert run.code == 0, run.err
    entry = next(b["verification"] for b in parse_blocks(run.out) if b["hash"] == ids[ITEM][0])
    assert entry["success"] is False and entry["status"] == "bad"
    assert "not a detached signature" in entry["output"]


def _trusted_history(repo: pygit2.Repository, keys: Keys) -> dict[str, str]:
    """Alice files an issue; Mallory closes it; Alice renames it after Mallory's record.

    Alice's rename follows Mallory's record, and it must still come after her first
    summary when Mallory's record is skipped: skipped records keep their place in the
    ordering (SIT-FORMAT §5.2). The rename's text is varied until its ID sorts before
    the first summary's, so a reader that dropped the skipped record from the
    ordering would apply the two summaries in the wrong order.
    """
    tool = gpg.Gpg()

    def alice(m: bytes) -> bytes:
        return tool.sign(m, keys.alice)

    # Signatures carry a time, so IDs differ from run to run. A first summary whose ID sorts
    # low would leave almost no rename able to sort before it (1 run in 65 failed so):
    # take one from the upper half of the ID alphabet.
    for n in range(64):
        first = signed_files(record_files(["SummaryChanged"], f"Old title {n}\n"), alice)
        first_id = compute_id(first.items())
        if first_id >= "M":
            break
    else:
        raise AssertionError("no first summary sorts in the upper half")
    closed = signed_files(record_files(["Closed"], prev=[first_id]),
                          lambda m: tool.sign(m, keys.mallory))
    closed_id = compute_id(closed.items())
    unsigned = record_files(["Commented"], "Me too\n", authors="Eve", prev=[first_id])
    for n in range(64):
        rename = signed_files(record_files(["SummaryChanged"], f"New title {n}\n",
                                           prev=[closed_id]), alice)
        if compute_id(rename.items()) < first_id:
            break
    else:
        raise AssertionError("no rename record sorts before the first summary")
    files, ids = sit_tree_files({ITEM: [first, closed, unsigned, rename]})
    commit_files(repo, files)
    return dict(zip(["first", "closed", "unsigned", "rename"], ids[ITEM], strict=True))


def test_trusted_reduction_ignores_untrusted_records(workdir: Path, keys: Keys,
                                                     repo: pygit2.Repository):
    ids = _trusted_history(repo, keys)
    query = "[state, summary, length(comments || `[]`)]"
    everything = sit(workdir, "items", "--rev", "HEAD", "-q", query)
    assert everything.code == 0, everything.err
    state, summary, comments = json.loads(everything.out)
    assert (state, comments) == ("closed", 1)
    assert summary.startswith("New title")

    trusted = sit(workdir, "items", "--rev", "HEAD", "--trusted", str(keys.alice_asc), "-q", query)
    assert trusted.code == 0, trusted.err
    state, summary, comments = json.loads(trusted.out)
    assert (state, comments) == ("open", 0)
    assert summary.startswith("New title")
    assert trusted.err == ""

    checked = sit(workdir, "verify", "--rev", "HEAD", "--trusted", str(keys.alice_asc))
    assert checked.code == 0, checked.err
    statuses = dict(line.split(" ", 1) for line in checked.out.splitlines())
    assert statuses[ids["closed"]] == f"unknown-key (A) key {keys.mallory}"
    assert statuses[ids["first"]].startswith(f"good (A) key {keys.alice}")

    explained = sit(workdir, "reduce", ITEM, "--rev", "HEAD", "--trusted", str(keys.alice_gpg),
                    "--explain", "-q", "state")
    assert explained.out.strip() == "open"
    lines = explained.err.splitlines()
    assert f"explain: record {ids['closed']} of item {ITEM}: skipped: signed by {keys.mallory} " \
           "which is not in the trusted keyring" in lines
    assert f"explain: record {ids['unsigned']} of item {ITEM}: skipped: not signed" in lines
    assert len(lines) == 2

    assert "Me too" in sit(workdir, "reduce", "--rev", "HEAD", "-q", "@").out
    repository = sit(workdir, "reduce", "--rev", "HEAD", "--trusted", str(keys.both_asc),
                     "--explain", "-q", "@")
    assert repository.code == 0, repository.err
    assert "Me too" not in repository.out
    assert json.loads(repository.out)["state"] == "closed"
    assert repository.err == f"explain: record {ids['unsigned']}: skipped: not signed\n"


def test_fixture_signatures_are_by_an_unknown_key_not_bad(fixture_dir: Path, workdir: Path):
    copy_fixture(workdir)
    run = sit(workdir, "verify")
    assert run.code == 0, run.err
    statuses = [line.split(" ")[1] for line in run.out.splitlines()]
    assert len(statuses) == 98
    assert statuses.count("unsigned") == 39
    assert statuses.count("unknown-key") == 59
    assert "(B)" in run.out and "(A)" in run.out
    # SIT-FORMAT §2.4's signed join record, signed 2018-04-18 (variant A era), by SIT's author
    assert "D5OELQSMF2HFUXQJKE7HYQGKSU3ZHJB6 unknown-key (A) key " \
           "8E691A14E6AC91CB3BB3A83C1D60D7CFD80845FF me@yrashk.com" in run.out.splitlines()


def test_missing_gpg_is_an_error_only_when_signing_or_verifying(workdir: Path, keys: Keys,
                                                                tmp_path: Path):
    _init_item(workdir)
    _record(workdir, "Title\n", "--signing-key", keys.alice)
    git(workdir, "config", "gpg.program", str(tmp_path / "no-such-gpg"))
    before = sorted(os.walk(workdir / ".sit"))
    run = sit(workdir, "record", "--sign", "-t", "Commented", ITEM, "text")
    assert run.code == 1
    assert run.err.startswith("Error: cannot run gpg program")
    assert len(run.err.splitlines()) == 1
    assert sorted(os.walk(workdir / ".sit")) == before  # nothing half-written
    assert sit(workdir, "verify").code == 1
    assert sit(workdir, "records", ITEM, "--verify").code == 1
    assert sit(workdir, "items", "--trusted", str(keys.alice_asc)).code == 1
    # Not asked to sign or verify: gpg is no obstacle.
    assert sit(workdir, "record", "-t", "Commented", ITEM, "text").code == 0
    assert sit(workdir, "items", "-q", "state").out == "open\n"
    assert sit(workdir, "records", ITEM).code == 0


HINT = ("; sign with a key gpg has ('gpg --list-secret-keys'): --signing-key KEY or git config "
        "user.signingkey; or write unsigned with --no-sign.\n")


def test_no_secret_key_says_how_to_sign_or_not(workdir: Path, keys: Keys, tmp_path: Path):
    # It said only "gpg failed to sign the record: gpg: signing failed: No secret key".
    _init_item(workdir)
    (workdir / "text").write_text("Title\n")
    empty = tmp_path / "empty-gnupg"
    empty.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(empty)}
    failed = "Error: gpg failed to sign the record: gpg: signing failed: No secret key"
    before = sorted(os.walk(workdir / ".sit"))
    for args, which in ((["--sign"], ""), (["--signing-key", keys.alice], f" (key {keys.alice!r})")):
        run = sit(workdir, "record", *args, "-t", "Commented", ITEM, "text", env=env)
        assert (run.code, run.err) == (1, failed + which + HINT)
    git(workdir, "config", "sit.sign", "true")
    git(workdir, "config", "user.signingkey", "0xDEADBEEF")  # a key that gpg, with Alice's, lacks
    for command in (["record", "-t", "Commented", ITEM, "text"], ["issue", "comment", ITEM, "-m", "x"]):
        run = sit(workdir, *command)
        assert (run.code, run.err) == (1, f"{failed} (key '0xDEADBEEF'){HINT}"), command
    assert sorted(os.walk(workdir / ".sit")) == before  # nothing half-written
    # What the hint names works: --no-sign, or a key gpg has.
    assert sit(workdir, "record", "--no-sign", "-t", "Commented", ITEM, "text").code == 0
    assert sit(workdir, "record", "--signing-key", keys.alice, "-t", "Commented", ITEM, "text").code == 0
    kill_agent(empty)


def test_trusted_status_and_diff_ignore_untrusted_records(workdir: Path, keys: Keys,
                                                          repo: pygit2.Repository):
    _trusted_history(repo, keys)
    plain = sit(workdir, "status", ITEM, "--json")
    assert plain.code == 0, plain.err
    assert json.loads(plain.out) == {ITEM: {"refs/heads/main": "closed"}}
    trusted = sit(workdir, "status", ITEM, "--json", "--trusted", str(keys.alice_asc))
    assert trusted.code == 0, trusted.err
    assert json.loads(trusted.out) == {ITEM: {"refs/heads/main": "open"}}
    git(workdir, "branch", "before")
    commit_files(repo, {"unrelated": b"x"})
    changes = sit(workdir, "diff", "before", "main", "--trusted", str(keys.alice_asc), "--json")
    assert changes.code == 0 and json.loads(changes.out)["changes"] == []
