"""Warm ``items --rev`` served from a memo and a snapshot, without pygit2: same output, same warnings.

Each read runs the real ``git-sit`` entry point in a fresh interpreter that reports
at exit whether pygit2 was imported, so every test knows which path answered.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

from git_sit import locate as locating
from git_sit import warm
from git_sit.locate import locate
from git_sit.modules import Module, Site
from git_sit.options import Options, candidates
from git_sit.statecache import cache_path
from git_sit.storage import probe
from tests.helpers import commit_files, git, record_files, sit, sit_tree_files
from tests.module_helpers import add_submodule, module_files, module_repository, write_files
from tests.tricky import commit, tricky_files

MARK = "\npygit2 imported: "
RUN = f"""
import atexit, sys
atexit.register(lambda: sys.stderr.write({MARK!r} + str("pygit2" in sys.modules) + "\\n"))
from git_sit.cli.process import main
sys.argv[0] = "git-sit"
main()
"""


def read(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str, bool]:
    """``git sit ARGS`` in a fresh interpreter: exit code, stdout, stderr, whether pygit2 loaded."""
    run = subprocess.run([sys.executable, "-c", RUN, *args], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=False)
    err, _, loaded = run.stderr.rpartition(MARK)
    return run.returncode, run.stdout, err, loaded.strip() == "True"


def items(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[tuple[int, str, str], bool]:
    code, out, err, loaded = read(cwd, "items", *args, env=env)
    return (code, out, err), loaded


def uncached(cwd: Path, *args: str) -> tuple[int, str, str]:
    code, out, err, _ = read(cwd, "--no-cache", "items", *args)
    return code, out, err


def many(count: int, tag: str = "") -> dict[str, list[dict[str, bytes]]]:
    return {f"item-{n:03}": [record_files(["SummaryChanged"], f"{tag}summary {n}", "A <a@b>",
                                          f"2024-03-{n % 28 + 1:02}T00:00:00Z")] for n in range(count)}


@pytest.fixture
def history(repo: pygit2.Repository, workdir: Path) -> Path:
    """main, a branch closing some items, a tag, and a bare clone of it all."""
    files, _ = sit_tree_files(many(30))
    commit_files(repo, files, ref="main")
    closed, _ = sit_tree_files({f"item-{n:03}": [record_files(["Closed"], "done")] for n in range(0, 30, 4)})
    commit_files(repo, closed, ref="other", parents=[repo.revparse_single("main").id])
    git(workdir, "tag", "v1", "main")
    return workdir


QUERIES = [(), ("-q", "@"), ("-q", "summary"), ("-f", "state == 'open'", "-q", "id"),
           ("-q", "join(' ', [id, summary])")]


@pytest.mark.parametrize("args", QUERIES)
def test_the_second_read_of_a_revision_is_served_warm_and_equal(history: Path, args: tuple[str, ...]):
    for rev in ("main", "other"):
        expected = uncached(history, "--rev", rev, *args)
        assert expected[0] == 0 and expected[1]
        first, loaded_first = items(history, "--rev", rev, *args)
        second, loaded_second = items(history, "--rev", rev, *args)
        assert first == second == expected
        assert loaded_first and not loaded_second
    # The tag is main's commit: the same SIT tree, so its first read is warm already.
    assert items(history, "--rev", "v1", *args) == (uncached(history, "--rev", "main", *args), False)


def test_a_bare_repository_and_a_subdirectory_are_served_warm(history: Path, tmp_path: Path):
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(history), str(bare))
    (history / "src" / "deep").mkdir(parents=True)
    for cwd in (bare, history / "src" / "deep"):
        expected = uncached(cwd, "--rev", "other", "-q", "@")
        assert items(cwd, "--rev", "other", "-q", "@") == (expected, True)
        assert items(cwd, "--rev", "other", "-q", "@") == (expected, False)


def test_the_nearest_sit_directory_is_the_one_served(repo: pygit2.Repository, workdir: Path):
    outer, _ = sit_tree_files(many(3, "outer "))
    inner, _ = sit_tree_files(many(2, "inner "), sit="sub/.sit")
    commit_files(repo, {**outer, **inner}, ref="main")
    (workdir / "sub" / "x").mkdir(parents=True)
    for cwd, tag in ((workdir, "outer"), (workdir / "sub" / "x", "inner")):
        expected = uncached(cwd, "--rev", "main", "-q", "summary")
        assert tag in expected[1]
        items(cwd, "--rev", "main", "-q", "summary")
        assert items(cwd, "--rev", "main", "-q", "summary") == (expected, False)


def test_items_with_warnings_are_reduced_again_with_the_same_warnings(repo: pygit2.Repository,
                                                                      workdir: Path):
    commit(repo, tricky_files())
    expected = uncached(workdir, "--rev", "main", "-q", "@")
    assert expected[0] == 0 and "warning:" in expected[2]
    first, _ = items(workdir, "--rev", "main", "-q", "@")
    second, loaded = items(workdir, "--rev", "main", "-q", "@")
    assert first == second == expected
    assert loaded  # the items never cached were reduced by the full store


def test_a_new_commit_is_read_the_long_way_once(repo: pygit2.Repository, history: Path):
    items(history, "--rev", "main")
    more, _ = sit_tree_files({"item-new": [record_files(["SummaryChanged"], "new")]})
    commit_files(repo, more, ref="main")
    expected = uncached(history, "--rev", "main")
    assert "item-new" in expected[1]
    assert items(history, "--rev", "main") == (expected, True)
    assert items(history, "--rev", "main") == (expected, False)


def test_options_that_change_the_settings_have_memos_of_their_own(history: Path):
    items(history, "--rev", "main", "-q", "@")
    for options in (["--reducers", "native"], ["-i"], ["--reducers", "js"]):
        code, out, err, _ = read(history, "--no-cache", *options, "items", "--rev", "main", "-q", "@")
        assert read(history, *options, "items", "--rev", "main", "-q", "@") == (code, out, err, True)
        assert read(history, *options, "items", "--rev", "main", "-q", "@") == (code, out, err, False)
    env = {"GIT_SIT_JS_TIME_LIMIT": "7"}
    assert items(history, "--rev", "main", env=env)[1]


def test_the_long_way_is_taken_where_git_and_pygit2_might_differ(history: Path):
    items(history, "--rev", "main")
    assert not items(history, "--rev", "main")[1]
    expected = uncached(history, "--rev", "main")
    assert items(history, "--rev", "main", env={"GIT_DIR": str(history / ".git")}) == (expected, True)
    assert items(history, "--rev", "main", "--trusted", str(history / "none.gpg"))[1]
    assert items(history, "-F", "none")[1]
    on_disk = uncached(history)
    assert items(history)[0] == on_disk and items(history)[1]  # no --rev: the work tree


def test_a_revision_with_a_path_is_read_the_long_way(history: Path):
    nested = uncached(history, "--rev", "main:")
    assert nested[0] == 0
    items(history, "--rev", "main:")
    assert items(history, "--rev", "main:") == (nested, True)


def test_unknown_revisions_fail_as_before(history: Path):
    code, out, err = uncached(history, "--rev", "nope")
    assert code == 1 and not out and err == "Error: unknown revision 'nope'.\n"
    assert items(history, "--rev", "nope") == ((code, out, err), True)


def test_damaged_memos_and_a_cleared_cache_change_nothing(history: Path):
    expected = uncached(history, "--rev", "other", "-q", "@")
    items(history, "--rev", "other", "-q", "@")
    database = cache_path(str(history / ".git"))
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE aliases SET target = randomblob(20)")
    assert items(history, "--rev", "other", "-q", "@") == (expected, True)
    assert items(history, "--rev", "other", "-q", "@") == (expected, False)  # remembered again
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE aliases SET target = x'00'")
    (code, out, err), loaded = items(history, "--rev", "other", "-q", "@")
    assert (code, out) == expected[:2] and loaded
    assert err == f"warning: the git-sit cache {database} is damaged (an alias has the wrong length); rebuilding it.\n"
    assert sit(history, "cache", "clear").code == 0
    assert items(history, "--rev", "other", "-q", "@") == (expected, True)


def test_javascript_reducers_in_the_tree_are_served_warm(repo: pygit2.Repository, workdir: Path):
    files, _ = sit_tree_files(many(5))
    module = {".sit/modules/mark/reducers/mark.js":
              b"module.exports = function (s) { s.marked = true; return s; };"}
    commit_files(repo, {**files, **module_files(".sit/modules/its"), **module}, ref="main")
    expected = uncached(workdir, "--rev", "main", "-q", "@")
    native = read(workdir, "--no-cache", "--reducers", "native", "items", "--rev", "main", "-q", "@")
    assert expected[0] == 0 and '"marked": true' in expected[1] and expected[1] != native[1]  # the module's own reducers ran
    items(workdir, "--rev", "main", "-q", "@")
    assert items(workdir, "--rev", "main", "-q", "@") == (expected, False)


def test_a_submodule_module_is_never_memorised(tmp_path: Path, workdir: Path):
    module = module_repository(tmp_path / "its-module")
    git(workdir, "init", "-q", "-b", "main")
    files, _ = sit_tree_files(many(4))
    write_files(workdir, files)
    add_submodule(workdir, module, ".sit/modules/issue-tracking")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "with a submodule")
    expected = uncached(workdir, "--rev", "main", "-q", "@")
    assert items(workdir, "--rev", "main", "-q", "@") == (expected, True)
    assert items(workdir, "--rev", "main", "-q", "@") == (expected, True)


# --- the probe against locate, and its pure parts ---

def test_the_probe_finds_what_locate_finds(history: Path, tmp_path: Path):
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(history), str(bare))
    (history / "a" / "b").mkdir(parents=True)
    for cwd in (history, history / "a" / "b", bare):
        for rev in ("main", "other", "v1", "HEAD", "other~1"):
            found = probe.find_sit_tree(str(cwd), rev, candidates)
            located = locate(str(cwd), rev)
            assert found is not None, (cwd, rev)
            assert os.path.realpath(found.common_dir) == os.path.realpath(located.repo.common_dir)
            assert (found.sit_path, found.tree) == (located.site.sit_path, located.site.sit.key)


@pytest.mark.parametrize("rev, env", [
    ("nope", {}), ("main:.sit", {}), ("-h", {}), ("ma in", {}), ("", {}), ("main\n", {}),
    ("main", {"GIT_DIR": ".git"}), ("main", {"GIT_OBJECT_DIRECTORY": "x"}),
])
def test_the_probe_declines_what_it_cannot_answer_for_sure(history: Path, rev: str, env: dict[str, str]):
    assert probe.find_sit_tree(str(history), rev, candidates, {**os.environ, **env}) is None


def test_the_probe_declines_inside_the_git_directory_and_without_a_sit_directory(history: Path, tmp_path: Path):
    assert probe.find_sit_tree(str(history / ".git"), "main", candidates) is None
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", "-b", "main", str(empty))
    git(empty, "commit", "-q", "--allow-empty", "-m", "nothing")
    assert probe.find_sit_tree(str(empty), "main", candidates) is None


@pytest.mark.parametrize("rev, plain", [
    ("main", True), ("v1.0", True), ("HEAD~3", True), ("main@{1}", True), ("a/b", True),
    ("", False), ("-x", False), ("main:sub", False), ("a b", False), ("a\tb", False), ("a\x01", False),
])
def test_plain_revision(rev: str, plain: bool):
    assert probe.plain_revision(rev) is plain


@pytest.mark.parametrize("output, expected", [
    (b".git\nfalse\nfalse\n\n", ("/w/.git", [])),
    (b"/w/.git\nfalse\nfalse\nsub/dir/\n", ("/w/.git", ["sub", "dir"])),
    (b".\ntrue\ntrue\n\n", ("/w", [])),
    (b"../.git\nfalse\ntrue\n\n", None),  # inside a work tree's git directory
    (b".git\n", None),
])
def test_parse_where(output: bytes, expected: tuple[str, list[str]] | None):
    assert probe.parse_where(output, "/w") == expected


@pytest.mark.parametrize("paths, output, expected", [
    ([".sit"], b"abc tree\n", (".sit", "abc")),
    (["a/.sit", ".sit"], b"a/.sit missing\nabc tree\n", (".sit", "abc")),
    (["a/.sit", ".sit"], b"def blob\nabc tree\n", (".sit", "abc")),
    (["a/.sit", ".sit"], b"def tree\nabc tree\n", ("a/.sit", "def")),
    (["x y/.sit", ".sit"], b"x y/.sit missing\nmain:.sit missing\n", None),
    ([".sit"], b"", None),
])
def test_first_tree(paths: list[str], output: bytes, expected: tuple[str, str] | None):
    assert probe.first_tree(paths, output) == expected


def test_memo_keys_differ_in_everything_they_are_of():
    base = ("s/.sit", "a" * 40, warm.context(Options()), True)
    keys = {warm.memo_key(*base)}
    for index, other in enumerate([".sit", "b" * 40, warm.context(Options(integrity=False)), False]):
        changed = list(base)
        changed[index] = other
        keys.add(warm.memo_key(*changed))
    keys.add(warm.memo_key(base[0], base[1], warm.context(Options(reducers="js")), True))
    assert len(keys) == 6 and all(len(key) == 20 for key in keys)


def test_a_complete_read_looks_its_modules_up_once(repo: pygit2.Repository, workdir: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    # The reducers and the memo both need the list of modules; finding them opens trees
    # (and, for a submodule, its repository).
    files, _ = sit_tree_files(many(5))
    commit_files(repo, {**files, **module_files(".sit/modules/its")}, ref="main")
    calls: list[str] = []
    real = locating.find_modules

    def counted(site: Site) -> list[Module]:
        calls.append(site.sit_path)
        return real(site)

    monkeypatch.setattr(locating, "find_modules", counted)
    store = locating.open_store(str(workdir), Options(rev="main", cache=True))
    assert len(list(store.states("id"))) == 5
    assert calls == [".sit"]
    # The memo that read made serves the next one without the repository.
    assert items(workdir, "--rev", "main") == ((0, "".join(f"item-{n:03}\n" for n in range(5)), ""), False)


def test_refs_that_status_read_are_served_warm(history: Path):
    # status records each ref's snapshot and memo, as a complete items --rev does.
    expected = {rev: uncached(history, "--rev", rev, "-q", "@") for rev in ("main", "other")}
    assert sit(history, "status", "--refs", "main", "--refs", "other", "--no-tags").code == 0
    for rev in ("main", "other"):
        assert items(history, "--rev", rev, "-q", "@") == (expected[rev], False), rev
