"""Writing records into a SIT directory on disk, atomically and never overwriting.

A record is composed in memory (payload files, ``.type/*``, ``.authors``,
``.timestamp``, automatic ``.prev/*``), written into a temporary directory inside
the SIT directory, named by its hash and renamed into place; then the item's link
file is created with ``O_EXCL`` semantics. If any step fails, what this call
created is removed again, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from git_sit.config import RepoConfig
from git_sit.errors import WriteError
from git_sit.record import PREV_PREFIX, TYPE_PREFIX, compute_id, link_content, split_path
from git_sit.view import is_utf8_name


@dataclass(frozen=True, slots=True)
class Written:
    """A record that was written: its ID and the new files, relative to the SIT directory."""

    record_id: str
    paths: list[str]


def utc_timestamp(now_ns: int | None = None) -> str:
    """RFC 3339 UTC with nanoseconds and ``Z``, as SIT's CLI writes ``.timestamp``."""
    ns = time.time_ns() if now_ns is None else now_ns
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def compose(
    payload: Mapping[str, bytes],
    types: Iterable[str] = (),
    authors: str | None = None,
    timestamp: str | None = None,
    prev: Iterable[str] = (),
) -> dict[str, bytes]:
    """The full file set of a new record."""
    files = dict(payload)
    files.update({TYPE_PREFIX + t: b"" for t in types})
    if authors is not None:
        files[".authors"] = authors.encode("utf-8")
    if timestamp is not None:
        files[".timestamp"] = timestamp.encode("ascii")
    files.update({PREV_PREFIX + p: b"" for p in prev})
    return files


def validate_name(name: str) -> None:
    """Reject file names that could not round-trip through SIT's normalisation."""
    parts = name.split("/")
    if not name or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise WriteError(f"invalid record file name {name!r}.")


def create_item(sit_dir: str, item_id: str | None = None) -> str:
    """Create ``items/<ID>/`` (a new UUID v4 by default); refuse an existing ID."""
    item_id = str(uuid.uuid4()) if item_id is None else item_id
    # Any single directory name, as SIT allows (SIT-FORMAT §1.4), dot-names included.
    if "/" in item_id or "\\" in item_id or item_id in ("", ".", "..") or not item_id.isprintable():
        raise WriteError(f"invalid item ID {item_id!r}: it must be one directory name, printable.")
    path = os.path.join(sit_dir, "items", item_id)
    if os.path.lexists(path) or os.path.lexists(os.path.join(sit_dir, "issues", item_id)):
        raise WriteError(f"item {item_id} already exists.")
    try:
        os.makedirs(path)
    except OSError as exc:
        raise WriteError(f"cannot create item {item_id}: {exc.strerror}.") from None
    return item_id


def write_record(sit_dir: str, config: RepoConfig, item_id: str, files: Mapping[str, bytes]) -> Written:
    """Write a record of ``item_id`` and its link; return its ID and the new paths."""
    for name in files:
        validate_name(name)
    record_id = compute_id(files.items(), config.hasher)
    if config.flat_records:
        record_rel = f"records/{split_path(record_id)}"
        link_rel: str | None = f"items/{item_id}/{record_id}"
    else:
        record_rel, link_rel = f"items/{item_id}/{record_id}", None
    if link_rel and os.path.lexists(os.path.join(sit_dir, link_rel)):
        raise WriteError(f"record {record_id} is already in item {item_id}.")
    created = _place_record(sit_dir, record_rel, files)
    try:
        if link_rel:
            _write_exclusive(os.path.join(sit_dir, link_rel), link_content(record_id))
    except BaseException:
        if created:
            _remove_record(sit_dir, record_rel)
        raise
    paths = [f"{record_rel}/{name}" for name in sorted(files)] if created else []
    return Written(record_id, [*paths, *([link_rel] if link_rel else [])])


def _place_record(sit_dir: str, record_rel: str, files: Mapping[str, bytes]) -> bool:
    """Move the record into place; False if an identical record (same ID) already exists."""
    final = os.path.join(sit_dir, record_rel)
    if os.path.isdir(final) and not os.path.islink(final):
        if _files_below(final) != dict(files):  # records are immutable: reuse only the very same
            raise WriteError(f"{final} exists but does not hold this record's files; it was changed "
                             "by hand (see 'git sit integrity').")
        return False
    if os.path.lexists(final):
        raise WriteError(f"{final} exists and is not a record directory.")
    tmp: str | None = None
    try:
        tmp = tempfile.mkdtemp(prefix=".tmp-record-", dir=sit_dir)
        for name, data in files.items():
            path = os.path.join(tmp, *name.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "xb") as handle:
                handle.write(data)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.rename(tmp, final)
    except BaseException as exc:  # an interrupt too: no temporary directory is left behind
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.lexists(final):
            _remove_record(sit_dir, record_rel)
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write record into {sit_dir}: {exc.strerror}.") from None
        raise
    return True


