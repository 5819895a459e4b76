"""git-sit's own record types: labels, assignees and a milestone, merged without conflicts.

SIT's issue-tracking module has no labels, assignees or milestones. git-sit adds
three record types (SIT ignores unknown types, so SIT users see nothing change):

* ``LabelsChanged`` with ``labels.json`` and ``AssigneesChanged`` with
  ``assignees.json``: ``{"add": [VALUE...], "remove": {VALUE: [RECORD-ID...]}}``.
  Each set is an observed-remove set: an *add* is the pair (VALUE, ID of the
  record that adds it); a remove names the adding records it saw, and only those
  adds are removed. The set is every VALUE with an add that no record removes, so
  the result is the same in any order: merging two branches gives the union of
  both sides' adds minus the union of their removes, and an add made concurrently
  with a remove of the same value survives ("add wins").
* ``MilestoneChanged`` with ``milestone.json``: ``{"set": VALUE or null,
  "replaces": [RECORD-ID...]}``. A record with a string ``set`` is a candidate until
  some record replaces it; ``null`` only replaces (clears). Of concurrent
  candidates, the one with the latest ``.timestamp`` instant wins (ties: the
  greater record ID).

A payload that is not valid UTF-8 JSON of that shape is ignored. The state keys
``labels``, ``assignees`` (sorted lists) and ``milestone`` (string or null) appear
only once a record of the type has been reduced, so items without such records
reduce exactly as SIT's module reduces them. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from git_sit.instant import sort_key
from git_sit.record import TYPE_PREFIX, Record

State = dict[str, Any]
ExtensionFn = Callable[[dict[str, Any], State, Record], "State | None"]
VERSION = "1"
REDUCER_PATH = "git-sit/extensions"


@dataclass(frozen=True, slots=True)
class Extension:
    """One extension record type: its ``.type`` name, payload file and state key."""

    type: str
    file: str
    key: str


LABELS = Extension("LabelsChanged", "labels.json", "labels")
ASSIGNEES = Extension("AssigneesChanged", "assignees.json", "assignees")
MILESTONE = Extension("MilestoneChanged", "milestone.json", "milestone")


@dataclass(frozen=True, slots=True)
class SetOps:
    """The operations of one set payload."""

    add: tuple[str, ...] = ()
    remove: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegisterOp:
    """The operation of one milestone payload."""

    value: str | None
    replaces: tuple[str, ...] = ()


def _load(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _strings(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return None
    return tuple(value)


def parse_set_ops(data: bytes | None) -> SetOps | None:
    """A set payload's operations, ``None`` if it is malformed (then it is ignored)."""
    payload = _load(data)
    if payload is None:
        return None
    add = _strings(payload.get("add", []))
    remove = payload.get("remove", {})
    if add is None or not isinstance(remove, dict):
        return None
    removed: dict[str, tuple[str, ...]] = {}
    for value, tags in remove.items():
        parsed = _strings(tags)
        if not value or parsed is None:
            return None
        removed[value] = parsed
    return SetOps(add, removed)


def parse_register_op(data: bytes | None) -> RegisterOp | None:
    """A milestone payload's operation, ``None`` if it is malformed."""
    payload = _load(data)
    if payload is None or "set" not in payload:
        return None
    value, replaces = payload["set"], _strings(payload.get("replaces", []))
    if not (value is None or (isinstance(value, str) and value)) or replaces is None:
        return None
    return RegisterOp(value, replaces)


@dataclass(slots=True)
class ObservedSet:
    """An observed-remove set: adds tagged by record ID, removes naming the tags they saw."""

    adds: dict[str, set[str]] = field(default_factory=dict)
    removed: dict[str, set[str]] = field(default_factory=dict)

    def apply(self, record_id: str, ops: SetOps) -> None:
        for value in ops.add:
            self.adds.setdefault(value, set()).add(record_id)
        for value, tags in ops.remove.items():
            self.removed.setdefault(value, set()).update(tags)

    def live(self) -> dict[str, set[str]]:
        """Each present value and the adds that keep it present."""
        result = {v: tags - self.removed.get(v, set()) for v, tags in self.adds.items()}
        return {v: tags for v, tags in result.items() if tags}

    def values(self) -> list[str]:
        return sorted(self.live())


