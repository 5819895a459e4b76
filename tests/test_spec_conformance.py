"""Rules of SIT-FORMAT.md checked against the spec's own text (expected values never come from the code).

Record IDs here are computed with the spec's reference recipe (§2.2, copied from its
pseudocode), not with ``git_sit.record``, so a test cannot pass by agreeing with itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pygit2
import pytest

from git_sit.layout import is_id
from git_sit.locate import Options, open_store
from git_sit.record import is_record_id

NewHasher = Callable[[], Any]


def spec_record_id(files: Mapping[str, bytes], new_hasher: NewHasher) -> str:
    """SIT-FORMAT §2.2's reference pseudocode, verbatim in substance."""
    h = new_hasher()
    buf = bytearray(4096)
    for name, data in sorted(files.items(), key=lambda f: f[0].encode("utf-8")):
        h.update(name.encode("utf-8"))
        for off in range(0, len(data), 4096):
            chunk = data[off:off + 4096]
            buf[:len(chunk)] = chunk
            h.update(bytes(buf))
        h.update(bytes(buf))
    return base64.b32encode(h.digest()).decode().replace("=", "-")


def spec_split_path(record_id: str) -> str:
    """§3.1: 2-character chunks, the last one dropped, then the whole ID."""
    chunks = [record_id[i:i + 2] for i in range(0, len(record_id), 2)]
    return "/".join([*chunks[:-1], record_id])


def blake2b(size: int) -> NewHasher:
    return lambda: hashlib.blake2b(digest_size=size)


# §1.3: blake2b sizes 1–64 are all valid; IDs of sizes that are not a multiple of 5 carry
# '-' padding (§1.4, §9.15). Sizes 16–19 give 32-character IDs *with* padding, the same
# length as the usual unpadded 20-byte ID.
DIGEST_SIZES = [1, 5, 7, 15, 16, 17, 18, 19, 20, 21, 32, 64]


@pytest.mark.parametrize(("size", "length", "padding"), [
    (16, 32, 6), (17, 32, 4), (18, 32, 3), (19, 32, 1), (20, 32, 0), (1, 8, 6), (64, 104, 1),
])
def test_padded_ids_are_record_ids(size, length, padding):
    record_id = spec_record_id({"text": b"hello"}, blake2b(size))
    assert (len(record_id), record_id.count("-")) == (length, padding)
    assert is_record_id(record_id)
    assert is_id(record_id)  # the layout's item-entry test must agree with §1.4's decoding


@pytest.mark.parametrize("size", DIGEST_SIZES)
@pytest.mark.parametrize("source", ["disk", "git"])
def test_items_read_records_of_every_digest_size(size, source, repo: pygit2.Repository, workdir: Path):
    """§1.3/§3.1/§3.3: with hashing_algorithm blake2b {size: N}, an item's link names its record."""
    config = {"hashing_algorithm": {"blake2b": {"size": size}}, "encoding": "base32",
              "id_generator": "uuiv4", "version": "1", "features": ["flat-records"]}
    record = {".type/Closed": b"", ".timestamp": b"2020-01-01T00:00:00Z"}
    record_id = spec_record_id(record, blake2b(size))
    split = spec_split_path(record_id)
    files = {".sit/config.json": json.dumps(config).encode(),
             f".sit/items/item-1/{record_id}": f"../../records/{split}".encode()}
    files.update({f".sit/records/{split}/{name}": data for name, data in record.items()})
    warnings: list[str] = []
    if source == "git":
        index = pygit2.Index()
        for path, data in files.items():
            index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
        sig = pygit2.Signature("T", "t@example.com", 0, 0)
        repo.create_commit("HEAD", sig, sig, "m", index.write_tree(repo), [])
        store = open_store(str(workdir), Options("HEAD", warn=warnings.append))
    else:
        for path, data in files.items():
            os.makedirs(os.path.dirname(workdir / path), exist_ok=True)
            (workdir / path).write_bytes(data)
        store = open_store(str(workdir), Options(None, warn=warnings.append))
    assert [r.id for r in store.item_records("item-1")] == [record_id]
    assert store.reduce("item-1")["state"] == "closed"
    assert [r.id for r in store.repository_records()[0]] == [record_id]
    assert warnings == []


def _commit(repo: pygit2.Repository, files: Mapping[str, bytes]) -> None:
    index = pygit2.Index()
    for path, data in files.items():
        index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
    sig = pygit2.Signature("T", "t@example.com", 0, 0)
    repo.create_commit("HEAD", sig, sig, "m", index.write_tree(repo), [])


