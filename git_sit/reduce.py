"""Reduction: folding an item's ordered records into a JSON state (SIT-FORMAT §5.4, §5.6).

The loop reproduces SIT's reducer contract: each reducer keeps its own ``this``
for one reduction, a reducer that fails rolls the state back to before the record
and leaves an ``errors`` entry, and the state is JSON round-tripped after every
record. The default reducer set is a native port of the issue-tracking module's
reducers, quirks included, followed by git-sit's own (``extensions``); it runs in a
loop without the per-record round trips, which it provably does not need
(``reduce_native``). Pure: records in, a dict out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from git_sit.extensions import EXTENSIONS
from git_sit.extensions import VERSION as EXTENSIONS_VERSION
from git_sit.record import Record

State = dict[str, Any]
ReducerFn = Callable[[dict[str, Any], State, Record], "State | None"]

# JavaScript's String.prototype.trim set, which differs from str.strip().
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class ReducerFailure(Exception):
    """Raised by a reducer; becomes an ``errors`` entry, as a JS exception would in SIT."""


def js_trim(text: str) -> str:
    """``String.prototype.trim``."""
    return text.strip(JS_WHITESPACE)


def text_decode(data: bytes | None) -> str:
    """``new TextDecoder('utf-8').decode(buf)``: U+FFFD for bad bytes, BOM dropped, '' for undefined."""
    if data is None:
        return ""
    text = data.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


@dataclass(slots=True)
class Reducer:
    """A named reducer function with its per-reduction ``this``."""

    path: str
    fn: ReducerFn
    this: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        self.this = {}


def _round_trip(state: State) -> State:
    result: State = json.loads(json.dumps(state, ensure_ascii=False))
    return result


def reduce_records(
    records: Iterable[Record], reducers: Sequence[Reducer], initial: State | None = None
) -> State:
    """Fold ``records`` (already in §5.2 order) through ``reducers`` from ``initial``."""
    for reducer in reducers:
        reducer.reset()
    state = _round_trip(initial or {})
    for record in records:
        state = _apply_record(state, record, reducers)
    return state


def _apply_record(before: State, record: Record, reducers: Sequence[Reducer]) -> State:
    current = _round_trip(before)
    for reducer in reducers:
        try:
            result = reducer.fn(reducer.this, current, record)
        except ReducerFailure as exc:
            return _with_error(before, reducer.path, str(exc))
        if result is None:
            continue
        if not isinstance(result, dict):
            return _with_error(before, reducer.path, invalid_return(result))
        current = result
    return _round_trip(current)


def invalid_return(result: Any) -> str:
    """SIT's error for a reducer result that is not an object (§5.4), the value as JS shows it."""
    return f"TypeError: invalid return value {js_string(result)}, expected an object"


def _with_error(state: State, path: str, message: str) -> State:
    result = _round_trip(state)
    errors = result.get("errors")
    result["errors"] = [*(errors if isinstance(errors, list) else []), {"file": path, "error": message}]
    return result


# --- the issue-tracking module (commit 18c57211), ported; see SIT-FORMAT §5.6 ---

def _has(record: Record, name: str) -> bool:
    return name in record.files


def _decode(record: Record, name: str) -> str:
    return text_decode(record.files.get(name))


def _commented(this: dict[str, Any], state: State, record: Record) -> State:
    comments = this.setdefault("comments", [])
    if _has(record, ".type/Merged"):
        merged = _merged_record(record, state)
        comments.append({
            "text": js_trim("Merged " + js_string(merged)),
            "authors": _decode(record, ".authors"),
            "timestamp": _decode(record, ".timestamp"),
        })
        state["comments"] = comments
    if _has(record, ".type/Commented"):
        comments.append({
            "text": _decode(record, "text"),
            "authors": _decode(record, ".authors"),
            "timestamp": _decode(record, ".timestamp"),
            "merge_request": record.id if _has(record, ".type/MergeRequested") else None,
            "merge_request_report": _report(record),
        })
        state["comments"] = comments
    return state


def _report(record: Record) -> str | None:
    if _has(record, ".type/MergeRequestVerificationSucceeded"):
        return "success"
    if _has(record, ".type/MergeRequestVerificationFailed"):
        return "failure"
    return None


def _merged_record(record: Record, state: State) -> Any:
    if _has(record, "record"):
        return _decode(record, "record")
    value = state.get("merge_request")
    return value if js_truthy(value) else ""


def _first_truthy(state: State, key: str, fallback: str) -> Any:
    value = state.get(key)
    return value if js_truthy(value) else fallback


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value: "", null, 0 and false are falsy; [] and {} are not."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0
    return True


