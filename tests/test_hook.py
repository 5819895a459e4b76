"""The inbox end to end: `git sit inbox install` into a bare repository, then real `git push`.

Every rejection also checks that the server's refs did not move. Pure parts of the
driver (input parsing, ref rules, the 50-line report) are tested first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

from git_sit.errors import SitError
from git_sit.hook import Finding, RefUpdate, check_ref, parse_updates, report
from git_sit.inbox import Violation
from git_sit.record import compute_id, split_path
from git_sit.shim import render
from tests.helpers import ROOT, Run, commit_files, git, record_files, sit, sit_tree_files

ZERO = "0" * 40
A, B = "a" * 40, "b" * 40
ITEM = "3f1c2a9e-8b7d-4e6f-a5c4-1d2e3f4a5b6c"
NEW_ITEM = "9e8d7c6b-5a4f-4e3d-b2c1-0f9e8d7c6b5a"
SHORT = "[0-9a-f]{7,}"


# --- pure driver parts ------------------------------------------------------------------

def test_parse_updates():
    text = f"{ZERO} {A} refs/heads/new\n{A} {B} refs/heads/main\n\n{B} {ZERO} refs/heads/gone\n"
    updates = parse_updates(text)
    assert updates == [RefUpdate(ZERO, A, "refs/heads/new"), RefUpdate(A, B, "refs/heads/main"),
                       RefUpdate(B, ZERO, "refs/heads/gone")]
    assert [(u.is_create, u.is_delete) for u in updates] == [(True, False), (False, False), (False, True)]


@pytest.mark.parametrize("line", ["garbage", f"{A} {B}", f"{A[:39]} {B} refs/heads/x"])
def test_parse_updates_rejects_malformed_input(line):
    with pytest.raises(SitError):
        parse_updates(line)


@pytest.mark.parametrize(("ref", "new", "fragment"), [
    ("refs/heads/main", B, None),
    ("refs/heads/topic/x", B, None),
    ("refs/tags/v1", B, "tags are not accepted; only refs/heads/* may be pushed"),
    ("refs/notes/commits", B, "this ref is not accepted; only refs/heads/* may be pushed"),
    ("refs/heads/main", ZERO, "deleting a ref is not accepted; ask the inbox's operator to delete it"),
])
def test_check_ref(ref, new, fragment):
    violations = check_ref(RefUpdate(A, new, ref), ("refs/heads/*",))
    assert [v.reason for v in violations] == ([] if fragment is None else [fragment])


def test_report_caps_at_fifty_lines():
    findings = [Finding("refs/heads/main", "abc1234", Violation(f"p{i}", "bad")) for i in range(53)]
    lines = report(findings)
    assert lines[0] == "refs/heads/main abc1234: p0: bad"
    assert len(lines) == 51 and lines[-1] == "... and 3 more violations"
    assert report(findings[:50])[-1] == "refs/heads/main abc1234: p49: bad"


def test_shipped_shim_is_the_template():
    shipped = ROOT / "hooks" / "pre-receive"
    assert shipped.read_text() == render("pre-receive", None)
    assert os.access(shipped, os.X_OK)


# --- end to end ---------------------------------------------------------------------------

SEED = record_files(types=["SummaryChanged"], text="Seed issue\n", timestamp="2026-01-01T00:00:00.000Z")
SEED_ID = compute_id(SEED.items())
SEED_DIR = f".sit/records/{split_path(SEED_ID)}"


@dataclass
class Inbox:
    server: Path
    work: Path

    def refs(self) -> str:
        return git(self.server, "for-each-ref", "--format=%(refname) %(objectname)")

    def push(self, *args: str) -> Run:
        result = subprocess.run(["git", "push", *args], cwd=self.work, capture_output=True, text=True,
                                check=False)
        return Run(result.returncode, result.stdout, result.stderr)

    def commit(self, files: dict[str, bytes], message: str = "change") -> None:
        for path, data in files.items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-qm", message)

    def add_record(self, files: dict[str, bytes], item: str | None = NEW_ITEM) -> str:
        rid = compute_id(files.items())
        added = {f".sit/records/{split_path(rid)}/{n}": d for n, d in files.items()}
        if item:
            added[f".sit/items/{item}/{rid}"] = f"../../records/{split_path(rid)}".encode()
        self.commit(added, f"record {rid}")
        return rid

    def head(self, ref: str = "main") -> str:
        return git(self.server, "rev-parse", ref).strip()


def make_inbox(tmp_path: Path, name: str = "server.git") -> Inbox:
    server = tmp_path / name
    repo = pygit2.init_repository(str(server), bare=True, initial_head="main")
    files, _ = sit_tree_files({ITEM: [SEED]})
    files["README"] = b"A project\n"
    seed = commit_files(repo, files, ref="refs/heads/main", message="seed")
    repo.references.create("refs/heads/feature", seed)
    run = sit(tmp_path, "inbox", "install", str(server))
    assert run.code == 0, run.err
    assert f"installed {server}/hooks/pre-receive" in run.out
    work = tmp_path / f"work-{name}"
    git(tmp_path, "clone", "-q", str(server), str(work))
    return Inbox(server, work)


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    return make_inbox(tmp_path)


def remote_lines(run: Run) -> list[str]:
    return [line[len("remote: "):].rstrip() for line in run.err.splitlines() if line.startswith("remote: ")]


# What a reason may go on to say after the part the tests match: what to do about it.
HINT = r"(?:[;:] .*)?"


def assert_rejected(inbox: Inbox, before: str, run: Run, *patterns: str) -> None:
    assert run.code != 0, run.err
    assert "pre-receive hook declined" in run.err
    lines = remote_lines(run)
    for pattern in patterns:  # each reason's start: what it says is wrong (then what to do)
        assert any(re.fullmatch(pattern + HINT, line) for line in lines), (pattern, lines)
    assert inbox.refs() == before, "a rejected push must leave every ref as it was"


def test_new_item_with_the_real_cli(inbox):
    item = sit(inbox.work, "item").out.strip()
    (inbox.work / "text").write_text("Crash on empty input\n")
    assert sit(inbox.work, "record", "-t", "SummaryChanged", item, "text").code == 0
    os.remove(inbox.work / "text")
    git(inbox.work, "commit", "-qm", "New issue")
    run = inbox.push("origin", "HEAD:main")
    assert run.code == 0, run.err
    assert inbox.head() == git(inbox.work, "rev-parse", "HEAD").strip()
    items = sit(inbox.server, "items", "-q", "summary")
    assert sorted(items.out.split("\n")[:-1]) == ["Crash on empty input", "Seed issue"]


def test_records_in_an_existing_item_over_several_commits(inbox):
    inbox.add_record(record_files(types=["Commented"], text="first\n", prev=[SEED_ID]), ITEM)
    inbox.add_record(record_files(types=["Commented"], text="second\n", prev=[SEED_ID]), ITEM)
    inbox.add_record(record_files(types=["Closed"]), item=None)
    run = inbox.push("origin", "HEAD:main")
    assert run.code == 0, run.err
    assert inbox.head() == git(inbox.work, "rev-parse", "HEAD").strip()


def test_merge_of_the_servers_branch(inbox, tmp_path):
    other = Inbox(inbox.server, tmp_path / "other")
    git(tmp_path, "clone", "-q", str(inbox.server), str(other.work))
    other.add_record(record_files(types=["Commented"], text="from the other side\n"))
    assert other.push("origin", "HEAD:main").code == 0
    inbox.add_record(record_files(types=["Commented"], text="mine\n"), ITEM)
    git(inbox.work, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    assert len(git(inbox.work, "log", "-1", "--format=%p").split()) == 2
    run = inbox.push("origin", "HEAD:main")
    assert run.code == 0, run.err
    assert inbox.head() == git(inbox.work, "rev-parse", "HEAD").strip()


def test_an_evil_merge_is_rejected(inbox, tmp_path):
    other = Inbox(inbox.server, tmp_path / "other")
    git(tmp_path, "clone", "-q", str(inbox.server), str(other.work))
    other.add_record(record_files(types=["Commented"], text="from the other side\n"))
    assert other.push("origin", "HEAD:main").code == 0
    before = inbox.refs()
    inbox.add_record(record_files(types=["Commented"], text="mine\n"), ITEM)
    git(inbox.work, "fetch", "-q", "origin")
    git(inbox.work, "merge", "-q", "--no-commit", "origin/main")
    (inbox.work / "README").write_text("changed while merging\n")
    git(inbox.work, "commit", "-qam", "merge")
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run,
                    rf"refs/heads/main {SHORT}: README: modified; existing files may not change")
    assert len(remote_lines(run)) == 1


@pytest.mark.parametrize("older", ["root", "ancestor"])
def test_a_merge_that_takes_an_older_tree_is_rejected(inbox, older):
    # Both parents are commits the server has, and the merge's tree is the second one's:
    # judged against that parent it adds nothing, but it would drop records from main.
    first = inbox.add_record(record_files(types=["Commented"], text="first\n"))
    inbox.add_record(record_files(types=["Commented"], text="second\n"))
    assert inbox.push("origin", "HEAD:main").code == 0
    before = inbox.refs()
    old = git(inbox.work, "rev-list", "--max-parents=0", "HEAD").strip() if older == "root" else "HEAD~1"
    merge = git(inbox.work, "commit-tree", "-p", "HEAD", "-p", old, "-m", "merge", f"{old}^{{tree}}").strip()
    run = inbox.push("origin", f"{merge}:refs/heads/main")
    dropped = r".sit/records/\S+: deleted by the push compared with the branch's old tip; .*"
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: {dropped}")
    lines = remote_lines(run)
    assert all(first not in line for line in lines) == (older == "ancestor")  # the root drops both
    if older == "root":
        assert any(re.fullmatch(rf"refs/heads/main {SHORT}: README: deleted by the push.*", line)
                   for line in lines) is False  # README is in the root's tree too: unchanged


def test_a_rejected_push_says_what_to_do(inbox):
    # The pusher read only what was wrong ("README: modified; existing files may not change").
    before = inbox.refs()
    inbox.commit({"README": b"changed\n", "src.py": b"print()\n"})
    run = inbox.push("origin", "HEAD:main")
    assert run.code != 0 and inbox.refs() == before
    assert sorted(line.split(": ", 1)[1] for line in remote_lines(run)) == [
        "README: modified; existing files may not change: restore it as the server's branch has it",
        "src.py: outside the SIT repositories (.sit); this inbox takes only new records: push other changes "
        "elsewhere",
    ]
    git(inbox.work, "reset", "-q", "--hard", "origin/main")
    git(inbox.work, "checkout", "-q", "--orphan", "fresh")
    inbox.commit({"x": b""})
    run = inbox.push("origin", "fresh", "+HEAD:refs/heads/feature", ":refs/heads/main")
    assert run.code != 0 and inbox.refs() == before
    assert sorted(line.split(": ", 1)[1] for line in remote_lines(run)) == [
        "deleting a ref is not accepted; ask the inbox's operator to delete it",
        "not a fast-forward (force push); it could drop records, so merge the server's branch and push again",
        "root commit; new commits must build on the server's history: rebase onto the server's branch",
    ]


def test_a_merge_may_not_bring_in_files_outside_the_records(inbox):
    # A branch the server already has (here made before the inbox judged it) with a stray file.
    server = pygit2.Repository(str(inbox.server))
    main = server.references["refs/heads/main"].peel(pygit2.Commit)
    stray = commit_files(server, {"docs/guide.md": b"a guide\n"}, ref="refs/heads/docs", parents=[main.id])
    git(inbox.work, "fetch", "-q", "origin")
    before = inbox.refs()
    tree = git(inbox.work, "rev-parse", f"{stray}^{{tree}}").strip()
    merge = git(inbox.work, "commit-tree", "-p", "origin/main", "-p", str(stray), "-m", "merge", tree).strip()
    run = inbox.push("origin", f"{merge}:refs/heads/main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: docs/guide.md: added by the push but "
                                        r"outside the SIT repositories' records/ and items/ .*")


def _commit_tree_with(inbox: Inbox, *entries: str) -> str:
    """A commit on the work tree's HEAD whose tree adds ``entries`` (``mktree`` lines, ``{empty}``
    standing for the empty tree), made with git's plumbing as a client could."""
    empty = git(inbox.work, "hash-object", "-t", "tree", "-w", "/dev/null").strip()

    def with_entries(tree: str, lines: list[tuple[str, str]]) -> str:
        here = [line for name, line in lines if "/" not in name]
        below: dict[str, list[tuple[str, str]]] = {}
        for name, line in lines:
            if "/" in name:
                head, rest = name.split("/", 1)
                below.setdefault(head, []).append((rest, line.replace(name, rest)))
        listing = git(inbox.work, "ls-tree", tree).splitlines() if tree else []
        kept = [entry for entry in listing if entry.split("\t", 1)[1] not in below]
        for head, nested in below.items():
            old = next((e.split()[2] for e in listing if e.split("\t", 1)[1] == head), "")
            kept.append(f"040000 tree {with_entries(old, nested)}\t{head}")
        return git(inbox.work, "mktree", input="\n".join([*kept, *here]) + "\n").strip()

    lines = [(entry.split("\t", 1)[1], entry.format(empty=empty)) for entry in entries]
    tree = with_entries(git(inbox.work, "rev-parse", "HEAD^{tree}").strip(), lines)
    return git(inbox.work, "commit-tree", "-p", "HEAD", "-m", "empty directories", tree).strip()


