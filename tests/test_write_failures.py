"""Writes that must fail cleanly (one line, status 1, nothing left behind) or keep what was given.

Each case was found by exploratory testing of the write commands; before its fix it
printed a traceback, left files or staged entries behind, or changed what it wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pygit2
import pytest

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.record import split_path
from git_sit.storage.repo import command_line_config
from tests.helpers import Run, git, read_only, sit


@pytest.fixture
def sitrepo(workdir: Path) -> Path:
    assert sit(workdir, "init").code == 0
    git(workdir, "commit", "-qm", "init")
    return workdir


def one_line_error(run: Run, fragment: str) -> None:
    assert run.code == 1, (run.out, run.err)
    assert len(run.err.splitlines()) == 1 and run.err.startswith("Error: "), run.err
    assert fragment in run.err, run.err


def files_below(path: Path) -> set[str]:
    return {p.relative_to(path).as_posix() for p in path.rglob("*")}


def new_item(workdir: Path) -> str:
    run = sit(workdir, "item")
    assert run.code == 0, run.err
    return run.out.strip()


def test_a_record_that_cannot_be_staged_is_removed_again(sitrepo: Path):
    item = new_item(sitrepo)
    before = files_below(sitrepo / ".sit")
    (sitrepo / "text").write_text("hi\n")
    (sitrepo / ".git" / "index.lock").touch()
    run = sit(sitrepo, "record", "-t", "Commented", item, "text")
    one_line_error(run, "cannot stage")
    assert run.err.endswith("index.lock': File exists.\n"), run.err  # git's own period, not two
    assert files_below(sitrepo / ".sit") == before
    (sitrepo / ".git" / "index.lock").unlink()
    assert git(sitrepo, "status", "--porcelain", "--", ".sit") == ""


def test_init_that_cannot_stage_leaves_nothing_and_can_be_retried(workdir: Path):
    (workdir / ".git" / "index.lock").touch()
    one_line_error(sit(workdir, "init"), "cannot stage")
    assert not (workdir / ".sit").exists()
    (workdir / ".git" / "index.lock").unlink()
    assert sit(workdir, "init").code == 0
    assert git(workdir, "diff", "--cached", "--name-only").split() == [".sit/config.json"]


def test_init_inside_the_git_directory_is_refused(workdir: Path):
    one_line_error(sit(workdir / ".git", "init"), "inside the git directory")
    assert not (workdir / ".git" / ".sit").exists()


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda d: os.symlink("/etc/hostname", d / "out"), "sd/out is a symlink"),
    (lambda d: os.mkfifo(d / "pipe"), "sd/pipe is not a regular file"),  # would never end
    (lambda d: (d / os.fsdecode(b"bad\xff")).write_text("x"), "is not valid UTF-8"),
])
def test_a_directory_holds_only_regular_files_with_utf8_names(sitrepo: Path, make, fragment):
    item = new_item(sitrepo)
    (sitrepo / "sd").mkdir()
    (sitrepo / "sd" / "x").write_text("x\n")
    make(sitrepo / "sd")
    before = files_below(sitrepo / ".sit")
    one_line_error(sit(sitrepo, "record", "-t", "Commented", item, "sd"), fragment)
    assert files_below(sitrepo / ".sit") == before


def test_a_file_given_through_a_symlink_keeps_the_name_it_was_given(sitrepo: Path):
    item = new_item(sitrepo)
    (sitrepo / "real.txt").write_text("real\n")
    os.symlink("real.txt", sitrepo / "link.txt")
    run = sit(sitrepo, "record", "-t", "Commented", item, "link.txt")
    assert run.code == 0, run.err
    names = sit(sitrepo, "records", item, "-q", "keys(files)").out
    assert '"link.txt"' in names and "real.txt" not in names


@pytest.mark.parametrize(("name", "args"), [
    (".signature", []),
    (".authors", []),
    (".timestamp", []),
    (".type/Closed", ["--no-author"]),
    (".prev/AAAAAAAA", ["--no-author"]),
])
def test_files_named_as_what_git_sit_writes_are_refused(sitrepo: Path, name: str, args: list[str]):
    item = new_item(sitrepo)
    (sitrepo / name).parent.mkdir(parents=True, exist_ok=True)
    (sitrepo / name).write_text("mine\n")
    before = files_below(sitrepo / ".sit")
    one_line_error(sit(sitrepo, "record", *args, "-t", "Commented", item, name), f"a file named {name}")
    assert files_below(sitrepo / ".sit") == before


def test_an_own_authors_file_is_taken_with_no_author(sitrepo: Path):
    item = new_item(sitrepo)
    (sitrepo / ".authors").write_text("Someone <s@example.com>")
    run = sit(sitrepo, "record", "--no-author", "-t", "Commented", item, ".authors")
    assert run.code == 0, run.err
    assert "Someone <s@example.com>" in sit(sitrepo, "records", item, "-q", "files").out


def test_a_changed_record_directory_is_not_reused(sitrepo: Path):
    one, two = new_item(sitrepo), new_item(sitrepo)
    (sitrepo / "s").write_text("same\n")
    record_id = sit(sitrepo, "record", "-n", "-t", "X", one, "s").out.strip()
    directory = sitrepo / ".sit" / "records" / split_path(record_id)
    (directory / "s").write_text("tampered\n")
    one_line_error(sit(sitrepo, "record", "-n", "-t", "X", two, "s"), "does not hold this record's files")
    assert not (sitrepo / ".sit" / "items" / two / record_id).exists()


@pytest.mark.parametrize("item_id", ["", "a\nb", "tab\there"])
def test_item_ids_must_be_one_printable_name(sitrepo: Path, item_id: str):
    one_line_error(sit(sitrepo, "item", "--id", item_id), "invalid item ID")


def test_item_needs_a_valid_repository_config(sitrepo: Path):
    (sitrepo / ".sit" / "config.json").write_text("{not json")
    run = sit(sitrepo, "item")
    assert run.code == 1 and run.err.startswith("Error: ") and "Traceback" not in run.err
    assert not any((sitrepo / ".sit" / "items").iterdir()) if (sitrepo / ".sit" / "items").exists() else True


@pytest.mark.parametrize("args", [
    ["issue", "new", "-s", os.fsdecode(b"caf\xe9")],
    ["item", "--id", os.fsdecode(b"\xff\xfe")],
    ["record", "-t", os.fsdecode(b"T\xe9"), "x"],
])
def test_arguments_that_are_not_utf8_are_refused(sitrepo: Path, args: list[str]):
    before = files_below(sitrepo / ".sit")
    run = subprocess.run([b"git", b"sit", *(os.fsencode(a) for a in args)], cwd=sitrepo, capture_output=True,
                         check=False)
    err = run.stderr.decode("utf-8", "replace")
    assert run.returncode == 1 and err.startswith("Error: argument ") and "not valid UTF-8" in err, err
    assert len(err.splitlines()) == 1
    assert files_below(sitrepo / ".sit") == before


def test_an_item_directory_that_is_not_utf8_is_skipped_with_a_warning(sitrepo: Path):
    item = new_item(sitrepo)
    (sitrepo / "text").write_text("Readable\n")
    assert sit(sitrepo, "record", "-t", "SummaryChanged", item, "text").code == 0
    os.mkdir(os.path.join(os.fsencode(sitrepo / ".sit" / "items"), b"\xff\xfe"))  # as another tool might
    for args in (["items", "-q", "summary"], ["--no-cache", "items", "-q", "summary"], ["issue", "list"]):
        run = sit(sitrepo, *args)
        assert run.code == 0, run.err
        assert "Readable" in run.out
        assert "is not a valid UTF-8 name; skipped" in run.err and "Traceback" not in run.err


def test_a_git_config_value_that_is_not_utf8_is_one_line(sitrepo: Path):
    item = new_item(sitrepo)
    with open(sitrepo / ".git" / "config", "ab") as config:
        config.write(b"[user]\n\tname = Jos\xe9\n")
    one_line_error(sit(sitrepo, "issue", "comment", item, "-m", "x"), "is not valid UTF-8")


def test_a_locked_branch_is_one_line_and_nothing_changes(sitrepo: Path):
    item = new_item(sitrepo)
    (sitrepo / "text").write_text("Title\n")
    assert sit(sitrepo, "record", "-t", "SummaryChanged", item, "text").code == 0
    git(sitrepo, "commit", "-qm", "issue")
    git(sitrepo, "branch", "other")
    (sitrepo / ".git" / "refs" / "heads" / "other.lock").touch()
    tip = str(pygit2.Repository(str(sitrepo)).references["refs/heads/other"].target)
    one_line_error(sit(sitrepo, "issue", "comment", item, "-m", "x", "--on", "other"), "cannot update branch")
    assert str(pygit2.Repository(str(sitrepo)).references["refs/heads/other"].target) == tip


def test_writers_at_once_each_stage_their_records(sitrepo: Path):
    # Reading the index, adding and writing it back without the lock lost other writers' entries.
    item = sit(sitrepo, "issue", "new", "-s", "Busy").out.strip()
    git(sitrepo, "commit", "-qm", "issue")
    procs = [subprocess.Popen(["git", "sit", "issue", "comment", item, "-m", f"comment {n}"], cwd=sitrepo,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(6)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert git(sitrepo, "status", "--porcelain", "--untracked-files=all", "--", ".sit").count("?? ") == 0
    git(sitrepo, "commit", "-qm", "comments")
    comments = sit(sitrepo, "issue", "show", item, "--json").out
    assert all(f"comment {n}" in comments for n in range(6))


def test_records_are_staged_in_git_index_file(sitrepo: Path, tmp_path: Path):
    other = tmp_path / "other-index"
    run = sit(sitrepo, "issue", "new", "-s", "Elsewhere", env={"GIT_INDEX_FILE": str(other)})
    assert run.code == 0, run.err
    assert other.exists()
    assert git(sitrepo, "diff", "--cached", "--name-only") == ""  # the usual index is untouched


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, {}),
    ({"GIT_CONFIG_PARAMETERS": "'user.name'='A B' 'sit.sign'"}, {"user.name": "A B", "sit.sign": "true"}),
    ({"GIT_CONFIG_PARAMETERS": "'User.Name'='x' 'user.name'='y'"}, {"user.name": "y"}),  # later wins
    ({"GIT_CONFIG_PARAMETERS": "'remote.Origin.URL'='u'"}, {"remote.Origin.url": "u"}),  # subsection case kept
    ({"GIT_CONFIG_PARAMETERS": "'a.b'='it'\\''s'"}, {"a.b": "it's"}),
    ({"GIT_CONFIG_PARAMETERS": "'unbalanced"}, {}),
    ({"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "core.editor", "GIT_CONFIG_VALUE_0": "ed",
      "GIT_CONFIG_KEY_1": "gpg.program", "GIT_CONFIG_VALUE_1": "/bin/gpg2"},
     {"core.editor": "ed", "gpg.program": "/bin/gpg2"}),
])
def test_command_line_config(environ, expected):
    assert command_line_config(environ) == expected


def test_git_dash_c_is_honoured(workdir: Path):
    assert sit(workdir, "init").code == 0  # user.name is "Test User" in the global config
    run = subprocess.run(["git", "-c", "user.name=From Dash C", "sit", "issue", "new", "-s", "x"], cwd=workdir,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    shown = sit(workdir, "issue", "show", run.stdout.strip(), "--json").out
    assert "From Dash C" in shown and "Test User" not in shown


@pytest.mark.parametrize("author", [{"name": "X\nY", "email": "x@y"}, {"name": "X", "email": 5},
                                    {"name": "X <a>", "email": "x@y"}])
def test_a_malformed_author_in_the_sit_user_config_is_refused(sitrepo: Path, hermetic: Path, author):
    config = hermetic / ".config" / "sit" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"author": author}))
    before = files_below(sitrepo / ".sit")
    one_line_error(sit(sitrepo, "issue", "new", "-s", "x"), "the author in the SIT user config")
    assert files_below(sitrepo / ".sit") == before


def test_an_editor_that_saves_latin1_writes_nothing(sitrepo: Path, tmp_path: Path):
    script = tmp_path / "latin1-editor"
    script.write_text("#!/bin/sh\nprintf 'caf\\351 summary\\n' > \"$1\"\n")
    script.chmod(0o755)
    before = files_below(sitrepo / ".sit")
    one_line_error(sit(sitrepo, "issue", "new", env={"GIT_EDITOR": str(script)}), "other than UTF-8")
    assert files_below(sitrepo / ".sit") == before


@pytest.mark.parametrize(("target", "args", "fragment"), [
    (".sit", ["item"], "cannot create item"),
    (".sit", ["record", "-t", "Commented", "{item}", "text"], "cannot write record"),
    (".sit", ["issue", "new", "-s", "Hello"], "Read-only file system"),
    (".sit/items/{item}", ["issue", "comment", "{item}", "-m", "hello"], "Read-only file system"),
    (".git", ["record", "-t", "Commented", "{item}", "text"], "cannot stage"),
], ids=["item", "record", "issue-new", "comment-in-read-only-item", "git-dir-read-only"])
def test_a_read_only_repository_fails_in_one_line_and_leaves_nothing(sitrepo: Path, target, args,
                                                                     fragment):
    """Root ignores file modes, so the directory is a read-only mount (see ``read_only``)."""
    item = new_item(sitrepo)
    (sitrepo / "text").write_text("hi\n")
    git(sitrepo, "add", "text")
    git(sitrepo, "commit", "-qm", "an item")
    before = (files_below(sitrepo / ".sit"), git(sitrepo, "ls-files", "--stage"))
    directory = sitrepo / target.format(item=item)
    run = read_only(directory, ["git", "sit", *(a.format(item=item) for a in args)], sitrepo)
    one_line_error(Run(run.returncode, run.stdout, run.stderr), fragment)
    assert (files_below(sitrepo / ".sit"), git(sitrepo, "ls-files", "--stage")) == before


@pytest.mark.parametrize(("make", "what"), [
    (lambda sit_dir, other: sit_dir.symlink_to(other), "a symbolic link, which git-sit does not follow"),
    (lambda sit_dir, other: sit_dir.write_text("a file\n"), "not a directory"),
], ids=["symlink", "file"])
def test_init_where_sit_is_not_a_directory_says_so(workdir: Path, tmp_path: Path, make, what):
    other = tmp_path / "elsewhere" / ".sit"
    other.mkdir(parents=True)
    (other / "config.json").write_text("{}")
    make(workdir / ".sit", other)
    one_line_error(sit(workdir, "init"), f"{workdir / '.sit'} is {what}; remove it first.")
    assert git(workdir, "ls-files", "--stage") == ""


@pytest.mark.parametrize(("files", "held"), [
    (["reducers/a.js"], "reducers"),
    (["items/x/ABC", "records/AB/ABC/text", "notes"], "items, notes, records"),
    (["a/1", "b/2", "c/3", "d/4", "e/5"], "a, b, c and 2 more"),
], ids=["reducers", "items-and-records", "many"])
def test_init_refuses_a_sit_directory_with_files_but_no_config(workdir: Path, files: list[str], held: str):
    for name in files:
        (workdir / ".sit" / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / ".sit" / name).write_text("x\n")
    (workdir / ".sit" / "empty" / "dir").mkdir(parents=True)  # holds no file: not named
    before = files_below(workdir / ".sit")
    one_line_error(sit(workdir, "init"), f"{workdir / '.sit'} already holds {held} but no config.json; "
                                         "restore its config.json, or move the directory aside "
                                         "and run 'git sit init' again.")
    assert files_below(workdir / ".sit") == before
    assert git(workdir, "ls-files", "--stage") == ""


def test_init_takes_a_sit_directory_that_holds_only_empty_directories(workdir: Path):
    (workdir / ".sit" / "records" / "AB").mkdir(parents=True)
    assert sit(workdir, "init").code == 0
    assert (workdir / ".sit" / "config.json").read_bytes() == DEFAULT_CONFIG_BYTES
