"""The built-in reducers' fast loop (``reduce_native``) against the exact loop (``reduce_records``).

``reduce_records`` round-trips the state through JSON before and after every record,
as SIT does; ``reduce_native`` skips that for the built-in set. Random record
sequences over every record type the built-in reducers read (and malformed
payloads, odd text, several items in a row through one reducer set) must reduce
to the same state both ways.
"""

from __future__ import annotations

import json
import random

import pytest

from git_sit.record import Record
from git_sit.reduce import (
    NativeReducers,
    Reducer,
    extension_reducers,
    issue_tracking_reducers,
    reduce_native,
    reduce_records,
)
from tests.helpers import counting_reducer, failing_on_x

TYPES = ["Commented", "DetailsChanged", "SummaryChanged", "MergeRequested", "Merged", "Closed",
         "Reopened", "MergeRequestVerificationSucceeded", "MergeRequestVerificationFailed",
         "LabelsChanged", "AssigneesChanged", "MilestoneChanged", "Unknown"]
TEXTS = ["", "  spaced\u3000", "\ufeffbom", "plain", "ünïcödé \u2028", "a\nb"]
VALUES = ["bug", "ui", "x", "ops"]


def _payload(rng: random.Random, ids: list[str]) -> bytes:
    choice = rng.randrange(8)
    if choice == 0:
        return b"not json"
    if choice == 1:
        return b"\xff\xfe"
    if choice in (2, 6):
        return json.dumps({"set": rng.choice([None, "v1", "v2", ""]),
                           "replaces": rng.sample(ids, min(len(ids), rng.randrange(3)))}).encode()
    add = rng.sample(VALUES, rng.randrange(3))
    remove = {v: rng.sample(ids, min(len(ids), rng.randrange(3))) for v in rng.sample(VALUES, rng.randrange(2))}
    return json.dumps({"add": add, "remove": remove} if choice != 5 else [add]).encode()


def _record(rng: random.Random, index: int, ids: list[str]) -> Record:
    files: dict[str, bytes] = {f".type/{t}": b"" for t in rng.sample(TYPES, rng.randrange(4))}
    for name in (".authors", ".timestamp", "text", "record"):
        if rng.random() < 0.7:
            files[name] = rng.choice(TEXTS).encode() if name != ".timestamp" else (
                f"2020-01-0{rng.randrange(1, 9)}T00:00:00Z".encode() if rng.random() < 0.8 else b"junk")
    for kind, name in (("Labels", "labels.json"), ("Assignees", "assignees.json"),
                       ("Milestone", "milestone.json")):
        if rng.random() < (0.9 if f".type/{kind}Changed" in files else 0.2):
            files[name] = _payload(rng, ids)
    if rng.random() < 0.1:
        files["text"] = b"\xc3\x28 bad utf-8"
    record_id = f"R{index:03d}{rng.randrange(1000):03d}"
    ids.append(record_id)
    return Record(record_id, files)


def _sequence(seed: int) -> list[Record]:
    rng = random.Random(seed)
    ids: list[str] = []
    return [_record(rng, index, ids) for index in range(rng.randrange(0, 12))]


def _builtin() -> list[Reducer]:
    return [*issue_tracking_reducers(), *extension_reducers()]


def _exact(records: list[Record], initial: dict) -> str:
    return json.dumps(reduce_records(records, _builtin(), initial), ensure_ascii=False)


@pytest.mark.parametrize("seeds", [range(0, 200), range(200, 400)])
def test_random_sequences_reduce_as_the_exact_loop(seeds):
    for seed in seeds:
        records = _sequence(seed)
        fast = reduce_native(records, _builtin(), {"id": f"I{seed}"})
        assert json.dumps(fast, ensure_ascii=False) == _exact(records, {"id": f"I{seed}"}), seed


def test_one_reducer_set_over_many_items_matches_fresh_exact_runs():
    native = NativeReducers()
    for seed in range(400, 460):
        records = _sequence(seed)
        assert json.dumps(native.reduce(records, {"id": "I"}), ensure_ascii=False) == _exact(records, {"id": "I"})


def test_results_share_nothing_with_the_reducers_or_each_other():
    records = [*_sequence(7), Record("C1", {".type/Commented": b"", "text": b"t"})]
    reducers = _builtin()
    first = reduce_native(records, reducers, {"id": "I"})
    kept = json.dumps(first)
    assert all(not reducer.this for reducer in reducers)
    second = reduce_native(records, reducers, {"id": "I"})
    second["comments"].append("changed")
    third = reduce_native(records, reducers, {"id": "I"})
    assert json.dumps(first) == json.dumps(third) == kept
    assert json.loads(kept) == first


@pytest.mark.parametrize("last", [failing_on_x, lambda this, state, record: 42])
def test_a_failing_reducer_falls_back_to_the_exact_loop(last):
    reducers = [Reducer("counter.js", counting_reducer), *_builtin(), Reducer("last.js", last)]
    records = [Record("A", {".type/Commented": b"", "text": b"1"}), Record("B", {"x": b""}), Record("C", {})]
    expected = reduce_records(records, reducers, {"id": "I"})
    assert "errors" in expected
    assert reduce_native(iter(records), reducers, {"id": "I"}) == expected


def test_the_builtin_reducers_never_change_the_id():
    """What lets a cached state's ID go unread (``NativeReducers.keeps_id``)."""
    assert NativeReducers.keeps_id
    for seed in range(460, 560):
        records = _sequence(seed)
        assert reduce_native(records, _builtin(), {"id": "I"})["id"] == "I"
        assert reduce_records(records, _builtin(), {"id": "I"})["id"] == "I"
