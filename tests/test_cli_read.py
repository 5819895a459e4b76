"""Reading through the real CLI: --rev against the work tree, bare repositories, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pygit2
import pytest

from git_sit.record import split_path
from tests.helpers import copy_fixture, expected_states, git, parse_blocks, record_files, sit, sit_tree_files

ITEM = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"


@pytest.fixture
def history(workdir: Path) -> Path:
    """main: ITEM opened (commit 1), then closed (commit 2); release-1.0 at commit 1."""
    assert sit(workdir, "init").code == 0
    run = sit(workdir, "item", "--id", ITEM)
    assert run.code == 0
    (workdir / "text").write_text("Crash\n")
    assert sit(workdir, "record", "-t", "SummaryChanged", ITEM, "text").code == 0
    git(workdir, "commit", "-qm", "open")
    git(workdir, "branch", "release-1.0")
    assert sit(workdir, "record", "-t", "Closed", ITEM).code == 0
    git(workdir, "commit", "-qm", "close")
    return workdir


def state_of(cwd: Path, *args: str) -> str:
    run = sit(cwd, "reduce", ITEM, "-q", "state", *args)
    assert run.code == 0, run.err
    return run.out.strip()


def test_rev_reads_older_state_while_work_tree_shows_newer(history: Path):
    assert state_of(history) == "closed"
    assert state_of(history, "--rev", "release-1.0") == "open"
    assert state_of(history, "--rev", "HEAD~1") == "open"
    assert state_of(history, "--rev", "main") == "closed"
    # An uncommitted record shows at once in the work tree, and not at --rev HEAD.
    assert sit(history, "record", "-t", "Reopened", ITEM).code == 0
    assert state_of(history) == "open"
    assert state_of(history, "--rev", "HEAD") == "closed"
    # Moving a branch moves what --rev sees.
    git(history, "branch", "-f", "release-1.0", "main")
    assert state_of(history, "--rev", "release-1.0") == "closed"


def test_rev_accepts_tags_commits_and_trees(history: Path):
    git(history, "tag", "-a", "-m", "v1", "v1.0", "HEAD~1")
    commit = git(history, "rev-parse", "HEAD~1").strip()
    tree = git(history, "rev-parse", "HEAD~1^{tree}").strip()
    for rev in ("v1.0", commit, commit[:10], tree):
        assert state_of(history, "--rev", rev) == "open"


def test_bare_repository_defaults_to_head(history: Path, tmp_path: Path):
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(history), str(bare))
    assert state_of(bare) == "closed"
    assert state_of(bare, "--rev", "release-1.0") == "open"
    assert sit(bare, "items").out.split() == [ITEM]
    assert sit(bare, "path").out.strip() == "HEAD:.sit"


def test_subdirectory_and_git_dash_c(history: Path):
    sub = history / "src" / "deep"
    sub.mkdir(parents=True)
    assert state_of(sub) == "closed"
    assert state_of(sub, "--rev", "release-1.0") == "open"
    run = subprocess.run(["git", "-C", str(history), "sit", "items"], capture_output=True, text=True)
    assert run.stdout.split() == [ITEM]
    assert sit(sub, "path").out.strip() == str(history / ".sit")
    assert sit(history / ".sit" / "items", "items").out.split() == [ITEM]


def test_nested_sit_directory_wins_below_it(history: Path):
    nested = history / "sub"
    nested.mkdir()
    assert sit(nested, "init").code == 0
    assert sit(nested, "items").out == ""
    git(history, "add", ".")
    git(history, "commit", "-qm", "nested")
    assert sit(nested, "items", "--rev", "HEAD").out == ""
    assert sit(history, "items", "--rev", "HEAD").out.split() == [ITEM]


def test_items_filters_queries_and_named_expressions(history: Path, hermetic: Path):
    assert sit(history, "item", "--id", OTHER).code == 0
    (history / "text").write_text("Docs\n")
    assert sit(history, "record", "-t", "SummaryChanged", OTHER, "text").code == 0
    run = sit(history, "items", "-f", "state == 'open'", "-q", "join(' | ', [id, summary])")
    assert run.out == f"{OTHER} | Docs\n"
    (history / ".sit" / ".items" / "filters").mkdir(parents=True)
    (history / ".sit" / ".items" / "filters" / "closed").write_text("state == 'closed'\n")
    assert sit(history, "items", "-F", "closed").out.split() == [ITEM]
    user = hermetic / ".config" / "sit"
    user.mkdir(parents=True)
    (user / "config.json").write_text(json.dumps({"items": {"queries": {"title": "summary"}}}))
    assert sit(history, "items", "-Q", "title").out.split("\n") == ["Crash", "Docs", ""]
    assert sit(history, "reduce", OTHER[:4], "-Q", "title").out == "Docs\n"
    blocks = parse_blocks(sit(history, "items", "-q", "@").out)
    assert [b["id"] for b in blocks] == [ITEM, OTHER]


def test_records_command(history: Path):
    run = sit(history, "records", ITEM, "-q", "@")
    records = parse_blocks(run.out)
    assert [sorted(r["files"]) for r in records] == [
        [".authors", ".timestamp", ".type/SummaryChanged", "text"],
        [".authors", ".prev/" + records[0]["hash"], ".timestamp", ".type/Closed"],
    ]
    assert records[0]["files"]["text"] == "Crash\n"
    assert sit(history, "records", "-f", "contains(keys(files), '.type/Closed')").out.split() == [
        records[1]["hash"]]
    assert sit(history, "records").out.split() == [r["hash"] for r in records]


def test_path_and_config(history: Path):
    record_id = sit(history, "records", ITEM).out.split()[0]
    assert sit(history, "path", "-r", record_id).out.strip() == str(
        history / ".sit" / "records" / split_path(record_id))
    assert sit(history, "path", "-r", "AAAAAAAA", "--rev", "HEAD").code == 1
    assert sit(history, "config", "repository", "-q", "hashing_algorithm.blake2b.size").out == "20\n"
    assert sit(history, "config").out == "{}\n"


def test_integrity_reports_tampered_records(history: Path):
    assert sit(history, "integrity").code == 0
    record_id = sit(history, "records", ITEM).out.split()[0]
    text = history / ".sit" / "records" / split_path(record_id) / "text"
    text.write_text("Tampered\n")
    run = sit(history, "integrity")
    assert run.code == 1 and run.out == f"{ITEM} {record_id}\n"
    assert sit(history, "integrity", "--rev", "HEAD").code == 0
    assert "does not match" in sit(history, "items").err
    assert sit(history, "-i", "reduce", ITEM, "-q", "summary").out == "Tampered\n"


def test_fixture_through_bare_clone(fixture_dir: Path, workdir: Path, tmp_path: Path):
    copy_fixture(workdir)
    git(workdir, "add", ".")
    git(workdir, "commit", "-qm", "fixture")
    bare = tmp_path / "fixture.git"
    git(tmp_path, "clone", "-q", "--bare", str(workdir), str(bare))
    assert parse_blocks(sit(bare, "items", "-q", "@").out) == expected_states()
    assert sit(bare, "integrity").code == 0


BAD_INPUT = [
    (["items", "--rev", "no-such-branch"], 1, "unknown revision 'no-such-branch'"),
    (["reduce", "nope"], 1, "no item 'nope'"),
    (["items", "-f", "state =="], 2, "invalid JMESPath"),
    (["items", "-q", "[["], 2, "invalid JMESPath"),
    (["items", "-f", "id"], 1, "not true or false"),
    (["items", "-f", "id == 'x'", "-F", "open"], 2, "not both"),
    (["reduce", ITEM, "-q", "abs(id)"], 1, "failed"),
]


@pytest.mark.parametrize(("args", "code", "message"), BAD_INPUT)
def test_bad_input_gives_one_line(history: Path, args, code, message):
    run = sit(history, *args)
    assert run.code == code, run.err
    assert message in run.err
    assert "Traceback" not in run.err
    assert len([line for line in run.err.splitlines() if line.startswith("Error:")]) == 1


def test_ambiguous_prefix(history: Path):
    assert sit(history, "item", "--id", "11111111-other").code == 0
    (history / "x").write_text("x")
    sit(history, "record", "-t", "X", "11111111-other", "x")
    run = sit(history, "reduce", "1111")
    assert run.code == 1 and "ambiguous" in run.err and ITEM in run.err


def test_not_a_git_repository(tmp_path: Path):
    run = sit(tmp_path, "items")
    assert run.code == 1 and "not in a git repository" in run.err


def test_no_sit_directory(workdir: Path):
    run = sit(workdir, "items")
    assert run.code == 1 and "git sit init" in run.err
    (workdir / ".sit").mkdir()
    run = sit(workdir, "items")
    assert run.code == 1 and "no config.json" in run.err


def test_malformed_config(history: Path):
    (history / ".sit" / "config.json").write_text("{not json")
    run = sit(history, "items")
    assert run.code == 1 and "config.json is not valid JSON" in run.err and "Traceback" not in run.err
    (history / ".sit" / "config.json").write_text('{"hashing_algorithm": "md5"}')
    assert "unsupported hashing_algorithm" in sit(history, "items").err


def test_unborn_head_in_bare_repository(tmp_path: Path):
    bare = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    run = sit(bare, "items")
    assert (run.code, run.err) == (1, "Error: revision 'HEAD' is branch 'main', which has no commit yet.\n")


def _mktree(cwd: Path, entries: list[tuple[str, str, str, bytes]], missing: bool = False) -> str:
    lines = b"".join(f"{mode} {kind} {oid}\t".encode() + name + b"\n" for mode, kind, oid, name in entries)
    args = ["git", "mktree"] + (["--missing"] if missing else [])
    return subprocess.run(args, cwd=cwd, input=lines, capture_output=True, check=True).stdout.decode().strip()


def _tree_with_record(workdir: Path, record_entries: list[tuple[str, str, str, bytes]],
                      record_id: str, missing: bool = False) -> str:
    """A commit whose .sit holds ITEM linking to a record dir with exactly ``record_entries``."""
    repo = pygit2.Repository(str(workdir))
    record_tree = _mktree(workdir, record_entries, missing)
    files, _ = sit_tree_files({})
    files[f".sit/items/{ITEM}/{record_id}"] = f"../../records/{split_path(record_id)}".encode()
    index = pygit2.Index()
    for path, data in files.items():
        index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
    index.add(pygit2.IndexEntry(f".sit/records/{split_path(record_id)}/.placeholder",
                                repo.create_blob(b""), pygit2.enums.FileMode.BLOB))
    base = repo[index.write_tree(repo)]
    # Swap the placeholder record directory for the hand-made tree.
    def rebuild(tree: Any, parts: list[str]) -> pygit2.Oid:
        builder = repo.TreeBuilder(tree)
        if len(parts) == 1:
            builder.insert(parts[0], pygit2.Oid(hex=record_tree), pygit2.enums.FileMode.TREE)
        else:
            builder.insert(parts[0], rebuild(tree / parts[0], parts[1:]), pygit2.enums.FileMode.TREE)
        return builder.write()

    tree = rebuild(base, [".sit", "records", *split_path(record_id).split("/")])
    sig = pygit2.Signature("T", "t@example.com", 0, 0)
    return str(repo.create_commit(None, sig, sig, "hand-made", tree, []))


def test_non_utf8_name_in_git_record_is_skipped(workdir: Path):
    blob = git(workdir, "hash-object", "-w", "--stdin", input="x").strip()
    record_id = "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"
    commit = _tree_with_record(workdir, [("100644", "blob", blob, b"caf\xe9")], record_id)
    run = sit(workdir, "reduce", ITEM, "--rev", commit)
    assert run.code == 0 and json.loads(run.out) == {"id": ITEM}
    assert record_id in run.err and "UTF-8" in run.err


def test_missing_object_is_reported_and_skipped(workdir: Path):
    record_id = "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"
    commit = _tree_with_record(workdir, [("100644", "blob", "1" * 40, b"test")], record_id, missing=True)
    run = sit(workdir, "reduce", ITEM, "--rev", commit)
    assert run.code == 0 and json.loads(run.out) == {"id": ITEM}
    assert record_id in run.err and "missing" in run.err and "Traceback" not in run.err
    run = sit(workdir, "integrity", "--rev", commit)
    assert run.code == 1 and record_id in run.out


def test_valid_hand_made_record_reads(workdir: Path):
    blob = git(workdir, "hash-object", "-w", "--stdin", input="hello").strip()
    record_id = "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"  # §2.4: test = hello
    commit = _tree_with_record(workdir, [("100644", "blob", blob, b"test")], record_id)
    run = sit(workdir, "records", ITEM, "--rev", commit)
    assert (run.code, run.out, run.err) == (0, record_id + "\n", "")


def test_records_of_a_file_set(workdir: Path):
    assert record_files(["A"], text="t") == {".type/A": b"", "text": b"t"}


def test_reduce_from_a_given_state_and_fixed_roots(history: Path):
    """§5.1: ``--state`` is the initial state (the item's id on top); ``--root`` keeps roots and what follows."""
    opened, closed = sit(history, "records", ITEM, "-q", "hash").out.split()  # strings print raw (§5.5)

    def reduce(*args: str) -> Any:
        run = sit(history, "reduce", *args)
        assert run.code == 0, run.err
        return json.loads(run.out)

    assert reduce(ITEM, "-s", '{"id": "mine", "x": [1]}', "-q", "[id, x, state, summary]") == \
        [ITEM, [1], "closed", "Crash"]
    assert reduce(ITEM, "-R", closed, "-q", "{s: state, t: summary}") == {"s": "closed", "t": None}
    assert reduce(ITEM, "-R", opened, "-q", "{s: state, t: summary}") == {"s": "closed", "t": "Crash"}
    assert reduce(ITEM, "-R", closed, "--rev", "release-1.0", "-q", "@") == {"id": ITEM}  # no such record there
    assert reduce(ITEM, "-R", opened, "--rev", "release-1.0", "-q", "[state]") == ["open"]
    assert reduce("-s", '{"n": 2}', "-q", "[n, state, id]") == [2, "closed", None]  # the repository container
    assert reduce("-R", closed, "-q", "[state, summary]") == ["closed", None]
    plain = reduce(ITEM, "-q", "@")  # the cached path, unchanged by the runs before
    assert plain == reduce(ITEM, "-R", opened, "-q", "@") and "x" not in plain


@pytest.mark.parametrize(("state", "message"), [("[1]", "not a JSON object"), ("{", "not JSON"), ("", "not JSON")])
def test_reduce_state_must_be_a_json_object(history: Path, state: str, message: str):
    run = sit(history, "reduce", ITEM, "--state", state)
    assert run.code == 2 and message in run.err and "Traceback" not in run.err, run.err
    assert run.out == ""


@pytest.mark.parametrize("jobs", ["two", "0", "-1", "1.5", "²"])
def test_a_bad_git_sit_jobs_is_one_line_cold_and_warm(history: Path, jobs: str):
    assert sit(history, "items").code == 0  # the cache is warm: the read would not fork at all
    for args in (["items"], ["--no-cache", "items"], ["status"]):
        run = sit(history, *args, env={"GIT_SIT_JOBS": jobs})
        assert run.code == 1 and run.out == "", (args, run.out, run.err)
        assert run.err == f"Error: GIT_SIT_JOBS must be a whole number of worker processes, 1 or more, " \
                          f"not {jobs!r}.\n"


@pytest.mark.parametrize("jobs", ["", " ", "1", "3"])
def test_a_good_or_empty_git_sit_jobs_reads_as_usual(history: Path, jobs: str):
    run = sit(history, "items", "-q", "state", env={"GIT_SIT_JOBS": jobs})
    assert (run.code, run.out, run.err) == (0, "closed\n", "")
