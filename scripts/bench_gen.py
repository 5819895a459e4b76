"""Synthetic SIT repositories for the benchmark, generated with ``git fast-import``.

A repository of N items holds about five SIT-like records per item (SummaryChanged,
DetailsChanged, Commented..., sometimes Closed; with ``.authors``, ``.timestamp`` and
``.prev``) in the flat layout, committed on ``main`` and tagged ``v1``. Branches
``b00``... each add one Commented record to a different random 1% of the items, so
every branch differs from ``main`` in 1% of its items. Everything is seeded, so the
same parameters always give the same repository; generated repositories are kept
under a directory keyed by the parameters and reused.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.record import compute_id, link_content, split_path

GENERATOR_VERSION = 1
AUTHORS = [f"Author {i} <author{i}@example.com>" for i in range(24)]
WORDS = [
    "the", "crash", "input", "empty", "config", "file", "parser", "branch", "merge", "record",
    "item", "reduce", "query", "filter", "summary", "details", "comment", "closed", "open",
    "fix", "test", "build", "release", "docs", "speed", "cache",
]


@dataclass(frozen=True)
class Params:
    """What a generated repository depends on."""

    items: int
    records: int = 5
    branches: int = 20
    diff_percent: float = 1.0

    @property
    def name(self) -> str:
        return (f"sit-n{self.items}-r{self.records}-b{self.branches}"
                f"-d{self.diff_percent:g}-v{GENERATOR_VERSION}")


def _text(rng: random.Random, low: int, high: int) -> bytes:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).encode()


def _timestamp(rng: random.Random) -> bytes:
    return (f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}T"
            f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}."
            f"{rng.randint(0, 999999999):09}Z").encode()


def _record(rng: random.Random, types: list[str], text: bytes, prev: str | None) -> dict[str, bytes]:
    files = {f".type/{t}": b"" for t in types}
    files[".authors"] = rng.choice(AUTHORS).encode()
    files[".timestamp"] = _timestamp(rng)
    files["text"] = text
    if prev:
        files[f".prev/{prev}"] = b""
    return files


def item_records(rng: random.Random, count: int) -> list[dict[str, bytes]]:
    """One item's records, each following the previous one."""
    plan = [["SummaryChanged"], ["DetailsChanged"]]
    plan += [["Commented"] for _ in range(max(count - 2, 0))]
    if count > 3 and rng.random() < 0.4:
        plan[-1] = ["Commented", "Closed"]
    texts = [_text(rng, 3, 10), _text(rng, 30, 80)] + [_text(rng, 10, 100) for _ in plan[2:]]
    records: list[dict[str, bytes]] = []
    prev: str | None = None
    for types, text in zip(plan[:count], texts, strict=False):
        files = _record(rng, types, text, prev)
        records.append(files)
        prev = compute_id(files.items())
    return records


def _commands(item_id: str, records: list[dict[str, bytes]]) -> Iterator[bytes]:
    for files in records:
        rid = compute_id(files.items())
        base = f".sit/records/{split_path(rid)}"
        for name, data in sorted(files.items()):
            yield _inline(f"{base}/{name}", data)
        yield _inline(f".sit/items/{item_id}/{rid}", link_content(rid))


def _inline(path: str, data: bytes) -> bytes:
    return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)


def _chunk(args: tuple[int, int, int]) -> tuple[bytes, list[tuple[str, str]]]:
    """fast-import lines for items [start, stop) and each item's (ID, last record ID)."""
    per_item, start, stop = args
    out: list[bytes] = []
    last: list[tuple[str, str]] = []
    for index in range(start, stop):
        rng = random.Random(f"item:{index}")
        item_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        records = item_records(rng, max(1, per_item + rng.randint(-2, 2)))
        out.extend(_commands(item_id, records))
        last.append((item_id, compute_id(records[-1].items())))
    return b"".join(out), last


def _branch_lines(params: Params, branch: int, last: list[tuple[str, str]]) -> bytes:
    rng = random.Random(f"branch:{branch}")
    count = max(1, round(len(last) * params.diff_percent / 100))
    out: list[bytes] = []
    for item_id, prev in rng.sample(last, count):
        files = _record(rng, ["Commented"], _text(rng, 10, 60), prev)
        out.extend(_commands(item_id, [files]))
    return b"".join(out)


def _commit(ref: str, mark: int, parent: str | None, body: bytes, when: int) -> bytes:
    head = (f"commit {ref}\nmark :{mark}\n"
            f"committer Bench <bench@example.com> {when} +0000\ndata 5\nbench\n")
    return head.encode() + (f"from {parent}\n".encode() if parent else b"") + body + b"\n"


def generate(params: Params, path: str, jobs: int = 2) -> None:
    """Write a bare repository with ``main``, tag ``v1`` and the 1% branches at ``path``."""
    tmp = path + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", tmp], check=True)
    proc = subprocess.Popen(["git", "-C", tmp, "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE)
    assert proc.stdin is not None
    step = 500
    chunks = [(params.records, i, min(i + step, params.items)) for i in range(0, params.items, step)]
    last: list[tuple[str, str]] = []
    proc.stdin.write(_commit("refs/heads/main", 1, None, b"", 1700000000)[:-1])
    proc.stdin.write(_inline(".sit/config.json", DEFAULT_CONFIG_BYTES))
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for data, chunk_last in pool.imap(_chunk, chunks):
            proc.stdin.write(data)
            last.extend(chunk_last)
    proc.stdin.write(b"\ntag v1\nfrom :1\ntagger Bench <bench@example.com> 1700000000 +0000\n"
                     b"data 3\nv1\n\n")
    for branch in range(params.branches):
        body = _branch_lines(params, branch, last)
        proc.stdin.write(_commit(f"refs/heads/b{branch:02}", 2 + branch, ":1", body, 1700000100))
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait():
        raise SystemExit(f"git fast-import failed for {params.name}")
    os.replace(tmp, path)


def ensure(params: Params, data_dir: str) -> str:
    """The path of the generated repository for ``params``, generating it if needed."""
    path = os.path.join(data_dir, params.name + ".git")
    if not os.path.isdir(path):
        os.makedirs(data_dir, exist_ok=True)
        generate(params, path)
    return path
