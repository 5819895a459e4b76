"""The engine for repository reducers: QuickJS, sandboxed and limited.

SIT embeds Duktape; git-sit runs the same reducer files in QuickJS (the
``quickjs-ng`` binding), which can interrupt a runaway script and cap its heap
in-process. The sandbox has no file system, network or process access: the
binding loads no modules and the host exposes no Python callable, so the only
way in or out is the JSON text of states and records. ``sandbox.js`` provides
SIT's runtime (the ``function (module)`` wrapper, ``require``, ``TextDecoder``
and the per-record loop); this module loads it, marshals records, checks the
shape of every answer and turns a limit hit into an error entry.

Every item is reduced in a context of its own, made afresh: whatever a reducer
leaves behind (top-level variables, globals, changed prototypes, required
modules) cannot reach another item, so an item's state never depends on which
items were reduced before it in the process, and the cache never changes a result.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from git_sit.errors import SitError
from git_sit.record import Record

State = dict[str, Any]
MIB = 1024 * 1024
DEFAULT_TIME = 2.0
DEFAULT_MEMORY = 256 * MIB
TIME_LIMIT_ENV = "GIT_SIT_JS_TIME_LIMIT"
MEMORY_LIMIT_ENV = "GIT_SIT_JS_MEMORY_LIMIT"
MAX_TIME = 86400.0  # seconds (a day per record); QuickJS's clock overflows on huge values
MAX_MEMORY = 1024 * 1024 * MIB  # 1 TiB


@dataclass(frozen=True, slots=True)
class Limits:
    """CPU seconds per record (and per reducer file loaded); heap bytes for all reducers of an item."""

    time: float = DEFAULT_TIME
    memory: int = DEFAULT_MEMORY

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Limits:
        """Limits from ``GIT_SIT_JS_TIME_LIMIT`` (seconds) and ``GIT_SIT_JS_MEMORY_LIMIT`` (MiB)."""
        memory = _positive(environ, MEMORY_LIMIT_ENV, DEFAULT_MEMORY / MIB, MAX_MEMORY / MIB, "MiB")
        return cls(_positive(environ, TIME_LIMIT_ENV, DEFAULT_TIME, MAX_TIME, "seconds"), int(memory * MIB))


def _positive(environ: Mapping[str, str], name: str, default: float, maximum: float, unit: str) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    # Not NaN or infinite, and at least one byte: QuickJS takes a 0-byte limit for none.
    if not 0 < value <= maximum or (unit == "MiB" and value * MIB < 1):
        raise SitError(f"{name} must be a positive number of {unit}, at most {maximum:.15g}, not {text!r}.")
    return value


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of running reducers over one record.

    ``state`` is the new state (already JSON round-tripped); otherwise ``error`` is
    the ``errors`` entry to add, and ``stopped`` says a limit was hit, so the rest
    of the item must not be reduced with this engine's (discarded) state.
    """

    state: State | None = None
    quirk: bool = False
    error: dict[str, str] | None = None
    stopped: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """A reducer root's files for ``require`` (path → text), and the paths that are symlinks."""

    files: Mapping[str, str]
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Script:
    """A reducer file to load: the index of its root, its path for error entries, its source."""

    root: int
    path: str
    source: str


def engine_version() -> str:
    """The engine, binding and host script, part of every JavaScript reducer set's fingerprint.

    The host script (``sandbox.js``) is what reducers see as SIT's runtime, so a change to
    it may change states even where git-sit's version number stays the same (a checkout).
    """
    from importlib import metadata  # slow to import; only JavaScript reducer sets need it

    try:
        engine = "quickjs-ng " + metadata.version("quickjs-ng")
    except metadata.PackageNotFoundError:
        engine = "quickjs"
    return f"{engine} sandbox {hashlib.sha256(_sandbox().encode()).hexdigest()[:16]}"


def _quickjs() -> Any:
    # Imported on first use: commands that never run a reducer do not pay for it.
    import quickjs  # type: ignore[import-untyped]

    return quickjs


@functools.cache
def _sandbox() -> str:
    """The script that defines ``__sit``, the host interface (read once, evaluated in every context)."""
    from importlib import resources

    source = resources.files("git_sit").joinpath("sandbox.js").read_text(encoding="utf-8")
    return "globalThis.__sit = " + source