def js_string(value: Any) -> str:
    """``String(value)`` of a JSON value, as ``"Merged " + value`` makes it in JavaScript."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return ",".join("" if item is None else js_string(item) for item in value)
    return "[object Object]"


def _details_changed(this: dict[str, Any], state: State, record: Record) -> State:
    if _has(record, ".type/DetailsChanged"):
        state["authors"] = _first_truthy(state, "authors", _decode(record, ".authors"))
        if _has(record, ".type/MergeRequested"):
            state["merge_request"] = record.id
        state["details"] = js_trim(_decode(record, "text"))
        state["timestamp"] = _first_truthy(state, "timestamp", _decode(record, ".timestamp"))
    return state


def _merge_requested(this: dict[str, Any], state: State, record: Record) -> State:
    if _has(record, ".type/MergeRequested"):
        # SIT's reducer starts from record.merge_requests (never set), so only the latest survives.
        state["merge_requests"] = [record.id]
    return state


def _merged(this: dict[str, Any], state: State, record: Record) -> State:
    merges = this.setdefault("merges", [])
    if _has(record, ".type/Merged"):
        merges.append({"hash": record.id, "record": _merged_record(record, state)})
        state["merges"] = merges
    return state


def _state(this: dict[str, Any], state: State, record: Record) -> State:
    if _has(record, ".type/Closed"):
        this["state"] = "closed"
    elif _has(record, ".type/Reopened"):
        this["state"] = "open"
    state["state"] = this.setdefault("state", "open")
    return state


def _summary_changed(this: dict[str, Any], state: State, record: Record) -> State:
    if _has(record, ".type/SummaryChanged"):
        state["authors"] = _first_truthy(state, "authors", _decode(record, ".authors"))
        state["summary"] = js_trim(_decode(record, "text"))
        state["timestamp"] = _first_truthy(state, "timestamp", _decode(record, ".timestamp"))
    return state


def _activity(this: dict[str, Any], state: State, record: Record) -> State | None:
    if _has(record, ".timestamp"):
        state["last_updated_timestamp"] = _decode(record, ".timestamp")
        return state
    return None


ISSUE_TRACKING_PATH = "modules/issue-tracking/reducers"
ISSUE_TRACKING: tuple[tuple[str, ReducerFn], ...] = (
    ("Commented.js", _commented),
    ("DetailsChanges.js", _details_changed),
    ("MergeRequested.js", _merge_requested),
    ("Merged.js", _merged),
    ("State.js", _state),
    ("SummaryChanged.js", _summary_changed),
    ("activity.js", _activity),
)


def issue_tracking_reducers() -> list[Reducer]:
    """A fresh native issue-tracking reducer set, in SIT's file order (§5.3)."""
    return [Reducer(f"{ISSUE_TRACKING_PATH}/{name}", fn) for name, fn in ISSUE_TRACKING]


def reduce_item(item_id: str, records: Iterable[Record], reducers: Sequence[Reducer]) -> State:
    """Reduce one item: the initial state is ``{"id": ITEM}``."""
    return reduce_records(records, reducers, {"id": item_id})


class ReducerSet(Protocol):
    """Whatever reduces records into states; ``fingerprint`` names its exact behaviour."""

    @property
    def fingerprint(self) -> str: ...

    def reduce(self, records: Iterable[Record], initial: State) -> State: ...


def extension_reducers() -> list[Reducer]:
    """A fresh set of git-sit's own reducers (labels, assignees, milestone; ``extensions``)."""
    return [Reducer(path, fn) for path, fn in EXTENSIONS]


def reduce_native(
    records: Iterable[Record], reducers: Sequence[Reducer], initial: State | None = None
) -> State:
    """``reduce_records`` for reducers known to keep the state JSON-native (the built-in set).

    The per-record round trips exist for two JavaScript semantics: a failing reducer rolls
    the state back to before the record, and the state never shares lists with a
    reducer's ``this``. The built-in reducers put only JSON values (fresh or from
    ``this``) in the state and change a ``this`` list only right before assigning it to
    the state, so while no reducer fails, sharing is unobservable; ``this`` is dropped
    at the end, so the result shares nothing with anything still in use. If a reducer
    fails after all, the item is reduced again the exact way.
    """
    records = records if isinstance(records, (list, tuple)) else list(records)
    for reducer in reducers:
        reducer.reset()
    state = _round_trip(initial or {})
    for record in records:
        for reducer in reducers:
            try:
                result = reducer.fn(reducer.this, state, record)
            except ReducerFailure:
                return reduce_records(records, reducers, initial)
            if result is None:
                continue
            if not isinstance(result, dict):
                return reduce_records(records, reducers, initial)
            state = result
    for reducer in reducers:
        reducer.reset()
    return state


class NativeReducers:
    """The built-in reducers (the issue-tracking port, then git-sit's extensions) as a ``ReducerSet``."""

    fingerprint = f"native:issue-tracking@18c57211+git-sit-extensions@{EXTENSIONS_VERSION}"
    # No built-in reducer writes "id" (nor does an error entry), so every state keeps the
    # item ID it started from: a cached state's ID need not be read (``bulk``).
    keeps_id = True

    def __init__(self) -> None:
        self._reducers = [*issue_tracking_reducers(), *extension_reducers()]

    def reduce(self, records: Iterable[Record], initial: State) -> State:
        return reduce_native(records, self._reducers, initial)
