"""The §8.3 rule-4 checks, table-driven over dict-backed snapshots (no git)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping

import pytest

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.inbox import (
    MODE_EXECUTABLE,
    MODE_FILE,
    MODE_SUBMODULE,
    MODE_SYMLINK,
    MODE_TREE,
    Budget,
    Change,
    Entry,
    Rules,
    Verdict,
    Violation,
    check_commit,
    check_tip,
    file_change,
    repo_of,
)
from git_sit.record import compute_id, split_path
from tests.helpers import record_files

Files = Mapping[str, "bytes | tuple[int, bytes]"]

# Spec §2.4 vectors: `.type/SummaryChanged` = "", `text` = "Title"; and `test` = "hello".
R1 = "OU6DLR5CV5V3RD62QIG5GXKWTQIWPHPR"
R1_FILES = {".type/SummaryChanged": b"", "text": b"Title"}
HELLO = "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"
ITEM = "11111111-1111-4111-8111-111111111111"
NEW_ITEM = "2a2b2c2d-2222-4222-8222-22222222222e"
OLD_ITEM = "legacy-name"
LEGACY_CONFIG = b'{"hashing_algorithm": {"blake2b": {"size": 20}}, "encoding": "base32", ' \
                b'"id_generator": "uuiv4", "version": "1"}'

NEW = record_files(types=["Commented"], text="A comment\n", authors="A <a@example.com>",
                   timestamp="2026-01-02T03:04:05.000Z")
NEW_ID = compute_id(NEW.items())
OTHER = record_files(types=["Closed"], text="closing\n")
OTHER_ID = compute_id(OTHER.items())


def oid(mode: int, data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # like git: a blob's ID does not depend on its mode


class DictSnapshot:
    """A tree as a dict of paths → bytes (mode 100644) or (mode, bytes)."""

    def __init__(self, files: Files) -> None:
        self.blobs: dict[str, tuple[int, bytes]] = {
            path: value if isinstance(value, tuple) else (MODE_FILE, value) for path, value in files.items()
        }
        self.by_oid = {oid(m, d): d for m, d in self.blobs.values()}

    def entry(self, path: str) -> Entry | None:
        if path in self.blobs:
            mode, data = self.blobs[path]
            return Entry(mode, oid(mode, data))
        below = sorted((p, v) for p, v in self.blobs.items() if p.startswith(path + "/"))
        return Entry(MODE_TREE, hashlib.sha1(repr(below).encode()).hexdigest()) if below else None

    def files(self, path: str) -> list[tuple[str, Entry]]:
        result = []
        for full in sorted(self.blobs):
            if full.startswith(path + "/"):
                entry = self.entry(full)
                assert entry is not None
                result.append((full[len(path) + 1:], entry))
        return result

    def read(self, entry: Entry) -> bytes:
        return self.by_oid[entry.oid]

    def size(self, entry: Entry) -> int:
        return len(self.by_oid[entry.oid])


def diff(parent: DictSnapshot, commit: DictSnapshot) -> list[Change]:
    changes = []
    for path in sorted(set(parent.blobs) | set(commit.blobs)):
        old = parent.entry(path) if path in parent.blobs else None
        new = commit.entry(path) if path in commit.blobs else None
        if old != new:
            changes.append(Change(path, old, new))
    return changes


def record_at(record: Mapping[str, bytes], path: str) -> dict[str, bytes]:
    return {f"{path}/{name}": data for name, data in record.items()}


def flat(record: Mapping[str, bytes], rid: str | None = None, sit: str = ".sit") -> dict[str, bytes]:
    rid = rid or compute_id(record.items())
    return record_at(record, f"{sit}/records/{split_path(rid)}")


def link(item: str, rid: str, sit: str = ".sit", content: bytes | None = None) -> dict[str, bytes]:
    return {f"{sit}/items/{item}/{rid}": content if content is not None else
            f"../../records/{split_path(rid)}".encode()}


BASE: dict[str, bytes | tuple[int, bytes]] = {
    "README": b"project\n",
    ".sit/config.json": DEFAULT_CONFIG_BYTES,
    **flat(R1_FILES, R1),
    **link(ITEM, R1),
    **link(OLD_ITEM, R1),
}
R1_DIR = f".sit/records/{split_path(R1)}"
NEW_DIR = f".sit/records/{split_path(NEW_ID)}"


DEFAULT_RULES = Rules()


def judge(added: Files, removed: tuple[str, ...] = (), base: Files = BASE, rules: Rules = DEFAULT_RULES):
    commit_files = {**base, **added}
    for path in removed:
        del commit_files[path]
    parent, commit = DictSnapshot(base), DictSnapshot(commit_files)
    return check_commit(parent, commit, diff(parent, commit), rules)


ACCEPTED: dict[str, Files] = {
    "new record in a new item": {**flat(NEW), **link(NEW_ITEM, NEW_ID)},
    "new record in an existing item": {**flat(NEW), **link(ITEM, NEW_ID)},
    "existing item with a non-UUID name": {**flat(NEW), **link(OLD_ITEM, NEW_ID)},
    "new link to an existing record": link(NEW_ITEM, R1),
    "record in no item": flat(NEW),
    "two records": {**flat(NEW), **flat(OTHER), **link(NEW_ITEM, NEW_ID), **link(NEW_ITEM, OTHER_ID)},
    "spec vector with a subfolder": {**flat({"test": b"\x01", "z/a": b"\x02", ".type/X": b""})},
    "nothing": {},
}


@pytest.mark.parametrize("added", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted(added):
    verdict = judge(added)
    assert verdict.violations == ()


def test_new_records_are_counted():
    added = {**flat(NEW), **flat(OTHER), **link(NEW_ITEM, NEW_ID), **link(NEW_ITEM, R1)}
    assert judge(added).records == {NEW_ID, OTHER_ID}


def bad(record: Mapping[str, bytes], name: str, value: bytes | tuple[int, bytes]) -> dict:
    """``record`` placed under its own ID, with one file replaced or added."""
    files: dict[str, bytes | tuple[int, bytes]] = dict(flat(record, compute_id(record.items())))
    files[f".sit/records/{split_path(compute_id(record.items()))}/{name}"] = value
    return files


NEW_RECORD_DIR = NEW_DIR
# Every rejected case: (added files, removed paths, [(path, reason fragment)]).
REJECTED: dict[str, tuple[Files, tuple[str, ...], list[tuple[str, str]]]] = {
    "modified record file": ({f"{R1_DIR}/text": b"Changed"}, (), [(f"{R1_DIR}/text", "modified")]),
    "deleted record file": ({}, (f"{R1_DIR}/text",), [(f"{R1_DIR}/text", "deleted")]),
    "deleted link": ({}, (f".sit/items/{ITEM}/{R1}",), [(f".sit/items/{ITEM}/{R1}", "deleted")]),
    "mode changed": ({f"{R1_DIR}/text": (MODE_EXECUTABLE, b"Title")}, (),
                     [(f"{R1_DIR}/text", "mode changed from 100644 to 100755")]),
    "renamed": ({"README.rst": b"project\n"}, ("README",),
                [("README", "deleted"), ("README.rst", "outside the SIT repositories (.sit)")]),
    "modified config": ({".sit/config.json": b"{}"}, (), [(".sit/config.json", "modified")]),
    "file added to an existing record": ({f"{R1_DIR}/.type/Extra": b""}, (),
                                         [(f"{R1_DIR}/.type/Extra", "file added to an existing record")]),
    "outside .sit": ({"src/x.py": b""}, (), [("src/x.py", "outside the SIT repositories")]),
    "other .sit content": ({".sit/reducers/x.js": b""}, (),
                           [(".sit/reducers/x.js", "outside .sit/records and .sit/items")]),
    "new .sit file": ({".sit/extra": b""}, (), [(".sit/extra", "outside .sit/records and .sit/items")]),
    "prefix look-alike dir": ({f".sit/itemsX/{NEW_ITEM}/{R1}": b""}, (),
                              [(f".sit/itemsX/{NEW_ITEM}/{R1}", "outside .sit/records and .sit/items")]),
    "prefix look-alike repo": ({".sitX/records/a": b""}, (), [(".sitX/records/a", "outside the SIT")]),
    "legacy issues dir": ({f".sit/issues/{NEW_ITEM}/{R1}": b""}, (), [(f".sit/issues/{NEW_ITEM}/{R1}",
                                                                       "outside")]),
    "symlink in a record": (bad(NEW, "link", (MODE_SYMLINK, b"text")), (),
                            [(f"{NEW_DIR}/link", "a symlink; record files must be regular files")]),
    "submodule in a record": (bad(NEW, "sub", (MODE_SUBMODULE, b"")), (),
                              [(f"{NEW_DIR}/sub", "a submodule; record files")]),
    "executable in a record": (bad(NEW, "text", (MODE_EXECUTABLE, b"A comment\n")), (),
                               [(f"{NEW_DIR}/text", "an executable file; record files")]),
    "wrong hash": (bad(NEW, "text", b"tampered\n"), (), [(NEW_DIR, "record content hashes to")]),
    "extra file changes the hash": (bad(NEW, "more", b"x"), (), [(NEW_DIR, "hashes to")]),
    "no .type": (flat({"test": b"hello"}), (),
                 [(f".sit/records/{split_path(HELLO)}", "record has no .type/* file")]),
    "split dirs do not match": (record_at(NEW, f".sit/records/{split_path(R1)[:-32]}{NEW_ID}"), (),
                                [(f".sit/records/{split_path(R1)[:-32]}{NEW_ID}", "split directories")]),
    "record too shallow": (record_at(NEW, f".sit/records/{NEW_ID}"), (),
                           [(f".sit/records/{NEW_ID}", "not inside a record directory")]),
    "record dir not an ID": (record_at(NEW, f".sit/records/{split_path(NEW_ID)[:-32]}{NEW_ID.lower()}"), (),
                             [(f".sit/records/{split_path(NEW_ID)[:-32]}{NEW_ID.lower()}",
                               "is not a record ID")]),
    "non-UTF-8 name": (bad(NEW, "caf\udce9", b""), (), [(f"{NEW_DIR}/caf\udce9", "not valid UTF-8")]),
    "backslash in name": (bad(NEW, "a\\b", b""), (), [(f"{NEW_DIR}/a\\b", "contains '\\'")]),
    "link with a newline": ({**link(NEW_ITEM, R1, content=f"../../records/{split_path(R1)}\n".encode())}, (),
                            [(f".sit/items/{NEW_ITEM}/{R1}", "link content must be exactly ../../records/")]),
    "link with backslashes": ({**link(NEW_ITEM, R1, content=f"..\\..\\records\\{R1}".encode())}, (),
                              [(f".sit/items/{NEW_ITEM}/{R1}", "link content must be exactly")]),
    "link to a missing record": (link(NEW_ITEM, NEW_ID), (),
                                 [(f".sit/items/{NEW_ITEM}/{NEW_ID}", "missing or does not verify")]),
    "link named not an ID": (link(NEW_ITEM, "not-an-id"), (),
                             [(f".sit/items/{NEW_ITEM}/not-an-id", "is not a record ID")]),
    "link in a non-UUID new item": ({**flat(NEW), **link("My-Item", NEW_ID)}, (),
                                    [(f".sit/items/My-Item/{NEW_ID}", "does not match the item-ID pattern")]),
    "link in an upper-case UUID item": (link(NEW_ITEM.upper(), R1), (),
                                        [(f".sit/items/{NEW_ITEM.upper()}/{R1}", "item-ID pattern")]),
    "link as a symlink": ({f".sit/items/{NEW_ITEM}/{R1}": (MODE_SYMLINK, f"../../records/{R1}".encode())},
                          (), [(f".sit/items/{NEW_ITEM}/{R1}", "a symlink; link files must be regular")]),
    "file as an item": ({f".sit/items/{NEW_ITEM}": b""}, (),
                        [(f".sit/items/{NEW_ITEM}", "not a record link")]),
    "legacy record dir in a flat repository": (record_at(NEW, f".sit/items/{NEW_ITEM}/{NEW_ID}"), (),
                                               [(f".sit/items/{NEW_ITEM}/{NEW_ID}", "belong in")]),
    "link to a new record that is rejected": ({**bad(NEW, "text", b"x"), **link(NEW_ITEM, NEW_ID)}, (),
                                              [(NEW_DIR, "hashes to")]),
}

# What each rejection tells the pusher to do, after what is wrong (one line each).
FIX = {
    "restore": ": restore it as the server's branch has it",
    "outside": "; this inbox takes only new records: push other changes elsewhere",
    "git-sit": "; let git-sit write records (git sit record, git sit issue), which places and names them",
    "blob": "; make it smaller, or ask the inbox's operator to raise sit.inbox.maxBlobSize",
    "record": "; make it smaller, or ask the inbox's operator to raise sit.inbox.maxRecordSize",
    "no .type": "; give it one or more types (git sit record -t TYPE)",
    "hash": "; were its files changed after it was written (line endings? add '.sit/** -text' to .gitattributes)",
    "split": "; move the record there",
    "existing record": "; records never change: write a new record instead",
    "rename": "; rename it",
    "link": "; push a valid record there with the link",
    "item ID": "; 'git sit item' makes one",
    "regular": "must be regular files (mode 100644)",  # already says what to do
    "link content": "link content must be exactly ../../records/",  # so does this
}
# The reason's start (what greps find) and what it must end with.
FIXES = [
    ("deleted; existing files may not be removed", FIX["restore"]),
    ("modified; existing files may not change", FIX["restore"]),
    ("mode changed from ", FIX["restore"]),
    ("outside ", FIX["outside"]),
    ("not inside a record directory", FIX["git-sit"]),
    ("is not a record ID of this repository", FIX["git-sit"]),
    ("record directories belong in", FIX["git-sit"]),
    ("not a record link", FIX["git-sit"]),
    ("record has no .type/* file", FIX["no .type"]),
    ("record content hashes to", FIX["hash"]),
    ("split directories do not match the record ID", FIX["split"]),
    ("file added to an existing record", FIX["existing record"]),
    ("file name is not valid UTF-8", FIX["rename"]),
    ("file name contains '\\' or is not normalised", FIX["rename"]),
    ("which is missing or does not verify", FIX["link"]),
    ("does not match the item-ID pattern", FIX["item ID"]),
    ("; record files must be regular files", FIX["regular"]),
    ("; link files must be regular files", FIX["regular"]),
    ("link content must be exactly", FIX["link content"]),
]


@pytest.mark.parametrize("case", REJECTED.values(), ids=REJECTED.keys())
def test_every_rejection_says_what_to_do(case):
    # They said only what was wrong ("modified; existing files may not change").
    added, removed, _ = case
    for violation in judge(added, removed).violations:
        reason = violation.reason
        fixes = [fix for start, fix in FIXES if start in reason]
        assert fixes and "\n" not in reason, reason
        for fix in fixes:  # a hint ends the reason; the two that say what to do already are in it
            assert reason.endswith(fix) if fix[0] in ";:" else fix in reason, (reason, fix)


def test_custom_item_pattern_is_not_told_to_use_uuids():
    rules = Rules(item_pattern=re.compile(r"[a-z]+"))
    assert [v.reason for v in judge(link("A1", R1), rules=rules).violations] == [
        "item ID 'A1' does not match the item-ID pattern '[a-z]+'; give the new item an ID that does"]


@pytest.mark.parametrize("case", REJECTED.values(), ids=REJECTED.keys())
def test_rejected(case):
    added, removed, expected = case
    violations = judge(added, removed).violations
    assert len(violations) >= 1
    found = {(v.path, v.reason) for v in violations}

    def under(p: str, path: str) -> bool:
        return p == path or p.startswith(path + "/")

    for path, fragment in expected:
        assert any(under(p, path) and fragment in r for p, r in found), (path, fragment, found)
    for p, r in found:
        assert any(under(p, path) for path, _ in expected), (p, r)


def test_each_file_added_to_an_existing_record_is_reported():
    added = {f"{R1_DIR}/a": b"", f"{R1_DIR}/b": b""}
    assert [v.path for v in judge(added).violations] == [f"{R1_DIR}/a", f"{R1_DIR}/b"]


def test_link_to_an_existing_record_that_does_not_verify():
    base = {**BASE, f"{R1_DIR}/text": b"corrupted on the server"}
    violations = judge(link(NEW_ITEM, R1), base=base).violations
    assert [(v.path, "does not verify" in v.reason) for v in violations] == [
        (f".sit/items/{NEW_ITEM}/{R1}", True)]


def test_hash_uses_the_parents_config():
    sha1_config = b'{"hashing_algorithm": "sha1", "encoding": "base32", "id_generator": "uuiv4", ' \
                  b'"version": "1", "features": ["flat-records"]}'
    base = {".sit/config.json": sha1_config}
    record = {"test": b"hello", ".type/X": b""}
    blake = compute_id(record.items())
    violations = judge(flat(record, blake), base=base).violations
    assert [v.reason for v in violations] and "hashes to" in violations[0].reason
    # Spec §2.4: `test` = `hello` under sha1 is HI6ZIBPLSDVLIJORGNF3EQ4UB4YFW6CS (no .type, so add one).
    only_test = judge(flat({"test": b"hello"}, "HI6ZIBPLSDVLIJORGNF3EQ4UB4YFW6CS"), base=base).violations
    assert [v.reason for v in only_test] == [f"record has no .type/* file{FIX['no .type']}"]


def test_blob_limit():
    rules = Rules(max_blob=100)  # a link file is 91 bytes
    big = record_files(types=["Commented"], text="x" * 101)
    violations = judge({**flat(big), **link(NEW_ITEM, compute_id(big.items()))}, rules=rules).violations
    assert [(v.path.rsplit("/", 1)[-1], v.reason) for v in violations] == [
        ("text", f"blob of 101 bytes is larger than the limit of 100 bytes{FIX['blob']}")]
    assert judge({**flat(big)}, rules=Rules(max_blob=101)).violations == ()


class CountingSnapshot(DictSnapshot):
    """A ``DictSnapshot`` that counts the blobs read, by ID."""

    def __init__(self, files: Files) -> None:
        super().__init__(files)
        self.reads: Counter[str] = Counter()

    def read(self, entry: Entry) -> bytes:
        self.reads[entry.oid] += 1
        return super().read(entry)


def judge_reads(added: Files, base: Files = BASE, rules: Rules = DEFAULT_RULES) -> tuple[list[str], Counter[str]]:
    parent, commit = DictSnapshot(base), CountingSnapshot({**base, **added})
    verdict = check_commit(parent, commit, diff(parent, commit), rules)
    return [str(v) for v in verdict.violations], commit.reads


SHARED = b"\0" * 1000
MANY_NAMES = {**NEW, **{f"copy/{n:02}": SHARED for n in range(50)}}  # one blob under 50 names
MANY_ID = compute_id(MANY_NAMES.items())
MANY_DIR = f".sit/records/{split_path(MANY_ID)}"
MANY_SIZE = sum(len(data) for data in MANY_NAMES.values())


def test_record_size_limit_is_checked_before_reading():
    violations, reads = judge_reads(flat(MANY_NAMES), rules=Rules(max_record_size=MANY_SIZE - 1))
    assert violations == [f"{MANY_DIR}: record of {MANY_SIZE} bytes is larger than the limit of "
                          f"{MANY_SIZE - 1} bytes{FIX['record']}"]
    assert reads == Counter()


def test_a_blob_is_read_once_per_record():
    violations, reads = judge_reads(flat(MANY_NAMES), rules=Rules(max_record_size=MANY_SIZE))
    assert violations == []
    assert reads[oid(MODE_FILE, SHARED)] == 1
    assert set(reads.values()) == {1}


def test_link_to_an_existing_record_over_the_size_limit():
    # Say an earlier commit of the push added the record, and was rejected for its size.
    violations, reads = judge_reads(link(NEW_ITEM, MANY_ID), base={**BASE, **flat(MANY_NAMES)},
                                    rules=Rules(max_record_size=MANY_SIZE - 1))
    assert violations == [f".sit/items/{NEW_ITEM}/{MANY_ID}: links to {MANY_DIR}, a record of {MANY_SIZE} "
                          f"bytes, larger than the limit of {MANY_SIZE - 1} bytes{FIX['link']}"]
    assert list(reads) == [oid(MODE_FILE, link(NEW_ITEM, MANY_ID)[f".sit/items/{NEW_ITEM}/{MANY_ID}"])]
    assert judge_reads(link(NEW_ITEM, MANY_ID), base={**BASE, **flat(MANY_NAMES)})[0] == []


@pytest.mark.parametrize("content", [b"x" * 1_000_000, b"", f"../../records/{split_path(R1)}\n".encode()],
                         ids=["large", "empty", "one-byte-more"])
def test_a_link_file_of_the_wrong_size_is_not_read(content):
    violations, reads = judge_reads(link(NEW_ITEM, R1, content=content))
    assert [v.split(": ", 1)[1] for v in violations] == [
        f"link content must be exactly ../../records/{split_path(R1)}"]
    assert reads == Counter()


# --- the push's budget of record bytes (sit.inbox.maxPushSize) ---

@pytest.mark.parametrize(("limit", "sizes", "taken", "used"), [
    (10, [], [], 0),
    (10, [4, 6], [True, True], 10),  # exactly the limit is allowed
    (10, [4, 7, 1], [True, False, False], 4),  # once over, nothing more, not even what would fit
    (10, [11, 1], [False, False], 0),
    (10, [0, 0], [True, True], 0),
])
def test_budget(limit, sizes, taken, used):
    budget = Budget(limit)
    assert [budget.take(size) for size in sizes] == taken
    assert budget.used == used
    assert budget.exceeded is (False in taken)


def unique_size(files: Mapping[str, bytes]) -> int:
    """The bytes of a record's distinct blobs: what reading it takes."""
    return sum(len(data) for data in set(files.values()))