DEFAULT_CONFIG = (b'{\n  "hashing_algorithm": {\n    "blake2b": {\n      "size": 20\n    }\n  },\n'
                  b'  "encoding": "base32",\n  "id_generator": "uuiv4",\n  "version": "1",\n'
                  b'  "features": [\n    "flat-records"\n  ]\n}')


@pytest.mark.parametrize("where", ["canonical", "misplaced"])
def test_record_link_file_under_records_is_reported(where, repo: pygit2.Repository, workdir: Path):
    """§3.1/§9.14: SIT's walk of records/ accepts link files there; git-sit should report them.

    The link file stands where a record directory would be; the record it points to is
    stored under another (misplaced) directory name. Neither is a canonically placed record.
    """
    record = {".type/Closed": b""}
    record_id = spec_record_id(record, blake2b(20))
    split = spec_split_path(record_id)
    link_at = f".sit/records/{split}" if where == "canonical" else f".sit/records/AA/{record_id}"
    files = {".sit/config.json": DEFAULT_CONFIG, link_at: f"../../../elsewhere/{record_id}".encode()}
    files.update({f".sit/elsewhere/{record_id}/{n}": d for n, d in record.items()})
    _commit(repo, files)
    warnings: list[str] = []
    store = open_store(str(workdir), Options("HEAD", warn=warnings.append))
    records, _ = store.repository_records()
    assert records == []
    assert len(warnings) == 1 and record_id in warnings[0] and "not a directory" in warnings[0], warnings


# --- §5.4: a reducer returning undefined makes every later reducer of the record get (state, state) ---

ITS_STYLE = Path(__file__).resolve().parent / "data" / "issue-tracking-style" / "reducers"
ITS_LABEL = "modules/issue-tracking/reducers"


def _reducer_sets(local: str | None, after: str | None) -> list[Any]:
    """The same reducer roots run twice: the issue-tracking root as JavaScript, then as the native port."""
    from git_sit.jsengine import Limits
    from git_sit.jsreduce import ScriptReducers
    from git_sit.modules import ReducerRoot

    its_files = {p.name: p.read_bytes() for p in ITS_STYLE.glob("*.js")}
    roots = []
    if local is not None:
        roots.append(ReducerRoot("reducers", {"local.js": local.encode()}, ("local.js",)))
    roots.append(ReducerRoot(ITS_LABEL, its_files, tuple(sorted(its_files))))
    if after is not None:
        roots.append(ReducerRoot("modules/zz/reducers", {"after.js": after.encode()}, ("after.js",)))
    its = len(roots) - (2 if after is not None else 1)
    limits = Limits(time=1.0, memory=64 * 1024 * 1024)
    return [ScriptReducers(roots, [i == its and native for i in range(len(roots))], limits)
            for native in (False, True)]


def _rec(record_id: str, **files: bytes) -> Any:
    from git_sit.record import Record

    return Record(record_id, {name.replace("_", "."): data for name, data in files.items()})


def test_undefined_before_the_issue_tracking_reducers_hides_the_record_from_them():
    """A local reducer mutates and returns nothing on R1: the module's reducers then get (state, state),
    find no ``record.files`` and throw; the record's changes are dropped with an ``errors`` entry (§5.4)."""
    local = "module.exports = function (state, record) { if (record.files.x) { state.touched = 1; return; } return state; };"
    records = [_rec("R1", x=b"", _timestamp=b"T1"), _rec("R2", text=b"Hi", **{"_type/SummaryChanged": b""})]
    expected = {"id": "i", "errors": [{"file": f"{ITS_LABEL}/Commented.js",
                                       "error": "TypeError: cannot read property '.type/Merged' of undefined"}],
                "state": "open", "authors": "", "summary": "Hi", "timestamp": ""}
    js, native = _reducer_sets(local, None)
    assert js.reduce(records, {"id": "i"}) == expected
    assert native.reduce(records, {"id": "i"}) == expected


def test_undefined_from_activity_hides_the_record_from_later_modules():
    """activity.js returns undefined for a record without .timestamp; a later module's reducer then
    gets the state as its record (§5.4), for that record only."""
    after = "module.exports = function (state, record) { state.seen = state.seen || []; state.seen.push(state === record); return state; };"
    records = [_rec("R1", **{"_type/Closed": b""}), _rec("R2", _timestamp=b"T2")]
    js, native = _reducer_sets(None, after)
    expected = {"id": "i", "state": "closed", "seen": [True, False], "last_updated_timestamp": "T2"}
    assert js.reduce(records, {"id": "i"}) == expected
    assert native.reduce(records, {"id": "i"}) == expected


# --- §5.6: "first truthy wins" is JavaScript truthiness ("", undefined, null, 0 and false are falsy) ---

