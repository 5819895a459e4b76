"""Reduction: the issue-tracking port against SIT-FORMAT §5.6 and the §5.7 vectors."""

from __future__ import annotations

import json

import pytest

from git_sit.record import Record
from git_sit.reduce import (
    NativeReducers,
    Reducer,
    issue_tracking_reducers,
    js_trim,
    reduce_item,
    reduce_native,
    reduce_records,
    text_decode,
)
from tests.helpers import counting_reducer, failing_on_x, record_files

YURII = "Yurii Rashkovskii <me@yrashk.com>"


def rec(record_id: str, *types: str, **kw) -> Record:
    return Record(record_id, record_files(types, **kw))


_LOOP = {"loop": "exact"}


@pytest.fixture(autouse=True, params=["exact", "native"])
def loop(request):
    """Every vector and rule through both loops: the exact one and the one the default set runs."""
    _LOOP["loop"] = request.param
    yield
    _LOOP["loop"] = "exact"


def reduce(item_id: str, *records: Record) -> dict:
    if _LOOP["loop"] == "native":
        return reduce_native(list(records), issue_tracking_reducers(), {"id": item_id})
    return reduce_item(item_id, records, issue_tracking_reducers())


def test_vector_4b16df8e_merged_mr():
    """§5.7: SummaryChanged → DetailsChanged+MergeRequested → Merged+Closed with a record file."""
    state = reduce(
        "4b16df8e-06a5-4556-a68a-c62905bd0035",
        rec("LGIJ2E5DUFXRIMBRKUIZ6BY37LQ5IIIT", "SummaryChanged", text="Problem: Rust 1.29 is outdated\n",
            authors=YURII, timestamp="2018-11-01T21:52:38.531142524Z", prev=["ZJE423ET4YP6VYSK4GOFF66T24ONNRRH"]),
        rec("2MEYJGRUROE5HH4QM3M42TCN4MEHFJA6", "DetailsChanged", "MergeRequested",
            text="Solution: use 1.30 for builds\n", authors=YURII, timestamp="2018-11-01T21:53:00.1Z",
            extra={"git/0001-Problem-Rust-1.29-is-outdated.patch": b"From ..."}),
        rec("NBO7MT7K7DPAZCCJZJBVQQOYDRJERI4K", "Merged", "Closed", authors=YURII,
            timestamp="2018-11-01T21:54:42.276178068Z",
            extra={"record": b"2MEYJGRUROE5HH4QM3M42TCN4MEHFJA6\n"}),
    )
    assert state == {
        "authors": YURII,
        "comments": [{"authors": YURII, "text": "Merged 2MEYJGRUROE5HH4QM3M42TCN4MEHFJA6",
                      "timestamp": "2018-11-01T21:54:42.276178068Z"}],
        "details": "Solution: use 1.30 for builds",
        "id": "4b16df8e-06a5-4556-a68a-c62905bd0035",
        "last_updated_timestamp": "2018-11-01T21:54:42.276178068Z",
        "merge_request": "2MEYJGRUROE5HH4QM3M42TCN4MEHFJA6",
        "merge_requests": ["2MEYJGRUROE5HH4QM3M42TCN4MEHFJA6"],
        "merges": [{"hash": "NBO7MT7K7DPAZCCJZJBVQQOYDRJERI4K", "record": "2MEYJGRUROE5HH4QM3M42TCN4MEHFJA6\n"}],
        "state": "closed",
        "summary": "Problem: Rust 1.29 is outdated",
        "timestamp": "2018-11-01T21:52:38.531142524Z",
    }


def test_vector_a59dfc1e_against_sit_data(fixture_dir):
    """§5.7: no .authors on the first records → authors ''; untrimmed comment text; no merge_request."""
    from tests.helpers import expected_states
    expected = {s["id"]: s for s in expected_states()}["a59dfc1e-cf88-4c18-a728-23baab41f7d2"]
    assert expected["authors"] == ""
    assert expected["comments"][0]["text"] == "I've implemented it\n"
    assert "merge_request" not in expected
    assert expected["state"] == "closed"


def test_vector_0a5c8b68_tie_break_by_ascending_id():
    """§5.7: same-generation records are reduced in ascending ID order."""
    mr = "V7XCMMB6L3DQW73AA5P4BWI4FP3SW6HS"
    records = [
        rec("46ZIJE74AAAAAAAAAAAAAAAAAAAAAAAA", "SummaryChanged", text="S", timestamp="2018-05-04T08:00:00Z"),
        rec(mr, "DetailsChanged", "MergeRequested", text="D", timestamp="2018-05-04T08:10:00Z"),
        rec("IS6JQTVIA5UIOK7HRKQF55WYMFXTYOA6", "Merged", "Closed", timestamp="2018-05-04T08:24:42.227077926Z",
            extra={"record": (mr + "\n").encode()}),
        rec("JRJKCZICCFCUEM6FDJI5O6TG4OTQTUKJ", "Commented", "MergeRequestVerificationSucceeded",
            text="CI ok\n", authors="SIT Merge Request CI", timestamp="2018-05-04T08:28:06.814257911Z",
            extra={"record": (mr + "\n").encode()}),
    ]
    state = reduce("0a5c8b68-994b-4156-967d-4a88807545c4", *records)
    assert state["comments"][0]["text"] == f"Merged {mr}"
    assert state["comments"][1]["merge_request_report"] == "success"
    assert state["last_updated_timestamp"] == "2018-05-04T08:28:06.814257911Z"
    reverse = reduce("0a5c8b68-994b-4156-967d-4a88807545c4", *records[:2], records[3], records[2])
    assert reverse["last_updated_timestamp"] == "2018-05-04T08:24:42.227077926Z"


