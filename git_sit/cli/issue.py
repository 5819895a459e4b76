"""``git sit issue``: the porcelain for people — new, comment, close, reopen, edit, label,
assign, milestone, list, show.

Writing commands compose records (``issue``), compose them into the item's
history (``target.chain``) and write them to the work tree (staged) or, with
``--on BRANCH``, as a commit on BRANCH. A command that would change nothing says
so on stderr and exits 0 without writing.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import click

from git_sit import editor, userconfig
from git_sit import issue as core
from git_sit.cli.base import App, cli, pass_app, rev_option, trust_options
from git_sit.cli.sign import record_signer, sign_options
from git_sit.errors import SitError
from git_sit.extensions import ASSIGNEES, LABELS, Extension
from git_sit.issueview import SORTS, STATES, Criteria, matches, plain, short_length, show, sort_states, table
from git_sit.query import render
from git_sit.signature import Sign
from git_sit.storage import GitRepo
from git_sit.target import Target, open_target, write_drafts

F = TypeVar("F", bound=Callable[..., Any])
Signing = tuple[bool | None, str | None]  # --sign/--no-sign and --signing-key
# No short options at all: '-enhancement' must reach the command whole, not as '-e -n -h...'.
OPS_SETTINGS = {"ignore_unknown_options": True, "help_option_names": ["--help"]}
COLOURS: dict[str, dict[str, Any]] = {
    "id": {"fg": "yellow"}, "open": {"fg": "green"}, "closed": {"fg": "magenta"},
    "label": {"fg": "cyan"}, "dim": {"dim": True}, "header": {"bold": True},
    "title": {"bold": True}, "author": {"bold": True},
}


@cli.group()
def issue() -> None:
    """Issues for people: file, discuss, label, assign and close them; list and show them.

    ID may be any unique prefix of an item ID. Writing commands stage their records
    in the work tree (commit them with your change), or with --on BRANCH commit them
    on BRANCH without touching the work tree or the index. They sign their records
    with --sign (or when git config sit.sign is true).
    """


def write_options(func: F) -> F:
    """``--on BRANCH``, ``--sign/--no-sign`` and ``--signing-key``: where and how records are written."""
    func = cast(F, sign_options(func, short=False))  # no -s: it is --summary in new and edit
    return click.option(
        "--on", metavar="BRANCH",
        help="Commit the records on BRANCH (not the checked-out one) instead of staging them.",
    )(func)


def message_option(func: F) -> F:
    return click.option("-m", "--message", metavar="TEXT", help="Comment text.")(func)


@dataclass
class Session:
    """A writing command's context: where records go and who writes them."""

    app: App
    target: Target
    authors: str
    sign: Sign | None = None  # None: the records are not signed

    @classmethod
    def open(cls, app: App, on: str | None, sign: bool | None = None,
             signing_key: str | None = None) -> Session:
        """Check the target, the author and the signing settings before the editor opens."""
        repo = GitRepo.discover(app.cwd)
        target = open_target(app.cwd, on, app.options())
        authors = userconfig.author(app.user_config(), repo.config_value)
        if authors is None:
            raise SitError("no author: set git config user.name and user.email, or SIT's 'author'.")
        return cls(app, target, authors, record_signer(app, sign, signing_key))

    def item(self, prefix: str) -> tuple[str, dict[str, Any]]:
        """The item's full ID at the target and its reduced state there."""
        item_id = self.target.store.resolve_item(prefix)
        return item_id, self.target.store.reduce(item_id)

    def edit(self, template: str) -> str:
        repo = GitRepo.discover(self.app.cwd)
        return editor.edit(template, repo.git_dir, editor.editor_command(repo.config_value))

    def write(self, item_id: str, drafts: Sequence[core.Draft], message: str, quiet: bool = False) -> None:
        """Write the records, then print their IDs (and the commit, with --on)."""
        pending, commit = write_drafts(self.target, item_id, drafts, self.authors, message, self.sign)
        if commit is not None:
            click.echo(f"[{self.target.where} {commit[:7]}] {message}", err=True)
        for record in [] if quiet else pending:
            click.echo(record.record_id)

    def write_change(self, item_id: str, change: Callable[[], Sequence[core.Draft]], message: str) -> None:
        """Write what ``change`` drafts, unless it finds nothing to change (then say so, exit 0)."""
        try:
            drafts = change()
        except core.NothingToChange as exc:
            click.echo(f"{exc} Nothing was written.", err=True)
            return
        self.write(item_id, drafts, message)


def _heading(verb: str, item_id: str, summary: object) -> str:
    return f"{verb} issue {item_id[:8]}: {summary if isinstance(summary, str) else ''}".rstrip(": ")


