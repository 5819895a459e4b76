"""Writing a command's records: chained ``.prev``, all-or-nothing, compare-and-swap on branches."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from git_sit.errors import WriteError
from git_sit.issue import Draft
from git_sit.locate import Options
from git_sit.record import split_path
from git_sit.target import Branch, WorkTree, chain, write_drafts
from tests.helpers import commit_files, git, record_files, sit_tree_files

ITEM = "0a5c8b68-994b-4156-967d-4a88807545c4"
DRAFTS = [Draft(("SummaryChanged",), {"text": b"One\n"}), Draft(("DetailsChanged",), {"text": b"Two\n"})]


def clock() -> str:
    return "2026-01-02T03:04:05.000000000Z"


@pytest.fixture
def project(repo: pygit2.Repository, workdir: Path) -> Path:
    """A committed SIT repository with one item of two records (a root and its child)."""
    root = record_files(["SummaryChanged"], text="Title\n")
    files, ids = sit_tree_files({ITEM: [root]})
    child = record_files(["Commented"], text="hi\n", prev=ids[ITEM])
    files, ids = sit_tree_files({ITEM: [root, child]})
    commit_files(repo, files, ref="refs/heads/main")
    git(workdir, "reset", "-q", "--hard")
    return workdir


def leaves(path: Path) -> list[str]:
    return sorted(p.name for p in (path / ".sit" / "items" / ITEM).iterdir())


def test_chain_follows_the_leaves_then_each_other(project: Path):
    target = WorkTree(str(project), Options())
    first, second = chain(target.store, ITEM, DRAFTS, "A <a@example.com>", clock)
    child = target.store.item_leaves(ITEM)
    assert len(child) == 1
    assert first.files == {
        ".type/SummaryChanged": b"", "text": b"One\n", ".authors": b"A <a@example.com>",
        ".timestamp": clock().encode(), f".prev/{child[0]}": b"",
    }
    expected = {".type/DetailsChanged", "text", ".authors", ".timestamp", f".prev/{first.record_id}"}
    assert set(second.files) == expected


def test_work_tree_write_is_all_or_nothing(project: Path):
    target = WorkTree(str(project), Options())
    pending = chain(target.store, ITEM, DRAFTS, "A <a@example.com>", clock)
    # Something that is not a record sits where the second record must go.
    blocker = project / ".sit" / "records" / split_path(pending[1].record_id)
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way\n")
    before = sorted(str(p) for p in (project / ".sit").rglob("*"))
    index = git(project, "ls-files", "-s")
    with pytest.raises(WriteError, match="not a record directory"):
        target.write(pending, "message")
    assert sorted(str(p) for p in (project / ".sit").rglob("*")) == before
    assert git(project, "ls-files", "-s") == index


def test_branch_write_is_a_compare_and_swap(project: Path):
    git(project, "branch", "inbox")
    target = Branch(str(project), "inbox", Options())
    pending = chain(target.store, ITEM, DRAFTS, "A <a@example.com>", clock)
    git(project, "commit", "-q", "--allow-empty", "-m", "someone else")
    git(project, "branch", "-f", "inbox", "main")
    moved = git(project, "rev-parse", "inbox")
    with pytest.raises(WriteError, match="moved while the records were written"):
        target.write(pending, "message")
    assert git(project, "rev-parse", "inbox") == moved


def test_branch_write_commits_exactly_the_records(project: Path):
    git(project, "branch", "inbox")
    old = git(project, "rev-parse", "inbox").strip()
    target = Branch(str(project), "inbox", Options())
    pending = chain(target.store, ITEM, DRAFTS, "A <a@example.com>", clock)
    commit = target.write(pending, "Two records")
    assert commit == git(project, "rev-parse", "inbox").strip()
    assert git(project, "log", "-1", "--format=%P %s", "inbox").strip() == f"{old} Two records"
    changed = set(git(project, "diff", "--name-only", old, "inbox").split())
    expected = set()
    for record in pending:
        expected.add(f".sit/items/{ITEM}/{record.record_id}")
        expected.update(f".sit/records/{split_path(record.record_id)}/{name}" for name in record.files)
    assert changed == expected
    # Read back from the branch, the second record is now the item's only leaf.
    again = Branch(str(project), "inbox", Options())
    assert again.store.item_leaves(ITEM) == [pending[1].record_id]


def test_write_drafts_composes_again_when_the_branch_moved(project: Path):
    git(project, "branch", "inbox")
    target = Branch(str(project), "inbox", Options())
    git(project, "commit", "-q", "--allow-empty", "-m", "someone else")
    git(project, "branch", "-f", "inbox", "main")
    moved = git(project, "rev-parse", "inbox").strip()
    pending, commit = write_drafts(target, ITEM, DRAFTS, "A <a@example.com>", "Two records")
    assert commit == git(project, "rev-parse", "inbox").strip()
    assert git(project, "rev-parse", "inbox^").strip() == moved
    assert len(pending) == 2
