"""Differential tests: every way of reading the same content gives the same output and warnings.

Seeded random repositories (``tests.randrepo``) are read at every revision from git
objects and, checked out, from disk; without the cache, cold and warm; with one and
with two workers; in shuffled orders (so snapshots are deltas of each other's); and
``items`` is compared with ``reduce``, ``issue show``, ``issue list``, ``status`` and
``diff``. The reference is always the plain ``--no-cache`` read with one worker.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from git_sit import bulk
from tests.helpers import Run, commit_files, git, parse_blocks, record_files, sit, sit_tree_files
from tests.randrepo import History

SEEDS = [3]  # more seeds (the hunt ran 1-6, 11-15, 21) cost half a minute each


def read(cwd: Path, *args: str, jobs: int = 1, cache: bool = True) -> tuple[int, str, str]:
    run = sit(cwd, *([] if cache else ["--no-cache"]), *args, env={"GIT_SIT_JOBS": str(jobs)})
    return run.code, run.out, run.err


def item_lines(err: str, item: str) -> str:
    """The warnings a read of ``item`` alone says: its own and the repository's."""
    return "".join(f"{line}\n" for line in err.splitlines() if f" of item {item}:" in line
                   or " of item " not in line)


def shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True,
                                                           ensure_ascii=False)


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[History, list[str]]:
    # Module-scoped, so the hermetic fixture's environment is not in place yet: git's
    # identity and a config-free HOME are set for these git runs by hand.
    home = tmp_path_factory.mktemp("home")
    saved = {name: os.environ.get(name) for name in ("HOME", "GIT_CONFIG_NOSYSTEM")}
    os.environ.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1")
    (home / ".gitconfig").write_text("[user]\n\tname = T\n\temail = t@example.com\n")
    try:
        h = History(tmp_path_factory.mktemp("diff") / "repo", request.param)
        return h, h.evolve()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def expected(history: tuple[History, list[str]]) -> dict[str, tuple[int, str, str]]:
    """The reference read of every revision: no cache, one worker."""
    h, revs = history
    return {rev: read(h.path, "items", "--rev", rev, "-q", "@", cache=False) for rev in revs}


def test_the_generator_makes_what_it_promises(history):
    h, _ = history
    assert len(h.items_on_disk()) > bulk.MIN_PARALLEL  # two workers really share the items
    code, _, err = read(h.path, "items", "--rev", "v0", cache=False)  # before any item is deleted
    assert code == 0
    for warning in ("content does not match its ID", "is not a valid UTF-8 name",
                    "is not a regular file (a symlink)", "is not a directory (a symlink)"):
        assert warning in err


def test_cache_workers_and_order_change_nothing(history, expected):
    h, revs = history
    rng = random.Random(len(revs))
    git(h.path, "sit", "cache", "clear")
    order = revs[:]
    rng.shuffle(order)
    for n, rev in enumerate(order + order[::-1]):  # cold (a delta of whatever came before), then warm
        assert read(h.path, "items", "--rev", rev, "-q", "@", jobs=1 + n % 2) == expected[rev], rev
    for rev in order[:3]:
        assert read(h.path, "items", "--rev", rev, "-q", "@", jobs=2, cache=False) == expected[rev]


def test_the_work_tree_reads_as_its_revision(history, expected):
    h, revs = history
    try:
        for rev in revs:
            git(h.path, "checkout", "-q", "--detach", rev)
            for jobs, cache in ((2, False), (1, True)):
                assert read(h.path, "items", "-q", "@", jobs=jobs, cache=cache) == expected[rev], rev
    finally:
        git(h.path, "checkout", "-q", "main")


def test_every_command_sees_the_same_states(history, expected):
    h, revs = history
    rng = random.Random(7)
    for rev in rng.sample(revs, 2):
        code, out, err = expected[rev]
        assert code == 0
        states = {state["id"]: state for state in parse_blocks(out)}
        for field in ("id", "summary", "nope"):
            values = "".join(shown(s.get(field)) + "\n" for s in states.values())
            assert read(h.path, "items", "--rev", rev, "-q", field) == (0, values, err)
        listed = read(h.path, "issue", "list", "--state", "all", "--rev", rev, "--json")
        assert {s["id"]: s for s in json.loads(listed[1])} == states
        damaged = [line.split(" of item ")[1].split(":")[0] for line in err.splitlines() if " of item " in line]
        for item in rng.sample(sorted(states), 2) + damaged[:2]:
            want = (0, shown(states[item]) + "\n", item_lines(err, item))
            assert read(h.path, "reduce", item, "--rev", rev) == want
            assert read(h.path, "issue", "show", item, "--rev", rev, "--json") == want


