"""The reducers a repository defines, run as SIT runs them (SIT-FORMAT §5.3, §5.4).

``select_reducers`` decides, from the repository's reducer roots, what reduces
its items: with ``auto``, no reducers at all means the built-in native set; a
root that is the issue-tracking module (recognised by content) or a submodule
that is not available (with a warning) runs as the native port; everything else
runs as JavaScript. ``js`` runs exactly the repository's files, as SIT would
(no files: the state stays the initial state); ``native`` always runs the port.
When no root runs as the port, ``auto`` adds git-sit's extensions (labels, assignees,
milestone) after the repository's reducers, so what ``git sit issue label`` writes is
shown; they change only items that have git-sit's own records. ``ScriptReducers`` is
the loop over records for a mix of JavaScript and native segments, with SIT's error
entries and round trips.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from git_sit.errors import SitError
from git_sit.extensions import VERSION as EXTENSIONS_VERSION
from git_sit.jsengine import Engine, Limits, Script, Source, engine_version
from git_sit.modules import ReducerRoot
from git_sit.options import MODES
from git_sit.record import Record
from git_sit.reduce import (
    NativeReducers,
    Reducer,
    ReducerFailure,
    ReducerSet,
    State,
    extension_reducers,
    invalid_return,
    issue_tracking_reducers,
)

# The issue-tracking module's reducer files, as git blob IDs per file name. Each
# root whose top-level *.js files are exactly these runs as the native port.
# The files of module commit 18c57211 were not at hand when this was written;
# fill the sets with `scripts/issue-tracking-blobs DIR` on a checkout of it.
ISSUE_TRACKING_BLOBS: dict[str, frozenset[str]] = {
    "Commented.js": frozenset(),
    "DetailsChanges.js": frozenset(),
    "MergeRequested.js": frozenset(),
    "Merged.js": frozenset(),
    "State.js": frozenset(),
    "SummaryChanged.js": frozenset(),
    "activity.js": frozenset(),
}
# Submodule commits (prefixes) that pin the issue-tracking module: a commit ID
# covers every file of the module, so these need no files at all.
ISSUE_TRACKING_COMMITS = ("18c57211",)

Warn = Callable[[str], None]
Blobs = dict[str, frozenset[str]]


def blob_id(data: bytes) -> str:
    """The git blob ID of ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_issue_tracking(root: ReducerRoot, blobs: Blobs | None = None) -> bool:
    """True if ``root`` is the issue-tracking module's reducers, by content."""
    blobs = ISSUE_TRACKING_BLOBS if blobs is None else blobs
    commit = root.module.commit if root.module else None
    if commit and commit.startswith(ISSUE_TRACKING_COMMITS):
        return True
    if root.unavailable or set(root.reducers) != set(blobs):
        return False
    return all(blob_id(root.files[name]) in blobs[name] for name in root.reducers)


@dataclass(frozen=True, slots=True)
class _Js:
    start: int
    end: int


@dataclass(slots=True)
class _Native:
    reducers: list[Reducer]
    # SIT's port takes part in the (state, state) quirk; git-sit's extensions alone,
    # being no part of SIT, always see the record.
    sit: bool = True


Segment = _Js | _Native


