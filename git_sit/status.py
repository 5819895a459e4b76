"""Status across refs and changes between revisions, computed from reduced states (pure).

The inputs are plain data: ref names and, per item, the reduced state on each ref
(``None`` where the item is absent). From them this module derives an item's
status per ref (its ``state`` field: ``open``, ``closed``...; ``None`` when absent),
per-ref counts, the items whose state is not the same everywhere, and the
classification of what happened to each item between two revisions
(appeared, disappeared, closed, reopened, otherwise changed). It also chooses
which refs a pattern selects, how refs are labelled, and resolves abbreviated
item IDs against a set of candidates.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from git_sit.errors import UnknownItem
from git_sit.reduce import State

Status = str | None
OPEN, CLOSED = "open", "closed"
UNKNOWN = "unknown"  # the item exists but no record set its state (e.g. all failed integrity)
REF_PREFIXES = ("refs/heads/", "refs/tags/", "refs/remotes/")

# The order changes are listed in: what a release note wants first.
CHANGE_KINDS = ("closed", "reopened", "appeared", "changed", "disappeared")
# Keys that never count as "changed": the ID is constant, the state has its own kinds.
_NOT_FIELDS = frozenset({"id", "state"})


def status_of(state: State | None) -> Status:
    """An item's status from its reduced state; ``None`` when the item is absent."""
    if state is None:
        return None
    value = state.get("state")
    return value if isinstance(value, str) else UNKNOWN


def summary_of(state: State | None) -> str:
    """The item's summary, or '' when it has none (or is absent)."""
    value = state.get("summary") if state is not None else None
    return value if isinstance(value, str) else ""


def brief(state: State) -> State:
    """What ``status`` shows of a state (its status and summary): all it keeps of each one."""
    return {"state": status_of(state), "summary": summary_of(state)}


# --- refs ---

def short_name(name: str) -> str:
    """``refs/heads/main`` → ``main``, ``refs/tags/v1`` → ``v1``, ``refs/remotes/o/x`` → ``o/x``."""
    for prefix in REF_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def labels(names: Sequence[str]) -> dict[str, str]:
    """Display labels: short names, or ``heads/x``/``tags/x`` where short names would clash."""
    shorts = [short_name(name) for name in names]
    result = {}
    for name, short in zip(names, shorts, strict=True):
        clash = shorts.count(short) > 1
        result[name] = name.removeprefix("refs/") if clash else short
    return result


def current_ref(branch: str | None, detached: tuple[str, str | None] | None,
                targets: Mapping[str, str]) -> str | None:
    """The ref to mark current: HEAD's branch; or where HEAD is detached (``(commit, checked out)``).

    Detached, that is the ref the checkout named (as ``git branch`` shows "HEAD detached
    at v1.0") while HEAD is still at its commit, else the one ref at HEAD's commit. Other
    refs at that commit are not current: a commit made now moves none of them. ``targets``:
    ref name → the commit it points at.
    """
    if branch is not None or detached is None:
        return branch
    commit, checked_out = detached
    if checked_out is not None and targets.get(checked_out) == commit:
        return checked_out
    at_head = [name for name, target in targets.items() if target == commit]
    return at_head[0] if len(at_head) == 1 else None


def select_refs(names: Iterable[str], patterns: Sequence[str]) -> list[str]:
    """The names matching any fnmatch pattern (full or short name); all of them without patterns."""
    if not patterns:
        return list(names)
    return [
        name for name in names
        if any(fnmatch.fnmatchcase(n, p) for p in patterns for n in (name, short_name(name)))
    ]


# --- item IDs ---

def resolve_prefix(text: str, item_ids: Sequence[str], where: str) -> str:
    """The item ID ``text`` names exactly or as a unique prefix among ``item_ids``."""
    if text in item_ids:
        return text
    matches = sorted(item for item in item_ids if text and item.startswith(text))
    if not matches:
        raise UnknownItem(f"no item {text!r} on {where}.")
    if len(matches) > 1:
        shown = ", ".join(matches[:10]) + (", ..." if len(matches) > 10 else "")
        raise UnknownItem(f"item ID prefix {text!r} is ambiguous: {shown}.")
    return matches[0]


# --- status of items across refs ---

StatusTable = dict[str, dict[str, Status]]  # item ID → ref name → status


def status_table(states: Mapping[str, Mapping[str, State | None]]) -> StatusTable:
    """Item → ref → status, from item → ref → reduced state."""
    return {
        item: {ref: status_of(state) for ref, state in per_ref.items()}
        for item, per_ref in states.items()
    }


@dataclass(frozen=True, slots=True)
class RefCount:
    """How many items a ref has, and how many of them are open and closed."""

    ref: str
    open: int
    closed: int
    items: int


