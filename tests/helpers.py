"""Test helpers: build real git repositories and SIT records, and run the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.record import compute_id, link_content, split_path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT.parent / "shared" / "fixtures" / "sit-sample"
EXPECTED = ROOT.parent / "shared" / "fixtures" / "sit-sample.expected.jsonl"


def git(cwd: Path | str, *args: str, check: bool = True, input: str | None = None) -> str:
    """Run real git; return stdout."""
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, input=input, check=False,
    )
    if check and result.returncode:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


@dataclass
class Run:
    code: int
    out: str
    err: str


def sit(cwd: Path | str, *args: str, input: str | None = None, via_git: bool = True,
        env: Mapping[str, str] | None = None) -> Run:
    """Run ``git sit ARGS`` (through git's dispatch) or ``python -m git_sit ARGS``."""
    cmd = ["git", "sit", *args] if via_git else [sys.executable, "-m", "git_sit", *args]
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, input=input, env=full_env, check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr)


def record_files(types: Sequence[str] = (), text: str | None = None, authors: str | None = None,
                 timestamp: str | None = None, prev: Sequence[str] = (),
                 extra: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    """A record's file set, the way SIT writes one."""
    files: dict[str, bytes] = {f".type/{t}": b"" for t in types}
    if text is not None:
        files["text"] = text.encode()
    if authors is not None:
        files[".authors"] = authors.encode()
    if timestamp is not None:
        files[".timestamp"] = timestamp.encode()
    files.update({f".prev/{p}": b"" for p in prev})
    files.update(extra or {})
    return files


def sit_tree_files(items: Mapping[str, Sequence[Mapping[str, bytes]]],
                   sit: str = ".sit") -> tuple[dict[str, bytes], dict[str, list[str]]]:
    """Paths → bytes of a flat SIT repository holding ``items`` (item ID → record file sets)."""
    files = {f"{sit}/config.json": DEFAULT_CONFIG_BYTES}
    ids: dict[str, list[str]] = {}
    for item_id, records in items.items():
        for record in records:
            rid = compute_id(record.items())
            ids.setdefault(item_id, []).append(rid)
            for name, data in record.items():
                files[f"{sit}/records/{split_path(rid)}/{name}"] = data
            files[f"{sit}/items/{item_id}/{rid}"] = link_content(rid)
    return files, ids


def write_tree(repo: pygit2.Repository, files: Mapping[str, bytes],
               base: pygit2.Tree | None = None) -> pygit2.Oid:
    """Build a tree from ``files`` (path → bytes; ``None`` removes), optionally on top of ``base``."""
    index = pygit2.Index()
    if base is not None:
        index.read_tree(base)
    for path, data in files.items():
        if data is None:
            index.remove(path)
            continue
        blob = repo.create_blob(data)
        index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
    return index.write_tree(repo)


def commit_files(repo: pygit2.Repository, files: Mapping[str, bytes], ref: str = "HEAD",
                 message: str = "commit", parents: Sequence[pygit2.Oid] | None = None) -> pygit2.Oid:
    """Commit ``files`` on top of ``ref``'s tree (or of the first parent given) in-process."""
    sig = pygit2.Signature("Test Author", "author@example.com", 1767323045, 0)
    if parents is None:
        try:
            parents = [repo.revparse_single(ref).peel(pygit2.Commit).id]
        except KeyError:
            parents = []
    base = repo[parents[0]].peel(pygit2.Tree) if parents else None
    tree = write_tree(repo, files, base)
    update = ref if ref == "HEAD" or ref.startswith("refs/") else f"refs/heads/{ref}"
    return repo.create_commit(update, sig, sig, message, tree, list(parents))


def copy_fixture(dest: Path) -> Path:
    """Copy the SIT sample's ``.sit`` into ``dest`` (writable)."""
    shutil.copytree(FIXTURE / ".sit", dest / ".sit")
    for path in [dest / ".sit", *(dest / ".sit").rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest / ".sit"


def parse_blocks(text: str) -> list[Any]:
    """Parse the concatenated pretty-JSON blocks that ``items -q @`` prints."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return values
        value, pos = decoder.raw_decode(text, pos)
        values.append(value)


def expected_states() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXPECTED.read_text().splitlines() if line.strip()]


def counting_reducer(this: dict[str, Any], state: dict[str, Any], record: Any) -> dict[str, Any]:
    """A reducer that counts the records it saw in ``this`` and shows the count as ``n``."""
    this["n"] = this.get("n", 0) + 1
    state["n"] = this["n"]
    return state


def failing_on_x(this: dict[str, Any], state: dict[str, Any], record: Any) -> dict[str, Any]:
    """A reducer that changes the state, then fails, on records with a file ``x``."""
    from git_sit.reduce import ReducerFailure

    if "x" in record.files:
        state["partial"] = True
        raise ReducerFailure("Error: boom")
    return state


def read_only(directory: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``args`` while ``directory`` cannot be written (a read-only mount when root)."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [directory, *directory.rglob("*")]}
        try:
            for path, mode in modes.items():
                path.chmod(stat.S_IMODE(mode) & ~0o222)
            return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
        finally:
            for path, mode in modes.items():
                path.chmod(stat.S_IMODE(mode))
    script = ('mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" || exit 99; '
              'shift; exec "$@"')
    run = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(directory), *args],
                         cwd=cwd, capture_output=True, text=True, check=False)
    if run.returncode == 99:
        pytest.skip("cannot make a read-only mount here")
    return run
