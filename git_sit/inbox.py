"""The inbox rules (SIT-FORMAT §8.3 rule 4): a commit may only add new, valid records.

Pure: a commit is judged from the list of paths that differ from one parent
(``Change``) and two read-only snapshots (the parent's tree and the commit's tree)
that answer "what is at this path", "which files are below this directory" and
"what are this blob's bytes and size". Every difference must be an allowed
addition inside a configured SIT repository path ``P``: a whole new record
directory ``P/records/<split_path(ID)>/`` that hashes to ``ID`` with the parent's
``config.json``; a link file ``P/items/<ITEM>/<ID>`` with SIT's exact content that
points at a record present and valid in the commit; or, in a legacy (non
flat-records) repository, a whole new record directory ``P/items/<ITEM>/<ID>/``.
Anything else becomes a ``Violation``. Given a ``verify`` function that answers
for the trusted keys only (``sit.inbox.requireSignature``), every new record must
also carry a good signature by one of them (SIT-FORMAT §4.5). The values it works
with (``Entry``, ``Change``, ``Snapshot``, ``Rules``, ``Verdict``...) are defined in
``inboxtypes`` and importable from here too. Nothing here touches git, gpg or the disk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from git_sit.config import RepoConfig, parse_config
from git_sit.errors import InvalidConfig
from git_sit.inboxconfig import KEYS
from git_sit.inboxtypes import (
    EMPTY_DIRECTORY,
    EMPTY_TREES,
    MODE_EXECUTABLE,
    MODE_FILE,
    MODE_SUBMODULE,
    MODE_SYMLINK,
    MODE_TREE,
    UUID_PATTERN,
    Budget,
    Change,
    Entry,
    Rules,
    Snapshot,
    Verdict,
    Violation,
    id_length,
    join,
    repo_of,
)
from git_sit.record import Hasher, compute_id, is_record_id, link_content, normalise_name, split_path
from git_sit.signature import Verify, check_record_signature
from git_sit.view import is_utf8_name

# The vocabulary lives in inboxtypes; it stays importable from here, where callers found it.
__all__ = [
    "EMPTY_DIRECTORY", "EMPTY_TREES", "MODE_EXECUTABLE", "MODE_FILE", "MODE_SUBMODULE", "MODE_SYMLINK",
    "MODE_TREE", "Budget", "Change", "Entry", "Rules", "Snapshot", "Verdict", "Violation", "check_commit",
    "check_tip", "file_change", "id_length", "join", "repo_of",
]

_MODE_NAMES = {MODE_EXECUTABLE: "an executable file", MODE_SYMLINK: "a symlink",
               MODE_SUBMODULE: "a submodule", MODE_TREE: "a directory"}
_DEFAULT_RULES = Rules()
# What to do, after what is wrong: the pusher reads these as "remote:" lines of git push.
_RESTORE = "restore it as the server's branch has it"
_ONLY_RECORDS = "this inbox takes only new records: push other changes elsewhere"
_USE_GIT_SIT = "let git-sit write records (git sit record, git sit issue), which places and names them"
_KEY_BLOB, _KEY_RECORD = KEYS["maxblobsize"], KEYS["maxrecordsize"]


@dataclass(slots=True)
class _NewRecord:
    """A record directory that appears in the commit, with its added entries."""

    repo: str
    path: str
    record_id: str
    item: str | None = None
    files: list[tuple[str, Entry]] = field(default_factory=list)


class _Judge:
    """Judges one commit against one parent; collects violations and new records."""

    def __init__(self, parent: Snapshot, commit: Snapshot, rules: Rules,
                 verify: Verify | None = None, budget: Budget | None = None) -> None:
        self.parent, self.commit, self.rules = parent, commit, rules
        self.verify, self.budget = verify, budget
        self.violations: list[Violation] = []
        self.records: dict[str, _NewRecord] = {}
        self.links: list[tuple[str, str, str, Entry, str]] = []
        self.configs: dict[str, RepoConfig | None] = {}
        self.oversize: set[str] = set()
        self.valid: dict[str, bool] = {}
        self.existing: dict[str, str | None] = {}  # record path -> why a link to it fails

    def flag(self, path: str, reason: str) -> None:
        self.violations.append(Violation(path, reason))

    def config(self, repo: str, path: str) -> RepoConfig | None:
        """The parent's ``config.json`` of ``repo``; flags ``path`` if it is missing or invalid."""
        if repo not in self.configs:
            self.configs[repo] = self._load_config(repo)
        config = self.configs[repo]
        if config is None:
            where = join(repo, "config.json")
            self.flag(path, f"no valid SIT repository here in the parent commit ({where}); records go only "
                            "where the server has one: ask the inbox's operator to commit it")
        return config

    def _load_config(self, repo: str) -> RepoConfig | None:
        entry = self.parent.entry(join(repo, "config.json"))
        if entry is None or entry.mode not in (MODE_FILE, MODE_EXECUTABLE):
            return None
        try:
            return parse_config(self.parent.read(entry))
        except InvalidConfig:
            return None

    def change(self, change: Change) -> None:
        """Classify one difference (directories are judged by the files in them)."""
        files = file_change(change)
        if isinstance(files, str):
            self.flag(change.path, files)
        elif files is not None:
            self._file_change(files)

    def _file_change(self, change: Change) -> None:
        path, old, new = change.path, change.old, change.new
        if old is not None:
            if new is None:
                self.flag(path, f"deleted; existing files may not be removed: {_RESTORE}")
            elif old.oid == new.oid:
                self.flag(path, f"mode changed from {old.mode:o} to {new.mode:o}; "
                                f"existing files may not change: {_RESTORE}")
            else:
                self.flag(path, f"modified; existing files may not change: {_RESTORE}")
            return
        if new is None:
            return
        located = repo_of(path, self.rules.sit_paths)
        if located is None:
            paths = ", ".join(self.rules.sit_paths)
            self.flag(path, f"outside the SIT repositories ({paths}); {_ONLY_RECORDS}")
            return
        repo, rel = located
        if new.mode in (MODE_FILE, MODE_EXECUTABLE):
            self._check_size(path, new)
        if rel[0] == "records":
            self._record_file(repo, rel, path, new)
        elif rel[0] == "items":
            self._item_entry(repo, rel, path, new)
        else:
            self.flag(path, f"outside {join(repo, 'records')} and {join(repo, 'items')}; {_ONLY_RECORDS}")

    def _check_size(self, path: str, entry: Entry) -> None:
        size = self.commit.size(entry)
        if size > self.rules.max_blob:
            self.oversize.add(path)
            self.flag(path, f"blob of {size} bytes is larger than the limit of {self.rules.max_blob} bytes; "
                            f"make it smaller, or ask the inbox's operator to raise {_KEY_BLOB}")

    def _record_file(self, repo: str, rel: list[str], path: str, entry: Entry) -> None:
        config = self.config(repo, path)
        if config is None:
            return
        depth = (id_length(config) + 1) // 2
        if len(rel) <= depth + 1:
            self.flag(path, f"not inside a record directory {join(repo, 'records')}/<split ID>/<ID>/; "
                            f"{_USE_GIT_SIT}")
            return
        record_id = rel[depth]
        record_path = join(repo, *rel[: depth + 1])
        self._add_record_file(repo, record_path, record_id, path, entry)

    def _add_record_file(self, repo: str, record_path: str, record_id: str, path: str,
                         entry: Entry, item: str | None = None) -> None:
        record = self.records.setdefault(record_path, _NewRecord(repo, record_path, record_id, item))
        record.files.append((path[len(record_path) + 1:], entry))

    def _item_entry(self, repo: str, rel: list[str], path: str, entry: Entry) -> None:
        if len(rel) < 3:
            self.flag(path, f"not a record link {join(repo, 'items')}/<ITEM>/<ID>; {_USE_GIT_SIT}")
            return
        config = self.config(repo, path)
        if config is None:
            return
        item = rel[1]
        if len(rel) == 3:
            self.links.append((repo, item, rel[2], entry, path))
        elif config.flat_records:
            self.flag(path, f"record directories belong in {join(repo, 'records')} (flat-records); "
                            f"{_USE_GIT_SIT}")
        else:
            self._add_record_file(repo, join(repo, *rel[:3]), rel[2], path, entry, item)

    def _check_item_name(self, repo: str, item: str, path: str) -> bool:
        if self.rules.item_pattern.fullmatch(item):
            return True
        existing = self.parent.entry(join(repo, "items", item))
        if existing is not None and existing.mode == MODE_TREE:
            return True
        pattern = self.rules.item_pattern.pattern
        fix = "'git sit item' makes one" if pattern == UUID_PATTERN else "give the new item an ID that does"
        self.flag(path, f"item ID {item!r} does not match the item-ID pattern {pattern!r}; {fix}")
        return False

    def finish(self) -> Verdict:
        """Check the collected record directories and links, then return the verdict."""
        for record in self.records.values():
            self._check_new_record(record)
        for repo, item, name, entry, path in self.links:
            self._check_link(repo, item, name, entry, path)
        new_ids = frozenset(r.record_id for r in self.records.values() if self.valid.get(r.path))
        return Verdict(tuple(self.violations), new_ids)

    def _check_new_record(self, record: _NewRecord) -> None:
        self.valid[record.path] = False
        config = self.configs.get(record.repo)
        assert config is not None  # records are only collected once the config has loaded
        if not self._record_place_ok(record, config):
            return
        if record.item is not None and not self._check_item_name(record.repo, record.item, record.path):
            return
        ok = True
        for name, entry in record.files:
            ok &= self._record_entry_ok(record, name, entry)
        if not any(name.startswith(".type/") and len(name) > 6 for name, _ in record.files):
            self.flag(record.path, "record has no .type/* file; give it one or more types "
                                   "(git sit record -t TYPE)")
            ok = False
        if not ok or any(join(record.path, n) in self.oversize for n, _ in record.files):
            return
        size, limit = self._record_size(record.files), self.rules.max_record_size
        if size > limit:
            self.flag(record.path, f"record of {size} bytes is larger than the limit of {limit} bytes; "
                                   f"make it smaller, or ask the inbox's operator to raise {_KEY_RECORD}")
            return
        contents = self._read_files(record.files)
        if contents is None:
            return  # over the push's budget: left unjudged, and the push is refused
        actual = compute_id(contents, config.hasher)
        if actual != record.record_id:
            self.flag(record.path, f"record content hashes to {actual}, not to its directory name; were its "
                                   "files changed after it was written (line endings? add '.sit/** -text' "
                                   "to .gitattributes)")
            return
        if self.verify is not None and not self._signature_ok(record, dict(contents), config.hasher):
            return
        self.valid[record.path] = True

    def _record_size(self, files: list[tuple[str, Entry]]) -> int:
        # From blob headers, before reading: many names can share one big, well-compressed blob.
        return sum(self.commit.size(e) for _, e in files)

    def _read_files(self, files: list[tuple[str, Entry]]) -> list[tuple[str, bytes]] | None:
        """Each file's bytes, reading a blob that several names share only once.

        None, reading nothing, if the push's budget cannot pay for these blobs.
        """
        unique = {entry.oid: entry for _, entry in files}
        if self.budget is not None and not self.budget.take(sum(map(self.commit.size, unique.values()))):
            return None
        blobs = {oid: self.commit.read(entry) for oid, entry in unique.items()}
        return [(name, blobs[entry.oid]) for name, entry in files]

    def _signature_ok(self, record: _NewRecord, files: dict[str, bytes], hasher: Hasher) -> bool:
        assert self.verify is not None
        reason = check_record_signature(files, self.verify, hasher)
        if reason is not None:
            self.flag(record.path, f"{reason}; this inbox accepts only records signed by its trusted keys: "
                                   "write it again signed by one, with --sign or --signing-key KEY")
        return reason is None

    def _record_place_ok(self, record: _NewRecord, config: RepoConfig) -> bool:
        rid = record.record_id
        if not is_record_id(rid) or len(rid) != id_length(config):
            self.flag(record.path, f"{rid!r} is not a record ID of this repository; {_USE_GIT_SIT}")
            return False
        records_dir = join(record.repo, "records")
        if record.path.startswith(records_dir + "/") and record.path != join(records_dir, split_path(rid)):
            self.flag(record.path, f"split directories do not match the record ID (expected "
                                   f"{join(records_dir, split_path(rid))}); move the record there")
            return False
        if self.parent.entry(record.path) is not None:
            for name, _ in record.files:
                self.flag(join(record.path, name), "file added to an existing record; records never change: "
                                                   "write a new record instead")
            return False
        return True

    def _record_entry_ok(self, record: _NewRecord, name: str, entry: Entry) -> bool:
        path = join(record.path, name)
        if entry.mode != MODE_FILE:
            what = _MODE_NAMES.get(entry.mode, f"mode {entry.mode:o}")
            self.flag(path, f"{what}; record files must be regular files (mode 100644)")
            return False
        if not is_utf8_name(name):
            self.flag(path, "file name is not valid UTF-8; rename it")
            return False
        if "\\" in name or normalise_name(name) != name:
            self.flag(path, "file name contains '\\' or is not normalised; rename it")
            return False
        return True

    def _check_link(self, repo: str, item: str, name: str, entry: Entry, path: str) -> None:
        config = self.configs.get(repo)
        assert config is not None
        if entry.mode != MODE_FILE:
            what = _MODE_NAMES.get(entry.mode, f"mode {entry.mode:o}")
            self.flag(path, f"{what}; link files must be regular files (mode 100644)")
            return
        if not is_record_id(name) or len(name) != id_length(config):
            self.flag(path, f"{name!r} is not a record ID of this repository; {_USE_GIT_SIT}")
            return
        if not self._check_item_name(repo, item, path) or path in self.oversize:
            return  # an oversized link file is already reported and is not read
        expected = link_content(name)
        # The size first: a link file of any other size is wrong, and need not be read.
        if self.commit.size(entry) != len(expected) or self.commit.read(entry) != expected:
            self.flag(path, f"link content must be exactly {expected.decode()}")
            return
        target = join(repo, "records", split_path(name))
        if target in self.valid:
            return  # a record new in this commit: its own checks report any problem
        if target not in self.existing:
            self.existing[target] = self._existing_record_problem(target, name, config.hasher)
        problem = self.existing[target]
        if problem is not None:
            self.flag(path, f"links to {target}, {problem}; push a valid record there with the link")

    def _existing_record_problem(self, target: str, record_id: str, hasher: Hasher) -> str | None:
        """Why a link to a record that is not new in this commit fails, or None."""
        missing = "which is missing or does not verify"
        entry = self.commit.entry(target)
        if entry is None or entry.mode != MODE_TREE:
            return missing
        files = self.commit.files(target)
        if any(e.mode not in (MODE_FILE, MODE_EXECUTABLE) or not is_utf8_name(n) for n, e in files):
            return missing
        # An earlier commit of the push may have added it, rejected but present: bound it too.
        size, limit = self._record_size(files), self.rules.max_record_size
        if size > limit:
            return f"a record of {size} bytes, larger than the limit of {limit} bytes"
        read = self._read_files(files)
        if read is None:
            return None  # over the push's budget: unjudged, and the push is refused
        contents = [(normalise_name(n), data) for n, data in read]
        return None if compute_id(contents, hasher) == record_id else missing


