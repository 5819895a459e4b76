"""git-sit's record types (labels, assignees, milestone): payloads, merge semantics, reducers."""

from __future__ import annotations

import itertools
import json

import pytest

from git_sit import extensions
from git_sit.extensions import (
    ASSIGNEES,
    LABELS,
    RegisterOp,
    SetOps,
    milestone_change,
    parse_register_op,
    parse_set_ops,
    set_change,
)
from git_sit.record import Record
from git_sit.reduce import NativeReducers, issue_tracking_reducers, reduce_records


def labels(rid: str, add=(), remove=None, prev=(), kind=LABELS) -> Record:
    payload: dict = {}
    if add:
        payload["add"] = list(add)
    if remove:
        payload["remove"] = remove
    files = {f".type/{kind.type}": b"", kind.file: json.dumps(payload).encode()}
    files.update({f".prev/{p}": b"" for p in prev})
    return Record(rid, files)


def milestone(rid: str, value, replaces=(), timestamp: str | None = None) -> Record:
    payload = json.dumps({"set": value, "replaces": list(replaces)}).encode()
    files = {".type/MilestoneChanged": b"", "milestone.json": payload}
    if timestamp is not None:
        files[".timestamp"] = timestamp.encode()
    return Record(rid, files)


def reduce(records) -> dict:
    return NativeReducers().reduce(records, {"id": "I"})


@pytest.mark.parametrize(("data", "expected"), [
    (b'{"add": ["bug", "ui"]}', SetOps(("bug", "ui"))),
    (b'{"remove": {"bug": ["R1", "R2"]}}', SetOps((), {"bug": ("R1", "R2")})),
    (b'{"add": ["a"], "remove": {"b": []}, "future": 1}', SetOps(("a",), {"b": ()})),
    (b"{}", SetOps()),
    (b'{"add": "bug"}', None),
    (b'{"add": [""]}', None),
    (b'{"add": [1]}', None),
    (b'{"remove": ["bug"]}', None),
    (b'{"remove": {"bug": "R1"}}', None),
    (b'{"remove": {"": ["R1"]}}', None),
    (b'["bug"]', None),
    (b"not json", None),
    (b"\xff\xfe", None),
    (None, None),
])
def test_parse_set_ops(data, expected):
    assert parse_set_ops(data) == expected


@pytest.mark.parametrize(("data", "expected"), [
    (b'{"set": "v1.2", "replaces": ["R1"]}', RegisterOp("v1.2", ("R1",))),
    (b'{"set": "v1.2"}', RegisterOp("v1.2")),
    (b'{"set": null, "replaces": ["R1"]}', RegisterOp(None, ("R1",))),
    (b'{"replaces": []}', None),
    (b'{"set": ""}', None),
    (b'{"set": 3}', None),
    (b'{"set": "x", "replaces": "R1"}', None),
    (b"[]", None),
])
def test_parse_register_op(data, expected):
    assert parse_register_op(data) == expected


def test_labels_add_and_remove_sequentially():
    r1 = labels("R1", add=["bug", "ui"])
    r2 = labels("R2", add=["p1"], remove={"bug": ["R1"]}, prev=["R1"])
    assert reduce([r1])["labels"] == ["bug", "ui"]
    assert reduce([r1, r2])["labels"] == ["p1", "ui"]


def test_remove_only_removes_the_adds_it_names():
    # Two branches both added "bug"; a remove that saw only one add leaves the other.
    a = labels("RA", add=["bug"])
    b = labels("RB", add=["bug"])
    remove_a = labels("RC", remove={"bug": ["RA"]}, prev=["RA"])
    assert reduce([a, b, remove_a])["labels"] == ["bug"]
    assert reduce([a, b, remove_a, labels("RD", remove={"bug": ["RB"]})])["labels"] == []


def test_concurrent_remove_and_add_merge_to_the_union_of_effects():
    base = labels("R0", add=["bug", "ui", "old"])
    # branch A: -bug +p1 -ui
    a = labels("RA", add=["p1"], remove={"bug": ["R0"], "ui": ["R0"]}, prev=["R0"])
    # branch B: -ui +p2, then -old, then +old again (a new add no one has seen)
    b1 = labels("RB1", add=["p2"], remove={"ui": ["R0"]}, prev=["R0"])
    b2 = labels("RB2", remove={"old": ["R0"]}, prev=["RB1"])
    b3 = labels("RB3", add=["old"], prev=["RB2"])
    records = [base, a, b1, b2, b3]
    expected = ["old", "p1", "p2"]
    # The result does not depend on the order the records are processed in.
    for order in itertools.permutations(records):
        assert reduce(list(order))["labels"] == expected


def test_assignees_use_their_own_type_and_key():
    state = reduce([labels("R1", add=["alice"], kind=ASSIGNEES), labels("R2", add=["bug"])])
    assert state["assignees"] == ["alice"]
    assert state["labels"] == ["bug"]


