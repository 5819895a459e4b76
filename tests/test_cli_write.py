"""Writing through the real CLI: init, item, record — exact bytes, staging, atomicity."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.record import Record, link_content, split_path
from tests.helpers import git, sit

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


@pytest.fixture
def sitrepo(workdir: Path) -> Path:
    assert sit(workdir, "init").code == 0
    return workdir


def staged(workdir: Path) -> set[str]:
    return set(git(workdir, "diff", "--cached", "--name-only").split())


def read_record(workdir: Path, record_id: str) -> Record:
    directory = workdir / ".sit" / "records" / split_path(record_id)
    files = {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    return Record(record_id, files)


def new_item(workdir: Path) -> str:
    run = sit(workdir, "item")
    assert run.code == 0, run.err
    return run.out.strip()


def test_init_writes_sits_default_config_and_stages_it(workdir: Path):
    run = sit(workdir, "init")
    assert run.code == 0, run.err
    assert (workdir / ".sit" / "config.json").read_bytes() == DEFAULT_CONFIG_BYTES
    assert staged(workdir) == {".sit/config.json"}
    again = sit(workdir, "init")
    assert again.code == 0 and "already exists" in again.out


def test_item_prints_a_uuid_and_refuses_duplicates(sitrepo: Path):
    item = new_item(sitrepo)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", item)
    assert sit(sitrepo, "item", "--id", "named").out.strip() == "named"
    dup = sit(sitrepo, "item", "--id", "named")
    assert dup.code == 1 and "already exists" in dup.err and "Traceback" not in dup.err
    bad = sit(sitrepo, "item", "--id", "../evil")
    assert bad.code == 1 and "invalid item ID" in bad.err


def test_an_item_id_starting_with_a_dot_is_accepted_and_read_back(sitrepo: Path):
    # SIT allows any single directory name (SIT-FORMAT §1.4), dot-names included.
    assert sit(sitrepo, "item", "--id", ".hidden").out == ".hidden\n"
    (sitrepo / "text").write_text("Hidden\n")
    assert sit(sitrepo, "record", "-t", "SummaryChanged", ".hidden", "text").code == 0
    git(sitrepo, "commit", "-q", "-m", "a dot-named item")
    for rev in ([], ["--rev", "HEAD"]):
        assert sit(sitrepo, "items", *rev, "-q", "join(' ', [id, summary])").out == ".hidden Hidden\n"
        assert sit(sitrepo, "reduce", *rev, ".hidden", "-q", "summary").out == "Hidden\n"
        assert len(sit(sitrepo, "records", *rev, ".hidden").out.split()) == 1


def test_record_writes_sit_layout_and_stages(sitrepo: Path):
    item = new_item(sitrepo)
    (sitrepo / "text").write_text("Title\n")
    (sitrepo / "git").mkdir()
    (sitrepo / "git" / "0001.patch").write_bytes(b"patch")
    run = sit(sitrepo, "record", "-t", "SummaryChanged,Commented", item[:8], "text", "git")
    assert run.code == 0, run.err
    record_id = run.out.strip()
    record = read_record(sitrepo, record_id)
    assert record.verifies()
    assert set(record.files) == {".authors", ".timestamp", ".type/SummaryChanged", ".type/Commented",
                                 "text", "git/0001.patch"}
    assert record.files[".authors"] == b"Test User <user@example.com>"
    assert TIMESTAMP.match(record.files[".timestamp"].decode())
    link = sitrepo / ".sit" / "items" / item / record_id
    assert link.read_bytes() == link_content(record_id)
    prefix = f".sit/records/{split_path(record_id)}/"
    assert staged(sitrepo) == {".sit/config.json", f".sit/items/{item}/{record_id}",
                               *(prefix + name for name in record.files)}
    assert not list((sitrepo / ".sit").glob(".tmp-*"))


def test_automatic_prev_is_the_items_leaves(sitrepo: Path):
    item = new_item(sitrepo)
    first = sit(sitrepo, "record", "--no-author", "-t", "A", item).out.strip()
    second = sit(sitrepo, "record", "--no-author", "-t", "B", item).out.strip()
    assert read_record(sitrepo, second).prev == {first}
    git(sitrepo, "commit", "-qm", "two records")
    git(sitrepo, "checkout", "-qb", "side", "HEAD")
    third = sit(sitrepo, "record", "--no-author", "-t", "C", item).out.strip()
    git(sitrepo, "commit", "-qm", "third")
    git(sitrepo, "checkout", "-q", "main")
    fourth = sit(sitrepo, "record", "--no-author", "-t", "D", item).out.strip()
    git(sitrepo, "commit", "-qm", "fourth")
    git(sitrepo, "merge", "-q", "--no-edit", "side")
    fifth = sit(sitrepo, "record", "--no-author", "-n", "-t", "E", item).out.strip()
    assert read_record(sitrepo, fifth).prev == {third, fourth}
    assert ".timestamp" not in read_record(sitrepo, fifth).files
    order = sit(sitrepo, "records", item).out.split()
    assert order[:2] == [first, second] and set(order[2:4]) == {third, fourth} and order[4] == fifth


def test_record_is_never_overwritten_but_shared_between_items(sitrepo: Path):
    one, two = new_item(sitrepo), new_item(sitrepo)
    args = ["record", "-n", "-t", "Same"]
    first = sit(sitrepo, *args, one)
    assert first.code == 0
    again = sit(sitrepo, *args, one)
    assert again.code == 0  # it now has a parent, so it is a different record
    record_id = first.out.strip()
    other = sit(sitrepo, *args, two)
    assert other.out.strip() == record_id  # same content in another item: same record, one directory
    assert (sitrepo / ".sit" / "items" / two / record_id).is_file()


def test_failed_write_leaves_nothing_behind(sitrepo: Path):
    # The item exists (legacy issues/ directory) but items/ is a file, so the link
    # cannot be written after the record directory was already renamed into place.
    (sitrepo / ".sit" / "issues" / "legacy-1").mkdir(parents=True)
    (sitrepo / ".sit" / "items").write_text("in the way")
    before = staged(sitrepo)
    run = sit(sitrepo, "record", "--no-author", "-t", "X", "legacy-1")
    assert run.code == 1 and "cannot write" in run.err and "Traceback" not in run.err
    assert list((sitrepo / ".sit" / "records").iterdir()) == []
    assert not list((sitrepo / ".sit").glob(".tmp-*"))
    assert staged(sitrepo) == before


def test_record_bad_input(sitrepo: Path):
    item = new_item(sitrepo)
    cases = [
        (["record", "nope"], 1, "no item 'nope'"),
        (["record", item, "missing-file"], 1, "no such file"),
        (["record", item, "/etc/hostname"], 1, "not below the current directory"),
        (["record", "-t", "a/b", item], 2, "invalid record type"),
    ]
    for args, code, message in cases:
        run = sit(sitrepo, *args)
        assert (run.code, message in run.err, "Traceback" in run.err) == (code, True, False), (args, run.err)


def test_record_without_identity_asks_for_one(sitrepo: Path, hermetic: Path):
    (hermetic / ".gitconfig").write_text("")
    item = new_item(sitrepo)
    run = sit(sitrepo, "record", "-t", "X", item)
    assert run.code == 1 and "user.name" in run.err


def test_author_from_sit_user_config_wins(sitrepo: Path, hermetic: Path):
    config = hermetic / ".config" / "sit"
    config.mkdir(parents=True)
    (config / "config.json").write_text('{"author": {"name": "Sit Person", "email": "sit@example.com"}}')
    item = new_item(sitrepo)
    record_id = sit(sitrepo, "record", "-t", "X", item).out.strip()
    assert read_record(sitrepo, record_id).files[".authors"] == b"Sit Person <sit@example.com>"


def test_records_written_by_git_sit_reduce_like_sit(sitrepo: Path):
    item = new_item(sitrepo)
    (sitrepo / "text").write_text("  Crash on start\n")
    sit(sitrepo, "record", "-t", "SummaryChanged", item, "text")
    (sitrepo / "text").write_text("Fixed.\n")
    sit(sitrepo, "record", "-t", "Commented,Closed", item, "text")
    state = sit(sitrepo, "reduce", item, "-q", "[summary, state, comments[0].text, authors]").out
    assert state.split("\n")[1:5] == ['  "Crash on start",', '  "closed",', '  "Fixed.\\n",',
                                      '  "Test User <user@example.com>"']
