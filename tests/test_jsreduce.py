"""The JavaScript reducer runtime (SIT-FORMAT §5.4), driven through ``ScriptReducers``."""

from __future__ import annotations

import json
import random

import pytest

from git_sit.errors import SitError
from git_sit.jsengine import Limits
from git_sit.jsreduce import ScriptReducers, _Native, _native
from git_sit.modules import ReducerRoot
from git_sit.record import Record
from git_sit.reduce import Reducer, reduce_records, text_decode

FAST = Limits(time=0.3, memory=32 * 1024 * 1024)


def reducers(files: dict[str, str], *more: dict[str, str], limits: Limits = FAST) -> ScriptReducers:
    """A reducer set of one root per ``files`` dict (path → source); top-level *.js run in name order."""
    roots = []
    for index, root in enumerate((files, *more)):
        names = tuple(sorted(n for n in root if "/" not in n and n.endswith(".js")))
        label = "reducers" if index == 0 else f"modules/m{index}/reducers"
        roots.append(ReducerRoot(label, {k: v.encode() for k, v in root.items()}, names))
    return ScriptReducers(roots, [False] * len(roots), limits)


def rec(rid: str, **files: bytes) -> Record:
    return Record(rid, {name.replace("__", "/").replace("_", "."): data for name, data in files.items()})


def test_this_is_per_reducer_and_reset_for_each_reduction():
    counter = ("module.exports = function (state) {"
               " this.n = (this.n || 0) + 1; state[KEY] = this.n; return state; };")
    rs = reducers({"a.js": counter.replace("KEY", "'a'"), "b.js": counter.replace("KEY", "'b'")})
    records = [rec("R1"), rec("R2"), rec("R3")]
    assert rs.reduce(records, {"id": "i"}) == {"id": "i", "a": 3, "b": 3}
    assert rs.reduce(records[:1], {"id": "j"}) == {"id": "j", "a": 1, "b": 1}


def test_record_object_buffers_and_text_decoder():
    source = """module.exports = function (state, record) {
        var f = record.files, d = new TextDecoder('utf-8');
        return {keys: Object.keys(record), hash: record.hash, names: Object.keys(f),
                empty_truthy: !!f['.type/Commented'], is_u8: f.text instanceof Uint8Array,
                length: f.text.length, first: f.text[0], text: d.decode(f.text),
                missing: d.decode(f.nothing), missing_type: typeof f.nothing,
                encoding: d.encoding, round: d.decode(new TextEncoder().encode('h\\u00e9\\ud83d\\ude00'))};
    };"""
    state = reducers({"r.js": source}).reduce([rec("ABC", _type__Commented=b"", text=b"\xef\xbb\xbfhi")], {})
    assert state == {
        "keys": ["hash", "files"], "hash": "ABC", "names": [".type/Commented", "text"],
        "empty_truthy": True, "is_u8": True, "length": 5, "first": 0xEF, "text": "hi",
        "missing": "", "missing_type": "undefined", "encoding": "utf-8", "round": "hé😀",
    }