EMPTY_RECORD_ID = compute_id([])  # a record without files


@pytest.mark.parametrize(("entries", "path"), [
    (["040000 tree {empty}\tjunk"], "junk"),
    ([f"040000 tree {{empty}}\t.sit/items/{NEW_ITEM}"], f".sit/items/{NEW_ITEM}"),
    ([f"040000 tree {{empty}}\t.sit/records/{split_path(EMPTY_RECORD_ID)}"],
     f".sit/records/{split_path(EMPTY_RECORD_ID)}"),
])
def test_an_empty_directory_is_rejected(inbox, entries, path):
    # An empty record directory would block that record's path; a link to the empty
    # record's ID would make a record with no type.
    commit = _commit_tree_with(inbox, *entries)
    before = inbox.refs()
    run = inbox.push("origin", f"{commit}:refs/heads/main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: {re.escape(path)}: an empty directory; .*")


def test_a_tree_git_would_not_check_out_is_rejected_by_git(inbox):
    # install sets receive.fsckObjects: a ".git" entry never reaches the hook.
    assert git(inbox.server, "config", "receive.fsckObjects").strip() == "true"
    commit = _commit_tree_with(inbox, "040000 tree {empty}\t.git")
    before = inbox.refs()
    run = inbox.push("origin", f"{commit}:refs/heads/main")
    assert run.code != 0 and "hasDotgit" in run.err, run.err
    assert inbox.refs() == before


