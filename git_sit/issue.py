"""What the ``git sit issue`` commands write: record drafts, editor messages, value checks.

Each command turns into one or more *drafts* (record types plus payload files)
using the record types of SIT's issue-tracking module (``SummaryChanged``,
``DetailsChanged``, ``Commented``, ``Closed``, ``Reopened``; SIT-FORMAT §4, §5.6)
and git-sit's extensions (``extensions``). Text payloads end with one newline, as
SIT's CLI writes them. Editor templates end with git's scissors line and the help
below it: what is above the line is kept as written (a ``#`` heading, blank lines),
so an issue edited without a change round-trips exactly; without the line, the
message is cleaned up as ``git commit`` does (``#`` lines dropped, trailing spaces
and surplus blank lines removed). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from git_sit import extensions
from git_sit.errors import SitError
from git_sit.extensions import Extension
from git_sit.record import Record


@dataclass(frozen=True, slots=True)
class Draft:
    """A record to be written: its types and payload files (``.authors``... come later)."""

    types: tuple[str, ...]
    payload: dict[str, bytes] = field(default_factory=dict)


class EmptyMessage(SitError):
    """The editor returned nothing: abort, as ``git commit`` does."""


class NothingToChange(Exception):
    """The command would not change the issue; nothing is written (not an error)."""


def text_file(text: str) -> bytes:
    """A ``text`` payload: no blank lines around it, trailing spaces dropped, one final newline."""
    return (text.strip("\n").rstrip() + "\n").encode("utf-8")


SCISSORS = "# ------------------------ >8 ------------------------"


def cleanup(message: str) -> str:
    """The text above the scissors line, trimmed at both ends; without that line, ``strip_comments``."""
    lines = message.splitlines()
    cut = next((i for i, line in enumerate(lines) if line.rstrip() == SCISSORS), None)
    if cut is None:
        return strip_comments(message)
    return "\n".join(lines[:cut]).strip("\n").rstrip()


def strip_comments(message: str) -> str:
    """``git commit --cleanup=strip``: drop ``#`` lines, trailing spaces, surplus blank lines."""
    lines: list[str] = []
    for line in message.splitlines():
        if line.startswith("#"):
            continue
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def split_message(message: str) -> tuple[str, str]:
    """Summary (the first line) and details (the rest) of a cleaned-up editor message."""
    text = cleanup(message)
    if not text:
        raise EmptyMessage("Aborting: the issue message is empty; nothing was written.")
    summary, _, details = text.partition("\n")
    return summary.strip(), details.strip("\n")


def comment_message(message: str) -> str:
    """A comment from an editor message; an empty one aborts."""
    text = cleanup(message)
    if not text:
        raise EmptyMessage("Aborting: the comment is empty; nothing was written.")
    return text


TEMPLATE_HELP = (
    "# Do not change or remove the line above: everything below it is ignored.\n"
    "# An empty message aborts.\n"
)


def issue_template(summary: str = "", details: str = "", heading: str = "a new issue") -> str:
    """The editor template for a new or edited issue: summary line, blank line, details."""
    body = summary + "\n\n" + (details + "\n" if details else "")
    return (
        f"{body}{SCISSORS}\n# Write {heading}: the first line is the summary, the rest the details.\n"
        + TEMPLATE_HELP
    )


def comment_template(item_id: str, summary: str) -> str:
    """The editor template for a comment."""
    return f"\n{SCISSORS}\n# Comment on issue {item_id}: {summary}\n" + TEMPLATE_HELP


def check_summary(summary: str) -> str:
    """A summary must be one non-empty line."""
    summary = summary.strip()
    if not summary:
        raise SitError("the summary is empty; give one with -s or in the editor's first line.")
    if "\n" in summary or "\r" in summary:
        raise SitError("the summary must be a single line; put the rest in the details.")
    return summary


def check_value(value: str, what: str) -> str:
    """A label, assignee or milestone: non-empty, no control characters."""
    value = value.strip()
    if not value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise SitError(f"invalid {what} {value!r}: it must be non-empty text without control characters.")
    return value


