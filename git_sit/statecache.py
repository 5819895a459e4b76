"""The persistent cache of reduced item states, in the git directory (``sit-cache/``).

One SQLite database in WAL mode holds three content-addressed tables: ``states``
(state key → the state's JSON), ``aliases`` (a cheap "quick" key → the state key it
was found to mean; also a memo key → the snapshot settings it was found to mean,
see ``warm``) and ``snapshots`` (a revision's SIT tree → every item's state key).
Keys are digests of everything that decides a result (``cachekey``), so no entry
ever goes stale and every branch, tag and work tree shares them. SQLite
gives atomic, crash-safe commits without a lock file: readers never wait for
writers, and writers hold the write lock only for one short batch, giving up
(leaving the batch uncached) rather than waiting long behind another process.

Nothing here may change a result. Every value starts with a CRC-32 over its key
and payload, so a damaged or misplaced entry is detected on read; a
database that is damaged, truncated, foreign or of another format is reported in
one warning line, deleted and rebuilt. A git directory we cannot write, or any
other failure to open the database, simply runs without the cache.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Sequence

from git_sit.errors import WriteError

FORMAT = "git-sit state cache 4"
FILE_PREFIX = "states-v"
FILE_NAME = f"{FILE_PREFIX}4.sqlite"
CACHE_DIR = "sit-cache"
WRITE_TIMEOUT = 0.5  # seconds a writer waits for another process's batch before giving up
KEEP_SNAPSHOTS = 64
KEEP_FULL_SNAPSHOTS = 4
DEFER_BATCH = 1024  # entries collected by deferred puts before they are written
WAL_LIMIT = 4 << 20  # bytes of write-ahead log kept on disk between runs
BATCH = 500  # keys per SELECT (well under SQLite's host-parameter limit)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # Rowid tables for the large values: SQLite stores big rows far better there.
    "CREATE TABLE IF NOT EXISTS states (key BLOB PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS aliases (key BLOB PRIMARY KEY, target BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS snapshots (key BLOB PRIMARY KEY, settings BLOB NOT NULL, "
    "base BLOB, value BLOB NOT NULL, used REAL NOT NULL)",
)
# SQLite's primary result codes for "this is not a (sound) database".
_CRC = struct.Struct("<I")
_DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_FORMAT}

Warn = Callable[[str], None]


class Damaged(Exception):
    """The cache's content cannot be trusted."""


def cache_path(git_dir: str) -> str:
    """Where the cache of the repository with this (common) git directory lives."""
    return os.path.join(git_dir, CACHE_DIR, FILE_NAME)


def pack(key: bytes, payload: bytes) -> bytes:
    """A stored value: the payload after a CRC-32 of key and payload (damage shows on read)."""
    return _CRC.pack(zlib.crc32(payload, zlib.crc32(key))) + payload


def unpack(key: bytes, value: bytes) -> bytes:
    """The payload stored under ``key``; ``Damaged`` if the value is not what was stored."""
    if not isinstance(value, bytes) or len(value) < _CRC.size:
        raise Damaged("an entry is truncated")
    payload = value[_CRC.size:]
    if _CRC.unpack_from(value)[0] != zlib.crc32(payload, zlib.crc32(key)):
        raise Damaged("an entry does not match its checksum")
    return payload