def test_push_to_new_branches(inbox):
    before = inbox.head()
    assert inbox.push("origin", "HEAD:refs/heads/same-commit").code == 0
    inbox.add_record(record_files(types=["Commented"], text="on a branch\n"))
    run = inbox.push("origin", "HEAD:refs/heads/topic")
    assert run.code == 0, run.err
    assert inbox.head("topic") == git(inbox.work, "rev-parse", "HEAD").strip()
    assert inbox.head("same-commit") == before == inbox.head("main")


def _symlink(inbox: Inbox) -> None:
    rid = compute_id(SEED.items())
    os.symlink("../x", inbox.work / ".sit" / "records" / split_path(rid) / "link")


def _put(inbox: Inbox, path: str, data: bytes = b"x") -> None:
    target = inbox.work / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _record_with(extra: Callable[[Path], object]) -> Callable[[Inbox], None]:
    def change(inbox: Inbox) -> None:
        files = record_files(types=["Commented"], text="special\n")
        rid = compute_id(files.items())
        directory = inbox.work / ".sit" / "records" / split_path(rid)
        directory.mkdir(parents=True)
        for name, data in files.items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_bytes(data)
        extra(directory)
    return change


def _submodule(inbox: Inbox) -> None:
    _record_with(lambda d: None)(inbox)
    rid = compute_id(record_files(types=["Commented"], text="special\n").items())
    # An empty directory is what an unpopulated submodule looks like, so `git add -A` keeps it.
    (inbox.work / ".sit" / "records" / split_path(rid) / "sub").mkdir()
    git(inbox.work, "update-index", "--add", "--cacheinfo",
        f"160000,{'1' * 40},.sit/records/{split_path(rid)}/sub")


