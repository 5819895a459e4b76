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

GENERATOR_VERSION = 2
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


def _commands(item_id: str, records: list[dict[str, bytes]], prefix: str = ".sit/"
              ) -> Iterator[bytes]:
    for files in records:
        rid = compute_id(files.items())
        for name, data in sorted(files.items()):
            yield _inline(f"{prefix}records/{split_path(rid)}/{name}", data)
        yield _inline(f"{prefix}items/{item_id}/{rid}", link_content(rid))


def _inline(path: str, data: bytes) -> bytes:
    return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)


Chunk = tuple[bytes, list[tuple[str, bytes]], list[tuple[str, str]]]


def _chunk(args: tuple[int, int, int]) -> Chunk:
    """For items [start, stop): record files (paths below records/), link files (paths
    ``ITEM/RECORD`` with their content) and each item's (ID, last record ID)."""
    per_item, start, stop = args
    records_out: list[bytes] = []
    links: list[tuple[str, bytes]] = []
    last: list[tuple[str, str]] = []
    for index in range(start, stop):
        rng = random.Random(f"item:{index}")
        item_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        records = item_records(rng, max(1, per_item + rng.randint(-2, 2)))
        for files in records:
            rid = compute_id(files.items())
            for name, data in sorted(files.items()):
                records_out.append(_inline(f"{split_path(rid)}/{name}", data))
            links.append((f"{item_id}/{rid}", link_content(rid)))
        last.append((item_id, compute_id(records[-1].items())))
    return b"".join(records_out), links, last


def _branch_lines(params: Params, branch: int, last: list[tuple[str, str]]) -> bytes:
    rng = random.Random(f"branch:{branch}")
    count = max(1, round(len(last) * params.diff_percent / 100))
    out: list[bytes] = []
    for item_id, prev in rng.sample(last, count):
        files = _record(rng, ["Commented"], _text(rng, 10, 60), prev)
        out.extend(_commands(item_id, [files]))
    return b"".join(out)


def _commit(ref: str, parent: str | None, body: bytes, when: int) -> bytes:
    head = f"commit {ref}\ncommitter Bench <bench@example.com> {when} +0000\ndata 5\nbench\n"
    return head.encode() + (f"from {parent}\n".encode() if parent else b"") + body + b"\n"


def _git(repo: str, *args: str, data: bytes | None = None) -> str:
    env = {**os.environ, "GIT_COMMITTER_DATE": "1700000000 +0000", "GIT_AUTHOR_DATE": "1700000000 +0000",
           "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    run = subprocess.run(["git", "-C", repo, *args], input=data, capture_output=True, env=env,
                         check=True)
    return run.stdout.decode().strip()


def _fast_import(repo: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["git", "-C", repo, "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE)


def _finish(proc: subprocess.Popen[bytes], what: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait():
        raise SystemExit(f"git fast-import failed ({what})")


def generate(params: Params, path: str, jobs: int = 2) -> None:
    """Write a bare repository with ``main``, tag ``v1`` and the 1% branches at ``path``.

    git fast-import scans a directory's entries linearly for every file it adds, so a
    100,000-entry ``items/`` would make it quadratic: records go into one commit (their
    directories are narrow), item directories into small shard commits, and the wide
    trees are then assembled with ``git mktree``.
    """
    tmp = path + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", tmp], check=True)
    proc = _fast_import(tmp)
    assert proc.stdin is not None
    step = 500
    chunks = [(params.records, i, min(i + step, params.items)) for i in range(0, params.items, step)]
    last: list[tuple[str, str]] = []
    shards: dict[str, list[tuple[str, bytes]]] = {}
    proc.stdin.write(_commit("refs/gen/records", None, b"", 1700000000)[:-1])
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for data, links, chunk_last in pool.imap(_chunk, chunks):
            proc.stdin.write(data)
            for link in links:
                shards.setdefault(link[0][:2], []).append(link)
            last.extend(chunk_last)
    proc.stdin.write(b"\n")
    for shard, links in sorted(shards.items()):
        body = b"".join(_inline(name, content) for name, content in links)
        proc.stdin.write(_commit(f"refs/gen/items-{shard}", None, body, 1700000000))
    _finish(proc, "records and items")
    main = _assemble(tmp, sorted(shards))
    proc = _fast_import(tmp)
    assert proc.stdin is not None
    for branch in range(params.branches):
        body = _branch_lines(params, branch, last)
        proc.stdin.write(_commit(f"refs/heads/b{branch:02}", main, body, 1700000100))
    _finish(proc, "branches")
    os.replace(tmp, path)


def _assemble(repo: str, shards: list[str]) -> str:
    """Build ``main`` (and tag ``v1``) from the generated commits; its commit ID."""
    item_lines = "".join(_git(repo, "ls-tree", f"refs/gen/items-{shard}") + "\n" for shard in shards)
    items = _git(repo, "mktree", data=item_lines.encode())
    records = _git(repo, "rev-parse", "refs/gen/records^{tree}")
    config = _git(repo, "hash-object", "-w", "--stdin", data=DEFAULT_CONFIG_BYTES)
    sit = _git(repo, "mktree", data=(f"100644 blob {config}\tconfig.json\n040000 tree {items}\titems\n"
                                     f"040000 tree {records}\trecords\n").encode())
    root = _git(repo, "mktree", data=f"040000 tree {sit}\t.sit\n".encode())
    main = _git(repo, "commit-tree", root, "-m", "bench")
    _git(repo, "update-ref", "refs/heads/main", main)
    _git(repo, "update-ref", "refs/tags/v1", main)
    refs = _git(repo, "for-each-ref", "--format=delete %(refname)", "refs/gen")
    _git(repo, "update-ref", "--stdin", data=(refs + "\n").encode())
    return main


def ensure(params: Params, data_dir: str) -> str:
    """The path of the generated repository for ``params``, generating it if needed."""
    path = os.path.join(data_dir, params.name + ".git")
    if not os.path.isdir(path):
        os.makedirs(data_dir, exist_ok=True)
        generate(params, path)
    return path
