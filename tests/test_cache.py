"""The state cache never changes a result: across revisions, branches and the work tree,
when it is damaged, when two processes fill it at once, and when it cannot be written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from git_sit import bulk, cachekey
from git_sit.locate import Options, open_store
from git_sit.record import compute_id, link_content, split_path
from git_sit.statecache import Damaged, StateCache, cache_path, pack, unpack
from tests.helpers import commit_files, git, parse_blocks, read_only, record_files, sit, sit_tree_files
from tests.tricky import commit, tricky_files, write_disk


def cache_file(workdir: Path) -> Path:
    return Path(cache_path(str(workdir / ".git")))


def items(workdir, *args: str, cache: bool = True):
    run = sit(workdir, *([] if cache else ["--no-cache"]), "items", "-q", "@", *args)
    assert run.code == 0, run.err
    return run


def many_items(count: int, tag: str = "") -> dict[str, list[dict[str, bytes]]]:
    return {
        f"item-{n:04}": [record_files(["SummaryChanged"], f"{tag}summary {n}", "A <a@b>",
                                      f"2024-02-{n % 28 + 1:02}T00:00:00Z")]
        for n in range(count)
    }


@pytest.fixture
def branches(repo, workdir):
    """main, a branch changing some items, a tag; the work tree has one more record."""
    files, _ = sit_tree_files(many_items(40))
    commit_files(repo, files, ref="main")
    changed, _ = sit_tree_files({f"item-{n:04}": [record_files(["Closed"], "bye")]
                                 for n in range(0, 40, 7)})
    commit_files(repo, changed, ref="other", parents=[repo.head.target])
    git(workdir, "tag", "v1", "main")
    git(workdir, "checkout", "-q", "other")
    extra, _ = sit_tree_files({"item-0003": [record_files(["Commented"], "on disk")]})
    write_disk(workdir, extra)
    return workdir


def test_cached_equals_uncached_everywhere(branches):
    for args in (["--rev", "main"], ["--rev", "other"], ["--rev", "v1"], []):
        expected = items(branches, *args, cache=False).out
        assert items(branches, *args).out == expected  # cold (or filled by an earlier rev)
        assert items(branches, *args).out == expected  # warm
    assert cache_file(branches).exists()


def test_no_cache_neither_reads_nor_writes(branches):
    items(branches, "--rev", "main", cache=False)
    assert not cache_file(branches).exists()


def test_cache_clear(branches):
    expected = items(branches, "--rev", "main").out
    run = sit(branches, "cache", "clear")
    assert run.code == 0 and "Removed" in run.out
    assert not cache_file(branches).exists()
    assert items(branches, "--rev", "main").out == expected
    assert sit(branches, "cache", "path").out.strip() == str(cache_file(branches))


STALE_FORMATS = ("states-v3.sqlite", "states-v3.sqlite-wal", "states-v9.sqlite")


def test_caches_of_other_formats_are_removed(branches):
    """An upgrade names its database anew; the old files would otherwise stay for good."""
    directory = cache_file(branches).parent
    directory.mkdir()
    for name in (*STALE_FORMATS, "unrelated"):
        (directory / name).write_bytes(b"left by another git-sit")
    expected = items(branches, "--rev", "main", cache=False).out
    assert items(branches, "--rev", "main").out == expected
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith("states-v4")) \
        == ["unrelated"]
    for name in STALE_FORMATS:
        (directory / name).write_bytes(b"left again")
    assert sit(branches, "cache", "clear").code == 0
    assert [p.name for p in directory.iterdir()] == ["unrelated"]


def test_reduce_uses_the_same_results(branches):
    for args in (["--rev", "other"], []):
        expected = sit(branches, "--no-cache", "reduce", "item-0007", *args).out
        assert sit(branches, "reduce", "item-0007", *args).out == expected
        assert sit(branches, "reduce", "item-0007", *args).out == expected


def test_record_directory_appearing_later_is_seen(repo, workdir, no_racy_wait):
    """Same item tree on both revisions, but the linked record exists only on the second."""
    late = record_files(["Closed"], "late", "A <a@b>", "2024-03-01T00:00:00Z")
    late_id = compute_id(late.items())
    files, _ = sit_tree_files({"item": [record_files(["SummaryChanged"], "title")]})
    files[f".sit/items/item/{late_id}"] = link_content(late_id)
    commit_files(repo, files, ref="main")
    record_dir = {f".sit/records/{split_path(late_id)}/{k}": v for k, v in late.items()}
    commit_files(repo, record_dir, ref="later", parents=[repo.head.target])
    assert '"state": "open"' in items(workdir, "--rev", "main").out
    assert '"state": "closed"' in items(workdir, "--rev", "later").out
    assert '"state": "closed"' in sit(workdir, "reduce", "item", "--rev", "later").out
    # The work tree: the record directory appears after the state was cached.
    write_disk(workdir, files)
    assert disk_states(workdir)[0]["state"] == "open"
    write_disk(workdir, record_dir)
    assert disk_states(workdir)[0]["state"] == "closed"


def disk_states(workdir, warnings=None):
    """The work tree's states through the cache, in-process, read twice (fill, then hit)."""
    runs = []
    for _ in range(2):
        store = open_store(str(workdir), Options(warn=(warnings if warnings is not None else []).append))
        runs.append(list(store.states()))
    assert runs[0] == runs[1]
    return runs[1]