NEW = record_files(types=["Commented"], text="special\n")
NEW_ID = compute_id(NEW.items())
NEW_DIR = f".sit/records/{split_path(NEW_ID)}"
P = r"[^:]+"  # any path without ':'

# Rule 4 violations: a change to the clone's files, and a line the pusher must see.
VIOLATIONS: dict[str, tuple[Callable[[Inbox], object], str]] = {
    "modified record file": (lambda i: (i.work / SEED_DIR / "text").write_text("Edited\n"),
                             rf"{SEED_DIR}/text: modified; existing files may not change"),
    "deleted record file": (lambda i: os.remove(i.work / SEED_DIR / "text"),
                            rf"{SEED_DIR}/text: deleted; existing files may not be removed"),
    "renamed file": (lambda i: os.rename(i.work / "README", i.work / "README.md"),
                     r"README: deleted; existing files may not be removed"),
    "mode changed": (lambda i: os.chmod(i.work / SEED_DIR / "text", 0o755),
                     rf"{SEED_DIR}/text: mode changed from 100644 to 100755; existing files may not change"),
    "file added to an existing record": (
        lambda i: (i.work / SEED_DIR / "extra").write_text("x"),
        rf"{SEED_DIR}/extra: file added to an existing record"),
    "outside .sit": (lambda i: (i.work / "src.py").write_text("x"),
                     r"src\.py: outside the SIT repositories \(\.sit\)"),
    "outside records and items": (lambda i: _put(i, ".sit/reducers/x.js"),
                                  r"\.sit/reducers/x\.js: outside \.sit/records and \.sit/items"),
    "prefix look-alike": (lambda i: _put(i, ".sit/itemsX/f"),
                          r"\.sit/itemsX/f: outside \.sit/records and \.sit/items"),
    "symlink": (_record_with(lambda d: os.symlink("text", d / "link")),
                rf"{NEW_DIR}/link: a symlink; record files must be regular files \(mode 100644\)"),
    "submodule": (_submodule,
                  rf"{NEW_DIR}/sub: a submodule; record files must be regular files \(mode 100644\)"),
    "wrong hash": (_record_with(lambda d: (d / "text").write_text("tampered\n")),
                   rf"{NEW_DIR}: record content hashes to [A-Z2-7]{{32}}, not to its directory name"),
    "split dirs do not match": (
        lambda i: i.commit({f".sit/records/AA/{split_path(NEW_ID)[3:]}/{n}": d for n, d in NEW.items()}),
        rf"\.sit/records/AA/{P}: split directories do not match the record ID {P}"),
    "bad link content": (
        lambda i: i.commit({f".sit/items/{NEW_ITEM}/{SEED_ID}": b"../../records/x"}),
        rf"\.sit/items/{NEW_ITEM}/{SEED_ID}: link content must be exactly \.\./\.\./records/{P}"),
    "link to a missing record": (
        lambda i: i.commit({f".sit/items/{NEW_ITEM}/{NEW_ID}":
                            f"../../records/{split_path(NEW_ID)}".encode()}),
        rf"\.sit/items/{NEW_ITEM}/{NEW_ID}: links to {NEW_DIR}, which is missing or does not verify"),
    "item not a UUID": (
        lambda i: _put(i, f".sit/items/Not-A-UUID/{SEED_ID}",
                       f"../../records/{split_path(SEED_ID)}".encode()),
        rf"\.sit/items/Not-A-UUID/{SEED_ID}: item ID 'Not-A-UUID' does not match the item-ID pattern {P}"),
    "no .type": (lambda i: i.commit({f".sit/records/{split_path(compute_id([('text', b'x')]))}/text": b"x"}),
                 rf"\.sit/records/{P}: record has no \.type/\* file"),
    "backslash in a name": (_record_with(lambda d: (d / "a\\b").write_text("")),
                            rf"{NEW_DIR}/a\\b: file name contains '\\' or is not normalised"),
    "non-UTF-8 name": (_record_with(lambda d: open(os.fsencode(d) + b"/caf\xe9", "wb").close()),
                       rf"{NEW_DIR}/caf\ufffd: file name is not valid UTF-8"),
    "legacy record dir in a flat repository": (
        lambda i: i.commit({f".sit/items/{NEW_ITEM}/{NEW_ID}/{n}": d for n, d in NEW.items()}),
        rf"\.sit/items/{NEW_ITEM}/{NEW_ID}/{P}: record directories belong in \.sit/records \(flat-records\)"),
}


