"""The inbox's configuration, read from the server repository's git config (``sit.inbox.*``).

Pure: it takes the ``(name, value)`` entries git config holds under ``sit.inbox.``
(multi-valued keys appear once per value; ``None`` for a key written without
``=``, which git reads as boolean true) and returns ``Settings``, or raises
``InvalidConfig`` naming the key and what to do. Unknown keys are errors too, so a
misspelt limit is never silently ignored: an inbox fails closed (SIT-FORMAT §8.3
rule 7). Signatures are required when ``requireSignature`` is true, or when it is
unset and ``trustedKeys`` names a keyring; requiring them without a keyring is an
error, since no key could ever be trusted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from git_sit.errors import InvalidConfig
from git_sit.inboxtypes import (
    DEFAULT_MAX_BLOB,
    DEFAULT_MAX_PUSH_SIZE,
    DEFAULT_MAX_RECORD_SIZE,
    DEFAULT_MAX_RECORDS,
    UUID_PATTERN,
    Rules,
)

PREFIX = "sit.inbox."
DEFAULT_REFS = ("refs/heads/*",)
DEFAULT_PATHS = (".sit",)

# Lower case: git config section and key names are case-insensitive.
KEYS = {
    "ref": "sit.inbox.ref",
    "path": "sit.inbox.path",
    "itempattern": "sit.inbox.itemPattern",
    "maxblobsize": "sit.inbox.maxBlobSize",
    "maxrecords": "sit.inbox.maxRecords",
    "maxrecordsize": "sit.inbox.maxRecordSize",
    "maxpushsize": "sit.inbox.maxPushSize",
    "forward": "sit.inbox.forward",
    "requiresignature": "sit.inbox.requireSignature",
    "trustedkeys": "sit.inbox.trustedKeys",
}
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")
_SIZE = re.compile(r"([0-9]+)([kmg]?)", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the inbox hook is configured with."""

    rules: Rules = field(default_factory=Rules)
    refs: tuple[str, ...] = DEFAULT_REFS
    forward: str | None = None
    require_signature: bool = False
    trusted_keys: str | None = None  # as configured; see ``keyring_path``


def parse_settings(entries: Iterable[tuple[str, str | None]]) -> Settings:
    """Build ``Settings`` from git config entries named ``sit.inbox.*``."""
    values: dict[str, list[str]] = {}
    flags: dict[str, bool] = {}
    for name, value in entries:
        key = name.lower()
        if not key.startswith(PREFIX) or key[len(PREFIX):] not in KEYS:
            raise InvalidConfig(f"unknown inbox setting {name!r} (known: {', '.join(KEYS.values())}).")
        short = key[len(PREFIX):]
        if short == "requiresignature":
            flags[short] = _bool(KEYS[short], value)
        elif value is None:
            raise InvalidConfig(f"{KEYS[short]} has no value; write it as '{KEYS[short]} = VALUE'.")
        else:
            values.setdefault(short, []).append(value)

    def last(key: str) -> str | None:
        return values[key][-1] if key in values else None

    refs = tuple(_ref_pattern(v) for v in values.get("ref", [])) or DEFAULT_REFS
    paths = tuple(_sit_path(v) for v in values.get("path", [])) or DEFAULT_PATHS
    rules = Rules(
        sit_paths=tuple(dict.fromkeys(paths)),
        item_pattern=_pattern(last("itempattern")),
        max_blob=_size(KEYS["maxblobsize"], last("maxblobsize"), DEFAULT_MAX_BLOB),
        max_records=_size(KEYS["maxrecords"], last("maxrecords"), DEFAULT_MAX_RECORDS),
        max_record_size=_size(KEYS["maxrecordsize"], last("maxrecordsize"), DEFAULT_MAX_RECORD_SIZE),
        max_push_size=_size(KEYS["maxpushsize"], last("maxpushsize"), DEFAULT_MAX_PUSH_SIZE),
    )
    keys = _trusted_keys(last("trustedkeys"))
    require = flags.get("requiresignature", keys is not None)
    if require and keys is None:
        raise InvalidConfig(f"{KEYS['requiresignature']} is true but {KEYS['trustedkeys']} is not set; "
                            "point it at a file of trusted public keys ('gpg --export --armor KEY...').")
    return Settings(rules, refs, _forward(last("forward")), require, keys)


def keyring_path(git_dir: str, value: str) -> str:
    """Where ``trustedKeys`` points: ``~/`` is the home directory, a relative path is in the git dir."""
    return os.path.join(git_dir, os.path.expanduser(value))


def _ref_pattern(value: str) -> str:
    if not value.startswith("refs/") or any(c.isspace() for c in value):
        raise InvalidConfig(f"{KEYS['ref']} = {value!r} must be a ref pattern like 'refs/heads/*'.")
    return value


def _sit_path(value: str) -> str:
    parts = [p for p in value.strip().split("/") if p not in ("", ".")]
    if value.startswith("/") or "\\" in value or ".." in parts:
        raise InvalidConfig(
            f"{KEYS['path']} = {value!r} must be a relative path inside the repository such as '.sit'."
        )
    return "/".join(parts) or "."


def _pattern(value: str | None) -> re.Pattern[str]:
    try:
        return re.compile(UUID_PATTERN if value is None else value)
    except re.error as exc:
        raise InvalidConfig(f"{KEYS['itempattern']} = {value!r} is not a valid regular expression: {exc}.") \
            from None


def _size(key: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    match = _SIZE.fullmatch(value.strip())
    if not match or int(match.group(1)) == 0:
        raise InvalidConfig(f"{key} = {value!r} must be a positive whole number (k, m or g suffix allowed).")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _forward(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip() or value.startswith("-"):
        raise InvalidConfig(f"{KEYS['forward']} = {value!r} must name a git remote or URL.")
    return value


def _bool(key: str, value: str | None) -> bool:
    if value is None:
        return True  # a key written without '=' is true, as git reads it
    text = value.strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise InvalidConfig(f"{key} = {value!r} must be a boolean (true or false).")


def _trusted_keys(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise InvalidConfig(f"{KEYS['trustedkeys']} is empty; name a file of trusted public keys.")
    return value
