"""The JavaScript engine for repository reducers: QuickJS, sandboxed and limited.

SIT embeds Duktape; git-sit runs the same reducer files in QuickJS (the
``quickjs-ng`` binding), which can interrupt a runaway script and cap its heap
in-process. The sandbox has no file system, network or process access: the
binding loads no modules and the host exposes no Python callable, so the only
way in or out is the JSON text of states and records. ``sandbox.js`` provides
SIT's runtime (the ``function (module)`` wrapper, ``require``, ``TextDecoder``
and the per-record loop); this module loads it, marshals records and turns a
limit hit into an error entry, restarting the engine so the next item starts clean.
"""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class Limits:
    """CPU seconds per record (and per reducer file loaded), and heap bytes for all reducers."""

    time: float = DEFAULT_TIME
    memory: int = DEFAULT_MEMORY

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Limits:
        """Limits from ``GIT_SIT_JS_TIME_LIMIT`` (seconds) and ``GIT_SIT_JS_MEMORY_LIMIT`` (MiB)."""
        return cls(
            _positive(environ, TIME_LIMIT_ENV, DEFAULT_TIME),
            int(_positive(environ, MEMORY_LIMIT_ENV, DEFAULT_MEMORY / MIB) * MIB),
        )


def _positive(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise SitError(f"{name} must be a positive number, not {text!r}.")
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
class Script:
    """A reducer file to load: the index of its root, its path for error entries, its source."""

    root: int
    path: str
    source: str


def engine_version() -> str:
    """The engine and binding version, part of every JavaScript reducer set's fingerprint."""
    from importlib import metadata  # slow to import; only JavaScript reducer sets need it

    try:
        return "quickjs-ng " + metadata.version("quickjs-ng")
    except metadata.PackageNotFoundError:
        return "quickjs"


def _quickjs() -> Any:
    # Imported on first use: commands that never run a reducer do not pay for it.
    import quickjs  # type: ignore[import-untyped]

    return quickjs


def _sandbox() -> str:
    from importlib import resources

    return resources.files("git_sit").joinpath("sandbox.js").read_text(encoding="utf-8")


class Engine:
    """One QuickJS heap holding a repository's reducers, in order."""

    def __init__(self, roots: Sequence[Mapping[str, str]], scripts: Sequence[Script], limits: Limits) -> None:
        self._roots = roots
        self._scripts = scripts
        self.limits = limits
        self._host: dict[str, Any] = {}
        self._qjs = _quickjs()
        self._start()

    def _start(self) -> None:
        self._host = {}  # drop the old heap's handles before making a new one
        context = self._qjs.Context()
        context.set_memory_limit(self.limits.memory)
        context.set_time_limit(self.limits.time)
        context.eval("globalThis.__sit = " + _sandbox())
        names = ("addRoot", "load", "reset", "step", "running")
        self._host = {name: context.eval(f"__sit.{name}") for name in names}
        context.eval("delete globalThis.__sit")
        self._context = context
        for files in self._roots:
            self._host["addRoot"](json.dumps(files, ensure_ascii=False))
        for script in self._scripts:
            self._load(script)

    def _load(self, script: Script) -> None:
        try:
            result = json.loads(self._host["load"](script.root, script.path, script.source))
        except self._qjs.JSException as exc:
            raise SitError(f"cannot load reducer {script.path}: {self._limit_message(exc)}.") from None
        if "error" in result:
            raise SitError(f"cannot load reducer {script.path}: {_one_line(result['error'])}")

    def reset(self) -> None:
        """A fresh ``this`` for every reducer (before each item)."""
        self._host["reset"]()

    def step(self, state: State, record: Record, start: int, end: int, quirk: bool = False) -> Step:
        """Run reducers ``start``..``end - 1`` over ``record`` from ``state``."""
        try:
            text = self._host["step"](
                json.dumps(state, ensure_ascii=False), _record_json(record), start, end, quirk
            )
        except self._qjs.JSException as exc:
            return self._stopped(exc, start)
        result = _loads(text)
        if "error" in result:
            return Step(error=result["error"])
        if not isinstance(result["state"], dict):  # a toJSON() turned the state into something else
            message = f"TypeError: invalid return value {json.dumps(result['state'])}, expected an object"
            return Step(error={"file": self._scripts[end - 1].path, "error": message})
        return Step(state=result["state"], quirk=result["quirk"])

    def _stopped(self, exc: Exception, start: int) -> Step:
        try:
            running = int(self._host["running"]())
        except (self._qjs.JSException, TypeError, ValueError):
            running = -1
        index = running if 0 <= running < len(self._scripts) else start
        message = f"{self._limit_message(exc)}; the item's later records were not reduced"
        self._start()
        return Step(error={"file": self._scripts[index].path, "error": message}, stopped=True)

    def _limit_message(self, exc: Exception) -> str:
        text = str(exc)
        if "interrupted" in text:
            return f"stopped after the time limit of {self.limits.time:g} s"
        if "out of memory" in text:
            return f"stopped at the memory limit of {self.limits.memory / MIB:g} MiB"
        return f"stopped: {_one_line(text)}"


def _one_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def _record_json(record: Record) -> str:
    # Bytes travel as Latin-1 text (one character per byte); the sandbox makes Uint8Arrays.
    files = {name: record.files[name].decode("latin-1") for name in sorted(record.files)}
    return json.dumps({"hash": record.id, "files": files}, ensure_ascii=False)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _loads(text: str) -> Any:
    value = json.loads(text)
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
