"""`git sit issue` end to end: real repositories, real git merges, the real command via git.

Expected states are written out from SIT-FORMAT §5.6 (and the extension rules in
the README) using only the bytes of the records the commands wrote.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path

import pygit2
import pytest

from git_sit.record import Record, link_content, split_path
from tests.helpers import git, sit
from tests.module_helpers import module_files, write_files

AUTHOR = "Test User <user@example.com>"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
EDITOR = """\
import os, sys
path = sys.argv[1]
with open(path) as handle, open(os.environ["SIT_TEST_SEEN"], "w") as seen:
    seen.write(handle.read())
with open(path, "w") as handle:
    handle.write(os.environ["SIT_TEST_MESSAGE"])
"""


@pytest.fixture
def project(workdir: Path) -> Path:
    assert sit(workdir, "init").code == 0
    git(workdir, "commit", "-qm", "init")
    return workdir


def editor(tmp_path: Path, message: str) -> dict[str, str]:
    """Environment for an editor script that records the template and saves ``message``."""
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    return {
        "GIT_EDITOR": f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}",
        "SIT_TEST_MESSAGE": message,
        "SIT_TEST_SEEN": str(tmp_path / "seen"),
    }


def ok(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    run = sit(cwd, "issue", *args, env=env)
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    return run.out


def fails(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run a command that must fail with one line on stderr and exit status 1."""
    run = sit(cwd, "issue", *args, env=env)
    assert run.code == 1, (run.out, run.err)
    assert len(run.err.strip().splitlines()) == 1 and run.err.startswith("Error: "), run.err
    return run.err


def new_issue(cwd: Path, summary: str, *extra: str) -> str:
    item = ok(cwd, "new", "-s", summary, *extra).strip()
    assert UUID.fullmatch(item)
    return item


def tree_files(tree: pygit2.Tree, prefix: str = "") -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for entry in tree:
        if isinstance(entry, pygit2.Tree):
            files.update(tree_files(entry, f"{prefix}{entry.name}/"))
        else:
            assert isinstance(entry, pygit2.Blob)
            files[prefix + str(entry.name)] = entry.data
    return files


def records_at(path: Path, rev: str, item: str) -> dict[str, Record]:
    """The item's records in a revision, checking each link file's exact content."""
    repo = pygit2.Repository(str(path))
    tree = repo.revparse_single(rev).peel(pygit2.Tree)
    found: dict[str, Record] = {}
    links = tree[f".sit/items/{item}"]
    assert isinstance(links, pygit2.Tree)
    for link in links:
        rid = str(link.name)
        assert isinstance(link, pygit2.Blob) and link.data == link_content(rid)
        directory = tree[f".sit/records/{split_path(rid)}"]
        assert isinstance(directory, pygit2.Tree)
        found[rid] = Record(rid, tree_files(directory))
    return found


def records_on_disk(path: Path, item: str) -> dict[str, Record]:
    found = {}
    for link in (path / ".sit" / "items" / item).iterdir():
        directory = path / ".sit" / "records" / split_path(link.name)
        files = {p.relative_to(directory).as_posix(): p.read_bytes()
                 for p in directory.rglob("*") if p.is_file()}
        found[link.name] = Record(link.name, files)
    return found


def by_types(records: dict[str, Record], *types: str) -> list[Record]:
    return [r for r in records.values() if r.types == set(types)]


def ts(record: Record) -> str:
    return record.files[".timestamp"].decode()


def comment(record: Record) -> dict:
    """A Commented comment per §5.6: untrimmed text, five keys."""
    return {"text": record.files["text"].decode(), "authors": AUTHOR, "timestamp": ts(record),
            "merge_request": None, "merge_request_report": None}


def snapshot(path: Path) -> tuple[list[str], str, str]:
    """What a failed command must not change: the files under .sit, status and index."""
    files = sorted(str(p.relative_to(path)) for p in (path / ".sit").rglob("*"))
    return files, git(path, "status", "--porcelain"), git(path, "ls-files", "-s")


