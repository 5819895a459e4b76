"""The native issue-tracking port and an issue-tracking-style JavaScript module agree.

The JavaScript module in ``tests/data/issue-tracking-style`` was written from
SIT-FORMAT §5.6; on SIT's real data it gives SIT's expected states, and on a
generated repository with every record type it gives what the native port gives.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pygit2

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.jsengine import Limits
from git_sit.jsreduce import ScriptReducers, blob_id, is_issue_tracking, select_reducers
from git_sit.locate import Options, open_store
from git_sit.modules import Module, ReducerRoot
from git_sit.record import compute_id
from git_sit.reduce import NativeReducers
from tests.helpers import copy_fixture, expected_states, git, parse_blocks, sit
from tests.module_helpers import ITS_MODULE, ITS_NAMES, commit_tree, module_files, write_files

TYPES = [
    ["Commented"], ["Commented", "MergeRequested"], ["Commented", "MergeRequestVerificationSucceeded"],
    ["Commented", "MergeRequestVerificationFailed"], ["SummaryChanged"], ["DetailsChanged"],
    ["DetailsChanged", "MergeRequested"], ["MergeRequested"], ["Merged"], ["Merged", "Closed"],
    ["Commented", "Merged", "Closed"], ["Closed"], ["Reopened"], ["Closed", "Reopened"], [],
]
TEXTS = ["plain", " padded \n", "\u00a0nbsp\u2028", "\ufeffbom first", "tab\t\v", "", "ünïcödé 😀",
         "\u3000ideographic\u205f"]


def _record(rng: random.Random, prev: list[str], n: int) -> dict[str, bytes]:
    files = {f".type/{t}": b"" for t in rng.choice(TYPES)}
    if rng.random() < 0.85:
        files["text"] = rng.choice(TEXTS).encode() + (b"\xff\xfe" if rng.random() < 0.05 else b"")
    if rng.random() < 0.8:
        files[".authors"] = rng.choice([b"Ann <a@x>", b"Bob <b@x>", b""])
    if rng.random() < 0.8:
        files[".timestamp"] = f"2018-0{1 + n % 9}-0{1 + n % 7}T10:00:{n % 60:02d}.5Z".encode()
    if ".type/Merged" in files and rng.random() < 0.6:
        files["record"] = rng.choice([b"ABCDEFGH\n", b"  spaced  \n", b""])
    files.update({f".prev/{p}": b"" for p in prev})
    return files


def generated_items(count: int, seed: int = 5) -> dict[str, list[dict[str, bytes]]]:
    """Items with chains, concurrent records (same parents), cross-item and dangling links."""
    rng = random.Random(seed)
    items: dict[str, list[dict[str, bytes]]] = {}
    every: list[str] = []
    for i in range(count):
        records: list[dict[str, bytes]] = []
        ids: list[str] = []
        for n in range(rng.randrange(1, 9)):
            choice = rng.random()
            if not ids or choice < 0.1:
                prev = []
            elif choice < 0.4:
                prev = rng.sample(ids, min(len(ids), rng.randrange(1, 3)))  # siblings: generation ties
            else:
                prev = [ids[-1]]
            if every and rng.random() < 0.1:
                prev = [*prev, rng.choice(every)]  # a record of another item: ignored for ordering
            if rng.random() < 0.05:
                prev = [*prev, "DANGLINGDANGLINGDANGLINGDANGLING"]
            files = _record(rng, prev, n + i)
            records.append(files)
            ids.append(compute_id(files.items()))
        every.extend(ids)
        items[f"{i:04d}-item"] = records
    return items


def test_javascript_module_reproduces_sit_on_real_data(fixture_dir: Path, workdir: Path):
    git(workdir, "init", "-q", "-b", "main")
    copy_fixture(workdir)
    write_files(workdir, module_files(".sit/modules/issue-tracking"))
    ran = sit(workdir, "items", "-q", "@", "--reducers", "js")
    assert ran.code == 0, ran.err
    assert parse_blocks(ran.out) == expected_states()


def legacy_tree_files(items: dict[str, list[dict[str, bytes]]]) -> dict[str, bytes]:
    """Paths → bytes of a repository in the legacy layout (record directories inside items/ID/).

    It reduces exactly like flat records, with far fewer trees to write.
    """
    files = {".sit/config.json": DEFAULT_CONFIG_BYTES}
    for item_id, records in items.items():
        for record in records:
            rid = compute_id(record.items())
            files.update({f".sit/items/{item_id}/{rid}/{name}": data for name, data in record.items()})
    return files


def test_native_and_javascript_agree_on_hundreds_of_items(repo: pygit2.Repository, workdir: Path):
    files = legacy_tree_files(generated_items(300))
    files.update(module_files(".sit/modules/issue-tracking"))
    commit_tree(repo, files)
    js = open_store(str(workdir), Options(rev="HEAD", reducers="js"))
    native = open_store(str(workdir), Options(rev="HEAD", reducers="native"))
    js_states, native_states = list(js.states()), list(native.states())
    assert len(js_states) == 300
    assert js_states == native_states
    _assert_covers_every_case(native_states)


def _assert_covers_every_case(states: list[dict[str, Any]]) -> None:
    comments = [c for s in states for c in s.get("comments", [])]
    assert {c.get("merge_request_report") for c in comments} >= {None, "success", "failure"}
    assert any(len(c) == 3 for c in comments) and any(c.get("merge_request") for c in comments)
    merges = [m["record"] for s in states for m in s.get("merges", [])]
    assert "ABCDEFGH\n" in merges and "" in merges
    assert {s.get("state") for s in states} == {"open", "closed"}
    assert any(s.get("authors") == "" for s in states) and any("merge_request" in s for s in states)
    assert any("last_updated_timestamp" not in s for s in states)
    assert not any("errors" in s for s in states)


def _its_root(module: Module | None = None, change: str | None = None) -> ReducerRoot:
    files = {p.name: p.read_bytes() for p in (ITS_MODULE / "reducers").iterdir()}
    if change:
        files[change] += b"\n// changed\n"
    return ReducerRoot("modules/issue-tracking/reducers", files, ITS_NAMES, module)


def _its_blobs() -> dict[str, frozenset[str]]:
    return {p.name: frozenset({blob_id(p.read_bytes())}) for p in (ITS_MODULE / "reducers").iterdir()}


def test_issue_tracking_module_is_recognised_by_content():
    warnings: list[str] = []
    blobs = _its_blobs()
    assert is_issue_tracking(_its_root(), blobs)
    assert not is_issue_tracking(_its_root(change="State.js"), blobs)
    auto = select_reducers([_its_root()], "auto", _limits(), warnings.append, blobs)
    assert isinstance(auto, NativeReducers)
    forced = select_reducers([_its_root()], "js", _limits(), warnings.append, blobs)
    assert isinstance(forced, ScriptReducers)
    changed = select_reducers([_its_root(change="State.js")], "auto", _limits(), warnings.append, blobs)
    assert isinstance(changed, ScriptReducers)
    assert warnings == []


def test_issue_tracking_submodule_is_recognised_by_its_pinned_commit():
    pinned = Module("issue-tracking", ".sit/modules/issue-tracking", None, None,
                    "18c57211" + "0" * 32)
    other = Module("issue-tracking", ".sit/modules/issue-tracking", None, None,
                   "28c57211" + "0" * 32)
    unavailable = ReducerRoot("modules/issue-tracking/reducers", {}, (), pinned)
    assert is_issue_tracking(unavailable, {})
    assert not is_issue_tracking(ReducerRoot("modules/issue-tracking/reducers", {}, (), other), {})
    warnings: list[str] = []
    assert isinstance(select_reducers([unavailable], "auto", _limits(), warnings.append), NativeReducers)
    assert warnings == []


def test_fingerprints_follow_the_reducer_sources():
    first = ScriptReducers([_its_root()], [False], _limits())
    same = ScriptReducers([_its_root()], [False], _limits())
    changed = ScriptReducers([_its_root(change="activity.js")], [False], _limits())
    assert first.fingerprint == same.fingerprint != changed.fingerprint
    assert first.fingerprint != NativeReducers().fingerprint


def _limits() -> Limits:
    return Limits()
