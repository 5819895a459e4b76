"""``reduce -r/--reducer PATH``: reducers named on the command line replace the repository's (§5.3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import git, sit

ITEM = "11111111-1111-4111-8111-111111111111"
# Each reducer appends its tag and the record's types, so the output shows which ran, in what order.
TRACE = ("module.exports = function (state, record) {{"
         " var t = Object.keys(record.files).filter(function (n) {{ return n.indexOf('.type/') == 0; }});"
         " state.trace = (state.trace || []).concat(['{tag}:' + t.join(',')]); return state; }};")


@pytest.fixture
def tracked(workdir: Path) -> Path:
    """ITEM with a SummaryChanged then a Closed record, committed; reducers beside it."""
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "item", "--id", ITEM).code == 0
    (workdir / "text").write_text("Crash\n")
    assert sit(workdir, "record", "-t", "SummaryChanged", ITEM, "text").code == 0
    assert sit(workdir, "record", "-t", "Closed", ITEM).code == 0
    (workdir / "text").unlink()
    named = workdir / ".sit" / "reducers" / "named"
    named.mkdir(parents=True)
    (named / "b.js").write_text(TRACE.format(tag="b"))
    (named / "a.js").write_text("var tag = require('./lib/tag.js');\n" + TRACE.format(tag="' + tag + '"))
    (named / "lib").mkdir()
    (named / "lib" / "tag.js").write_text("module.exports = 'a';\n")
    (workdir / "one.js").write_text(TRACE.format(tag="one"))
    (workdir / "elsewhere").mkdir()
    (workdir / "elsewhere" / "z.js").write_text(TRACE.format(tag="z"))
    (workdir / "elsewhere" / "notes.txt").write_text("not a reducer\n")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "tracked")
    return workdir


def reduce_json(cwd: Path, *args: str) -> Any:
    run = sit(cwd, "reduce", *args)
    assert run.code == 0 and run.err == "", run.err
    return json.loads(run.out)


@pytest.mark.parametrize(("paths", "trace"), [
    (["one.js"], ["one:.type/SummaryChanged", "one:.type/Closed"]),
    # A directory of .sit/reducers: its *.js in name order, require() within it.
    (["named"], ["a:.type/SummaryChanged", "b:.type/SummaryChanged", "a:.type/Closed", "b:.type/Closed"]),
    (["elsewhere"], ["z:.type/SummaryChanged", "z:.type/Closed"]),
    # Several: in the order given, for each record.
    (["elsewhere", "one.js"],
     ["z:.type/SummaryChanged", "one:.type/SummaryChanged", "z:.type/Closed", "one:.type/Closed"]),
])
def test_named_reducers_replace_the_repositorys(tracked: Path, paths: list[str], trace: list[str]):
    args = [a for path in paths for a in ("-r", path)]
    # No built-in reducer runs beside them: no "state", no "summary", only the trace.
    assert reduce_json(tracked, ITEM, *args) == {"id": ITEM, "trace": trace}
    assert reduce_json(tracked, *args) == {"trace": trace}  # the repository's container
    # The usual reduction is untouched (and not taken from what -r computed).
    assert reduce_json(tracked, ITEM)["state"] == "closed"


def test_named_reducers_at_a_revision_and_in_a_subdirectory(tracked: Path):
    # .sit/reducers/NAME comes from the revision read; a file or directory from the disk.
    (tracked / ".sit" / "reducers" / "named" / "b.js").unlink()
    expected = ["a:.type/SummaryChanged", "b:.type/SummaryChanged", "a:.type/Closed", "b:.type/Closed"]
    assert reduce_json(tracked, ITEM, "-r", "named", "--rev", "HEAD")["trace"] == expected
    assert reduce_json(tracked, ITEM, "-r", "named")["trace"] == ["a:.type/SummaryChanged", "a:.type/Closed"]
    assert reduce_json(tracked / "elsewhere", ITEM, "-r", "../one.js")["trace"] == [
        "one:.type/SummaryChanged", "one:.type/Closed"]


def test_with_the_other_reduce_options(tracked: Path):
    state = reduce_json(tracked, ITEM, "-r", "one.js", "-s", '{"trace": ["start"]}', "-q", "trace")
    assert state == ["start", "one:.type/SummaryChanged", "one:.type/Closed"]


def test_an_empty_directory_leaves_the_initial_state(tracked: Path):
    (tracked / "empty").mkdir()
    assert reduce_json(tracked, ITEM, "-r", "empty") == {"id": ITEM}


def test_a_symlinked_reducer_is_not_run_and_said(tracked: Path):
    (tracked / "linked").mkdir()
    (tracked / "linked" / "one.js").symlink_to("../one.js")
    run = sit(tracked, "reduce", ITEM, "-r", "linked")
    assert run.code == 0 and json.loads(run.out) == {"id": ITEM}
    assert run.err == ("warning: reducer linked/one.js is a symlink, which git-sit does not follow; "
                       "not run.\n")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["reduce", ITEM, "-r", ""], 1,
     "Error: reducer '' not found: it is neither a file, nor a directory "
     "reducers/ of the repository, nor a directory.\n"),
    (["reduce", ITEM, "-r", "missing"], 1,
     "Error: reducer 'missing' not found: it is neither a file, nor a directory "
     "reducers/missing of the repository, nor a directory.\n"),
    (["--reducers", "native", "reduce", ITEM, "-r", "one.js"], 2,
     "Error: --reducer runs JavaScript reducers; it cannot be used with --reducers native.\n"),
])
def test_bad_reducer_paths_are_one_line(tracked: Path, args: list[str], code: int, message: str):
    run = sit(tracked, *args)
    assert run.code == code and run.out == "", run.err
    assert run.err.endswith(message) and "Traceback" not in run.err, run.err