def test_life_cycle_new_comment_label_close_reopen_on_a_branch_merge(project: Path, tmp_path: Path):
    message = "Crash on empty input\n\nRun it with no input.\n# a comment line\n"
    item = ok(project, "new", env=editor(tmp_path, message)).strip()
    assert UUID.fullmatch(item)
    template = (tmp_path / "seen").read_text()
    assert "the first line is the summary" in template and template.startswith("\n")
    short = item[:6]
    ok(project, "comment", short, "-m", "I see it too")
    ok(project, "comment", short, env=editor(tmp_path, "From the editor\n\n# dropped\n"))
    assert f"Comment on issue {item}: Crash on empty input" in (tmp_path / "seen").read_text()
    ok(project, "label", short, "+bug", "+ui")
    git(project, "commit", "-qm", "File an issue")
    ok(project, "close", short, "-m", "Fixed by the null check")
    git(project, "commit", "-qm", "Fix the crash")
    assert json.loads(ok(project, "show", short, "--json"))["state"] == "closed"
    git(project, "branch", "release")
    ok(project, "assign", short, "+alice")
    git(project, "commit", "-qm", "Assign")
    git(project, "checkout", "-q", "release")
    ok(project, "reopen", short, "-m", "Not fixed on release")
    git(project, "commit", "-qm", "Reopen on release")
    assert json.loads(ok(project, "show", short, "--json"))["state"] == "open"
    git(project, "checkout", "-q", "main")
    git(project, "merge", "-q", "--no-edit", "release")

    records = records_at(project, "HEAD", item)
    assert all(r.verifies() for r in records.values())
    (summary,) = by_types(records, "SummaryChanged")
    (details,) = by_types(records, "DetailsChanged")
    first, second = sorted(by_types(records, "Commented"), key=lambda r: ts(r))
    (labels,) = by_types(records, "LabelsChanged")
    (closed,) = by_types(records, "Commented", "Closed")
    (assigned,) = by_types(records, "AssigneesChanged")
    (reopened,) = by_types(records, "Commented", "Reopened")
    assert len(records) == 8
    assert summary.files["text"] == b"Crash on empty input\n" and summary.prev == set()
    assert details.files["text"] == b"Run it with no input.\n" and details.prev == {summary.id}
    assert [first.prev, second.prev, labels.prev] == [{details.id}, {first.id}, {second.id}]
    assert closed.prev == {labels.id} and assigned.prev == reopened.prev == {closed.id}
    assert all(r.files[".authors"] == AUTHOR.encode() for r in records.values())
    assert json.loads(labels.files["labels.json"]) == {"add": ["bug", "ui"]}
    assert json.loads(assigned.files["assignees.json"]) == {"add": ["alice"]}
    # assigned and reopened form the last generation; ascending ID decides which is last.
    last = max(assigned.id, reopened.id)
    expected = {
        "id": item,
        "summary": "Crash on empty input",
        "details": "Run it with no input.",
        "authors": AUTHOR,
        "timestamp": ts(summary),
        "state": "open",
        "comments": [comment(first), comment(second), comment(closed), comment(reopened)],
        "last_updated_timestamp": ts(records[last]),
        "labels": ["bug", "ui"],
        "assignees": ["alice"],
    }
    assert [first.files["text"], second.files["text"], closed.files["text"], reopened.files["text"]] == [
        b"I see it too\n", b"From the editor\n", b"Fixed by the null check\n", b"Not fixed on release\n",
    ]
    assert json.loads(ok(project, "show", item, "--json")) == expected
    assert json.loads(ok(project, "show", item, "--rev", "HEAD", "--json")) == expected
    assert json.loads(ok(project, "list", "--json")) == [expected]
    assert json.loads(sit(project, "reduce", item).out) == expected
    assert sit(project, "integrity").code == 0

    updated = ts(records[last])
    listing = ok(project, "list")
    assert listing == f"{item[:8]}  open  Crash on empty input  bug, ui  {updated[:10]} {updated[11:16]}\n"
    assert "\x1b" not in listing
    page = ok(project, "show", short)
    assert page.startswith(f"Crash on empty input\nopen · {item}\n")
    for line in ("labels:    bug, ui", "assignees: alice", "milestone: none", "    Run it with no input.",
                 "Comments (4)", "    Fixed by the null check"):
        assert line in page.splitlines()
    assert f"{AUTHOR} · {ts(reopened)[:10]} {ts(reopened)[11:19]} UTC" in page
    # Before the merge, main had it closed and release never saw the assignee.
    assert ok(project, "list", "--rev", "HEAD^1") == ""
    assert ok(project, "list", "--rev", "HEAD^1", "--state", "closed").startswith(item[:8] + "  closed")
    assert "assignees" not in json.loads(ok(project, "show", short, "--rev", "release", "--json"))


