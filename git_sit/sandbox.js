// The runtime SIT gives its JavaScript reducers (SIT-FORMAT §5.4), for QuickJS.
//
// Evaluated once per engine (a fresh QuickJS context for every item), before
// any reducer. It defines TextDecoder and TextEncoder (Duktape has them built
// in, QuickJS does not), and returns the host interface: the record loop runs
// here, so a record crosses the Python/JS boundary once and the state is JSON
// round-tripped exactly once per record.
//
// Reducers may change any global, builtin or prototype (JSON, Object.prototype
// .toJSON, Function.prototype.call, a setter on Object.prototype...). So every
// builtin the host interface uses is captured here, before repository code
// runs, and called without property lookups (`method` below); the objects it
// keeps or answers with have no prototype, and values are stored with
// defineProperty, so nothing a reducer defines is consulted. The host still
// checks each answer's shape.
(function (global) {
    'use strict';
    var FP = Function.prototype, bind = FP.bind, call = FP.call;
    // method(f)(self, a, b) is f.call(self, a, b), whatever Function.prototype holds later.
    function method(f) { return bind.call(call, f); }
    var invoke = method(call);  // invoke(f, self, a, b) is f.call(self, a, b)
    var create = Object.create, keys = Object.keys, defineProperty = Object.defineProperty;
    var getPrototypeOf = Object.getPrototypeOf, parse = JSON.parse, stringify = JSON.stringify;
    var objectToString = method(Object.prototype.toString), hasOwn = method(Object.prototype.hasOwnProperty);
    var StringProto = String.prototype, nativeCharCodeAt = StringProto.charCodeAt;
    var getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
    var charCodeAt = method(nativeCharCodeAt), indexOf = method(String.prototype.indexOf);
    var slice = method(String.prototype.slice), trim = method(String.prototype.trim);
    var toLowerCase = method(String.prototype.toLowerCase), arrayIndexOf = method(Array.prototype.indexOf);
    var push = method(Array.prototype.push), join = method(Array.prototype.join), apply = method(FP.apply);
    var fromCharCode = String.fromCharCode, Str = String, Err = Error, TypeErr = TypeError;
    var RangeErr = RangeError, INTERNAL_ERROR = InternalError.prototype;
    var U8 = Uint8Array, AB = ArrayBuffer, isView = ArrayBuffer.isView, globalEval = eval;

    // An object without a prototype holding `fields` (pairs of key and value).
    function bare() {
        var object = create(null);
        for (var i = 0; i + 1 < arguments.length; i += 2) define(object, arguments[i], arguments[i + 1], true);
        return object;
    }

    // object[key] = value as an own data property, whatever setters a prototype holds;
    // `open`: writable, enumerable and configurable (as an assignment makes it), else none.
    function define(object, key, value, open) {
        var descriptor = create(null);
        descriptor.value = value;
        descriptor.writable = descriptor.enumerable = descriptor.configurable = open;
        defineProperty(object, key, descriptor);
    }

    function getter(object, key, get) {
        var descriptor = create(null);
        descriptor.get = get;
        defineProperty(object, key, descriptor);
    }

    // --- TextDecoder / TextEncoder (WHATWG, UTF-8 only, as in Duktape) ---

    var LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8'];

    function bytesOf(input) {
        if (input === undefined) return new U8(0);
        if (input instanceof AB) return new U8(input);
        if (isView(input)) return new U8(input.buffer, input.byteOffset, input.byteLength);
        throw new TypeErr('invalid input to TextDecoder.decode()');
    }

    // The WHATWG UTF-8 decoder: each maximal invalid subpart becomes one U+FFFD.
    function decodeUtf8(bytes, fatal) {
        var out = [], chunk = [], need = 0, seen = 0, cp = 0, lower = 0x80, upper = 0xbf;
        function emit(c) {
            if (c > 0xffff) {
                c -= 0x10000;
                push(chunk, 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
            } else {
                push(chunk, c);
            }
            if (chunk.length > 8000) { push(out, apply(fromCharCode, null, chunk)); chunk = []; }
        }
        function bad() {
            if (fatal) throw new TypeErr('TextDecoder.decode: invalid UTF-8 data');
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
        push(out, apply(fromCharCode, null, chunk));
        return join(out, '');
    }

    function TextDecoder(label, options) {
        if (!(this instanceof TextDecoder)) throw new TypeErr('TextDecoder must be called with new');
        var name = label === undefined ? 'utf-8' : toLowerCase(trim(Str(label)));
        if (arrayIndexOf(LABELS, name) < 0) throw new RangeErr('invalid encoding: ' + label);
        options = options || {};
        define(this, '_fatal', !!options.fatal, false);
        define(this, '_ignoreBOM', !!options.ignoreBOM, false);
    }
    TextDecoder.prototype.decode = function (input) {
        var text = decodeUtf8(bytesOf(input), this._fatal);
        return !this._ignoreBOM && charCodeAt(text, 0) === 0xfeff ? slice(text, 1) : text;
    };
    getter(TextDecoder.prototype, 'encoding', function () { return 'utf-8'; });
    getter(TextDecoder.prototype, 'fatal', function () { return this._fatal; });
    getter(TextDecoder.prototype, 'ignoreBOM', function () { return this._ignoreBOM; });

    function TextEncoder() {
        if (!(this instanceof TextEncoder)) throw new TypeErr('TextEncoder must be called with new');
    }
    TextEncoder.prototype.encode = function (input) {
        var s = input === undefined ? '' : Str(input), out = [];
        for (var i = 0; i < s.length; i++) {
            var c = charCodeAt(s, i);
            if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
                var d = charCodeAt(s, i + 1);
                if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
            }
            if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
            if (c < 0x80) push(out, c);
            else if (c < 0x800) push(out, 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
            else if (c < 0x10000) push(out, 0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
            else push(out, 0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
        }
        return new U8(out);
    };
    getter(TextEncoder.prototype, 'encoding', function () { return 'utf-8'; });

    global.TextDecoder = TextDecoder;
    global.TextEncoder = TextEncoder;

    // --- loading reducers and require() (Duktape's CommonJS rules) ---

    var roots = bare(), rootCount = 0;        // root index → {files: {path: source}, links: {path: true}}
    var reducers = bare(), reducerCount = 0;  // index → {fn, self, file}
    var modLoaded = bare();  // resolved id → module; one cache per heap, keyed by id alone, as Duktape's
    var current = -1;        // index of the reducer running now, for the host after an interruption

    function describe(value) {
        try { return Str(value); } catch (e) { return 'Error'; }
    }

    // text.split('/') as a prototype-less list with a length (split would consult String.prototype).
    function splitPath(text) {
        var list = bare(), n = 0, start = 0, slash;
        while ((slash = indexOf(text, '/', start)) >= 0) {
            list[n++] = slice(text, start, slash);
            start = slash + 1;
        }
        list[n++] = slice(text, start);
        list.length = n;
        return list;
    }

    function resolveId(baseId, reqId) {
        var id = Str(reqId), terms = bare(), count = 0;
        if (charCodeAt(id, 0) === 0x2e) {  // '.'
            var base = splitPath(baseId);
            for (count = 0; count < base.length - 1; count++) terms[count] = base[count];
        }
        var parts = splitPath(id);
        for (var i = 0; i < parts.length; i++) {
            var part = parts[i];
            if (part === '.') continue;
            if (part === '' || (part === '..' && count === 0)) {
                throw new TypeErr('cannot resolve module id: ' + id);
            }
            if (part === '..') count--; else terms[count++] = part;
        }
        if (count === 0) throw new TypeErr('cannot resolve module id: ' + id);
        var result = terms[0];
        for (var j = 1; j < count; j++) result += '/' + terms[j];
        return result;
    }

    // The symlink at `id` or at one of its directories, or undefined.
    function symlinkOf(links, id) {
        for (var end = indexOf(id, '/'); end >= 0; end = indexOf(id, '/', end + 1)) {
            if (hasOwn(links, slice(id, 0, end))) return slice(id, 0, end);
        }
        return hasOwn(links, id) ? id : undefined;
    }

    function makeRequire(root, baseId) {
        var require = function (reqId) {
            var id = resolveId(baseId, reqId);
            if (hasOwn(modLoaded, id)) return modLoaded[id].exports;
            var files = roots[root].files, link = symlinkOf(roots[root].links, id);
            if (link !== undefined) {
                throw new Err('module ' + stringify(id) + ' is not loaded: ' + link +
                              ' is a symlink, which git-sit does not follow');
            }
            if (!hasOwn(files, id)) throw new Err('module not found: ' + stringify(id));
            var exports = {}, module = {exports: exports, id: id};
            var fn = globalEval('(function (require, exports, module) {' + files[id] + '\n})');
            modLoaded[id] = module;
            try {
                invoke(fn, exports, makeRequire(root, id), exports, module);
            } catch (e) {
                delete modLoaded[id];
                throw e;
            }
            return module.exports;
        };
        define(require, 'id', baseId, true);
        return require;
    }

    function addRoot(filesJson, linksJson) {
        roots[rootCount] = bare('files', parse(filesJson), 'links', parse(linksJson));
        return rootCount++;
    }

    // Wrap as SIT does: the source is the body of `function (module) { ... }`
    // with no `exports` variable; the outer function only supplies this root's require.
    // The source starts on the wrapper's first line, so its line numbers are unchanged;
    // the closing part goes on a line of its own so a final `//` comment cannot swallow it.
    function load(root, file, source) {
        var wrapper, module = {exports: {}}, fn;
        try {
            wrapper = globalEval('(function (require) { return function (module) { ' + source + '\n}; })');
        } catch (e) {
            return stringify(bare('error', describe(e)));
        }
        try {
            wrapper(makeRequire(root, ''))(module);
            fn = module.exports;
        } catch (e) {
            if (isResourceError(e)) throw e;
            return stringify(bare('error', describe(e)));
        }
        if (typeof fn !== 'function') {
            return stringify(bare('error', 'module.exports should export a function'));
        }
        reducers[reducerCount] = bare('fn', fn, 'self', {}, 'file', file);
        return stringify(bare('index', reducerCount++));
    }

    // --- the per-record loop ---

    function isResourceError(e) {
        try {
            return e !== null && typeof e === 'object' && getPrototypeOf(e) === INTERNAL_ERROR &&
                indexOf(describe(e.message), 'out of memory') >= 0;
        } catch (ignored) {
            return false;
        }
    }

    function isPlainObject(value) {
        return value !== null && typeof value === 'object' && objectToString(value) === '[object Object]';
    }

    // {hash, files}: the files are JSON.parse's own properties (for...in would add what a
    // reducer put on Object.prototype); assigning to an own data property calls no setter.
    function makeRecord(recordJson) {
        var raw = parse(recordJson), files = raw.files, names = keys(files);
        // A direct charCodeAt is faster than the captured one; use it while it is the original.
        var fast = getOwnPropertyDescriptor(StringProto, 'charCodeAt');
        fast = fast !== undefined && hasOwn(fast, 'value') && fast.value === nativeCharCodeAt;
        for (var n = 0; n < names.length; n++) {
            var text = files[names[n]], bytes = new U8(text.length), i;
            if (fast) for (i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
            else for (i = 0; i < text.length; i++) bytes[i] = charCodeAt(text, i);
            files[names[n]] = bytes;
        }
        return {hash: raw.hash, files: files};
    }

    function failure(index, message) {
        return stringify(bare('error', bare('file', reducers[index].file, 'error', message)));
    }

    // Run reducers [from, to) over one record. SIT's Duktape value stack holds
    // (record, state): reducer i is called as fn.call(this_i, top, below-top).
    // Returning an object replaces the top; returning undefined pushes the top
    // again, which is why later reducers of the record then get (state, state)
    // (§5.4). `depth` is the stack's height.
    function step(stateJson, recordJson, from, to, quirk) {
        current = -1;
        var record = makeRecord(recordJson), state = parse(stateJson);
        var top = state, below = quirk ? state : record, depth = quirk ? 3 : 2;
        for (var i = from; i < to; i++) {
            var reducer = reducers[i], result, plain;
            current = i;
            try {
                result = invoke(reducer.fn, reducer.self, top, below);
                plain = isPlainObject(result);  // may run a Symbol.toStringTag getter
            } catch (e) {
                if (isResourceError(e)) throw e;
                return failure(i, describe(e));
            }
            if (result === undefined) {
                below = top;
                depth++;
            } else if (plain) {
                top = result;
            } else {
                return failure(i, 'TypeError: invalid return value ' + describe(result) + ', expected an object');
            }
        }
        current = to - 1;  // toJSON and getters of the state run in the stringify below
        // One JSON.stringify for the whole answer: the binding cannot read QuickJS's
        // rope strings, which concatenation makes, but stringify returns flat ones.
        try {
            return stringify(bare('quirk', depth > 2, 'state', top));
        } catch (e) {
            if (isResourceError(e)) throw e;
            return failure(to - 1, describe(e));
        } finally {
            current = -1;
        }
    }

    function running() {
        return current;
    }

    return bare('addRoot', addRoot, 'load', load, 'step', step, 'running', running);
})(globalThis)