def judge_budget(added: Files, budget: Budget) -> tuple[Verdict, Counter[str]]:
    parent, commit = DictSnapshot(BASE), CountingSnapshot({**BASE, **added})
    return check_commit(parent, commit, diff(parent, commit), DEFAULT_RULES, budget=budget), commit.reads


# (added, the budget's limit, the records accepted, whether the budget ran out)
BUDGETS: dict[str, tuple[Files, int, set[str], bool]] = {
    "enough": (flat(NEW), unique_size(NEW), {NEW_ID}, False),
    "one byte short": (flat(NEW), unique_size(NEW) - 1, set(), True),
    "a shared blob is paid for once": (flat(MANY_NAMES), unique_size(MANY_NAMES), {MANY_ID}, False),
    "shared, one byte short": (flat(MANY_NAMES), unique_size(MANY_NAMES) - 1, set(), True),
    "a link to an existing record pays for checking it": (link(NEW_ITEM, R1), unique_size(R1_FILES), set(), False),
    "a link, one byte short": (link(NEW_ITEM, R1), unique_size(R1_FILES) - 1, set(), True),
    "a record and its link": ({**flat(NEW), **link(NEW_ITEM, NEW_ID)}, unique_size(NEW), {NEW_ID}, False),
}


@pytest.mark.parametrize("case", BUDGETS.values(), ids=BUDGETS.keys())
def test_budget_of_a_commit(case):
    added, limit, records, exceeded = case
    budget = Budget(limit)
    verdict, reads = judge_budget(added, budget)
    # What the budget cannot pay for is left unjudged, neither accepted nor reported:
    # the caller refuses the push once the budget is exceeded.
    assert verdict.violations == ()
    assert verdict.records == records
    assert (budget.exceeded, budget.used) == (exceeded, 0 if exceeded else limit)
    links = {oid(MODE_FILE, data) for path, data in added.items() if "/items/" in path}
    if exceeded:
        assert set(reads) <= links  # no record blob was read


