"""SIT's user configuration file (``$XDG_CONFIG_HOME/sit/config.json``) and author identity.

The user config supplies named filters and queries (``items.filters.NAME``...)
after the repository's own, and the author written into ``.authors``; git's
``user.name``/``user.email`` are the fallback for the author, as in SIT (§4.2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from git_sit.errors import InvalidConfig, SitError


def default_path() -> str:
    """Where SIT looks for the user config on Linux and other XDG systems."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "sit", "config.json")


def load(path: str | None = None) -> dict[str, Any]:
    """The user config as a dict; ``{}`` when the default file does not exist."""
    explicit = path is not None
    path = path or default_path()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        if explicit:
            raise InvalidConfig(f"user config {path} does not exist.") from None
        return {}
    except OSError as exc:
        raise InvalidConfig(f"cannot read user config {path}: {exc.strerror}.") from None
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidConfig(f"user config {path} is not valid JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise InvalidConfig(f"user config {path} must hold a JSON object.")
    return value


def named(config: dict[str, Any], kind: str, role: str, name: str) -> str | None:
    """``config[kind][role][name]`` if it is a string (e.g. ``items.filters.open``)."""
    section = config.get(kind)
    table = section.get(role) if isinstance(section, dict) else None
    value = table.get(name) if isinstance(table, dict) else None
    return value if isinstance(value, str) else None


def author(config: dict[str, Any], git_config: Callable[[str], str | None]) -> str | None:
    """``Name <email>`` (or ``Name``) from the user config, else from git config."""
    entry = config.get("author")
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        name, email = entry["name"], entry.get("email")
        where = "the author in the SIT user config"
    else:
        name, email = git_config("user.name"), git_config("user.email")
        where = "git config user.name and user.email"
    if not name:
        return None
    if email is not None and not isinstance(email, str):
        raise SitError(f"{where}: the email must be text, not {json.dumps(email)}.")
    if any(not part.isprintable() or "<" in part or ">" in part for part in (name, email or "")):
        raise SitError(f"{where}: {name!r} <{email}> is not one line of 'Name <email>'.")
    return f"{name} <{email}>" if email else name