@pytest.fixture
def no_racy_wait(monkeypatch):
    # Files written by a test are seconds old at most; trust their stat data at once.
    monkeypatch.setattr(cachekey, "RACY_SECONDS", -1.0)


def test_work_tree_record_edited_in_place(repo, workdir, no_racy_wait):
    files, ids = sit_tree_files({"item": [record_files(["SummaryChanged"], "title")]})
    write_disk(workdir, files)
    assert disk_states(workdir)[0]["summary"] == "title"
    text = workdir / ".sit" / "records" / split_path(ids["item"][0]) / "text"
    text.write_bytes(b"tampered")
    warnings: list[str] = []
    assert "summary" not in disk_states(workdir, warnings)[0]
    assert "content does not match its ID" in warnings[0]


def test_racy_files_are_not_cached(repo, workdir, monkeypatch):
    monkeypatch.setattr(cachekey, "RACY_SECONDS", 3600.0)
    files, _ = sit_tree_files({"item": [record_files(["SummaryChanged"], "title")]})
    write_disk(workdir, files)
    store = open_store(str(workdir), Options())
    assert cachekey.state_key(b"s", "item", store.item_entries("item")) is None
    monkeypatch.setattr(cachekey, "RACY_SECONDS", -1.0)
    assert cachekey.state_key(b"s", "item", store.item_entries("item")) is not None


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign", "bad-value", "wrong-tables"])
def test_damaged_cache_is_survived_and_rebuilt(branches, damage):
    expected = items(branches, "--rev", "main", cache=False).out
    items(branches, "--rev", "main")
    path = cache_file(branches)
    _checkpoint(path)
    _damage(path, damage)
    run = items(branches, "--rev", "main")
    assert run.out == expected
    lines = [line for line in run.err.splitlines() if "cache" in line]
    assert len(lines) == 1 and "damaged" in lines[0] and "rebuilding" in lines[0], run.err
    again = items(branches, "--rev", "main")
    assert again.out == expected and "damaged" not in again.err


def _checkpoint(path: Path) -> None:
    """Move what the write-ahead log holds into the database file, and drop the log.

    git-sit leaves the log in place when it exits, as an interrupted process would.
    """
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    assert not Path(str(path) + "-wal").exists()


