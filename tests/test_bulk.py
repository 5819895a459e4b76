"""The bulk reading path (blocks, forked workers, cache) gives exactly what the simple path gives."""

from __future__ import annotations

import json

import pytest

from git_sit import bulk
from git_sit.errors import MissingObject
from git_sit.layout import Layout
from git_sit.locate import Options, open_store
from git_sit.storage import gitview
from git_sit.store import Store
from tests.helpers import copy_fixture, expected_states, git
from tests.tricky import commit, tricky_files, write_disk


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    # Several blocks and workers even for a small repository.
    monkeypatch.setattr(bulk, "BLOCK", 3)
    monkeypatch.setattr(bulk, "MIN_PARALLEL", 1)


def open_at(workdir, rev, cache=False, jobs=1) -> tuple[Store, list[str]]:
    warnings: list[str] = []
    store = open_store(str(workdir), Options(rev, warn=warnings.append, cache=cache))
    store.jobs = jobs
    return store, warnings


def simple(workdir, rev):
    store, warnings = open_at(workdir, rev)
    return [store.reduce_uncached(item) for item in store.item_ids()], warnings


@pytest.fixture(params=["main", None], ids=["rev", "worktree"])
def tricky(request, repo, workdir):
    files = tricky_files()
    commit(repo, files)
    write_disk(workdir, files)
    return request.param


def test_simple_path_sees_the_tricky_cases(workdir, tricky):
    states, warnings = simple(workdir, tricky)
    by_id = {state["id"]: state for state in states}
    assert by_id["a-flat"]["summary"] == "a-flat text 1"
    assert len(by_id["a-flat"]["comments"]) == 2
    assert by_id["c-merged"]["summary"] == "c-merged text 10"  # legacy issues/ record
    assert by_id["c-merged"]["state"] == "closed"  # merged with the flat items/ link
    assert len(by_id["d-dangling"]) > 1
    assert "summary" not in by_id["e-integrity"] and by_id["e-integrity"]["state"] == "closed"
    assert len(by_id["i-chain"]["comments"]) == 1  # reached through a chain of links
    assert by_id["k-empty"] == {"id": "k-empty"}
    joined = "\n".join(warnings)
    for item in ("e-integrity", "h-outside", "j-symlink"):
        assert item in joined


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("cache", [False, True])
def test_bulk_path_matches_simple_path(workdir, tricky, jobs, cache):
    expected = simple(workdir, tricky)
    for _ in range(2):  # with the cache: cold, then warm
        store, warnings = open_at(workdir, tricky, cache=cache, jobs=jobs)
        assert (list(store.states()), warnings) == expected


@pytest.mark.parametrize("jobs", [1, 2])
def test_nodes_read_by_key_give_the_same(workdir, tricky, jobs, monkeypatch):
    # Entries of wide trees hold no pygit2 object; with every tree counted as wide, every
    # node is looked up by its key, and nothing read changes.
    expected = simple(workdir, tricky)
    monkeypatch.setattr(gitview, "WIDE", 0)
    store, warnings = open_at(workdir, tricky, jobs=jobs)
    if tricky is not None:
        assert all(node.handle is None for dirs in store.items().values() for _, node in dirs)
    assert (list(store.states()), warnings) == expected
    store, warnings = open_at(workdir, tricky)
    assert ([store.reduce_uncached(item) for item in store.item_ids()], warnings) == expected


def test_reduce_many_and_reduce_match(workdir, tricky):
    expected, _ = simple(workdir, tricky)
    store, _ = open_at(workdir, tricky, cache=True, jobs=2)
    ids = store.item_ids()
    assert [state for _, state in store.reduce_many(ids[::-1])] == expected[::-1]
    assert [store.reduce(item) for item in ids] == expected


def test_fixture_through_workers_and_cache(fixture_dir, workdir):
    copy_fixture(workdir)
    git(workdir, "add", ".")
    git(workdir, "commit", "-qm", "fixture")
    for rev in ("HEAD", None):
        for _ in range(2):
            store, _ = open_at(workdir, rev, cache=True, jobs=2)
            assert list(store.states()) == expected_states()


def test_worker_error_is_raised_in_order(repo, workdir, monkeypatch):
    commit(repo, tricky_files())
    store, _ = open_at(workdir, "main", jobs=2)
    ids = store.item_ids()
    failing = ids[7]
    real = Layout.item_entries

    def entries(self, item_id, *args):
        if item_id == failing:
            raise MissingObject("git object x is missing")
        return real(self, item_id, *args)

    monkeypatch.setattr(Layout, "item_entries", entries)
    seen = []
    with pytest.raises(MissingObject, match="git object x is missing"):
        for state in store.states():
            seen.append(state["id"])
    assert seen == ids[:7]


@pytest.mark.parametrize("extra", [
    {"a\\b": b"backslash"},
    {"sub\\dir/x": b"in a directory with a backslash"},
    {"deep/er/file": b"nested"},
    {"link": ("link", "target")},
])
def test_direct_record_walk_matches_the_generic_one(repo, workdir, extra):
    from git_sit.errors import InvalidRecord
    from git_sit.record import split_path
    from tests.tricky import write_tree

    rid = "A" * 32
    files = {".sit/config.json": b"{}", **{f".sit/records/{split_path(rid)}/{k}": v
                                           for k, v in {"text": b"t", **extra}.items()}}
    files[f".sit/items/i/{rid}"] = b"../../records/" + split_path(rid).encode()
    tree = write_tree(repo, files)
    sig = __import__("pygit2").Signature("T", "t@e", 0, 0)
    repo.create_commit("refs/heads/main", sig, sig, "m", tree, [])
    store, _ = open_at(workdir, "main")
    node = store.layout.record_node(rid)
    outcomes = []
    for fast in (True, False):
        try:
            if fast:
                outcomes.append(dict(store.layout.read_record(rid, node).files))
            else:
                generic: dict[str, bytes] = {}
                store.layout._collect(node, "", generic)
                outcomes.append(generic)
        except InvalidRecord as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("state", [
    {"id": "I", "summary": "s", "comments": [{"text": "x"}]},
    {"id": None}, {"id": {"nested": ["id"]}}, {"summary": "no id"}, {"x": 1, "id": "late"},
    {"id": "ünï \u2028 \"quoted\""}, {"odd name": 1, "id": "I"}, {},
])
@pytest.mark.parametrize("field", ["id", "summary", "odd name", "comments", "missing", 'quo"te'])
@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])
def test_value_of_a_field_is_the_field_of_the_decoded_state(state, field, separators):
    text = json.dumps(state, ensure_ascii=False, separators=separators)
    assert bulk.value_of(text, None) == state
    assert bulk.value_of(text, field) == state.get(field)


@pytest.mark.parametrize(("count", "jobs", "size"), [
    (100, 2, 50),  # not 64 + 36
    (129, 2, 33),  # two blocks each: 66 and 63
    (200, 2, 50),
    (64, 2, 32),
    (10_000, 2, 64),  # many blocks each: the full size
    (10, 1, 10),
    (1_000, 1, 63),  # 16 blocks of 62 or 63
    (5, 8, 1),
    (0, 2, 1),
])
def test_blocks_share_the_items_evenly_between_workers(count, jobs, size, monkeypatch):
    monkeypatch.setattr(bulk, "BLOCK", 64)
    assert bulk.block_size(count, jobs) == size
    blocks = [min(size, count - start) for start in range(0, count, size)]
    taken = [sum(blocks[w::jobs]) for w in range(jobs)]  # workers take blocks in turn
    assert max(taken, default=0) - min(taken, default=0) <= size