class ScriptReducers:
    """A repository's reducer roots as one ``ReducerSet``: JavaScript and native segments in order.

    The engine starts on the first reduction (a cache hit needs only the fingerprint).
    One instance must not be used from several threads at once.
    """

    def __init__(self, roots: Sequence[ReducerRoot], native: Sequence[bool], limits: Limits,
                 extensions: bool = False) -> None:
        self._segments: list[Segment] = []
        scripts: list[Script] = []
        sources: list[Source] = []
        for root, as_native in zip(roots, native, strict=True):
            if as_native:
                # The issue-tracking module, recognised (or unavailable): its native port, with
                # git-sit's extensions, as NativeReducers runs them (the fingerprint says so).
                self._segments.append(_Native([*issue_tracking_reducers(), *extension_reducers()]))
                continue
            files = {path: data.decode("utf-8", "replace") for path, data in root.files.items()}
            sources.append(Source(files, root.links))
            start = len(scripts)
            scripts.extend(Script(len(sources) - 1, f"{root.label}/{n}", files[n]) for n in root.reducers)
            if len(scripts) > start:
                self._segments.append(_Js(start, len(scripts)))
        if extensions:
            self._segments.append(_Native(extension_reducers(), sit=False))
        self._sources, self._scripts, self._limits = sources, scripts, limits
        self._engine: Engine | None = None
        self.fingerprint = _fingerprint(roots, native, limits, extensions)

    def load(self) -> None:
        """Start the engine and load every reducer file (a file that does not load is an error)."""
        if self._engine is None and self._scripts:
            self._engine = Engine(self._sources, self._scripts, self._limits)

    def reduce(self, records: Iterable[Record], initial: State) -> State:
        """Fold ``records`` (in §5.2 order) from ``initial``, in a fresh context (and ``this``es)."""
        self.load()
        if self._engine is not None:
            self._engine.reset()
        for segment in self._segments:
            if isinstance(segment, _Native):
                for reducer in segment.reducers:
                    reducer.reset()
        state = _round_trip(initial)
        for record in records:
            state, stopped = self._apply(state, record)
            if stopped:
                break
        return state

    def _apply(self, before: State, record: Record) -> tuple[State, bool]:
        current, quirk = before, False
        for segment in self._segments:
            if isinstance(segment, _Native):
                current, error, quirk = _native(segment, _round_trip(current), record, quirk)
                if error is not None:
                    return _with_error(before, error), False
                continue
            assert self._engine is not None
            step = self._engine.step(current, record, segment.start, segment.end, quirk)
            if step.error is not None:
                return _with_error(before, step.error), step.stopped
            assert step.state is not None
            current, quirk = step.state, step.quirk
        return _round_trip(current), False


# What the issue-tracking module's first reducer (Commented.js) throws when it is called
# with the state in place of the record: its first look is at record.files['.type/Merged'].
_NO_RECORD = "TypeError: cannot read property '.type/Merged' of {}"


def _native(segment: _Native, state: State, record: Record, quirk: bool
            ) -> tuple[State, dict[str, str] | None, bool]:
    """Run a native segment; ``quirk``: an earlier reducer of the record returned undefined (§5.4).

    Then SIT calls every later reducer with (state, state), so the port's reducers would look
    for the record's files in a state that has none, and throw, as the module does in
    JavaScript. (A state with a ``files`` value of its own is not emulated: it runs as usual.)
    Returns the state, an error entry or None, and whether later reducers get (state, state).
    """
    if quirk and segment.sit and state.get("files") is None:
        first = segment.reducers[0].path
        return state, {"file": first, "error": _NO_RECORD.format(
            "null" if "files" in state else "undefined")}, quirk
    for reducer in segment.reducers:
        try:
            result = reducer.fn(reducer.this, state, record)
        except ReducerFailure as exc:
            return state, {"file": reducer.path, "error": str(exc)}, quirk
        if result is None:
            # The port's only such reducer is activity.js, last of the module: only reducers
            # after the module (git-sit's extensions see the record, being no part of SIT) get
            # (state, state).
            quirk = True
            continue
        if not isinstance(result, dict):
            # The port's reducers never do this; kept so a bug in one is SIT's error entry
            # rather than a traceback later on.
            return state, {"file": reducer.path, "error": invalid_return(result)}, quirk
        state = result
    return state, None, quirk


def _round_trip(state: State) -> State:
    result: State = json.loads(json.dumps(state, ensure_ascii=False))
    return result


def _with_error(state: State, error: dict[str, str]) -> State:
    result = _round_trip(state)
    errors = result.get("errors")
    result["errors"] = [*(errors if isinstance(errors, list) else []), error]
    return result


