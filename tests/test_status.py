"""Pure status and diff logic: statuses, ref selection and labels, prefixes, counts, changes."""

from __future__ import annotations

import pytest

from git_sit.errors import UnknownItem
from git_sit.status import (
    Overview,
    RefCount,
    brief,
    change_of,
    changed_fields,
    classify,
    current_ref,
    diff_json,
    differing,
    group_by_status,
    labels,
    overview_json,
    pick_summary,
    resolve_prefix,
    select_refs,
    short_name,
    sort_changes,
    status_of,
    status_table,
    summary_of,
)
from git_sit.tables import align, diff_lines, item_lines, overview_lines

OPEN = {"id": "x", "state": "open", "summary": "Crash"}
CLOSED = {"id": "x", "state": "closed", "summary": "Crash"}


@pytest.mark.parametrize(("state", "expected"), [
    (None, None),
    ({"id": "x", "state": "open"}, "open"),
    ({"id": "x", "state": "closed"}, "closed"),
    ({"id": "x"}, "unknown"),              # exists, but no record set a state
    ({"id": "x", "state": 3}, "unknown"),
    ({"id": "x", "state": "wontfix"}, "wontfix"),
])
def test_status_of(state, expected):
    assert status_of(state) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("refs/heads/main", "main"),
    ("refs/heads/feature/x", "feature/x"),
    ("refs/tags/v1.0", "v1.0"),
    ("refs/remotes/origin/main", "origin/main"),
    ("refs/notes/commits", "refs/notes/commits"),
])
def test_short_name(name, expected):
    assert short_name(name) == expected


def test_labels_disambiguate_clashing_short_names():
    names = ["refs/heads/main", "refs/heads/v1.0", "refs/tags/v1.0", "refs/tags/v2.0"]
    assert labels(names) == {
        "refs/heads/main": "main",
        "refs/heads/v1.0": "heads/v1.0",
        "refs/tags/v1.0": "tags/v1.0",
        "refs/tags/v2.0": "v2.0",
    }


REFS = ["refs/heads/main", "refs/heads/release-1.0", "refs/heads/release-2.0",
        "refs/tags/v1.0", "refs/remotes/origin/main"]


@pytest.mark.parametrize(("patterns", "expected"), [
    ((), REFS),
    (("release-*",), ["refs/heads/release-1.0", "refs/heads/release-2.0"]),
    (("refs/tags/*",), ["refs/tags/v1.0"]),
    (("main",), ["refs/heads/main"]),                       # short name, exact
    (("*main",), ["refs/heads/main", "refs/remotes/origin/main"]),
    (("origin/*", "v1.?"), ["refs/tags/v1.0", "refs/remotes/origin/main"]),
    (("Main",), []),                                         # case-sensitive, as git
    (("nothing",), []),
])
def test_select_refs(patterns, expected):
    assert select_refs(REFS, patterns) == [r for r in REFS if r in expected]


IDS = ["1a2b3c4d-aaaa", "1a2bffff-bbbb", "9f00-cccc"]


@pytest.mark.parametrize(("text", "expected"), [
    ("1a2b3c4d-aaaa", "1a2b3c4d-aaaa"),
    ("1a2b3", "1a2b3c4d-aaaa"),
    ("9", "9f00-cccc"),
    ("1a2bf", "1a2bffff-bbbb"),
])
def test_resolve_prefix(text, expected):
    assert resolve_prefix(text, IDS, "any ref") == expected


def test_resolve_prefix_exact_match_wins_over_longer_ids():
    assert resolve_prefix("ab", ["ab", "abc"], "x") == "ab"


@pytest.mark.parametrize(("text", "message"), [
    ("1a2b", "item ID prefix '1a2b' is ambiguous: 1a2b3c4d-aaaa, 1a2bffff-bbbb."),
    ("zz", "no item 'zz' on any of the 3 refs."),
    ("", "no item '' on any of the 3 refs."),
])
def test_resolve_prefix_errors(text, message):
    with pytest.raises(UnknownItem) as info:
        resolve_prefix(text, IDS, "any of the 3 refs")
    assert str(info.value) == message


def test_resolve_prefix_lists_at_most_ten_candidates():
    ids = [f"ab{i:02}" for i in range(12)]
    with pytest.raises(UnknownItem, match=r"ab09, \.\.\.\.$"):
        resolve_prefix("ab", ids, "x")