@pytest.mark.parametrize("case", VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_rule_four_violations_are_rejected(inbox, case):
    change, pattern = case
    before = inbox.refs()
    change(inbox)
    git(inbox.work, "add", "-A")
    git(inbox.work, "commit", "-qm", "bad", check=False)
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: {pattern}")


def test_limits(inbox):
    git(inbox.server, "config", "sit.inbox.maxBlobSize", "1k")
    before = inbox.refs()
    inbox.add_record(record_files(types=["Commented"], text="x" * 1025))
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run,
                    rf"refs/heads/main {SHORT}: \.sit/records/{P}/text: blob of 1025 bytes is larger than "
                    r"the limit of 1024 bytes")
    git(inbox.work, "reset", "-q", "--hard", "origin/main")
    git(inbox.server, "config", "sit.inbox.maxRecords", "2")
    for n in range(3):
        inbox.add_record(record_files(types=["Commented"], text=f"{n}\n"))
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run,
                    rf"refs/heads/main {SHORT}: the push adds 3 new records, more than the limit of 2")
    git(inbox.work, "reset", "-q", "--hard", "HEAD~1")
    assert inbox.push("origin", "HEAD:main").code == 0


def _record_of(size: int) -> dict[str, bytes]:
    """A record of exactly ``size`` bytes, most of them one blob under several names."""
    shared = {f"copy/{n}": b"\0" * 900 for n in range(4)}  # one blob: a small push, a big record
    files = record_files(types=["Commented"], text=f"{size}\n", extra=shared)
    return {**files, "pad": b"y" * (size - sum(len(d) for d in files.values()))}