def test_milestone_register():
    m1 = milestone("M1", "v1.0", timestamp="2026-01-01T00:00:00Z")
    m2 = milestone("M2", "v1.1", ["M1"], timestamp="2026-01-02T00:00:00Z")
    clear = milestone("M3", None, ["M2"], timestamp="2026-01-03T00:00:00Z")
    assert reduce([m1])["milestone"] == "v1.0"
    assert reduce([m1, m2])["milestone"] == "v1.1"
    assert reduce([m1, m2, clear])["milestone"] is None


def test_concurrent_milestones_latest_instant_wins_not_latest_string():
    base = milestone("M0", "v1", timestamp="2026-01-01T00:00:00Z")
    # "...:36Z" sorts after "...:36.5Z" as a string, but is the earlier instant.
    early = milestone("MZ", "early", ["M0"], timestamp="2026-01-02T10:00:36Z")
    late = milestone("MA", "late", ["M0"], timestamp="2026-01-02T10:00:36.5Z")
    for order in itertools.permutations([base, early, late]):
        assert reduce(list(order))["milestone"] == "late"


def test_concurrent_clear_and_set_keeps_the_set():
    base = milestone("M0", "v1", timestamp="2026-01-01T00:00:00Z")
    clear = milestone("M1", None, ["M0"], timestamp="2026-01-03T00:00:00Z")
    other = milestone("M2", "v2", ["M0"], timestamp="2026-01-02T00:00:00Z")
    assert reduce([base, clear, other])["milestone"] == "v2"


def test_equal_instants_break_ties_by_record_id():
    a = milestone("MA", "a", timestamp="2026-01-02T00:00:00.000Z")
    b = milestone("MB", "b", timestamp="2026-01-02T00:00:00Z")
    assert reduce([b, a])["milestone"] == "b"


def test_keys_appear_only_with_such_records():
    plain = [
        Record("R1", {".type/SummaryChanged": b"", "text": b"Title\n", ".timestamp": b"T1"}),
        Record("R2", {".type/Commented": b"", "text": b"hi\n", ".prev/R1": b""}),
        Record("R3", {".type/Closed": b"", ".prev/R2": b""}),
    ]
    sit_only = reduce_records(plain, issue_tracking_reducers(), {"id": "I"})
    assert reduce(plain) == sit_only
    assert not {"labels", "assignees", "milestone"} & set(reduce(plain))
    with_labels = reduce([*plain, labels("R4", add=["bug"], prev=["R3"])])
    assert {k: v for k, v in with_labels.items() if k != "labels"} == sit_only
    assert with_labels["labels"] == ["bug"]


def test_malformed_payload_is_ignored_but_the_key_appears():
    bad = Record("R1", {".type/LabelsChanged": b"", "labels.json": b"{nope"})
    assert reduce([bad])["labels"] == []
    assert "milestone" in reduce([Record("M", {".type/MilestoneChanged": b""})])


def test_extension_types_combine_with_issue_tracking_types_in_one_record():
    record = Record("R1", {
        ".type/Commented": b"", ".type/LabelsChanged": b"", "text": b"see\n",
        "labels.json": b'{"add": ["bug"]}',
    })
    state = reduce([record])
    assert state["labels"] == ["bug"]
    assert state["comments"][0]["text"] == "see\n"


def test_fingerprint_names_the_extensions():
    assert NativeReducers.fingerprint == "native:issue-tracking@18c57211+git-sit-extensions@1"


def test_set_change_payload_bytes():
    records = [labels("R1", add=["bug", "ui"]), labels("R2", add=["bug"])]
    payload = set_change(records, LABELS, ["ui", "new"], ["bug", "absent"])
    assert payload == (
        b'{\n  "add": [\n    "new"\n  ],\n  "remove": {\n'
        b'    "bug": [\n      "R1",\n      "R2"\n    ]\n  }\n}\n'
    )
    assert set_change(records, LABELS, ["bug"], ["absent"]) is None


def test_milestone_change_payload():
    assert milestone_change([], None) is None
    assert json.loads(milestone_change([], "v1") or b"") == {"set": "v1", "replaces": []}
    current = [milestone("M1", "v1"), milestone("M2", "v2")]
    assert json.loads(milestone_change(current, "v2") or b"") == {"set": "v2", "replaces": ["M1", "M2"]}
    assert milestone_change([milestone("M1", "v1")], "v1") is None
    assert json.loads(milestone_change(current, None) or b"") == {"set": None, "replaces": ["M1", "M2"]}


def test_encode_is_stable_and_ends_with_a_newline():
    assert extensions.encode({"b": 1, "a": "é"}) == '{\n  "a": "é",\n  "b": 1\n}\n'.encode()