MAIN, REL, TAG, OLD = "refs/heads/main", "refs/heads/release", "refs/tags/v1", "refs/tags/v0"
STATES = {
    "x": {MAIN: CLOSED, REL: OPEN, TAG: OPEN, OLD: None},
    "y": {MAIN: {"id": "y", "state": "open"}, REL: {"id": "y", "state": "open"}, TAG: None, OLD: None},
    "z": {MAIN: {"id": "z"}, REL: None, TAG: None, OLD: None},
}


def _overview(refs: list[str]) -> Overview:
    overview = Overview(refs)
    for item, per_ref in STATES.items():
        overview.add(item, {ref: per_ref[ref] for ref in refs})
    return overview


def test_status_table_counts_and_differing():
    table = status_table(STATES)
    assert table["x"] == {MAIN: "closed", REL: "open", TAG: "open", OLD: None}
    overview = _overview([MAIN, REL, TAG, OLD])
    assert overview.counts() == [
        RefCount(MAIN, 1, 1, 3), RefCount(REL, 2, 0, 2), RefCount(TAG, 1, 0, 1), RefCount(OLD, 0, 0, 0),
    ]
    # y is absent on the tags but open wherever it exists: absence alone does not differ.
    assert differing(table) == {"x": table["x"]}
    assert overview.table == {"x": table["x"]}
    assert overview.states == {"x": STATES["x"]}


def test_overview_counts_only_the_refs_given():
    overview = _overview([MAIN, OLD])
    assert overview.counts() == [RefCount(MAIN, 1, 1, 3), RefCount(OLD, 0, 0, 0)]
    assert overview.table == {}  # x is closed on main and absent on v0: not differing


@pytest.mark.parametrize("state", [
    OPEN, CLOSED, {"id": "x"}, {"id": "x", "state": 3, "summary": ["odd"]}, {"id": "x", "state": "wontfix"},
])
def test_brief_keeps_what_status_shows(state):
    kept = brief(state)
    assert kept == {"state": status_of(state), "summary": summary_of(state)}
    assert (status_of(kept), summary_of(kept)) == (status_of(state), summary_of(state))


@pytest.mark.parametrize(("per_ref", "expected"), [
    ({MAIN: "closed", REL: "open", TAG: None, OLD: "open"},
     [("closed", [MAIN]), ("open", [REL, OLD]), (None, [TAG])]),
    ({MAIN: None, REL: "open"}, [("open", [REL]), (None, [MAIN])]),
    ({MAIN: "open"}, [("open", [MAIN])]),
])
def test_group_by_status(per_ref, expected):
    assert group_by_status(per_ref) == expected


_AT = {MAIN: "c2", REL: "c1", TAG: "c1"}


@pytest.mark.parametrize(("branch", "detached", "expected"), [
    (MAIN, None, MAIN),  # on a branch: that one, wherever the others are
    ("refs/heads/unborn", None, "refs/heads/unborn"),
    (None, None, None),  # no readable HEAD
    (None, ("c1", TAG), TAG),  # checked out at the tag: not the branch at the same commit
    (None, ("c1", REL), REL),
    (None, ("c2", None), MAIN),  # no ref named (a commit ID): the one ref at that commit
    (None, ("c1", None), None),  # ... or none where several are
    (None, ("c2", TAG), MAIN),  # moved away from the tag it was checked out at
    (None, ("c9", TAG), None),
])
def test_current_ref(branch, detached, expected):
    assert current_ref(branch, detached, _AT) == expected


def test_pick_summary_prefers_the_current_branch():
    per_ref = {REL: {"summary": "old"}, MAIN: {"summary": "new"}, TAG: None}
    assert pick_summary(per_ref, MAIN) == "new"
    assert pick_summary(per_ref, TAG) == "old"
    assert pick_summary(per_ref, None) == "old"
    assert pick_summary({TAG: None}, None) == ""


def test_overview_json():
    table = status_table(STATES)
    result = overview_json(_overview([MAIN, OLD]).counts(), MAIN, table)
    assert result == {
        "refs": {
            MAIN: {"current": True, "open": 1, "closed": 1, "items": 3},
            OLD: {"current": False, "open": 0, "closed": 0, "items": 0},
        },
        "differing": {"x": {MAIN: "closed", REL: "open", TAG: "open", OLD: None}},
    }


def _s(state=None, **fields):
    return {"id": "i", **({"state": state} if state else {}), **fields}