def test_one_budget_over_the_commits_of_a_push():
    small = {"test": b"hello", ".type/X": b""}
    budget = Budget(unique_size(NEW) + unique_size(OTHER) - 1)
    first, _ = judge_budget(flat(NEW), budget)
    second, second_reads = judge_budget(flat(OTHER), budget)
    assert (first.records, second.records, budget.exceeded) == ({NEW_ID}, frozenset(), True)
    third, third_reads = judge_budget(flat(small), budget)  # it would fit, but the push is over
    assert third.records == frozenset() and third.violations == ()
    assert second_reads == third_reads == Counter()


@pytest.mark.parametrize("base", [
    {"README": b""},
    {".sit/config.json": b"not json"},
    {".sit/config.json": b'{"hashing_algorithm": "md5"}'},
], ids=["missing", "not JSON", "unknown hash"])
def test_no_usable_config_in_the_parent(base):
    violations = judge({**flat(NEW), **link(NEW_ITEM, NEW_ID)}, base=base).violations
    assert violations
    assert all("no valid SIT repository here in the parent commit (.sit/config.json)" in v.reason
               for v in violations)


LEGACY_BASE: dict[str, bytes | tuple[int, bytes]] = {
    ".sit/config.json": LEGACY_CONFIG,
    **record_at(R1_FILES, f".sit/items/{ITEM}/{R1}"),
}