@issue.command("new")
@click.option("-s", "--summary", metavar="TEXT", help="Summary (one line); without it, the editor opens.")
@click.option("-d", "--details", metavar="TEXT", help="Details.")
@write_options
@pass_app
def new(app: App, summary: str | None, details: str | None, on: str | None,
        sign: bool | None, signing_key: str | None) -> None:
    """File a new issue and print its ID.

    Writes a SummaryChanged and a DetailsChanged record. Without -s the editor opens:
    the first line is the summary, the rest the details.
    """
    session = Session.open(app, on, sign, signing_key)
    if summary is None:
        summary, details = core.split_message(session.edit(core.issue_template("", details or "")))
    drafts = core.new_issue(summary, details or "")
    item_id = str(uuid.uuid4())
    if item_id in session.target.store.items():
        raise SitError(f"item {item_id} already exists; run the command again.")
    session.write(item_id, drafts, _heading("New", item_id, summary.strip()), quiet=True)
    click.echo(item_id)


@issue.command()
@click.argument("item", metavar="ID")
@message_option
@write_options
@pass_app
def comment(app: App, item: str, message: str | None, on: str | None,
            sign: bool | None, signing_key: str | None) -> None:
    """Comment on an issue (the editor opens without -m)."""
    session = Session.open(app, on, sign, signing_key)
    item_id, state = session.item(item)
    if message is None:
        template = core.comment_template(item_id, str(state.get("summary", "")))
        message = core.comment_message(session.edit(template))
    session.write(item_id, [core.comment(message)], _heading("Comment on", item_id, state.get("summary")))


def _change_state(app: App, item: str, message: str | None, on: str | None, signing: Signing,
                  to: str, verb: str) -> None:
    session = Session.open(app, on, *signing)
    item_id, state = session.item(item)
    heading = _heading(verb, item_id, state.get("summary"))
    session.write_change(item_id, lambda: [core.change_state(state, to, message)], heading)


@issue.command()
@click.argument("item", metavar="ID")
@message_option
@write_options
@pass_app
def close(app: App, item: str, message: str | None, on: str | None,
          sign: bool | None, signing_key: str | None) -> None:
    """Close an issue (with -m, a Commented,Closed record)."""
    _change_state(app, item, message, on, (sign, signing_key), "closed", "Close")


@issue.command()
@click.argument("item", metavar="ID")
@message_option
@write_options
@pass_app
def reopen(app: App, item: str, message: str | None, on: str | None,
           sign: bool | None, signing_key: str | None) -> None:
    """Reopen an issue (with -m, a Commented,Reopened record)."""
    _change_state(app, item, message, on, (sign, signing_key), "open", "Reopen")


@issue.command()
@click.argument("item", metavar="ID")
@click.option("-s", "--summary", metavar="TEXT", help="New summary.")
@click.option("-d", "--details", metavar="TEXT", help="New details.")
@write_options
@pass_app
def edit(app: App, item: str, summary: str | None, details: str | None, on: str | None,
         sign: bool | None, signing_key: str | None) -> None:
    """Change an issue's summary or details.

    Without options the editor opens on the current summary and details.
    """
    session = Session.open(app, on, sign, signing_key)
    item_id, state = session.item(item)
    if summary is None and details is None:
        template = core.issue_template(
            str(state.get("summary", "")), str(state.get("details", "")), f"issue {item_id}",
        )
        summary, details = core.split_message(session.edit(template))
    heading = _heading("Edit", item_id, state.get("summary"))
    session.write_change(item_id, lambda: core.edit(state, summary, details), heading)


def _change_set(app: App, item: str, ops: tuple[str, ...], on: str | None, signing: Signing,
                ext: Extension) -> None:
    what = ext.key[:-1]
    try:
        add, remove = core.parse_ops(ops, what)
    except SitError as exc:  # what the command line says is wrong: a usage error, as click's are
        raise click.UsageError(str(exc), click.get_current_context()) from None
    session = Session.open(app, on, *signing)
    item_id, state = session.item(item)
    records = session.target.store.item_records(item_id)
    add, remove = core.spelled_as_set(core.live_values(records, ext), add, remove)
    for note in core.set_notes(records, ext, add, remove):
        click.echo(f"note: {note}", err=True)
    change = " ".join([*(f"+{v}" for v in add), *(f"-{v}" for v in remove)])
    heading = f"{_heading(what.capitalize(), item_id, state.get('summary'))} ({change})"
    session.write_change(item_id, lambda: [core.change_set(records, ext, add, remove)], heading)