@dataclass(slots=True)
class Register:
    """A multi-value register: candidates not yet replaced; the latest one is the value."""

    candidates: dict[str, tuple[str, tuple[int, int]]] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)

    def apply(self, record_id: str, op: RegisterOp, timestamp: str | None) -> None:
        if op.value is not None:
            self.candidates[record_id] = (op.value, sort_key(timestamp))
        self.replaced.update(op.replaces)

    def live(self) -> dict[str, str]:
        """Record ID → value of every candidate no record replaces."""
        return {rid: c[0] for rid, c in self.candidates.items() if rid not in self.replaced}

    def value(self) -> str | None:
        live = [(c[1], rid, c[0]) for rid, c in self.candidates.items() if rid not in self.replaced]
        return max(live)[2] if live else None


def _timestamp(record: Record) -> str | None:
    data = record.files.get(".timestamp")
    return data.decode("utf-8", errors="replace") if data is not None else None


def _has_type(record: Record, ext: Extension) -> bool:
    return TYPE_PREFIX + ext.type in record.files


def _set_reducer(ext: Extension) -> ExtensionFn:
    def reducer(this: dict[str, Any], state: State, record: Record) -> State:
        if _has_type(record, ext):
            observed = this.setdefault("set", ObservedSet())
            ops = parse_set_ops(record.files.get(ext.file))
            if ops is not None:
                observed.apply(record.id, ops)
            state[ext.key] = observed.values()
        return state
    return reducer


def _milestone(this: dict[str, Any], state: State, record: Record) -> State:
    if _has_type(record, MILESTONE):
        register = this.setdefault("register", Register())
        op = parse_register_op(record.files.get(MILESTONE.file))
        if op is not None:
            register.apply(record.id, op, _timestamp(record))
        state[MILESTONE.key] = register.value()
    return state


EXTENSIONS: tuple[tuple[str, ExtensionFn], ...] = (
    (f"{REDUCER_PATH}/{LABELS.key}", _set_reducer(LABELS)),
    (f"{REDUCER_PATH}/{ASSIGNEES.key}", _set_reducer(ASSIGNEES)),
    (f"{REDUCER_PATH}/{MILESTONE.key}", _milestone),
)


# --- building payloads for new records ---

def observed_set(records: Iterable[Record], ext: Extension) -> ObservedSet:
    """The set ``ext`` holds after ``records``."""
    result = ObservedSet()
    for record in records:
        ops = parse_set_ops(record.files.get(ext.file)) if _has_type(record, ext) else None
        if ops is not None:
            result.apply(record.id, ops)
    return result


def milestone_register(records: Iterable[Record]) -> Register:
    """The milestone register after ``records``."""
    result = Register()
    for record in records:
        op = parse_register_op(record.files.get(MILESTONE.file)) if _has_type(record, MILESTONE) else None
        if op is not None:
            result.apply(record.id, op, _timestamp(record))
    return result


def encode(payload: dict[str, Any]) -> bytes:
    """Payload bytes as git-sit writes them: sorted keys, 2-space indent, final newline."""
    return (json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def set_change(
    records: Iterable[Record], ext: Extension, add: Sequence[str], remove: Sequence[str]
) -> bytes | None:
    """The payload that adds and removes values, ``None`` if nothing would change.

    A value already present is not added again; a remove names every add of the
    value that is present now (the adds this writer has observed).
    """
    live = observed_set(records, ext).live()
    adds = sorted({v for v in add if v not in live})
    removes = {v: sorted(live[v]) for v in sorted(set(remove)) if v in live}
    if not adds and not removes:
        return None
    payload: dict[str, Any] = {}
    if adds:
        payload["add"] = adds
    if removes:
        payload["remove"] = removes
    return encode(payload)


def milestone_change(records: Iterable[Record], value: str | None) -> bytes | None:
    """The payload that sets (or, with ``None``, clears) the milestone; ``None`` if no change."""
    register = milestone_register(records)
    live = register.live()
    if (value is None and not live) or (len(live) == 1 and register.value() == value):
        return None
    return encode({"set": value, "replaces": sorted(live)})