@pytest.mark.parametrize(("added", "expected"), [
    (record_at(NEW, f".sit/items/{NEW_ITEM}/{NEW_ID}"), []),
    (record_at(NEW, f".sit/items/{ITEM}/{NEW_ID}"), []),
    (record_at(NEW, f".sit/items/Bad-Item/{NEW_ID}"), [(f".sit/items/Bad-Item/{NEW_ID}", "item-ID pattern")]),
    (record_at(OTHER, f".sit/items/{NEW_ITEM}/{NEW_ID}"), [(f".sit/items/{NEW_ITEM}/{NEW_ID}", "hashes to")]),
    ({f".sit/items/{ITEM}/{R1}/more": b""}, [(f".sit/items/{ITEM}/{R1}/more", "existing record")]),
    ({f".sit/items/{ITEM}/{R1}/text": b"x"}, [(f".sit/items/{ITEM}/{R1}/text", "modified")]),
], ids=["new item", "existing item", "bad item name", "wrong hash", "added to existing", "modified"])
def test_legacy_layout(added, expected):
    violations = judge(added, base=LEGACY_BASE).violations
    assert [(v.path, any(f in v.reason for _, f in expected)) for v in violations] == [
        (p, True) for p, _ in expected]


def test_several_repository_paths():
    rules = Rules(sit_paths=(".sit", "sub/.sit"))
    base = {**BASE, "sub/.sit/config.json": DEFAULT_CONFIG_BYTES}
    added = {**flat(NEW, sit="sub/.sit"), **link(NEW_ITEM, NEW_ID, sit="sub/.sit")}
    assert judge(added, base=base, rules=rules).violations == ()
    assert [v.reason for v in judge(added, base=base).violations] == [
        f"outside the SIT repositories (.sit){FIX['outside']}"] * len(added)


