"""Abbreviated item IDs in the single-item commands: reduce, records, record (work tree and --rev)."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_sit.record import compute_id
from tests.helpers import git, sit
from tests.history import Z0, B, X, build_history


@pytest.fixture
def checkout(repo) -> Path:
    """The status history with ``main`` checked out (the work tree holds main's records)."""
    build_history(repo)
    workdir = Path(repo.workdir)
    git(workdir, "reset", "-q", "--hard", "main")
    return workdir


def _files(workdir: Path) -> list[Path]:
    return sorted((workdir / ".sit").rglob("*"))


@pytest.mark.parametrize(("args", "out"), [
    (["reduce", "1a2b3", "-q", "state"], "closed\n"),
    (["reduce", "1a2b3", "--rev", "release-1.0", "-q", "state"], "open\n"),
    (["reduce", "1a2bf", "-q", "id"], f"{B}\n"),
    (["reduce", X[:-1], "-q", "id"], f"{X}\n"),
    (["records", "9f", "-q", "hash"], f"{compute_id(Z0.items())}\n"),
    (["records", "9", "--rev", "hotfix"], f"{compute_id(Z0.items())}\n"),
])
def test_prefixes_are_accepted(checkout, args, out):
    run = sit(checkout, *args)
    assert (run.code, run.out, run.err) == (0, out, "")


@pytest.mark.parametrize(("args", "message"), [
    (["reduce", "1a2b"], f"item ID prefix '1a2b' is ambiguous: {X}, {B}."),
    (["records", "1a"], f"item ID prefix '1a' is ambiguous: {X}, {B}."),
    (["reduce", "1a2b", "--rev", "v1.0"], f"item ID prefix '1a2b' is ambiguous: {X}, {B}."),
    (["reduce", "zz"], "no item 'zz' in"),
    (["records", "zz", "--rev", "main"], "no item 'zz' in main:.sit."),
    # Z does not exist at v1.0, so its prefix names nothing there.
    (["reduce", "9f", "--rev", "v1.0"], "no item '9f' in v1.0:.sit."),
])
def test_bad_prefixes_are_one_line_errors(checkout, args, message):
    run = sit(checkout, *args)
    assert run.code == 1 and run.out == ""
    assert run.err.startswith(f"Error: {message}") and run.err.count("\n") == 1


def test_record_with_a_prefix(checkout):
    (checkout / "text").write_text("Still crashes on Tuesdays.\n")
    run = sit(checkout, "record", "-t", "Commented", "1a2b3", "text")
    assert run.code == 0, run.err
    record_id = run.out.strip()
    assert (checkout / ".sit" / "items" / X / record_id).is_file()
    comments = sit(checkout, "reduce", X, "-q", "comments[].text").out
    assert "Still crashes on Tuesdays." in comments


@pytest.mark.parametrize(("prefix", "message"), [
    ("1a2b", f"Error: item ID prefix '1a2b' is ambiguous: {X}, {B}.\n"),
    ("zz", "Error: no item 'zz' in "),
])
def test_record_with_a_bad_prefix_writes_nothing(checkout, prefix, message):
    (checkout / "text").write_text("comment\n")
    before = _files(checkout)
    run = sit(checkout, "record", "-t", "Commented", prefix, "text")
    assert run.code == 1 and run.err.startswith(message) and run.err.count("\n") == 1
    assert _files(checkout) == before
    assert git(checkout, "status", "--porcelain", "--", ".sit") == ""
