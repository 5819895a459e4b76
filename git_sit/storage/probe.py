"""Where a revision's SIT directory is, asked of the ``git`` command instead of pygit2.

A warm ``items --rev`` needs only the repository's common git directory (where the
cache is) and the object ID of the revision's SIT tree (what its snapshot is filed
under). Two short git processes tell both in a few milliseconds; importing pygit2
takes ten times as long. The SIT directory is the first of ``candidates`` that is a
tree, as ``locate.find_sit`` picks it. Whatever git might see differently from
pygit2 (``GIT_DIR`` and the like in the environment, a revision with a path or
whitespace in it, the current directory inside the git directory) and any failure
of git answer ``None``: the caller then opens the repository the usual way, which
also reports errors in its usual words.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# Environment that changes which repository, objects or refs git uses, in ways that
# pygit2 (which git-sit opens repositories with) may not follow.
UNUSUAL_ENV = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH", "GIT_NAMESPACE", "GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS",
)
WHERE_ARGS = ("rev-parse", "--git-common-dir", "--is-bare-repository", "--is-inside-git-dir",
              "--show-prefix")
TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class SitTree:
    """A revision's SIT directory: the common git directory, its path in the tree, its tree ID."""

    common_dir: str
    sit_path: str
    tree: str


def plain_revision(rev: str) -> bool:
    """True for a revision git and pygit2 read alike: no option, path (``:``) or whitespace."""
    return bool(rev) and not rev.startswith("-") and ":" not in rev and not any(
        char.isspace() or ord(char) < 32 for char in rev)


def parse_where(output: bytes, cwd: str) -> tuple[str, list[str]] | None:
    """The common git directory and the current directory's path below the top, from ``WHERE_ARGS``."""
    lines = output.split(b"\n")
    if len(lines) < 4:
        return None
    common, bare, inside, prefix = (os.fsdecode(line) for line in lines[:4])
    if inside == "true" and bare != "true":
        return None  # inside a work tree's git directory: not a place SIT directories are found from
    parts = [part for part in prefix.split("/") if part] if bare != "true" else []
    return os.path.normpath(os.path.join(cwd, common)), parts


def first_tree(paths: Sequence[str], output: bytes) -> tuple[str, str] | None:
    """The first of ``paths`` that ``cat-file --batch-check`` found to be a tree, and its ID."""
    answers = output.split(b"\n")
    if len(answers) < len(paths):
        return None
    for path, answer in zip(paths, answers, strict=False):
        words = answer.split()
        if len(words) == 2 and words[1] == b"tree":
            return path, words[0].decode("ascii")
    return None


def _git(cwd: str, args: Sequence[str], stdin: bytes | None = None) -> bytes | None:
    try:
        run = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True,
                             timeout=TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return run.stdout if run.returncode == 0 else None


def find_sit_tree(cwd: str, rev: str, candidates: Callable[[list[str]], list[str]],
                  environ: Mapping[str, str] = os.environ) -> SitTree | None:
    """The SIT directory a read of ``rev`` from ``cwd`` would use, or ``None`` if git cannot say for sure."""
    if any(environ.get(name) for name in UNUSUAL_ENV) or not plain_revision(rev):
        return None
    where = _git(cwd, WHERE_ARGS)
    parsed = parse_where(where, cwd) if where is not None else None
    if parsed is None:
        return None
    common_dir, parts = parsed
    paths = candidates(parts)
    if any("\n" in path for path in paths):
        return None
    query = "".join(f"{rev}:{path}\n" for path in paths)
    answer = _git(cwd, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                  query.encode("utf-8", "surrogateescape"))
    found = first_tree(paths, answer) if answer is not None else None
    if found is None:
        return None
    return SitTree(common_dir, found[0], found[1])