def file_change(change: Change) -> Change | str | None:
    """A difference as one between files: the change itself, a violation, or ``None`` (nothing).

    Tree diffs list the directories on a changed path too (``diff-tree -t``): without
    them an added empty directory, which no file shows, would go unseen. A directory is
    judged by the files in it, listed separately; only an added empty one, and a file
    that a directory replaces (or replaces one), matter here.
    """
    old, new = change.old, change.new
    old_tree = old is not None and old.mode == MODE_TREE
    new_tree = new is not None and new.mode == MODE_TREE
    if not (old_tree or new_tree):
        return change
    if new_tree:
        assert new is not None
        if old is None:
            return EMPTY_DIRECTORY if new.oid in EMPTY_TREES else None
        return None if old_tree else Change(change.path, old, None)  # a file became a directory
    return Change(change.path, None, new) if new is not None else None  # a directory became a file


def check_tip(changes: Iterable[Change], sit_paths: Iterable[str]) -> list[Violation]:
    """What a ref's new tip does to the files of its old tip: it may only add records and links.

    Every new commit is also judged against a parent (``check_commit``), but a merge is
    judged against one parent only: one whose tree is an older commit's (say the root)
    would pass, and drop from the branch everything added since, as a force push would.
    """
    paths = list(sit_paths)
    found = []
    for listed in changes:
        change = file_change(listed)
        if isinstance(change, str):
            found.append(Violation(listed.path, change))
            continue
        if change is None:
            continue
        if change.old is not None:
            what = "deleted" if change.new is None else "changed"
            found.append(Violation(change.path, f"{what} by the push compared with the branch's old tip; "
                                                "a merge may not drop or change what the branch had: "
                                                "merge again, keeping the server's files"))
            continue
        located = repo_of(change.path, paths)
        if located is None or located[1][0] not in ("records", "items"):
            found.append(Violation(change.path, "added by the push but outside the SIT repositories' "
                                                "records/ and items/ (brought in by a merge); merge only "
                                                "branches that add records"))
    return found


def check_commit(parent: Snapshot, commit: Snapshot, changes: Iterable[Change],
                 rules: Rules = _DEFAULT_RULES, verify: Verify | None = None,
                 budget: Budget | None = None) -> Verdict:
    """Judge every difference between a parent's tree and a commit's tree (§8.3 rule 4).

    With ``verify`` (gpg confined to the trusted keys), new records must be signed by them.
    With a ``budget``, records whose blobs it cannot pay for are not read, and so neither
    accepted nor reported: once ``budget.exceeded``, the caller must refuse the push.
    """
    judge = _Judge(parent, commit, rules, verify, budget)
    for change in changes:
        judge.change(change)
    return judge.finish()