def test_record_size_limit(inbox):
    git(inbox.server, "config", "sit.inbox.maxRecordSize", "4k")
    before = inbox.refs()
    rid = inbox.add_record(_record_of(4097))
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: {re.escape(f'.sit/records/{split_path(rid)}')}: "
                                        r"record of 4097 bytes is larger than the limit of 4096 bytes")
    assert len(remote_lines(run)) == 1  # its link is not reported again
    git(inbox.work, "reset", "-q", "--hard", "origin/main")
    inbox.add_record(_record_of(4096))
    run = inbox.push("origin", "HEAD:main")
    assert run.code == 0, run.err
    assert inbox.head() == git(inbox.work, "rev-parse", "HEAD").strip()


def test_push_size_limit(inbox):
    # Two records of over 3000 bytes each: one fits in 4k, the two in one push do not,
    # though each ref on its own would pass (main gets the first, feature both).
    git(inbox.server, "config", "sit.inbox.maxPushSize", "4k")
    before = inbox.refs()
    for n in range(2):
        inbox.add_record(record_files(types=["Commented"], text=f"{n}" * 3000 + "\n"))
    run = inbox.push("origin", "HEAD~1:refs/heads/main", "HEAD:refs/heads/feature")
    assert_rejected(inbox, before, run,
                    rf"refs/heads/feature {SHORT}: checking the push's records would read more than 4096 "
                    r"bytes, the limit of sit\.inbox\.maxPushSize; push fewer or smaller records at a time")
    assert len(remote_lines(run)) == 1
    for refspec in ("HEAD~1:refs/heads/main", "HEAD:refs/heads/feature"):  # the budget is per push
        run = inbox.push("origin", refspec)
        assert run.code == 0, run.err
    assert inbox.head("feature") == git(inbox.work, "rev-parse", "HEAD").strip()


def test_a_stray_file_added_and_removed_again_is_rejected(inbox):
    before = inbox.refs()
    inbox.commit({"stray.bin": b"unwanted"}, "add stray")
    os.remove(inbox.work / "stray.bin")
    inbox.add_record(NEW)
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run,
                    rf"refs/heads/main {SHORT}: stray\.bin: outside the SIT repositories.*")


def test_more_than_fifty_violations(inbox):
    before = inbox.refs()
    inbox.commit({f"stray/{n:02}": b"x" for n in range(60)})
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, r"\.\.\. and 10 more violations")
    assert len(remote_lines(run)) == 51


