// The runtime SIT gives its JavaScript reducers (SIT-FORMAT §5.4), for QuickJS.
//
// Evaluated once per engine, before any reducer. It defines TextDecoder and
// TextEncoder (Duktape has them built in, QuickJS does not), and returns the
// host interface: the record loop runs here, so a record crosses the Python/JS
// boundary once and the state is JSON round-tripped exactly once per record.
// Everything the host calls is captured in this closure, so a reducer that
// overwrites globals (JSON, Object...) cannot change how states are carried.
(function (global) {
    'use strict';
    var parse = JSON.parse, stringify = JSON.stringify, toString = Object.prototype.toString;
    var hasOwn = Object.prototype.hasOwnProperty, fromCharCode = String.fromCharCode;
    var U8 = Uint8Array, isView = ArrayBuffer.isView, globalEval = eval;

    // --- TextDecoder / TextEncoder (WHATWG, UTF-8 only, as in Duktape) ---

    var LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8'];

    function bytesOf(input) {
        if (input === undefined) return new U8(0);
        if (input instanceof ArrayBuffer) return new U8(input);
        if (isView(input)) return new U8(input.buffer, input.byteOffset, input.byteLength);
        throw new TypeError('invalid input to TextDecoder.decode()');
    }

    // The WHATWG UTF-8 decoder: each maximal invalid subpart becomes one U+FFFD.
    function decodeUtf8(bytes, fatal) {
        var out = [], chunk = [], need = 0, seen = 0, cp = 0, lower = 0x80, upper = 0xbf;
        function emit(c) {
            if (c > 0xffff) {
                c -= 0x10000;
                chunk.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
            } else {
                chunk.push(c);
            }
            if (chunk.length > 8000) { out.push(fromCharCode.apply(null, chunk)); chunk = []; }
        }
        function bad() {
            if (fatal) throw new TypeError('TextDecoder.decode: invalid UTF-8 data');
            emit(0xfffd);
        }
        for (var i = 0; i < bytes.length; i++) {
            var b = bytes[i];
            if (need === 0) {
                if (b < 0x80) { emit(b); continue; }
                if (b >= 0xc2 && b <= 0xdf) { need = 1; cp = b & 0x1f; }
                else if (b >= 0xe0 && b <= 0xef) {
                    if (b === 0xe0) lower = 0xa0;
                    if (b === 0xed) upper = 0x9f;
                    need = 2; cp = b & 0xf;
                } else if (b >= 0xf0 && b <= 0xf4) {
                    if (b === 0xf0) lower = 0x90;
                    if (b === 0xf4) upper = 0x8f;
                    need = 3; cp = b & 0x7;
                } else { bad(); }
                continue;
            }
            if (b < lower || b > upper) {
                need = seen = cp = 0; lower = 0x80; upper = 0xbf;
                bad();
                i--;  // reprocess this byte as the start of a new sequence
                continue;
            }
            lower = 0x80; upper = 0xbf;
            cp = (cp << 6) | (b & 0x3f);
            if (++seen === need) { emit(cp); need = seen = cp = 0; }
        }
        if (need !== 0) bad();
        out.push(fromCharCode.apply(null, chunk));
        return out.join('');
    }

    function TextDecoder(label, options) {
        if (!(this instanceof TextDecoder)) throw new TypeError('TextDecoder must be called with new');
        var name = label === undefined ? 'utf-8' : String(label).trim().toLowerCase();
        if (LABELS.indexOf(name) < 0) throw new RangeError('invalid encoding: ' + label);
        options = options || {};
        Object.defineProperty(this, '_fatal', {value: !!options.fatal});
        Object.defineProperty(this, '_ignoreBOM', {value: !!options.ignoreBOM});
    }
    TextDecoder.prototype.decode = function (input) {
        var text = decodeUtf8(bytesOf(input), this._fatal);
        return !this._ignoreBOM && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    };
    Object.defineProperty(TextDecoder.prototype, 'encoding', {get: function () { return 'utf-8'; }});
    Object.defineProperty(TextDecoder.prototype, 'fatal', {get: function () { return this._fatal; }});
    Object.defineProperty(TextDecoder.prototype, 'ignoreBOM', {get: function () { return this._ignoreBOM; }});

    function TextEncoder() {
        if (!(this instanceof TextEncoder)) throw new TypeError('TextEncoder must be called with new');
    }
    TextEncoder.prototype.encode = function (input) {
        var s = input === undefined ? '' : String(input), out = [];
        for (var i = 0; i < s.length; i++) {
            var c = s.charCodeAt(i);
            if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
                var d = s.charCodeAt(i + 1);
                if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
            }
            if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
            if (c < 0x80) out.push(c);
            else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
            else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
            else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
        }
        return new U8(out);
    };
    Object.defineProperty(TextEncoder.prototype, 'encoding', {get: function () { return 'utf-8'; }});

    global.TextDecoder = TextDecoder;
    global.TextEncoder = TextEncoder;

    // --- loading reducers and require() (Duktape's CommonJS rules) ---

    var roots = [];      // root index → {relative path: source}
    var reducers = [];   // {fn, self, file}
    var modLoaded = {};  // resolved id → module; one cache per heap, keyed by id alone, as Duktape's
    var current = -1;    // index of the reducer running now, for the host after an interruption

    function describe(value) {
        try { return String(value); } catch (e) { return 'Error'; }
    }

    function resolveId(baseId, reqId) {
        var id = String(reqId), terms = [];
        if (id.charAt(0) === '.') {
            terms = baseId.split('/');
            terms.pop();
        }
        var parts = id.split('/');
        for (var i = 0; i < parts.length; i++) {
            var part = parts[i];
            if (part === '.') continue;
            if (part === '' || (part === '..' && terms.length === 0)) {
                throw new TypeError('cannot resolve module id: ' + id);
            }
            if (part === '..') terms.pop(); else terms.push(part);
        }
        if (terms.length === 0) throw new TypeError('cannot resolve module id: ' + id);
        return terms.join('/');
    }

    function makeRequire(root, baseId) {
        var require = function (reqId) {
            var id = resolveId(baseId, reqId);
            if (hasOwn.call(modLoaded, id)) return modLoaded[id].exports;
            var files = roots[root];
            if (!hasOwn.call(files, id)) throw new Error('module not found: ' + stringify(id));
            var module = {exports: {}, id: id};
            var fn = (0, globalEval)('(function (require, exports, module) {' + files[id] + '\n})');
            modLoaded[id] = module;
            try {
                fn.call(module.exports, makeRequire(root, id), module.exports, module);
            } catch (e) {
                delete modLoaded[id];
                throw e;
            }
            return module.exports;
        };
        require.id = baseId;
        return require;
    }

    function addRoot(filesJson) {
        roots.push(parse(filesJson));
        return roots.length - 1;
    }

    // Wrap as SIT does: the source is the body of `function (module) { ... }`
    // with no `exports` variable; the outer function only supplies this root's require.
    function load(root, file, source) {
        var wrapper, module = {exports: {}};
        try {
            wrapper = (0, globalEval)('(function (require) { return function (module) { ' + source + ' }; })');
        } catch (e) {
            return stringify({error: describe(e)});
        }
        try {
            wrapper(makeRequire(root, ''))(module);
        } catch (e) {
            if (isResourceError(e)) throw e;
            return stringify({error: describe(e)});
        }
        if (typeof module.exports !== 'function') {
            return stringify({error: 'module.exports should export a function'});
        }
        reducers.push({fn: module.exports, self: {}, file: file});
        return stringify({index: reducers.length - 1});
    }

    function reset() {
        for (var i = 0; i < reducers.length; i++) reducers[i].self = {};
    }

    // --- the per-record loop ---

    function isResourceError(e) {
        return e instanceof InternalError && /out of memory/.test(describe(e.message));
    }

    function isPlainObject(value) {
        return value !== null && typeof value === 'object' && toString.call(value) === '[object Object]';
    }

    function makeRecord(recordJson) {
        var raw = parse(recordJson), files = {};
        for (var name in raw.files) {
            var text = raw.files[name], bytes = new U8(text.length);
            for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
            files[name] = bytes;
        }
        return {hash: raw.hash, files: files};
    }

    function failure(index, message) {
        return stringify({error: {file: reducers[index].file, error: message}});
    }

    // Run reducers [from, to) over one record. `stack` models SIT's Duktape value
    // stack: reducer i is called as fn.call(this_i, top, below-top). Returning an
    // object replaces the top; returning undefined pushes the top again, which is
    // why later reducers of the record then get (state, state) (§5.4).
    function step(stateJson, recordJson, from, to, quirk) {
        var record = makeRecord(recordJson), state = parse(stateJson);
        var stack = quirk ? [record, state, state] : [record, state];
        for (var i = from; i < to; i++) {
            var reducer = reducers[i], top = stack.length - 1, result;
            current = i;
            try {
                result = reducer.fn.call(reducer.self, stack[top], stack[top - 1]);
            } catch (e) {
                if (isResourceError(e)) throw e;
                return failure(i, describe(e));
            }
            if (result === undefined) {
                stack.push(stack[top]);
            } else if (isPlainObject(result)) {
                stack[top] = result;
            } else {
                return failure(i, 'TypeError: invalid return value ' + describe(result) + ', expected an object');
            }
        }
        current = -1;
        // One JSON.stringify for the whole answer: the binding cannot read QuickJS's
        // rope strings, which concatenation makes, but stringify returns flat ones.
        try {
            return stringify({quirk: stack.length > 2, state: stack[stack.length - 1]});
        } catch (e) {
            if (isResourceError(e)) throw e;
            return failure(to - 1, describe(e));
        }
    }

    function running() {
        return current;
    }

    return {addRoot: addRoot, load: load, reset: reset, step: step, running: running};
})(globalThis)
