"""Issues for reading: criteria, order by instant, short IDs, the table and the show page."""

from __future__ import annotations

import pytest

from git_sit.issueview import Criteria, matches, short_length, show, sort_states, table

ISSUE = {
    "id": "0a5c8b68-994b-4156-967d-4a88807545c4", "state": "open", "summary": "Crash on empty input",
    "details": "Steps to reproduce", "authors": "Ann Example <ann@example.com>",
    "labels": ["bug", "UI"], "assignees": ["alice"],
    "comments": [{"text": "Seen on ARM too\n", "authors": "Bob", "timestamp": "2026-01-03T00:00:00Z"}],
    "timestamp": "2026-01-02T03:04:05.123456789Z", "last_updated_timestamp": "2026-01-03T00:00:00Z",
}


@pytest.mark.parametrize(("criteria", "expected"), [
    (Criteria(), True),
    (Criteria(state="closed"), False),
    (Criteria(state="all"), True),
    (Criteria(labels=("bug",)), True),
    (Criteria(labels=("bug", "ui")), True),
    (Criteria(labels=("bug", "p1")), False),
    (Criteria(assignee="Alice"), True),
    (Criteria(assignee="bob"), False),
    (Criteria(author="ann@EXAMPLE"), True),
    (Criteria(author="bob"), False),
    (Criteria(search="empty INPUT"), True),
    (Criteria(search="reproduce"), True),
    (Criteria(search="arm too"), True),
    (Criteria(search="nowhere"), False),
])
def test_matches(criteria, expected):
    assert matches(ISSUE, criteria) is expected


@pytest.mark.parametrize(("state", "shown_by"), [
    ({"state": "open"}, {"open", "all"}),
    ({"state": "closed"}, {"closed", "all"}),
    ({}, {"unknown", "all"}),  # no record set a state: every record failed integrity or trust
    ({"state": None}, {"unknown", "all"}),
    ({"state": "wontfix"}, {"all"}),  # a repository reducer's own word
])
def test_the_state_criterion(state, shown_by):
    item = {"id": "x", **state}
    assert {s for s in ("open", "closed", "unknown", "all") if matches(item, Criteria(state=s))} == shown_by


def test_a_state_no_record_set_is_shown_as_unknown():
    assert table([{"id": "abcdefgh-1"}], 8) == ["abcdefgh  unknown"]
    assert show({"id": "x"}).splitlines()[1] == "unknown · x"


def test_items_without_the_new_keys_match_label_free_criteria():
    sit_item = {"id": "x", "state": "closed", "summary": "Old SIT issue", "authors": ""}
    assert matches(sit_item, Criteria(state="closed"))
    assert not matches(sit_item, Criteria(state="closed", labels=("bug",)))


def test_sort_by_instant_newest_first():
    states = [
        {"id": "a", "timestamp": "2018-05-04T08:28:36Z", "last_updated_timestamp": "2018-05-04T08:28:36Z"},
        {"id": "b", "timestamp": "2018-05-04T08:28:36.5Z", "last_updated_timestamp": "2018-05-04T08:28:30Z"},
        {"id": "c"},
        {"id": "d", "timestamp": "2018-05-04T08:28:36.000Z"},
    ]
    assert [s["id"] for s in sort_states(states, "updated")] == ["a", "d", "b", "c"]
    assert [s["id"] for s in sort_states(states, "created")] == ["b", "a", "d", "c"]


def test_short_length_keeps_prefixes_unique():
    ids = ["0a5c8b68-1", "0a5c8b69-2", "0a5c8b68-3", "ffff0000-4"]
    assert short_length(ids, ["ffff0000-4"]) == 8
    assert short_length(ids, ["0a5c8b69-2"]) == 8
    assert short_length(ids, ["0a5c8b68-1"]) == 10
    assert short_length(ids, []) == 8


def test_table_is_aligned_plain_text():
    other = {"id": "ffff0000-aaaa", "state": "closed", "summary": "Short", "last_updated_timestamp": "bad"}
    lines = table([ISSUE, other], 8)
    assert lines == [
        "0a5c8b68  open    Crash on empty input  bug, UI  2026-01-03 00:00",
        "ffff0000  closed  Short                          bad",
    ]
    header = table([ISSUE], 8, header=True)
    assert header[0].split() == ["ID", "STATE", "SUMMARY", "LABELS", "UPDATED"]


def test_table_cuts_the_summary_to_the_width():
    wide = dict(ISSUE, summary="x" * 200)
    line = table([wide], 8, width=80)[0]
    assert len(line) <= 80 and "…" in line


def test_table_styles_cells():
    lines = table([ISSUE], 8, style=lambda text, role: f"<{role}>{text}</{role}>")
    assert lines[0].startswith("<id>0a5c8b68</id>  <open>open</open>")


def test_show_page():
    page = show(ISSUE).splitlines()
    assert page[0] == "Crash on empty input"
    assert page[1] == "open · 0a5c8b68-994b-4156-967d-4a88807545c4"
    assert "labels:    bug, UI" in page
    assert "assignees: alice" in page
    assert "milestone: none" in page
    assert "created:   2026-01-02 03:04:05 UTC" in page
    assert "    Steps to reproduce" in page
    assert "Comments (1)" in page
    assert "Bob · 2026-01-03 00:00:00 UTC" in page
    assert page[-1] == "    Seen on ARM too"


def test_show_page_of_a_bare_sit_item():
    page = show({"id": "x"})
    assert "(no summary)" in page and "(no details)" in page and "Comments" not in page
