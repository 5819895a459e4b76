"""The inbox hook driver: judge the ref updates of a push (SIT-FORMAT §8.3 rules 1–6).

``parse_updates`` reads git's ``<old> <new> <ref>`` lines; ``judge_push`` applies
the ref rules (allowed patterns, no deletions, no force pushes), finds the new
commits, and accepts each one only if some parent makes every difference an
allowed addition (``inbox.check_commit``) and the ref's new tip keeps every file
of its old one (``inbox.check_tip``); the record blobs read for that, over every
ref of the push, are bounded by ``sit.inbox.maxPushSize`` (an ``inboxtypes.Budget``),
and past it the push is refused and nothing more is read. ``report`` turns findings
into at most 50 lines plus a count. ``pre_receive`` and ``post_receive`` are what the
installed hooks run: the first rejects with exit status 1, the second forwards
accepted refs to ``sit.inbox.forward`` and never fails the push. With
``sit.inbox.requireSignature``, ``signature_checker`` runs gpg against a private
home holding only the ``sit.inbox.trustedKeys`` keys; if gpg is missing or fails,
the push is rejected (an inbox fails closed); a ``.signature`` that is no detached
signature at all (a clear-signed message, say) is only that record's bad signature
(``gpg.Gpg.verify``).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TextIO

from git_sit import gpg
from git_sit.errors import InvalidConfig, SitError
from git_sit.inbox import Budget, Change, Verdict, Violation, check_commit, check_tip
from git_sit.inboxconfig import KEYS, PREFIX, Settings, keyring_path, parse_settings
from git_sit.signature import Check, Verify
from git_sit.signing import gpg_program
from git_sit.storage import GitRepo
from git_sit.storage.push import PushRepo

MAX_LINES = 50
FORWARD_LINES = 5
_LINE = re.compile(r"([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (\S+)")


@dataclass(frozen=True, slots=True)
class RefUpdate:
    """One line of pre-/post-receive input."""

    old: str
    new: str
    ref: str

    @property
    def is_create(self) -> bool:
        return not self.old.strip("0")

    @property
    def is_delete(self) -> bool:
        return not self.new.strip("0")


@dataclass(frozen=True, slots=True)
class Finding:
    """A violation found in one pushed ref at one commit (short ID)."""

    ref: str
    commit: str
    violation: Violation

    def __str__(self) -> str:
        where = f"{self.ref} {self.commit}" if self.ref else self.commit
        return f"{where}: {self.violation}"


def parse_updates(text: str) -> list[RefUpdate]:
    """Parse git's ``<old> <new> <ref>`` lines; ``SitError`` on anything else."""
    updates = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _LINE.fullmatch(line.strip())
        if match is None:
            raise SitError(f"unexpected hook input line {line!r}; expected '<old> <new> <ref>'.")
        updates.append(RefUpdate(*match.groups()))
    return updates


def check_ref(update: RefUpdate, patterns: Sequence[str]) -> list[Violation]:
    """Rule 1 without history: the ref must match an allowed pattern and not be deleted."""
    if not any(fnmatchcase(update.ref, pattern) for pattern in patterns):
        what = "tags are" if update.ref.startswith("refs/tags/") else "this ref is"
        return [Violation("", f"{what} not accepted; only {', '.join(patterns)} may be pushed")]
    if update.is_delete:
        return [Violation("", "deleting a ref is not accepted; ask the inbox's operator to delete it")]
    return []


def report(findings: Sequence[Finding], limit: int = MAX_LINES) -> list[str]:
    """At most ``limit`` lines, then a count of the rest (rule 6)."""
    lines = [str(f) for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"... and {len(findings) - limit} more violations")
    return lines


