"""What the inbox hook asks of git: new commits, ancestry, tree diffs and snapshots.

The work is proportional to the push. Tree diffs come from ``git diff-tree``
(one process for a whole batch of commit/parent pairs), which skips subtrees
whose object IDs are equal; libgit2's tree-to-tree diff descends into every
subtree, which costs seconds on a ``.sit`` of 100k items (measured, see
``scripts/bench_inbox.py``). The git process inherits the hook's environment, so
it sees quarantined objects just as ``GitRepo.from_env`` does. ``GitSnapshot``
looks single paths up and reads single blobs on demand. The commits to judge are
those reachable from the pushed tip and from no existing ref (``git rev-list NEW
--not --all`` in spirit).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence

import pygit2
from pygit2.enums import SortMode

from git_sit.errors import MissingObject, NotARepository, SitError, UnknownRevision
from git_sit.inbox import MODE_TREE, Change, Entry
from git_sit.storage.repo import GitRepo

Pair = tuple[str, str]  # (parent, commit)
# Raw, NUL-separated, full IDs, no rename detection; --always prints a header even for an empty diff.
# -t: directories too, so that an added empty one shows (inbox.file_change).
_DIFF_TREE = ["diff-tree", "--stdin", "-r", "-t", "-z", "--raw", "--no-abbrev", "--no-renames", "--always"]


def _oid(hex_id: str) -> pygit2.Oid:
    return pygit2.Oid(hex=hex_id)


def _name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def open_repository(path: str) -> GitRepo:
    """The repository at exactly ``path`` (a bare repository or a ``.git`` directory/work tree)."""
    try:
        return GitRepo(pygit2.Repository(path, pygit2.enums.RepositoryOpenFlag.NO_SEARCH))
    except pygit2.GitError as exc:
        raise NotARepository(f"{path} is not a git repository: {exc}.") from None


class GitSnapshot:
    """One commit's tree as an inbox ``Snapshot`` (paths from the root of the tree)."""

    def __init__(self, repo: pygit2.Repository, tree: pygit2.Tree) -> None:
        self.repo, self.tree = repo, tree
        # Parsed trees by path: libgit2 does not cache trees larger than 4 KiB, and the
        # same few directories (records/XX, items/) are looked into once per new record.
        self._trees: dict[str, pygit2.Tree | None] = {"": tree}

    def _subtree(self, path: str) -> pygit2.Tree | None:
        if path not in self._trees:
            parent_path, _, name = path.rpartition("/")
            parent = self._subtree(parent_path)
            found: pygit2.Tree | None = None
            if parent is not None and name in parent:
                child = parent[name]
                obj = self.repo[child.id] if child.filemode == MODE_TREE else None
                found = obj if isinstance(obj, pygit2.Tree) else None
            self._trees[path] = found
        return self._trees[path]

    def entry(self, path: str) -> Entry | None:
        parent_path, _, name = path.rpartition("/")
        try:
            parent = self._subtree(parent_path)
            if parent is None or name not in parent:
                return None
            obj = parent[name]
        except UnicodeEncodeError:
            return None  # a non-UTF-8 name, which pygit2 cannot look up by str
        return Entry(obj.filemode, str(obj.id))

    def files(self, path: str) -> list[tuple[str, Entry]]:
        try:
            top = self._subtree(path)
        except UnicodeEncodeError:
            return []
        found: list[tuple[str, Entry]] = []
        if top is not None:
            self._walk(top, "", found)
        return found

    def _walk(self, tree: pygit2.Object, prefix: str, found: list[tuple[str, Entry]]) -> None:
        assert isinstance(tree, pygit2.Tree)
        for child in tree:
            name = prefix + _name(child.raw_name or b"")
            if child.filemode == MODE_TREE:
                self._walk(self.repo[child.id], name + "/", found)
            else:
                found.append((name, Entry(child.filemode, str(child.id))))

    def read(self, entry: Entry) -> bytes:
        try:
            blob = self.repo[_oid(entry.oid)]
        except KeyError:
            raise MissingObject(f"git object {entry.oid} is missing.") from None
        assert isinstance(blob, pygit2.Blob)
        return bytes(blob.data)

    def size(self, entry: Entry) -> int:
        try:
            return int(self.repo.odb.read_header(_oid(entry.oid))[1])
        except KeyError:
            raise MissingObject(f"git object {entry.oid} is missing.") from None