def test_status_and_diff_agree_with_items(history, expected):
    h, revs = history
    refs = [rev for rev in revs if not all(c in "0123456789abcdef" for c in rev)]
    states = {rev: {s["id"]: s for s in parse_blocks(expected[rev][1])} for rev in revs}
    per_item = {item: {ref: states[ref][item].get("state", "unknown") if item in states[ref] else None
                       for ref in refs}
                for item in sorted(set().union(*(states[ref] for ref in refs)))}
    for cache in (False, True):
        code, out, _ = read(h.path, "status", "--json", cache=cache)
        assert code == 0
        data = json.loads(out)
        for full, counts in data["refs"].items():
            mine = states[full.split("/", 2)[2]]
            assert counts["items"] == len(mine)
            assert counts["closed"] == sum(s.get("state") == "closed" for s in mine.values())
        differing = {item: by_ref for item, by_ref in per_item.items()
                     if len({s for s in by_ref.values() if s is not None}) > 1}
        assert {item: {ref.split("/", 2)[2]: s for ref, s in by_ref.items()}
                for item, by_ref in data["differing"].items()} == differing
    for a, b in (("v0", "main"), ("js", "late")):
        code, out, _ = read(h.path, "diff", a, b, "--json")
        assert code == 0
        changes = {c["id"]: (c["from"], c["to"]) for c in json.loads(out)["changes"]}
        status = {item: (s.get("state", "unknown") if s else None, t.get("state", "unknown") if t else None)
                  for item in states[a].keys() | states[b].keys()
                  if (s := states[a].get(item)) != (t := states[b].get(item))}
        assert changes == status


def _warm_reads(workdir: Path) -> list[Run]:
    runs = []
    for _ in range(2):  # the first read records a snapshot and a memo; the second is served by them
        for args in (["items", "--rev", "main"], ["items", "--rev", "main", "-q", "@"],
                     ["issue", "list", "--rev", "main"], ["status"]):
            runs.append(sit(workdir, *args))
    return runs


@pytest.mark.parametrize("damage", ["item name", "reducer symlink"])
def test_warnings_about_the_repository_are_said_on_warm_reads_too(repo, workdir, damage):
    # Warnings that belong to no item's reduction (an item directory whose name is not
    # UTF-8, a reducer that is a symlink) were said by the read that recorded a snapshot,
    # and never again by the reads it served.
    sit_dir = workdir / ".sit"
    assert sit(workdir, "init").code == 0
    item = sit(workdir, "issue", "new", "-s", "Crash").out.strip()
    if damage == "item name":
        shutil.copytree(os.fsencode(sit_dir / "items" / item), os.fsencode(sit_dir / "items") + b"/bad-\xff")
        warning = "warning: item directory 'bad-\\udcff' is not a valid UTF-8 name; skipped\n"
    else:
        (sit_dir / "reducers").mkdir()
        (sit_dir / "reducers" / "a.js").write_text("module.exports = function (s) { return s; };\n")
        (sit_dir / "reducers" / "b.js").symlink_to("a.js")
        warning = "warning: reducer reducers/b.js is a symlink, which git-sit does not follow; not run.\n"
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "damaged")
    for run in _warm_reads(workdir):
        assert (run.code, run.err) == (0, warning)


@pytest.mark.parametrize("cache", [(), ("--no-cache",)], ids=["cache", "no-cache"])
def test_a_reducer_warning_is_said_once_by_status_and_diff(repo, workdir, cache):
    # Each ref's (or revision's) store loads the same reducers and warned again.
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "issue", "new", "-s", "Crash").code == 0
    (workdir / ".sit" / "reducers").mkdir()
    (workdir / ".sit" / "reducers" / "a.js").write_text("module.exports = function (s) { return s; };\n")
    (workdir / ".sit" / "reducers" / "b.js").symlink_to("a.js")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "reducers")
    git(workdir, "tag", "v1")
    git(workdir, "branch", "side")
    assert sit(workdir, "issue", "new", "-s", "Hang").code == 0
    git(workdir, "commit", "-qm", "one more")
    warning = "warning: reducer reducers/b.js is a symlink, which git-sit does not follow; not run.\n"
    for _ in range(2):  # cold, then served by the cache
        for args in (["diff", "v1", "main"], ["diff", "v1", "main", "--json"], ["status"], ["status", "--json"]):
            run = sit(workdir, *cache, *args)
            assert (run.code, run.err) == (0, warning), args


def test_a_link_holding_a_nul_names_nothing_on_disk_as_in_git(repo, workdir):
    # The link's text was looked up on disk as it is, and os.lstat refuses a NUL: a traceback.
    files, _ = sit_tree_files({"it-a": [record_files(["SummaryChanged"], "A")]})
    files[f".sit/items/it-m/{'B' * 32}"] = b"../../records/\x00"
    commit_files(repo, files, ref="main")
    git(workdir, "checkout", "-q", "-f", "main")
    expected = '{\n  "id": "it-m"\n}\n'  # the link is dangling (its canonical place is empty too)
    for args in (["--rev", "main"], []):
        run = sit(workdir, "--no-cache", "reduce", "it-m", *args)
        assert (run.code, run.out, run.err) == (0, expected, "")
        run = sit(workdir, "--no-cache", "items", *args)
        assert (run.code, run.out, run.err) == (0, "it-a\nit-m\n", "")