@dataclass
class Inbox:
    """Judges the updates of one push; remembers verdicts and new records across its refs."""

    repo: PushRepo
    settings: Settings
    verify: Verify | None = None  # gpg confined to the trusted keys, when signatures are required
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    diffs: dict[tuple[str, str], list[Change]] = field(default_factory=dict)
    records: set[str] = field(default_factory=set)
    over_limit: bool = False
    budget: Budget = field(init=False)  # record bytes the push may read (sit.inbox.maxPushSize)
    over_budget: bool = False

    def __post_init__(self) -> None:
        self.budget = Budget(self.settings.rules.max_push_size)

    def judge_update(self, update: RefUpdate, tips: list[str]) -> list[Finding]:
        """Every finding for one ref update; ``tips`` are the existing refs' commits."""
        short = self.repo.short(update.old if update.is_delete else update.new)
        problems = check_ref(update, self.settings.refs)
        if not problems:
            problems = self._check_history(update)
        if problems:
            return [Finding(update.ref, short, v) for v in problems]
        if self.budget.exceeded:
            return []  # the push is refused already (``judge_commits``): read nothing more
        findings = self.judge_commits(update.ref, self.repo.new_commits(update.new, tips))
        if findings:
            return findings  # the tip is only a backstop: these say what is wrong first
        return [Finding(update.ref, short, v) for v in self._check_tip(update)]

    def _check_tip(self, update: RefUpdate) -> list[Violation]:
        """Rule 1, completed: the new tip keeps every file of the old one (``check_tip``)."""
        if update.is_create or update.old == update.new:
            return []
        pair = (update.old, update.new)
        return check_tip(self.repo.changes([pair])[pair], self.settings.rules.sit_paths)

    def _check_history(self, update: RefUpdate) -> list[Violation]:
        kind = self.repo.kind(update.new)
        if kind != "commit":
            return [Violation("", f"the pushed object is {'missing' if kind is None else 'a ' + kind}, "
                                  "not a commit; push a branch of commits")]
        if not update.is_create and not self.repo.is_ancestor(update.old, update.new):
            return [Violation("", "not a fast-forward (force push); it could drop records, "
                                  "so merge the server's branch and push again")]
        return []

    def judge_commits(self, ref: str, commits: list[str]) -> list[Finding]:
        """Rules 3–5 for new commits (parents first)."""
        findings: list[Finding] = []
        pushed = set(commits)
        parents = {c: self._parents(c, pushed) for c in commits if c not in self.verdicts}
        # One batch diff against each commit's preferred parent; others only if that one fails.
        self.diffs.update(self.repo.changes([(ps[0], c) for c, ps in parents.items() if ps]))
        for commit in commits:
            if self.over_budget:
                break  # the push is refused: judging further commits would read more
            if commit not in self.verdicts:
                self.verdicts[commit] = self._judge_commit(commit, parents[commit])
            verdict = self.verdicts[commit]
            short = self.repo.short(commit)
            findings.extend(Finding(ref, short, v) for v in verdict.violations)
            self.records.update(verdict.records)
            if self.budget.exceeded and not self.over_budget:
                self.over_budget = True
                findings.append(Finding(ref, short, Violation("", self._over_budget())))
        limit = self.settings.rules.max_records
        if len(self.records) > limit and not self.over_limit and commits:
            self.over_limit = True
            reason = (f"the push adds {len(self.records)} new records, more than the limit of {limit}; "
                      "push them in smaller batches")
            findings.append(Finding(ref, self.repo.short(commits[-1]), Violation("", reason)))
        return findings

    def _over_budget(self) -> str:
        return (f"checking the push's records would read more than {self.budget.limit} bytes, the limit "
                f"of {KEYS['maxpushsize']}; push fewer or smaller records at a time")

    def _parents(self, commit: str, pushed: set[str]) -> list[str]:
        # Parents the server already has first: their diff is only what this push adds.
        return sorted(self.repo.parents(commit), key=lambda p: p in pushed)

    def _judge_commit(self, commit: str, parents: list[str]) -> Verdict:
        """Accept a commit if one parent makes every difference an allowed addition (rule 3)."""
        if not parents:
            return Verdict((Violation("", "root commit; new commits must build on the server's history: "
                                          "rebase onto the server's branch"),),
                           frozenset())
        best: Verdict | None = None
        snapshot = self.repo.snapshot(commit)
        for parent in parents:
            pair = (parent, commit)
            changes = self.diffs.pop(pair, None)
            if changes is None:
                changes = self.repo.changes([pair])[pair]
            verdict = check_commit(self.repo.snapshot(parent), snapshot, changes, self.settings.rules,
                                   self.verify, self.budget)
            if not verdict.violations:
                return verdict
            if best is None or len(verdict.violations) < len(best.violations):
                best = verdict
        assert best is not None
        return best


