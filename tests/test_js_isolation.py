"""Repository reducers cannot reach other items, the host, or the answer's shape; limits and symlinks.

Every test runs the real ``git sit`` on a real repository with real reducer files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import git, parse_blocks, sit, sit_tree_files
from tests.module_helpers import write_files
from tests.test_reducers_cli import chain, text

A = "reducers/a.js"

# Records the texts it sees; on a record whose text is "trick" it runs TRICK first.
TRICKY = """module.exports = function (state, record) {
    var text = new TextDecoder('utf-8').decode(record.files.text);
    if (text === 'trick') { TRICK }
    state.texts = (state.texts || []).concat([text]);
    return state;
};
"""


def _tricky_repository(workdir: Path, trick: str) -> None:
    files, _ = sit_tree_files({
        "item-1": chain(text("first")),
        "item-2": chain(text("one"), text("trick"), text("after")),
        "item-3": chain(text("three")),
    })
    write_files(workdir, files)
    write_files(workdir, {".sit/reducers/a.js": TRICKY.replace("TRICK", trick).encode()})


def _invalid(shown: str) -> dict[str, str]:
    return {"file": A, "error": f"TypeError: invalid return value {shown}, expected an object"}


NORMAL = {"id": "item-2", "texts": ["one", "trick", "after"]}
TRICKS = [
    # The state inherits toJSON: it is no object any more (on every later record of the item, too).
    ("Object.prototype.toJSON = function () { return 5; };",
     {"id": "item-2", "texts": ["one"], "errors": [_invalid("5"), _invalid("5")]}),
    ("Object.prototype.toJSON = function () { return 'x'; };",
     {"id": "item-2", "texts": ["one"], "errors": [_invalid('"x"'), _invalid('"x"')]}),
    ("Object.prototype.toJSON = function () { return undefined; };",
     {"id": "item-2", "texts": ["one"], "errors": [_invalid("undefined"), _invalid("undefined")]}),
    # Answers the sandbox's wrapper would have given, if it inherited toJSON: ignored.
    ("Object.prototype.toJSON = function (k) {"
     " return k === '' ? {error: {file: 'forged.js', error: 'forged'}} : this; };", NORMAL),
    ("Object.prototype.toJSON = function (k) { return k === '' ? {quirk: false} : this; };", NORMAL),
    ("Object.prototype.toJSON = function (k) { return k === '' ? {quirk: 1, state: {}} : this; };", NORMAL),
    # Setters on Object.prototype for the protocol's keys, and the builtins the sandbox uses.
    ("['state', 'quirk', 'error', 'file', 'index', 'hash', 'files', 'text', '0', '1'].forEach(function (k) {"
     " Object.defineProperty(Object.prototype, k, {set: function () { throw 1; }, configurable: true}); });"
     " Function.prototype.call = function () { return {hijacked: true}; };"
     " Function.prototype.apply = null; Array.prototype.push = null; Array.prototype.join = null;"
     " String.prototype.charCodeAt = function () { return 0; }; JSON.stringify = null; JSON.parse = null;"
     " Object.keys = null; Object.create = null; Object.defineProperty = null;", NORMAL),
    # An error message and its attribution come from the sandbox, not from replaced builtins.
    ("String = function () { return {toJSON: function () { return 'forged'; }}; };"
     " Object.prototype.toString = function () { return 'forged'; }; throw new Error('real');",
     {"id": "item-2", "texts": ["one", "after"], "errors": [{"file": A, "error": "Error: real"}]}),
]


@pytest.mark.parametrize(("trick", "expected"), TRICKS)
def test_prototype_tricks_cannot_crash_the_host_or_forge_the_answer(workdir: Path, trick: str,
                                                                    expected: dict[str, object]):
    _tricky_repository(workdir, trick)
    ran = sit(workdir, "--no-cache", "items", "-q", "@")
    assert (ran.code, ran.err) == (0, "")
    assert parse_blocks(ran.out) == [{"id": "item-1", "texts": ["first"]}, expected,
                                     {"id": "item-3", "texts": ["three"]}]


# State kept outside `this`: a top-level variable, a global, a prototype, a required module.
LEAKY = b"""var counter = 0, lib = require('./lib/count.js');
module.exports = function (state, record) {
    counter++; globalThis.g = (globalThis.g || 0) + 1;
    Object.prototype.polluted = (Object.prototype.polluted || 0) + 1;
    lib.n++;
    state.runs = [counter, globalThis.g, ({}).polluted, lib.n];
    var names = Object.keys(record.files).filter(function (k) { return k.slice(0, 6) !== '.prev/'; });
    state.files = (state.files || []).concat([names.join()]);
    return state;
};
"""


def test_each_item_starts_from_a_fresh_context_so_the_cache_changes_nothing(workdir: Path):
    files, _ = sit_tree_files({f"item-{n}": chain(text(f"t{n}"), text(f"u{n}")) for n in range(1, 4)})
    write_files(workdir, files)
    write_files(workdir, {".sit/reducers/a.js": LEAKY, ".sit/reducers/lib/count.js": b"exports.n = 0;"})
    expected = [{"id": f"item-{n}", "runs": [2, 2, 2, 2], "files": ["text", "text"]} for n in range(1, 4)]
    alone = sit(workdir, "reduce", "item-3")  # fills the cache with item-3 reduced first
    assert (alone.code, alone.err, parse_blocks(alone.out)) == (0, "", expected[2:])
    for args in (["items", "-q", "@"], ["--no-cache", "items", "-q", "@"], ["items", "-q", "@"]):
        ran = sit(workdir, *args)
        assert (ran.code, ran.err, parse_blocks(ran.out)) == (0, "", expected)
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "items and reducers")
    at_rev = sit(workdir, "--no-cache", "items", "--rev", "HEAD", "-q", "@")
    assert (at_rev.code, at_rev.err, parse_blocks(at_rev.out)) == (0, "", expected)


@pytest.mark.parametrize("name", ["GIT_SIT_JS_TIME_LIMIT", "GIT_SIT_JS_MEMORY_LIMIT"])
@pytest.mark.parametrize("value", ["inf", "-inf", "1e309", "1e20", "nan", "0", "-1", "abc", "2e6"])
def test_limits_must_be_finite_positive_and_sane(workdir: Path, name: str, value: str):
    files, _ = sit_tree_files({"item": chain(text("t"))})
    write_files(workdir, files)
    write_files(workdir, {".sit/reducers/a.js": b"module.exports = function (s) { s.ok = 1; return s; };"})
    ran = sit(workdir, "--no-cache", "reduce", "item", env={name: value})
    what = "seconds, at most 86400" if "TIME" in name else "MiB, at most 1048576"
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == f"Error: {name} must be a positive number of {what}, not {value!r}.\n"


def test_limits_at_the_maximum_and_a_heap_too_small_to_start(workdir: Path):
    files, _ = sit_tree_files({"item": chain(text("t"))})
    write_files(workdir, files)
    write_files(workdir, {".sit/reducers/a.js": b"module.exports = function (s) { s.ok = 1; return s; };"})
    ran = sit(workdir, "--no-cache", "reduce", "item",
              env={"GIT_SIT_JS_TIME_LIMIT": "86400", "GIT_SIT_JS_MEMORY_LIMIT": "1048576"})
    assert (ran.code, ran.err, parse_blocks(ran.out)) == (0, "", [{"id": "item", "ok": 1}])
    tiny = sit(workdir, "--no-cache", "reduce", "item", env={"GIT_SIT_JS_MEMORY_LIMIT": "0.0625"})
    assert (tiny.code, tiny.out) == (1, "")
    assert tiny.err == "Error: cannot start the JavaScript engine: stopped at the memory limit of 0.0625 MiB.\n"


USES_LINKS = b"""module.exports = function (state) {
    state.n = (state.n || 0) + 1;
    ['./lib/link.js', './linked/x.js'].forEach(function (id) {
        try { require(id); } catch (e) { state[id] = String(e); }
    });
    return state;
};
"""


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlinked_reducers_are_skipped_with_one_warning_and_require_says_why(workdir: Path):
    files, _ = sit_tree_files({"item-1": chain(text("t")), "item-2": chain(text("u"))})
    write_files(workdir, files)
    write_files(workdir, {".sit/reducers/a.js": USES_LINKS, ".sit/reducers/lib/x.js": b"exports.x = 1;"})
    reducers = workdir / ".sit/reducers"
    (reducers / "b.js").symlink_to("a.js")
    (reducers / "lib/link.js").symlink_to("x.js")
    (reducers / "linked").symlink_to("lib")
    warning = "warning: reducer reducers/b.js is a symlink, which git-sit does not follow; not run.\n"
    state = {"n": 1,
             "./lib/link.js": 'Error: module "lib/link.js" is not loaded: lib/link.js is a symlink, '
                              "which git-sit does not follow",
             "./linked/x.js": 'Error: module "linked/x.js" is not loaded: linked is a symlink, '
                              "which git-sit does not follow"}
    expected = [{"id": "item-1", **state}, {"id": "item-2", **state}]
    in_tree = sit(workdir, "--no-cache", "items", "-q", "@")
    assert (in_tree.code, in_tree.err, parse_blocks(in_tree.out)) == (0, warning, expected)
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "items and reducers")
    at_rev = sit(workdir, "--no-cache", "items", "--rev", "HEAD", "-q", "@")
    assert (at_rev.code, at_rev.err, parse_blocks(at_rev.out)) == (0, warning, expected)
    native = sit(workdir, "--no-cache", "--reducers", "native", "reduce", "item-1", "-q", "id")
    assert (native.code, native.err, native.out) == (0, "", "item-1\n")


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_a_root_whose_only_reducer_is_a_symlink_warns_and_uses_the_built_in_set(workdir: Path):
    files, _ = sit_tree_files({"item": chain({".type/SummaryChanged": b"", "text": b"Title"})})
    write_files(workdir, files)
    (workdir / ".sit/reducers").mkdir()
    (workdir / ".sit/reducers/only.js").symlink_to("/nonexistent/only.js")
    ran = sit(workdir, "--no-cache", "reduce", "item", "-q", "summary")
    assert (ran.code, ran.out) == (0, "Title\n")
    assert ran.err == "warning: reducer reducers/only.js is a symlink, which git-sit does not follow; not run.\n"


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
@pytest.mark.parametrize("where", [".sit/reducers", ".sit/modules/m/reducers"])
def test_a_symlinked_reducers_directory_warns_and_is_not_run(workdir: Path, tmp_path: Path, where: str):
    files, _ = sit_tree_files({"item": chain({".type/SummaryChanged": b"", "text": b"Title"})})
    write_files(workdir, files)
    outside = tmp_path / "elsewhere"
    write_files(outside, {"a.js": b"module.exports = function (s) { s.summary = 'ran'; return s; };"})
    (workdir / where).parent.mkdir(parents=True, exist_ok=True)
    (workdir / where).symlink_to(outside)
    label = where.removeprefix(".sit/")
    warning = (f"warning: reducers directory {label} is a symlink, which git-sit does not follow; "
               "its reducers are not run.\n")
    in_tree = sit(workdir, "--no-cache", "reduce", "item", "-q", "summary")
    assert (in_tree.code, in_tree.err, in_tree.out) == (0, warning, "Title\n")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "item and linked reducers")
    at_rev = sit(workdir, "--no-cache", "reduce", "item", "--rev", "HEAD", "-q", "summary")
    assert (at_rev.code, at_rev.err, at_rev.out) == (0, warning, "Title\n")