def test_labels_and_assignees_in_another_case_are_the_ones_set(project: Path):
    item = new_issue(project, "Cases")
    ok(project, "label", item, "+bug")
    ok(project, "assign", item, "Alice")
    run = sit(project, "issue", "label", item, "+Bug")
    assert run.code == 0 and "label 'bug' is already set." in run.err
    ok(project, "label", item, "-BUG", "+UI")
    ok(project, "assign", item, "-alice")
    state = json.loads(ok(project, "show", item, "--json"))
    assert (state["labels"], state["assignees"]) == (["UI"], [])


def test_concurrent_label_changes_on_two_branches_merge_to_the_union(project: Path):
    item = new_issue(project, "Labels")
    ok(project, "label", item, "+bug", "+ui", "+old")
    git(project, "commit", "-qm", "labels")
    git(project, "branch", "a")
    git(project, "branch", "b")
    ok(project, "label", item, "--on", "a", "-bug", "+p1", "-ui")
    ok(project, "label", item, "--on", "b", "-ui", "+p2")
    ok(project, "label", item, "--on", "b", "-old")
    ok(project, "label", item, "--on", "b", "+old")

    def labels(rev: str) -> list[str]:
        return json.loads(ok(project, "show", item, "--rev", rev, "--json"))["labels"]

    assert labels("a") == ["old", "p1"]
    assert labels("b") == ["bug", "old", "p2"]
    git(project, "merge", "-q", "--no-edit", "a")
    git(project, "merge", "-q", "--no-edit", "b")
    # bug: removed on a; ui: removed on both; old: b's new add was seen by no remove.
    assert labels("HEAD") == ["old", "p1", "p2"]
    assert json.loads(ok(project, "show", item, "--json"))["labels"] == ["old", "p1", "p2"]
    git(project, "checkout", "-q", "-b", "other", "b")
    git(project, "merge", "-q", "--no-edit", "a")
    assert labels("other") == ["old", "p1", "p2"]
    assert ok(project, "list", "--label", "P1", "--rev", "other").startswith(item[:8])
    assert ok(project, "list", "--label", "bug", "--rev", "other") == ""


@pytest.mark.parametrize(("summary", "details"), [
    ("#1 crash", "more info"),
    ("Markdown", "# Steps\n1. run it\n\n#42 is related"),
    ("Blank lines", "a\n\n\nb  \nc"),
])
def test_an_edit_saved_unchanged_changes_nothing(project: Path, summary: str, details: str):
    item = new_issue(project, summary, "-d", details)
    before = records_on_disk(project, item)
    run = sit(project, "issue", "edit", item, env={"GIT_EDITOR": "true"})  # saves the template as it is
    assert run.code == 0 and "nothing to change" in run.err, run.err
    assert records_on_disk(project, item) == before
    state = json.loads(ok(project, "show", item, "--json"))
    assert (state["summary"], state["details"]) == (summary, details)


def test_edit_milestone_and_no_op_commands(project: Path, tmp_path: Path):
    item = new_issue(project, "Old summary", "-d", "Old details")
    ok(project, "edit", item, "--summary", "New summary")
    state = json.loads(ok(project, "show", item, "--json"))
    assert (state["summary"], state["details"]) == ("New summary", "Old details")
    ok(project, "edit", item, env=editor(tmp_path, "New summary\n\nNew details\nline 2\n"))
    assert (tmp_path / "seen").read_text().startswith("New summary\n\nOld details\n")
    assert json.loads(ok(project, "show", item, "--json"))["details"] == "New details\nline 2"
    no_ops = (["edit", item, "--summary", "New summary"], ["reopen", item], ["label", item, "-enhancement"])
    for args in no_ops:
        run = sit(project, "issue", *args)
        assert run.code == 0 and run.out == "" and "Nothing was written" in run.err
    assert "note: label 'enhancement' is not set." in run.err
    ok(project, "milestone", item, "v1.2")
    assert json.loads(ok(project, "show", item, "--json"))["milestone"] == "v1.2"
    assert "milestone: v1.2" in ok(project, "show", item)
    ok(project, "milestone", item, "--clear")
    assert json.loads(ok(project, "show", item, "--json"))["milestone"] is None
    assert sit(project, "issue", "milestone", item).code == 2
    ok(project, "close", item)
    closed = by_types(records_on_disk(project, item), "Closed")
    assert len(closed) == 1 and set(closed[0].files) == {".type/Closed", ".authors", ".timestamp", *(
        f".prev/{p}" for p in closed[0].prev)}