def judge_push(repo: PushRepo, settings: Settings, updates: Sequence[RefUpdate],
               verify: Verify | None = None) -> list[Finding]:
    """Every finding for a push; empty means accept."""
    inbox = Inbox(repo, settings, verify)
    tips = repo.ref_tips()
    findings: list[Finding] = []
    for update in updates:
        findings.extend(inbox.judge_update(update, tips))
    return findings


def judge_range(repo: PushRepo, settings: Settings, old: str, new: str,
                verify: Verify | None = None) -> list[Finding]:
    """Judge ``old..new`` by hand, as if ``new`` were pushed onto a server at ``old``."""
    old_id, new_id = repo.resolve(old), repo.resolve(new)
    if not repo.is_ancestor(old_id, new_id):
        return [Finding("", repo.short(new_id), Violation("", f"{old} is not an ancestor of {new}"))]
    return Inbox(repo, settings, verify).judge_commits("", repo.new_commits(new_id, [old_id]))


def load_settings(repo: PushRepo) -> Settings:
    """The ``sit.inbox.*`` settings of a repository; ``InvalidConfig`` if they are unusable."""
    return parse_settings(repo.config_entries(PREFIX))


@contextlib.contextmanager
def signature_checker(repo: PushRepo, settings: Settings) -> Iterator[Verify | None]:
    """gpg over the trusted keys while judging, if signatures are required; else None.

    The program is the repository's ``gpg.program``; the keyring is imported into a
    private home that is removed afterwards. ``SitError`` if either is unusable.
    """
    if not settings.require_signature:
        yield None
        return
    assert settings.trusted_keys is not None  # parse_settings insists on it
    program = gpg_program(repo.git.config_value, {})
    tool = gpg.trusted(keyring_path(repo.git.git_dir, settings.trusted_keys), program)
    seen: dict[tuple[bytes, bytes], Check] = {}

    def verify(message: bytes, signature: bytes) -> Check:
        # One gpg run per record: a record may be judged against several parents.
        key = (message, signature)
        if key not in seen:
            seen[key] = tool.verify(message, signature)
        return seen[key]

    try:
        yield verify
    finally:
        tool.close()


def _cannot_check(exc: SitError) -> str:
    return (f"sit inbox: cannot check signatures ({KEYS['requiresignature']} is set), "
            f"so the push is rejected: {exc}")


def pre_receive(text: str, git_dir: str, err: TextIO) -> int:
    """Run the pre-receive hook: print findings to ``err``; 1 rejects the push, 0 accepts it."""
    repo = PushRepo(GitRepo.from_env(git_dir))
    try:
        settings = load_settings(repo)
    except InvalidConfig as exc:
        err.write(f"sit inbox: invalid configuration, every push is rejected until it is fixed: {exc}\n")
        return 1
    updates = parse_updates(text)
    with contextlib.ExitStack() as stack:
        try:
            verify = stack.enter_context(signature_checker(repo, settings))
        except SitError as exc:  # no gpg, or an unreadable or empty trusted keyring
            err.write(_cannot_check(exc) + "\n")
            return 1
        try:
            findings = judge_push(repo, settings, updates, verify)
        except gpg.GpgError as exc:  # gpg failed while verifying
            err.write(_cannot_check(exc) + "\n")
            return 1
    for line in report(findings):
        err.write(line + "\n")
    return 1 if findings else 0


Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _run_git(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def post_receive(text: str, git_dir: str, err: TextIO, run: Runner = _run_git) -> int:
    """Forward accepted refs to ``sit.inbox.forward``; report a failure but always return 0."""
    try:
        settings = load_settings(PushRepo(GitRepo.from_env(git_dir)))
    except InvalidConfig as exc:
        err.write(f"sit inbox: not forwarding, invalid configuration: {exc}\n")
        return 0
    remote = settings.forward
    refspecs = [f"{u.new}:{u.ref}" for u in parse_updates(text) if not u.is_delete]
    if remote is None or not refspecs:
        return 0
    result = run(["push", "--quiet", "--", remote, *refspecs])
    if result.returncode:
        err.write(f"sit inbox: the push was accepted here, but forwarding to {remote} failed "
                  f"(git push exited with status {result.returncode}):\n")
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        for line in lines[-FORWARD_LINES:]:
            err.write(f"  {line}\n")
    else:
        err.write(f"sit inbox: forwarded {len(refspecs)} ref(s) to {remote}\n")
    return 0
