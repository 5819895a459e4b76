"""Inbox commands: install the hooks, judge a range by hand, and the hidden hook entry point."""

from __future__ import annotations

import os
import sys
import tempfile

import click

from git_sit import shim
from git_sit.cli.base import App, cli, pass_app
from git_sit.errors import InvalidConfig, SitError
from git_sit.hook import judge_range, load_settings, post_receive, pre_receive, report, signature_checker
from git_sit.inboxtypes import join
from git_sit.storage import GitRepo
from git_sit.storage.push import PushRepo, open_repository


@cli.group()
def inbox() -> None:
    """Server-side inbox: accept only pushes that add new, valid records."""


@inbox.command()
@click.argument("bare_repo", metavar="BARE_REPO", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace pre-/post-receive hooks git-sit did not write.")
def install(bare_repo: str, force: bool) -> None:
    """Install the pre-receive and post-receive hooks into BARE_REPO.

    pre-receive rejects every push that does more than add new, valid records;
    post-receive forwards accepted refs when sit.inbox.forward is set (and does
    nothing otherwise). The hooks run this interpreter's git-sit. It also sets
    receive.fsckObjects, so that git itself rejects malformed trees (entries named
    .git or .., names holding a slash) that no tree diff shows the hook.
    """
    repo = open_repository(bare_repo)
    hooks_dir = _hooks_dir(repo, bare_repo)
    paths = [os.path.join(hooks_dir, hook) for hook in shim.HOOKS]
    for path in paths:
        if not force and os.path.exists(path) and not shim.is_ours(_read(path)):
            raise SitError(f"{path} exists and was not written by git-sit; "
                           "merge it by hand or rerun with --force to replace it.")
    os.makedirs(hooks_dir, exist_ok=True)
    for hook, path in zip(shim.HOOKS, paths, strict=True):
        _write_executable(path, shim.render(hook, sys.executable))
        click.echo(f"installed {path}")
    repo.set_config("receive.fsckObjects", "true")
    click.echo(f"set receive.fsckObjects in {repo.git_dir}")
    push_repo = PushRepo(repo)
    try:
        settings = load_settings(push_repo)
    except InvalidConfig as exc:
        click.echo(f"warning: every push will be rejected until the configuration is fixed: {exc}", err=True)
        return
    # Records are accepted only on top of a config.json the server already has, and
    # pushing that file is itself rejected: an inbox seeded before `git sit init` was
    # committed refuses every record, so say so now rather than at the first push.
    configs = [join("" if path == "." else path, "config.json") for path in settings.rules.sit_paths]
    if not push_repo.has_any_file(configs):
        where = " or ".join(configs)
        click.echo(f"warning: no branch of {repo.git_dir} has {where}, so the inbox will reject "
                   "every record: seed it from history where `git sit init` is committed.", err=True)


def _hooks_dir(repo: GitRepo, bare_repo: str) -> str:
    """``GIT_DIR/hooks``, where the hooks go; an error if ``core.hooksPath`` sends git elsewhere.

    Hooks installed where git does not look would leave the inbox open. A hooks path
    may be shared by many repositories, so git-sit does not write into another one.
    """
    default = os.path.join(repo.git_dir, "hooks")
    configured = repo.config_value("core.hooksPath")
    if not configured:
        return default
    # A relative path is relative to where git runs hooks: GIT_DIR, or the top of a work tree.
    where = os.path.join(repo.workdir or repo.git_dir, os.path.expanduser(configured))
    if os.path.realpath(where) == os.path.realpath(default):
        return default
    raise SitError(f"core.hooksPath is {configured!r}, so git runs hooks from {os.path.normpath(where)}, "
                   f"not {default}; install there by hand, or run "
                   f"'git -C {bare_repo} config core.hooksPath hooks' first.")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError as exc:
        raise SitError(f"cannot read {path}: {exc.strerror}.") from None


def _write_executable(path: str, text: str) -> None:
    """Write through a temporary file and rename, so a running push never sees half a hook."""
    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".git-sit-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    except OSError as exc:
        raise SitError(f"cannot write {path}: {exc.strerror}.") from None


@inbox.command()
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@pass_app
def check(app: App, old: str, new: str) -> None:
    """Judge the commits OLD..NEW with the inbox rules; exit 1 if any is rejected.

    Uses this repository's sit.inbox.* settings (signatures included), as the hook
    would on a server at OLD.
    """
    repo = PushRepo(GitRepo.discover(app.cwd))
    settings = load_settings(repo)
    with signature_checker(repo, settings) as verify:
        findings = judge_range(repo, settings, old, new, verify)
    for line in report(findings):
        click.echo(line)
    if findings:
        sys.exit(1)


@cli.command("inbox-hook", hidden=True)
@click.argument("hook", type=click.Choice(shim.HOOKS))
def inbox_hook(hook: str) -> None:
    """Entry point of the installed hooks (reads git's ref updates on stdin)."""
    git_dir = os.environ.get("GIT_DIR", ".")
    text = sys.stdin.read()
    run = pre_receive if hook == "pre-receive" else post_receive
    sys.exit(run(text, git_dir, sys.stderr))