class OpsCommand(click.Command):
    """A command taking ``+VALUE``/``-VALUE`` arguments; ``-h`` works only in first place."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args[:1] == ["-h"]:
            args = ["--help", *args[1:]]
        return super().parse_args(ctx, args)


@issue.command(cls=OpsCommand, context_settings=OPS_SETTINGS)
@click.argument("item", metavar="ID")
@click.argument("ops", nargs=-1, type=click.UNPROCESSED, metavar="[+LABEL|-LABEL]...")
@write_options
@pass_app
def label(app: App, item: str, ops: tuple[str, ...], on: str | None,
          sign: bool | None, signing_key: str | None) -> None:
    """Add (+LABEL) and remove (-LABEL) labels; a bare LABEL is added."""
    _change_set(app, item, ops, on, (sign, signing_key), LABELS)


@issue.command(cls=OpsCommand, context_settings=OPS_SETTINGS)
@click.argument("item", metavar="ID")
@click.argument("ops", nargs=-1, type=click.UNPROCESSED, metavar="[+NAME|-NAME]...")
@write_options
@pass_app
def assign(app: App, item: str, ops: tuple[str, ...], on: str | None,
           sign: bool | None, signing_key: str | None) -> None:
    """Add (+NAME) and remove (-NAME) assignees; a bare NAME is added."""
    _change_set(app, item, ops, on, (sign, signing_key), ASSIGNEES)


@issue.command()
@click.argument("item", metavar="ID")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="Clear the milestone.")
@write_options
@pass_app
def milestone(app: App, item: str, name: str | None, clear: bool, on: str | None,
              sign: bool | None, signing_key: str | None) -> None:
    """Set an issue's milestone to NAME, or clear it with --clear."""
    if (name is None) == (not clear):
        raise click.UsageError("give either a milestone NAME or --clear.")
    session = Session.open(app, on, sign, signing_key)
    item_id, state = session.item(item)
    records = session.target.store.item_records(item_id)
    heading = f"{_heading('Milestone of', item_id, state.get('summary'))} ({name or 'cleared'})"
    session.write_change(item_id, lambda: [core.change_milestone(records, name)], heading)


def _style_for_stdout() -> Callable[[str, str], str]:
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return plain  # TERM=dumb: as git, no colour
    return lambda text, role: click.style(text, **COLOURS[role]) if role in COLOURS and text else text


@issue.command("list")
@click.option("--state", type=click.Choice(STATES), default="open", show_default=True,
              help="Which issues (unknown: no record set a state).")
@click.option("-l", "--label", "labels", multiple=True, metavar="LABEL", help="Only with LABEL (repeatable).")
@click.option("-a", "--assignee", metavar="NAME", help="Only issues assigned to NAME.")
@click.option("--author", metavar="TEXT", help="Only issues whose author contains TEXT.")
@click.option("-S", "--search", metavar="TEXT", help="Only issues whose text contains TEXT.")
@click.option("--sort", type=click.Choice(SORTS), default="updated", show_default=True, help="Newest first.")
@rev_option
@click.option("--json", "as_json", is_flag=True, help="Print the reduced issues as a JSON array.")
@trust_options
@pass_app
def list_(
    app: App, state: str, labels: tuple[str, ...], assignee: str | None, author: str | None,
    search: str | None, sort: str, rev: str | None, as_json: bool, trusted: str | None, explain: bool,
) -> None:
    """List issues, open ones by default.

    Columns: short ID, state, summary, labels, last update (UTC). Colour and a header
    on a terminal; plain when piped. With --trusted, only records signed by those keys count.
    """
    store = app.read_store(rev, trusted, explain)
    criteria = Criteria(state, labels, assignee, author, search)
    states = sort_states((s for s in store.states() if matches(s, criteria)), sort)
    if as_json:
        click.echo(json.dumps(states, indent=2, sort_keys=True, ensure_ascii=False))
        return
    tty = sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if tty else None
    length = short_length(store.item_ids(), [str(s["id"]) for s in states])
    for line in table(states, length, _style_for_stdout(), width, header=tty and bool(states)):
        click.echo(line)


@issue.command("show")
@click.argument("item", metavar="ID")
@rev_option
@click.option("--json", "as_json", is_flag=True, help="Print the reduced issue as JSON.")
@trust_options
@pass_app
def show_(app: App, item: str, rev: str | None, as_json: bool, trusted: str | None, explain: bool) -> None:
    """Show an issue and its comments.

    Summary, state, author, dates (UTC), labels, assignees, milestone, details, then
    each comment with its author and time. With --trusted, only records signed by those keys count.
    """
    store = app.read_store(rev, trusted, explain)
    state = store.reduce(store.resolve_item(item))
    click.echo(render(state) if as_json else show(state, _style_for_stdout()))