# (records as (types, kwargs)) → expected subset of keys; each row is one §5.6 rule.
TABLE = [
    ("no records", [], {"id": "I"}),
    ("state appears with any record", [(("Whatever",), {})], {"id": "I", "state": "open"}),
    ("summary trimmed with JS trim", [(("SummaryChanged",), {"text": "\u00a0 Title\u2028\n"})],
     {"summary": "Title", "authors": "", "timestamp": ""}),
    ("python-only whitespace kept", [(("SummaryChanged",), {"text": "\x1cTitle\x1c"})],
     {"summary": "\x1cTitle\x1c"}),
    ("first truthy authors wins", [(("SummaryChanged",), {"text": "a", "authors": "A"}),
                                   (("DetailsChanged",), {"text": "b", "authors": "B"})],
     {"authors": "A", "summary": "a", "details": "b"}),
    ("empty authors is overwritten later", [(("SummaryChanged",), {"text": "a"}),
                                            (("SummaryChanged",), {"text": "b", "authors": "B"})],
     {"authors": "B", "summary": "b"}),
    ("closed then reopened", [(("Closed",), {}), (("Reopened",), {})], {"state": "open"}),
    ("closed and reopened in one record: closed wins", [(("Closed", "Reopened"), {})], {"state": "closed"}),
    ("comment text untrimmed, 5 keys", [(("Commented",), {"text": " hi \n", "authors": "A", "timestamp": "T"})],
     {"comments": [{"text": " hi \n", "authors": "A", "timestamp": "T", "merge_request": None,
                    "merge_request_report": None}], "last_updated_timestamp": "T"}),
    ("CI failure report", [(("Commented", "MergeRequestVerificationFailed"), {"text": "x"})],
     {"comments": [{"text": "x", "authors": "", "timestamp": "", "merge_request": None,
                    "merge_request_report": "failure"}]}),
    ("merged without record or merge_request", [(("Merged",), {})],
     {"comments": [{"text": "Merged", "authors": "", "timestamp": ""}], "merges": [{"hash": "R0", "record": ""}]}),
    ("no timestamp: last_updated untouched", [(("Closed",), {"timestamp": "T1"}), (("Commented",), {"text": ""})],
     {"last_updated_timestamp": "T1"}),
    ("merge_requests keeps only the latest (SIT bug)",
     [(("MergeRequested",), {}), (("MergeRequested",), {})], {"merge_requests": ["R1"]}),
]


@pytest.mark.parametrize(("records", "expected"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_issue_tracking_rules(records, expected):
    state = reduce("I", *[rec(f"R{i}", *types, **kw) for i, (types, kw) in enumerate(records)])
    assert {k: state.get(k) for k in expected} == expected


def test_merge_request_absent_unless_details_had_one():
    state = reduce("I", rec("R0", "Commented", "MergeRequested", text="mr"))
    assert "merge_request" not in state
    assert state["comments"][0]["merge_request"] == "R0"
    state = reduce("I", rec("R0", "DetailsChanged", "MergeRequested", text="d"), rec("R1", "Merged"))
    assert state["merges"] == [{"hash": "R1", "record": "R0"}]
    assert state["comments"][0]["text"] == "Merged R0"


def test_merged_and_commented_in_one_record_give_two_comments_merged_first():
    state = reduce("I", rec("R0", "Commented", "Merged", "Closed", text="thanks\n", extra={"record": b"X\n"}))
    assert [c["text"] for c in state["comments"]] == ["Merged X", "thanks\n"]
    assert state["merges"] == [{"hash": "R0", "record": "X\n"}]


def test_type_names_match_exactly():
    assert reduce("I", rec("R0", "closed"))["state"] == "open"


@pytest.mark.parametrize(("data", "text"), [
    (None, ""), (b"", ""), (b"\xef\xbb\xbfabc", "abc"), (b"a\xffb", "a\ufffdb"), ("é".encode(), "é"),
])
def test_text_decode(data, text):
    assert text_decode(data) == text


def test_js_trim_set():
    assert js_trim("\ufeff\u3000 x \u205f\u2029") == "x"
    assert js_trim("\x85x\u200b") == "\x85x\u200b"  # NEL and ZWSP are not JS whitespace


def test_failing_reducer_reverts_record_and_keeps_this():
    reducers = [Reducer("reducers/counter.js", counting_reducer), Reducer("reducers/fail.js", failing_on_x)]
    state = reduce_records([Record("A", {}), Record("B", {"x": b""}), Record("C", {})], reducers, {"id": "I"})
    assert state == {"id": "I", "n": 3, "errors": [{"file": "reducers/fail.js", "error": "Error: boom"}]}


def test_bad_return_value_is_an_error_entry():
    reducers = [Reducer("reducers/bad.js", lambda this, state, record: 42)]
    state = reduce_records([Record("A", {})], reducers, {})
    assert state["errors"][0]["error"].startswith("TypeError: invalid return value")


def test_this_is_reset_per_reduction_and_state_round_trips():
    native = NativeReducers()
    one = native.reduce([rec("A", "Commented", text="1")], {"id": "I"})
    two = native.reduce([rec("B", "Commented", text="2")], {"id": "J"})
    assert [c["text"] for c in one["comments"]] == ["1"]
    assert [c["text"] for c in two["comments"]] == ["2"]
    assert json.loads(json.dumps(two)) == two
