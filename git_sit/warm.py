"""Streaming states from a revision's snapshot, and warm reads that open no repository.

A complete read (``bulk.states``) files a revision's snapshot under its SIT tree
and the settings it was read with, which take loading the reducers to work out.
When nothing outside the SIT tree decides them (no submodule, no module outside the
tree, no trust filter), that read also records a **memo**: an alias from the
git-sit version, the SIT directory's path and tree ID and the command's options to
those settings. A later ``items --rev`` then asks git for the tree ID
(``storage.probe``), looks up the memo and the snapshot, and streams the items from
the cache without pygit2 or the reducers (``cached_states``). The memo is content
keyed like every cache entry: a new commit has another tree, and so no memo until a
complete read makes one. Items that the snapshot holds no state for are reduced by
the full store, opened only then, as ``bulk`` would.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from git_sit import __version__
from git_sit.cachekey import digest, snapshot_key
from git_sit.options import Options, candidates
from git_sit.snapshot import Snapshot, decode
from git_sit.statecache import StateCache, cache_path
from git_sit.storage.probe import find_sit_tree

# 2: none where listing items or loading reducers warned; 3: with state key 4 (a memo names
# the settings of its key format, so an old one would serve the old snapshots).
MEMO_FORMAT = "git-sit memo 3"
CHUNK = 1024  # states fetched per cache query while streaming
_DECODER = json.JSONDecoder()
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_decode = _DECODER.decode  # json.loads without its per-call checks of bytes input

State = dict[str, Any]


def context(options: Options) -> str:
    """The options a revision's settings depend on, besides its SIT tree."""
    limits = options.limits
    return f"integrity={options.integrity};reducers={options.reducers};js={limits.time},{limits.memory}"


def memo_key(sit_path: str, sit_tree: str, options_context: str, keeps_id: bool) -> bytes:
    """The memo of a SIT tree read with these options (and reducers that keep, or may change, ``id``)."""
    return digest(["memo", MEMO_FORMAT, __version__, sit_path, sit_tree, options_context,
                   "keeps id" if keeps_id else "may change id"])


def remember(cache: StateCache, key: bytes, settings: bytes) -> None:
    """Record a memo (once: a warm read that took the long way finds it already there)."""
    if cache.aliases([key]).get(key) != settings:
        cache.put([], [(key, settings)])


def recall(cache: StateCache, sit_path: str, sit_tree: str,
           options_context: str) -> tuple[bytes, bool] | None:
    """The snapshot settings memorised for a SIT tree, and whether its reducers keep ``id``."""
    keys = {memo_key(sit_path, sit_tree, options_context, keeps): keeps for keeps in (True, False)}
    for key, settings in cache.aliases(list(keys)).items():
        return settings, keys[key]
    return None


def snapshot_of(cache: StateCache, key: bytes) -> Snapshot | None:
    """A recorded snapshot, with the deltas below it applied; ``None`` if absent or unreadable."""
    found = cache.snapshot(key)
    if found is None:
        return None
    payload, base_key = found
    base = snapshot_of(cache, base_key) if base_key is not None else None
    if base_key is not None and base is None:
        return None  # its base was dropped
    try:
        return decode(payload, base)
    except (ValueError, TypeError, KeyError, AttributeError):
        cache.warn(f"the git-sit cache {cache.path} holds a malformed snapshot; ignoring it.")
        return None


@functools.lru_cache(maxsize=16)
def _field_prefix(field: str) -> str | None:
    """How a state's JSON starts when ``field`` is its first key (``None``: a name JSON escapes)."""
    return '{"' + field + '":' if json.dumps(field) == f'"{field}"' else None


def value_of(state_json: str, field: str | None) -> Any:
    """A state from its JSON, or with ``field`` just that top-level field of it (``None`` if absent).

    States are stored as ``json.dumps`` writes a dict, so a key occurs once: when the JSON
    starts with the field (``id`` always comes first), its value is read alone.
    """
    if field is None:
        return _decode(state_json)
    prefix = _field_prefix(field)
    if prefix is not None and state_json.startswith(prefix):
        start = _JSON_SPACE.match(state_json, len(prefix))
        return _DECODER.raw_decode(state_json, start.end() if start else len(prefix))[0]
    return _decode(state_json).get(field)


def stream(cache: StateCache, order: Iterable[tuple[str, bytes | None]], computed: dict[str, str],
           field: str | None, keeps_id: bool, reduce: Callable[[str], State]) -> Iterator[Any]:
    """States (or a field of each) in item order: computed ones (JSON) as they are, others fetched by key.

    ``reduce`` reduces an item whose state is not cached (never cached because it had
    warnings, or dropped since).
    """
    pairs = iter(order)
    # The ID of a cached state is its item's ID when the reducers never change "id".
    ids_only = field == "id" and keeps_id
    while chunk := list(itertools.islice(pairs, CHUNK)):
        wanted = [] if ids_only else [key for item, key in chunk if key is not None and item not in computed]
        found = cache.states(wanted)
        for item_id, key in chunk:
            if item_id in computed:
                yield value_of(computed[item_id], field)
                continue
            if ids_only and key is not None:
                yield item_id
                continue
            data = found.get(key) if key is not None else None
            if data is not None:
                yield value_of(data.decode("utf-8"), field)
            else:
                state = reduce(item_id)
                yield state if field is None else state.get(field)


def cached_states(cwd: str, options: Options, field: str | None,
                  reduce: Callable[[str], State]) -> Iterator[Any] | None:
    """``bulk.states`` of ``options.rev`` from a memo and its snapshot, or ``None`` if there are none.

    ``reduce`` reduces one item through the full store (opened on first use).
    """
    if options.rev is None or not options.cache:
        return None
    found = find_sit_tree(cwd, options.rev, candidates)
    if found is None:
        return None
    cache = StateCache(cache_path(found.common_dir), options.warn)
    recalled = recall(cache, found.sit_path, found.tree, context(options))
    if recalled is None:
        return None
    settings, keeps_id = recalled
    recorded = snapshot_of(cache, snapshot_key(settings, found.tree))
    if recorded is None:
        return None
    order = zip(recorded.items, recorded.keys, strict=True)
    return stream(cache, order, {}, field, keeps_id, reduce)