def test_list_filters_and_sorting(project: Path):
    first = new_issue(project, "First issue", "-d", "mentions a segfault")
    second = new_issue(project, "Second issue")
    third = new_issue(project, "Third issue")
    ok(project, "assign", second, "+bob")
    ok(project, "close", third)
    ids = lambda out: [line.split()[0] for line in out.splitlines()]  # noqa: E731
    assert ids(ok(project, "list")) == [second[:8], first[:8]]
    assert ids(ok(project, "list", "--sort", "created")) == [second[:8], first[:8]]
    everything = ok(project, "list", "--state", "all", "--sort", "created")
    assert ids(everything) == [third[:8], second[:8], first[:8]]
    assert ids(ok(project, "list", "--state", "closed")) == [third[:8]]
    assert ids(ok(project, "list", "--assignee", "BOB")) == [second[:8]]
    assert ids(ok(project, "list", "--search", "SEGFAULT")) == [first[:8]]
    assert ids(ok(project, "list", "--author", "user@example")) == [second[:8], first[:8]]
    assert ok(project, "list", "--author", "nobody") == ""


def test_list_is_coloured_on_a_terminal(project: Path):
    import pty
    import subprocess
    new_issue(project, "Colourful")
    leader, follower = pty.openpty()
    proc = subprocess.run(
        ["git", "sit", "issue", "list"], cwd=project, stdout=follower, stderr=subprocess.PIPE,
        check=False, env={**os.environ, "COLUMNS": "100"},
    )
    os.close(follower)
    out = os.read(leader, 65536).decode()
    os.close(leader)
    assert proc.returncode == 0
    assert "\x1b[" in out and "SUMMARY" in out and "Colourful" in out
    for plain_env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):  # as git: no colour for a dumb terminal
        leader, follower = pty.openpty()
        subprocess.run(["git", "sit", "issue", "list"], cwd=project, stdout=follower, check=True,
                       env={**os.environ, "COLUMNS": "100", **plain_env})
        os.close(follower)
        out = os.read(leader, 65536).decode()
        os.close(leader)
        assert "\x1b[" not in out and "Colourful" in out, plain_env


def test_unknown_and_ambiguous_ids(project: Path):
    assert sit(project, "item", "--id", "abcd-1").code == 0
    assert sit(project, "item", "--id", "abcd-2").code == 0
    assert "no item 'zzz'" in fails(project, "comment", "zzz", "-m", "x")
    assert "ambiguous" in fails(project, "show", "abcd")
    assert "ambiguous" in fails(project, "label", "abcd", "+bug")
    assert ok(project, "show", "abcd-1").startswith("(no summary)")


def test_empty_editor_message_or_failing_editor_writes_nothing(project: Path, tmp_path: Path):
    before = snapshot(project)
    assert "empty" in fails(project, "new", env=editor(tmp_path, "# nothing here\n\n   \n"))
    assert "status 1" in fails(project, "new")  # the hermetic GIT_EDITOR is `false`
    assert snapshot(project) == before
    item = new_issue(project, "Something")
    git(project, "commit", "-qm", "issue")
    before = snapshot(project)
    assert "empty" in fails(project, "comment", item, env=editor(tmp_path, "\n# x\n"))
    assert snapshot(project) == before


def test_bad_values(project: Path):
    item = new_issue(project, "Values")
    assert "single line" in fails(project, "new", "-s", "two\nlines")
    assert "summary is empty" in fails(project, "new", "-s", "  ")
    # Mistakes on the command line are usage errors (status 2, with the usage line), as
    # everywhere else; they once were status 1.
    for args, message in [
        (["label", item], "give labels to add (+NAME) or remove (-NAME)."),
        (["label", item, "--no", "main"], "unknown option or invalid label '--no'"),
        (["assign", item], "give assignees to add (+NAME) or remove (-NAME)."),
        (["assign", item, "+a", "-a"], "assignee 'a' is both added and removed."),
        (["label", item, "+\x07bell"], "invalid label '\\x07bell'"),
    ]:
        run = sit(project, "issue", *args)
        assert run.code == 2, (args, run.err)
        assert run.err.startswith(f"Usage: git sit issue {args[0]} ") and f"Error: {message}" in run.err
    for args in (["label", "-h"], ["assign", "-h"], ["label", "--help"]):
        run = sit(project, "issue", *args)
        assert run.code == 0 and run.out.startswith("Usage: git sit issue")