class Engine:
    """A repository's reducers, loaded in order into a QuickJS context made afresh for every item."""

    def __init__(self, roots: Sequence[Source], scripts: Sequence[Script], limits: Limits) -> None:
        self._scripts = scripts
        self.limits = limits
        self._host: dict[str, Any] = {}
        self._fresh = False
        self._root_json = [
            (json.dumps(dict(root.files), ensure_ascii=False), json.dumps(dict.fromkeys(root.links, True)))
            for root in roots
        ]
        self._qjs = _quickjs()
        self._start()

    def _start(self) -> None:
        self._host = {}  # drop the old context's handles before making a new one
        context = self._qjs.Context()
        # The sandbox is git-sit's own code: it runs before any limit (and any repository code).
        context.eval(_sandbox())
        self._host = {name: context.eval(f"__sit.{name}") for name in ("addRoot", "load", "step", "running")}
        context.eval("delete globalThis.__sit")
        context.set_memory_limit(self.limits.memory)
        context.set_time_limit(self.limits.time)
        self._context = context
        try:
            for files, links in self._root_json:
                self._host["addRoot"](files, links)
        except self._qjs.JSException as exc:
            raise SitError(f"cannot start the JavaScript engine: {self._limit_message(exc)}.") from None
        for script in self._scripts:
            self._load(script)
        self._fresh = True

    def _load(self, script: Script) -> None:
        try:
            result = _loads(self._host["load"](script.root, script.path, script.source))
        except self._qjs.JSException as exc:
            raise SitError(f"cannot load reducer {script.path}: {self._limit_message(exc)}.") from None
        if _keys(result) == {"error"} and isinstance(result["error"], str):
            raise SitError(f"cannot load reducer {script.path}: {_one_line(result['error'])}")
        if _keys(result) != {"index"}:
            raise SitError(f"cannot load reducer {script.path}: the sandbox gave an unexpected answer.")

    def reset(self) -> None:
        """Before each item: a fresh context (globals, prototypes, closures, modules, ``this``)."""
        if not self._fresh:
            self._start()

    def step(self, state: State, record: Record, start: int, end: int, quirk: bool = False) -> Step:
        """Run reducers ``start``..``end - 1`` over ``record`` from ``state``."""
        self._fresh = False
        try:
            text = self._host["step"](
                json.dumps(state, ensure_ascii=False), _record_json(record), start, end, quirk
            )
        except self._qjs.JSException as exc:
            return self._stopped(self._limit_message(exc), start)
        result = _loads(text)
        keys = _keys(result)
        if keys == {"error"}:
            error = result["error"]
            paths = {script.path for script in self._scripts[start:end]}
            if _keys(error) == {"file", "error"} and error["file"] in paths and _is_text(error["error"]):
                return Step(error={"file": error["file"], "error": error["error"]})
        elif keys in ({"quirk", "state"}, {"quirk"}) and isinstance(result["quirk"], bool):
            # The state's own toJSON (or a getter) may have made it something else, or nothing.
            new = result.get("state")
            if isinstance(new, dict):
                return Step(state=new, quirk=result["quirk"])
            shown = json.dumps(new, ensure_ascii=False) if "state" in result else "undefined"
            message = f"TypeError: invalid return value {shown}, expected an object"
            return Step(error={"file": self._scripts[end - 1].path, "error": message})
        # Cannot happen (the sandbox answers with prototype-less objects), but never trust it.
        return self._stopped("stopped: the JavaScript sandbox gave an unexpected answer", start)

    def _stopped(self, reason: str, start: int) -> Step:
        try:
            running = int(self._host["running"]())
        except (self._qjs.JSException, TypeError, ValueError, OverflowError):
            running = -1
        index = running if 0 <= running < len(self._scripts) else start
        message = f"{reason}; the item's later records were not reduced"
        return Step(error={"file": self._scripts[index].path, "error": message}, stopped=True)

    def _limit_message(self, exc: Exception) -> str:
        text = str(exc)
        if "interrupted" in text:
            return f"stopped after the time limit of {self.limits.time:g} s"
        if "out of memory" in text or text.strip() == "null":  # null: no memory left for the error
            return f"stopped at the memory limit of {self.limits.memory / MIB:g} MiB"
        return f"stopped: {_one_line(text)}"


def _keys(value: Any) -> set[str] | None:
    return set(value) if isinstance(value, dict) else None


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _one_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def _record_json(record: Record) -> str:
    # Bytes travel as Latin-1 text (one character per byte); the sandbox makes Uint8Arrays.
    files = {name: record.files[name].decode("latin-1") for name in sorted(record.files)}
    return json.dumps({"hash": record.id, "files": files}, ensure_ascii=False)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _loads(text: Any) -> Any:
    """A sandbox answer parsed (``None`` if it is not JSON text)."""
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    # JSON.stringify escapes lone surrogates; they cannot be printed, so make them U+FFFD.
    return _scrub(value) if "\\ud" in text else value


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    return value
