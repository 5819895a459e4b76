"""What the issue commands write: editor messages, text payloads, drafts, value checks."""

from __future__ import annotations

import json

import pytest

from git_sit import issue as core
from git_sit.errors import SitError
from git_sit.extensions import LABELS
from git_sit.record import Record


@pytest.mark.parametrize(("message", "expected"), [
    ("Title\n\nBody\n", "Title\n\nBody"),
    ("# comment\nTitle  \n\n\n\nBody\t\n# more\n\n", "Title\n\nBody"),
    ("\n\nTitle\n", "Title"),
    ("# only comments\n#\n", ""),
    ("  indented\n", "  indented"),
])
def test_without_the_scissors_line_cleanup_is_git_commit_strip(message, expected):
    assert core.cleanup(message) == expected == core.strip_comments(message)


@pytest.mark.parametrize(("above", "expected"), [
    ("Title\n\nBody\n", "Title\n\nBody"),
    ("\n\n# Heading\n\n\n  text  \n#42 too\n\n", "# Heading\n\n\n  text  \n#42 too"),  # kept as written
    ("\n\n", ""),
])
def test_above_the_scissors_line_the_text_is_kept(above, expected):
    assert core.cleanup(f"{above}{core.SCISSORS}\n# help\nignored\n") == expected


@pytest.mark.parametrize(("summary", "details"), [
    ("Crash", "Line 1\n\nLine 3"),
    ("#1 crash", "more info"),  # a summary that starts with '#'
    ("md", "# Steps\n1. run it\n\n#42 is related"),  # markdown headings and issue numbers
    ("b", "a\n\n\nb  \nc"),  # blank lines and trailing spaces inside
    ("Only a summary", ""),
])
def test_split_message_and_template_round_trip(summary, details):
    assert core.split_message(core.issue_template(summary, details)) == (summary, details)


def test_an_empty_message_aborts():
    assert core.split_message("Only a summary\n") == ("Only a summary", "")
    with pytest.raises(core.EmptyMessage, match="empty"):
        core.split_message(core.issue_template())


def test_comment_message():
    template = core.comment_template("ID", "S")
    assert core.comment_message(template.replace("\n#", "Looks bad\n#", 1)) == "Looks bad"
    assert core.comment_message("# Heading\n\nbody\n" + template) == "# Heading\n\nbody"
    with pytest.raises(core.EmptyMessage):
        core.comment_message(core.comment_template("ID", "S"))


@pytest.mark.parametrize(("text", "expected"), [
    ("hello", b"hello\n"),
    ("hello\n", b"hello\n"),
    ("\n\nhello  \n\n", b"hello\n"),
    ("  code\nmore", b"  code\nmore\n"),
    ("", b"\n"),
])
def test_text_file_ends_with_one_newline(text, expected):
    assert core.text_file(text) == expected


def test_new_issue_drafts():
    summary, details = core.new_issue(" Crash ", "Steps")
    assert summary == core.Draft(("SummaryChanged",), {"text": b"Crash\n"})
    assert details == core.Draft(("DetailsChanged",), {"text": b"Steps\n"})
    for bad in ("", "  ", "two\nlines"):
        with pytest.raises(SitError):
            core.new_issue(bad, "")


def test_change_state():
    open_state = {"id": "I", "state": "open"}
    assert core.change_state(open_state, "closed", None) == core.Draft(("Closed",))
    with_comment = core.Draft(("Commented", "Closed"), {"text": b"done\n"})
    assert core.change_state(open_state, "closed", "done") == with_comment
    assert core.change_state({"id": "I", "state": "closed"}, "open", None) == core.Draft(("Reopened",))
    with pytest.raises(core.NothingToChange):
        core.change_state(open_state, "open", None)
    # A state-less item (no records yet) is open, as State.js starts.
    with pytest.raises(core.NothingToChange):
        core.change_state({"id": "I"}, "open", None)


def test_edit_writes_only_what_changes():
    state = {"id": "I", "summary": "Old", "details": "Same"}
    assert core.edit(state, "New", "Same") == [core.Draft(("SummaryChanged",), {"text": b"New\n"})]
    assert core.edit(state, None, "More") == [core.Draft(("DetailsChanged",), {"text": b"More\n"})]
    with pytest.raises(core.NothingToChange):
        core.edit(state, "Old", "Same\n")


@pytest.mark.parametrize(("args", "expected"), [
    (["+bug", "-wontfix", "ui"], (["bug", "ui"], ["wontfix"])),
    (["+needs review"], (["needs review"], [])),
])
def test_parse_ops(args, expected):
    assert core.parse_ops(args, "label") == expected


@pytest.mark.parametrize("args", [[], ["+"], ["-"], ["+a", "-a"], ["+a\nb"], ["--on"]])
def test_parse_ops_rejects(args):
    with pytest.raises(SitError):
        core.parse_ops(args, "label")


def test_change_set_and_milestone_drafts():
    current = [Record("R1", {".type/LabelsChanged": b"", "labels.json": b'{"add": ["bug"]}'})]
    draft = core.change_set(current, LABELS, ["ui"], ["bug"])
    assert draft.types == ("LabelsChanged",)
    assert json.loads(draft.payload["labels.json"]) == {"add": ["ui"], "remove": {"bug": ["R1"]}}
    with pytest.raises(core.NothingToChange):
        core.change_set(current, LABELS, ["bug"], [])
    milestone = core.change_milestone([], "v1")
    assert milestone.types == ("MilestoneChanged",)
    with pytest.raises(core.NothingToChange):
        core.change_milestone([], None)


def test_set_notes_name_what_does_nothing():
    current = [Record("R1", {".type/LabelsChanged": b"", "labels.json": b'{"add": ["bug"]}'})]
    assert core.set_notes(current, LABELS, ["bug", "ui"], ["gone", "bug"]) == [
        "label 'bug' is already set.", "label 'gone' is not set.",
    ]


@pytest.mark.parametrize(("live", "add", "remove", "expected"), [
    (set(), ["Bug"], [], (["Bug"], [])),
    ({"bug"}, ["Bug"], [], (["bug"], [])),
    ({"bug"}, [], ["BUG"], ([], ["bug"])),
    ({"bug", "Bug"}, [], ["BUG"], ([], ["Bug", "bug"])),  # every spelling goes
    ({"bug", "Bug"}, ["Bug"], [], (["Bug"], [])),  # a spelling that is set stays itself
    ({"bug"}, ["UI"], ["ui"], (["UI"], ["ui"])),
    ({"Straße"}, ["STRASSE"], [], (["Straße"], [])),  # casefold, not lower
    (set(), ["x", "X"], [], (["x", "X"], [])),
    ({"x"}, ["X", "x"], [], (["x"], [])),
])
def test_spelled_as_set(live, add, remove, expected):
    assert core.spelled_as_set(live, add, remove) == expected