def test_repository_at_the_root():
    rules = Rules(sit_paths=(".",))
    base = {"config.json": DEFAULT_CONFIG_BYTES}
    added = {**flat(NEW, sit=""), **link(NEW_ITEM, NEW_ID, sit="")}
    added = {k.lstrip("/"): v for k, v in added.items()}
    assert judge(added, base=base, rules=rules).violations == ()
    assert [v.reason for v in judge({"README": b""}, base=base, rules=rules).violations] == [
        f"outside records and items{FIX['outside']}"]


def test_custom_item_pattern():
    rules = Rules(item_pattern=re.compile(r"[a-z]+"))
    assert judge(link("abc", R1), rules=rules).violations == ()
    assert judge(link(NEW_ITEM, R1), rules=rules).violations != ()


@pytest.mark.parametrize(("path", "expected"), [
    (".sit/records/x", (".sit", ["records", "x"])),
    (".sit", None),
    (".sitx/records", None),
    ("sub/.sit/items/a", ("sub/.sit", ["items", "a"])),
    ("sub/.sitx/items/a", None),
    ("x/.sit/items/a", None),
])
def test_repo_of_matches_by_components_longest_first(path, expected):
    assert repo_of(path, (".sit", "sub/.sit")) == expected
    if expected is None:
        assert repo_of(path, (".sit", "sub/.sit", ".")) == ("", path.split("/"))


