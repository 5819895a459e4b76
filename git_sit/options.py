"""How a command finds and opens a store: the candidate SIT directories, and the options.

The options are the revision, integrity checking, reducers, limits and the cache.
Kept apart from ``locate`` (which opens repositories through pygit2) so that the CLI
can parse its options, and a warm read can be served from the cache, without
importing the storage layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from git_sit.errors import SitError
from git_sit.jsengine import Limits

SIT_DIR = ".sit"
MODES = ("auto", "js", "native")  # which reducers run: SIT's JavaScript, the built-in port, or auto

Warn = Callable[[str], None]
JOBS_ENV = "GIT_SIT_JOBS"


def jobs_from_env(environ: Mapping[str, str]) -> int | None:
    """Worker processes asked for in ``GIT_SIT_JOBS`` (``None``: unset or empty, so one per core)."""
    text = environ.get(JOBS_ENV, "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise SitError(f"{JOBS_ENV} must be a whole number of worker processes, 1 or more, not {text!r}.")
    return int(text)


def ignore(message: str) -> None:
    """A ``Warn`` that drops the message."""


@dataclass(frozen=True, slots=True)
class Options:
    """How to open the store: revision, integrity checking, where warnings go, reducers, the cache."""

    rev: str | None = None
    integrity: bool = True
    warn: Warn = ignore
    reducers: str = "auto"
    limits: Limits = field(default_factory=Limits)
    cache: bool = True


def candidates(parts: list[str]) -> list[str]:
    """Candidate SIT directories for a directory at ``parts`` below the top, nearest first."""
    result: list[str] = []
    for depth in range(len(parts), -1, -1):
        here = parts[:depth]
        if here and here[-1] == SIT_DIR:
            result.append("/".join(here))
        result.append("/".join([*here, SIT_DIR]))
    return result