class PushRepo:
    """Commit and ref queries over a ``GitRepo`` for judging pushes."""

    def __init__(self, git: GitRepo) -> None:
        self.git = git
        self.repo = git.repo

    def resolve(self, rev: str) -> str:
        """The commit a revision names (for ``git sit inbox check``)."""
        try:
            return str(self.repo.revparse_single(rev).peel(pygit2.Commit).id)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise UnknownRevision(f"unknown revision {rev!r}.") from None

    def kind(self, oid: str) -> str | None:
        """The object's type name ('commit', 'tag', ...), or ``None`` if it is absent."""
        try:
            return str(self.repo[_oid(oid)].type_str)
        except (KeyError, ValueError):
            return None

    def short(self, oid: str) -> str:
        """A unique abbreviation of an object ID."""
        try:
            return str(self.repo[_oid(oid)].short_id)
        except (KeyError, ValueError):
            return oid[:7]

    def parents(self, oid: str) -> list[str]:
        """A commit's parents, in order."""
        commit = self.repo[_oid(oid)]
        assert isinstance(commit, pygit2.Commit)
        return [str(p) for p in commit.parent_ids]

    def is_ancestor(self, old: str, new: str) -> bool:
        """True if ``old`` is ``new`` or one of its ancestors (a fast-forward)."""
        return old == new or bool(self.repo.descendant_of(_oid(new), _oid(old)))

    def ref_tips(self) -> list[str]:
        """The commit every existing ref points at (tags peeled); others are skipped."""
        tips: set[str] = set()
        for name in self.repo.references:
            try:
                target = self.repo.references[name].resolve().peel(pygit2.Commit)
            except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
                continue  # a ref to a tree or blob, or a dangling symbolic ref
            tips.add(str(target.id))
        return sorted(tips)

    def has_any_file(self, paths: Sequence[str]) -> bool:
        """True if some branch's tip holds one of ``paths``."""
        for name in self.repo.references:
            if not name.startswith("refs/heads/"):
                continue
            try:
                tree = self.repo.references[name].resolve().peel(pygit2.Commit).tree
            except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
                continue
            snapshot = GitSnapshot(self.repo, tree)
            if any(snapshot.entry(path) is not None for path in paths):
                return True
        return False

    def new_commits(self, new: str, hide: list[str]) -> list[str]:
        """Commits reachable from ``new`` and from none of ``hide``, parents before children."""
        walker = self.repo.walk(_oid(new), SortMode.TOPOLOGICAL | SortMode.REVERSE)
        for tip in hide:
            walker.hide(_oid(tip))
        return [str(commit.id) for commit in walker]

    def snapshot(self, commit: str) -> GitSnapshot:
        """The tree of a commit as an inbox snapshot."""
        return GitSnapshot(self.repo, self._tree(commit))

    def changes(self, pairs: Sequence[Pair]) -> dict[Pair, list[Change]]:
        """Every path that differs between each parent's and commit's tree, for many pairs at once."""
        if not pairs:
            return {}
        stdin = "".join(f"{commit} {parent}\n" for parent, commit in pairs).encode()
        result = subprocess.run(["git", f"--git-dir={self.git.git_dir}", *_DIFF_TREE], input=stdin,
                                capture_output=True, check=False)
        if result.returncode:
            detail = result.stderr.decode("utf-8", "replace").strip()
            raise SitError(f"git diff-tree failed: {detail or result.returncode}.")
        chunks = _parse_diff_tree(result.stdout.split(b"\0"))
        if len(chunks) != len(pairs):
            raise SitError(f"git diff-tree answered {len(chunks)} diffs for {len(pairs)} commits.")
        return dict(zip(pairs, chunks, strict=True))

    def _tree(self, commit: str) -> pygit2.Tree:
        obj = self.repo[_oid(commit)]
        assert isinstance(obj, pygit2.Commit)
        return obj.tree

    def config_entries(self, prefix: str) -> list[tuple[str, str | None]]:
        """Every git config entry whose name starts with ``prefix`` (case-insensitive), in order.

        The value is ``None`` for a key written without ``=`` (git reads it as true).
        """
        return [
            (entry.name, None if entry.value is None else str(entry.value))
            for entry in self.repo.config
            if entry.name.lower().startswith(prefix)
        ]


def _parse_diff_tree(tokens: Iterable[bytes]) -> list[list[Change]]:
    """Split ``diff-tree --stdin -z --raw --always`` output into one change list per input line."""
    chunks: list[list[Change]] = []
    meta: bytes | None = None
    for token in tokens:
        if meta is not None:  # the path that follows a ":mode mode id id status" token
            chunks[-1].append(_change(meta, token))
            meta = None
        elif token.startswith(b":"):
            meta = token
        elif token:
            chunks.append([])  # a commit header starts the next diff
    return chunks


def _change(meta: bytes, path: bytes) -> Change:
    old_mode, new_mode, old_id, new_id, _ = meta[1:].decode("ascii").split(" ")
    old = Entry(int(old_mode, 8), old_id) if int(old_mode, 8) else None
    new = Entry(int(new_mode, 8), new_id) if int(new_mode, 8) else None
    return Change(_name(path), old, new)
