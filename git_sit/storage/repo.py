"""Opening git repositories and resolving revisions, with pygit2 errors turned into SitErrors."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections.abc import Mapping

import pygit2
from pygit2.enums import RepositoryOpenFlag

from git_sit.errors import NotARepository, SitError, UnknownRevision
from git_sit.storage.gitview import GitView, node_of
from git_sit.view import Node

STAGE_WAIT = 2.0  # seconds to wait for another git process's index lock
_UPSTREAM = re.compile(r"(.*)@\{(?:u|upstream|push)\}", re.IGNORECASE)
_ANCESTRY = re.compile(r"[~^]|^[0-9a-fA-F]{4,64}$")  # a parent, or a commit ID: beyond a shallow clone?


class GitRepo:
    """A git repository, bare or with a work tree."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo

    @classmethod
    def discover(cls, cwd: str) -> GitRepo:
        """The repository containing ``cwd``, as git finds it (``GIT_DIR`` and ``GIT_WORK_TREE`` too)."""
        git_dir = os.environ.get("GIT_DIR")
        try:
            path = git_dir if git_dir else pygit2.discover_repository(cwd)
        except pygit2.GitError as exc:  # e.g. a .git file that is not "gitdir: PATH"
            reason = str(exc).removeprefix(f"{cwd}: ").rstrip(".")
            raise NotARepository(f"cannot find the git repository of {cwd}: {reason}.") from None
        if not path:
            raise NotARepository(f"{cwd} is not in a git repository.")
        repo = _open(path)
        # git --work-tree (a bare repository with its files elsewhere, as for dotfiles)
        # sets GIT_WORK_TREE, which libgit2 reads only when discovering from the environment.
        work_tree = os.environ.get("GIT_WORK_TREE")
        if work_tree:
            work_tree = os.path.join(cwd, work_tree)
            if not os.path.isdir(work_tree):
                raise NotARepository(f"the work tree {work_tree} (GIT_WORK_TREE, git --work-tree) "
                                     "is not a directory.")
            repo.workdir = work_tree
        return cls(repo)

    @classmethod
    def from_env(cls, git_dir: str) -> GitRepo:
        """Open as a hook must: objects in git's quarantine directory are visible (FROM_ENV)."""
        try:
            return cls(pygit2.Repository(git_dir, RepositoryOpenFlag.FROM_ENV))
        except pygit2.GitError as exc:
            raise NotARepository(f"cannot open the git repository at {git_dir}: {exc}.") from None

    @property
    def workdir(self) -> str | None:
        """The work tree's top directory (no trailing slash), ``None`` if bare."""
        workdir = self.repo.workdir
        return workdir.rstrip("/") if workdir else None

    @property
    def git_dir(self) -> str:
        return str(self.repo.path).rstrip("/")

    @property
    def common_dir(self) -> str:
        """The git directory shared by all work trees (``git rev-parse --git-common-dir``)."""
        try:
            with open(os.path.join(self.git_dir, "commondir"), encoding="utf-8") as handle:
                text = handle.read().strip()
        except OSError:
            return self.git_dir
        return os.path.normpath(os.path.join(self.git_dir, text))

    def view(self) -> GitView:
        return GitView(self.repo)

    def root_tree(self, rev: str) -> Node:
        """The root tree of a revision (commit, tag, tree, ``HEAD~3``...) as a view node."""
        obj = self.revparse(rev)
        try:
            tree = obj.peel(pygit2.Tree)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise UnknownRevision(f"revision {rev!r} is {_kind_name(obj)}, not a commit or tree.") from None
        return node_of(tree, "")

    def revparse(self, rev: str) -> pygit2.Object:
        """The object a revision names; ``UnknownRevision`` saying why when there is none."""
        try:
            return self.repo.revparse_single(rev)
        except pygit2.AmbiguousError as exc:
            if "too short" in str(exc):  # fewer than 4 hex digits: not taken as an object ID
                raise UnknownRevision(f"unknown revision {rev!r}.") from None
            raise UnknownRevision(f"revision {rev!r} is ambiguous; give more characters.") from None
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise UnknownRevision(self._unknown(rev)) from None

    def _unknown(self, rev: str) -> str:
        """Why a revision is unknown: no commit yet, or history a shallow clone does not have."""
        branch = self.unborn_branch()
        if branch is not None and rev in ("HEAD", "@"):
            return f"revision {rev!r} is branch {branch!r}, which has no commit yet."
        if branch is not None and rev in (branch, f"refs/heads/{branch}"):
            return f"branch {branch!r} has no commit yet."
        upstream = _UPSTREAM.match(rev)
        if upstream is not None:
            return self._no_upstream(rev, upstream.group(1))
        if self.repo.is_shallow and _ANCESTRY.search(rev):
            return (f"unknown revision {rev!r}; this is a shallow clone, and 'git fetch --deepen=N' "
                    "(or --unshallow) fetches older history.")
        return f"unknown revision {rev!r}."

    def _no_upstream(self, rev: str, branch: str) -> str:
        """Why ``BRANCH@{u}`` (``@{upstream}``, ``@{push}``) names nothing, as git says it."""
        if branch in ("", "HEAD"):
            try:
                head = self.repo.references["HEAD"].target
            except (KeyError, pygit2.GitError):
                head = None
            if not isinstance(head, str):
                return f"unknown revision {rev!r}: HEAD is detached, so it has no upstream."
            branch = head.removeprefix("refs/heads/")
        try:
            exists = self.repo.branches.local.get(branch) is not None
        except (ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            exists = False
        if not exists:
            return f"unknown revision {rev!r}: there is no branch {branch!r}."
        if self.config_value(f"branch.{branch}.merge") is None:
            return (f"unknown revision {rev!r}: branch {branch!r} has no upstream; "
                    "set one with 'git branch --set-upstream-to'.")
        return f"unknown revision {rev!r}."

    def has_head(self) -> bool:
        return not self.repo.head_is_unborn

    def unborn_branch(self) -> str | None:
        """The branch HEAD names (short name) if it has no commit yet, as in a new repository."""
        try:
            if not self.repo.head_is_unborn:
                return None
            target = self.repo.references["HEAD"].target
        except (KeyError, pygit2.GitError):  # a corrupted HEAD file
            return None
        return target.removeprefix("refs/heads/") if isinstance(target, str) else None

    def config_value(self, key: str) -> str | None:
        """A git config value (all scopes git would read, ``git -c`` first), or ``None``."""
        given = command_line_config(os.environ)
        if config_key(key) in given:
            return given[config_key(key)]
        try:
            value = self.repo.config[key]
        except KeyError:
            return None
        except pygit2.GitError as exc:
            raise SitError(f"cannot read git config {key}: {exc}.") from None
        except UnicodeDecodeError:
            raise SitError(f"git config {key} is not valid UTF-8.") from None
        return str(value)

    def set_config(self, key: str, value: str) -> None:
        """Set a git config value in the repository's own config file."""
        try:
            self.repo.config[key] = value
        except (OSError, pygit2.GitError) as exc:
            raise SitError(f"cannot set git config {key}: {exc}.") from None

    def stage(self, paths: list[str]) -> None:
        """Add work-tree files (paths relative to the top) to the index.

        Through ``git update-index``, which holds the index lock from reading the index
        to writing it: two writers at once (two terminals) each keep the other's entries,
        where a read and a later write through libgit2 lost them. A lock held by another
        git process is waited for a little (``STAGE_WAIT``). ``GIT_INDEX_FILE`` applies.
        """
        failure = self._update_index(["--add"], paths)
        if failure:
            raise SitError(f"cannot stage the new record in the git index: {failure.rstrip('.')}.")

    def unstage(self, paths: list[str]) -> None:
        """Drop paths from the index (undoing ``stage`` after a failed write); best effort."""
        self._update_index(["--force-remove"], paths)

    def in_index(self, path: str) -> bool:
        """True if the index has ``path`` (relative to the top), also outside a sparse checkout."""
        if self.repo.workdir is None:
            return False
        try:
            run = subprocess.run([*self._git_in_work_tree(), "ls-files", "-z", "--", path],
                                 capture_output=True, check=False)
        except OSError as exc:
            raise SitError(f"cannot run git: {exc.strerror}.") from None
        if run.returncode:
            detail = run.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SitError(f"cannot read the git index: {detail[0] if detail else 'git ls-files failed'}.")
        return bool(run.stdout)

    def _git_in_work_tree(self) -> list[str]:
        """``git`` run at the work tree's top, told both directories.

        Git would otherwise find the repository from the work tree (lost with core.worktree
        elsewhere) or take a relative GIT_DIR from the user's current directory.
        """
        assert self.repo.workdir is not None
        return ["git", "-C", self.repo.workdir, f"--git-dir={self.git_dir}", f"--work-tree={self.workdir}"]

    def _update_index(self, options: list[str], paths: list[str]) -> str:
        """Run ``git update-index`` on paths; what went wrong ("" if nothing did)."""
        if not paths or self.repo.workdir is None:
            return ""
        command = [*self._git_in_work_tree(), "update-index", *options, "-z", "--stdin"]
        data = b"".join(os.fsencode(path) + b"\0" for path in paths)
        deadline = time.monotonic() + STAGE_WAIT
        while True:
            try:
                run = subprocess.run(command, input=data, capture_output=True, check=False)
            except OSError as exc:
                return f"cannot run git: {exc.strerror}"
            if run.returncode == 0:
                return ""
            detail = run.stderr.decode("utf-8", "replace").strip().splitlines()
            message = detail[0] if detail else f"git update-index exited with {run.returncode}"
            if "index.lock" not in message or time.monotonic() > deadline:
                return message.removeprefix("fatal: ").removeprefix("error: ")
            time.sleep(0.05)


def _kind_name(obj: pygit2.Object) -> str:
    """What an object that is no commit or tree is, a tag by what it finally names: 'a blob'."""
    while isinstance(obj, pygit2.Tag):
        try:
            obj = obj.get_object()
        except (KeyError, ValueError, pygit2.GitError):
            return "a tag of a missing object"
    kind = obj.type_str
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def config_key(key: str) -> str:
    """A config key as git compares them: section and name ignore case, a subsection does not."""
    section, _, rest = key.partition(".")
    middle, _, name = rest.rpartition(".")
    return ".".join(part for part in (section.lower(), middle, name.lower()) if part)


def command_line_config(environ: Mapping[str, str]) -> dict[str, str]:
    """What ``git -c KEY=VALUE`` passes to the command it runs (libgit2 does not read it).

    ``GIT_CONFIG_PARAMETERS`` holds shell-quoted ``'KEY'='VALUE'`` words (``'KEY'``
    alone means true); ``GIT_CONFIG_COUNT`` with ``GIT_CONFIG_KEY_n``/``_VALUE_n``
    comes from ``git --config-env`` and newer gits. Later settings win.
    """
    return dict(command_line_settings(environ))


def command_line_settings(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every ``git -c`` setting, in order (``command_line_config``): a key may come more than once."""
    found: list[tuple[str, str]] = []
    try:
        words = shlex.split(environ.get("GIT_CONFIG_PARAMETERS", ""))
    except ValueError:
        words = []  # not what git writes: ignore it rather than guess
    for word in words:
        key, sep, value = word.partition("=")
        found.append((config_key(key), value if sep else "true"))
    count = environ.get("GIT_CONFIG_COUNT", "")
    for n in range(int(count) if count.isdigit() else 0):
        name = environ.get(f"GIT_CONFIG_KEY_{n}")
        if name:
            found.append((config_key(name), environ.get(f"GIT_CONFIG_VALUE_{n}", "")))
    return found


def safe_on_command_line(directory: str, environ: Mapping[str, str]) -> bool:
    """True if ``git -c safe.directory=...`` trusts ``directory`` as git would.

    An empty value empties the list; ``*`` trusts everything; ``DIR/*`` the directories below DIR.
    """
    safe: list[str] = []
    for key, value in command_line_settings(environ):
        if key == "safe.directory":
            safe = [*safe, value] if value else []
    names = {os.path.normpath(directory), os.path.realpath(directory)}
    for value in safe:
        if value == "*":
            return True
        if value.endswith("/*"):
            prefix = os.path.normpath(os.path.expanduser(value[:-2])).rstrip("/") + "/"
            if any(name.startswith(prefix) for name in names):
                return True
        elif os.path.normpath(os.path.expanduser(value)) in names:
            return True
    return False


_NOT_OWNED = re.compile(r"repository path '(.*)' is not owned by current user")
_OBJECT_FORMAT = re.compile(r"unknown object format '(.*)'")


def _cannot_open(path: str, exc: pygit2.GitError) -> NotARepository:
    """Why a repository does not open, naming it once (libgit2's message starts with the path)."""
    reason = str(exc).removeprefix(f"{path}: ").rstrip(".")
    unknown = _OBJECT_FORMAT.search(reason)
    if unknown is not None:  # git init --object-format=sha256
        return NotARepository(
            f"the git repository at {os.path.normpath(path)} uses {unknown.group(1)} object IDs, "
            f"which git-sit cannot read: libgit2 {pygit2.LIBGIT2_VERSION} (under pygit2) supports only sha1.")
    return NotARepository(f"cannot open the git repository at {path}: {reason}.")


def _open(path: str) -> pygit2.Repository:
    """Open a repository, trusting another user's if ``git -c safe.directory`` does."""
    try:
        return pygit2.Repository(path)
    except pygit2.GitError as exc:
        owned = _NOT_OWNED.search(str(exc))
        if owned is None:
            raise _cannot_open(path, exc) from None
        directory = os.path.normpath(owned.group(1))
    if not safe_on_command_line(directory, os.environ):
        raise NotARepository(
            f"the git repository at {directory} is owned by someone else; if you trust it, run "
            f"'git config --global --add safe.directory {directory}'.")
    # libgit2 reads safe.directory from the config files, never from git -c.
    pygit2.settings.owner_validation = False
    try:
        return pygit2.Repository(path)
    except pygit2.GitError as exc:
        raise _cannot_open(path, exc) from None
    finally:
        pygit2.settings.owner_validation = True