def _files_below(directory: str) -> dict[str, bytes] | None:
    """Every file below ``directory`` by relative name; ``None`` if one cannot be read."""
    found: dict[str, bytes] = {}
    try:
        for dirpath, _, names in os.walk(directory):
            for name in names:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as handle:
                    found[os.path.relpath(path, directory).replace(os.sep, "/")] = handle.read()
    except OSError:
        return None
    return found


def _remove_record(sit_dir: str, record_rel: str) -> None:
    """Undo ``_place_record``: the record and the split directories left empty."""
    shutil.rmtree(os.path.join(sit_dir, record_rel), ignore_errors=True)
    parent = os.path.dirname(record_rel)
    while parent not in ("", "records", "items"):
        try:
            os.rmdir(os.path.join(sit_dir, parent))
        except OSError:
            break  # not empty: it holds other records
        parent = os.path.dirname(parent)


def _write_exclusive(path: str, data: bytes) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb") as handle:
            handle.write(data)
    except FileExistsError:
        raise WriteError(f"{path} already exists; records are never overwritten.") from None
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror}.") from None


# Names git-sit writes itself (``compose``, signing); a payload file may not take them.
RESERVED_FILES = (".authors", ".timestamp", ".signature")
RESERVED_DIRS = (".type/", ".prev/")


def read_payload(cwd: str, paths: Iterable[str]) -> dict[str, bytes]:
    """Files and directories (recursively) under ``cwd``, named relative to it (SIT's rule).

    A file is named as given (a symlink given by name, to a file below ``cwd``, is read
    under its own name). Below a directory only regular files are taken: a symlink
    there could lead anywhere, and a pipe or device would never end.
    """
    base = os.path.realpath(cwd)
    files: dict[str, bytes] = {}
    for given in paths:
        path = os.path.realpath(os.path.join(cwd, given))
        if os.path.commonpath([base, path]) != base or path == base:
            raise WriteError(f"{given} is not below the current directory.")
        name = os.path.relpath(os.path.abspath(os.path.join(cwd, given)), os.path.abspath(cwd))
        if os.path.isdir(path):
            for dirpath, dirs, names in os.walk(path):
                below = os.path.join(name, os.path.relpath(dirpath, path))
                for entry in sorted(names) + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
                    relative = os.path.normpath(os.path.join(below, entry))
                    _add_file(files, relative, os.path.join(dirpath, entry), follow=False)
        elif os.path.lexists(path):
            _add_file(files, name, path, follow=True)
        else:
            raise WriteError(f"{given}: no such file or directory.")
    return files


def _add_file(files: dict[str, bytes], relative: str, path: str, follow: bool) -> None:
    name = relative.replace(os.sep, "/")
    if not is_utf8_name(name):
        raise WriteError(f"the file name {name!r} is not valid UTF-8; SIT names are.")
    try:
        mode = os.stat(path).st_mode if follow else os.lstat(path).st_mode
        if not stat.S_ISREG(mode):
            what = "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
            raise WriteError(f"{name} is {what}; only regular files can be recorded.")
        with open(path, "rb") as handle:
            files[name] = handle.read()
    except OSError as exc:
        raise WriteError(f"cannot read {name}: {exc.strerror}.") from None


def check_payload_names(names: Iterable[str], authors: bool, timestamp: bool) -> None:
    """Refuse payload files named as what git-sit writes (``authors``/``timestamp``: it writes those)."""
    for name in names:
        written = name == ".signature" or (name == ".authors" and authors) or (
            name == ".timestamp" and timestamp) or name.startswith(RESERVED_DIRS)
        if written:
            how = "use -t for types; .prev is automatic" if name.startswith(RESERVED_DIRS) else \
                "git-sit writes it (see --no-author, --no-timestamp, --sign)"
            raise WriteError(f"a file named {name} cannot be recorded: {how}.")
