"""Plain-text tables for ``status`` and ``diff``: aligned columns, the current branch starred.

Pure: rows of data in, lines of text out (no trailing spaces). Refs are shown by
their display labels; an absent item shows as ``absent``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from git_sit import textwidth
from git_sit.reduce import State
from git_sit.status import (
    Change,
    RefCount,
    StatusTable,
    group_by_status,
    pick_summary,
    status_of,
    summary_of,
)

ABSENT = "absent"


def align(rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> list[str]:
    """Columns padded to their widest cell (columns in ``right`` right-aligned); controls shown."""
    if not rows:
        return []
    rows = [[textwidth.printable(cell) for cell in row] for row in rows]
    widths = [max(textwidth.width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            textwidth.rjust(cell, width) if i in right else textwidth.ljust(cell, width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _mark(ref: str, current: str | None) -> str:
    return "*" if ref == current else " "


def item_lines(
    item: str, per_ref: Mapping[str, State | None], names: Mapping[str, str], current: str | None,
) -> list[str]:
    """One item: its ID, then per ref the marker, label, state and summary."""
    rows = [
        [_mark(ref, current), names[ref], status_of(state) or ABSENT, summary_of(state)]
        for ref, state in per_ref.items()
    ]
    # The marker column is one character wide; join it to the label with a single space.
    return [textwidth.printable(item), *(line[:1] + line[2:] if line else line for line in align(rows))]


def overview_lines(
    ref_counts: Sequence[RefCount], names: Mapping[str, str], current: str | None,
    table: StatusTable, states: Mapping[str, Mapping[str, State | None]],
) -> list[str]:
    """Per-ref counts, then each item whose state differs with the refs for each state."""
    rows = [["", "REF", "OPEN", "CLOSED", "ITEMS"]]
    rows += [
        [_mark(c.ref, current), names[c.ref], str(c.open), str(c.closed), str(c.items)]
        for c in ref_counts
    ]
    lines = [line[:1] + line[2:] for line in align(rows, right=frozenset({2, 3, 4}))]
    if not table:
        return lines
    lines += ["", "Items whose state differs between refs:"]
    for item, per_ref in table.items():
        lines.append(textwidth.printable(f"  {item}  {pick_summary(states[item], current)}".rstrip()))
        groups = [
            [status or ABSENT, ", ".join(names[ref] for ref in refs)]
            for status, refs in group_by_status(per_ref)
        ]
        lines += [f"    {line}" for line in align(groups)]
    return lines


def diff_lines(changes: Sequence[Change]) -> list[str]:
    """One line per changed item: the change, the item ID, its summary and what else changed."""
    rows = []
    for change in changes:
        text = change.summary
        if change.kind == "appeared" and change.after is not None:
            text += f" ({change.after})"
        if change.kind == "changed":
            text += f" [{', '.join(change.fields)}]" if change.fields else ""
            if change.before != change.after:
                text += f" ({change.before} -> {change.after})"
        rows.append([change.kind, change.item, text.strip()])
    return align(rows)
