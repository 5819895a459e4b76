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
from git_sit.record import compute_id, split_path
from git_sit.reduce import NativeReducers, State
from git_sit.refstore import RefReader, ref_states, store_changes
from git_sit.storage import GitRepo, RefKind
from tests.helpers import commit_files, git, record_files, sit, sit_tree_files
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
    repo.set_head(repo.revparse_single("main").id)  # detached where main and v1.1 are: neither
    refs = _json(sit(history, "status", "--json"))["refs"]
    assert not any(ref["current"] for ref in refs.values())


def _current(workdir: Path) -> list[str]:
    refs = _json(sit(workdir, "status", "--json"))["refs"]
    marked = [line.split()[1] for line in sit(workdir, "status").out.splitlines() if line.startswith("*")]
    return [name for name, ref in refs.items() if ref["current"]] + marked


@pytest.mark.parametrize(("checkout", "current"), [
    # release-1.0 is at v1.0's commit too, but HEAD is detached at the tag (as git says).
    ("v1.0", ["refs/tags/v1.0", "v1.0"]),
    ("refs/tags/v1.0", ["refs/tags/v1.0", "v1.0"]),
    ("release-1.0", ["refs/heads/release-1.0", "release-1.0"]),
    ("hotfix~0", ["refs/heads/hotfix", "hotfix"]),  # no ref named: the only ref at that commit
    ("v1.0^{commit}", []),  # no ref named, and two at that commit: neither
])
def test_status_marks_the_ref_a_detached_head_was_checked_out_at(history, checkout, current):
    git(history, "checkout", "-q", "-f", "--detach", checkout)
    assert "HEAD detached at" in git(history, "status")
    assert _current(history) == current
    git(history, "commit", "-q", "--allow-empty", "-m", "moved on")  # detached from it now
    assert _current(history) == []


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
    assert "refs/heads/broken" not in json.loads(run.out)[X]  # unreadable, not absent
    assert run.err.startswith("warning: ref refs/heads/broken skipped: refs/heads/broken:.sit/config.json")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["status", "zz"], 1, "Error: no item 'zz' on any of the 6 refs examined.\n"),
    (["status", "1a2b"], 1, f"Error: item ID prefix '1a2b' is ambiguous: {X}, {B}.\n"),
    (["status", X, "nope"], 1, "Error: no item 'nope' on any of the 6 refs examined.\n"),
    # X exists, but not on the only ref examined.
    (["status", "1a2b3", "--refs", "v0.9"], 1,
     "Error: no item '1a2b3' on the one ref examined.\n"),
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


def _reader(history: Path, calls: list[str], cache: bool = True) -> RefReader:
    return RefReader(GitRepo.discover(str(history)), str(history), Options(cache=cache),
                     CountingReducers(calls))


def _all_states(reader: RefReader, only=None) -> dict[str, dict[str, State | None]]:
    stores = reader.ref_stores(reader.refs([RefKind.BRANCH, RefKind.TAG]))
    return dict(ref_states(stores, lambda state: state, reader.options.warn, only))


# Distinct item contents (exact state keys) in the history: B as {B0} and {B0,B1};
# X as {X0}, {X0,X1} and {X0,X1,X2}; Z as {Z0}.
DISTINCT = [B, B, X, X, X, Z]


@pytest.mark.parametrize("cache", [True, False])
def test_each_distinct_item_content_is_reduced_once(history, cache):
    calls: list[str] = []
    states = _all_states(_reader(history, calls, cache))
    present = sum(state is not None for per_ref in states.values() for state in per_ref.values())
    assert present == 14
    assert sorted(calls) == sorted(DISTINCT)
    # One state per distinct content, shared by every ref that has it.
    assert states[X]["refs/heads/main"] is states[X]["refs/tags/v1.1"]
    assert states[X]["refs/heads/release-1.0"] is states[X]["refs/tags/v1.0"]
    assert states[X]["refs/heads/main"]["state"] == "closed"
    assert states[X]["refs/heads/hotfix"]["state"] == "open"
    calls.clear()
    again = _all_states(_reader(history, calls, cache))
    assert again == states
    # The cache (and the refs' snapshots in it) serve a second run; --no-cache reads again.
    assert sorted(calls) == ([] if cache else sorted(DISTINCT))


def test_no_cache_leaves_the_repository_cache_alone(history, repo):
    _all_states(_reader(history, [], cache=False))
    assert not (Path(repo.path) / "sit-cache").exists()


@pytest.mark.parametrize("cache", [True, False])
def test_status_of_named_items_reduces_only_them(history, cache):
    calls: list[str] = []
    states = _all_states(_reader(history, calls, cache), only={Z})
    assert list(states) == [Z]
    assert calls == [Z]


@pytest.mark.parametrize(("rev1", "rev2", "reduced"), [
    ("main", "v1.1", []),                    # same tree: nothing is read
    ("main", "hotfix", [B, X, Z, X]),        # main's items, and X's other content on hotfix
    ("v1.0", "main", [B, X, B, X, Z]),
])
@pytest.mark.parametrize("cache", [True, False])
def test_diff_reduces_each_distinct_content_once(history, rev1, rev2, reduced, cache):
    calls: list[str] = []
    reader = _reader(history, calls, cache)
    changes = store_changes(reader.rev_store(rev1), reader.rev_store(rev2), reader.options.warn)
    assert sorted(calls) == sorted(reduced)
    calls.clear()
    again = store_changes(reader.rev_store(rev1), reader.rev_store(rev2), reader.options.warn)
    assert again == changes
    assert sorted(calls) == ([] if cache else sorted(reduced))


# --- a link whose record directory exists on one ref only ---

Q = "5e000000-0000-4000-8000-000000000005"
Q0 = record_files(["SummaryChanged"], "Flaky test", authors="Ann <ann@example.com>",
                  timestamp="2026-01-01T00:00:00Z")
Q1 = record_files(["Closed"], authors="Ann <ann@example.com>", timestamp="2026-01-02T00:00:00Z",
                  prev=[compute_id(Q0.items())])


@pytest.fixture
def dangling(repo: pygit2.Repository) -> Path:
    """``full`` has Q's two records; ``dangling`` the same item directory, without Q1's record."""
    files, ids = sit_tree_files({Q: [Q0, Q1]})
    commit_files(repo, files, ref="refs/heads/full")
    missing = f".sit/records/{split_path(ids[Q][1])}/"
    commit_files(repo, {path: data for path, data in files.items() if not path.startswith(missing)},
                 ref="refs/heads/dangling", parents=[])
    repo.set_head("refs/heads/full")
    assert repo.workdir is not None
    return Path(repo.workdir)


@pytest.mark.parametrize("options", [[], ["--no-cache"]])
def test_a_link_whose_record_is_missing_on_one_ref(dangling, repo, options):
    full, gone = repo.revparse_single("full").tree, repo.revparse_single("dangling").tree
    assert full[f".sit/items/{Q}"].id == gone[f".sit/items/{Q}"].id  # the same item directory
    expected = {"refs/heads/dangling": "open", "refs/heads/full": "closed"}
    for _ in range(2):  # cold, then from the cache
        assert _json(sit(dangling, *options, "status", Q, "--json")) == {Q: expected}
        assert _json(sit(dangling, *options, "status", "--json"))["differing"] == {Q: expected}
        changes = _json(sit(dangling, *options, "diff", "dangling", "full", "--json"))["changes"]
        assert [(c["id"], c["change"]) for c in changes] == [(Q, "closed")]


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