def test_deleting_a_branch_is_rejected(inbox):
    before = inbox.refs()
    run = inbox.push("origin", ":refs/heads/feature")
    assert_rejected(inbox, before, run, rf"refs/heads/feature {SHORT}: deleting a ref is not accepted")


def test_force_push_is_rejected(inbox):
    inbox.add_record(record_files(types=["Commented"], text="one\n"))
    assert inbox.push("origin", "HEAD:main").code == 0
    before = inbox.refs()
    git(inbox.work, "reset", "-q", "--hard", "HEAD~1")
    inbox.add_record(record_files(types=["Commented"], text="two\n"))
    run = inbox.push("--force", "origin", "HEAD:main")
    assert_rejected(inbox, before, run, rf"refs/heads/main {SHORT}: not a fast-forward \(force push\).*")


@pytest.mark.parametrize(("args", "pattern"), [
    (("v1",), rf"refs/tags/v1 {SHORT}: tags are not accepted; only refs/heads/\* may be pushed"),
    (("HEAD:refs/notes/x",), rf"refs/notes/x {SHORT}: this ref is not accepted.*"),
])
def test_tags_and_other_refs_are_rejected(inbox, args, pattern):
    git(inbox.work, "tag", "v1")
    before = inbox.refs()
    assert_rejected(inbox, before, inbox.push("origin", *args), pattern)


def test_root_commit_is_rejected(inbox):
    before = inbox.refs()
    git(inbox.work, "checkout", "-q", "--orphan", "fresh")
    inbox.add_record(NEW)
    run = inbox.push("origin", "HEAD:refs/heads/fresh")
    assert_rejected(inbox, before, run,
                    rf"refs/heads/fresh {SHORT}: root commit; new commits must build on the server's history")


def test_one_bad_ref_rejects_the_whole_push(inbox):
    before = inbox.refs()
    inbox.add_record(NEW)
    git(inbox.work, "tag", "v1")
    run = inbox.push("origin", "HEAD:main", "v1")
    assert_rejected(inbox, before, run, rf"refs/tags/v1 {SHORT}: tags are not accepted.*")


def test_allowed_refs_are_configurable(inbox):
    git(inbox.server, "config", "--add", "sit.inbox.ref", "refs/inbox/*")
    inbox.add_record(NEW)
    assert inbox.push("origin", "HEAD:refs/inbox/me").code == 0
    assert inbox.head("refs/inbox/me") == git(inbox.work, "rev-parse", "HEAD").strip()
    before = inbox.refs()
    assert_rejected(inbox, before, inbox.push("origin", "HEAD:main"),
                    rf"refs/heads/main {SHORT}: this ref is not accepted; only refs/inbox/\* may be pushed")


def test_invalid_configuration_rejects_every_push(inbox):
    git(inbox.server, "config", "sit.inbox.maxBlobSize", "lots")
    before = inbox.refs()
    inbox.add_record(NEW)
    run = inbox.push("origin", "HEAD:main")
    assert_rejected(inbox, before, run, r"sit inbox: invalid configuration, every push is rejected until it "
                                        r"is fixed: sit\.inbox\.maxBlobSize = 'lots' must be .*")


QUARANTINE_PROBE = """#!/bin/sh
input=$(cat)
echo "$input" | {python} -c '
import os, sys, pygit2
new = sys.stdin.read().split()[1]
plain = pygit2.Repository(os.environ["GIT_DIR"])
env = pygit2.Repository(os.environ["GIT_DIR"], pygit2.enums.RepositoryOpenFlag.FROM_ENV)
print("quarantine:", "GIT_QUARANTINE_PATH" in os.environ, "plain sees it:", new in plain,
      "FROM_ENV sees it:", new in env, file=sys.stderr)
'
echo "$input" | exec hooks/pre-receive.inbox
"""