@pytest.mark.parametrize(("before", "kept", "comment"), [
    ("", False, "Merged"), (None, False, "Merged"), (0, False, "Merged"), (False, False, "Merged"),
    ("A", True, "Merged A"), ([], True, "Merged"), ({}, True, "Merged [object Object]"),
    ("0", True, "Merged 0"), (1, True, "Merged 1"), (True, True, "Merged true"),
    ([1, None, "x"], True, "Merged 1,,x"), (2.5, True, "Merged 2.5"),
])
def test_first_truthy_is_javascript_truthiness(before, kept, comment):
    """A state's authors/timestamp (set by another reducer) survive iff JavaScript finds them truthy;
    so does state.merge_request for a Merged record without a ``record`` file."""
    from git_sit.record import Record
    from git_sit.reduce import Reducer, issue_tracking_reducers, reduce_records

    def preset(this: dict[str, Any], state: dict[str, Any], record: Record) -> dict[str, Any]:
        if record.id == "R0":
            state.update(authors=before, timestamp=before, merge_request=before)
        return state

    records = [Record("R0", {}), Record("R1", {".type/SummaryChanged": b"", ".authors": b"A <a>",
                                               ".timestamp": b"T", "text": b"S"}),
               Record("R2", {".type/Merged": b""})]
    state = reduce_records(records, [Reducer("preset.js", preset), *issue_tracking_reducers()], {"id": "I"})
    expected = before if kept else None
    assert (state["authors"], state["timestamp"]) == ((expected, expected) if kept else ("A <a>", "T"))
    assert state["merges"] == [{"hash": "R2", "record": before if kept else ""}]
    assert state["comments"] == [{"text": comment, "authors": "", "timestamp": ""}]  # T("Merged " + M)


# --- §7.1: -i, "also env SIT_DISABLE_INTEGRITY_CHECK set to anything" ---

@pytest.mark.parametrize(("value", "disabled"), [
    (None, False), ("1", True), ("anything", True), ("0", True), ("false", True), ("", True),
])
def test_disable_integrity_check_env_set_to_anything(value, disabled, workdir: Path):
    from tests.helpers import git, sit

    assert sit(workdir, "init").code == 0
    item = sit(workdir, "item").out.strip()
    (workdir / "text").write_text("Title\n")
    record_id = sit(workdir, "record", "-t", "SummaryChanged", item, "text").out.strip()
    (workdir / ".sit" / "records" / spec_split_path(record_id) / "text").write_text("Tampered\n")
    git(workdir, "add", "-A")
    env = {} if value is None else {"SIT_DISABLE_INTEGRITY_CHECK": value}
    run = sit(workdir, "--no-cache", "reduce", item, "-q", "summary", env=env)
    assert run.code == 0, run.err
    assert run.out == ("Tampered\n" if disabled else "null\n")


# --- rules that held already, pinned with the spec's own examples ---

def test_hash_order_is_utf8_byte_order_of_full_paths():
    """§2.1's example order, plus '.' (0x2E) before '/' (0x2F) and non-ASCII/astral names by bytes."""
    from git_sit.record import compute_id

    names = [".authors", ".prev/X", ".signature", ".timestamp", ".type/A", "git/0001-x.patch", "text",
             "a.b", "a/b", "a0", "z", "é", "\uffff", "\U00010000"]
    assert sorted(names[:7], key=lambda n: n.encode("utf-8")) == names[:7]
    files = {name: name.encode("utf-8") * 300 for name in names}  # several cross 4096 bytes
    for order in (names, names[::-1]):
        assert compute_id([(n, files[n]) for n in order]) == spec_record_id(files, blake2b(20))


@pytest.mark.parametrize("size", [1, 16, 19, 20, 64])
def test_link_content_of_any_id_length(size):
    """§3.1: ``../../records/`` + split_path(ID), no newline, for padded IDs too."""
    from git_sit.record import link_content, split_path

    record_id = spec_record_id({"text": b"hello"}, blake2b(size))
    assert split_path(record_id) == spec_split_path(record_id)
    assert link_content(record_id) == f"../../records/{spec_split_path(record_id)}".encode()


def test_pretty_output_sorts_keys_by_byte_order():
    """§5.5: keys sorted by (UTF-8) byte order: U+FFFF before U+10000 (UTF-16 order would swap them)."""
    from git_sit.query import render

    assert render({"\U00010000": 1, "\uffff": 2, "b": "é", "a": None}) == (
        '{\n  "a": null,\n  "b": "é",\n  "\uffff": 2,\n  "\U00010000": 1\n}')