@pytest.mark.parametrize(("before", "after", "kind"), [
    (None, None, None),
    (None, _s("open"), "appeared"),
    (None, _s("closed"), "appeared"),
    (_s("open"), None, "disappeared"),
    (_s("open"), _s("closed"), "closed"),
    (_s(), _s("closed"), "closed"),
    (_s("closed"), _s("open"), "reopened"),
    (_s("open"), _s("open"), None),
    (_s("open", summary="a"), _s("open", summary="b"), "changed"),
    (_s("closed", comments=[1]), _s("closed", comments=[1, 2]), "changed"),
    (_s("open", details="d"), _s("open"), "changed"),
    (_s("open", merge_request=None), _s("open"), "changed"),  # null vs absent still differs
    (_s("open"), _s("wontfix"), "changed"),
    (_s("closed"), _s(), "changed"),
])
def test_classify(before, after, kind):
    assert classify(before, after) == kind


@pytest.mark.parametrize(("before", "after", "fields"), [
    (_s("open"), _s("closed"), ()),
    (_s("open", summary="a", details="d"), _s("closed", summary="b", details="d"), ("summary",)),
    (None, _s("open", summary="a", comments=[]), ("comments", "summary")),
    (_s("open", b=1, a=2), _s("open"), ("a", "b")),
])
def test_changed_fields(before, after, fields):
    assert changed_fields(before, after) == fields


def test_change_of_takes_the_newer_summary_and_sorts_for_release_notes():
    changes = [
        change_of("d", _s("open", summary="gone"), None),
        change_of("c", _s("open", summary="s"), _s("open", summary="t")),
        change_of("b", None, _s("open", summary="new")),
        change_of("a2", _s("open", summary="fixed"), _s("closed", summary="fixed")),
        change_of("a1", _s("closed", summary="bad fix"), _s("open", summary="bad fix")),
        change_of("a0", _s("open", summary="also fixed"), _s("closed", summary="also fixed")),
    ]
    assert change_of("e", _s("open"), _s("open")) is None
    ordered = sort_changes(c for c in changes if c is not None)
    assert [(c.item, c.kind) for c in ordered] == [
        ("a0", "closed"), ("a2", "closed"), ("a1", "reopened"), ("b", "appeared"),
        ("c", "changed"), ("d", "disappeared"),
    ]
    assert [c.summary for c in ordered][-3:] == ["new", "t", "gone"]
    assert diff_json("v1", "v2", ordered[-1:]) == {"from": "v1", "to": "v2", "changes": [{
        "id": "d", "change": "disappeared", "from": "open", "to": None,
        "fields": ["summary"], "summary": "gone",
    }]}


def test_align():
    assert align([["a", "bbb", "1"], ["cc", "d", "22"]], right=frozenset({2})) == [
        "a   bbb   1",
        "cc  d    22",
    ]
    assert align([["a", ""], ["bb", ""]]) == ["a", "bb"]
    assert align([]) == []


def test_item_lines_mark_the_current_branch_and_absent_refs():
    names = {MAIN: "main", REL: "release", OLD: "v0"}
    lines = item_lines("x", {MAIN: CLOSED, REL: OPEN, OLD: None}, names, MAIN)
    assert lines == [
        "x",
        "* main     closed  Crash",
        "  release  open    Crash",
        "  v0       absent",
    ]


def test_overview_lines():
    table = status_table(STATES)
    names = {MAIN: "main", REL: "release", TAG: "v1", OLD: "v0"}
    lines = overview_lines(_overview([MAIN, REL]).counts(), names, REL, differing(table), STATES)
    assert lines == [
        "  REF      OPEN  CLOSED  ITEMS",
        "  main        1       1      3",
        "* release     2       0      2",
        "",
        "Items whose state differs between refs:",
        "  x  Crash",
        "    closed  main",
        "    open    release, v1",
        "    absent  v0",
    ]


def test_diff_lines():
    changes = [
        change_of("aa", _s("open", summary="Fixed"), _s("closed", summary="Fixed")),
        change_of("b", None, _s("open", summary="New")),
        change_of("c", _s("open", summary="T"), _s("wontfix", summary="T", details="d")),
    ]
    assert diff_lines([c for c in changes if c is not None]) == [
        "closed    aa  Fixed",
        "appeared  b   New (open)",
        "changed   c   T [details] (open -> wontfix)",
    ]