def test_no_author_is_an_error_before_the_editor_opens(project: Path, tmp_path: Path):
    home = tmp_path / "empty-home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    before = snapshot(project)
    assert "no author" in fails(project, "new", env=env)  # GIT_EDITOR=false would fail otherwise
    assert snapshot(project) == before


def test_detached_head_writes_to_the_work_tree_and_on_needs_a_branch(project: Path):
    item = new_issue(project, "Detached")
    git(project, "commit", "-qm", "issue")
    git(project, "checkout", "-q", "--detach")
    record = ok(project, "comment", item, "-m", "on a detached head").strip()
    assert f".sit/items/{item}/{record}" in git(project, "diff", "--cached", "--name-only").split()
    assert "not a branch name" in fails(project, "comment", item, "-m", "x", "--on", "HEAD")
    # Nothing is checked out, so main may be written to; the staged record stays staged only.
    before = snapshot(project)
    on_main = ok(project, "comment", item, "-m", "on main", "--on", "main").strip()
    assert snapshot(project) == before
    assert on_main in records_at(project, "main", item) and record not in records_at(project, "main", item)


def test_on_refuses_missing_and_checked_out_branches(project: Path, tmp_path: Path):
    item = new_issue(project, "Refusals")
    git(project, "commit", "-qm", "issue")
    git(project, "branch", "elsewhere")
    git(project, "worktree", "add", "-q", str(tmp_path / "second"), "elsewhere")
    tips = git(project, "for-each-ref")
    before = snapshot(project)
    assert "no branch 'nosuch'" in fails(project, "comment", item, "-m", "x", "--on", "nosuch")
    assert "checked out" in fails(project, "comment", item, "-m", "x", "--on", "main")
    assert "checked out" in fails(project, "comment", item, "-m", "x", "--on", "elsewhere")
    assert "checked out" in fails(project, "new", "-s", "x", "--on", "refs/heads/main")
    assert git(project, "for-each-ref") == tips
    assert snapshot(project) == before


def test_on_a_remote_tracking_branch_says_how_to_make_a_local_one(project: Path, tmp_path: Path):
    # It said only "no branch 'origin/feature'", as if there were none at all.
    item = new_issue(project, "Upstream")
    git(project, "commit", "-qm", "issue")
    git(project, "branch", "feature")
    git(tmp_path, "clone", "-q", project.as_uri(), "clone")
    clone = tmp_path / "clone"
    create = ("Error: no branch 'origin/feature' in this repository; origin/feature is a remote-tracking "
              "branch: create a local one with 'git branch feature origin/feature', then use --on feature.\n")
    assert fails(clone, "comment", item, "-m", "x", "--on", "origin/feature") == create
    assert fails(clone, "comment", item, "-m", "x", "--on", "refs/remotes/origin/feature") == \
        create.replace("no branch 'origin/feature'", "no branch 'refs/remotes/origin/feature'")
    git(clone, "checkout", "-q", "--detach")
    assert fails(clone, "comment", item, "-m", "x", "--on", "origin/HEAD") == (
        "Error: no branch 'origin/HEAD' in this repository; origin/main is a remote-tracking branch: "
        "write on the local branch (--on main), then push it.\n")
    git(clone, "branch", "feature", "origin/feature")  # as the message says; then --on works
    ok(clone, "comment", item, "-m", "on feature", "--on", "feature")
    assert fails(clone, "new", "-s", "x", "--on", "nosuch")[7:] == "no branch 'nosuch' in this repository.\n"


