"""Reading issues for people: filtering, sorting, short IDs, the list table and the show page.

Everything works on reduced item states (issue-tracking keys plus git-sit's
``labels``, ``assignees``, ``milestone``). Timestamps are compared as instants.
Colour is a ``Style`` callback (text, role) → text that the CLI provides; the
functions here return plain strings. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from git_sit import textwidth
from git_sit.instant import show_instant, sort_key
from git_sit.status import UNKNOWN, status_of

State = dict[str, Any]
Style = Callable[[str, str], str]
MIN_SHORT = 8
MIN_SUMMARY = 20
BODY_WHITESPACE = "\n\t"  # kept in details and comments; every other control character is shown
STATES = ("open", "closed", UNKNOWN, "all")
SORTS = ("updated", "created")


def plain(text: str, role: str) -> str:
    """The identity style (no colour)."""
    return text


@dataclass(frozen=True, slots=True)
class Criteria:
    """Which issues ``list`` shows; text matches are case-insensitive."""

    state: str = "open"
    labels: tuple[str, ...] = ()
    assignee: str | None = None
    author: str | None = None
    search: str | None = None


def state_name(state: State) -> str:
    """The state as shown; ``unknown`` when no record set one (none passed integrity or trust)."""
    return status_of(state) or UNKNOWN


def _strings(state: State, key: str) -> list[str]:
    value = state.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _text(state: State, key: str) -> str:
    value = state.get(key)
    return value if isinstance(value, str) else ""


def _shown(state: State, key: str, keep: str = "") -> str:
    """A text field as it may be printed (``textwidth.printable``)."""
    return textwidth.printable(_text(state, key), keep)


def _shown_list(state: State, key: str) -> str:
    return ", ".join(textwidth.printable(v) for v in _strings(state, key))


def _fold(values: Iterable[str]) -> set[str]:
    return {v.casefold() for v in values}


def matches(state: State, criteria: Criteria) -> bool:
    """True if the issue passes every criterion given."""
    if criteria.state != "all" and state_name(state) != criteria.state:
        return False
    if not _fold(criteria.labels) <= _fold(_strings(state, "labels")):
        return False
    if criteria.assignee and criteria.assignee.casefold() not in _fold(_strings(state, "assignees")):
        return False
    if criteria.author and criteria.author.casefold() not in _text(state, "authors").casefold():
        return False
    if criteria.search:
        comments = state.get("comments")
        texts = [_text(state, "summary"), _text(state, "details")]
        if isinstance(comments, list):
            texts += [_text(c, "text") for c in comments if isinstance(c, dict)]
        return any(criteria.search.casefold() in t.casefold() for t in texts)
    return True


def updated(state: State) -> object:
    """When the issue last changed: ``last_updated_timestamp``, else its creation time."""
    return state.get("last_updated_timestamp") or state.get("timestamp")


def sort_states(states: Iterable[State], by: str = "updated") -> list[State]:
    """Newest first by update (or creation) instant; ties and undated issues by ID."""
    key = updated if by == "updated" else (lambda s: s.get("timestamp"))
    by_id = sorted(states, key=lambda s: str(s.get("id", "")))
    return sorted(by_id, key=lambda s: sort_key(key(s)), reverse=True)


def short_length(all_ids: Iterable[str], shown: Iterable[str], minimum: int = MIN_SHORT) -> int:
    """The prefix length that keeps every shown ID unique among all IDs (at least ``minimum``)."""
    ordered = sorted(set(all_ids))
    position = {item: i for i, item in enumerate(ordered)}
    length = minimum
    for item in shown:
        i = position[item]
        for j in (i - 1, i + 1):
            if 0 <= j < len(ordered):
                length = max(length, _common(item, ordered[j]) + 1)
    return length


def _common(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def table(
    states: Sequence[State], id_length: int, style: Style = plain,
    width: int | None = None, header: bool = False,
) -> list[str]:
    """The aligned ``list`` table: ID, state, summary, labels, updated (UTC)."""
    rows = [
        [textwidth.printable(cell) for cell in (
            str(s.get("id", ""))[:id_length], state_name(s), _text(s, "summary").strip(),
            _shown_list(s, "labels"), show_instant(updated(s)))]
        for s in states
    ]
    titles = ["ID", "STATE", "SUMMARY", "LABELS", "UPDATED"]
    shown = [titles, *rows] if header else rows
    widths = [max((textwidth.width(r[c]) for r in shown), default=0) for c in range(5)]
    if width is not None:
        rest = sum(widths) - widths[2] + 2 * 4
        widths[2] = min(widths[2], max(MIN_SUMMARY, width - rest))
    lines = [_row(titles, widths, lambda t, _: style(t, "header"))] if header else []
    for row in rows:
        lines.append(_row(row, widths, style, ["id", row[1], "title", "label", "dim"]))
    return lines


def _row(cells: list[str], widths: list[int], style: Style, roles: list[str] | None = None) -> str:
    parts = []
    for c, (cell, w) in enumerate(zip(cells, widths, strict=True)):
        text = textwidth.cut(cell, w)
        styled = style(text, roles[c] if roles else "")
        parts.append(styled + " " * (w - textwidth.width(text)) if c < len(cells) - 1 else styled)
    return "  ".join(parts).rstrip()


def _indent(text: str, prefix: str = "    ") -> list[str]:
    return [prefix + line if line else "" for line in text.rstrip("\n").split("\n")]


def show(state: State, style: Style = plain) -> str:
    """The ``show`` page: summary, state, people, labels, milestone, details, comments."""
    status = textwidth.printable(state_name(state))
    fields = [
        ("author", _shown(state, "authors") or "unknown"),
        ("created", show_instant(state.get("timestamp"), seconds=True)),
        ("updated", show_instant(updated(state), seconds=True)),
        ("labels", _shown_list(state, "labels") or "none"),
        ("assignees", _shown_list(state, "assignees") or "none"),
        ("milestone", _shown(state, "milestone") or "none"),
    ]
    lines = [
        style(_shown(state, "summary").strip() or "(no summary)", "title"),
        f"{style(status, status)} · {style(textwidth.printable(str(state.get('id', ''))), 'id')}",
        *(f"{name + ':':<11}{textwidth.printable(value)}" for name, value in fields),
        "",
    ]
    details = _shown(state, "details", BODY_WHITESPACE)
    lines += _indent(details) if details.strip() else [style("    (no details)", "dim")]
    comments = [c for c in state.get("comments") or [] if isinstance(c, dict)]
    if comments:
        lines += ["", style(f"Comments ({len(comments)})", "header")]
    for comment in comments:
        lines += ["", _comment_heading(comment, style), *_indent(_shown(comment, "text", BODY_WHITESPACE))]
    return "\n".join(lines)


def _comment_heading(comment: State, style: Style) -> str:
    author = _shown(comment, "authors") or "unknown"
    when = textwidth.printable(show_instant(comment.get("timestamp"), True))
    heading = f"{style(author, 'author')} · {style(when, 'dim')}"
    if comment.get("merge_request"):
        heading += f" · merge request {textwidth.printable(str(comment['merge_request']))}"
    if comment.get("merge_request_report"):
        heading += f" · verification {textwidth.printable(str(comment['merge_request_report']))}"
    return heading