class Overview:
    """Per-ref counts and the items whose state differs, gathered one item at a time."""

    def __init__(self, refs: Sequence[str]) -> None:
        self.refs = list(refs)
        self._counts = {ref: [0, 0, 0] for ref in self.refs}  # open, closed, present
        self.table: StatusTable = {}  # the differing items only
        self.states: dict[str, dict[str, State | None]] = {}  # and their states, for summaries

    def add(self, item: str, per_ref: Mapping[str, State | None]) -> None:
        """Count one item, given its state on each ref (``None`` where absent)."""
        statuses = {ref: status_of(state) for ref, state in per_ref.items()}
        for ref, status in statuses.items():
            if status is not None:
                tally = self._counts[ref]
                tally[0] += status == OPEN
                tally[1] += status == CLOSED
                tally[2] += 1
        if differs(statuses):
            self.table[item] = statuses
            self.states[item] = dict(per_ref)

    def counts(self) -> list[RefCount]:
        """Per-ref counts of open, closed and present items, in the order of the refs."""
        return [RefCount(ref, *self._counts[ref]) for ref in self.refs]


def differs(per_ref: Mapping[str, Status]) -> bool:
    """True if the item has two or more distinct states among the refs where it exists.

    Absence alone does not count: an item filed after a tag is absent there, and
    listing every such item would bury the ones that were fixed on one branch only.
    """
    return len({status for status in per_ref.values() if status is not None}) > 1


def differing(table: StatusTable) -> StatusTable:
    """The items of ``table`` whose state differs between refs (``differs``)."""
    return {item: per_ref for item, per_ref in table.items() if differs(per_ref)}


def group_by_status(per_ref: Mapping[str, Status]) -> list[tuple[Status, list[str]]]:
    """The refs for each status, states in first-seen order, absent (``None``) last."""
    groups: dict[Status, list[str]] = {}
    for ref, status in per_ref.items():
        groups.setdefault(status, []).append(ref)
    absent = groups.pop(None, None)
    result: list[tuple[Status, list[str]]] = list(groups.items())
    return result + ([(None, absent)] if absent else [])


def pick_summary(per_ref: Mapping[str, State | None], preferred: str | None) -> str:
    """An item's summary for a one-line listing: on the preferred ref if present there."""
    if preferred is not None and per_ref.get(preferred) is not None:
        return summary_of(per_ref[preferred])
    return next((summary_of(s) for s in per_ref.values() if s is not None), "")


def overview_json(
    ref_counts: Sequence[RefCount], current: str | None, table: StatusTable,
) -> dict[str, object]:
    """``{"refs": {REF: {current, open, closed, items}}, "differing": {ITEM: {REF: status}}}``."""
    refs = {
        c.ref: {"current": c.ref == current, "open": c.open, "closed": c.closed, "items": c.items}
        for c in ref_counts
    }
    return {"refs": refs, "differing": differing(table)}


# --- changes between two revisions ---

@dataclass(frozen=True, slots=True)
class Change:
    """What happened to one item between two revisions."""

    item: str
    kind: str
    before: Status
    after: Status
    fields: tuple[str, ...]
    summary: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.item, "change": self.kind, "from": self.before, "to": self.after,
            "fields": list(self.fields), "summary": self.summary,
        }


def changed_fields(before: State | None, after: State | None) -> tuple[str, ...]:
    """The state keys whose values differ (besides ``id`` and ``state``), sorted."""
    old, new = before or {}, after or {}
    keys = (old.keys() | new.keys()) - _NOT_FIELDS
    return tuple(sorted(k for k in keys if old.get(k) != new.get(k) or (k in old) != (k in new)))


def classify(before: State | None, after: State | None) -> str | None:
    """The kind of change from ``before`` to ``after`` (``None`` for absent), or ``None`` if none."""
    if before is None and after is None:
        return None
    if before is None:
        return "appeared"
    if after is None:
        return "disappeared"
    old, new = status_of(before), status_of(after)
    if new == CLOSED and old != CLOSED:
        return "closed"
    if old == CLOSED and new == OPEN:
        return "reopened"
    if old != new or changed_fields(before, after):
        return "changed"
    return None


def change_of(item: str, before: State | None, after: State | None) -> Change | None:
    """The ``Change`` of one item, or ``None`` when its state is the same on both sides."""
    kind = classify(before, after)
    if kind is None:
        return None
    summary = summary_of(after) or summary_of(before)
    return Change(item, kind, status_of(before), status_of(after),
                  changed_fields(before, after), summary)


def sort_changes(changes: Iterable[Change]) -> list[Change]:
    """Changes grouped by kind (closed first, as release notes want), then by item ID."""
    return sorted(changes, key=lambda c: (CHANGE_KINDS.index(c.kind), c.item))


def diff_json(rev1: str, rev2: str, changes: Sequence[Change]) -> dict[str, object]:
    """``{"from": REV1, "to": REV2, "changes": [{id, change, from, to, fields, summary}]}``."""
    return {"from": rev1, "to": rev2, "changes": [change.to_json() for change in changes]}
