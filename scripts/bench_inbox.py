#!/usr/bin/env python3
"""Measure the inbox hook: a 1-record and a 1,000-record push into repositories of 1k and 100k items.

Each synthetic server repository (flat-records, one record per item) is built
with ``git fast-import`` so that it is packed like a real server. A contributor's
commit is then written into the same object database without any ref pointing at
it, exactly what the hook sees for a push (only quarantine is missing), and
judged twice: in-process (``hook.judge_push``, "judge ms"), and as git runs it (a
subprocess of the hidden ``inbox-hook pre-receive`` command, interpreter start-up
included, "hook ms"). "floor ms" is plain ``git diff-tree -r`` over the same
push: the least any judge of it must read. Medians of 5 runs.

``run(sizes)`` returns the result rows (another script calls it); ``main()``
prints them. Usage: ``scripts/bench_inbox.py [--items 1000,100000] [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from git_sit.config import DEFAULT_CONFIG_BYTES  # noqa: E402
from git_sit.hook import RefUpdate, judge_push, load_settings  # noqa: E402
from git_sit.record import compute_id, link_content, split_path  # noqa: E402
from git_sit.storage.push import PushRepo, open_repository  # noqa: E402

PUSHES = (1, 1000)
REPEAT = 5
WHEN = "1767323045 +0000"


def _record(rng: random.Random, n: int, salt: str) -> tuple[str, str, dict[str, bytes]]:
    item = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    files = {".type/SummaryChanged": b"", "text": f"Issue {salt}{n}\n".encode(),
             ".timestamp": b"2026-01-02T03:04:05.000Z"}
    return item, compute_id(files.items()), files


def _commands(records: Iterator[tuple[str, str, dict[str, bytes]]]) -> Iterator[bytes]:
    for item, rid, files in records:
        for name, data in files.items():
            yield b"M 100644 inline .sit/records/%s/%s\ndata %d\n%s\n" % (
                split_path(rid).encode(), name.encode(), len(data), data)
        link = link_content(rid)
        yield b"M 100644 inline .sit/items/%s/%s\ndata %d\n%s\n" % (
            item.encode(), rid.encode(), len(link), link)


def _fast_import(git_dir: Path, ref: str, parent: str | None, body: Iterator[bytes]) -> str:
    proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "fast-import", "--quiet"],
                            stdin=subprocess.PIPE)
    assert proc.stdin is not None
    head = b"commit %s\ncommitter Bench <bench@example.com> %s\ndata 5\nbench\n" % (
        ref.encode(), WHEN.encode())
    if parent:
        head += b"from %s\n" % parent.encode()
    proc.stdin.write(head)
    for chunk in body:
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait():
        raise SystemExit("git fast-import failed")
    return subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", ref], capture_output=True,
                          text=True, check=True).stdout.strip()


def build_server(git_dir: Path, items: int) -> str:
    """A bare repository with ``items`` items of one record each on ``main``; returns its tip."""
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(git_dir)], check=True)
    rng = random.Random(items)
    config = b"M 100644 inline .sit/config.json\ndata %d\n%s\n" % (
        len(DEFAULT_CONFIG_BYTES), DEFAULT_CONFIG_BYTES)
    body = (c for part in ([config], _commands(_record(rng, n, "s") for n in range(items))) for c in part)
    return _fast_import(git_dir, "refs/heads/main", None, body)


def contributor_commit(git_dir: Path, tip: str, records: int, salt: str) -> str:
    """A commit adding ``records`` new items on top of ``tip``, left with no ref pointing at it."""
    rng = random.Random(salt)
    ref = f"refs/bench/{salt}"
    new = _fast_import(git_dir, ref, tip, _commands(_record(rng, n, salt) for n in range(records)))
    subprocess.run(["git", "--git-dir", str(git_dir), "update-ref", "-d", ref], check=True)
    return new


def _time(func: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _judge_in_process(git_dir: Path, update: RefUpdate) -> None:
    repo = PushRepo(open_repository(str(git_dir)))
    findings = judge_push(repo, load_settings(repo), [update])
    if findings:
        raise SystemExit(f"bench push rejected: {findings[0]}")


def _judge_as_hook(git_dir: Path, update: RefUpdate) -> None:
    env = {**os.environ, "GIT_DIR": str(git_dir)}
    result = subprocess.run([sys.executable, "-m", "git_sit", "inbox-hook", "pre-receive"], env=env,
                            input=f"{update.old} {update.new} {update.ref}\n", capture_output=True,
                            text=True, check=False)
    if result.returncode:
        raise SystemExit(f"bench push rejected by the hook: {result.stderr}")


def _floor(git_dir: Path, update: RefUpdate) -> None:
    subprocess.run(["git", "--git-dir", str(git_dir), "diff-tree", "-r", update.old, update.new],
                   capture_output=True, check=True)


def run(sizes: Sequence[int] = (1000, 100_000), pushes: Sequence[int] = PUSHES,
        workdir: str | None = None) -> list[dict[str, object]]:
    """Rows of {items, records, build_s, floor_ms, judge_ms, hook_ms} per repository and push size.

    ``floor_ms`` is plain ``git diff-tree -r OLD NEW``: the least any judge of the push must read.
    """
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-inbox-", dir=workdir) as tmp:
        for items in sizes:
            git_dir = Path(tmp) / f"server-{items}.git"
            start = time.perf_counter()
            tip = build_server(git_dir, items)
            build = time.perf_counter() - start
            for records in pushes:
                new = contributor_commit(git_dir, tip, records, f"push{records}-")
                update = RefUpdate(tip, new, "refs/heads/main")
                rows.append({
                    "items": items, "records": records, "build_s": round(build, 1),
                    "floor_ms": round(1000 * _time(partial(_floor, git_dir, update)), 1),
                    "judge_ms": round(1000 * _time(partial(_judge_in_process, git_dir, update)), 1),
                    "hook_ms": round(1000 * _time(partial(_judge_as_hook, git_dir, update)), 1),
                })
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Print the measurements as a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", default="1000,100000", help="comma-separated repository sizes")
    parser.add_argument("--workdir", help="where to build the repositories (default: system temp)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.items.split(",") if s]
    startup = _time(lambda: subprocess.run([sys.executable, "-m", "git_sit", "--version"],
                                           capture_output=True, check=True))
    print(f"interpreter start-up + `git_sit --version`: {1000 * startup:.0f} ms")
    print(f"{'items':>8} {'records':>8} {'build s':>8} {'floor ms':>9} {'judge ms':>9} {'hook ms':>8}")
    for row in run(sizes, workdir=args.workdir):
        print(f"{row['items']:>8} {row['records']:>8} {row['build_s']:>8} {row['floor_ms']:>9} "
              f"{row['judge_ms']:>9} {row['hook_ms']:>8}")


if __name__ == "__main__":
    main()
