"""Read commands on odd input: non-IDs for ``path -r``, file order, non-regular files, repeats.

Each test builds a real git repository and runs the real CLI, in the work tree and
with ``--rev``, and asserts that both read the same.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pygit2
import pytest

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.record import compute_id, split_path
from git_sit.view import Kind, _kind_of_mode, not_a_file
from tests.helpers import commit_files, git, parse_blocks, record_files, sit

ITEM = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"
WHERE = [(), ("--rev", "HEAD")]
WHERE_IDS = ["work-tree", "rev"]


@pytest.fixture
def two_records(workdir: Path) -> tuple[Path, list[str]]:
    """ITEM with a SummaryChanged and a Closed record, committed; returns the record IDs."""
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "item", "--id", ITEM).code == 0
    (workdir / "text").write_text("Crash\n")
    first = sit(workdir, "record", "-t", "SummaryChanged", ITEM, "text")
    (workdir / "text").unlink()
    second = sit(workdir, "record", "-t", "Closed", ITEM)
    assert first.code == 0 and second.code == 0, first.err + second.err
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "records")
    return workdir, [first.out.strip(), second.out.strip()]


def record_dir(workdir: Path, record_id: str) -> Path:
    return workdir / ".sit" / "records" / split_path(record_id)


# F-wr-1 ---------------------------------------------------------------------------------


def _not_an_id(text: str) -> str:
    return f"Error: {text!r} is not a record ID: this repository's are 32 base32 characters.\n"


@pytest.mark.parametrize("where", WHERE, ids=WHERE_IDS)
@pytest.mark.parametrize(("given", "expected"), [
    ("", _not_an_id("")),
    (".", _not_an_id(".")),
    ("..", _not_an_id("..")),
    ("../..", _not_an_id("../..")),
    ("AAAAAAAA", _not_an_id("AAAAAAAA")),                   # valid base32, wrong length
    ("7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TN", _not_an_id("7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TN")),
    ("7tvnnjxpvzpzfjw5wouifycr2xtn5tng", _not_an_id("7tvnnjxpvzpzfjw5wouifycr2xtn5tng")),
    ("7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG", "Error: record 7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG not found.\n"),
])
def test_path_names_only_a_full_record_id(two_records: tuple[Path, list[str]], where: tuple[str, ...],
                                          given: str, expected: str):
    workdir, _ = two_records
    run = sit(workdir, "path", *where, "-r", given)
    assert (run.code, run.out, run.err) == (1, "", expected)


@pytest.mark.parametrize("where", WHERE, ids=WHERE_IDS)
def test_path_refuses_split_directories_of_a_real_record(two_records: tuple[Path, list[str]],
                                                        where: tuple[str, ...]):
    workdir, ids = two_records
    for given in (ids[0][:2], split_path(ids[0])[:5], ids[0][:30]):  # 'IC', 'IC/OU', the last split dir
        run = sit(workdir, "path", *where, "-r", given)
        assert (run.code, run.out, run.err) == (1, "", _not_an_id(given))
    run = sit(workdir, "path", *where, "-r", ids[0])
    base = "HEAD:.sit" if where else str(workdir / ".sit")
    assert (run.code, run.out, run.err) == (0, f"{base}/records/{split_path(ids[0])}\n", "")


@pytest.mark.parametrize("where", WHERE, ids=WHERE_IDS)
def test_path_of_a_legacy_record_and_non_ids(repo: pygit2.Repository, workdir: Path,
                                             where: tuple[str, ...]):
    files = record_files(["SummaryChanged"], text="Legacy\n")
    record_id = compute_id(files.items())
    legacy = {".sit/config.json": DEFAULT_CONFIG_BYTES,
              **{f".sit/items/{ITEM}/{record_id}/{name}": data for name, data in files.items()}}
    commit_files(repo, legacy)
    git(workdir, "reset", "-q", "--hard")
    base = "HEAD:.sit" if where else str(workdir / ".sit")
    run = sit(workdir, "path", *where, "-r", record_id)
    assert (run.code, run.out, run.err) == (0, f"{base}/items/{ITEM}/{record_id}\n", "")
    for given in ("", ".", ".."):  # once the item directory itself (or its parent)
        run = sit(workdir, "path", *where, "-r", given)
        assert (run.code, run.out, run.err) == (1, "", _not_an_id(given))


# F-wr-3 ---------------------------------------------------------------------------------


def test_record_files_read_in_git_order_from_disk_too(workdir: Path):
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "item", "--id", ITEM).code == 0
    names = ["zeta", "alpha", "a.b", "mid", "beta", "b-c", "B"]
    for name in names:
        (workdir / name).write_text(name + "\n")
    run = sit(workdir, "record", "-t", "Commented", ITEM, *names)
    assert run.code == 0, run.err
    record_id = run.out.strip()
    # A subdirectory 'a' next to 'a.b': git orders 'a.b' before 'a/' ('.' < '/').
    (record_dir(workdir, record_id) / "a").mkdir()
    (record_dir(workdir, record_id) / "a" / "x").write_text("x\n")
    for name in names:
        (workdir / name).unlink()
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "x")
    expected = ".authors,.timestamp,.type/Commented,B,a.b,a/x,alpha,b-c,beta,mid,zeta\n"
    query = ("-i", "records", ITEM, "-q", "join(',', keys(files))")  # -i: 'a/x' breaks the hash
    for where in WHERE:
        run = sit(workdir, *query, *where)
        assert (run.code, run.out, run.err) == (0, expected, "")


def test_file_order_leaves_ids_and_states_alone(two_records: tuple[Path, list[str]]):
    workdir, ids = two_records
    for where in WHERE:
        assert sit(workdir, "integrity", *where).code == 0
        assert sit(workdir, "records", ITEM, *where).out.split() == ids
        assert sit(workdir, "--no-cache", "reduce", ITEM, "-q", "state", *where).out == "closed\n"


# F-cos-3 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "kind", "reason"), [
    (stat.S_IFREG, Kind.FILE, "x is not a regular file (a regular file)"),
    (stat.S_IFDIR, Kind.TREE, "x is not a regular file (a directory)"),
    (stat.S_IFLNK, Kind.SYMLINK, "x is not a regular file (a symlink)"),
    (stat.S_IFIFO, Kind.FIFO, "x is not a regular file (a FIFO)"),
    (stat.S_IFSOCK, Kind.SOCKET, "x is not a regular file (a socket)"),
    (stat.S_IFCHR, Kind.DEVICE, "x is not a regular file (a device)"),
    (stat.S_IFBLK, Kind.DEVICE, "x is not a regular file (a device)"),
    (0, Kind.OTHER, "x is not a regular file (of an unknown type)"),
])
def test_kinds_of_disk_entries_and_how_they_read(mode: int, kind: Kind, reason: str):
    assert _kind_of_mode(mode) is kind
    assert not_a_file("x", kind) == reason


def _warning(record_id: str, reason: str) -> str:
    return f"warning: record {record_id} of item {ITEM}: {reason}; skipped\n"


@pytest.mark.parametrize("make", ["fifo", "socket"])
def test_fifo_or_socket_in_a_record_is_named_plainly(two_records: tuple[Path, list[str]], make: str,
                                                    monkeypatch: pytest.MonkeyPatch):
    workdir, ids = two_records
    monkeypatch.chdir(record_dir(workdir, ids[0]))  # a socket's path must be short: bind it relative
    target = record_dir(workdir, ids[0]) / make
    if make == "fifo":
        os.mkfifo(target)
        reason = "fifo is not a regular file (a FIFO)"
    else:
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.bind(make)
        except OSError:
            pytest.skip("cannot bind a unix socket here")
        finally:
            sock.close()
        reason = "socket is not a regular file (a socket)"
    run = sit(workdir, "--no-cache", "records", ITEM)
    assert (run.code, run.out, run.err) == (0, ids[1] + "\n", _warning(ids[0], reason))


def test_symlink_and_submodule_in_a_record_read_alike(two_records: tuple[Path, list[str]],
                                                      repo: pygit2.Repository):
    workdir, ids = two_records
    os.symlink("text", record_dir(workdir, ids[0]) / "link")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "symlink")
    expected = (0, ids[1] + "\n", _warning(ids[0], "link is not a regular file (a symlink)"))
    for where in WHERE:
        run = sit(workdir, "--no-cache", "records", ITEM, *where)
        assert (run.code, run.out, run.err) == expected
    # A gitlink (mode 160000) inside the second record, only possible in git.
    index = pygit2.Index()
    index.read_tree(repo.head.peel(pygit2.Tree))
    path = f".sit/records/{split_path(ids[1])}/sub"
    index.add(pygit2.IndexEntry(path, repo.head.peel(pygit2.Commit).id, pygit2.enums.FileMode.COMMIT))
    tree = index.write_tree(repo)
    run = sit(workdir, "--no-cache", "records", ITEM, "--rev", str(tree))
    assert (run.code, run.out) == (0, "")
    assert sorted(run.err.splitlines(keepends=True)) == sorted([
        expected[2], _warning(ids[1], "sub is not a regular file (a submodule)")])


# F-q-2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cache", [("--no-cache",), ()], ids=["no-cache", "cache"])
def test_item_link_that_is_a_symlink_warns_alike(two_records: tuple[Path, list[str]],
                                                 cache: tuple[str, ...]):
    workdir, ids = two_records
    link = workdir / ".sit" / "items" / ITEM / ids[1]
    link.unlink()
    os.symlink(f"../../records/{split_path(ids[1])}", link)
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "symlinked link")
    assert git(workdir, "ls-tree", "HEAD", f".sit/items/{ITEM}/{ids[1]}").startswith("120000 ")
    reason = f"link file items/{ITEM}/{ids[1]} is not a regular file (a symlink); skipped"
    expected_err = f"warning: record {ids[1]} of item {ITEM}: {reason}\n"
    for where in WHERE:
        _reads_without_the_second_record(workdir, ids, cache, where, expected_err)


def _reads_without_the_second_record(workdir: Path, ids: list[str], cache: tuple[str, ...],
                                     where: tuple[str, ...], expected_err: str) -> None:
    """reduce, items and records leave ``ids[1]`` out, saying ``expected_err``, twice over."""
    for _ in range(2):  # the second run may be served from the cache: still warned
        for args, out in ((["reduce", ITEM, "-q", "state"], "open\n"), (["items", "-q", "state"], "open\n"),
                          (["records", ITEM], ids[0] + "\n")):
            run = sit(workdir, *cache, *args, *where)
            assert (run.code, run.out, run.err) == (0, out, expected_err), (args, where)


@pytest.mark.parametrize("cache", [("--no-cache",), ()], ids=["no-cache", "cache"])
def test_record_directory_that_is_a_symlink_warns_alike(two_records: tuple[Path, list[str]],
                                                        cache: tuple[str, ...]):
    # The record was left out without a word (``integrity`` alone said so).
    workdir, ids = two_records
    directory = record_dir(workdir, ids[1])
    moved = workdir.parent / "elsewhere"
    directory.rename(moved)
    directory.symlink_to(moved)
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "symlinked record")
    assert git(workdir, "ls-tree", "HEAD", f".sit/records/{split_path(ids[1])}").startswith("120000 ")
    reason = f"records/{split_path(ids[1])} is not a directory (a symlink); skipped"
    expected_err = f"warning: record {ids[1]} of item {ITEM}: {reason}\n"
    for where in WHERE:
        _reads_without_the_second_record(workdir, ids, cache, where, expected_err)
        run = sit(workdir, *cache, "integrity", *where)  # item by item, then the whole records/
        assert run.err == expected_err + f"warning: record {ids[1]}: {reason}\n"
    run = sit(workdir, *cache, "status")
    assert (run.code, run.err) == (0, expected_err)


# F-cos-2 --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", WHERE, ids=WHERE_IDS)
def test_verify_lists_a_repeated_item_once(two_records: tuple[Path, list[str]], where: tuple[str, ...]):
    workdir, ids = two_records
    assert sit(workdir, "item", "--id", OTHER).code == 0
    (workdir / "text").write_text("Other\n")
    other = sit(workdir, "record", "-t", "SummaryChanged", OTHER, "text").out.strip()
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "other")
    once = sit(workdir, "verify", ITEM, *where)
    assert (once.code, once.out) == (0, "".join(f"{ITEM} {r} unsigned\n" for r in ids))
    for args in ([ITEM, ITEM], ["1111", ITEM], [ITEM, "11"], ["111", "1111", ITEM]):
        run = sit(workdir, "verify", *args, *where)
        assert (run.code, run.out, run.err) == (0, once.out, once.err)
    run = sit(workdir, "verify", OTHER, ITEM, "2", *where)  # first-seen order is kept
    assert run.out == f"{OTHER} {other} unsigned\n" + once.out
    as_json = parse_blocks(sit(workdir, "verify", "--json", ITEM, "1", *where).out)
    assert [v["record"] for v in as_json] == ids


@pytest.mark.parametrize("command", [["records", ITEM, ITEM], ["reduce", ITEM, ITEM], ["integrity", ITEM]])
def test_read_commands_taking_at_most_one_item_refuse_more(two_records: tuple[Path, list[str]],
                                                           command: list[str]):
    workdir, _ = two_records
    run = sit(workdir, *command)
    assert run.code == 2 and run.out == ""
    assert "Error: Got unexpected extra argument" in run.err


# F-q-1 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", WHERE, ids=WHERE_IDS)
@pytest.mark.parametrize("disable", [["-i"], ["--disable-integrity-check"], []])
def test_integrity_checks_even_with_integrity_checking_disabled(
        two_records: tuple[Path, list[str]], where: tuple[str, ...], disable: list[str]):
    workdir, ids = two_records
    (record_dir(workdir, ids[0]) / "text").write_text("tampered\n")
    git(workdir, "commit", "-qam", "tamper")
    expected = (1, f"{ITEM} {ids[0]}\n", _warning(ids[0], "content does not match its ID"))
    run = sit(workdir, *disable, "integrity", *where)
    assert (run.code, run.out, run.err) == expected
    run = sit(workdir, "integrity", *where, env={"SIT_DISABLE_INTEGRITY_CHECK": "1"})
    assert (run.code, run.out, run.err) == expected
    # ... while -i still means what it says for the commands that reduce.
    assert sit(workdir, *disable, "--no-cache", "records", ITEM, *where).out.count("\n") == (
        2 if disable else 1)


def test_integrity_help_says_it_ignores_disable_integrity_check(two_records: tuple[Path, list[str]]):
    run = sit(two_records[0], "integrity", "-h")
    assert run.code == 0
    assert "-i/--disable-integrity-check does not apply" in " ".join(run.out.split())


# F-cos-1 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "default", "warning"), [
    (["items", "-Q", "nonexist"], ["items"],
     "no query named 'nonexist' in .items/queries/ or the user config; the default query is used"),
    (["items", "-F", "nonexist"], ["items"],
     "no filter named 'nonexist' in .items/filters/ or the user config; nothing is filtered out"),
    (["records", "-Q", "nonexist"], ["records"],
     "no query named 'nonexist' in .records/queries/ or the user config; the default query is used"),
    (["records", ITEM, "-F", "nonexist"], ["records", ITEM],
     "no filter named 'nonexist' in .records/filters/ or the user config; nothing is filtered out"),
    (["reduce", "-Q", "nonexist"], ["reduce"],
     "no query named 'nonexist' in .queries/ or the user config; the default query is used"),
    (["reduce", ITEM, "-Q", "nonexist"], ["reduce", ITEM],
     "no query named 'nonexist' in .items/queries/ or the user config; the default query is used"),
])
def test_a_named_expression_found_nowhere_falls_back_to_the_default_with_a_warning(
        two_records: tuple[Path, list[str]], args: list[str], default: list[str], warning: str):
    # SIT falls back silently (SIT-FORMAT §6); git-sit follows it but says so.
    run, expected = sit(two_records[0], *args), sit(two_records[0], *default)
    assert (run.code, run.out) == (0, expected.out) and expected.out
    assert run.err == f"warning: {warning}, as in SIT\n"


@pytest.mark.parametrize("where", ["repository", "user config"])
def test_a_named_query_is_found_in_the_repository_or_the_user_config(
        two_records: tuple[Path, list[str]], hermetic: Path, where: str):
    workdir = two_records[0]
    if where == "repository":
        (workdir / ".sit" / ".items" / "queries").mkdir(parents=True)
        (workdir / ".sit" / ".items" / "queries" / "s").write_text("summary\n")
    else:
        (hermetic / ".config" / "sit").mkdir()
        (hermetic / ".config" / "sit" / "config.json").write_text('{"items": {"queries": {"s": "summary"}}}')
    for args in (["items", "-Q", "s"], ["reduce", ITEM, "-Q", "s"]):
        assert (sit(workdir, *args).out, sit(workdir, *args).err) == ("Crash\n", "")


@pytest.mark.parametrize(("args", "code", "expected"), [
    (["items", "-Q", "x", "-q", "id"], 2, "Error: give either an expression or a named query, not both."),
    (["records", "-F", "x", "-f", "`true`"], 2,
     "Error: give either an expression or a named filter, not both."),
])
def test_named_expression_errors_say_query_and_filter(two_records: tuple[Path, list[str]],
                                                      args: list[str], code: int, expected: str):
    run = sit(two_records[0], *args)
    assert run.code == code and run.out == ""
    assert run.err.splitlines()[-1] == expected
    assert "querie " not in run.err