def test_hook_sees_quarantined_objects(inbox):
    hooks = inbox.server / "hooks"
    os.rename(hooks / "pre-receive", hooks / "pre-receive.inbox")
    (hooks / "pre-receive").write_text(QUARANTINE_PROBE.format(python=sys.executable))
    os.chmod(hooks / "pre-receive", 0o755)
    rid = inbox.add_record(NEW)
    run = inbox.push("origin", "HEAD:main")
    assert "quarantine: True plain sees it: False FROM_ENV sees it: True" in remote_lines(run)
    assert run.code == 0, run.err
    assert rid == NEW_ID and inbox.head() == git(inbox.work, "rev-parse", "HEAD").strip()


def test_forwarding(tmp_path):
    upstream = tmp_path / "upstream.git"
    inbox = make_inbox(tmp_path)
    git(tmp_path, "clone", "-q", "--bare", str(inbox.server), str(upstream))
    git(inbox.server, "config", "sit.inbox.forward", str(upstream))
    inbox.add_record(NEW)
    run = inbox.push("origin", "HEAD:main", "HEAD:refs/heads/topic")
    assert run.code == 0, run.err
    assert f"sit inbox: forwarded 2 ref(s) to {upstream}" in remote_lines(run)
    head = git(inbox.work, "rev-parse", "HEAD").strip()
    assert git(upstream, "rev-parse", "main", "topic").split() == [head, head]


def test_failing_forward_keeps_the_accepted_push(tmp_path):
    inbox = make_inbox(tmp_path)
    missing = tmp_path / "no-such-remote.git"
    git(inbox.server, "config", "sit.inbox.forward", str(missing))
    inbox.add_record(NEW)
    run = inbox.push("origin", "HEAD:main")
    assert run.code == 0, run.err
    assert inbox.head() == git(inbox.work, "rev-parse", "HEAD").strip()
    assert any(line.startswith(f"sit inbox: the push was accepted here, but forwarding to {missing} failed")
               for line in remote_lines(run)), run.err


def test_check_a_range_by_hand(inbox):
    inbox.add_record(NEW)
    assert sit(inbox.work, "inbox", "check", "origin/main", "HEAD").code == 0
    inbox.commit({"stray": b"x"})
    run = sit(inbox.work, "inbox", "check", "origin/main", "HEAD")
    assert run.code == 1
    assert re.fullmatch(rf"{SHORT}: stray: outside the SIT repositories \(\.sit\); this inbox takes only new "
                        r"records: push other changes elsewhere\n", run.out), run.out
    run = sit(inbox.work, "inbox", "check", "HEAD", "origin/main")
    assert run.code == 1 and "HEAD is not an ancestor of origin/main" in run.out
    assert sit(inbox.work, "inbox", "check", "nope", "HEAD").code == 1


def test_install_refuses_foreign_hooks(tmp_path):
    server = tmp_path / "s.git"
    git(tmp_path, "init", "-q", "--bare", str(server))
    (server / "hooks" / "pre-receive").write_text("#!/bin/sh\nexit 0\n")
    run = sit(tmp_path, "inbox", "install", str(server))
    assert run.code == 1
    assert "was not written by git-sit" in run.err
    assert (server / "hooks" / "pre-receive").read_text() == "#!/bin/sh\nexit 0\n"
    assert sit(tmp_path, "inbox", "install", "--force", str(server)).code == 0
    assert sit(tmp_path, "inbox", "install", str(server)).code == 0  # ours: replaced quietly
    assert sys.executable in (server / "hooks" / "post-receive").read_text()
    assert sit(tmp_path, "inbox", "install", str(tmp_path / "nothing")).code == 1


def test_install_follows_core_hooks_path_only_to_its_own_hooks(tmp_path):
    server = tmp_path / "s.git"
    git(tmp_path, "init", "-q", "--bare", str(server))
    shared = tmp_path / "shared-hooks"
    shared.mkdir()
    git(server, "config", "core.hooksPath", str(shared))
    run = sit(tmp_path, "inbox", "install", str(server))
    assert run.code == 1
    assert "core.hooksPath" in run.err and str(shared) in run.err and len(run.err.strip().splitlines()) == 1
    assert list(shared.iterdir()) == [] and not (server / "hooks" / "pre-receive").exists()
    git(server, "config", "core.hooksPath", "hooks")  # relative to GIT_DIR in a bare repository
    run = sit(tmp_path, "inbox", "install", str(server))
    assert run.code == 0, run.err
    assert (server / "hooks" / "pre-receive").exists() and list(shared.iterdir()) == []