def parse_ops(args: Sequence[str], what: str) -> tuple[list[str], list[str]]:
    """``+a -b c`` → (to add, to remove); a bare value is added."""
    add: list[str] = []
    remove: list[str] = []
    for arg in args:
        if arg.startswith(("--", "+-", "-+", "++")):
            raise SitError(f"unknown option or invalid {what} {arg!r} (use +NAME to add, -NAME to remove).")
        if arg.startswith("-"):
            remove.append(check_value(arg[1:], what))
        else:
            add.append(check_value(arg[1:] if arg.startswith("+") else arg, what))
    if not add and not remove:
        raise SitError(f"give {what}s to add (+NAME) or remove (-NAME).")
    both = sorted(set(add) & set(remove))
    if both:
        raise SitError(f"{what} {both[0]!r} is both added and removed.")
    return add, remove


def new_issue(summary: str, details: str) -> list[Draft]:
    """A ``SummaryChanged`` and a ``DetailsChanged`` record, as SIT's tools create an issue."""
    return [
        Draft(("SummaryChanged",), {"text": text_file(check_summary(summary))}),
        Draft(("DetailsChanged",), {"text": text_file(details)}),
    ]


def comment(text: str) -> Draft:
    """A ``Commented`` record."""
    if not text.strip():
        raise SitError("the comment is empty; nothing was written.")
    return Draft(("Commented",), {"text": text_file(text)})


def change_state(state: dict[str, Any], target: str, text: str | None) -> Draft:
    """``Closed``/``Reopened``, or ``Commented,Closed``/``Commented,Reopened`` with a comment."""
    kind = "Closed" if target == "closed" else "Reopened"
    if text is not None:
        return Draft(("Commented", kind), comment(text).payload)
    if state.get("state", "open") == target:
        raise NothingToChange(f"issue {state['id']} is already {target}.")
    return Draft((kind,))


def edit(state: dict[str, Any], summary: str | None, details: str | None) -> list[Draft]:
    """``SummaryChanged``/``DetailsChanged`` records for the fields that change."""
    drafts: list[Draft] = []
    if summary is not None and check_summary(summary) != state.get("summary"):
        drafts.append(Draft(("SummaryChanged",), {"text": text_file(summary.strip())}))
    if details is not None and details.strip() != state.get("details", ""):
        drafts.append(Draft(("DetailsChanged",), {"text": text_file(details)}))
    if not drafts:
        raise NothingToChange(f"issue {state['id']}: nothing to change.")
    return drafts


def change_set(records: Iterable[Record], ext: Extension, add: list[str], remove: list[str]) -> Draft:
    """A ``LabelsChanged``/``AssigneesChanged`` record, unless nothing would change."""
    payload = extensions.set_change(records, ext, add, remove)
    if payload is None:
        raise NothingToChange(f"{ext.key}: nothing to change.")
    return Draft((ext.type,), {ext.file: payload})


def spelled_as_set(live: Iterable[str], add: list[str], remove: list[str]) -> tuple[list[str], list[str]]:
    """Values given in another case, spelled as those already set: ``+Bug`` beside ``bug`` is ``bug``.

    ``issue list --label`` matches without regard to case, so labels and assignees that
    differ only in case would be one to a reader and two to the set; removing takes away
    every spelling.
    """
    by_fold: dict[str, list[str]] = {}
    for value in sorted(live):
        by_fold.setdefault(value.casefold(), []).append(value)

    def spellings(value: str) -> list[str]:
        return by_fold.get(value.casefold(), [value])

    added = [value if value in live else spellings(value)[0] for value in add]
    removed = [spelling for value in remove for spelling in spellings(value)]
    return list(dict.fromkeys(added)), list(dict.fromkeys(removed))


def live_values(records: Iterable[Record], ext: Extension) -> set[str]:
    """The labels (or assignees...) set now."""
    return set(extensions.observed_set(records, ext).live())


def set_notes(records: Iterable[Record], ext: Extension, add: list[str], remove: list[str]) -> list[str]:
    """What in a label/assignee change will do nothing: values already there, or absent."""
    live = extensions.observed_set(records, ext).live()
    what = ext.key[:-1]
    return [f"{what} {v!r} is already set." for v in add if v in live] + [
        f"{what} {v!r} is not set." for v in remove if v not in live
    ]


def change_milestone(records: Iterable[Record], value: str | None) -> Draft:
    """A ``MilestoneChanged`` record that sets or clears the milestone, unless unchanged."""
    if value is not None:
        value = check_value(value, "milestone")
    payload = extensions.milestone_change(records, value)
    if payload is None:
        raise NothingToChange("milestone: nothing to change.")
    ext = extensions.MILESTONE
    return Draft((ext.type,), {ext.file: payload})