def test_on_commits_without_touching_the_work_tree_or_index(project: Path):
    item = new_issue(project, "Inbox")
    git(project, "commit", "-qm", "issue")
    git(project, "branch", "inbox")
    old_tip = git(project, "rev-parse", "inbox").strip()
    (project / "staged.txt").write_text("staged\n")
    git(project, "add", "staged.txt")
    (project / "untracked.txt").write_text("untracked\n")
    unrelated = ok(project, "comment", item, "-m", "staged in the work tree").strip()
    before = snapshot(project)
    record = ok(project, "comment", item, "-m", "via the inbox", "--on", "inbox").strip()
    assert snapshot(project) == before
    assert git(project, "rev-parse", "inbox^").strip() == old_tip
    log = git(project, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", "inbox").strip()
    assert log == f"{AUTHOR}|{AUTHOR}|Comment on issue {item[:8]}: Inbox"
    changed = set(git(project, "diff", "--name-only", "inbox^", "inbox").split())
    written = records_at(project, "inbox", item)[record]
    record_dir = f".sit/records/{split_path(record)}"
    assert changed == {f".sit/items/{item}/{record}", *(f"{record_dir}/{name}" for name in written.files)}
    assert written.verifies()
    # .prev comes from the item's leaves on the branch, not from the work tree.
    (details,) = by_types(records_at(project, "inbox", item), "DetailsChanged")
    assert written.prev == {details.id} and unrelated not in written.prev


def test_on_in_a_bare_repository(project: Path, tmp_path: Path):
    item = new_issue(project, "Shared")
    git(project, "commit", "-qm", "issue")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(bare))
    assert "--on BRANCH" in fails(bare, "new", "-s", "no work tree")
    bot = ok(bare, "new", "-s", "Filed by a bot", "--on", "main").strip()
    ok(bare, "label", item[:8], "+triage", "--on", "main")
    listing = ok(bare, "list")
    assert {line.split()[0] for line in listing.splitlines()} == {item[:8], bot[:8]}
    assert all(r.verifies() for r in records_at(bare, "main", bot).values())
    git(project, "pull", "-q", "--ff-only", str(bare), "main")
    assert json.loads(ok(project, "show", item, "--json"))["labels"] == ["triage"]


def test_failed_work_tree_write_leaves_nothing_behind(project: Path):
    new_issue(project, "Existing")
    git(project, "commit", "-qm", "issue")
    before = snapshot(project)
    lock = project / ".git" / "index.lock"
    lock.write_text("")
    assert "index" in fails(project, "new", "-s", "Two records", "-d", "both or neither")
    lock.unlink()
    assert snapshot(project) == before
    # A file where the items directory should be: the record is written, then its link fails.
    os.rename(project / ".sit" / "items", project / "items.saved")
    (project / ".sit" / "items").write_text("not a directory\n")
    before = snapshot(project)
    assert "Error" in fails(project, "new", "-s", "Cannot link")
    assert snapshot(project) == before


def test_failed_branch_write_leaves_the_branch_alone(project: Path):
    init = git(project, "rev-parse", "HEAD").strip()
    new_issue(project, "Existing")
    git(project, "commit", "-qm", "issue")
    repo = pygit2.Repository(str(project))
    from tests.helpers import commit_files
    git(project, "branch", "broken", init)
    commit_files(repo, {".sit/items": b"not a directory\n"}, ref="broken")
    tip = git(project, "rev-parse", "broken").strip()
    assert "not a directory" in fails(project, "new", "-s", "x", "--on", "broken")
    assert git(project, "rev-parse", "broken").strip() == tip
    commit_files(repo, {"README": b"no issues here\n"}, ref="refs/heads/plain", parents=[])
    assert "branch plain: no SIT repository" in fails(project, "new", "-s", "x", "--on", "plain")


def test_labels_assignees_and_milestone_show_with_a_repositorys_own_reducers(project: Path):
    """The repository's JavaScript copy of issue-tracking knows no labels; auto adds git-sit's extensions."""
    write_files(project, module_files(".sit/modules/tracking"))
    item = new_issue(project, "Crash")
    ok(project, "label", item, "+bug")
    ok(project, "assign", item, "+alice")
    ok(project, "milestone", item, "v1")
    shown = json.loads(ok(project, "show", item, "--json"))
    assert (shown["summary"], shown["labels"], shown["assignees"], shown["milestone"]) == \
        ("Crash", ["bug"], ["alice"], "v1")
    assert [s["id"] for s in json.loads(ok(project, "list", "--label", "bug", "--json"))] == [item]
    git(project, "add", "-A")
    git(project, "commit", "-qm", "issue")
    assert json.loads(ok(project, "show", item, "--json", "--rev", "HEAD")) == shown
    exact = sit(project, "--reducers", "js", "issue", "show", item, "--json")  # as SIT runs them
    assert exact.code == 0, exact.err
    as_sit = json.loads(exact.out)
    assert as_sit["summary"] == "Crash" and not {"labels", "assignees", "milestone"} & set(as_sit)
    assert as_sit == {k: v for k, v in shown.items() if k not in {"labels", "assignees", "milestone"}}