def _damage(path: Path, how: str) -> None:
    if how == "truncate":
        with open(path, "r+b") as handle:
            handle.truncate(os.path.getsize(path) // 2)
    elif how == "garbage":
        path.write_bytes(os.urandom(8192))
    elif how == "wrong-tables":
        path.unlink()
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE other (x)")
    else:
        with sqlite3.connect(path) as conn:
            if how == "foreign":
                conn.execute("UPDATE meta SET value='something else 9'")
            else:
                conn.execute("UPDATE states SET value = substr(value, 1, length(value) - 3)")
                conn.execute("UPDATE snapshots SET value = X'00'")
            conn.execute("PRAGMA journal_mode=DELETE")


def test_two_processes_fill_the_cache_at_once(repo, workdir):
    files, _ = sit_tree_files(many_items(bulk.MIN_PARALLEL + 60))
    commit_files(repo, files, ref="main")
    expected = items(workdir, "--rev", "main", cache=False).out
    cmd = ["git", "sit", "items", "--rev", "main", "-q", "@"]
    procs = [subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.decode() == expected
        assert b"damaged" not in err
    assert items(workdir, "--rev", "main").out == expected


@pytest.mark.parametrize("existing", [True, False], ids=["cache-exists", "no-cache-yet"])
def test_read_only_git_directory(branches, existing):
    expected = items(branches, "--rev", "other", cache=False).out
    if existing:
        items(branches, "--rev", "main")
        items(branches, "--rev", "other")
    run = read_only(branches / ".git", ["git", "sit", "items", "--rev", "other", "-q", "@"], branches)
    assert (run.returncode, run.stdout) == (0, expected)
    assert run.stderr == ""


def test_clearing_a_cache_that_cannot_be_removed_fails_in_one_line(branches):
    items(branches, "--rev", "main")
    run = read_only(branches / ".git", ["git", "sit", "cache", "clear"], branches)
    assert run.returncode == 1, run.stderr
    reasons = ("Read-only file system", "Permission denied")  # a mount as root, else modes
    assert run.stderr in [f"Error: cannot remove the cache {cache_file(branches)}: {why}.\n"
                          for why in reasons]
    assert cache_file(branches).exists()


def test_a_cache_path_that_is_a_directory_is_worked_around_and_cannot_be_cleared(branches):
    cache_file(branches).mkdir(parents=True)
    expected = items(branches, "--rev", "main", cache=False).out
    assert items(branches, "--rev", "main").out == expected
    run = sit(branches, "cache", "clear")
    assert (run.code, run.err) == (1, f"Error: cannot remove the cache {cache_file(branches)}: "
                                      "Is a directory.\n")


def test_unwritable_cache_directory_in_process(branches):
    """Without write access (simulated: the cache path is below a file) reads still work."""
    store = open_store(str(branches), Options("main"))
    blocker = branches / "blocker"
    blocker.write_text("a file, not a directory")
    store.cache = StateCache(str(blocker / "sit-cache" / "db.sqlite"), pytest.fail)
    expected = [store.reduce_uncached(item) for item in store.item_ids()]
    assert list(store.states()) == expected


def test_pack_detects_damage():
    key = b"k" * 20
    value = pack(key, b'{"id":"x"}')
    assert unpack(key, value) == b'{"id":"x"}'
    for bad in (value[:-2], b"garbage", pack(b"j" * 20, b"{}")):
        with pytest.raises(Damaged):
            unpack(key, bad)


def test_cache_survives_a_killed_writer(repo, workdir):
    """A process killed while it fills the cache leaves nothing that changes a result."""
    files, _ = sit_tree_files(many_items(bulk.MIN_PARALLEL + 60, "killed "))
    commit_files(repo, files, ref="main")
    expected = items(workdir, "--rev", "main", cache=False).out
    proc = subprocess.Popen([sys.executable, "-m", "git_sit", "items", "--rev", "main"],
                            cwd=workdir, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.kill()
    proc.wait()
    assert items(workdir, "--rev", "main").out == expected


def test_tricky_repository_through_the_cli(repo, workdir):
    files = tricky_files(plain_items=bulk.MIN_PARALLEL)
    commit(repo, files)
    write_disk(workdir, files)
    for args in (["--rev", "main"], []):
        expected = items(workdir, *args, cache=False)
        for _ in range(2):
            run = items(workdir, *args)
            assert (run.out, run.err) == (expected.out, expected.err)


def test_snapshots_deltas_and_a_lost_base(branches):
    expected = {rev: items(branches, "--rev", rev, cache=False).out for rev in ("main", "other")}
    assert items(branches, "--rev", "main").out == expected["main"]  # complete snapshot
    assert items(branches, "--rev", "other").out == expected["other"]  # from main's snapshot
    with sqlite3.connect(cache_file(branches)) as conn:
        kinds = conn.execute("SELECT base IS NULL FROM snapshots ORDER BY used").fetchall()
        assert kinds == [(1,), (0,)]  # the branch is stored as a delta
        conn.execute("DELETE FROM snapshots WHERE base IS NULL")
    assert items(branches, "--rev", "other").out == expected["other"]
    assert items(branches, "--rev", "main").out == expected["main"]


def test_snapshot_base_sees_records_that_change_below_unchanged_items(repo, workdir):
    """Between main and other only records/ differs: a dangling link's record appears, a
    record is tampered with, another disappears; the item directories are identical."""
    files, ids = sit_tree_files(many_items(30))
    late = record_files(["Commented"], "arrives later")
    late_id = compute_id(late.items())
    files[f".sit/items/item-0004/{late_id}"] = link_content(late_id)  # dangling on main
    first = commit_files(repo, files, ref="main")
    tampered, gone = ids["item-0010"][0], ids["item-0020"][0]
    changes: dict[str, bytes | None] = {f".sit/records/{split_path(late_id)}/{name}": data
                                        for name, data in late.items()}
    changes[f".sit/records/{split_path(tampered)}/text"] = b"tampered"
    changes.update({path: None for path in files if f"/{gone}/" in path})
    commit_files(repo, changes, ref="other", parents=[first])
    expected = {rev: items(workdir, "--rev", rev, cache=False) for rev in ("main", "other")}
    assert "arrives later" in expected["other"].out and "does not match" in expected["other"].err
    for rev in ("main", "other", "other", "main"):  # other first from main's snapshot, then its own
        run = items(workdir, "--rev", rev)
        assert (run.out, run.err) == (expected[rev].out, expected[rev].err), rev


@pytest.mark.parametrize(("query", "pick"), [
    ([], lambda state: [state["id"]]),
    (["-q", "summary"], lambda state: [state.get("summary")]),
    (["-q", "id", "-f", "state == 'open'"], lambda state: [state["id"]] if state.get("state") == "open" else []),
])
def test_field_queries_read_from_the_cache_give_the_same_output(branches, query, pick):
    for args in (["--rev", "main"], ["--rev", "other"], []):
        full = sit(branches, "--no-cache", "items", "-q", "@", *args)
        expected = sit(branches, "--no-cache", "items", *query, *args)
        assert expected.out.splitlines() == [str(v) for state in parse_blocks(full.out) for v in pick(state)]
        for _ in range(2):  # filling the cache, then from it
            run = sit(branches, "items", *query, *args)
            assert (run.code, run.out, run.err) == (0, expected.out, expected.err)


def _has_items_snapshot(workdir: Path, rev: str) -> bool:
    """Whether the cache holds the snapshot ``items --rev REV`` would use (``bulk.states``' key)."""
    store = open_store(str(workdir), Options(rev, cache=True))
    settings = cachekey.snapshot_settings(bulk.Reader(store).settings)
    assert store.cache is not None and store.layout.root.key is not None
    return store.cache.snapshot(cachekey.snapshot_key(settings, store.layout.root.key)) is not None


def test_status_and_items_share_their_snapshots(branches):
    # A ref that status has read costs items --rev a lookup, and the other way round.
    assert sit(branches, "status", "--refs", "other", "--no-tags").code == 0
    assert _has_items_snapshot(branches, "other") and not _has_items_snapshot(branches, "main")
    expected = items(branches, "--rev", "other", cache=False).out
    assert items(branches, "--rev", "other").out == expected
    assert sit(branches, "cache", "clear").code == 0
    items(branches, "--rev", "main")
    before = sit(branches, "--no-cache", "status", "--refs", "main", "--no-tags").out
    assert sit(branches, "status", "--refs", "main", "--no-tags").out == before
    assert _has_items_snapshot(branches, "main")


def test_latest_full_snapshot_is_the_most_recently_used_complete_one(tmp_path: Path):
    cache = StateCache(str(tmp_path / "db.sqlite"), pytest.fail)
    assert cache.latest_full(b"s1") is None
    cache.put_snapshot(b"old", b"s1", b"old payload", None)
    cache.put_snapshot(b"other", b"s2", b"other settings", None)
    cache.put_snapshot(b"new", b"s1", b"new payload", None)
    cache.put_snapshot(b"delta", b"s1", b"a delta", b"new")  # not complete: never the base
    assert cache.latest_full(b"s1") == (b"new", b"new payload")
    assert cache.snapshot(b"old") == (b"old payload", None)  # reading it makes it the most recent
    assert cache.latest_full(b"s1") == (b"old", b"old payload")
    assert cache.latest_full(b"s2") == (b"other", b"other settings")
    assert cache.latest_full(b"s3") is None
