"""``git sit status`` and ``git sit diff`` on real histories with release branches and tags.

The history is ``tests.history``'s: X closed on main, open on release-1.0 and the
annotated tag v1.0, absent on the annotated tag v0.9, reopened on hotfix. Nothing
is checked out: every state is read from the refs' trees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

from git_sit.locate import Options
from git_sit.reduce import NativeReducers, State
from git_sit.refstore import DictMemo, RefReader, item_union, states_by_ref, store_changes
from git_sit.storage import GitRepo, RefKind
from tests.helpers import commit_files, git, sit
from tests.history import B, X, Z, build_history


@pytest.fixture
def history(repo: pygit2.Repository) -> Path:
    build_history(repo)
    assert repo.workdir is not None
    return Path(repo.workdir)


HEADS = ["refs/heads/hotfix", "refs/heads/main", "refs/heads/release-1.0"]
TAGS = ["refs/tags/v0.9", "refs/tags/v1.0", "refs/tags/v1.1"]
X_STATES = {
    "refs/heads/hotfix": "open",
    "refs/heads/main": "closed",
    "refs/heads/release-1.0": "open",
    "refs/tags/v0.9": None,
    "refs/tags/v1.0": "open",
    "refs/tags/v1.1": "closed",
}


def _json(run):
    assert run.code == 0, run.err
    assert run.err == ""
    return json.loads(run.out)


def test_status_item_json(history):
    result = _json(sit(history, "status", X, "--json"))
    assert result == {X: X_STATES}
    assert list(result[X]) == HEADS + TAGS


def test_status_item_table(history):
    run = sit(history, "status", "1a2b3")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        X,
        "  hotfix       open    Crash on empty input",
        "* main         closed  Crash on empty input",
        "  release-1.0  open    Crash on empty input",
        "  v0.9         absent",
        "  v1.0         open    Crash on empty input",
        "  v1.1         closed  Crash on empty input",
    ]


def test_status_several_items_by_prefix(history):
    result = _json(sit(history, "status", "9f", "1a2bf", "--json", "--no-tags"))
    assert list(result) == [Z, B]
    assert result[Z] == {"refs/heads/hotfix": "open", "refs/heads/main": "open",
                         "refs/heads/release-1.0": None}
    assert set(result[B].values()) == {"open"}
    run = sit(history, "status", "9f", "1a2bf", "--no-tags")
    assert run.out.split("\n\n")[1].splitlines() == [
        B,
        "  hotfix       open  Document config.json",
        "* main         open  Document config.json",
        "  release-1.0  open  Document the config",
    ]


def test_status_overview_json(history):
    result = _json(sit(history, "status", "--json"))
    assert result == {
        "refs": {
            "refs/heads/hotfix": {"current": False, "open": 3, "closed": 0, "items": 3},
            "refs/heads/main": {"current": True, "open": 2, "closed": 1, "items": 3},
            "refs/heads/release-1.0": {"current": False, "open": 2, "closed": 0, "items": 2},
            "refs/tags/v0.9": {"current": False, "open": 1, "closed": 0, "items": 1},
            "refs/tags/v1.0": {"current": False, "open": 2, "closed": 0, "items": 2},
            "refs/tags/v1.1": {"current": False, "open": 2, "closed": 1, "items": 3},
        },
        "differing": {X: X_STATES},
    }


def test_status_overview_table(history):
    run = sit(history, "status")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "  REF          OPEN  CLOSED  ITEMS",
        "  hotfix          3       0      3",
        "* main            2       1      3",
        "  release-1.0     2       0      2",
        "  v0.9            1       0      1",
        "  v1.0            2       0      2",
        "  v1.1            2       1      3",
        "",
        "Items whose state differs between refs:",
        f"  {X}  Crash on empty input",
        "    open    hotfix, release-1.0, v1.0",
        "    closed  main, v1.1",
        "    absent  v0.9",
    ]


def test_status_current_branch_follows_head(history, repo):
    repo.set_head("refs/heads/release-1.0")
    assert _json(sit(history, "status", "--json"))["refs"]["refs/heads/release-1.0"]["current"]
    repo.set_head(repo.revparse_single("main").id)  # detached: no branch is current
    refs = _json(sit(history, "status", "--json"))["refs"]
    assert not any(ref["current"] for ref in refs.values())


@pytest.mark.parametrize(("args", "refs"), [
    (["--no-tags"], HEADS),
    (["--refs", "release-*"], ["refs/heads/release-1.0"]),
    (["--refs", "refs/tags/*", "--refs", "main"], ["refs/heads/main", *TAGS]),
    (["--refs", "v1.*", "--no-tags"], []),
])
def test_status_ref_selection(history, args, refs):
    run = sit(history, "status", X, "--json", *args)
    if not refs:
        assert run.code == 1
        assert run.err == "Error: no branch or tag to examine; check --refs, --remotes and --tags.\n"
        return
    assert _json(run) == {X: {ref: X_STATES[ref] for ref in refs}}


def test_status_remotes(history, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(history), str(clone))
    without = _json(sit(clone, "status", X, "--json"))[X]
    assert list(without) == ["refs/heads/main", *TAGS]
    result = _json(sit(clone, "status", X, "--json", "--remotes", "--refs", "origin/*"))
    assert result == {X: {
        "refs/remotes/origin/hotfix": "open",
        "refs/remotes/origin/main": "closed",
        "refs/remotes/origin/release-1.0": "open",
    }}
    run = sit(clone, "status", X, "--remotes", "--no-tags")
    assert run.out.splitlines()[1:] == [
        "* main                closed  Crash on empty input",
        "  origin/hotfix       open    Crash on empty input",
        "  origin/main         closed  Crash on empty input",
        "  origin/release-1.0  open    Crash on empty input",
    ]


def test_bare_repository(history, tmp_path):
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(history), str(bare))
    assert _json(sit(bare, "status", "1a2b3", "--json")) == {X: X_STATES}
    assert _json(sit(bare, "status", "--json"))["differing"] == {X: X_STATES}
    changes = _json(sit(bare, "diff", "v1.0", "hotfix", "--json"))["changes"]
    # X was closed and reopened in between: open on both sides, but its comments changed.
    assert [(c["id"], c["change"]) for c in changes] == [
        (Z, "appeared"), (X, "changed"), (B, "changed"),
    ]


def test_diff_json(history):
    result = _json(sit(history, "diff", "v1.0", "main", "--json"))
    assert result == {"from": "v1.0", "to": "main", "changes": [
        {"id": X, "change": "closed", "from": "open", "to": "closed",
         "fields": ["comments", "last_updated_timestamp"], "summary": "Crash on empty input"},
        {"id": Z, "change": "appeared", "from": None, "to": "open",
         "fields": ["authors", "last_updated_timestamp", "summary", "timestamp"],
         "summary": "Add a --quiet flag"},
        {"id": B, "change": "changed", "from": "open", "to": "open",
         "fields": ["last_updated_timestamp", "summary"], "summary": "Document config.json"},
    ]}


def test_diff_table(history):
    run = sit(history, "diff", "v1.0", "main")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        f"closed    {X}  Crash on empty input",
        f"appeared  {Z}  Add a --quiet flag (open)",
        f"changed   {B}  Document config.json [last_updated_timestamp, summary]",
    ]
    run = sit(history, "diff", "main", "hotfix")
    assert run.out == f"reopened  {X}  Crash on empty input\n"
    run = sit(history, "diff", "hotfix", "v0.9")
    assert [line.split()[:2] for line in run.out.splitlines()] == [
        ["changed", B], ["disappeared", X], ["disappeared", Z],
    ]


def test_diff_without_changes_prints_nothing(history):
    assert sit(history, "diff", "main", "v1.1").out == ""
    assert _json(sit(history, "diff", "main", "v1.1", "--json"))["changes"] == []


def test_diff_from_a_revision_without_sit(history, repo):
    commit_files(repo, {"README": b"before SIT\n"}, ref="refs/heads/orphan", parents=[])
    changes = _json(sit(history, "diff", "orphan", "v1.0", "--json"))["changes"]
    assert [(c["id"], c["change"]) for c in changes] == [(X, "appeared"), (B, "appeared")]


def test_status_skips_refs_without_sit(history, repo):
    commit_files(repo, {"README": b"before SIT\n"}, ref="refs/heads/orphan", parents=[])
    run = sit(history, "status", X, "--json", "--no-tags")
    assert _json(run)[X]["refs/heads/orphan"] is None


def test_status_warns_about_a_broken_sit_config_and_goes_on(history, repo):
    commit_files(repo, {".sit/config.json": b"{"}, ref="refs/heads/broken")
    run = sit(history, "status", X, "--json", "--no-tags")
    assert run.code == 0
    assert json.loads(run.out)[X]["refs/heads/broken"] is None
    assert run.err.startswith("warning: ref refs/heads/broken: refs/heads/broken:.sit/config.json")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["status", "zz"], 1, "Error: no item 'zz' on any of the 6 refs examined.\n"),
    (["status", "1a2b"], 1, f"Error: item ID prefix '1a2b' is ambiguous: {X}, {B}.\n"),
    (["status", X, "nope"], 1, "Error: no item 'nope' on any of the 6 refs examined.\n"),
    # X exists, but not on the only ref examined.
    (["status", "1a2b3", "--refs", "v0.9"], 1,
     "Error: no item '1a2b3' on any of the 1 refs examined.\n"),
    (["diff", "v1.0", "nope"], 1, "Error: unknown revision 'nope'.\n"),
    (["diff", "nope", "v1.0", "--json"], 1, "Error: unknown revision 'nope'.\n"),
])
def test_bad_input_is_one_line_and_exit_1(history, args, code, message):
    run = sit(history, *args)
    assert (run.code, run.err, run.out) == (code, message, "")


@pytest.mark.parametrize("args", [["diff", "v1.0"], ["status", "--tags=x"], ["status", "--bogus"]])
def test_usage_errors_exit_2(history, args):
    run = sit(history, *args)
    assert run.code == 2
    assert run.out == ""


def test_outside_a_repository(tmp_path):
    run = sit(tmp_path, "status")
    assert run.code == 1 and run.err.count("\n") == 1 and "not in a git repository" in run.err


# --- nothing is reduced twice ---

@dataclass
class CountingReducers:
    """The native reducers, counting which item each reduction was for."""

    calls: list[str]
    fingerprint: str = NativeReducers.fingerprint

    def reduce(self, records, initial: State) -> State:
        self.calls.append(initial["id"])
        return NativeReducers().reduce(records, initial)


def _reader(history: Path, calls: list[str]) -> RefReader:
    return RefReader(GitRepo.discover(str(history)), str(history), Options(),
                     CountingReducers(calls))


def test_each_distinct_item_subtree_is_reduced_once(history):
    calls: list[str] = []
    reader = _reader(history, calls)
    stores = reader.ref_stores(reader.refs([RefKind.BRANCH, RefKind.TAG]))
    memo = DictMemo()
    states = states_by_ref(stores, item_union(stores), memo)
    present = sum(state is not None for per_ref in states.values() for state in per_ref.values())
    assert present == 14
    # Distinct subtrees: B as {B0} and {B0,B1}; X as {X0}, {X0,X1}, {X0,X1,X2}; Z as {Z0}.
    assert sorted(calls) == sorted([B, B, X, X, X, Z])
    assert memo.reductions == 6
    assert states[X]["refs/heads/main"] is states[X]["refs/tags/v1.1"]


def test_status_of_named_items_reduces_only_them(history):
    calls: list[str] = []
    reader = _reader(history, calls)
    stores = reader.ref_stores(reader.refs([RefKind.BRANCH, RefKind.TAG]))
    states_by_ref(stores, [Z], DictMemo())
    assert calls == [Z]


@pytest.mark.parametrize(("rev1", "rev2", "reduced"), [
    ("main", "v1.1", []),                 # same commit: nothing to reduce
    ("main", "hotfix", [X, X]),           # only X's subtree differs
    ("v1.0", "main", [B, B, X, X, Z]),
])
def test_diff_reduces_only_items_whose_subtree_differs(history, rev1, rev2, reduced):
    calls: list[str] = []
    reader = _reader(history, calls)
    store_changes(reader.rev_store(rev1), reader.rev_store(rev2), DictMemo())
    assert sorted(calls) == sorted(reduced)


def test_status_of_the_sit_sample_matches_its_expected_states(fixture_dir, workdir):
    from tests.helpers import copy_fixture, expected_states
    copy_fixture(workdir)
    git(workdir, "add", ".")
    git(workdir, "commit", "-qm", "fixture")
    git(workdir, "tag", "-a", "-m", "sample", "sample")
    expected = {state["id"]: state["state"] for state in expected_states()}
    result = _json(sit(workdir, "status", "--json"))
    for ref in ("refs/heads/main", "refs/tags/sample"):
        assert result["refs"][ref] == {
            "current": ref == "refs/heads/main", "items": len(expected),
            "open": list(expected.values()).count("open"),
            "closed": list(expected.values()).count("closed"),
        }
    assert result["differing"] == {}
    some = sorted(expected)[::7]
    by_item = _json(sit(workdir, "status", *some, "--json", "--no-tags"))
    assert by_item == {item: {"refs/heads/main": expected[item]} for item in some}