def test_violation_prints_undecodable_names():
    assert str(Violation("a/caf\udce9", "bad")) == "a/caf\ufffd: bad"
    assert str(Violation("", "whole ref")) == "whole ref"


# --- the new tip against the old (check_tip) ---

_FILE = Entry(0o100644, "1" * 40)
_OTHER = Entry(0o100644, "2" * 40)


@pytest.mark.parametrize(("path", "old", "new", "reason"), [
    (".sit/records/AB/CD/ABCD/text", None, _FILE, None),  # records and links may be added
    (".sit/items/x/ABCD", None, _FILE, None),
    ("sub/.sit/items/x/ABCD", None, _FILE, None),  # inside another configured repository
    (".sit/records/AB/CD/ABCD/text", _FILE, None, "deleted by the push"),
    ("README", _FILE, _OTHER, "changed by the push"),
    (".sit/config.json", _FILE, Entry(0o100755, "1" * 40), "changed by the push"),
    ("docs/guide.md", None, _FILE, "outside the SIT repositories"),
    (".sit/modules/x", None, _FILE, "outside the SIT repositories"),
    (".sitx/items/x/ABCD", None, _FILE, "outside the SIT repositories"),
])
def test_check_tip(path, old, new, reason):
    found = check_tip([Change(path, old, new)], [".sit", "sub/.sit"])
    assert [v.path for v in found] == ([path] if reason else [])
    assert all(reason in v.reason for v in found)


_TREE = Entry(MODE_TREE, "3" * 40)
_EMPTY_TREE = Entry(MODE_TREE, "4b825dc642cb6eb9a060e54bf8d69288fbee4904")


@pytest.mark.parametrize(("old", "new", "expected"), [
    (_FILE, _OTHER, Change("p", _FILE, _OTHER)),  # files are judged as they are
    (None, _FILE, Change("p", None, _FILE)),
    (_TREE, Entry(MODE_TREE, "5" * 40), None),  # a directory is judged by its files
    (None, _TREE, None),
    (_TREE, None, None),
    (None, _EMPTY_TREE, "an empty directory; git keeps it, but it holds no record files: remove it from the commit"),
    (_FILE, _TREE, Change("p", _FILE, None)),  # a file a directory replaces is gone
    (_TREE, _FILE, Change("p", None, _FILE)),  # a file that replaces a directory is new
])
def test_file_change(old, new, expected):
    assert file_change(Change("p", old, new)) == expected
