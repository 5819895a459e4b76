#!/usr/bin/env python3
"""The benchmark's floors: what reading a revision's records costs before any git-sit code runs.

``floor`` is the issue's floor: ``git ls-tree -r`` piped into ``git cat-file --batch``
over every blob of ``.sit`` at a revision. ``verify`` (run as ``bench_floor.py verify
REPO REV``, a process of its own so that its CPU time is counted like a command's) is
the floor of any reader that checks record IDs, as SIT-FORMAT §3.3 asks by default: the
same two git processes over ``.sit/records``, and one Python process that takes each
record's files from their output and recomputes its ID with hashlib and the §2.2
recipe. It is written here on its own, from the spec, so that it shares nothing with
the code it is a bound for. It assumes SIT's default hashing (BLAKE2b-160, base32).
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import IO

BUFFER = 4096
RECORD_DEPTH = 17  # records/ + 15 split directories + the record directory


def floor(repo: str, rev: str = "main") -> float:
    """Seconds for ``git ls-tree -r`` + ``git cat-file --batch`` over every blob of ``.sit``."""
    start = time.perf_counter()
    lister = subprocess.Popen(["git", "-C", repo, "ls-tree", "-r", "--object-only", rev, ".sit"],
                              stdout=subprocess.PIPE)
    reader = subprocess.run(["git", "-C", repo, "cat-file", "--batch"], stdin=lister.stdout,
                            stdout=subprocess.DEVNULL, check=True)
    lister.wait()
    if lister.returncode or reader.returncode:
        raise SystemExit("the floor pipeline failed")
    return time.perf_counter() - start


def record_id(files: list[tuple[bytes, bytes]]) -> str:
    """SIT-FORMAT §2.2: one 4096-byte buffer, never cleared, always fed whole."""
    hasher = hashlib.blake2b(digest_size=20)
    buf = bytearray(BUFFER)
    for name, data in sorted(files):
        hasher.update(name)
        for offset in range(0, len(data), BUFFER):
            chunk = data[offset:offset + BUFFER]
            buf[:len(chunk)] = chunk
            hasher.update(buf)
        hasher.update(buf)
    return base64.b32encode(hasher.digest()).decode().replace("=", "-")


def _list(repo: str, rev: str, paths: deque[bytes], sink: IO[bytes]) -> None:
    """Feed every blob below ``.sit/records`` to ``cat-file``, remembering its path."""
    lister = subprocess.Popen(["git", "-C", repo, "ls-tree", "-r", "--full-tree", rev, "--",
                               ".sit/records"], stdout=subprocess.PIPE)
    assert lister.stdout is not None
    for line in lister.stdout:
        meta, path = line.rstrip(b"\n").split(b"\t", 1)
        _mode, kind, oid = meta.split()
        if kind == b"blob":
            paths.append(path)
            sink.write(oid + b"\n")
    sink.close()
    lister.wait()


def _blobs(stream: IO[bytes], paths: deque[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """Each blob's path and content, in the order they were asked for."""
    while True:
        header = stream.readline()
        if not header:
            return
        size = int(header.split()[2])
        data = stream.read(size)
        stream.read(1)  # the newline after each object
        yield paths.popleft(), data


def verify(repo: str, rev: str) -> tuple[int, int]:
    """Recompute every record's ID at ``rev``: (records, records whose ID does not match)."""
    reader = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert reader.stdin is not None and reader.stdout is not None
    paths: deque[bytes] = deque()
    lister = threading.Thread(target=_list, args=(repo, rev, paths, reader.stdin))
    lister.start()
    results = [record_id(files) == directory.rsplit(b"/", 1)[1].decode()
               for directory, files in _records(_blobs(reader.stdout, paths))]
    lister.join()
    reader.wait()
    return len(results), results.count(False)


def _records(blobs: Iterator[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, list[tuple[bytes, bytes]]]]:
    """Each record directory and its files (name below it, content); a record's blobs come together."""
    current: bytes | None = None
    files: list[tuple[bytes, bytes]] = []
    for path, data in blobs:
        parts = path.split(b"/", RECORD_DEPTH + 1)
        directory, name = b"/".join(parts[:RECORD_DEPTH + 1]), parts[RECORD_DEPTH + 1]
        if directory != current:
            if current is not None:
                yield current, files
            current, files = directory, []
        files.append((name, data))
    if current is not None:
        yield current, files


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[1] != "verify":
        raise SystemExit("usage: bench_floor.py verify REPO REV")
    count, bad = verify(sys.argv[2], sys.argv[3])
    print(f"{count} records, {bad} not matching their ID")
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