def _fingerprint(
    roots: Sequence[ReducerRoot], native: Sequence[bool], limits: Limits, extensions: bool,
) -> str:
    digest = hashlib.sha256(f"{engine_version()}\0{limits.time}\0{limits.memory}\0".encode())
    if extensions:
        digest.update(f"git-sit-extensions@{EXTENSIONS_VERSION}\0".encode())
    for root, as_native in zip(roots, native, strict=True):
        digest.update(f"root\0{root.label}\0{as_native}\0".encode())
        if as_native:
            # "quirk": a native segment takes part in SIT's (state, state) quirk (``_native``).
            digest.update(NativeReducers().fingerprint.encode() + b"+quirk\0")
            continue
        for path in sorted(root.files):
            digest.update(f"{path}\0{blob_id(root.files[path])}\0".encode("utf-8", "surrogateescape"))
        for path in root.links:  # require() of one says it is a symlink
            digest.update(f"link\0{path}\0".encode("utf-8", "surrogateescape"))
    return "js:" + digest.hexdigest()


def select_reducers(
    roots: Sequence[ReducerRoot], mode: str, limits: Limits, warn: Warn, blobs: Blobs | None = None,
) -> ReducerSet:
    """The reducer set for a repository's reducer roots under ``mode`` (auto, js or native)."""
    if mode not in MODES:
        raise SitError(f"unknown reducer mode {mode!r}; use one of {', '.join(MODES)}.")
    if mode != "native":
        warn_unfollowed(roots, warn)
    roots = [root for root in roots if root.reducers or root.unavailable]  # empty directories define none
    if mode == "native" or (mode == "auto" and not roots):
        return NativeReducers()
    if mode == "js":
        for root in roots:
            if root.unavailable:
                raise SitError(f"{_unavailable(root)}; its JavaScript reducers cannot run "
                               "(run 'git submodule update --init', or use --reducers native).")
        return ScriptReducers(roots, [False] * len(roots), limits)
    native = [root.unavailable or is_issue_tracking(root, blobs) for root in roots]
    for root in roots:
        if root.unavailable and not is_issue_tracking(root, blobs):
            warn(f"{_unavailable(root)}; using the built-in issue-tracking reducers instead.")
    if native == [True]:
        return NativeReducers()
    return ScriptReducers(roots, native, limits, extensions=not any(native))


def warn_unfollowed(roots: Sequence[ReducerRoot], warn: Warn) -> None:
    """Say which reducers are not run because they are symlinks (SIT would follow them)."""
    for root in roots:
        if root.linked:
            warn(f"reducers directory {root.label} is a symlink, which git-sit does not follow; "
                 "its reducers are not run.")
        for name in root.linked_reducers:
            warn(f"reducer {root.label}/{name} is a symlink, which git-sit does not follow; not run.")


def _unavailable(root: ReducerRoot) -> str:
    module = root.module
    assert module is not None and module.commit is not None
    return f"module {module.path} (submodule at {module.commit[:12]}) is not available"


class LazyReducers:
    """A ``ReducerSet`` built on first use, so commands that never reduce never load reducers."""

    def __init__(self, build: Callable[[Warn], ReducerSet], warn: Warn) -> None:
        self._build = build
        self._warn = warn
        self._set: ReducerSet | None = None
        # Loading them warned (a reducer that is a symlink...): a warm read loads none, so
        # it would not say so again; such a read leaves no memo to be served from.
        self.warned = False

    def resolve(self) -> ReducerSet:
        if self._set is None:
            self._set = self._build(self._note)
        return self._set

    def _note(self, message: str) -> None:
        self.warned = True
        self._warn(message)

    @property
    def fingerprint(self) -> str:
        return self.resolve().fingerprint

    @property
    def keeps_id(self) -> bool:
        """True if the reducers never change a state's "id" (the built-in set)."""
        return bool(getattr(self.resolve(), "keeps_id", False))

    def reduce(self, records: Iterable[Record], initial: State) -> State:
        return self.resolve().reduce(records, initial)

