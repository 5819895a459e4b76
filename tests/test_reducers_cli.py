"""``git sit items`` with a repository's own reducers: exact states, errors, runaway reducers."""

from __future__ import annotations

from pathlib import Path

from git_sit.record import compute_id
from tests.helpers import git, parse_blocks, sit, sit_tree_files
from tests.module_helpers import write_files

COUNTER = b"""var fmt = require('./lib/fmt.js');
module.exports = function (state, record) {
    this.n = (this.n || 0) + 1;
    state.count = this.n;
    state.label = fmt.label(new TextDecoder('utf-8').decode(record.files.text));
    return state;
};
"""
FMT = b"exports.label = function (text) { return '[' + text.trim() + ']'; };\n"
FAULTY = b"""module.exports = function (state, record) {
    var f = record.files;
    if (f.boom) throw new Error('boom at ' + state.count);
    if (f.bad) return 42;
    if (f.spin) for (;;) {}
    if (f.hog) { var all = []; for (;;) all.push(new Array(65536).fill(state.count)); }
    state.ok = (state.ok || 0) + 1;
    return state;
};
"""
LIMITS = {"GIT_SIT_JS_TIME_LIMIT": "0.3", "GIT_SIT_JS_MEMORY_LIMIT": "24"}


def chain(*records: dict[str, bytes]) -> list[dict[str, bytes]]:
    """Records linked one after the other by ``.prev``, so their order is fixed."""
    linked: list[dict[str, bytes]] = []
    for files in records:
        if linked:
            files = {**files, f".prev/{compute_id(linked[-1].items())}": b""}
        linked.append(files)
    return linked


def text(value: str, **extra: bytes) -> dict[str, bytes]:
    return {"text": value.encode(), **extra}


def test_custom_reducers_give_exact_states(workdir: Path):
    files, _ = sit_tree_files({
        "item-a": chain(text("first"), text("second", boom=b""), text(" third ")),
        "item-b": chain(text("only", bad=b""), text("after")),
        "item-c": chain(text("x", spin=b""), text("never")),
        "item-d": chain(text("y"), text("z", hog=b"")),
        "item-e": chain(text("fine")),
    })
    write_files(workdir, files)
    write_files(workdir, {".sit/reducers/counter.js": COUNTER, ".sit/reducers/lib/fmt.js": FMT,
                          ".sit/reducers/zz-faulty.js": FAULTY})
    faulty = "reducers/zz-faulty.js"
    expected = [
        {"id": "item-a", "count": 3, "label": "[third]", "ok": 2,
         "errors": [{"file": faulty, "error": "Error: boom at 2"}]},
        {"id": "item-b", "count": 2, "label": "[after]", "ok": 1,
         "errors": [{"file": faulty, "error": "TypeError: invalid return value 42, expected an object"}]},
        {"id": "item-c", "errors": [{"file": faulty, "error": (
            "stopped after the time limit of 0.3 s; the item's later records were not reduced")}]},
        {"id": "item-d", "count": 1, "label": "[y]", "ok": 1, "errors": [{"file": faulty, "error": (
            "stopped at the memory limit of 24 MiB; the item's later records were not reduced")}]},
        {"id": "item-e", "count": 1, "label": "[fine]", "ok": 1},
    ]
    ran = sit(workdir, "items", "-q", "@", env=LIMITS)
    assert (ran.code, ran.err) == (0, "")
    assert parse_blocks(ran.out) == expected
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "items and reducers")
    at_rev = sit(workdir, "reduce", "item-a", "--rev", "HEAD", env=LIMITS)
    assert parse_blocks(at_rev.out) == expected[:1]


def test_reducers_option_forces_native_or_javascript(workdir: Path):
    files, _ = sit_tree_files({"item": chain({".type/SummaryChanged": b"", "text": b"Title"})})
    write_files(workdir, files)
    only = b"module.exports = function (s) { s.js = true; return s; };"
    write_files(workdir, {".sit/reducers/only.js": only})
    assert parse_blocks(sit(workdir, "items", "-q", "@").out) == [{"id": "item", "js": True}]
    native = [{"id": "item", "summary": "Title", "authors": "", "timestamp": "", "state": "open"}]
    assert parse_blocks(sit(workdir, "items", "-q", "@", "--reducers", "native").out) == native
    assert parse_blocks(sit(workdir, "--reducers", "native", "reduce", "item").out) == native
    assert parse_blocks(sit(workdir, "reduce", "item", env={"GIT_SIT_REDUCERS": "native"}).out) == native
    (workdir / ".sit/reducers/only.js").unlink()
    assert parse_blocks(sit(workdir, "items", "-q", "@").out) == native  # no reducers: the built-in set
    assert parse_blocks(sit(workdir, "items", "-q", "@", "--reducers", "js").out) == [{"id": "item"}]


def test_a_reducer_that_cannot_load_stops_the_command(workdir: Path):
    files, _ = sit_tree_files({"item": chain(text("t"))})
    write_files(workdir, files)
    write_files(workdir, {".sit/reducers/broken.js": b"module.exports = 'not a function';"})
    ran = sit(workdir, "items")
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == ("Error: cannot load reducer reducers/broken.js: "
                       "module.exports should export a function\n")
    assert sit(workdir, "records", "item").code == 0
    bad_limit = sit(workdir, "items", env={"GIT_SIT_JS_TIME_LIMIT": "soon"})
    assert bad_limit.code == 1 and "GIT_SIT_JS_TIME_LIMIT must be a positive number" in bad_limit.err


def test_sources_ending_in_a_line_comment_without_newline_load_with_their_line_numbers(workdir: Path):
    # Each file ends in a `//` comment and no newline: wrapped as `{ src }`, the closing
    # brace would land inside the comment. Lines are 1-based from the file's own first line.
    files, _ = sit_tree_files({"item": chain(text("t"))})
    write_files(workdir, files)
    write_files(workdir, {
        ".sit/reducers/tail.js": (b"var lib = require('./lib/tail.js');\n"
                                  b"module.exports = function (state) {\n"
                                  b"    state.line = /:(\\d+):\\d+\\)/.exec(new Error().stack)[1];\n"
                                  b"    state.lib = lib.line;\n"
                                  b"    return state;\n"
                                  b"};\n// the end"),
        ".sit/reducers/lib/tail.js": b"\nexports.line = /:(\\d+):\\d+/.exec(new Error().stack)[1];\n// the end",
    })
    ran = sit(workdir, "reduce", "item")
    assert (ran.code, ran.err) == (0, "")
    assert parse_blocks(ran.out) == [{"id": "item", "line": "3", "lib": "2"}]


def test_a_reducer_that_changes_the_id_shows_in_the_default_query_from_the_cache(workdir: Path):
    files, _ = sit_tree_files({f"item-{n}": chain(text(f"t{n}")) for n in range(3)})
    write_files(workdir, files)
    write_files(workdir, {".sit/reducers/rename.js": b"module.exports = function (s) { s.id = 'x-' + s.id; return s; };"})
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "items and a reducer")
    expected = [f"x-item-{n}" for n in range(3)]
    for _ in range(3):  # no cache yet, then from the revision's snapshot
        ran = sit(workdir, "items", "--rev", "HEAD")
        assert (ran.code, ran.err, ran.out.splitlines()) == (0, "", expected)