DECODE_CASES = [
    b"", b"plain", b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbfx", b"\xff", b"\xc3", b"\xc3(", b"\xe2\x82",
    b"\xe2\x82\xac", b"\xed\xa0\x80", b"\xf0\x9f\x98", b"\xf0\x9f\x98\x80", b"\xf4\x90\x80\x80",
    b"\xc0\xaf", b"\xe0\x80\xaf", b"\x80\x80abc", b"a\x00b", b"\xf8\x88\x80\x80\x80",
]


def test_text_decoder_matches_whatwg_replacement():
    generator = random.Random(6)
    alphabet = [0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC2, 0xC3, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF,
                0xA0, 0x9F]
    fuzz = [bytes(generator.choice(alphabet) for _ in range(generator.randrange(12))) for _ in range(400)]
    cases = DECODE_CASES + fuzz
    source = ("module.exports = function (state, record) { var d = new TextDecoder('utf-8');"
              " state.out.push(d.decode(record.files.x)); return state; };")
    records = [rec(f"R{i}", x=data) for i, data in enumerate(cases)]
    state = reducers({"r.js": source}).reduce(records, {"out": []})
    assert state["out"] == [text_decode(data) for data in cases]


REQUIRE_FILES = {
    "a.js": """var util = require('./lib/util.js'), again = require('lib/util.js');
        module.exports = function (state) {
            state.value = util.twice(21); state.same = util === again; state.loads = util.loads;
            state.nested = util.nested; return state;
        };""",
    "lib/util.js": """var count = (this.count = (this.count || 0) + 1);
        exports.twice = function (x) { return 2 * x; };
        exports.loads = count; exports.nested = require('./deeper/value.js');""",
    "lib/deeper/value.js": "module.exports = 'deep';",
}


def test_require_resolves_within_the_root_once_per_heap():
    state = reducers(REQUIRE_FILES).reduce([rec("R")], {})
    assert state == {"value": 42, "same": True, "loads": 1, "nested": "deep"}


@pytest.mark.parametrize(("request_id", "message"), [
    ("./lib/util", 'Error: module not found: "lib/util"'),
    ("../outside.js", "TypeError: cannot resolve module id: ../outside.js"),
    ("/etc/passwd", "TypeError: cannot resolve module id: /etc/passwd"),
    ("lib//util.js", "TypeError: cannot resolve module id: lib//util.js"),
    ("fs", 'Error: module not found: "fs"'),
    ("./other.js", 'Error: module not found: "other.js"'),
])
def test_require_failures_are_error_entries(request_id, message):
    source = f"module.exports = function (s) {{ require({json.dumps(request_id)}); }};"
    other = {"other.js": "module.exports = function (s) { return s; };"}
    state = reducers({**REQUIRE_FILES, "b.js": source}, other).reduce([rec("R")], {})
    assert state == {"errors": [{"file": "reducers/b.js", "error": message}]}


def test_undefined_return_makes_later_reducers_see_state_twice():
    files = {
        "1.js": "module.exports = function (state, record) { state.seen1 = record.hash; };",
        "2.js": "module.exports = function (state, record) { state.same = state === record; return state; };",
        "3.js": "module.exports = function (state, record) { state.hash3 = record.hash; return state; };",
    }
    state = reducers(files).reduce([rec("R1")], {})
    assert state == {"seen1": "R1", "same": True}  # record.hash was state.hash: undefined, dropped


def test_failing_reducer_reverts_the_record_and_keeps_this():
    files = {
        "a.js": "module.exports = function (state, record) { this.n = (this.n || 0) + 1; state.a = this.n;"
                " if (record.files.boom) throw new Error('boom ' + this.n); return state; };",
        "b.js": "module.exports = function (state) { state.b = (state.b || 0) + 1; return state; };",
    }
    records = [rec("R1"), rec("R2", boom=b""), rec("R3")]
    assert reducers(files).reduce(records, {"id": "i"}) == {
        "id": "i", "a": 3, "b": 2, "errors": [{"file": "reducers/a.js", "error": "Error: boom 2"}],
    }


@pytest.mark.parametrize(("value", "shown"), [
    ("null", "null"), ("1", "1"), ("'text'", "text"), ("[1, 2]", "1,2"), ("true", "true"),
    ("new Date(0)", None), ("new Uint8Array(1)", "0"),
])
def test_bad_return_values(value, shown):
    files = {"bad.js": f"module.exports = function (s) {{ return {value}; }};"}
    state = reducers(files).reduce([rec("R1"), rec("R2")], {"id": "i"})
    assert [e["file"] for e in state["errors"]] == ["reducers/bad.js", "reducers/bad.js"]
    message = state["errors"][0]["error"]
    assert message.startswith("TypeError: invalid return value ") and message.endswith(", expected an object")
    if shown is not None:
        assert message == f"TypeError: invalid return value {shown}, expected an object"
    assert set(state) == {"id", "errors"}


@pytest.mark.parametrize(("value", "shown"), [
    (1, "1"), (1.0, "1"), ("text", "text"), ([1, 2], "1,2"), (True, "true"), ([None, "a"], ",a"),
])
def test_bad_return_values_of_native_reducers_show_the_value_as_javascript_does(value, shown):
    # The native port's reducers never return such values; a bug in one must still give
    # the same entry as the JavaScript paths (test_bad_return_values), value included.
    bad = Reducer("reducers/bad.js", lambda this, state, record: value)
    message = f"TypeError: invalid return value {shown}, expected an object"
    _, error, _ = _native(_Native([bad]), {"id": "i"}, rec("R1"), False)
    assert error == {"file": "reducers/bad.js", "error": message}
    assert reduce_records([rec("R1")], [bad], {"id": "i"})["errors"] == [error]


def test_state_is_json_round_tripped_after_each_record():
    files = {"r.js": """module.exports = function (state, record) {
        this.seen = this.seen || [];
        this.seen.push(typeof state.gone + '/' + (state.nan === null) + '/' + typeof state.fn);
        return Object.assign(state, {gone: undefined, nan: NaN, fn: function () {}, date: new Date(0),
                                     seen: this.seen.slice()});
    };"""}
    state = reducers(files).reduce([rec("R1"), rec("R2")], {})
    assert state == {"nan": None, "date": "1970-01-01T00:00:00.000Z",
                     "seen": ["undefined/false/undefined", "undefined/true/undefined"]}


@pytest.mark.parametrize(("source", "message"), [
    ("module.exports = 'hello';", "module.exports should export a function"),
    ("exports.x = function () {};", "ReferenceError: exports is not defined"),
    ("module.exports = function () {", "SyntaxError"),
    ("module.exports = function () {}; }", "SyntaxError"),  # cannot close the wrapper early
    ("throw new Error('at load');", "Error: at load"),
])
def test_load_errors_abort(source, message):
    loaded = reducers({"ok.js": "module.exports = function (s) { return s; };", "x.js": source})
    with pytest.raises(SitError) as caught:
        loaded.reduce([rec("R")], {})
    assert str(caught.value).startswith(f"cannot load reducer reducers/x.js: {message}")
    assert "\n" not in str(caught.value)


def test_replacing_globals_does_not_change_how_states_travel():
    files = {
        "a.js": "JSON.stringify = function () { return '{}'; }; JSON.parse = function () { return {}; };"
                " eval = function () { return null; }; module.exports = function (s) { s.a = 1; return s; };",
        "b.js": "module.exports = function (s) { s.b = require('./lib/x.js'); return s; };",
        "lib/x.js": "module.exports = 'lib';",
    }
    assert reducers(files).reduce([rec("R1"), rec("R2")], {"id": "i"}) == {"id": "i", "a": 1, "b": "lib"}


def test_top_level_vars_are_private_and_globals_shared():
    files = {
        "a.js": "var secret = 1; shared = 'from a';"
                " module.exports = function (s) { s.a = secret; return s; };",
        "b.js": "module.exports = function (s) { s.b = typeof secret; s.shared = shared; return s; };",
    }
    assert reducers(files).reduce([rec("R")], {}) == {"a": 1, "b": "undefined", "shared": "from a"}


def test_no_file_system_network_or_process_access():
    files = {"r.js": """module.exports = function (state) {
        state.globals = [typeof std, typeof os, typeof process, typeof fetch, typeof XMLHttpRequest,
                         typeof Duktape, typeof print, typeof console];
        var result = 'none';
        import('/etc/passwd').then(function () { result = 'loaded'; }, function (e) { result = String(e); });
        state.import_started = true;
        return state;
    };"""}
    state = reducers(files).reduce([rec("R")], {})
    assert state["globals"] == ["undefined"] * 8


def test_runaway_reducers_are_stopped_and_the_next_item_reduces():
    files = {
        "a.js": "module.exports = function (s, r) { this.n = (this.n || 0) + 1; s.n = this.n;"
                " if (r.files.loop) for (;;) {} return s; };",
        "b.js": "var hoard = []; module.exports = function (s, r) {"
                " if (r.files.hog) for (;;) hoard.push(new Array(100000).fill(r.hash)); return s; };",
    }
    rs = reducers(files)
    looped = rs.reduce([rec("R1"), rec("R2", loop=b""), rec("R3")], {"id": "i"})
    assert looped == {"id": "i", "n": 1, "errors": [{
        "file": "reducers/a.js",
        "error": "stopped after the time limit of 0.3 s; the item's later records were not reduced",
    }]}
    hogged = rs.reduce([rec("R1"), rec("R2", hog=b""), rec("R3")], {"id": "j"})
    assert hogged == {"id": "j", "n": 1, "errors": [{
        "file": "reducers/b.js",
        "error": "stopped at the memory limit of 32 MiB; the item's later records were not reduced",
    }]}
    assert rs.reduce([rec("R1"), rec("R2")], {"id": "k"}) == {"id": "k", "n": 2}


def test_lone_surrogates_become_replacement_characters():
    files = {"r.js": "module.exports = function (s) { s.text = 'a\\ud800b'; return s; };"}
    assert reducers(files).reduce([rec("R")], {}) == {"text": "a\ufffdb"}


def test_long_concatenated_strings_cross_back():
    files = {"r.js": "module.exports = function (s, r) { s.big = (s.big || '') + r.hash + 'x'.repeat(5000);"
                     " return s; };"}
    state = reducers(files).reduce([rec(f"R{i}") for i in range(20)], {})
    assert state["big"] == "".join(f"R{i}" + "x" * 5000 for i in range(20))


def test_required_modules_are_cached_by_id_across_roots_as_in_duktape():
    use = "module.exports = function (s) { s[ROOT] = require('./lib/name.js'); return s; };"
    local = {"a.js": use.replace("ROOT", "'local'"), "lib/name.js": "module.exports = 'local lib';"}
    module = {"b.js": use.replace("ROOT", "'module'"), "lib/name.js": "module.exports = 'module lib';"}
    assert reducers(local, module).reduce([rec("R")], {}) == {"local": "local lib", "module": "local lib"}


def test_the_fingerprint_follows_the_host_script(monkeypatch: pytest.MonkeyPatch):
    # sandbox.js is SIT's runtime as reducers see it: a checkout that changes it must not
    # reuse states cached under the old one, though git-sit's version is the same.
    from git_sit import jsengine

    source = {"r.js": "module.exports = function (state) { return state; };"}
    before = reducers(source).fingerprint
    assert reducers(source).fingerprint == before
    original = jsengine._sandbox()
    monkeypatch.setattr(jsengine, "_sandbox", lambda: original + "\n// changed\n")
    assert reducers(source).fingerprint != before