class StateCache:
    """The cache database of one repository; opened lazily, per process."""

    def __init__(self, path: str, warn: Warn) -> None:
        self.path = path
        self.warn = warn
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._disabled = False
        self._abandoned: list[sqlite3.Connection] = []
        self._deferred_states: dict[bytes, bytes] = {}
        self._deferred_aliases: dict[bytes, bytes] = {}
        self._exit_hook = False

    # --- opening, damage and reset ---

    def _db(self) -> sqlite3.Connection | None:
        if self._disabled:
            return None
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._conn is not None:
            # Inherited across fork: SQLite connections must not be used in the child (nor
            # closed there); keep it referenced so that it is never finalised here.
            self._abandoned.append(self._conn)
            self._conn = None
        try:
            self._conn = self._open()
        except sqlite3.Error as exc:
            if _is_damage(exc):
                self._reset(str(exc))
            else:
                self._disabled = True  # read-only, locked or unopenable: work without it
        except Damaged as exc:
            self._reset(str(exc))
        except OSError:
            self._disabled = True
        self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, exist_ok=True)
        if not os.path.exists(self.path):
            self._remove_other_formats()
        conn = sqlite3.connect(self.path, timeout=WRITE_TIMEOUT, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # git-sit exits without closing (cli.process._leave), so the log outlives the process:
            # trim it after checkpoints rather than keep the size of the largest batch.
            conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
            conn.execute("PRAGMA mmap_size=1073741824")  # read pages without a syscall each
            self._check_format(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _check_format(conn: sqlite3.Connection) -> None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            if tables:
                raise Damaged("it holds tables git-sit did not write")
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
            conn.execute("COMMIT")
        row = conn.execute("SELECT value FROM meta WHERE name='format'").fetchone()
        if row is None or row[0] != FORMAT:
            raise Damaged(f"it has format {row[0] if row else None!r}, not {FORMAT!r}")

    def _reset(self, reason: str) -> None:
        """Warn once, delete the damaged database and start an empty one."""
        self.warn(f"the git-sit cache {self.path} is damaged ({reason}); rebuilding it.")
        if self._conn is not None:
            self._abandoned.append(self._conn)
            self._conn = None
        try:
            self._remove_files()
            self._conn = self._open()
        except (sqlite3.Error, OSError, Damaged):
            self._disabled = True

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def _remove_other_formats(self) -> None:
        """Delete databases an older (or newer) git-sit left: each format has its own file name."""
        directory, name = os.path.split(self.path)
        for other in os.listdir(directory):
            if other.startswith(FILE_PREFIX) and not other.startswith(name):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, other))

    def _failed(self, exc: Exception) -> None:
        """A read or write failed: rebuild if the database is damaged, else stop using it."""
        if isinstance(exc, Damaged) or (isinstance(exc, sqlite3.Error) and _is_damage(exc)):
            self._reset(str(exc))
        else:
            self._disabled = True

    def clear(self) -> bool:
        """Delete the cache; True if there was one."""
        existed = os.path.exists(self.path)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        try:
            self._remove_files()
        except OSError as exc:
            raise WriteError(f"cannot remove the cache {self.path}: {exc.strerror}.") from None
        with contextlib.suppress(OSError):
            self._remove_other_formats()
        return existed

    # --- reading ---

    def _select(self, table: str, column: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        conn = self._db()
        found: dict[bytes, bytes] = {}
        if conn is None or not keys:
            return found
        try:
            for start in range(0, len(keys), BATCH):
                chunk = keys[start:start + BATCH]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, {column} FROM {table} WHERE key IN ({marks})"
                found.update(conn.execute(query, chunk).fetchall())
        except sqlite3.Error as exc:
            self._failed(exc)
            return {}
        return found

    def states(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """State JSON by state key, for the keys that are cached."""
        deferred = {key: self._deferred_states[key] for key in keys if key in self._deferred_states}
        try:
            found = {key: unpack(key, value) for key, value in self._select("states", "value", keys).items()}
        except Damaged as exc:
            self._failed(exc)
            return deferred
        return {**found, **deferred}

    def aliases(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """State key by quick key, for the keys that are cached."""
        found = self._select("aliases", "target", keys)
        found.update((key, self._deferred_aliases[key]) for key in keys if key in self._deferred_aliases)
        if any(len(target) != len(key) for key, target in found.items()):
            self._failed(Damaged("an alias has the wrong length"))
            return {}
        return found

    def snapshot(self, key: bytes) -> tuple[bytes, bytes | None] | None:
        """A recorded snapshot's payload and the key of the base it is a delta against."""
        conn = self._db()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT value, base FROM snapshots WHERE key=?", (key,)).fetchone()
            if row is None:
                return None
            payload = unpack(key, row[0])
        except (sqlite3.Error, Damaged) as exc:
            self._failed(exc)
            return None
        self._touch(key)
        return payload, row[1]

    def has_snapshot(self, key: bytes) -> bool:
        """Whether a snapshot is recorded under ``key`` (without reading it)."""
        conn = self._db()
        if conn is None:
            return False
        try:
            return conn.execute("SELECT 1 FROM snapshots WHERE key=?", (key,)).fetchone() is not None
        except sqlite3.Error as exc:
            self._failed(exc)
            return False

    def latest_full(self, settings: bytes) -> tuple[bytes, bytes] | None:
        """The most recently used complete snapshot made with these settings: key, payload."""
        conn = self._db()
        if conn is None:
            return None
        try:
            # The key first: sorting rows that carry the value copies every candidate's
            # megabytes into SQLite's sorter (14 ms at 10k items, against 1 ms this way).
            row = conn.execute("SELECT key FROM snapshots WHERE settings=? AND base IS NULL "
                               "ORDER BY used DESC LIMIT 1", (settings,)).fetchone()
            if row is not None:
                row = conn.execute("SELECT key, value FROM snapshots WHERE key=?", (row[0],)).fetchone()
            return (row[0], unpack(row[0], row[1])) if row is not None else None  # None: just pruned
        except (sqlite3.Error, Damaged) as exc:
            self._failed(exc)
            return None

    def _touch(self, key: bytes) -> None:
        conn = self._db()
        if conn is None:
            return
        try:
            conn.execute("UPDATE snapshots SET used=? WHERE key=?", (time.time(), key))
        except sqlite3.OperationalError:
            pass  # busy or read-only: the recency hint does not matter
        except sqlite3.Error as exc:
            self._failed(exc)

    # --- writing ---

    def put(self, states: Iterable[tuple[bytes, bytes]], aliases: Iterable[tuple[bytes, bytes]],
            defer: bool = False) -> None:
        """Store states (key, JSON) and aliases (quick key, state key) in one short transaction.

        ``defer``: collect them (visible to this process at once) and write them in batches,
        the last one when the process exits, instead of one transaction per call.
        """
        self._deferred_states.update(states)
        self._deferred_aliases.update(aliases)
        if not defer or len(self._deferred_states) + len(self._deferred_aliases) >= DEFER_BATCH:
            self.flush()
        elif not self._exit_hook:
            atexit.register(self.flush)
            self._exit_hook = True

    def flush(self) -> None:
        """Write what ``put`` collected."""
        rows = [(key, pack(key, payload)) for key, payload in self._deferred_states.items()]
        links = list(self._deferred_aliases.items())
        self._deferred_states, self._deferred_aliases = {}, {}
        if (rows or links) and self._pid in (0, os.getpid()):
            self._write([("INSERT OR IGNORE INTO states VALUES (?, ?)", rows),
                         ("INSERT OR REPLACE INTO aliases VALUES (?, ?)", links)])

    def put_snapshot(self, key: bytes, settings: bytes, payload: bytes, base: bytes | None) -> None:
        """Record a revision's snapshot (a delta against ``base``); keep the most recent ones."""
        row = (key, settings, base, pack(key, payload), time.time())
        self._write([
            ("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?)", [row]),
            # Complete snapshots are large: keep a few; deltas are small but need their base.
            ("DELETE FROM snapshots WHERE base IS NULL AND key NOT IN (SELECT key FROM snapshots "
             f"WHERE base IS NULL ORDER BY used DESC LIMIT {KEEP_FULL_SNAPSHOTS})", None),
            ("DELETE FROM snapshots WHERE base IS NOT NULL AND base NOT IN "
             "(SELECT key FROM snapshots WHERE base IS NULL)", None),
            ("DELETE FROM snapshots WHERE key NOT IN "
             f"(SELECT key FROM snapshots ORDER BY used DESC LIMIT {KEEP_SNAPSHOTS})", None),
        ])

    def _write(self, statements: Sequence[tuple[str, Sequence[Sequence[object]] | None]]) -> None:
        conn = self._db()
        if conn is None:
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return  # another process is writing (or the database is read-only): skip
        except sqlite3.Error as exc:
            self._failed(exc)
            return
        try:
            for statement, rows in statements:
                if rows is None:
                    conn.execute(statement)
                elif rows:
                    conn.executemany(statement, rows)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the database rolls back by itself when the connection goes
            if _is_damage(exc):
                self._failed(exc)


def _is_damage(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _DAMAGE_CODES
    return type(exc) is sqlite3.DatabaseError
