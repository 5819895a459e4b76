"""Where new records go: the work tree (written and staged) or a new commit on a branch.

Without ``--on``, records are written into the work tree's SIT directory and
staged, to be committed with the change they describe; this works on a detached
HEAD too, since nothing but files and the index is touched. With ``--on BRANCH``,
the records become one new commit on BRANCH, built from git objects only (no
work tree, no index; bare repositories included), and the item's IDs, leaves and
``.sit`` location are read from that branch. Either way a command's records are
written all together or not at all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from git_sit.config import RepoConfig
from git_sit.errors import NotARepository
from git_sit.issue import Draft
from git_sit.locate import Options, locate_in, open_store, sit_dir_on_disk, store_of
from git_sit.record import compute_id, link_content, split_path
from git_sit.signature import Sign, signed_files
from git_sit.storage import BranchMoved, BranchWriter, GitRepo
from git_sit.store import Store
from git_sit.writer import Written, compose, utc_timestamp, validate_name, write_record


@dataclass(frozen=True, slots=True)
class Pending:
    """A fully composed record of an item, ready to be written."""

    item_id: str
    record_id: str
    files: dict[str, bytes]


def chain(
    store: Store, item_id: str, drafts: Sequence[Draft], authors: str,
    clock: Callable[[], str] = utc_timestamp, sign: Sign | None = None,
) -> list[Pending]:
    """Compose drafts into records: the first follows the item's leaves, each next the one before.

    With ``sign``, each record is signed once its ``.prev`` links are known
    (variant A covers them), and its ID then covers the ``.signature`` too.
    """
    prev = store.item_leaves(item_id)
    result: list[Pending] = []
    for draft in drafts:
        files = compose(draft.payload, draft.types, authors, clock(), prev)
        for name in files:
            validate_name(name)
        if sign is not None:
            files = signed_files(files, sign, store.config.hasher)
        record_id = compute_id(files.items(), store.config.hasher)
        result.append(Pending(item_id, record_id, files))
        prev = [record_id]
    return result


class Target(Protocol):
    """Somewhere records can be written; ``store`` reads what is there now."""

    store: Store
    where: str

    def write(self, pending: Sequence[Pending], message: str) -> str | None:
        """Write every record or none; return the new commit ID, if one was made."""
        ...

    def reopened(self) -> Target:
        """The same place as it is now, after someone else wrote to it."""
        ...


ATTEMPTS = 3


def write_drafts(
    target: Target, item_id: str, drafts: Sequence[Draft], authors: str, message: str,
    sign: Sign | None = None,
) -> tuple[list[Pending], str | None]:
    """Compose (and sign) and write; if a branch moved meanwhile, compose again on its new tip.

    Drafts stay as they were made: a label remove still names the adds its writer
    saw, which is exactly how a concurrent change on another branch would merge.
    Records composed again get new ``.prev`` links, so they are signed again.
    """
    for attempt in range(ATTEMPTS):
        pending = chain(target.store, item_id, drafts, authors, sign=sign)
        try:
            return pending, target.write(pending, message)
        except BranchMoved:
            if attempt == ATTEMPTS - 1:
                raise
            target = target.reopened()
    raise AssertionError("unreachable")


class WorkTree:
    """The work tree's SIT directory; new files are staged in the index."""

    def __init__(self, cwd: str, options: Options) -> None:
        self.repo, self.sit_dir = sit_dir_on_disk(cwd)
        self.store = open_store(cwd, options)
        self.where = "work tree"

    def reopened(self) -> Target:
        return self

    def write(self, pending: Sequence[Pending], message: str) -> str | None:
        write_staged(self.repo, self.sit_dir, self.store.config, [(r.item_id, r.files) for r in pending])
        return None


def write_staged(repo: GitRepo, sit_dir: str, config: RepoConfig,
                 records: Sequence[tuple[str, Mapping[str, bytes]]]) -> list[Written]:
    """Write records (item ID, files) into the work tree and stage them: all of them, or none.

    On any failure, an interrupt included, what was written is removed and unstaged.
    """
    written: list[Written] = []
    existing = {rel for item_id, _ in records for parent in ("items", "issues")
                if os.path.isdir(os.path.join(sit_dir, rel := f"{parent}/{item_id}"))}
    try:
        for item_id, files in records:
            written.append(write_record(sit_dir, config, item_id, files))
        repo.stage(_top_relative(repo, sit_dir, written))
    except BaseException:
        repo.unstage(_top_relative(repo, sit_dir, written))
        for done in reversed(written):
            _undo(sit_dir, done, existing)
        raise
    return written


def _top_relative(repo: GitRepo, sit_dir: str, written: Sequence[Written]) -> list[str]:
    top = repo.workdir or ""
    paths = [os.path.join(sit_dir, p) for w in written for p in w.paths]
    return [os.path.relpath(p, top).replace(os.sep, "/") for p in paths]


def _undo(sit_dir: str, written: Written, keep: set[str]) -> None:
    """Remove what ``write_record`` created, and the directories that leaves empty (not ``keep``)."""
    for rel in written.paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(sit_dir, rel))
        parent = os.path.dirname(rel)
        while parent not in ("", "records", "items", "issues") and parent not in keep:
            try:
                os.rmdir(os.path.join(sit_dir, parent))
            except OSError:
                break  # not empty: it holds other files
            parent = os.path.dirname(parent)


class Branch:
    """A branch, read and written through git objects only."""

    def __init__(self, cwd: str, branch: str, options: Options) -> None:
        self._args = (cwd, branch, options)
        git = GitRepo.discover(cwd)
        self.writer = BranchWriter(git, branch)
        self.where = name = self.writer.branch
        # Read at the pinned commit, so what is read is exactly what the CAS expects.
        top = git.root_tree(self.writer.tip)
        found = locate_in(git, git.view(), top, cwd, f"branch {name}", f"{name}:")
        self.sit_path = found.site.sit_path
        self.store = store_of(found, options)

    def reopened(self) -> Target:
        return Branch(*self._args)

    def write(self, pending: Sequence[Pending], message: str) -> str | None:
        files: dict[str, bytes] = {}
        for record in pending:
            files.update(self._record_paths(record))
        return self.writer.commit(files, message)

    def _record_paths(self, record: Pending) -> dict[str, bytes]:
        if not self.store.config.flat_records:
            base = f"{self.sit_path}/items/{record.item_id}/{record.record_id}"
            return {f"{base}/{name}": data for name, data in record.files.items()}
        base = f"{self.sit_path}/records/{split_path(record.record_id)}"
        files = {f"{base}/{name}": data for name, data in record.files.items()}
        files[f"{self.sit_path}/items/{record.item_id}/{record.record_id}"] = link_content(record.record_id)
        return files


def open_target(cwd: str, on: str | None, options: Options) -> Target:
    """The work tree, or with ``on`` the named branch."""
    if on is not None:
        return Branch(cwd, on, options)
    if GitRepo.discover(cwd).workdir is None:
        raise NotARepository("this repository is bare: name the branch to write to with --on BRANCH.")
    return WorkTree(cwd, options)
